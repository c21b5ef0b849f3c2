//! TAXII 2.1 collections, object versions and POST statuses. See
//! migration 0011. Who may read or write which collection, and TLP, are
//! decided in `rampart-intel`; this module only reads and writes rows.

use crate::{Store, StoreError, WriteTx};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct CollectionRow {
    pub id: String,
    pub title: String,
    pub description: String,
    pub owner_org_id: String,
    pub readers: String,
    pub writers: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct ObjectRow {
    pub collection_id: String,
    pub object_id: String,
    pub version: String,
    pub spec_version: String,
    pub object_type: String,
    pub tlp: Option<String>,
    pub date_added: String,
    pub body: String,
    /// The peer it was pulled from; `None` when added here.
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct StatusRow {
    pub id: String,
    pub collection_id: String,
    pub body: String,
    pub created_by: String,
    pub created_at: String,
}

const OBJECT_COLUMNS: &str = "collection_id, object_id, version, spec_version, object_type, tlp, date_added, body, source";

impl Store {
    pub async fn taxii_collections(&self) -> Result<Vec<CollectionRow>, StoreError> {
        Ok(sqlx::query_as::<_, CollectionRow>(
            "SELECT id, title, description, owner_org_id, readers, writers, created_at FROM taxii_collections ORDER BY created_at, id",
        )
        .fetch_all(self.reader())
        .await?)
    }

    /// Every version in a collection added after `after` (exclusive), oldest first.
    pub async fn taxii_objects(&self, collection_id: &str, after: Option<&str>) -> Result<Vec<ObjectRow>, StoreError> {
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM taxii_objects WHERE collection_id = $1 AND date_added > $2 ORDER BY date_added, object_id"
        );
        Ok(sqlx::query_as::<_, ObjectRow>(sqlx::AssertSqlSafe(sql))
            .bind(collection_id.to_owned())
            .bind(after.unwrap_or("").to_owned())
            .fetch_all(self.reader())
            .await?)
    }

    pub async fn taxii_status(&self, id: &str) -> Result<StatusRow, StoreError> {
        sqlx::query_as::<_, StatusRow>("SELECT id, collection_id, body, created_by, created_at FROM taxii_status WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "status" })
    }
}

impl WriteTx {
    pub async fn taxii_collection_insert(&mut self, row: &CollectionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO taxii_collections (id, title, description, owner_org_id, readers, writers, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(row.id.clone())
        .bind(row.title.clone())
        .bind(row.description.clone())
        .bind(row.owner_org_id.clone())
        .bind(row.readers.clone())
        .bind(row.writers.clone())
        .bind(row.created_at.clone())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The latest `date_added` in a collection, read in the transaction that adds more.
    pub async fn taxii_last_added(&mut self, collection_id: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT MAX(date_added) FROM taxii_objects WHERE collection_id = $1")
            .bind(collection_id.to_owned())
            .fetch_one(self.conn())
            .await?)
    }

    /// Adds a version; false when that version of the object is already there.
    pub async fn taxii_object_insert(&mut self, row: &ObjectRow) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO taxii_objects ({OBJECT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (collection_id, object_id, version) DO NOTHING"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.collection_id.clone())
            .bind(row.object_id.clone())
            .bind(row.version.clone())
            .bind(row.spec_version.clone())
            .bind(row.object_type.clone())
            .bind(row.tlp.clone())
            .bind(row.date_added.clone())
            .bind(row.body.clone())
            .bind(row.source.clone())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes versions of an object (all when `version` is `None`); how many went.
    pub async fn taxii_object_delete(&mut self, collection_id: &str, object_id: &str, version: Option<&str>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM taxii_objects WHERE collection_id = $1 AND object_id = $2 AND ($3 IS NULL OR version = $3)")
            .bind(collection_id.to_owned())
            .bind(object_id.to_owned())
            .bind(version.map(str::to_owned))
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn taxii_status_insert(&mut self, row: &StatusRow) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO taxii_status (id, collection_id, body, created_by, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(row.id.clone())
            .bind(row.collection_id.clone())
            .bind(row.body.clone())
            .bind(row.created_by.clone())
            .bind(row.created_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

/// Where federation with one peer has got to (migration 0012).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct PeerStateRow {
    pub peer: String,
    pub pulled_until: Option<String>,
    pub pushed_until: Option<String>,
    pub pulled_total: i64,
    pub pushed_total: i64,
    pub last_run_at: Option<String>,
    pub last_error: Option<String>,
}

const PEER_COLUMNS: &str = "peer, pulled_until, pushed_until, pulled_total, pushed_total, last_run_at, last_error";

impl Store {
    /// A peer's state; a peer never synchronised has the default (nothing yet).
    pub async fn taxii_peer_state(&self, peer: &str) -> Result<PeerStateRow, StoreError> {
        let sql = format!("SELECT {PEER_COLUMNS} FROM taxii_peer_state WHERE peer = $1");
        Ok(sqlx::query_as::<_, PeerStateRow>(sqlx::AssertSqlSafe(sql))
            .bind(peer.to_owned())
            .fetch_optional(self.reader())
            .await?
            .unwrap_or_else(|| PeerStateRow { peer: peer.to_owned(), ..PeerStateRow::default() }))
    }

    pub async fn taxii_peer_states(&self) -> Result<Vec<PeerStateRow>, StoreError> {
        let sql = format!("SELECT {PEER_COLUMNS} FROM taxii_peer_state ORDER BY peer");
        Ok(sqlx::query_as::<_, PeerStateRow>(sqlx::AssertSqlSafe(sql)).fetch_all(self.reader()).await?)
    }

    /// Records a peer's progress. Bookkeeping, like session purges: it is
    /// written outside an audited transaction, and each exchange that
    /// changes data writes its own audit entry.
    pub async fn taxii_peer_state_save(&self, row: &PeerStateRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO taxii_peer_state ({PEER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (peer) DO UPDATE SET pulled_until = excluded.pulled_until, pushed_until = excluded.pushed_until, \
             pulled_total = excluded.pulled_total, pushed_total = excluded.pushed_total, \
             last_run_at = excluded.last_run_at, last_error = excluded.last_error"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.peer.clone())
            .bind(row.pulled_until.clone())
            .bind(row.pushed_until.clone())
            .bind(row.pulled_total)
            .bind(row.pushed_total)
            .bind(row.last_run_at.clone())
            .bind(row.last_error.clone())
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
