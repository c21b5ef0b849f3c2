//! CSAF 2.0 conformance against the OASIS corpus in `../shared/corpora`:
//! the real advisories validate and round-trip; for every mandatory test
//! implemented, each failing case is caught and each valid case passes.

use rampart_cirt::csaf::{MANDATORY_TESTS, check};
use serde_json::Value;
use std::path::PathBuf;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/csaf2.0/csaf_2.0")
}

fn load(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn the_real_advisories_validate_and_round_trip() {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["examples/csaf", "examples/csaf/csaf_vex"] {
        for entry in std::fs::read_dir(corpus().join(dir)).expect("corpus present") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 6, "corpus examples found: {files:?}");
    for path in files {
        let document = load(&path);
        let problems = check(&document);
        assert!(problems.is_empty(), "{}: {problems:#?}", path.display());
        let again: Value = serde_json::from_str(&serde_json::to_string_pretty(&document).expect("serialise")).expect("parse");
        assert_eq!(again, document, "{} round-trips", path.display());
    }
}

#[test]
fn every_implemented_mandatory_test_passes_the_oasis_cases() {
    let cases = load(&corpus().join("test/validator/data/testcases.json"));
    let mut checked = 0;
    for test in cases["tests"].as_array().expect("tests") {
        let id = test["id"].as_str().expect("id");
        if !MANDATORY_TESTS.contains(&id) {
            continue;
        }
        for case in test["failures"].as_array().into_iter().flatten() {
            let name = case["name"].as_str().expect("name");
            let problems = check(&load(&corpus().join("test/validator/data").join(name)));
            assert!(problems.iter().any(|p| p.test == id), "{id}: {name} must fail: {problems:#?}");
            checked += 1;
        }
        for case in test["valid"].as_array().into_iter().flatten() {
            let name = case["name"].as_str().expect("name");
            let problems = check(&load(&corpus().join("test/validator/data").join(name)));
            assert!(!problems.iter().any(|p| p.test == id), "{id}: {name} must pass: {problems:#?}");
            checked += 1;
        }
    }
    assert!(checked >= MANDATORY_TESTS.len() * 2, "cases checked: {checked}");
}

#[test]
fn a_broken_document_is_reported_by_path() {
    let problems = check(&serde_json::json!({"document": {"category": "csaf_base"}}));
    assert!(problems.iter().any(|p| p.test == "schema"), "{problems:#?}");
    assert!(!check(&Value::Null).is_empty());
}
