//! IODEF v2 (RFC 7970; ITU-T X.1541): incidents read from and written as
//! `IODEF-Document` XML, the format CIRTs exchange incident reports in.
//!
//! Reading is defensive: documents over 10 MiB, documents with a DTD (the
//! way entity-expansion attacks arrive; IODEF needs none), IODEF v1 and
//! anything that is not an `IODEF-Document` in the v2 namespace are refused
//! before anything is stored, with the line and column or the element path
//! of the problem. Each `Incident` gives its IncidentID, purpose, TLP (from
//! `restriction`), descriptions, contacts' e-mail addresses and the
//! observables found anywhere inside it:
//!
//! | IODEF | observable |
//! |---|---|
//! | `Address` `ipv4-addr`, `ipv6-addr`, `ipv4-net`, `ipv6-net`, `e-mail`, `site-uri` | ipv4, ipv6, cidr, email, url |
//! | `DomainData/Name` | domain |
//! | `URL` | url |
//! | `Hash` with `ds:DigestMethod` MD5, SHA-1, SHA-256 and its `ds:DigestValue` (base64) | md5, sha1, sha256 (hex) |
//!
//! `restriction`: `white`/`public` → CLEAR, `green`/`partner` → GREEN,
//! `amber`/`need-to-know` → AMBER, `red`/`private` → RED; absent or
//! `default` → AMBER, the cautious reading. Writing does the reverse for an
//! incident and its observables.

use crate::CirtError;
use crate::observables::{self, Kind, Observable};
use crate::provider::xml_escape as escape;
use chrono::{DateTime, Utc};
use rampart_core::Tlp;

pub const NAMESPACE: &str = "urn:ietf:params:xml:ns:iodef-2.0";
const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// Enough for any real report; a bound on what one document may make us hold.
const MAX_NODES: u32 = 500_000;

/// One `Incident` as read.
#[derive(Debug, Clone, PartialEq)]
pub struct IodefIncident {
    pub id: String,
    /// The `name` of the IncidentID: who issued it (a domain, by convention).
    pub issuer: String,
    pub purpose: String,
    pub tlp: Tlp,
    pub generation_time: String,
    pub descriptions: Vec<String>,
    pub contacts: Vec<String>,
    pub observables: Vec<Observable>,
}

fn refuse(path: impl Into<String>, message: impl Into<String>) -> CirtError {
    CirtError::Field { path: path.into(), message: message.into() }
}

fn tlp_of(restriction: Option<&str>) -> Result<Tlp, String> {
    Ok(match restriction.unwrap_or("default") {
        "white" | "clear" | "public" => Tlp::Clear,
        "green" | "partner" => Tlp::Green,
        "amber" | "need-to-know" | "default" => Tlp::Amber,
        "red" | "private" => Tlp::Red,
        other => return Err(format!("{other:?} is not an IODEF restriction")),
    })
}

fn restriction(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "white",
        Tlp::Green => "green",
        Tlp::Amber | Tlp::AmberStrict => "amber",
        Tlp::Red => "red",
    }
}

fn is(node: &roxmltree::Node<'_, '_>, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(NAMESPACE)
}

fn text(node: &roxmltree::Node<'_, '_>) -> String {
    node.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect::<String>().trim().to_owned()
}

/// Reads an IODEF v2 document; nothing is returned unless all of it is sound.
pub fn parse(xml: &str) -> Result<Vec<IodefIncident>, CirtError> {
    if xml.len() > MAX_DOCUMENT_BYTES {
        return Err(refuse("document", format!("{} bytes; at most {MAX_DOCUMENT_BYTES} are accepted", xml.len())));
    }
    let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES };
    let document = roxmltree::Document::parse_with_options(xml, options).map_err(|err| {
        let position = err.pos();
        let message = match err {
            roxmltree::Error::DtdDetected => {
                "documents with a DTD are refused (IODEF needs none, and entities can be used to attack)".into()
            }
            roxmltree::Error::NodesLimitReached => format!("more than {MAX_NODES} nodes"),
            other => other.to_string(),
        };
        refuse(format!("line {}, column {}", position.row, position.col), message)
    })?;
    let root = document.root_element();
    if root.tag_name().name() != "IODEF-Document" {
        return Err(refuse(root.tag_name().name(), "the root element must be IODEF-Document"));
    }
    if root.tag_name().namespace() != Some(NAMESPACE) {
        let found = root.tag_name().namespace().unwrap_or("no namespace");
        return Err(refuse("IODEF-Document", format!("namespace {found}; IODEF v2 is {NAMESPACE} (IODEF v1 is not read)")));
    }
    if root.attribute("version") != Some("2.00") {
        return Err(refuse("IODEF-Document@version", "must be 2.00"));
    }
    let mut incidents = Vec::new();
    for (i, node) in root.children().filter(|n| is(n, "Incident")).enumerate() {
        incidents.push(incident(&node, &format!("Incident[{i}]"))?);
    }
    if incidents.is_empty() {
        return Err(refuse("IODEF-Document", "holds no Incident"));
    }
    Ok(incidents)
}

fn incident(node: &roxmltree::Node<'_, '_>, path: &str) -> Result<IodefIncident, CirtError> {
    let purpose = node.attribute("purpose").ok_or_else(|| refuse(format!("{path}@purpose"), "is required"))?;
    let tlp = tlp_of(node.attribute("restriction")).map_err(|message| refuse(format!("{path}@restriction"), message))?;
    let id_node = node.children().find(|n| is(n, "IncidentID")).ok_or_else(|| refuse(format!("{path}.IncidentID"), "is required"))?;
    let id = text(&id_node);
    if id.is_empty() {
        return Err(refuse(format!("{path}.IncidentID"), "is empty"));
    }
    let issuer = id_node.attribute("name").ok_or_else(|| refuse(format!("{path}.IncidentID@name"), "is required"))?.to_owned();
    let generation =
        node.children().find(|n| is(n, "GenerationTime")).ok_or_else(|| refuse(format!("{path}.GenerationTime"), "is required"))?;
    let generation_time = text(&generation);
    if DateTime::parse_from_rfc3339(&generation_time).is_err() {
        return Err(refuse(format!("{path}.GenerationTime"), format!("{generation_time:?} is not a date-time")));
    }
    let descriptions: Vec<String> = node.children().filter(|n| is(n, "Description")).map(|n| text(&n)).filter(|t| !t.is_empty()).collect();
    let contacts: Vec<String> = node.descendants().filter(|n| is(n, "EmailTo")).map(|n| text(&n)).filter(|t| !t.is_empty()).collect();
    let mut found: Vec<Observable> = Vec::new();
    let mut add = |kind: Kind, value: &str, at: String| -> Result<(), CirtError> {
        let observable = observables::normalise(kind, value).map_err(|message| refuse(at, message))?;
        if !found.contains(&observable) {
            found.push(observable);
        }
        Ok(())
    };
    for (i, n) in node.descendants().filter(|n| n.is_element() && n.tag_name().namespace() == Some(NAMESPACE)).enumerate() {
        let at = || format!("{path}//{}[{i}]", n.tag_name().name());
        match n.tag_name().name() {
            "Address" => {
                let kind = match n.attribute("category").unwrap_or("ipv6-addr") {
                    "ipv4-addr" => Some(Kind::Ipv4),
                    "ipv6-addr" => Some(Kind::Ipv6),
                    "ipv4-net" | "ipv6-net" => Some(Kind::Cidr),
                    "e-mail" => Some(Kind::Email),
                    "site-uri" => Some(Kind::Url),
                    _ => None,
                };
                if let Some(kind) = kind {
                    add(kind, &text(&n), at())?;
                }
            }
            "Name" if n.parent().is_some_and(|p| is(&p, "DomainData")) => add(Kind::Domain, &text(&n), at())?,
            "URL" => add(Kind::Url, &text(&n), at())?,
            "Hash" => {
                let dsig = |name: &str| n.descendants().find(|d| d.tag_name().name() == name && d.tag_name().namespace() == Some(DSIG));
                let algorithm = dsig("DigestMethod").and_then(|m| m.attribute("Algorithm")).unwrap_or("").to_ascii_lowercase();
                let kind = if algorithm.ends_with("#md5") || algorithm.ends_with("md5") {
                    Kind::Md5
                } else if algorithm.ends_with("#sha1") {
                    Kind::Sha1
                } else if algorithm.ends_with("#sha256") {
                    Kind::Sha256
                } else {
                    continue;
                };
                let encoded: String = dsig("DigestValue").map(|v| text(&v)).unwrap_or_default().split_whitespace().collect();
                let bytes = data_encoding::BASE64.decode(encoded.as_bytes()).map_err(|_| refuse(at(), "ds:DigestValue is not base64"))?;
                add(kind, &data_encoding::HEXLOWER.encode(&bytes), at())?;
            }
            _ => {}
        }
    }
    Ok(IodefIncident { id, issuer, purpose: purpose.to_owned(), tlp, generation_time, descriptions, contacts, observables: found })
}

/// What an exported incident says.
pub struct Outgoing<'a> {
    pub reference: &'a str,
    /// Who issued the reference (a domain, by IODEF convention).
    pub issuer: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub tlp: Tlp,
    pub created_at: &'a str,
    pub creator: &'a str,
    pub observables: &'a [Observable],
    pub impact: &'a str,
}

/// Writes one incident as an IODEF v2 document.
pub fn write(incident: &Outgoing<'_>, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!("<IODEF-Document version=\"2.00\" lang=\"en\" xmlns=\"{NAMESPACE}\" xmlns:ds=\"{DSIG}\">\n"));
    out.push_str(&format!("  <Incident purpose=\"reporting\" restriction=\"{}\">\n", restriction(incident.tlp)));
    out.push_str(&format!("    <IncidentID name=\"{}\">{}</IncidentID>\n", escape(incident.issuer), escape(incident.reference)));
    out.push_str(&format!("    <ReportTime>{}</ReportTime>\n", escape(incident.created_at)));
    out.push_str(&format!("    <GenerationTime>{}</GenerationTime>\n", now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    for description in [incident.title, incident.description].into_iter().filter(|d| !d.trim().is_empty()) {
        out.push_str(&format!("    <Description>{}</Description>\n", escape(description)));
    }
    let severity = match incident.impact {
        "high" => "high",
        "low" => "low",
        _ => "medium",
    };
    out.push_str(&format!("    <Assessment>\n      <Impact severity=\"{severity}\" type=\"unknown\"/>\n    </Assessment>\n"));
    out.push_str(&format!(
        "    <Contact role=\"creator\" type=\"organization\">\n      <ContactName>{}</ContactName>\n    </Contact>\n",
        escape(incident.creator)
    ));
    let mut nodes = String::new();
    let mut records = String::new();
    for observable in incident.observables {
        let value = escape(&observable.value);
        match observable.kind {
            Kind::Ipv4 => nodes.push_str(&format!("<Address category=\"ipv4-addr\">{value}</Address>")),
            Kind::Ipv6 => nodes.push_str(&format!("<Address category=\"ipv6-addr\">{value}</Address>")),
            Kind::Cidr => {
                let category = if observable.value.contains(':') { "ipv6-net" } else { "ipv4-net" };
                nodes.push_str(&format!("<Address category=\"{category}\">{value}</Address>"));
            }
            Kind::Email => nodes.push_str(&format!("<Address category=\"e-mail\">{value}</Address>")),
            Kind::Domain => nodes.push_str(&format!("<DomainData><Name>{value}</Name></DomainData>")),
            Kind::Url => records.push_str(&format!("<URL>{value}</URL>")),
            Kind::Md5 | Kind::Sha1 | Kind::Sha256 => {
                let algorithm = match observable.kind {
                    Kind::Md5 => "http://www.w3.org/2001/04/xmldsig-more#md5",
                    Kind::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
                    _ => "http://www.w3.org/2001/04/xmlenc#sha256",
                };
                let Ok(bytes) = data_encoding::HEXLOWER_PERMISSIVE.decode(observable.value.as_bytes()) else { continue };
                records.push_str(&format!(
                    "<FileData><File><HashData scope=\"file-contents\"><Hash><ds:DigestMethod Algorithm=\"{algorithm}\"/>\
                     <ds:DigestValue>{}</ds:DigestValue></Hash></HashData></File></FileData>",
                    data_encoding::BASE64.encode(&bytes)
                ));
            }
            Kind::Cve => {}
        }
    }
    if !nodes.is_empty() || !records.is_empty() {
        out.push_str("    <EventData>\n");
        if !nodes.is_empty() {
            out.push_str(&format!("      <Flow><System category=\"source\"><Node>{nodes}</Node></System></Flow>\n"));
        }
        if !records.is_empty() {
            out.push_str(&format!("      <Record><RecordData>{records}</RecordData></Record>\n"));
        }
        out.push_str("    </EventData>\n");
    }
    out.push_str("  </Incident>\n</IODEF-Document>\n");
    out
}
