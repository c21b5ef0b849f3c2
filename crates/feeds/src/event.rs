//! The harmonised event. Field names are IntelMQ's, so an IntelMQ user's
//! filter rules, exports and mail templates carry over; every value is
//! checked and normalised on the way in (an address in canonical form, a
//! country code in upper case, a time in UTC), the way IntelMQ's
//! harmonisation does, so two feeds that say the same thing store the same
//! text.
//!
//! An event is a flat map from field name to JSON value; `extra.*` holds
//! whatever a feed says that has no field of its own.

use crate::FeedError;
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use ipnet::IpNet;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// How a field's value is checked and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Lower,
    Ip,
    Network,
    Integer,
    Port,
    Asn,
    Float,
    Accuracy,
    Fqdn,
    Url,
    DateTime,
    CountryCode,
    Boolean,
    Taxonomy,
    ClassificationType,
    Tlp,
    Hash,
    /// Anything JSON (the `extra.*` fields).
    Json,
}

/// The kind of a known field, or `None` for a name IntelMQ does not define.
pub fn kind_of(field: &str) -> Option<Kind> {
    if let Some(rest) = field.strip_prefix("source.").or_else(|| field.strip_prefix("destination.")) {
        return endpoint_kind(rest);
    }
    if let Some(rest) = field.strip_prefix("extra.") {
        return (!rest.is_empty()).then_some(Kind::Json);
    }
    Some(match field {
        "classification.taxonomy" => Kind::Taxonomy,
        "classification.type" => Kind::ClassificationType,
        "classification.identifier" => Kind::Text,
        "comment" | "status" | "event_description.text" | "event_description.target" => Kind::Text,
        "event_description.url" | "feed.url" | "feed.documentation" | "screenshot_url" => Kind::Url,
        "event_hash" => Kind::Hash,
        "feed.accuracy" => Kind::Accuracy,
        "feed.code" | "feed.name" | "feed.provider" => Kind::Text,
        "malware.name" | "protocol.application" | "protocol.transport" | "severity" => Kind::Lower,
        "malware.version" => Kind::Text,
        // IntelMQ 3's product fields, which Shadowserver's vulnerability reports fill.
        "product.name" | "product.product" | "product.vendor" | "product.version" | "product.vulnerabilities" => Kind::Text,
        "malware.hash.md5" | "malware.hash.sha1" | "malware.hash.sha256" => Kind::Hash,
        "misp.attribute_uuid" | "misp.event_uuid" => Kind::Lower,
        "raw" => Kind::Text,
        "rtir_id" => Kind::Integer,
        "time.source" | "time.observation" => Kind::DateTime,
        "tlp" => Kind::Tlp,
        _ => return None,
    })
}

fn endpoint_kind(rest: &str) -> Option<Kind> {
    Some(match rest {
        "ip" | "local_ip" => Kind::Ip,
        "port" => Kind::Port,
        "asn" => Kind::Asn,
        "as_name" | "account" | "local_hostname" | "urlpath" | "registry" => Kind::Text,
        "network" => Kind::Network,
        "fqdn" | "reverse_dns" | "domain_suffix" => Kind::Fqdn,
        "url" => Kind::Url,
        "abuse_contact" => Kind::Lower,
        "allocated" => Kind::DateTime,
        "tor_node" => Kind::Boolean,
        "geolocation.cc" => Kind::CountryCode,
        "geolocation.city" | "geolocation.country" | "geolocation.region" | "geolocation.state" => Kind::Text,
        "geolocation.latitude" | "geolocation.longitude" => Kind::Float,
        _ => return None,
    })
}

/// One harmonised event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    fields: BTreeMap<String, Value>,
}

/// Fields left out of an event's identity: when Rampart saw it and the
/// original line say nothing about what happened.
const NOT_IDENTITY: [&str; 2] = ["time.observation", "raw"];

impl Event {
    pub fn new() -> Event {
        Event::default()
    }

    /// Sets a field after checking and normalising its value. An empty
    /// string is no value (feeds leave columns blank), and is skipped.
    pub fn add(&mut self, field: &str, value: Value) -> Result<(), FeedError> {
        let Some(kind) = kind_of(field) else {
            return Err(FeedError::field(field, "is not a field of the harmonised event (use `extra.` for a feed's own columns)"));
        };
        if matches!(&value, Value::String(s) if s.trim().is_empty()) || value.is_null() {
            return Ok(());
        }
        let value = sanitise(kind, value).map_err(|message| FeedError::field(field, message))?;
        self.fields.insert(field.to_owned(), value);
        Ok(())
    }

    /// `add` for text, the common case of a parsed column.
    pub fn add_text(&mut self, field: &str, text: &str) -> Result<(), FeedError> {
        if text.trim().is_empty() {
            return Ok(());
        }
        self.add(field, Value::String(text.to_owned()))
    }

    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field)
    }

    pub fn get_str(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }

    pub fn contains(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    pub fn remove(&mut self, field: &str) -> Option<Value> {
        self.fields.remove(field)
    }

    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The event's identity: SHA-256 over its normalised content (fields in
    /// name order, without the observation time and the raw line), first
    /// 128 bits in hex. `feed.name` is one of the fields, so the same
    /// line from two feeds is two events, and the same line read twice from
    /// one feed is one.
    pub fn id(&self) -> String {
        let mut hasher = Sha256::new();
        for (name, value) in &self.fields {
            if NOT_IDENTITY.contains(&name.as_str()) {
                continue;
            }
            hash_field(&mut hasher, name, Some(value));
        }
        let digest = hasher.finalize();
        data_encoding::HEXLOWER.encode(&digest[..16])
    }

    /// A key over the given fields, for deduplication: events that agree on
    /// all of them share the key (a missing field counts as a value too).
    pub fn key_over(&self, fields: &[String]) -> u64 {
        let mut hasher = Sha256::new();
        for name in fields {
            hash_field(&mut hasher, name, self.fields.get(name));
        }
        let digest = hasher.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first)
    }

    /// The flat JSON object IntelMQ writes (`"source.ip": …`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.fields).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads an event from JSON: IntelMQ's flat form, or the nested form
    /// (`{"source": {"ip": …}}`); `extra` may be an object. Every field is
    /// checked as if added one by one.
    pub fn from_json(text: &str) -> Result<Event, FeedError> {
        let value: Value = serde_json::from_str(text).map_err(|err| FeedError::field("json", err.to_string()))?;
        let Value::Object(map) = value else {
            return Err(FeedError::field("json", "an event must be a JSON object"));
        };
        let mut event = Event::new();
        let mut flat = Vec::new();
        flatten("", map, &mut flat);
        for (name, value) in flat {
            event.add(&name, value)?;
        }
        Ok(event)
    }
}

/// One field into a hash: name, unit separator, value (text as it is,
/// anything else as JSON, a missing value as a NUL byte), record separator.
fn hash_field(hasher: &mut Sha256, name: &str, value: Option<&Value>) {
    hasher.update(name.as_bytes());
    hasher.update([0x1f]);
    match value {
        Some(Value::String(text)) => hasher.update(text.as_bytes()),
        Some(other) => hasher.update(other.to_string().as_bytes()),
        None => hasher.update([0]),
    }
    hasher.update([0x1e]);
}

fn flatten(prefix: &str, map: Map<String, Value>, out: &mut Vec<(String, Value)>) {
    for (key, value) in map {
        let name = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
        match value {
            // `extra` keeps its objects whole below the first level, as
            // IntelMQ's JSON dictionary field does.
            Value::Object(inner) if !name.starts_with("extra.") => flatten(&name, inner, out),
            other => out.push((name, other)),
        }
    }
}

fn text_of(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.trim().to_owned()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        _ => Err("must be text or a number".into()),
    }
}

/// Checks and normalises one value; the message says what is wrong.
pub fn sanitise(kind: Kind, value: Value) -> Result<Value, String> {
    match kind {
        Kind::Json => Ok(value),
        Kind::Text => text_of(&value).map(Value::String),
        Kind::Lower => text_of(&value).map(|t| Value::String(t.to_lowercase())),
        Kind::Ip => {
            let text = text_of(&value)?;
            let address: IpAddr = text.parse().map_err(|_| format!("`{text}` is not an IP address"))?;
            // An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is the IPv4 address.
            let address = match address {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
                v4 => v4,
            };
            Ok(Value::String(address.to_string()))
        }
        Kind::Network => {
            let text = text_of(&value)?;
            let network: IpNet = text.parse().map_err(|_| format!("`{text}` is not an IP network"))?;
            Ok(Value::String(network.trunc().to_string()))
        }
        Kind::Integer => integer(&value).map(Value::from),
        Kind::Port => {
            let port = integer(&value)?;
            if (0..=65535).contains(&port) { Ok(Value::from(port)) } else { Err(format!("{port} is not a port number")) }
        }
        Kind::Asn => {
            let text = text_of(&value)?;
            let digits = text.strip_prefix("AS").or_else(|| text.strip_prefix("as")).unwrap_or(&text);
            match digits.parse::<u32>() {
                Ok(asn) if asn > 0 => Ok(Value::from(asn)),
                _ => Err(format!("`{text}` is not an AS number")),
            }
        }
        Kind::Float => float(&value).map(Value::from),
        Kind::Accuracy => {
            let accuracy = float(&value)?;
            if (0.0..=100.0).contains(&accuracy) { Ok(Value::from(accuracy)) } else { Err(format!("{accuracy} is not between 0 and 100")) }
        }
        Kind::Fqdn => {
            let text = text_of(&value)?.trim_end_matches('.').to_lowercase();
            if text.parse::<IpAddr>().is_ok() {
                return Err(format!("`{text}` is an IP address, not a domain name"));
            }
            let valid = !text.is_empty()
                && text.len() <= 253
                && text.split('.').all(|label| {
                    !label.is_empty() && label.len() <= 63 && label.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
                });
            if valid { Ok(Value::String(text)) } else { Err(format!("`{text}` is not a domain name")) }
        }
        Kind::Url => {
            let text = text_of(&value)?;
            // Feeds often drop the scheme; IntelMQ assumes http then too.
            let candidate = if text.contains("://") { text.clone() } else { format!("http://{text}") };
            match url::Url::parse(&candidate) {
                Ok(parsed) if parsed.has_host() => Ok(Value::String(parsed.to_string())),
                _ => Err(format!("`{text}` is not a URL")),
            }
        }
        Kind::DateTime => {
            let text = text_of(&value)?;
            parse_time(&text).map(|at| Value::String(format_time(at))).ok_or_else(|| format!("`{text}` is not a date and time"))
        }
        Kind::CountryCode => {
            let text = text_of(&value)?.to_ascii_uppercase();
            if text.len() == 2 && text.bytes().all(|b| b.is_ascii_uppercase()) {
                Ok(Value::String(text))
            } else {
                Err(format!("`{text}` is not a two-letter country code"))
            }
        }
        Kind::Boolean => match text_of(&value)?.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            other => Err(format!("`{other}` is not true or false")),
        },
        Kind::Taxonomy => {
            let text = text_of(&value)?.to_lowercase().replace("unauthorized", "unauthorised");
            if rampart_cirt::rsit::taxonomy().iter().any(|c| c.value == text) || text == "test" {
                Ok(Value::String(text))
            } else {
                Err(format!("`{text}` is not an RSIT class"))
            }
        }
        Kind::ClassificationType => {
            let text = text_of(&value)?.to_lowercase();
            // Any RSIT type, or one of IntelMQ's own that map to `other`.
            match rampart_cirt::rsit::classify("", &text) {
                Ok(_) => Ok(Value::String(text)),
                Err(_) => Err(format!("`{text}` is not a classification type")),
            }
        }
        Kind::Tlp => {
            let text = text_of(&value)?.to_ascii_uppercase();
            let text = text.strip_prefix("TLP:").unwrap_or(&text).to_owned();
            match text.as_str() {
                "WHITE" | "CLEAR" => Ok(Value::String("CLEAR".into())),
                "GREEN" | "AMBER" | "AMBER+STRICT" | "RED" => Ok(Value::String(text)),
                _ => Err(format!("`{text}` is not a TLP level")),
            }
        }
        Kind::Hash => {
            let text = text_of(&value)?.to_ascii_lowercase();
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(Value::String(text))
            } else {
                Err(format!("`{text}` is not a hexadecimal hash"))
            }
        }
    }
}

fn integer(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(number) => number.as_i64().ok_or_else(|| format!("{number} is not a whole number")),
        other => {
            let text = text_of(other)?;
            text.parse::<i64>().map_err(|_| format!("`{text}` is not a whole number"))
        }
    }
}

fn float(value: &Value) -> Result<f64, String> {
    match value {
        Value::Number(number) => number.as_f64().ok_or_else(|| format!("{number} is not a number")),
        other => {
            let text = text_of(other)?;
            match text.parse::<f64>() {
                Ok(number) if number.is_finite() => Ok(number),
                _ => Err(format!("`{text}` is not a number")),
            }
        }
    }
}

/// Reads the times feeds write: RFC 3339, `YYYY-MM-DD HH:MM:SS` with an
/// optional fraction and `Z`/`UTC`/offset, or a bare date. A time with no
/// zone is UTC (Shadowserver's convention).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let bare = text.strip_suffix(" UTC").or_else(|| text.strip_suffix('Z')).unwrap_or(text);
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(bare, format) {
            return Some(naive.and_utc());
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%#z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return Some(at.with_timezone(&Utc));
        }
    }
    NaiveDate::parse_from_str(bare, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|n| n.and_utc())
}

/// IntelMQ's form: RFC 3339 with `+00:00`.
pub fn format_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_normalised_as_they_are_added() {
        let mut event = Event::new();
        event.add_text("source.ip", " ::ffff:192.0.2.7 ").unwrap();
        event.add_text("source.asn", "AS64500").unwrap();
        event.add_text("source.geolocation.cc", "ke").unwrap();
        event.add_text("time.source", "2026-11-29 10:00:00").unwrap();
        event.add_text("source.fqdn", "Mail.Example.ORG.").unwrap();
        event.add_text("tlp", "white").unwrap();
        event.add_text("source.network", "198.51.100.77/24").unwrap();
        assert_eq!(event.get_str("source.ip"), Some("192.0.2.7"));
        assert_eq!(event.get("source.asn"), Some(&json!(64500)));
        assert_eq!(event.get_str("source.geolocation.cc"), Some("KE"));
        assert_eq!(event.get_str("time.source"), Some("2026-11-29T10:00:00+00:00"));
        assert_eq!(event.get_str("source.fqdn"), Some("mail.example.org"));
        assert_eq!(event.get_str("tlp"), Some("CLEAR"));
        assert_eq!(event.get_str("source.network"), Some("198.51.100.0/24"));
    }

    #[test]
    fn bad_values_name_the_field() {
        let mut event = Event::new();
        let err = event.add_text("source.port", "70000").unwrap_err();
        assert_eq!(err.to_string(), "source.port: 70000 is not a port number");
        let err = event.add_text("source.ip", "999.1.1.1").unwrap_err();
        assert!(err.to_string().starts_with("source.ip:"), "{err}");
        let err = event.add_text("sauce.ip", "192.0.2.1").unwrap_err();
        assert!(err.to_string().starts_with("sauce.ip:"), "{err}");
        assert!(event.add_text("classification.type", "not-a-type").is_err());
        assert!(event.is_empty(), "nothing bad was stored");
    }

    #[test]
    fn identity_ignores_observation_time_and_raw_but_not_content() {
        let mut a = Event::new();
        a.add_text("feed.name", "telnet").unwrap();
        a.add_text("source.ip", "192.0.2.1").unwrap();
        a.add_text("time.observation", "2026-11-29T10:00:00Z").unwrap();
        let mut b = a.clone();
        b.add_text("time.observation", "2026-11-30T10:00:00Z").unwrap();
        b.add_text("raw", "abc").unwrap();
        assert_eq!(a.id(), b.id());
        b.add_text("source.port", "23").unwrap();
        assert_ne!(a.id(), b.id());
        let mut c = a.clone();
        c.add_text("feed.name", "other").unwrap();
        assert_ne!(a.id(), c.id());
        assert_eq!(a.id().len(), 32);
    }

    #[test]
    fn nested_and_flat_json_read_the_same() {
        let flat = Event::from_json(r#"{"source.ip":"192.0.2.1","extra.tag":{"a":1},"classification.type":"scanner"}"#).unwrap();
        let nested =
            Event::from_json(r#"{"source":{"ip":"192.0.2.1"},"extra":{"tag":{"a":1}},"classification":{"type":"scanner"}}"#).unwrap();
        assert_eq!(flat, nested);
        assert_eq!(Event::from_json(&flat.to_json()).unwrap(), flat);
        assert!(Event::from_json("[1]").is_err());
        assert!(Event::from_json(r#"{"source":{"port":"x"}}"#).unwrap_err().to_string().starts_with("source.port"));
    }

    #[test]
    fn times_in_the_forms_feeds_write() {
        for text in [
            "2026-11-29 10:00:00",
            "2026-11-29T10:00:00Z",
            "2026-11-29 10:00:00 UTC",
            "2026-11-29T12:00:00+02:00",
            "2026-11-29 10:00:00.000",
        ] {
            assert_eq!(parse_time(text).map(format_time).as_deref(), Some("2026-11-29T10:00:00+00:00"), "{text}");
        }
        assert_eq!(parse_time("yesterday"), None);
    }
}
