//! A fresh PostgreSQL schema per test on the server named by
//! `RAMPART_TEST_POSTGRES_URL`, with a URL whose connections use it, dropped
//! when the guard goes, whether the test passed or panicked.

use sqlx::Connection;

/// The variable naming the PostgreSQL server tests may use.
pub const ENV: &str = "RAMPART_TEST_POSTGRES_URL";

/// The server's URL, when tests should also run on PostgreSQL.
pub fn server() -> Option<String> {
    std::env::var(ENV).ok().filter(|url| !url.trim().is_empty())
}

/// A schema made for one test.
pub struct PgSchema {
    base: String,
    pub name: String,
    /// Connections to this URL work inside the schema.
    pub url: String,
}

impl PgSchema {
    /// Creates `t_<random>` on the server at `base`.
    pub async fn create(base: &str) -> PgSchema {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).expect("random schema name");
        let name = format!("t_{}", data_encoding::HEXLOWER.encode(&random));
        let mut admin = sqlx::PgConnection::connect(base).await.expect("connect to RAMPART_TEST_POSTGRES_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}"))).execute(&mut admin).await.expect("create schema");
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-c%20search_path%3D{name}");
        PgSchema { base: base.to_owned(), name, url }
    }
}

impl Drop for PgSchema {
    /// Drop cannot await, and the test's runtime may be unwinding: a short
    /// thread with its own runtime drops the schema.
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                let drop_it = async {
                    if let Ok(mut admin) = sqlx::PgConnection::connect(&base).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {name} CASCADE"))).execute(&mut admin).await;
                    }
                };
                let _ = tokio::time::timeout(std::time::Duration::from_secs(10), drop_it).await;
            });
        })
        .join();
    }
}
