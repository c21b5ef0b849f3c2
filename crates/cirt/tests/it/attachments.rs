//! Evidence files on incidents: hashed, size-limited, named safely, and
//! readable only by the incident's handlers.

use crate::support::{actor, assert_invalid, assert_not_found, each_backend};
use rampart_cirt::desk::{MAX_ATTACHMENT_BYTES, safe_filename};

const EXPECTED_SHA256: &str = "4aea72c4a47d05976bcb7ac9adea5467a1dc2cdb798b1fe81892d32592645287";

#[tokio::test]
async fn files_are_stored_with_their_hash_for_handlers_only() {
    each_backend(|env| async move {
        let incident = env.create("Evidence", |_| {}).await;
        let content = b"2026-03-01 03:10:00 sshd: failed password for root from 192.0.2.44\n";
        let row = env.desk.add_attachment(&actor(&env.w.analyst), &incident.id, "../../etc/auth.log", content).await.expect("attached");
        assert_eq!(row.filename, "auth.log", "no path survives");
        assert_eq!(row.size, content.len() as i64);
        // Independently computed: `printf '…' | sha256sum`.
        assert_eq!(row.sha256, EXPECTED_SHA256);
        let (found, bytes) = env.desk.attachment(&env.w.analyst, &incident.id, &row.id).await.expect("read back");
        assert_eq!(bytes, content);
        assert_eq!(found.sha256, row.sha256);
        let view = env.desk.view(&env.w.analyst, &incident.id).await.unwrap();
        assert_eq!(view.attachments.len(), 1);
        assert!(view.timeline.iter().any(|e| e.kind == "attachment" && e.detail.contains(&row.sha256)));
        // The affected constituent sees the incident but not the evidence.
        assert_not_found(env.desk.attachment(&env.w.isp_user, &incident.id, &row.id).await, "attachment");
        assert!(env.desk.view(&env.w.isp_user, &incident.id).await.unwrap().attachments.is_empty());
        assert_not_found(env.desk.attachment(&env.w.br_analyst, &incident.id, &row.id).await, "incident");
    })
    .await;
}

#[tokio::test]
async fn empty_and_oversized_files_are_refused() {
    each_backend(|env| async move {
        let incident = env.create("Too big", |_| {}).await;
        assert_invalid(env.desk.add_attachment(&actor(&env.w.analyst), &incident.id, "x", b"").await, "file");
        let big = vec![0_u8; MAX_ATTACHMENT_BYTES + 1];
        assert_invalid(env.desk.add_attachment(&actor(&env.w.analyst), &incident.id, "x", &big).await, "file");
        assert!(env.desk.view(&env.w.analyst, &incident.id).await.unwrap().attachments.is_empty());
        assert!(env.desk.add_attachment(&actor(&env.w.isp_user), &incident.id, "x", b"data").await.is_err(), "constituents cannot attach");
    })
    .await;
}

#[test]
fn file_names_are_made_safe() {
    assert_eq!(safe_filename("C:\\Users\\me\\evil.html"), "evil.html");
    assert_eq!(safe_filename("..."), "attachment");
    assert_eq!(safe_filename("a\"b\u{0}c.txt"), "abc.txt");
    assert_eq!(safe_filename(""), "attachment");
    assert_eq!(safe_filename(&"x".repeat(500)).len(), 200);
}
