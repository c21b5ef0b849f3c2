use chrono::{DateTime, TimeZone, Utc};
use rampart_store::{AuditEntry, Location, OpenMode, Store};
use std::future::Future;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).single().expect("valid time")
}

pub fn entry(action: &str, entity_id: &str) -> AuditEntry {
    AuditEntry {
        actor_id: None,
        actor_label: "test".into(),
        actor_org_id: None,
        action: action.into(),
        entity_type: "test".into(),
        entity_id: Some(entity_id.into()),
        source_ip: Some("127.0.0.1".into()),
        summary: serde_json::json!({"after": {"n": entity_id}}),
    }
}

/// Runs `body` once per available backend, each on an empty migrated store.
pub async fn each_backend<F, Fut>(body: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rampart.db");
    let sqlite = Store::open(&Location::Sqlite(path), OpenMode::Create).await.expect("open sqlite");
    sqlite.migrate().await.expect("migrate sqlite");
    body(sqlite.clone()).await;
    sqlite.close().await;

    if let Some(base) = rampart_testkit::postgres::server() {
        let schema = rampart_testkit::postgres::PgSchema::create(&base).await;
        let pg = Store::open(&Location::Postgres(schema.url.clone()), OpenMode::ExistingOnly).await.expect("open postgres");
        pg.migrate().await.expect("migrate postgres");
        body(pg.clone()).await;
        pg.close().await;
    }
}
