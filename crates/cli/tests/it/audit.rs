//! `audit verify`: exit 0 on an untouched chain, 5 naming the first entry
//! an attacker with write access to the database changed.

use crate::support::Sandbox;
use rampart_store::{AuditFilter, PageRequest};
use serde_json::json;

/// Four audit entries: an organisation, a user, a role grant, a user.
fn populated() -> Sandbox {
    let sandbox = Sandbox::migrated();
    sandbox.run(&["org", "create", "--name", "KE-CIRT", "--kind", "national_cirt", "--country", "KE"]).ok();
    let password = "a long enough password";
    sandbox
        .run(&[
            "user",
            "create",
            "--email",
            "a@ke.example",
            "--name",
            "A",
            "--org",
            "KE-CIRT",
            "--password",
            password,
            "--role",
            "cirt_analyst",
        ])
        .ok();
    sandbox.run(&["user", "create", "--email", "b@ke.example", "--name", "B", "--org", "KE-CIRT", "--password", password]).ok();
    sandbox
}

/// The head hash from `OK: N entries, head HASH`, checking the rest.
fn verified_head(run: &crate::support::Run, entries: u32) -> String {
    run.ok();
    assert_eq!(run.stderr, "");
    let prefix = format!("OK: {entries} entries, head ");
    let head = run.stdout.strip_prefix(&prefix).and_then(|rest| rest.strip_suffix('\n')).unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!(head.len(), 64, "{head}");
    assert!(head.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{head}");
    head.to_owned()
}

#[test]
fn an_untouched_chain_verifies() {
    let sandbox = populated();
    let run = sandbox.run(&["audit", "verify"]);
    let head = verified_head(&run, 4);
    let json = sandbox.run(&["audit", "verify", "--json"]);
    json.ok();
    assert_eq!(json.json(), json!({"entries": 4, "head_hash": head, "problem": null}));

    // A new entry moves the head.
    sandbox.run(&["user", "disable", "b@ke.example"]).ok();
    let after = verified_head(&sandbox.run(&["audit", "verify"]), 5);
    assert_ne!(after, head);
}

#[test]
fn a_fresh_database_has_an_empty_valid_chain() {
    let sandbox = Sandbox::migrated();
    let run = sandbox.run(&["audit", "verify"]);
    let head = verified_head(&run, 0);
    assert_eq!(head, "0".repeat(64));
}

#[test]
fn an_edited_entry_is_named() {
    let sandbox = populated();
    verified_head(&sandbox.run(&["audit", "verify"]), 4);
    let changed = sandbox.execute_sql(&sandbox.db, "UPDATE audit_log SET actor_label = 'x' WHERE seq = 3");
    assert_eq!(changed, 1);

    let run = sandbox.run(&["audit", "verify"]);
    run.expect_code(5);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "error: audit chain broken: entry 3 was edited: its content does not match its hash\n");

    let json = sandbox.run(&["audit", "verify", "--json"]);
    json.expect_code(5);
    let report = json.json();
    assert_eq!(report["entries"], 2);
    assert_eq!(report["problem"], json!({"problem": "edited", "seq": 3}));
    assert_eq!(json.stderr, "error: audit chain broken: entry 3 was edited: its content does not match its hash\n");
}

#[test]
fn an_overwritten_hash_is_noticed() {
    let sandbox = populated();
    sandbox.execute_sql(&sandbox.db, "UPDATE audit_log SET hash = prev_hash WHERE seq = 2");
    let run = sandbox.run(&["audit", "verify"]);
    run.expect_code(5);
    assert_eq!(run.stderr, "error: audit chain broken: entry 2 was edited: its content does not match its hash\n");
}

#[test]
fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
    let sandbox = populated();
    // The attacker edits entry 3 and recomputes its hash, as they can: the
    // hash is unkeyed. Entry 4 still points at the old hash.
    let forged = sandbox.with_store(&sandbox.db, async |store| {
        let page = store.audit_list(&AuditFilter::default(), &PageRequest::first(100)).await.expect("audit list");
        let mut record = page.items.into_iter().find(|r| r.seq == 3).expect("entry 3");
        record.actor_label = "someone else".into();
        record.hash = record.compute_hash();
        record.hash
    });
    let changed =
        sandbox.execute_sql(&sandbox.db, &format!("UPDATE audit_log SET actor_label = 'someone else', hash = '{forged}' WHERE seq = 3"));
    assert_eq!(changed, 1);
    let run = sandbox.run(&["audit", "verify"]);
    run.expect_code(5);
    assert_eq!(run.stderr, "error: audit chain broken: entry 4 does not follow the entry before it: entries were inserted or reordered\n");
}

#[test]
fn a_deleted_entry_is_named() {
    let sandbox = populated();
    assert_eq!(sandbox.execute_sql(&sandbox.db, "DELETE FROM audit_log WHERE seq = 2"), 1);
    let run = sandbox.run(&["audit", "verify"]);
    run.expect_code(5);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "error: audit chain broken: entry 2 is missing: it was deleted\n");
    assert!(run.stderr.contains("deleted") && run.stderr.contains("missing"));
}

#[test]
fn a_deleted_tail_is_noticed() {
    let sandbox = populated();
    assert_eq!(sandbox.execute_sql(&sandbox.db, "DELETE FROM audit_log WHERE seq = 4"), 1);
    let run = sandbox.run(&["audit", "verify"]);
    run.expect_code(5);
    assert_eq!(run.stderr, "error: audit chain broken: the log ends at entry 3 but its head records 4: the last entries were deleted\n");
}

#[test]
fn reordered_entries_are_noticed() {
    let sandbox = populated();
    // Swap the contents of entries 2 and 3 (keeping their sequence numbers).
    sandbox.execute_sql(&sandbox.db, "UPDATE audit_log SET seq = 100 WHERE seq = 2");
    sandbox.execute_sql(&sandbox.db, "UPDATE audit_log SET seq = 2 WHERE seq = 3");
    sandbox.execute_sql(&sandbox.db, "UPDATE audit_log SET seq = 3 WHERE seq = 100");
    let run = sandbox.run(&["audit", "verify"]);
    run.expect_code(5);
    assert_eq!(run.stderr, "error: audit chain broken: entry 2 does not follow the entry before it: entries were inserted or reordered\n");
}
