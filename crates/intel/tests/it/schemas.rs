//! What Rampart emits as STIX validates against the official STIX 2.1 JSON
//! schemas of the shared corpus: the bundles made from MISP events (report,
//! indicators, observables, TLP 2.0 marking definitions) and every TLP
//! marking definition it writes.

use jsonschema::{Retrieve, Uri, Validator};
use rampart_core::Tlp;
use rampart_intel::markings::marking_definition;
use rampart_intel::misp::event_to_stix;
use serde_json::Value;
use std::path::PathBuf;

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/stix2.1/schemas")
}

/// Serves the schemas' references to each other from the corpus copies
/// (their `$id`s all end in `/schemas/<folder>/<file>`).
struct Corpus;

impl Retrieve for Corpus {
    fn retrieve(&self, uri: &Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let relative = uri.as_str().split("/schemas/").nth(1).ok_or_else(|| format!("not a STIX schema: {}", uri.as_str()))?;
        let text = std::fs::read_to_string(schema_dir().join(relative.split('#').next().unwrap_or(relative)))?;
        Ok(serde_json::from_str(&text)?)
    }
}

fn validator(relative: &str) -> Validator {
    let text = std::fs::read_to_string(schema_dir().join(relative)).unwrap_or_else(|err| panic!("{relative}: {err}"));
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::options().with_retriever(Corpus).build(&schema).unwrap_or_else(|err| panic!("{relative}: {err}"))
}

fn schema_for(object: &Value) -> String {
    let kind = object["type"].as_str().unwrap();
    match kind {
        "marking-definition" => "common/marking-definition.json".into(),
        "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" | "email-addr" | "file" | "autonomous-system" | "mutex" | "mac-addr" => {
            format!("observables/{kind}.json")
        }
        _ => format!("sdos/{kind}.json"),
    }
}

fn assert_valid(object: &Value) {
    let relative = schema_for(object);
    let errors: Vec<String> = validator(&relative).iter_errors(object).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{relative} refuses {object}:\n{}", errors.join("\n"));
}

#[test]
fn stix_made_from_misp_events_validates_against_the_official_schemas() {
    let import = event_to_stix(&super::misp::event().to_string()).unwrap();
    let bundle = &import.bundle;
    let errors: Vec<String> = validator("common/bundle.json").iter_errors(bundle).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let objects = bundle["objects"].as_array().unwrap();
    assert!(objects.len() >= 6);
    for object in objects {
        assert_valid(object);
    }
}

#[test]
fn every_tlp_marking_definition_written_validates() {
    for tlp in [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red] {
        assert_valid(&marking_definition(tlp));
    }
}

#[test]
fn the_schemas_do_refuse_what_is_wrong() {
    // A check that cannot fail proves nothing: a broken indicator is refused.
    let import = event_to_stix(&super::misp::event().to_string()).unwrap();
    let mut indicator = import.bundle["objects"].as_array().unwrap().iter().find(|o| o["type"] == "indicator").unwrap().clone();
    indicator["created"] = Value::from("yesterday");
    assert!(validator("sdos/indicator.json").iter_errors(&indicator).next().is_some());
}
