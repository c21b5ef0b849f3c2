//! Tracing a hosting address: the country, network and autonomous system an
//! IP address belongs to, from MaxMind DB files (GeoIP2/GeoLite2 Country or
//! City, and ASN). The files are read once into memory; a corrupt file is
//! refused when it is opened or looked up, never with a panic.

use crate::CopError;
use serde::Serialize;
use std::net::IpAddr;
use std::path::Path;

/// What the databases say about one address. Any part may be missing: an
/// address outside every network, or a database not configured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Trace {
    pub ip: String,
    /// ISO 3166-1 alpha-2 of the country the address is located in (the
    /// registered country when the location is unknown).
    pub country: Option<String>,
    /// The most specific network the country database holds for it.
    pub network: Option<String>,
    pub asn: Option<i64>,
    pub as_org: Option<String>,
}

/// The MaxMind databases an operator configured.
#[derive(Default)]
pub struct Tracer {
    country: Option<maxminddb::Reader<Vec<u8>>>,
    asn: Option<maxminddb::Reader<Vec<u8>>>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer").field("country", &self.country.is_some()).field("asn", &self.asn.is_some()).finish()
    }
}

fn open(path: &Path) -> Result<maxminddb::Reader<Vec<u8>>, CopError> {
    let reader = maxminddb::Reader::open_readfile(path).map_err(|err| CopError::GeoDatabase(format!("{}: {err}", path.display())))?;
    // A damaged search tree or data section would otherwise surface at the
    // first lookup that reaches it; check the whole file up front.
    reader.verify().map_err(|err| CopError::GeoDatabase(format!("{}: {err}", path.display())))?;
    Ok(reader)
}

#[derive(serde::Deserialize)]
struct CountryRecord<'a> {
    #[serde(borrow, default)]
    country: Option<IsoCode<'a>>,
    #[serde(borrow, default)]
    registered_country: Option<IsoCode<'a>>,
}

#[derive(serde::Deserialize)]
struct IsoCode<'a> {
    #[serde(default)]
    iso_code: Option<&'a str>,
}

#[derive(serde::Deserialize)]
struct AsnRecord<'a> {
    #[serde(default)]
    autonomous_system_number: Option<u32>,
    #[serde(default)]
    autonomous_system_organization: Option<&'a str>,
}

impl Tracer {
    /// Opens the country (or city) and ASN databases that are given.
    pub fn open(country: Option<&Path>, asn: Option<&Path>) -> Result<Tracer, CopError> {
        Ok(Tracer { country: country.map(open).transpose()?, asn: asn.map(open).transpose()? })
    }

    /// No database configured: tracing then takes the country from the
    /// analyst.
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.asn.is_none()
    }

    pub fn trace(&self, ip: IpAddr) -> Result<Trace, CopError> {
        let bad = |err: maxminddb::MaxMindDbError| CopError::GeoDatabase(err.to_string());
        let mut trace = Trace { ip: ip.to_string(), ..Trace::default() };
        if let Some(reader) = &self.country {
            let found = reader.lookup(ip).map_err(bad)?;
            if found.has_data() {
                let record: Option<CountryRecord<'_>> = found.decode().map_err(bad)?;
                if let Some(record) = record {
                    let code = |c: Option<IsoCode<'_>>| c.and_then(|c| c.iso_code).map(str::to_ascii_uppercase);
                    trace.country = code(record.country).or_else(|| code(record.registered_country));
                }
                trace.network = found.network().ok().map(|n| n.to_string());
            }
        }
        if let Some(reader) = &self.asn {
            let found = reader.lookup(ip).map_err(bad)?;
            let record: Option<AsnRecord<'_>> = found.decode().map_err(bad)?;
            if let Some(record) = record {
                trace.asn = record.autonomous_system_number.map(i64::from);
                trace.as_org = record.autonomous_system_organization.map(str::to_owned);
            }
            if trace.network.is_none() && found.has_data() {
                trace.network = found.network().ok().map(|n| n.to_string());
            }
        }
        Ok(trace)
    }
}
