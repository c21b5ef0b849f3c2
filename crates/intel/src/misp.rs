//! MISP events (core format) read and turned into STIX 2.1.
//!
//! The mapping, documented in ARCHITECTURE.md: the event becomes a report
//! (the MISP uuid kept in the id), each attribute with `to_ids` an
//! indicator with a STIX pattern, each other attribute a cyber-observable
//! object with a name-based id (so the same value always gets the same
//! id); attributes inside MISP objects are read the same way; `tlp:` tags
//! become TLP 2.0 markings, every other tag (galaxy clusters included) a
//! label. Attribute types without a mapping are left out with a warning.

use crate::IntelError;
use crate::markings;
use chrono::{DateTime, NaiveDate, Utc};
use rampart_core::Tlp;
use serde_json::{Map, Value, json};
use std::net::IpAddr;

/// The namespace STIX 2.1 gives for cyber-observable ids (UUIDv5).
const STIX_NAMESPACE: uuid::Uuid = uuid::uuid!("00abedb4-aa42-466c-9c01-fed23315a9b7");

/// A MISP attribute type's STIX form: the object type and how the value is held.
enum Form {
    Value(&'static str),
    Hash(&'static str, usize),
    FileName,
    Asn,
    Mutex,
}

fn form(misp_type: &str) -> Option<Form> {
    Some(match misp_type {
        "ip-src" | "ip-dst" => Form::Value("ip"),
        "domain" | "hostname" => Form::Value("domain-name"),
        "url" | "uri" => Form::Value("url"),
        "email" | "email-src" | "email-dst" => Form::Value("email-addr"),
        "mac-address" => Form::Value("mac-addr"),
        "md5" => Form::Hash("MD5", 32),
        "sha1" => Form::Hash("SHA-1", 40),
        "sha256" => Form::Hash("SHA-256", 64),
        "sha512" => Form::Hash("SHA-512", 128),
        "filename" => Form::FileName,
        "AS" => Form::Asn,
        "mutex" => Form::Mutex,
        _ => return None,
    })
}

/// The result of an import: the bundle, and what was left out.
#[derive(Debug, Clone)]
pub struct Import {
    pub bundle: Value,
    pub warnings: Vec<String>,
}

fn invalid(path: &str, message: impl Into<String>) -> IntelError {
    IntelError::Invalid { path: path.to_owned(), message: message.into() }
}

fn text<'a>(map: &'a Map<String, Value>, path: &str, name: &str) -> Result<&'a str, IntelError> {
    map.get(name).and_then(Value::as_str).ok_or_else(|| invalid(&format!("{path}.{name}"), "is required and must be a string"))
}

fn uuid_of(map: &Map<String, Value>, path: &str) -> Result<String, IntelError> {
    let value = text(map, path, "uuid")?;
    uuid::Uuid::try_parse(value).map(|u| u.to_string()).map_err(|_| invalid(&format!("{path}.uuid"), format!("{value:?} is not a UUID")))
}

/// A MISP boolean: true/false, or the strings and numbers MISP also writes.
fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        _ => false,
    }
}

fn stix_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A MISP timestamp (unix seconds, as a string or a number).
fn unix(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let seconds = match value? {
        Value::String(s) => s.parse::<i64>().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    DateTime::from_timestamp(seconds, 0)
}

fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

fn tags(map: &Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = map
        .get("Tag")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    // Galaxy clusters are kept as their tags.
    for galaxy in map.get("Galaxy").and_then(Value::as_array).into_iter().flatten() {
        for cluster in galaxy.get("GalaxyCluster").and_then(Value::as_array).into_iter().flatten() {
            if let Some(tag) = cluster.get("tag_name").and_then(Value::as_str) {
                out.push(tag.to_owned());
            }
        }
    }
    out
}

/// The TLP in MISP tags (`tlp:amber`, `tlp:amber+strict`, `tlp:white`…), strictest first found.
fn tlp_of_tags(tags: &[String]) -> Option<Tlp> {
    tags.iter()
        .filter_map(|t| t.strip_prefix("tlp:").or_else(|| t.strip_prefix("TLP:")))
        .filter_map(|level| match level.to_ascii_lowercase().as_str() {
            "white" | "clear" => Some(Tlp::Clear),
            "green" => Some(Tlp::Green),
            "amber" => Some(Tlp::Amber),
            "amber+strict" => Some(Tlp::AmberStrict),
            "red" => Some(Tlp::Red),
            _ => None,
        })
        .max()
}

fn convert(
    attribute: &Map<String, Value>,
    path: &str,
    event_time: DateTime<Utc>,
    inherited: &[String],
) -> Result<Option<Value>, IntelError> {
    let misp_type = text(attribute, path, "type")?;
    let value = text(attribute, path, "value")?.trim();
    let Some(form) = form(misp_type) else { return Ok(None) };
    let bad = |message: String| invalid(&format!("{path}.value"), message);
    // (observable type, properties, pattern)
    let (sco_type, properties, pattern): (&str, Value, String) = match form {
        Form::Value("ip") => {
            let ip: IpAddr = value.parse().map_err(|_| bad(format!("{value:?} is not an IP address")))?;
            let kind = if ip.is_ipv4() { "ipv4-addr" } else { "ipv6-addr" };
            (kind, json!({"value": ip.to_string()}), format!("[{kind}:value = '{ip}']"))
        }
        Form::Value(kind) => {
            if value.is_empty() || value.chars().any(char::is_control) {
                return Err(bad("is empty or holds control characters".into()));
            }
            (kind, json!({"value": value}), format!("[{kind}:value = '{}']", quote(value)))
        }
        Form::Hash(algorithm, length) => {
            if value.len() != length || !value.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad(format!("{algorithm} is {length} hex digits")));
            }
            let digest = value.to_ascii_lowercase();
            ("file", json!({"hashes": {algorithm: digest}}), format!("[file:hashes.'{algorithm}' = '{digest}']"))
        }
        Form::FileName => ("file", json!({"name": value}), format!("[file:name = '{}']", quote(value))),
        Form::Asn => {
            let number: u32 = value.trim_start_matches("AS").parse().map_err(|_| bad(format!("{value:?} is not an AS number")))?;
            ("autonomous-system", json!({"number": number}), format!("[autonomous-system:number = {number}]"))
        }
        Form::Mutex => ("mutex", json!({"name": value}), format!("[mutex:name = '{}']", quote(value))),
    };
    let uuid = uuid_of(attribute, path)?;
    let own_tags = tags(attribute);
    let all_tags: Vec<String> = inherited.iter().chain(own_tags.iter()).cloned().collect();
    let marking = tlp_of_tags(&all_tags).map(|t| json!([markings::marking_id(t)]));
    let mut object = if flag(attribute.get("to_ids")) {
        let time = unix(attribute.get("timestamp")).unwrap_or(event_time);
        let mut indicator = json!({
            "type": "indicator", "spec_version": "2.1", "id": format!("indicator--{uuid}"),
            "created": stix_time(time), "modified": stix_time(time),
            "name": format!("{misp_type}: {value}"), "pattern": pattern, "pattern_type": "stix", "valid_from": stix_time(time),
        });
        if let Some(comment) = attribute.get("comment").and_then(Value::as_str).filter(|c| !c.trim().is_empty()) {
            indicator["description"] = json!(comment);
        }
        if let Some(category) = attribute.get("category").and_then(Value::as_str) {
            indicator["x_misp_category"] = json!(category);
        }
        indicator
    } else {
        let mut observable = json!({"type": sco_type, "spec_version": "2.1"});
        if let (Value::Object(target), Value::Object(extra)) = (&mut observable, properties) {
            target.extend(extra);
        }
        // Name-based ids: the same value from any event is the same object.
        let key = format!(
            "{sco_type}:{}",
            observable
                .get("value")
                .or(observable.get("hashes"))
                .or(observable.get("name"))
                .or(observable.get("number"))
                .map(Value::to_string)
                .unwrap_or_default()
        );
        observable["id"] = json!(format!("{sco_type}--{}", uuid::Uuid::new_v5(&STIX_NAMESPACE, key.as_bytes())));
        observable
    };
    if let Some(marking) = marking {
        object["object_marking_refs"] = marking;
    }
    let labels: Vec<&String> = own_tags.iter().filter(|t| !t.to_ascii_lowercase().starts_with("tlp:")).collect();
    if !labels.is_empty() && object["type"] == "indicator" {
        object["labels"] = json!(labels);
    }
    Ok(Some(object))
}

/// Reads a MISP event (`{"Event": {…}}` or the event itself) and returns it
/// as a STIX 2.1 bundle. A value that cannot be what its type says (an IP
/// address that is not one, a hash of the wrong length) refuses the event,
/// named by path.
pub fn event_to_stix(document: &str) -> Result<Import, IntelError> {
    if document.len() > crate::stix::MAX_DOCUMENT_BYTES {
        return Err(IntelError::TooLarge { size: document.len(), limit: crate::stix::MAX_DOCUMENT_BYTES });
    }
    let value: Value = serde_json::from_str(document).map_err(|err| IntelError::Syntax {
        line: err.line(),
        column: err.column(),
        message: err.to_string(),
    })?;
    let event = value.get("Event").cloned().unwrap_or(value);
    let Value::Object(event) = event else { return Err(invalid("Event", "is not a JSON object")) };
    let path = "Event";
    let uuid = uuid_of(&event, path)?;
    let info = text(&event, path, "info")?.trim().to_owned();
    if info.is_empty() {
        return Err(invalid("Event.info", "is empty"));
    }
    let date = match event.get("date").and_then(Value::as_str) {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| invalid("Event.date", format!("{d:?} is not YYYY-MM-DD")))?,
        None => return Err(invalid("Event.date", "is required")),
    };
    for (name, range) in [("threat_level_id", 1..=4), ("analysis", 0..=2), ("distribution", 0..=5)] {
        let number = match event.get(name) {
            Some(Value::String(s)) => s.parse::<i64>().ok(),
            Some(Value::Number(n)) => n.as_i64(),
            None => continue,
            _ => None,
        };
        if !number.is_some_and(|n| range.contains(&n)) {
            return Err(invalid(&format!("Event.{name}"), format!("must be {} to {}", range.start(), range.end())));
        }
    }
    let event_time: DateTime<Utc> =
        unix(event.get("timestamp")).unwrap_or_else(|| date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or_default());
    let event_tags = tags(&event);
    let mut objects: Vec<Value> = Vec::new();
    let mut warnings = Vec::new();
    let mut attributes: Vec<(String, &Map<String, Value>)> = Vec::new();
    for (i, attribute) in event.get("Attribute").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let here = format!("Event.Attribute[{i}]");
        attributes.push((here.clone(), attribute.as_object().ok_or_else(|| invalid(&here, "is not a JSON object"))?));
    }
    for (i, object) in event.get("Object").and_then(Value::as_array).into_iter().flatten().enumerate() {
        for (j, attribute) in object.get("Attribute").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let here = format!("Event.Object[{i}].Attribute[{j}]");
            attributes.push((here.clone(), attribute.as_object().ok_or_else(|| invalid(&here, "is not a JSON object"))?));
        }
    }
    for (here, attribute) in attributes {
        match convert(attribute, &here, event_time, &event_tags)? {
            Some(object) => {
                if !objects.iter().any(|o| o["id"] == object["id"]) {
                    objects.push(object);
                }
            }
            None => warnings.push(format!(
                "{here}: type {:?} has no STIX mapping yet; left out",
                attribute.get("type").and_then(Value::as_str).unwrap_or("")
            )),
        }
    }
    let tlp = tlp_of_tags(&event_tags);
    let mut markings_used: Vec<Tlp> = objects
        .iter()
        .flat_map(|o| o.get("object_marking_refs").and_then(Value::as_array).cloned().unwrap_or_default())
        .filter_map(|m| m.as_str().and_then(markings::tlp_of))
        .chain(tlp)
        .collect();
    markings_used.sort();
    markings_used.dedup();
    if !objects.is_empty() {
        let mut report = json!({
            "type": "report", "spec_version": "2.1", "id": format!("report--{uuid}"),
            "created": stix_time(event_time), "modified": stix_time(event_time), "name": info,
            "published": stix_time(date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(event_time)),
            "report_types": ["threat-report"],
            "object_refs": objects.iter().map(|o| o["id"].clone()).collect::<Vec<_>>(),
        });
        if let Some(tlp) = tlp {
            report["object_marking_refs"] = json!([markings::marking_id(tlp)]);
        }
        let labels: Vec<&String> = event_tags.iter().filter(|t| !t.to_ascii_lowercase().starts_with("tlp:")).collect();
        if !labels.is_empty() {
            report["labels"] = json!(labels);
        }
        objects.insert(0, report);
    } else {
        warnings.push("Event: no attribute could be mapped; the bundle holds no report".into());
    }
    for tlp in markings_used {
        objects.push(markings::marking_definition(tlp));
    }
    let bundle =
        json!({"type": "bundle", "id": format!("bundle--{}", uuid::Uuid::new_v5(&STIX_NAMESPACE, uuid.as_bytes())), "objects": objects});
    Ok(Import { bundle, warnings })
}
