//! The audit chain. Each entry's hash is SHA-256 over the previous entry's
//! hash and the entry's canonical JSON (sorted keys, every field), so editing,
//! deleting, inserting or reordering entries breaks the chain at that point.
//! See `docs/design/audit-chain.md`.

use crate::{Store, StoreError, WriteTx, page::Page, page::PageRequest};
use chrono::{DateTime, Utc};
use rampart_core::time;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a caller says about a change; the store adds sequence, time and hashes.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor_id: Option<String>,
    /// A readable name of who acted: an e-mail, `system`, `cli:root`.
    pub actor_label: String,
    pub actor_org_id: Option<String>,
    /// `module.entity.verb`, e.g. `platform.user.create`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub source_ip: Option<String>,
    /// Before and after, as a JSON object; secrets never go here.
    pub summary: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub actor_org_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub source_ip: Option<String>,
    pub summary: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    fn canonical(&self) -> String {
        serde_json::json!({
            "seq": self.seq,
            "at": self.at,
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "actor_org_id": self.actor_org_id,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "source_ip": self.source_ip,
            "summary": self.summary,
        })
        .to_string()
    }

    pub fn compute_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.canonical().as_bytes());
        data_encoding::HEXLOWER.encode(&hasher.finalize())
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub actor_org_id: Option<String>,
    pub action_prefix: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainProblem {
    /// The entry's content no longer matches its hash.
    Edited { seq: i64 },
    /// A sequence number is missing.
    Deleted { seq: i64 },
    /// The entry does not follow the one before it (inserted or reordered).
    Broken { seq: i64 },
    /// The head records more entries than the log holds.
    Truncated { expected_last: i64, found_last: i64 },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainProblem::Edited { seq } => write!(f, "entry {seq} was edited: its content does not match its hash"),
            ChainProblem::Deleted { seq } => write!(f, "entry {seq} is missing: it was deleted"),
            ChainProblem::Broken { seq } => {
                write!(f, "entry {seq} does not follow the entry before it: entries were inserted or reordered")
            }
            ChainProblem::Truncated { expected_last, found_last } => {
                write!(f, "the log ends at entry {found_last} but its head records {expected_last}: the last entries were deleted")
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub entries: i64,
    pub head_hash: String,
    pub problem: Option<ChainProblem>,
}

fn record_from(row: &sqlx::any::AnyRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor_id: row.try_get("actor_id")?,
        actor_label: row.try_get("actor_label")?,
        actor_org_id: row.try_get("actor_org_id")?,
        action: row.try_get("action")?,
        entity_type: row.try_get("entity_type")?,
        entity_id: row.try_get("entity_id")?,
        source_ip: row.try_get("source_ip")?,
        summary: row.try_get("summary")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

const AUDIT_COLUMNS: &str =
    "seq, at, actor_id, actor_label, actor_org_id, action, entity_type, entity_id, source_ip, summary, prev_hash, hash";

impl WriteTx {
    /// Appends an entry to the chain inside this transaction. The head row
    /// update takes a row lock on PostgreSQL, so concurrent writers append
    /// one after another and never fork the chain.
    pub async fn audit(&mut self, entry: AuditEntry, at: DateTime<Utc>) -> Result<i64, StoreError> {
        let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").fetch_one(self.conn()).await?;
        let seq: i64 = head.try_get("seq")?;
        let prev_hash: String = head.try_get("hash")?;
        let mut record = AuditRecord {
            seq,
            at: time::format(at),
            actor_id: entry.actor_id,
            actor_label: entry.actor_label,
            actor_org_id: entry.actor_org_id,
            action: entry.action,
            entity_type: entry.entity_type,
            entity_id: entry.entity_id,
            source_ip: entry.source_ip,
            summary: entry.summary.to_string(),
            prev_hash,
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor_id, actor_label, actor_org_id, action, entity_type, entity_id, \
             source_ip, summary, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(record.seq)
        .bind(record.at.clone())
        .bind(record.actor_id.clone())
        .bind(record.actor_label.clone())
        .bind(record.actor_org_id.clone())
        .bind(record.action.clone())
        .bind(record.entity_type.clone())
        .bind(record.entity_id.clone())
        .bind(record.source_ip.clone())
        .bind(record.summary.clone())
        .bind(record.prev_hash.clone())
        .bind(record.hash.clone())
        .execute(self.conn())
        .await?;
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(record.hash.clone()).execute(self.conn()).await?;
        self.audited = true;
        Ok(seq)
    }
}

impl Store {
    /// Newest first, filtered; the cursor is the last sequence number seen.
    pub async fn audit_list(&self, filter: &AuditFilter, page: &PageRequest) -> Result<Page<AuditRecord>, StoreError> {
        let before: i64 = match &page.after {
            Some(cursor) => cursor.parse().map_err(|_| StoreError::InvalidCursor)?,
            None => i64::MAX,
        };
        let prefix = filter.action_prefix.as_ref().map(|p| format!("{}%", crate::escape_like(p)));
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq < $1 \
             AND ($2 IS NULL OR actor_id = $2) AND ($3 IS NULL OR actor_org_id = $3) \
             AND ($4 IS NULL OR action LIKE $4 ESCAPE '\\') AND ($5 IS NULL OR entity_type = $5) \
             AND ($6 IS NULL OR entity_id = $6) ORDER BY seq DESC LIMIT $7"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(before)
            .bind(filter.actor_id.clone())
            .bind(filter.actor_org_id.clone())
            .bind(prefix)
            .bind(filter.entity_type.clone())
            .bind(filter.entity_id.clone())
            .bind(page.fetch_limit())
            .fetch_all(self.reader())
            .await?;
        let records = rows.iter().map(record_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(records, |r| r.seq.to_string()))
    }

    /// Walks the whole chain in order and reports the first problem found.
    pub async fn audit_verify(&self) -> Result<ChainReport, StoreError> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(self.reader()).await?;
        let head_seq: i64 = head.try_get("seq")?;
        let head_hash: String = head.try_get("hash")?;
        let mut expected_seq = 1_i64;
        let mut prev_hash = GENESIS_HASH.to_owned();
        let mut last_seen = 0_i64;
        // Read in batches so a long log never sits in memory at once.
        loop {
            let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(last_seen).fetch_all(self.reader()).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let record = record_from(row)?;
                let problem = if record.seq != expected_seq {
                    Some(ChainProblem::Deleted { seq: expected_seq })
                } else if record.prev_hash != prev_hash {
                    Some(ChainProblem::Broken { seq: record.seq })
                } else if record.compute_hash() != record.hash {
                    Some(ChainProblem::Edited { seq: record.seq })
                } else {
                    None
                };
                if problem.is_some() {
                    return Ok(ChainReport { entries: record.seq - 1, head_hash, problem });
                }
                prev_hash = record.hash;
                last_seen = record.seq;
                expected_seq += 1;
            }
        }
        let problem = if last_seen != head_seq {
            Some(ChainProblem::Truncated { expected_last: head_seq, found_last: last_seen })
        } else if prev_hash != head_hash {
            Some(ChainProblem::Broken { seq: last_seen })
        } else {
            None
        };
        Ok(ChainReport { entries: last_seen, head_hash, problem })
    }

    /// Runs raw SQL against the database. Only for tests that tamper with
    /// the audit table to prove `audit_verify` notices; not part of the API.
    #[doc(hidden)]
    pub async fn execute_raw_for_tests(&self, sql: &str) -> Result<u64, StoreError> {
        let result = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&self.write).await?;
        Ok(result.rows_affected())
    }
}
