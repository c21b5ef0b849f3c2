//! The feed pipeline's page: runs, quarantine and events for CIRT
//! handlers, a constituent's own events for the constituent, exports
//! within TLP, and nothing for anyone else.

use crate::support::{World, body_text};
use axum::http::StatusCode;
use rampart_core::Role;
use rampart_store::AuditEntry;
use rampart_store::feeds::{FeedEventRow, QuarantineRow, RunCounts};

fn event(id: &str, ip: &str, tlp: &str, org: Option<&str>) -> FeedEventRow {
    FeedEventRow {
        id: id.into(),
        feed: "shadowserver".into(),
        event_time: "2026-11-29T10:00:00.000Z".into(),
        observed_at: "2026-11-29T12:00:00.000Z".into(),
        taxonomy: "vulnerable".into(),
        kind: "vulnerable-system".into(),
        identifier: "open-telnet".into(),
        source_ip: Some(ip.into()),
        source_asn: Some(64500),
        source_cc: Some("KE".into()),
        org_id: org.map(str::to_owned),
        tlp: tlp.into(),
        dedup_key: 1,
        body: format!(r#"{{"source.ip":"{ip}","extra.note":"=SUM(A1)"}}"#),
    }
}

#[tokio::test]
async fn handlers_see_runs_quarantine_and_events_and_export_within_tlp() {
    let w = World::on_postgres_if_configured().await;
    let now = w.state.auth().now();
    let bank = w.add_org("Savanna Bank", "critical_infrastructure", "KE", None).await;
    let mut tx = w.store.begin().await.expect("begin");
    tx.feed_events_insert(&[
        event("a1", "198.51.100.7", "AMBER", Some(&bank)),
        event("a2", "203.0.113.9", "GREEN", None),
        event("r1", "192.0.2.66", "RED", None),
    ])
    .await
    .expect("insert");
    let counts = RunCounts { read: 4, parsed: 3, quarantined: 1, stored: 3, ..RunCounts::default() };
    tx.feed_run_add("run-1", "shadowserver", "2026-11-29-scan_telnet-ke-geo.csv", &counts, "2026-11-29T12:00:00.000Z").await.expect("run");
    tx.feed_quarantine_add(&QuarantineRow {
        feed: "shadowserver".into(),
        run_id: "run-1".into(),
        source_name: "2026-11-29-scan_telnet-ke-geo.csv".into(),
        line: 5,
        reason: "ip (source.ip): `not-an-ip` is not an IP address".into(),
        raw: "2026-11-29 10:06:00,not-an-ip,tcp,23".into(),
        received_at: "2026-11-29T12:00:00.000Z".into(),
    })
    .await
    .expect("quarantine");
    tx.audit(
        AuditEntry {
            actor_id: None,
            actor_label: "test".into(),
            actor_org_id: None,
            action: "test.setup".into(),
            entity_type: "feed_run".into(),
            entity_id: None,
            source_ip: None,
            summary: serde_json::json!({}),
        },
        now,
    )
    .await
    .expect("audit");
    tx.commit().await.expect("commit");

    let session = w.sign_in("analyst@ke.example").await;
    let (status, response) = w.get_with_cookie("/cirt/feeds", &session.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let page = body_text(response).await;
    assert!(page.contains("2026-11-29-scan_telnet-ke-geo.csv"), "the run");
    assert!(page.contains("is not an IP address"), "the quarantined row's reason");
    assert!(page.contains("198.51.100.7") && page.contains("Savanna Bank"), "an event with its constituent");
    assert!(!page.contains("192.0.2.66"), "TLP:RED events are not shown");
    let (_, response) = w.get_with_cookie("/cirt/feeds?ip=203.0.113.9", &session.cookie()).await;
    let filtered = body_text(response).await;
    assert!(filtered.contains("203.0.113.9") && !filtered.contains("198.51.100.7"));

    let (status, response) = w.get_with_cookie("/cirt/feeds/events.csv", &session.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let csv = body_text(response).await;
    assert!(csv.starts_with("time.source,feed.name,classification.taxonomy"));
    assert_eq!(csv.lines().count(), 3, "header and two events: {csv}");
    assert!(!csv.contains("192.0.2.66"));
    let (_, response) = w.get_with_cookie("/cirt/feeds/events.jsonl?feed=shadowserver&ip=198.51.100.7", &session.cookie()).await;
    let lines = body_text(response).await;
    assert_eq!(lines.lines().count(), 1);
    assert!(lines.contains(r#""source.ip":"198.51.100.7""#));

    // The bank's own staff read the bank's events (AMBER included), and
    // nothing of anyone else's, nor the CIRT's runs and quarantine.
    w.add_user(&bank, "it@bank.example", Role::Constituent).await;
    let staff = w.sign_in("it@bank.example").await;
    let (status, response) = w.get_with_cookie("/cirt/feeds", &staff.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let own = body_text(response).await;
    assert!(own.contains("198.51.100.7") && own.contains("id=\"feeds-own\""), "its own AMBER event");
    assert!(!own.contains("203.0.113.9") && !own.contains("192.0.2.66"), "no other constituent's events");
    assert!(!own.contains("2026-11-29-scan_telnet-ke-geo.csv") && !own.contains("is not an IP address"), "no runs or quarantine");
    assert!(own.contains("href=\"/cirt/feeds\""), "the menu leads there");
    let (_, response) = w.get_with_cookie("/cirt/feeds?org=someone-else", &staff.cookie()).await;
    assert!(!body_text(response).await.contains("198.51.100.7"), "the org filter narrows, never widens");
    let (_, response) = w.get_with_cookie("/cirt/feeds/events.csv", &staff.cookie()).await;
    let csv = body_text(response).await;
    assert_eq!(csv.lines().count(), 2, "header and its one event: {csv}");

    // An organisation administrator handles no incidents: no page, no export.
    let admin = w.sign_in("orgadmin@ke.example").await;
    assert_eq!(w.get_with_cookie("/cirt/feeds", &admin.cookie()).await.0, StatusCode::FORBIDDEN);
    assert_eq!(w.get_with_cookie("/cirt/feeds/events.csv", &admin.cookie()).await.0, StatusCode::FORBIDDEN);
}
