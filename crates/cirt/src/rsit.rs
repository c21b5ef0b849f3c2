//! The Reference Security Incident Taxonomy (TF-CSIRT/ENISA), read from the
//! working group's machine-tag file shipped in `data/` (CC0). Input accepts
//! IntelMQ's spellings and legacy names; output is always the official form.

use crate::CirtError;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Class {
    pub value: String,
    pub label: String,
    pub types: Vec<Type>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Type {
    pub value: String,
    pub label: String,
    pub description: String,
}

/// A validated (class, type) pair in official spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Classification {
    pub class: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Deserialize)]
struct MachineTag {
    predicates: Vec<Predicate>,
    values: Vec<Values>,
}

#[derive(Deserialize)]
struct Predicate {
    value: String,
    expanded: String,
}

#[derive(Deserialize)]
struct Values {
    predicate: String,
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    value: String,
    expanded: String,
    #[serde(default)]
    description: String,
}

/// Parses a machine-tag file; public so an updated taxonomy can be checked.
pub fn parse(json: &str) -> Result<Vec<Class>, CirtError> {
    let tag: MachineTag = serde_json::from_str(json).map_err(|err| CirtError::Invalid { field: "taxonomy", message: err.to_string() })?;
    let mut classes: Vec<Class> =
        tag.predicates.into_iter().map(|p| Class { value: p.value, label: p.expanded, types: Vec::new() }).collect();
    for values in tag.values {
        let class = classes
            .iter_mut()
            .find(|c| c.value == values.predicate)
            .ok_or_else(|| CirtError::Invalid { field: "taxonomy", message: format!("values for unknown class `{}`", values.predicate) })?;
        class.types.extend(values.entry.into_iter().map(|e| Type { value: e.value, label: e.expanded, description: e.description }));
    }
    Ok(classes)
}

pub fn taxonomy() -> &'static [Class] {
    static TAXONOMY: OnceLock<Vec<Class>> = OnceLock::new();
    // The shipped file is checked by this crate's tests.
    TAXONOMY.get_or_init(|| parse(include_str!("../data/rsit-machinetag.json")).unwrap_or_default())
}

/// IntelMQ and older feeds' names for RSIT types.
fn alias(kind: &str) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        "botnet drone" | "botnet-drone" | "infected system" => ("malicious-code", "infected-system"),
        "c&c" | "c2server" | "c2 server" => ("malicious-code", "c2-server"),
        "leak" => ("information-content-security", "data-leak"),
        "vulnerable service" | "vulnerable-service" => ("vulnerable", "vulnerable-system"),
        // IntelMQ types outside RSIT, which IntelMQ files under class `other`.
        "dga-domain" | "dga domain" => ("other", "other"),
        "blacklist" | "malware" | "proxy" | "tor" => ("other", "other"),
        _ => return None,
    })
}

fn official(text: &str) -> String {
    text.trim().to_ascii_lowercase().replace("unauthorized", "unauthorised")
}

/// Validates a classification; `class` may be empty when the type alone
/// identifies it (every RSIT type name is unique).
pub fn classify(class: &str, kind: &str) -> Result<Classification, CirtError> {
    let kind_official = official(kind);
    if let Some((class_value, type_value)) = alias(&kind_official) {
        return Ok(Classification { class: class_value.into(), kind: type_value.into() });
    }
    let class_official = official(class);
    let classes = taxonomy();
    let found = if class_official.is_empty() {
        classes.iter().find(|c| c.types.iter().any(|t| t.value == kind_official))
    } else {
        let found = classes.iter().find(|c| c.value == class_official);
        if found.is_none() {
            return Err(CirtError::Invalid { field: "class", message: format!("`{class}` is not an RSIT class") });
        }
        found
    };
    let Some(found) = found else {
        return Err(CirtError::Invalid { field: "type", message: format!("`{kind}` is not an RSIT type") });
    };
    if !found.types.iter().any(|t| t.value == kind_official) {
        return Err(CirtError::Invalid { field: "type", message: format!("`{kind}` is not a type of RSIT class `{}`", found.value) });
    }
    Ok(Classification { class: found.value.clone(), kind: kind_official })
}

pub fn class_label(class: &str) -> Option<&'static str> {
    taxonomy().iter().find(|c| c.value == class).map(|c| c.label.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_taxonomy_has_eleven_classes() {
        let classes = taxonomy();
        assert_eq!(classes.len(), 11);
        assert_eq!(classes.iter().map(|c| c.types.len()).sum::<usize>(), 39);
        assert!(classes.iter().all(|c| !c.types.is_empty()), "every class has types");
    }

    #[test]
    fn classifications_validate_and_normalise() {
        let ok = |class: &str, kind: &str, want: (&str, &str)| {
            assert_eq!(classify(class, kind), Ok(Classification { class: want.0.into(), kind: want.1.into() }), "{class}/{kind}");
        };
        ok("malicious-code", "infected-system", ("malicious-code", "infected-system"));
        ok("", "phishing", ("fraud", "phishing"));
        ok("Fraud", "unauthorized-use-of-resources", ("fraud", "unauthorised-use-of-resources"));
        ok("", "botnet drone", ("malicious-code", "infected-system"));
        ok("", "tor", ("other", "other"));
        assert!(matches!(classify("malware", "x"), Err(CirtError::Invalid { field: "class", .. })));
        assert!(matches!(classify("fraud", "spam"), Err(CirtError::Invalid { field: "type", .. })));
        assert!(matches!(classify("", "nonsense"), Err(CirtError::Invalid { field: "type", .. })));
    }

    #[test]
    fn a_broken_taxonomy_file_is_refused() {
        assert!(parse("{").is_err());
        let orphan = r#"{"predicates": [], "values": [{"predicate": "x", "entry": []}]}"#;
        assert!(matches!(parse(orphan), Err(CirtError::Invalid { field: "taxonomy", .. })));
    }
}
