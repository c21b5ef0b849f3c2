//! The constituency registry: which organisation answers for which network,
//! AS number or domain, and lookups that return the responsible
//! organisations most specific first.

use crate::CirtError;
use ipnet::IpNet;
use rampart_store::cirt::NetworkKeys;
use serde::Serialize;
use std::net::IpAddr;

/// Parses a network (or a single address, taken as /32 or /128) into the
/// registry's canonical text and range keys.
pub fn network_keys(text: &str) -> Result<NetworkKeys, CirtError> {
    let trimmed = text.trim();
    let network: IpNet = match trimmed.parse::<IpNet>() {
        Ok(network) => network,
        Err(_) => match trimmed.parse::<IpAddr>() {
            Ok(address) => IpNet::from(address),
            Err(_) => return Err(CirtError::Invalid { field: "network", message: format!("`{text}` is not an IP network or address") }),
        },
    };
    let network = network.trunc();
    let (family, start, end) = match network {
        IpNet::V4(v4) => (4, format!("{:08x}", u32::from(v4.network())), format!("{:08x}", u32::from(v4.broadcast()))),
        IpNet::V6(v6) => (6, format!("{:032x}", u128::from(v6.network())), format!("{:032x}", u128::from(v6.broadcast()))),
    };
    Ok(NetworkKeys { network: network.to_string(), family, prefix_len: i64::from(network.prefix_len()), start_key: start, end_key: end })
}

/// The family and key of a single address, for lookups.
pub fn address_key(address: IpAddr) -> (i64, String) {
    match address {
        IpAddr::V4(v4) => (4, format!("{:08x}", u32::from(v4))),
        IpAddr::V6(v6) => (6, format!("{:032x}", u128::from(v6))),
    }
}

pub fn parse_asn(text: &str) -> Result<i64, CirtError> {
    let trimmed = text.trim();
    let digits = if trimmed.len() > 2 && trimmed[..2].eq_ignore_ascii_case("as") { &trimmed[2..] } else { trimmed };
    match digits.parse::<u32>() {
        Ok(asn) if asn > 0 => Ok(i64::from(asn)),
        _ => Err(CirtError::Invalid { field: "asn", message: format!("`{text}` is not an AS number") }),
    }
}

pub fn parse_domain(text: &str) -> Result<String, CirtError> {
    let domain = text.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if valid { Ok(domain) } else { Err(CirtError::Invalid { field: "domain", message: format!("`{text}` is not a domain name") }) }
}

/// The domain and each parent, most specific first: a registry entry for
/// `example.org` covers `mail.example.org`.
pub fn domain_suffixes(domain: &str) -> Vec<String> {
    let labels: Vec<&str> = domain.split('.').collect();
    (0..labels.len().saturating_sub(1)).map(|i| labels[i..].join(".")).collect()
}

/// What a lookup was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Address(IpAddr),
    Network(IpNet),
    Asn(i64),
    Domain(String),
}

impl Query {
    pub fn parse(text: &str) -> Result<Query, CirtError> {
        let trimmed = text.trim();
        if let Ok(address) = trimmed.parse::<IpAddr>() {
            return Ok(Query::Address(address));
        }
        if let Ok(network) = trimmed.parse::<IpNet>() {
            return Ok(Query::Network(network.trunc()));
        }
        // `AS64500`, `as64500` or a bare number; `asante-bank.example` is a domain.
        let digits = if trimmed.len() > 2 && trimmed[..2].eq_ignore_ascii_case("as") { &trimmed[2..] } else { trimmed };
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            return parse_asn(digits).map(Query::Asn);
        }
        parse_domain(trimmed).map(Query::Domain).map_err(|_| CirtError::Invalid {
            field: "query",
            message: format!("`{text}` is not an IP address, network, AS number or domain"),
        })
    }
}

/// One responsible organisation found by a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    pub org_id: String,
    /// `network`, `asn` or `domain`.
    pub by: String,
    /// The registry entry that matched, e.g. `198.51.100.0/24`.
    pub entry: String,
}

/// One row of the registry's CSV form: `org_id,kind,value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    pub line: usize,
    pub org_id: String,
    pub kind: String,
    pub value: String,
}

/// The columns of the registry's CSV import and export.
pub const CSV_HEADER: [&str; 3] = ["org_id", "kind", "value"];

/// Parses and validates an uploaded registry; every bad row is reported
/// with its line number, and nothing is returned for import unless all
/// rows are good.
pub fn parse_csv(text: &str) -> Result<Vec<CsvRow>, Vec<(usize, String)>> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    // csv reports where it started reading a record, blank lines before it
    // included; step over those to the line the record is on.
    let line_of = |position: &csv::Position| {
        let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
        let skipped =
            text.get(start..).map_or(0, |rest| rest.bytes().take_while(|b| matches!(b, b'\r' | b'\n')).filter(|b| *b == b'\n').count());
        usize::try_from(position.line()).unwrap_or(usize::MAX).saturating_add(skipped)
    };
    let mut errors = Vec::new();
    match reader.headers() {
        Ok(header) => {
            let names: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
            if names != CSV_HEADER {
                errors.push((1, format!("the header must be `{}`, found `{}`", CSV_HEADER.join(","), names.join(","))));
                return Err(errors);
            }
        }
        Err(err) => return Err(vec![(1, err.to_string())]),
    }
    let mut rows = Vec::new();
    let mut last_line = 1;
    for record in reader.records() {
        // The line the record starts on, as the file has it: blank lines
        // and quoted fields spanning lines do not shift the numbers.
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(last_line + 1, line_of);
                errors.push((line, err.to_string()));
                continue;
            }
        };
        let line = record.position().map_or(last_line + 1, line_of);
        last_line = line;
        if record.len() != 3 {
            errors.push((line, format!("expected 3 fields, found {}", record.len())));
            continue;
        }
        let org_id = record[0].trim().to_owned();
        let kind = record[1].trim().to_ascii_lowercase();
        let raw = record[2].trim();
        let value = match kind.as_str() {
            "network" => network_keys(raw).map(|k| k.network),
            "asn" => parse_asn(raw).map(|a| a.to_string()),
            "domain" => parse_domain(raw),
            other => Err(CirtError::Invalid { field: "kind", message: format!("`{other}` is not network, asn or domain") }),
        };
        match value {
            Ok(value) if !org_id.is_empty() => rows.push(CsvRow { line, org_id, kind, value }),
            Ok(_) => errors.push((line, "org_id: must not be empty".into())),
            Err(err) => errors.push((line, err.to_string())),
        }
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_errors_name_the_line_of_the_file() {
        let text = "org_id,kind,value\n\norg-1,network,192.0.2.0/24\n\n\norg-1,domain,\"bad\ndomain\"\norg-1,asn,nonsense\n";
        let errors = parse_csv(text).expect_err("two bad rows");
        let lines: Vec<usize> = errors.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, vec![6, 8], "{errors:?}");
    }

    #[test]
    fn networks_become_sortable_range_keys() {
        let keys = network_keys("198.51.100.77/24").unwrap();
        assert_eq!(keys.network, "198.51.100.0/24");
        assert_eq!((keys.family, keys.prefix_len), (4, 24));
        assert_eq!((keys.start_key.as_str(), keys.end_key.as_str()), ("c6336400", "c63364ff"));
        let single = network_keys("2001:db8::1").unwrap();
        assert_eq!(single.network, "2001:db8::1/128");
        assert_eq!(single.start_key, single.end_key);
        assert!(network_keys("300.0.0.0/8").is_err());
        let (family, key) = address_key("198.51.100.9".parse().unwrap());
        assert_eq!(family, 4);
        assert!(keys.start_key.as_str() <= key.as_str() && key.as_str() <= keys.end_key.as_str());
    }

    #[test]
    fn queries_and_values_parse() {
        assert_eq!(Query::parse("AS64500"), Ok(Query::Asn(64500)));
        assert_eq!(Query::parse("64500"), Ok(Query::Asn(64500)));
        assert_eq!(Query::parse("As64500"), Ok(Query::Asn(64500)));
        assert_eq!(Query::parse("asante-bank.example"), Ok(Query::Domain("asante-bank.example".into())));
        assert_eq!(Query::parse("Mail.Example.ORG."), Ok(Query::Domain("mail.example.org".into())));
        assert!(matches!(Query::parse("10.0.0.0/8"), Ok(Query::Network(_))));
        assert!(matches!(Query::parse("not a thing"), Err(CirtError::Invalid { field: "query", .. })));
        assert_eq!(domain_suffixes("a.b.example.org"), ["a.b.example.org", "b.example.org", "example.org"]);
        assert!(parse_asn("AS0").is_err());
        assert!(parse_domain("-bad-.org").is_err());
    }

    #[test]
    fn csv_rows_are_checked_one_by_one() {
        let good = "org_id,kind,value\nORG1,network,192.0.2.0/24\nORG1,asn,AS64500\nORG2,domain,Example.ORG\n";
        let rows = parse_csv(good).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].value, "64500");
        assert_eq!(rows[2].value, "example.org");
        let bad = "org_id,kind,value\nORG1,network,192.0.2.0/33\nORG1,phone,123\n,asn,1\nORG3,domain,ok.example\nORG4,asn\n";
        let errors = parse_csv(bad).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [2, 3, 4, 6]);
        assert!(errors[0].1.contains("network"), "{errors:?}");
        assert!(parse_csv("name,value\n").is_err());
    }
}
