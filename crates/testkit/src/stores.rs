//! A fresh migrated store per backend, for the crates built on the store.

use rampart_store::{Location, OpenMode, Store};
use std::future::Future;

/// Runs `body` on a fresh SQLite file, and on a fresh PostgreSQL schema
/// when `RAMPART_TEST_POSTGRES_URL` is set; after each run the audit chain
/// must verify.
pub async fn each_store<F, Fut>(body: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Store::open(&Location::Sqlite(dir.path().join("rampart.db")), OpenMode::Create).await.expect("open sqlite");
    sqlite.migrate().await.expect("migrate sqlite");
    body(sqlite.clone()).await;
    verify(&sqlite).await;
    sqlite.close().await;
    if let Some(base) = crate::postgres::server() {
        let schema = crate::postgres::PgSchema::create(&base).await;
        let pg = Store::open(&Location::Postgres(schema.url.clone()), OpenMode::ExistingOnly).await.expect("open postgres");
        pg.migrate().await.expect("migrate postgres");
        body(pg.clone()).await;
        verify(&pg).await;
        pg.close().await;
    }
}

async fn verify(store: &Store) {
    let report = store.audit_verify().await.expect("audit verify");
    assert_eq!(report.problem, None, "audit chain of {:?}", store.backend());
}
