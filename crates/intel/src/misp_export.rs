//! STIX 2.1 turned into MISP core-format events, and MISP feeds built from
//! them (`manifest.json`, `<event uuid>.json`, `hashes.csv`), the mirror of
//! `misp::event_to_stix`:
//!
//! | STIX 2.1 | MISP |
//! |---|---|
//! | report | an event: `uuid` from its id, `info` its name, `date` its `published` day, attributes from its `object_refs` |
//! | indicators and observables in no report | one event per collection, `uuid` name-based on the collection id |
//! | indicator whose pattern is one equality `[type:property = 'value']` | an attribute with `to_ids`, typed as below, `uuid` from the indicator's |
//! | any other indicator pattern | a `stix2-pattern` attribute with `to_ids` |
//! | cyber-observable object | attributes without `to_ids`, one per value it holds |
//! | `ipv4-addr`, `ipv6-addr` `value` | `ip-dst` |
//! | `domain-name` `value` | `domain` |
//! | `url` `value` | `url` |
//! | `email-addr` `value` | `email-src` |
//! | `file` `hashes` MD5, SHA-1, SHA-256, SHA-512; `name` | `md5`, `sha1`, `sha256`, `sha512`; `filename` |
//! | `autonomous-system` `number` | `AS` |
//! | `mutex` `name`, `mac-addr` `value` | `mutex`, `mac-address` |
//! | TLP marking | `tlp:` tag on the attribute; the event carries the strictest |
//! | labels | tags |
//!
//! Other objects (malware, threat actors, relationships…) have no MISP
//! attribute form and are left out; the caller reports how many.

use crate::markings::object_tlp;
use crate::pattern::{self, Comparison, Literal, Op, Pattern, Step};
use crate::stix::Object;
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use rampart_core::Tlp;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashSet};

/// The namespace of the name-based uuids of collection events.
const EVENT_NAMESPACE: uuid::Uuid = uuid::uuid!("6f0c4bd4-3c77-4a43-9d73-1d2f1f2a7b3e");

/// A MISP attribute type and its default category.
fn misp_type(object_type: &str, property: &str) -> Option<(&'static str, &'static str)> {
    Some(match (object_type, property) {
        ("ipv4-addr" | "ipv6-addr", "value") => ("ip-dst", "Network activity"),
        ("domain-name", "value") => ("domain", "Network activity"),
        ("url", "value") => ("url", "Network activity"),
        ("email-addr", "value") => ("email-src", "Payload delivery"),
        ("file", "hashes.MD5") => ("md5", "Payload delivery"),
        ("file", "hashes.SHA-1") => ("sha1", "Payload delivery"),
        ("file", "hashes.SHA-256") => ("sha256", "Payload delivery"),
        ("file", "hashes.SHA-512") => ("sha512", "Payload delivery"),
        ("file", "name") => ("filename", "Payload delivery"),
        ("autonomous-system", "number") => ("AS", "Network activity"),
        ("mutex", "name") => ("mutex", "Artifacts dropped"),
        ("mac-addr", "value") => ("mac-address", "Network activity"),
        _ => return None,
    })
}

fn tlp_tag(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "tlp:clear",
        Tlp::Green => "tlp:green",
        Tlp::Amber => "tlp:amber",
        Tlp::AmberStrict => "tlp:amber+strict",
        Tlp::Red => "tlp:red",
    }
}

fn uuid_of(id: &str) -> &str {
    id.split_once("--").map_or(id, |(_, uuid)| uuid)
}

fn epoch(object: &Object) -> String {
    object
        .get("modified")
        .or(object.get("created"))
        .and_then(Value::as_str)
        .and_then(crate::stix::timestamp)
        .map_or_else(|| "0".to_owned(), |t| t.timestamp().to_string())
}

/// `[type:property = 'value']` and nothing more: the property path as text and the value.
fn single_equality(pattern: &Pattern) -> Option<(String, String, String)> {
    let Pattern::Observation(Comparison::Test { path, negated: false, op: Op::Eq, value }) = pattern else { return None };
    let property = path
        .steps
        .iter()
        .map(|step| match step {
            Step::Key(key) => Some(key.clone()),
            _ => None,
        })
        .collect::<Option<Vec<String>>>()?
        .join(".");
    let value = match value {
        Literal::String(text) => text.clone(),
        Literal::Int(number) => number.to_string(),
        _ => return None,
    };
    Some((path.object_type.clone(), property, value))
}

fn tags(object: &Object) -> Vec<Value> {
    let mut tags: Vec<Value> = object_tlp(object).map(|tlp| json!({"name": tlp_tag(tlp)})).into_iter().collect();
    for label in object.get("labels").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        tags.push(json!({"name": label}));
    }
    tags
}

fn attribute(uuid: &str, kind: (&str, &str), value: String, to_ids: bool, object: &Object) -> Value {
    let comment = object.get("description").and_then(Value::as_str).unwrap_or("");
    json!({
        "uuid": uuid, "type": kind.0, "category": kind.1, "value": value, "to_ids": to_ids,
        "timestamp": epoch(object), "distribution": "5", "comment": comment, "deleted": false, "Tag": tags(object),
    })
}

/// The MISP attributes one STIX object becomes (none for objects without a form).
pub fn attributes(object: &Object) -> Vec<Value> {
    if object.kind == "indicator" {
        let Some(text) = object.get("pattern").and_then(Value::as_str) else { return Vec::new() };
        if object.get("pattern_type").and_then(Value::as_str) != Some("stix") {
            return Vec::new();
        }
        let uuid = uuid_of(&object.id);
        let simple = pattern::parse(text).ok().as_ref().and_then(single_equality);
        return match simple.and_then(|(kind, property, value)| misp_type(&kind, &property).map(|t| (t, value))) {
            Some((kind, value)) => vec![attribute(uuid, kind, value, true, object)],
            None => vec![attribute(uuid, ("stix2-pattern", "Payload installation"), text.to_owned(), true, object)],
        };
    }
    let mut found = Vec::new();
    let mut add = |property: &str, value: Option<String>, index: usize| {
        if let (Some(kind), Some(value)) = (misp_type(&object.kind, property), value) {
            // Each value of one observable needs its own uuid; the first keeps the object's.
            let uuid = if index == 0 {
                uuid_of(&object.id).to_owned()
            } else {
                uuid::Uuid::new_v5(&EVENT_NAMESPACE, format!("{}/{property}", object.id).as_bytes()).to_string()
            };
            found.push(attribute(&uuid, kind, value, false, object));
        }
    };
    let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_owned);
    match object.kind.as_str() {
        "file" => {
            let mut index = 0;
            if let Some(hashes) = object.get("hashes").and_then(Value::as_object) {
                for algorithm in ["MD5", "SHA-1", "SHA-256", "SHA-512"] {
                    if let Some(hash) = hashes.get(algorithm).and_then(Value::as_str) {
                        add(&format!("hashes.{algorithm}"), Some(hash.to_ascii_lowercase()), index);
                        index += 1;
                    }
                }
            }
            add("name", text("name"), index);
        }
        "autonomous-system" => add("number", object.get("number").and_then(Value::as_i64).map(|n| n.to_string()), 0),
        "mutex" => add("name", text("name"), 0),
        _ => add("value", text("value"), 0),
    }
    found
}

/// Who publishes, as MISP's `Orgc`.
#[derive(Debug, Clone)]
pub struct Publisher {
    pub name: String,
    pub uuid: String,
}

/// MISP events for a collection's objects: one per report, one for the rest.
pub fn events(objects: &[Object], collection_id: &str, collection_title: &str, publisher: &Publisher) -> Vec<Value> {
    let by_id: BTreeMap<&str, &Object> = objects.iter().map(|o| (o.id.as_str(), o)).collect();
    let mut reported: HashSet<&str> = HashSet::new();
    let mut events = Vec::new();
    for report in objects.iter().filter(|o| o.kind == "report") {
        let members: Vec<&Object> = report
            .get("object_refs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|id| by_id.get(id).copied())
            .collect();
        reported.extend(members.iter().map(|o| o.id.as_str()));
        let info = report.get("name").and_then(Value::as_str).unwrap_or("report");
        let date = report.get("published").and_then(Value::as_str).and_then(crate::stix::timestamp);
        events.push(event(uuid_of(&report.id), info, date, &members, Some(report), publisher));
    }
    let rest: Vec<&Object> = objects.iter().filter(|o| o.kind != "report" && !reported.contains(o.id.as_str())).collect();
    let rest_uuid = uuid::Uuid::new_v5(&EVENT_NAMESPACE, collection_id.as_bytes()).to_string();
    let newest = rest.iter().filter_map(|o| o.get("modified").and_then(Value::as_str).and_then(crate::stix::timestamp)).max();
    let event = event(&rest_uuid, collection_title, newest, &rest, None, publisher);
    if event["Event"]["Attribute"].as_array().is_some_and(|a| !a.is_empty()) {
        events.push(event);
    }
    events
}

fn event(
    uuid: &str,
    info: &str,
    date: Option<DateTime<Utc>>,
    members: &[&Object],
    report: Option<&Object>,
    publisher: &Publisher,
) -> Value {
    let attributes: Vec<Value> = members.iter().flat_map(|o| attributes(o)).collect();
    let strictest = members.iter().chain(report.as_slice()).filter_map(|o| object_tlp(o)).max();
    let mut event_tags: Vec<Value> = strictest.map(|tlp| json!({"name": tlp_tag(tlp)})).into_iter().collect();
    if let Some(report) = report {
        event_tags.extend(tags(report).into_iter().filter(|t| !t["name"].as_str().unwrap_or("").starts_with("tlp:")));
    }
    let timestamp = members.iter().chain(report.as_slice()).map(|o| epoch(o)).max_by_key(|t| t.parse::<i64>().unwrap_or(0));
    let timestamp = timestamp.unwrap_or_else(|| "0".to_owned());
    json!({"Event": {
        "uuid": uuid, "info": info, "date": date.map_or_else(|| "1970-01-01".to_owned(), |d| d.format("%Y-%m-%d").to_string()),
        "timestamp": timestamp, "publish_timestamp": timestamp, "published": true,
        "analysis": "2", "threat_level_id": "4", "distribution": "3",
        "Orgc": {"name": publisher.name, "uuid": publisher.uuid},
        "Tag": event_tags, "Attribute": attributes, "Object": [],
    }})
}

/// A feed's `manifest.json`: each event's summary keyed by its uuid.
pub fn manifest(events: &[Value]) -> Value {
    let mut manifest = Map::new();
    for event in events {
        let e = &event["Event"];
        let Some(uuid) = e["uuid"].as_str() else { continue };
        manifest.insert(
            uuid.to_owned(),
            json!({
                "info": e["info"], "date": e["date"], "timestamp": e["timestamp"], "analysis": e["analysis"],
                "threat_level_id": e["threat_level_id"], "Orgc": e["Orgc"], "Tag": e["Tag"],
            }),
        );
    }
    Value::Object(manifest)
}

/// A feed's `hashes.csv`: the MD5 of each attribute value and its event's uuid, a line each.
pub fn hashes_csv(events: &[Value]) -> String {
    let mut out = String::new();
    for event in events {
        let uuid = event["Event"]["uuid"].as_str().unwrap_or("");
        for attribute in event["Event"]["Attribute"].as_array().into_iter().flatten() {
            if let Some(value) = attribute["value"].as_str() {
                let digest = Md5::digest(value.as_bytes());
                out.push_str(&format!("{},{uuid}\n", data_encoding::HEXLOWER.encode(&digest)));
            }
        }
    }
    out
}
