use rampart_intel::IntelError;
use rampart_intel::misp::event_to_stix;
use rampart_intel::stix::{self, Severity};
use serde_json::{Value, json};

pub fn event() -> Value {
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

mod export {
    use rampart_intel::misp::event_to_stix;
    use rampart_intel::misp_export::{Publisher, attributes, events, hashes_csv, manifest};
    use rampart_intel::stix::{self, Object};
    use serde_json::{Value, json};

    fn objects(bundle: &Value) -> Vec<Object> {
        stix::parse(&bundle.to_string()).unwrap().objects().into_iter().cloned().collect()
    }

    fn publisher() -> Publisher {
        Publisher { name: "KE-CIRT".into(), uuid: "0193a3c2-0000-7000-8000-000000000001".into() }
    }

    #[test]
    fn a_misp_event_comes_back_from_stix_as_the_same_event() {
        let import = event_to_stix(&super::event().to_string()).unwrap();
        let events = events(&objects(&import.bundle), "c1", "Collection", &publisher());
        assert_eq!(events.len(), 1, "everything is in the report: {events:?}");
        let event = &events[0]["Event"];
        assert_eq!(event["uuid"], "5e6b3a2c-1d4f-4c8e-9a7b-2f1e0d9c8b7a");
        assert_eq!(event["info"], "Phishing kit hosting C2 (demo)");
        assert_eq!(event["date"], "2026-11-20");
        assert_eq!(event["Orgc"]["name"], "KE-CIRT");
        let tags: Vec<&str> = event["Tag"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        // The strictest TLP of what it holds (the RED hash), then the report's other tags.
        assert_eq!(tags[0], "tlp:red");
        assert!(
            tags.contains(&"rsit:malicious-code=\"c2-server\"") && tags.contains(&"misp-galaxy:threat-actor=\"Demo Panda\""),
            "{tags:?}"
        );
        let mut got: Vec<(String, String, bool)> = event["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["type"].as_str().unwrap().to_owned(), a["value"].as_str().unwrap().to_owned(), a["to_ids"].as_bool().unwrap()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("AS".to_owned(), "64500".to_owned(), false),
                ("domain".to_owned(), "login-example.test".to_owned(), false),
                ("ip-dst".to_owned(), "198.51.100.7".to_owned(), true),
                ("sha256".to_owned(), "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f".to_owned(), true),
                ("url".to_owned(), "https://login-example.test/it's".to_owned(), true),
            ]
        );
        // Indicators keep the MISP attribute's uuid.
        let ip = event["Attribute"].as_array().unwrap().iter().find(|a| a["type"] == "ip-dst").unwrap();
        assert_eq!(ip["uuid"], "a1b2c3d4-0000-4000-8000-000000000001");
        assert_eq!(ip["comment"], "C2 server");

        let manifest = manifest(&events);
        assert_eq!(manifest["5e6b3a2c-1d4f-4c8e-9a7b-2f1e0d9c8b7a"]["info"], "Phishing kit hosting C2 (demo)");
        let csv = hashes_csv(&events);
        assert_eq!(csv.lines().count(), 5);
        // MD5("198.51.100.7"), computed with Python's hashlib.
        assert!(csv.lines().any(|line| line == "526291673f8700ef4e4902e29550a03b,5e6b3a2c-1d4f-4c8e-9a7b-2f1e0d9c8b7a"), "{csv}");
    }

    #[test]
    fn patterns_and_observables_map_to_attribute_types() {
        let indicator = |pattern: &str| {
            Object::from_value(
                json!({"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "pattern": pattern,
                "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z", "labels": ["phishing"]}),
                "o",
            )
            .unwrap()
        };
        let one = attributes(&indicator("[file:hashes.'SHA-256' = 'ab12']"));
        assert_eq!((one[0]["type"].as_str(), one[0]["value"].as_str()), (Some("sha256"), Some("ab12")));
        assert_eq!(one[0]["Tag"], json!([{"name": "phishing"}]));
        let compound = "[ipv4-addr:value = '198.51.100.1' AND ipv4-addr:value = '198.51.100.2']";
        let two = attributes(&indicator(compound));
        assert_eq!((two[0]["type"].as_str(), two[0]["value"].as_str()), (Some("stix2-pattern"), Some(compound)));
        let negated = attributes(&indicator("[domain-name:value != 'example.org']"));
        assert_eq!(negated[0]["type"], "stix2-pattern");
        let file = Object::from_value(
            json!({"type": "file", "id": "file--5a27d487-c542-5f97-a131-a8866b477b46", "name": "invoice.exe",
                "hashes": {"MD5": "D41D8CD98F00B204E9800998ECF8427E", "SHA-256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}),
            "o",
        )
        .unwrap();
        let found = attributes(&file);
        let kinds: Vec<(&str, &str)> = found.iter().map(|a| (a["type"].as_str().unwrap(), a["value"].as_str().unwrap())).collect();
        assert_eq!(
            kinds,
            [
                ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
                ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                ("filename", "invoice.exe")
            ]
        );
        let uuids: std::collections::HashSet<&str> = found.iter().map(|a| a["uuid"].as_str().unwrap()).collect();
        assert_eq!(uuids.len(), 3, "each attribute has its own uuid");
        assert!(found.iter().all(|a| a["to_ids"] == false));
        let malware = Object::from_value(
            json!({"type": "malware", "spec_version": "2.1", "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "x", "is_family": true}),
            "o",
        )
        .unwrap();
        assert!(attributes(&malware).is_empty(), "objects without a MISP attribute form are left out");
    }

    #[test]
    fn objects_in_no_report_make_one_collection_event() {
        let ip = Object::from_value(
            json!({"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3"}),
            "o",
        )
        .unwrap();
        let first = events(std::slice::from_ref(&ip), "collection-1", "Shared indicators", &publisher());
        let second = events(&[ip], "collection-1", "Shared indicators", &publisher());
        assert_eq!(first.len(), 1);
        assert_eq!(first[0]["Event"]["info"], "Shared indicators");
        assert_eq!(first[0]["Event"]["uuid"], second[0]["Event"]["uuid"], "the collection event's uuid is stable");
        assert!(events(&[], "collection-1", "Empty", &publisher()).is_empty(), "no attributes, no event");
    }
}
