//! Playbooks: the checklist an incident starts with, chosen by its RSIT
//! class and type. The templates are data (`data/playbooks.toml`).

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
struct Playbooks {
    /// By "class/type", by "class", and "default".
    playbook: HashMap<String, Vec<String>>,
}

fn playbooks() -> &'static HashMap<String, Vec<String>> {
    static PLAYBOOKS: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    PLAYBOOKS.get_or_init(|| toml::from_str::<Playbooks>(include_str!("../data/playbooks.toml")).map(|p| p.playbook).unwrap_or_default())
}

/// The tasks for an incident of this classification: the type's own
/// playbook, else the class's, else the default.
pub fn tasks_for(class: &str, kind: &str) -> Vec<String> {
    let books = playbooks();
    books.get(&format!("{class}/{kind}")).or_else(|| books.get(class)).or_else(|| books.get("default")).cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rsit_class_has_a_playbook() {
        assert!(!playbooks().is_empty(), "the playbook file parses");
        for class in crate::rsit::taxonomy() {
            for kind in &class.types {
                assert!(tasks_for(&class.value, &kind.value).len() >= 3, "{}/{}", class.value, kind.value);
            }
        }
        assert_ne!(tasks_for("fraud", "phishing"), tasks_for("other", "other"), "specific playbooks exist");
    }
}
