//! The storage seam. One `Store` over SQLite (embedded default) or
//! PostgreSQL (scale-out), the same queries for both through sqlx's `Any`
//! driver, and the migrations of each.
//!
//! Architecture invariant: this is the only crate that knows SQL. Callers see
//! typed rows and methods; they never build a query. Every write goes through
//! a `WriteTx`, and a `WriteTx` cannot commit without an audit entry, which is
//! how "every change is audited" is kept by construction.

pub mod advisories;
pub mod audit;
pub mod cirt;
pub mod drills;
mod error;
pub mod feeds;
pub mod gci;
pub mod hotline;
pub mod indicators;
pub mod orgs;
pub mod page;
pub mod sessions;
pub mod settings;
pub mod strategy;
pub mod taxii;
pub mod tokens;
pub mod users;

pub use audit::{AuditEntry, AuditFilter, AuditRecord, ChainProblem, ChainReport};
pub use error::StoreError;
pub use orgs::{Contact, NewOrg, Organisation};
pub use page::{Page, PageRequest};
pub use sessions::SessionRow;
pub use tokens::ApiTokenRow;
pub use users::{NewUser, RoleGrantRow, UserRow};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How to treat a SQLite path whose file does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Refuse: a typo in a path must not silently create an empty database.
    ExistingOnly,
    Create,
}

/// Where the data lives, parsed once from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn parse(text: &str) -> Location {
        let trimmed = text.trim();
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            Location::Postgres(trimmed.to_owned())
        } else {
            let path = trimmed.strip_prefix("sqlite://").or_else(|| trimmed.strip_prefix("sqlite:")).unwrap_or(trimmed);
            Location::Sqlite(PathBuf::from(path))
        }
    }

    /// For logs and `config check`: never print a PostgreSQL password.
    pub fn redacted(&self) -> String {
        match self {
            Location::Sqlite(path) => format!("sqlite:{}", path.display()),
            Location::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    parsed.to_string()
                }
                Err(_) => "postgres://(unparseable)".to_owned(),
            },
        }
    }
}

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Reads. On SQLite several connections read concurrently under WAL.
    read: AnyPool,
    /// Writes. On SQLite a pool of exactly one connection: the single writer.
    write: AnyPool,
}

static MIGRATE_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static MIGRATE_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    pub async fn open(location: &Location, mode: OpenMode) -> Result<Store, StoreError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        match location {
            Location::Sqlite(path) => Self::open_sqlite(path, mode).await,
            Location::Postgres(url) => Self::open_postgres(url).await,
        }
    }

    async fn open_sqlite(path: &Path, mode: OpenMode) -> Result<Store, StoreError> {
        let exists = path.exists();
        if !exists && mode == OpenMode::ExistingOnly {
            return Err(StoreError::MissingDatabase(path.to_path_buf()));
        }
        if !exists && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io { path: parent.to_path_buf(), source })?;
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let options = AnyConnectOptions::from_str(&url)?;
        let write = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(sqlite_writer_pragmas)
            .connect_with(options.clone())
            .await?;
        let read = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(sqlite_pragmas)
            .connect_with(options)
            .await?;
        spawn_checkpointer(read.clone());
        Ok(Store { backend: Backend::Sqlite, read, write })
    }

    async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect_with(options).await?;
        Ok(Store { backend: Backend::Postgres, read: pool.clone(), write: pool })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &MIGRATE_SQLITE,
            Backend::Postgres => &MIGRATE_POSTGRES,
        };
        let before = self.applied_migrations().await.unwrap_or(0);
        migrator.run(&self.write).await?;
        let after = self.applied_migrations().await?;
        Ok(after.saturating_sub(before))
    }

    async fn applied_migrations(&self) -> Result<usize, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE").fetch_one(&self.read).await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// True when the database answers; for `/readyz`.
    pub async fn ping(&self) -> bool {
        sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&self.read).await.is_ok()
    }

    /// Pool figures for `/metrics`: (open connections, idle connections).
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.read.size(), self.read.num_idle())
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, taking
    /// the write lock up front so two writers never deadlock on upgrade.
    pub async fn begin(&self) -> Result<WriteTx, StoreError> {
        let tx = match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        };
        Ok(WriteTx { tx, audited: false, backend: self.backend })
    }

    /// Online backup of a SQLite database to `target` (VACUUM INTO), safe
    /// while the server runs.
    pub async fn backup_sqlite(&self, target: &Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Unsupported("online backup is for SQLite; use pg_dump for PostgreSQL"));
        }
        if target.exists() {
            return Err(StoreError::Conflict { field: "target", message: format!("{} already exists", target.display()) });
        }
        let target_text = target.to_str().ok_or(StoreError::Unsupported("backup path is not valid UTF-8"))?;
        sqlx::query("VACUUM INTO $1").bind(target_text.to_owned()).execute(&self.write).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    pub(crate) fn reader(&self) -> &AnyPool {
        &self.read
    }
}

/// A write transaction. Commit requires at least one audit entry appended
/// through [`WriteTx::audit`]; dropping it without commit rolls back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    audited: bool,
    backend: Backend,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        if !self.audited {
            // Rolled back on drop: an unaudited change never lands.
            return Err(StoreError::Unaudited);
        }
        self.tx.commit().await?;
        Ok(())
    }

    /// Abandons the transaction now. Dropping it also rolls back, but only
    /// when the connection is next used; a path that decides to write
    /// nothing should call this so the single SQLite writer is free at once.
    pub async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await?;
        Ok(())
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

type ConnectFuture<'c> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'c>>;

/// WAL lets readers work beside the one writer; the busy timeout makes a
/// second process wait for the lock instead of failing at once.
fn sqlite_pragmas<'c>(conn: &'c mut sqlx::AnyConnection, _meta: sqlx::pool::PoolConnectionMetadata) -> ConnectFuture<'c> {
    Box::pin(async move {
        conn.execute(
            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
        )
        .await?;
        Ok(())
    })
}

/// The single writer does not checkpoint the WAL itself: a checkpoint on
/// the commit path waits for the file to be synced, and every write queued
/// behind it waits too (hundreds of flags a second in a drill showed this
/// as a tail of several hundred milliseconds). A background task
/// checkpoints instead, passively, from a reader connection.
fn sqlite_writer_pragmas<'c>(conn: &'c mut sqlx::AnyConnection, meta: sqlx::pool::PoolConnectionMetadata) -> ConnectFuture<'c> {
    Box::pin(async move {
        sqlite_pragmas(conn, meta).await?;
        // A large page cache for the one connection that writes: bulk
        // inserts into indexes keyed by hashes touch pages all over them.
        conn.execute("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -65536;").await?;
        Ok(())
    })
}

/// Checkpoints the WAL every second without blocking the writer (PASSIVE
/// copies what no reader still needs); stops when the pool closes. When
/// the last connection to a database closes, SQLite checkpoints anyway.
fn spawn_checkpointer(read: AnyPool) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if read.is_closed() {
                return;
            }
            if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&read).await {
                if read.is_closed() {
                    return;
                }
                tracing::warn!(error = %err, "WAL checkpoint failed");
            }
        }
    });
}

/// Escapes a user's text for a LIKE pattern (escape character `\`), so `_`
/// and `%` match themselves; both databases accept `ESCAPE '\'`.
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

pub(crate) fn flag(value: bool) -> i64 {
    i64::from(value)
}
