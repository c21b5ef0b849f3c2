use rampart_intel::IntelError;
use rampart_intel::misp::event_to_stix;
use rampart_intel::stix::{self, Severity};
use serde_json::{Value, json};

fn event() -> Value {
    json!({"Event": {
        "uuid": "5e6b3a2c-1d4f-4c8e-9a7b-2f1e0d9c8b7a", "info": "Phishing kit hosting C2 (demo)", "date": "2026-11-20",
        "threat_level_id": "2", "analysis": "1", "distribution": "1", "timestamp": "1795000000",
        "Tag": [{"name": "tlp:amber"}, {"name": "rsit:malicious-code=\"c2-server\""}],
        "Galaxy": [{"GalaxyCluster": [{"tag_name": "misp-galaxy:threat-actor=\"Demo Panda\""}]}],
        "Attribute": [
            {"uuid": "a1b2c3d4-0000-4000-8000-000000000001", "type": "ip-dst", "category": "Network activity", "value": "198.51.100.7", "to_ids": true, "comment": "C2 server", "timestamp": "1795000100"},
            {"uuid": "a1b2c3d4-0000-4000-8000-000000000002", "type": "domain", "category": "Network activity", "value": "login-example.test", "to_ids": false},
            {"uuid": "a1b2c3d4-0000-4000-8000-000000000003", "type": "sha256", "category": "Payload delivery", "value": "AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F", "to_ids": "1", "Tag": [{"name": "tlp:red"}]},
            {"uuid": "a1b2c3d4-0000-4000-8000-000000000004", "type": "regkey", "category": "Persistence mechanism", "value": "HKLM\\Software\\Run\\x", "to_ids": false},
            {"uuid": "a1b2c3d4-0000-4000-8000-000000000005", "type": "url", "value": "https://login-example.test/it's", "to_ids": true}
        ],
        "Object": [{"name": "domain-ip", "uuid": "b1b2c3d4-0000-4000-8000-000000000001", "Attribute": [
            {"uuid": "a1b2c3d4-0000-4000-8000-000000000006", "type": "domain", "value": "login-example.test", "to_ids": false},
            {"uuid": "a1b2c3d4-0000-4000-8000-000000000007", "type": "AS", "value": "AS64500", "to_ids": false}
        ]}]
    }})
}

#[test]
fn a_misp_event_becomes_a_valid_stix_bundle() {
    let import = event_to_stix(&event().to_string()).unwrap();
    let content = stix::parse(&import.bundle.to_string()).unwrap();
    let errors: Vec<_> = stix::validate(&content).into_iter().filter(|p| p.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "{errors:?}\n{}", import.bundle);
    assert_eq!(import.warnings.len(), 1, "{:?}", import.warnings);
    assert!(import.warnings[0].starts_with("Event.Attribute[3]: type \"regkey\""));
    let objects = content.objects();
    let kinds: Vec<&str> = objects.iter().map(|o| o.kind.as_str()).collect();
    // report, ip indicator, domain (once, though twice in the event), hash indicator, url indicator, AS, two markings
    assert_eq!(
        kinds,
        ["report", "indicator", "domain-name", "indicator", "indicator", "autonomous-system", "marking-definition", "marking-definition"]
    );
    let report = objects[0];
    assert_eq!(report.id, "report--5e6b3a2c-1d4f-4c8e-9a7b-2f1e0d9c8b7a", "the MISP uuid is kept");
    assert_eq!(report.get("object_refs").and_then(Value::as_array).map(Vec::len), Some(5));
    assert_eq!(report.get("labels").unwrap(), &json!(["rsit:malicious-code=\"c2-server\"", "misp-galaxy:threat-actor=\"Demo Panda\""]));
    let ip = objects[1];
    assert_eq!(ip.get("pattern").unwrap(), "[ipv4-addr:value = '198.51.100.7']");
    assert_eq!(ip.get("description").unwrap(), "C2 server");
    assert_eq!(
        ip.get("object_marking_refs").unwrap(),
        &json!(["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]),
        "the event's TLP:AMBER"
    );
    let hash = objects[3];
    assert_eq!(
        hash.get("pattern").unwrap(),
        "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"
    );
    assert_eq!(
        hash.get("object_marking_refs").unwrap(),
        &json!(["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]),
        "the attribute's stricter TLP:RED"
    );
    assert_eq!(objects[4].get("pattern").unwrap(), "[url:value = 'https://login-example.test/it\\'s']", "quotes escaped in patterns");
    // The same value gets the same observable id from any event.
    let again = event_to_stix(&event().to_string()).unwrap();
    assert_eq!(again.bundle["objects"][2]["id"], import.bundle["objects"][2]["id"]);
}

#[test]
fn a_bad_event_is_refused_by_path() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/Event/Attribute/0/value", json!("300.1.2.3"), "Event.Attribute[0].value"),
        ("/Event/Attribute/2/value", json!("abcd"), "Event.Attribute[2].value"),
        ("/Event/Attribute/1/uuid", json!("not-a-uuid"), "Event.Attribute[1].uuid"),
        ("/Event/threat_level_id", json!("7"), "Event.threat_level_id"),
        ("/Event/date", json!("20/11/2026"), "Event.date"),
        ("/Event/info", json!("  "), "Event.info"),
        ("/Event/Object/0/Attribute/1/value", json!("ASX"), "Event.Object[0].Attribute[1].value"),
    ];
    for (pointer, value, path) in cases {
        let mut broken = event();
        *broken.pointer_mut(pointer).unwrap() = value;
        match event_to_stix(&broken.to_string()) {
            Err(IntelError::Invalid { path: got, .. }) => assert_eq!(got, path, "{pointer}"),
            other => panic!("{pointer}: {other:?}"),
        }
    }
    assert!(matches!(event_to_stix("{\"Event\": "), Err(IntelError::Syntax { .. })));
}
