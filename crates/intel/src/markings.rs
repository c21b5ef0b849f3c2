//! TLP markings in STIX: the TLP 1.0 marking definitions the STIX 2.1
//! specification defines and the TLP 2.0 ones of the OASIS TLP 2.0
//! extension, both mapped to Rampart's TLP. Rampart writes TLP 2.0 and
//! reads both (TLP:WHITE reads as CLEAR).

use crate::stix::Object;
use rampart_core::Tlp;
use serde_json::{Value, json};

/// (marking-definition id, TLP, the definition's name, TLP version)
const MARKINGS: [(&str, Tlp, &str, u8); 9] = [
    ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", Tlp::Clear, "TLP:WHITE", 1),
    ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", Tlp::Green, "TLP:GREEN", 1),
    ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", Tlp::Amber, "TLP:AMBER", 1),
    ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", Tlp::Red, "TLP:RED", 1),
    ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", Tlp::Clear, "TLP:CLEAR", 2),
    ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", Tlp::Green, "TLP:GREEN", 2),
    ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", Tlp::Amber, "TLP:AMBER", 2),
    ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", Tlp::AmberStrict, "TLP:AMBER+STRICT", 2),
    ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", Tlp::Red, "TLP:RED", 2),
];

/// The OASIS TLP 2.0 extension that the TLP 2.0 marking definitions use.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The TLP a marking definition id stands for, if it is a TLP marking.
pub fn tlp_of(marking_id: &str) -> Option<Tlp> {
    MARKINGS.iter().find(|(id, ..)| *id == marking_id).map(|(_, tlp, ..)| *tlp)
}

/// The TLP 2.0 marking definition id Rampart writes for `tlp`.
pub fn marking_id(tlp: Tlp) -> &'static str {
    MARKINGS.iter().find(|(_, t, _, version)| *t == tlp && *version == 2).map(|(id, ..)| *id).unwrap_or(MARKINGS[8].0)
}

/// The TLP 2.0 marking definition object for `tlp`, as the extension defines it.
pub fn marking_definition(tlp: Tlp) -> Value {
    let (id, _, name, _) = MARKINGS.iter().find(|(_, t, _, version)| *t == tlp && *version == 2).copied().unwrap_or(MARKINGS[8]);
    let level = name.trim_start_matches("TLP:").to_ascii_lowercase();
    json!({
        "type": "marking-definition", "spec_version": "2.1", "id": id,
        "created": "2022-10-01T00:00:00.000Z", "name": name,
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}}
    })
}

/// The TLP of an object: the strictest TLP among its object markings;
/// `None` when it carries none (the caller decides the default).
pub fn object_tlp(object: &Object) -> Option<Tlp> {
    object.get("object_marking_refs").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).filter_map(tlp_of).max()
}
