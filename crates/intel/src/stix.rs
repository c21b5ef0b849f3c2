//! STIX 2.1 content: objects and bundles read without loss and checked.
//!
//! An [`Object`] keeps every property as JSON (unknown and custom ones
//! included), so writing it back gives the same document. [`validate`]
//! applies the specification's MUST rules (identifier form, timestamps,
//! required properties, reference types, relationship and sighting rules,
//! `spec_version`) as errors and its open vocabularies as warnings, each
//! named by its path in the document.

use crate::IntelError;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The largest document accepted; larger ones are refused before parsing.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// The STIX Domain Objects with the properties each one requires.
const DOMAIN_OBJECTS: [(&str, &[&str]); 19] = [
    ("attack-pattern", &["name"]),
    ("campaign", &["name"]),
    ("course-of-action", &["name"]),
    ("grouping", &["context", "object_refs"]),
    ("identity", &["name"]),
    ("incident", &["name"]),
    ("indicator", &["pattern", "pattern_type", "valid_from"]),
    ("infrastructure", &["name"]),
    ("intrusion-set", &["name"]),
    ("location", &[]),
    ("malware", &["is_family"]),
    ("malware-analysis", &["product"]),
    ("note", &["content", "object_refs"]),
    ("observed-data", &["first_observed", "last_observed", "number_observed"]),
    ("opinion", &["opinion", "object_refs"]),
    ("report", &["name", "published", "object_refs"]),
    ("threat-actor", &["name"]),
    ("tool", &["name"]),
    ("vulnerability", &["name"]),
];

const RELATIONSHIP_OBJECTS: [(&str, &[&str]); 2] =
    [("relationship", &["relationship_type", "source_ref", "target_ref"]), ("sighting", &["sighting_of_ref"])];

/// The STIX Cyber-observable Objects with the properties each one requires.
const OBSERVABLES: [(&str, &[&str]); 18] = [
    ("artifact", &[]),
    ("autonomous-system", &["number"]),
    ("directory", &["path"]),
    ("domain-name", &["value"]),
    ("email-addr", &["value"]),
    ("email-message", &["is_multipart"]),
    ("file", &[]),
    ("ipv4-addr", &["value"]),
    ("ipv6-addr", &["value"]),
    ("mac-addr", &["value"]),
    ("mutex", &["name"]),
    ("network-traffic", &["protocols"]),
    ("process", &[]),
    ("software", &["name"]),
    ("url", &["value"]),
    ("user-account", &[]),
    ("windows-registry-key", &[]),
    ("x509-certificate", &[]),
];

const META_OBJECTS: [(&str, &[&str]); 3] = [
    ("marking-definition", &[]),
    ("language-content", &["object_ref", "contents"]),
    ("extension-definition", &["name", "schema", "version", "extension_types", "created_by_ref"]),
];

/// Open vocabularies checked as warnings: (type, property, values).
const VOCABULARIES: [(&str, &str, &[&str]); 3] = [
    ("indicator", "pattern_type", &["stix", "pcre", "sigma", "snort", "suricata", "yara"]),
    ("identity", "identity_class", &["individual", "group", "system", "organization", "class", "unknown"]),
    (
        "report",
        "report_types",
        &[
            "attack-pattern",
            "campaign",
            "identity",
            "indicator",
            "intrusion-set",
            "malware",
            "observed-data",
            "threat-actor",
            "threat-report",
            "tool",
            "vulnerability",
        ],
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Domain,
    Relationship,
    Observable,
    /// Marking definitions, language content, extension definitions.
    Meta,
    /// A custom object type.
    Custom,
}

pub fn category(kind: &str) -> Category {
    if DOMAIN_OBJECTS.iter().any(|(t, _)| *t == kind) {
        Category::Domain
    } else if RELATIONSHIP_OBJECTS.iter().any(|(t, _)| *t == kind) {
        Category::Relationship
    } else if OBSERVABLES.iter().any(|(t, _)| *t == kind) {
        Category::Observable
    } else if META_OBJECTS.iter().any(|(t, _)| *t == kind) {
        Category::Meta
    } else {
        Category::Custom
    }
}

fn required(kind: &str) -> &'static [&'static str] {
    DOMAIN_OBJECTS
        .iter()
        .chain(RELATIONSHIP_OBJECTS.iter())
        .chain(OBSERVABLES.iter())
        .chain(META_OBJECTS.iter())
        .find(|(t, _)| *t == kind)
        .map(|(_, props)| *props)
        .unwrap_or(&[])
}

/// One STIX object: its type and id, and every property as it came.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub kind: String,
    pub id: String,
    properties: Map<String, Value>,
}

impl Object {
    /// Reads an object from JSON; `path` names it in errors.
    pub fn from_value(value: Value, path: &str) -> Result<Object, IntelError> {
        let Value::Object(properties) = value else {
            return Err(IntelError::Invalid { path: path.to_owned(), message: "is not a JSON object".into() });
        };
        let text = |name: &str| match properties.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(IntelError::Invalid { path: format!("{path}.{name}"), message: "must be a string".into() }),
            None => Err(IntelError::Invalid { path: format!("{path}.{name}"), message: "is required".into() }),
        };
        Ok(Object { kind: text("type")?, id: text("id")?, properties })
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.properties.get(name)
    }

    pub fn properties(&self) -> &Map<String, Value> {
        &self.properties
    }

    pub fn category(&self) -> Category {
        category(&self.kind)
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.properties.clone())
    }
}

/// A document: a bundle of objects, or one object on its own.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Bundle { id: String, objects: Vec<Object>, properties: Map<String, Value> },
    Object(Object),
}

impl Content {
    pub fn objects(&self) -> Vec<&Object> {
        match self {
            Content::Bundle { objects, .. } => objects.iter().collect(),
            Content::Object(object) => vec![object],
        }
    }

    /// The document again, every property as it was read.
    pub fn to_value(&self) -> Value {
        match self {
            Content::Bundle { objects, properties, .. } => {
                let mut out = properties.clone();
                out.insert("objects".into(), Value::Array(objects.iter().map(Object::to_value).collect()));
                Value::Object(out)
            }
            Content::Object(object) => object.to_value(),
        }
    }
}

/// Reads a STIX document: JSON syntax, then the shape (objects with a
/// string `type` and `id`). The rules are [`validate`]'s.
pub fn parse(text: &str) -> Result<Content, IntelError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(IntelError::TooLarge { size: text.len(), limit: MAX_DOCUMENT_BYTES });
    }
    let value: Value = serde_json::from_str(text).map_err(|err| IntelError::Syntax {
        line: err.line(),
        column: err.column(),
        message: err.to_string(),
    })?;
    if value.get("type").and_then(Value::as_str) != Some("bundle") {
        return Ok(Content::Object(Object::from_value(value, "$")?));
    }
    let Value::Object(mut properties) = value else {
        return Err(IntelError::Invalid { path: "$".into(), message: "is not a JSON object".into() });
    };
    let id = match properties.get("id") {
        Some(Value::String(id)) => id.clone(),
        _ => return Err(IntelError::Invalid { path: "$.id".into(), message: "a bundle needs a string id".into() }),
    };
    let objects = match properties.remove("objects") {
        None => Vec::new(),
        Some(Value::Array(items)) => {
            items.into_iter().enumerate().map(|(i, item)| Object::from_value(item, &format!("objects[{i}]"))).collect::<Result<_, _>>()?
        }
        Some(_) => return Err(IntelError::Invalid { path: "$.objects".into(), message: "must be an array".into() }),
    };
    Ok(Content::Bundle { id, objects, properties })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub path: String,
    pub message: String,
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem { severity: Severity::Error, path: path.to_owned(), message: message.into() });
    }

    fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem { severity: Severity::Warning, path: path.to_owned(), message: message.into() });
    }
}

/// Parses a STIX timestamp: RFC 3339 in UTC with a `Z`.
pub fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    if !text.ends_with('Z') || text.len() < 20 || text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// Is `text` a valid object type name (3–250 characters of a–z, 0–9 and
/// single hyphens, starting with a letter)?
pub fn is_type_name(text: &str) -> bool {
    (3..=250).contains(&text.len())
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !text.contains("--")
}

/// The type of a valid identifier (`type--uuid`), or `None`.
pub fn identifier_type(text: &str) -> Option<&str> {
    let (kind, uuid) = text.split_once("--")?;
    (is_type_name(kind) && uuid.len() == 36 && uuid::Uuid::try_parse(uuid).is_ok()).then_some(kind)
}

/// Checks a document against the specification; the problems come in
/// document order, errors and warnings together.
pub fn validate(content: &Content) -> Vec<Problem> {
    let mut c = Checker { problems: Vec::new() };
    match content {
        Content::Bundle { id, objects, properties } => {
            if identifier_type(id) != Some("bundle") {
                c.error("$.id", format!("{id:?} is not bundle--<uuid>"));
            }
            if properties.contains_key("spec_version") {
                c.warn("$.spec_version", "a STIX 2.1 bundle has no spec_version (that was STIX 2.0)");
            }
            for (i, object) in objects.iter().enumerate() {
                check_object(&mut c, object, &format!("objects[{i}]"));
            }
        }
        Content::Object(object) => check_object(&mut c, object, "$"),
    }
    c.problems
}

fn check_object(c: &mut Checker, object: &Object, path: &str) {
    let at = |name: &str| format!("{path}.{name}");
    let kind = object.kind.as_str();
    if !is_type_name(kind) {
        c.error(&at("type"), format!("{kind:?} is not a valid type name"));
    }
    match identifier_type(&object.id) {
        Some(prefix) if prefix == kind => {}
        Some(prefix) => c.error(&at("id"), format!("the id is of type {prefix}, the object of type {kind}")),
        None => c.error(&at("id"), format!("{:?} is not {kind}--<uuid>", object.id)),
    }
    let category = object.category();
    let spec_required = !matches!(category, Category::Observable);
    match object.get("spec_version") {
        Some(Value::String(v)) if v == "2.1" => {}
        Some(other) => c.error(&at("spec_version"), format!("{other} is not \"2.1\"")),
        None if spec_required => c.error(&at("spec_version"), "is required"),
        None => {}
    }
    // Timestamps: created and modified on everything but observables (a
    // marking definition has no modified).
    let needs_times = !matches!(category, Category::Observable);
    let created = time_property(c, object, path, "created", needs_times);
    let modified = time_property(c, object, path, "modified", needs_times && kind != "marking-definition");
    if let (Some(created), Some(modified)) = (created, modified)
        && modified < created
    {
        c.error(&at("modified"), "is before created");
    }
    for name in required(kind) {
        if object.get(name).is_none() {
            c.error(&at(name), "is required");
        }
    }
    for (name, value) in object.properties() {
        let here = at(name);
        if name.len() > 250 || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
            c.error(&here, "property names are ASCII letters, digits and underscores, at most 250");
        }
        if name.ends_with("_ref") {
            check_ref(c, &here, value);
        } else if name.ends_with("_refs") {
            match value {
                Value::Array(items) if !items.is_empty() => {
                    for (i, item) in items.iter().enumerate() {
                        check_ref(c, &format!("{here}[{i}]"), item);
                    }
                }
                _ => c.error(&here, "must be a non-empty list of identifiers"),
            }
        }
    }
    if let Some(confidence) = object.get("confidence")
        && confidence.as_u64().is_none_or(|v| v > 100)
    {
        c.error(&at("confidence"), "must be an integer from 0 to 100");
    }
    if let Some(revoked) = object.get("revoked")
        && !revoked.is_boolean()
    {
        c.error(&at("revoked"), "must be true or false");
    }
    for name in ["labels"] {
        if let Some(value) = object.get(name)
            && value.as_array().is_none_or(|items| items.is_empty() || !items.iter().all(Value::is_string))
        {
            c.error(&at(name), "must be a non-empty list of strings");
        }
    }
    if let Some(markings) = object.get("object_marking_refs").and_then(Value::as_array) {
        for (i, marking) in markings.iter().enumerate() {
            if marking.as_str().and_then(identifier_type).is_some_and(|t| t != "marking-definition") {
                c.error(&format!("{path}.object_marking_refs[{i}]"), "must name a marking-definition");
            }
        }
    }
    check_external_references(c, object, path);
    check_kill_chain(c, object, path);
    check_granular_markings(c, object, path);
    check_by_type(c, object, path);
    for (vocab_type, property, values) in VOCABULARIES {
        if kind != vocab_type {
            continue;
        }
        let found: Vec<&str> = match object.get(property) {
            Some(Value::String(v)) => vec![v.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for value in found {
            if !values.contains(&value) {
                c.warn(&at(property), format!("{value:?} is not in the specification's vocabulary"));
            }
        }
    }
}

fn time_property(c: &mut Checker, object: &Object, path: &str, name: &str, required: bool) -> Option<DateTime<Utc>> {
    let here = format!("{path}.{name}");
    match object.get(name) {
        Some(Value::String(text)) => {
            let parsed = timestamp(text);
            if parsed.is_none() {
                c.error(&here, format!("{text:?} is not a UTC timestamp like 2016-04-06T20:03:48.000Z"));
            }
            parsed
        }
        Some(_) => {
            c.error(&here, "must be a timestamp string");
            None
        }
        None => {
            if required {
                c.error(&here, "is required");
            }
            None
        }
    }
}

fn check_ref(c: &mut Checker, path: &str, value: &Value) {
    match value.as_str() {
        Some(text) if identifier_type(text).is_some() => {}
        _ => c.error(path, format!("{value} is not an identifier (type--uuid)")),
    }
}

fn check_external_references(c: &mut Checker, object: &Object, path: &str) {
    let Some(value) = object.get("external_references") else { return };
    let Some(items) = value.as_array() else {
        c.error(&format!("{path}.external_references"), "must be a list");
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let here = format!("{path}.external_references[{i}]");
        if !item.get("source_name").is_some_and(Value::is_string) {
            c.error(&format!("{here}.source_name"), "is required");
        }
        if !["description", "url", "external_id"].iter().any(|k| item.get(k).is_some()) {
            c.error(&here, "needs a description, url or external_id");
        }
    }
}

fn check_kill_chain(c: &mut Checker, object: &Object, path: &str) {
    let Some(items) = object.get("kill_chain_phases").and_then(Value::as_array) else { return };
    for (i, item) in items.iter().enumerate() {
        for name in ["kill_chain_name", "phase_name"] {
            if !item.get(name).is_some_and(Value::is_string) {
                c.error(&format!("{path}.kill_chain_phases[{i}].{name}"), "is required");
            }
        }
    }
}

fn check_granular_markings(c: &mut Checker, object: &Object, path: &str) {
    let Some(items) = object.get("granular_markings").and_then(Value::as_array) else { return };
    for (i, item) in items.iter().enumerate() {
        let here = format!("{path}.granular_markings[{i}]");
        if item.get("selectors").and_then(Value::as_array).is_none_or(|s| s.is_empty()) {
            c.error(&format!("{here}.selectors"), "must be a non-empty list");
        }
        if item.get("marking_ref").is_none() == item.get("lang").is_none() {
            c.error(&here, "needs exactly one of marking_ref and lang");
        }
    }
}

fn ordered(c: &mut Checker, object: &Object, path: &str, first: &str, second: &str, strictly: bool) {
    let get = |name: &str| object.get(name).and_then(Value::as_str).and_then(timestamp);
    if let (Some(a), Some(b)) = (get(first), get(second))
        && (b < a || (strictly && b == a))
    {
        c.error(&format!("{path}.{second}"), format!("must be {} {first}", if strictly { "after" } else { "at or after" }));
    }
}

/// Types a relationship or sighting may not point at.
const NOT_RELATABLE: [&str; 6] = ["relationship", "sighting", "marking-definition", "language-content", "extension-definition", "bundle"];

fn check_by_type(c: &mut Checker, object: &Object, path: &str) {
    let at = |name: &str| format!("{path}.{name}");
    let ref_type = |name: &str| object.get(name).and_then(Value::as_str).and_then(identifier_type);
    match object.kind.as_str() {
        "relationship" => {
            if let Some(kind) = object.get("relationship_type").and_then(Value::as_str)
                && (kind.is_empty() || !kind.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'))
            {
                c.error(&at("relationship_type"), "uses only a-z, 0-9 and hyphens");
            }
            for name in ["source_ref", "target_ref"] {
                if ref_type(name).is_some_and(|t| NOT_RELATABLE.contains(&t)) {
                    c.error(&at(name), "must point at a domain or cyber-observable object");
                }
            }
            ordered(c, object, path, "start_time", "stop_time", true);
        }
        "sighting" => {
            if ref_type("sighting_of_ref").is_some_and(|t| category(t) != Category::Domain && category(t) != Category::Custom) {
                c.error(&at("sighting_of_ref"), "must point at a domain object");
            }
            if let Some(count) = object.get("count")
                && count.as_u64().is_none_or(|v| v > 999_999_999)
            {
                c.error(&at("count"), "must be an integer from 0 to 999999999");
            }
            ordered(c, object, path, "first_seen", "last_seen", false);
        }
        "indicator" => {
            time_property(c, object, path, "valid_from", false);
            ordered(c, object, path, "valid_from", "valid_until", true);
            let is_stix = object.get("pattern_type").and_then(Value::as_str) == Some("stix");
            match object.get("pattern").and_then(Value::as_str) {
                Some(p) if p.trim().is_empty() => c.error(&at("pattern"), "is empty"),
                Some(p) if is_stix => {
                    if let Err(err) = crate::pattern::parse(p) {
                        c.error(&at("pattern"), err.to_string());
                    }
                }
                _ => {}
            }
        }
        "observed-data" => {
            if object.get("number_observed").and_then(Value::as_u64).is_none_or(|n| !(1..=999_999_999).contains(&n)) {
                c.error(&at("number_observed"), "must be an integer from 1 to 999999999");
            }
            ordered(c, object, path, "first_observed", "last_observed", false);
            if object.get("objects").is_some() == object.get("object_refs").is_some() {
                c.error(path, "needs exactly one of objects (deprecated) and object_refs");
            }
        }
        "malware" => {
            if object.get("is_family").is_some_and(|v| !v.is_boolean()) {
                c.error(&at("is_family"), "must be true or false");
            }
            if object.get("is_family") == Some(&Value::Bool(true)) && object.get("name").is_none() {
                c.error(&at("name"), "is required when is_family is true");
            }
        }
        "location" => {
            let has = |name: &str| object.get(name).is_some();
            if !(has("region") || has("country") || (has("latitude") && has("longitude"))) {
                c.error(path, "a location needs a region, a country, or a latitude and longitude");
            }
            for (name, limit) in [("latitude", 90.0), ("longitude", 180.0)] {
                if let Some(value) = object.get(name)
                    && value.as_f64().is_none_or(|v| v.abs() > limit)
                {
                    c.error(&at(name), format!("must be a number from -{limit} to {limit}"));
                }
            }
        }
        "malware-analysis" if object.get("result").is_none() && object.get("analysis_sco_refs").is_none() => {
            c.error(path, "needs a result or analysis_sco_refs");
        }
        "marking-definition" => match object.get("definition_type").and_then(Value::as_str) {
            Some("tlp") => {
                let level = object.get("definition").and_then(|d| d.get("tlp")).and_then(Value::as_str);
                if level.is_none_or(|l| !["white", "green", "amber", "red"].contains(&l)) {
                    c.error(&at("definition.tlp"), "must be white, green, amber or red");
                }
            }
            Some(_) => {
                if object.get("definition").is_none() {
                    c.error(&at("definition"), "is required with definition_type");
                }
            }
            None => {
                if object.get("extensions").is_none() {
                    c.error(path, "a marking definition needs definition_type and definition, or extensions");
                }
            }
        },
        _ => {}
    }
}
