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

/// A named set of organisations collections can be given to.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct SharingGroupRow {
    pub id: String,
    pub owner_org_id: String,
    pub name: String,
    /// JSON array of organisation ids.
    pub members: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct StatusRow {
    pub id: String,
    pub collection_id: String,
    pub body: String,
    pub created_by: String,
    pub created_at: String,
}

/// Which versions of a collection to read; every part narrows the set.
#[derive(Debug, Clone, Default)]
pub struct ObjectQuery<'a> {
    pub collection_id: &'a str,
    /// Added strictly after this `date_added`.
    pub after: Option<&'a str>,
    pub object_ids: &'a [String],
    pub types: &'a [String],
    pub spec_versions: &'a [String],
    /// `None`: every version.
    pub versions: Option<Versions<'a>>,
    /// The TLP labels the reader may see (unmarked versions always); `None`: no check.
    pub tlps: Option<&'a [String]>,
    pub limit: Option<usize>,
}

/// Versions wanted: the latest, the first and these exact ones (any of them).
#[derive(Debug, Clone, Copy, Default)]
pub struct Versions<'a> {
    pub latest: bool,
    pub first: bool,
    pub exact: &'a [String],
}

const OBJECT_COLUMNS: &str = "collection_id, object_id, version, spec_version, object_type, tlp, date_added, body, source";

/// A page of objects joined into one string (see [`Store::taxii_page`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageText {
    pub count: usize,
    pub more: bool,
    pub first_added: Option<String>,
    pub last_added: Option<String>,
    /// The objects' JSON bodies joined by commas.
    pub bodies: String,
}

/// The WHERE conditions of an object query and the values they bind, in
/// order (`$1`, `$2`, …); the same text may appear twice in a statement.
fn object_conditions(query: &ObjectQuery<'_>) -> (String, Vec<String>) {
    let mut sql = String::from("collection_id = $1 AND date_added > $2");
    let mut values: Vec<String> = vec![query.collection_id.to_owned(), query.after.unwrap_or("").to_owned()];
    // `column IN ($n, …)` with the items bound in order.
    fn list(sql: &mut String, column: &str, items: &[String], values: &mut Vec<String>) {
        let start = values.len();
        let marks: Vec<String> = (1..=items.len()).map(|i| format!("${}", start + i)).collect();
        sql.push_str(&format!("{column} IN ({})", marks.join(", ")));
        values.extend(items.iter().cloned());
    }
    if let Some(tlps) = query.tlps {
        sql.push_str(" AND (tlp IS NULL");
        if !tlps.is_empty() {
            sql.push_str(" OR ");
            list(&mut sql, "tlp", tlps, &mut values);
        }
        sql.push(')');
    }
    for (column, items) in [("object_id", query.object_ids), ("object_type", query.types), ("spec_version", query.spec_versions)] {
        if !items.is_empty() {
            sql.push_str(" AND ");
            list(&mut sql, column, items, &mut values);
        }
    }
    if let Some(versions) = &query.versions {
        let mut any = Vec::new();
        if versions.latest {
            any.push("is_latest = 1".to_owned());
        }
        if versions.first {
            any.push("is_first = 1".to_owned());
        }
        if !versions.exact.is_empty() {
            let mut part = String::new();
            list(&mut part, "version", versions.exact, &mut values);
            any.push(part);
        }
        if any.is_empty() {
            any.push("1 = 0".to_owned());
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    (sql, values)
}

impl Store {
    pub async fn taxii_collections(&self) -> Result<Vec<CollectionRow>, StoreError> {
        Ok(sqlx::query_as::<_, CollectionRow>(
            "SELECT id, title, description, owner_org_id, readers, writers, created_at FROM taxii_collections ORDER BY created_at, id",
        )
        .fetch_all(self.reader())
        .await?)
    }

    /// The versions a query selects, oldest added first.
    pub async fn taxii_query(&self, query: &ObjectQuery<'_>) -> Result<Vec<ObjectRow>, StoreError> {
        let (conditions, values) = object_conditions(query);
        let mut sql = format!("SELECT {OBJECT_COLUMNS} FROM taxii_objects WHERE {conditions} ORDER BY date_added, object_id");
        if let Some(limit) = query.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut statement = sqlx::query_as::<_, ObjectRow>(sqlx::AssertSqlSafe(sql));
        for value in values {
            statement = statement.bind(value);
        }
        Ok(statement.fetch_all(self.reader()).await?)
    }

    /// A page of objects as one row: their bodies joined by commas (ready
    /// for an envelope), how many, whether more follow, and the first and
    /// last `date_added`. The database joins them, so the page crosses from
    /// the database to the server as one value, not a row per object;
    /// sqlx's SQLite driver hands each row across threads, and that
    /// hand-off, not the query, was most of a page's cost.
    pub async fn taxii_page(&self, query: &ObjectQuery<'_>, limit: usize) -> Result<PageText, StoreError> {
        let (conditions, values) = object_conditions(query);
        let join = match self.backend() {
            crate::Backend::Sqlite => "group_concat(body, ',' ORDER BY date_added, object_id)",
            crate::Backend::Postgres => "string_agg(body, ',' ORDER BY date_added, object_id)",
        };
        // Whether more follow: the objects up to one past the page,
        // counted through the index. (Measured against reading one object
        // more and numbering the rows, which sorts the bodies, and against
        // a common table expression, which SQLite evaluates twice: this is
        // the cheapest of the three.)
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM taxii_objects WHERE {conditions} \
                 ORDER BY date_added, object_id LIMIT {more}) AS ahead), \
             MIN(date_added), MAX(date_added), {join} \
             FROM (SELECT date_added, object_id, body FROM taxii_objects WHERE {conditions} \
                 ORDER BY date_added, object_id LIMIT {limit}) AS page",
            more = limit + 1
        );
        let mut statement = sqlx::query_as::<_, (i64, Option<String>, Option<String>, Option<String>)>(sqlx::AssertSqlSafe(sql));
        for value in values {
            statement = statement.bind(value);
        }
        let (read, first_added, last_added, bodies) = statement.fetch_one(self.reader()).await?;
        let read = usize::try_from(read).unwrap_or(0);
        Ok(PageText { count: read.min(limit), more: read > limit, first_added, last_added, bodies: bodies.unwrap_or_default() })
    }

    pub async fn sharing_groups(&self) -> Result<Vec<SharingGroupRow>, StoreError> {
        Ok(sqlx::query_as("SELECT id, owner_org_id, name, members, created_at, updated_at FROM sharing_groups ORDER BY owner_org_id, name")
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

    pub async fn sharing_group_insert(&mut self, row: &SharingGroupRow) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sharing_groups (id, owner_org_id, name, members, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(row.id.clone())
            .bind(row.owner_org_id.clone())
            .bind(row.name.clone())
            .bind(row.members.clone())
            .bind(row.created_at.clone())
            .bind(row.updated_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Replaces a sharing group's members (a JSON array of organisation ids).
    pub async fn sharing_group_members(&mut self, id: &str, members: &str, at: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE sharing_groups SET members = $2, updated_at = $3 WHERE id = $1")
            .bind(id.to_owned())
            .bind(members.to_owned())
            .bind(at.to_owned())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Replaces who reads and writes a collection (JSON arrays of organisation ids).
    pub async fn taxii_collection_access(&mut self, id: &str, readers: &str, writers: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE taxii_collections SET readers = $2, writers = $3 WHERE id = $1")
            .bind(id.to_owned())
            .bind(readers.to_owned())
            .bind(writers.to_owned())
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

    /// Adds many versions in two statements (the rows travel as one JSON
    /// array); for each row, whether it was new. Bound one by one, each
    /// version cost two round trips to the database inside the single
    /// writer's transaction.
    pub async fn taxii_objects_insert(&mut self, rows: &[ObjectRow]) -> Result<Vec<bool>, StoreError> {
        let Some(first) = rows.first() else { return Ok(Vec::new()) };
        let collection_id = first.collection_id.clone();
        let (insert, reflag) = match self.backend() {
            crate::Backend::Sqlite => (
                format!(
                    "INSERT INTO taxii_objects ({OBJECT_COLUMNS}) SELECT value->>0, value->>1, value->>2, value->>3, value->>4, \
                     value->>5, value->>6, value->>7, value->>8 FROM json_each($1) WHERE true \
                     ON CONFLICT (collection_id, object_id, version) DO NOTHING RETURNING object_id, version"
                ),
                "object_id IN (SELECT value FROM json_each($2))",
            ),
            crate::Backend::Postgres => (
                format!(
                    "INSERT INTO taxii_objects ({OBJECT_COLUMNS}) SELECT e->>0, e->>1, e->>2, e->>3, e->>4, e->>5, e->>6, e->>7, e->>8 \
                     FROM json_array_elements($1::json) AS e \
                     ON CONFLICT (collection_id, object_id, version) DO NOTHING RETURNING object_id, version"
                ),
                "object_id IN (SELECT json_array_elements_text($2::json))",
            ),
        };
        let tuples: Vec<_> = rows
            .iter()
            .map(|r| {
                (&r.collection_id, &r.object_id, &r.version, &r.spec_version, &r.object_type, &r.tlp, &r.date_added, &r.body, &r.source)
            })
            .collect();
        // Strings and nulls always serialise.
        let batch = serde_json::to_string(&tuples).unwrap_or_default();
        let added: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(insert)).bind(batch).fetch_all(self.conn()).await?;
        if !added.is_empty() {
            let mut ids: Vec<&str> = added.iter().map(|(id, _)| id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            let sql = format!(
                "UPDATE taxii_objects SET \
                 is_latest = CASE WHEN version = (SELECT MAX(o.version) FROM taxii_objects o \
                     WHERE o.collection_id = taxii_objects.collection_id AND o.object_id = taxii_objects.object_id) THEN 1 ELSE 0 END, \
                 is_first = CASE WHEN version = (SELECT MIN(o.version) FROM taxii_objects o \
                     WHERE o.collection_id = taxii_objects.collection_id AND o.object_id = taxii_objects.object_id) THEN 1 ELSE 0 END \
                 WHERE collection_id = $1 AND {reflag}"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(collection_id)
                .bind(serde_json::to_string(&ids).unwrap_or_default())
                .execute(self.conn())
                .await?;
        }
        // A version twice in one batch is new once, as when added one by one.
        let mut added: std::collections::HashSet<(String, String)> = added.into_iter().collect();
        Ok(rows.iter().map(|r| added.remove(&(r.object_id.clone(), r.version.clone()))).collect())
    }

    /// Marks the object's first and latest versions after one was added or deleted.
    async fn taxii_object_reflag(&mut self, collection_id: &str, object_id: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE taxii_objects SET \
             is_latest = CASE WHEN version = (SELECT MAX(o.version) FROM taxii_objects o \
                 WHERE o.collection_id = $1 AND o.object_id = $2) THEN 1 ELSE 0 END, \
             is_first = CASE WHEN version = (SELECT MIN(o.version) FROM taxii_objects o \
                 WHERE o.collection_id = $1 AND o.object_id = $2) THEN 1 ELSE 0 END \
             WHERE collection_id = $1 AND object_id = $2",
        )
        .bind(collection_id.to_owned())
        .bind(object_id.to_owned())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Deletes versions of an object (all when `version` is `None`); how many went.
    pub async fn taxii_object_delete(&mut self, collection_id: &str, object_id: &str, version: Option<&str>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM taxii_objects WHERE collection_id = $1 AND object_id = $2 AND ($3 IS NULL OR version = $3)")
            .bind(collection_id.to_owned())
            .bind(object_id.to_owned())
            .bind(version.map(str::to_owned))
            .execute(self.conn())
            .await?;
        self.taxii_object_reflag(collection_id, object_id).await?;
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
