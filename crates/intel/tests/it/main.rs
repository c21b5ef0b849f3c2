//! STIX 2.1: every example in the shared corpus reads, checks clean and
//! round-trips without loss; documents that break a rule are named by
//! path; hostile input is refused without a panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod indicators;
mod markings;
mod misp;
mod pattern;
mod schemas;
mod taxii;

use rampart_intel::IntelError;
use rampart_intel::stix::{self, Content, Severity};
use serde_json::{Value, json};
use std::path::PathBuf;

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/stix2.1/examples");
    let mut files = Vec::new();
    for sub in [dir.clone(), dir.join("threat-reports")] {
        for entry in std::fs::read_dir(&sub).unwrap_or_else(|err| panic!("{}: {err}", sub.display())) {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_corpus_example_reads_checks_clean_and_round_trips() {
    let files = examples();
    assert!(files.len() >= 8, "{files:?}");
    let mut objects = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let content = stix::parse(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        let errors: Vec<_> = stix::validate(&content).into_iter().filter(|p| p.severity == Severity::Error).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        let original: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(content.to_value(), original, "{} round-trips", path.display());
        objects += content.objects().len();
    }
    assert!(objects > 250, "the corpus holds {objects} objects");
}

fn bundle(object: Value) -> String {
    json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [object]}).to_string()
}

fn indicator() -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix", "valid_from": "2016-01-01T00:00:00Z",
        "x_rampart_feed": "demo"
    })
}

fn errors_of(object: Value) -> Vec<(String, String)> {
    let content = stix::parse(&bundle(object)).unwrap();
    stix::validate(&content).into_iter().filter(|p| p.severity == Severity::Error).map(|p| (p.path, p.message)).collect()
}

#[test]
fn each_broken_rule_is_named_by_path() {
    assert!(errors_of(indicator()).is_empty(), "the base indicator is valid, custom property included");
    let cases: Vec<(&str, Value, &str)> = vec![
        ("id", json!("indicator--not-a-uuid"), "objects[0].id"),
        ("id", json!("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), "objects[0].id"),
        ("spec_version", json!("2.0"), "objects[0].spec_version"),
        ("created", json!("2016-04-06 20:03:48"), "objects[0].created"),
        ("modified", json!("2016-04-06T20:03:47.000Z"), "objects[0].modified"),
        ("created_by_ref", json!("ACME"), "objects[0].created_by_ref"),
        ("object_marking_refs", json!(["identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]), "objects[0].object_marking_refs[0]"),
        ("confidence", json!(150), "objects[0].confidence"),
        ("valid_until", json!("2015-01-01T00:00:00Z"), "objects[0].valid_until"),
        ("external_references", json!([{"source_name": "cve"}]), "objects[0].external_references[0]"),
        ("kill_chain_phases", json!([{"kill_chain_name": "lockheed"}]), "objects[0].kill_chain_phases[0].phase_name"),
        ("bad-name!", json!(1), "objects[0].bad-name!"),
        ("pattern", json!("[ipv4-addr:value = ]"), "objects[0].pattern"),
    ];
    for (property, value, path) in cases {
        let mut object = indicator();
        object[property] = value;
        let errors = errors_of(object);
        assert!(errors.iter().any(|(p, _)| p == path), "{property}: {errors:?}");
    }
    let mut missing = indicator();
    missing.as_object_mut().unwrap().remove("pattern");
    assert_eq!(errors_of(missing), [("objects[0].pattern".to_owned(), "is required".to_owned())]);
}

#[test]
fn relationships_sightings_and_markings_follow_their_rules() {
    let relationship = json!({
        "type": "relationship", "spec_version": "2.1", "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
        "created": "2016-04-06T20:06:37.000Z", "modified": "2016-04-06T20:06:37.000Z", "relationship_type": "Indicates",
        "source_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "target_ref": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
    });
    let paths: Vec<String> = errors_of(relationship).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["objects[0].relationship_type", "objects[0].target_ref"]);
    let sighting = json!({
        "type": "sighting", "spec_version": "2.1", "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
        "created": "2016-04-06T20:06:37.000Z", "modified": "2016-04-06T20:06:37.000Z",
        "sighting_of_ref": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "count": -1
    });
    let paths: Vec<String> = errors_of(sighting).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["objects[0].sighting_of_ref", "objects[0].count"]);
    let tlp = json!({
        "type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:AMBER", "definition": {"tlp": "amber"}
    });
    assert!(errors_of(tlp.clone()).is_empty(), "the TLP 1.0 AMBER marking the specification defines");
    let mut wrong = tlp;
    wrong["definition"] = json!({"tlp": "purple"});
    assert_eq!(errors_of(wrong)[0].0, "objects[0].definition.tlp");
    let observable = json!({"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3"});
    assert!(errors_of(observable).is_empty(), "an observable needs neither spec_version nor timestamps");
    let vocabulary = json!({"type": "identity", "spec_version": "2.1", "id": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "name": "ACME", "identity_class": "company"});
    let problems = stix::validate(&stix::parse(&bundle(vocabulary)).unwrap());
    assert_eq!(problems.len(), 1);
    assert_eq!((problems[0].severity, problems[0].path.as_str()), (Severity::Warning, "objects[0].identity_class"));
}

#[test]
fn hostile_or_malformed_documents_are_refused_with_a_place() {
    match stix::parse("{\n  \"type\": \"bundle\",\n  \"id\": }") {
        Err(IntelError::Syntax { line, .. }) => assert_eq!(line, 3),
        other => panic!("{other:?}"),
    }
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(
        matches!(stix::parse(&deep), Err(IntelError::Syntax { .. })),
        "nesting beyond the parser's limit is an error, not a stack overflow"
    );
    let not_object = r#"{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [42]}"#;
    assert!(matches!(stix::parse(not_object), Err(IntelError::Invalid { path, .. }) if path == "objects[0]"));
    let no_id = r#"{"type": "indicator"}"#;
    assert!(matches!(stix::parse(no_id), Err(IntelError::Invalid { path, .. }) if path == "$.id"));
    let huge = " ".repeat(stix::MAX_DOCUMENT_BYTES + 1);
    assert!(matches!(stix::parse(&huge), Err(IntelError::TooLarge { .. })));
    let bad_bundle = r#"{"type": "bundle", "id": "bundle--1", "spec_version": "2.0", "objects": []}"#;
    let problems = stix::validate(&stix::parse(bad_bundle).unwrap());
    assert_eq!(
        problems.iter().map(|p| (p.severity, p.path.as_str())).collect::<Vec<_>>(),
        [(Severity::Error, "$.id"), (Severity::Warning, "$.spec_version")]
    );
    assert!(matches!(stix::parse(&indicator().to_string()).unwrap(), Content::Object(_)));
}
