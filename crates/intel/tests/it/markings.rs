use rampart_core::Tlp;
use rampart_intel::markings::{self, marking_definition, marking_id, object_tlp, tlp_of};
use rampart_intel::stix::{self, Severity};
use serde_json::json;

#[test]
fn tlp_markings_of_both_versions_map_to_rampart_tlp() {
    assert_eq!(tlp_of("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"), Some(Tlp::Clear), "TLP 1.0 WHITE reads as CLEAR");
    assert_eq!(tlp_of("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"), Some(Tlp::Amber));
    assert_eq!(tlp_of("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"), Some(Tlp::AmberStrict));
    assert_eq!(tlp_of("marking-definition--11111111-2222-4333-8444-555555555555"), None);
    for tlp in [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red] {
        assert_eq!(tlp_of(marking_id(tlp)), Some(tlp));
        let definition = marking_definition(tlp);
        assert_eq!(definition["id"], marking_id(tlp));
        assert!(definition["extensions"][markings::TLP2_EXTENSION]["tlp_2_0"].is_string());
        let content = stix::parse(&definition.to_string()).unwrap();
        let errors: Vec<_> = stix::validate(&content).into_iter().filter(|p| p.severity == Severity::Error).collect();
        assert!(errors.is_empty(), "{tlp:?}: {errors:?}");
    }
}

#[test]
fn an_object_takes_its_strictest_tlp_marking() {
    let object = json!({
        "type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix", "valid_from": "2016-01-01T00:00:00Z",
        "object_marking_refs": [
            "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
            "marking-definition--11111111-2222-4333-8444-555555555555"
        ]
    });
    let parsed = stix::Object::from_value(object, "$").unwrap();
    assert_eq!(object_tlp(&parsed), Some(Tlp::Red));
    let unmarked =
        stix::Object::from_value(json!({"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"}), "$").unwrap();
    assert_eq!(object_tlp(&unmarked), None);
}
