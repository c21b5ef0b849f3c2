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

/// A fresh PostgreSQL schema on the server named by the environment, with a
/// URL whose connections use it.
pub async fn fresh_postgres(base: &str) -> (String, String) {
    use sqlx::Connection;
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(base).await.expect("connect to RAMPART_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut admin).await.expect("create schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    (format!("{base}{separator}options=-c%20search_path%3D{schema}"), schema)
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

    if let Ok(base) = std::env::var("RAMPART_TEST_POSTGRES_URL") {
        let (url, schema) = fresh_postgres(&base).await;
        let pg = Store::open(&Location::Postgres(url), OpenMode::ExistingOnly).await.expect("open postgres");
        pg.migrate().await.expect("migrate postgres");
        body(pg.clone()).await;
        pg.close().await;
        drop_schema(&base, &schema).await;
    }
}

pub async fn drop_schema(base: &str, schema: &str) {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(base).await.expect("connect to RAMPART_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut admin).await.expect("drop schema");
}
