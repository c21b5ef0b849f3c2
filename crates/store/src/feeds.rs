//! The feed pipeline's rows (migrations 0015 and 0016). Parsing, enrichment and
//! deduplication happen in `rampart-feeds`; this module stores batches
//! idempotently and answers the pipeline's and the pages' questions.

use crate::{Page, PageRequest, Store, StoreError, WriteTx};
use serde::{Deserialize, Serialize};

/// One harmonised event as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedEventRow {
    pub id: String,
    pub feed: String,
    pub event_time: String,
    pub observed_at: String,
    pub taxonomy: String,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub identifier: String,
    pub source_ip: Option<String>,
    pub source_asn: Option<i64>,
    pub source_cc: Option<String>,
    pub org_id: Option<String>,
    pub tlp: String,
    pub dedup_key: i64,
    /// The whole event: IntelMQ's flat JSON object.
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, sqlx::FromRow)]
pub struct QuarantineRow {
    pub feed: String,
    pub run_id: String,
    pub source_name: String,
    pub line: i64,
    pub reason: String,
    pub raw: String,
    pub received_at: String,
}

/// What one source (a file, a push, a poll) gave and what became of it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedRunRow {
    pub id: String,
    pub feed: String,
    pub source_name: String,
    pub started_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
    pub read_count: i64,
    pub parsed: i64,
    pub quarantined: i64,
    pub duplicates: i64,
    pub filtered: i64,
    pub stored: i64,
    pub incidents: i64,
}

/// Counts to add to a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub read: i64,
    pub parsed: i64,
    pub quarantined: i64,
    pub duplicates: i64,
    pub filtered: i64,
    pub stored: i64,
    pub incidents: i64,
}

impl RunCounts {
    pub fn add(&mut self, other: &RunCounts) {
        self.read += other.read;
        self.parsed += other.parsed;
        self.quarantined += other.quarantined;
        self.duplicates += other.duplicates;
        self.filtered += other.filtered;
        self.stored += other.stored;
        self.incidents += other.incidents;
    }
}

/// The whole registry in one read, for the constituency expert.
#[derive(Debug, Clone, Default)]
pub struct RegistryDump {
    pub networks: Vec<(String, String)>,
    pub asns: Vec<(String, i64)>,
    pub domains: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct FeedEventFilter {
    pub feed: Option<String>,
    pub org_id: Option<String>,
    pub kind: Option<String>,
    pub source_ip: Option<String>,
    /// Only events labelled with one of these (the caller's TLP check);
    /// `None` for every label.
    pub tlps: Option<Vec<String>>,
    /// Only events attributed to one of these constituents; `None` for all.
    pub orgs: Option<Vec<String>>,
}

const EVENT_COLUMNS: &str =
    "id, feed, event_time, observed_at, taxonomy, type, identifier, source_ip, source_asn, source_cc, org_id, tlp, dedup_key, body";

/// Rows per INSERT statement.
const ROWS_PER_STATEMENT: usize = 2000;

impl WriteTx {
    /// Inserts events that are not stored yet; returns the ids that were
    /// new. An id already present is left as it is (a replay).
    ///
    /// A batch travels as one JSON array bound to one parameter and is
    /// unpacked by the database (`json_each`, `json_array_elements`): bound
    /// one value at a time, a thousand rows are fourteen thousand binds,
    /// and binding, not inserting, was most of the cost.
    pub async fn feed_events_insert(&mut self, rows: &[FeedEventRow]) -> Result<Vec<String>, StoreError> {
        let mut inserted = Vec::new();
        let sql = match self.backend() {
            crate::Backend::Sqlite => {
                "INSERT INTO feed_events (id, feed, event_time, observed_at, taxonomy, type, identifier, source_ip, source_asn, \
                 source_cc, org_id, tlp, dedup_key, body) SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, \
                 value->>6, value->>7, value->>8, value->>9, value->>10, value->>11, value->>12, value->>13 FROM jsonb_each($1) \
                 WHERE true ON CONFLICT (id) DO NOTHING RETURNING id"
            }
            crate::Backend::Postgres => {
                "INSERT INTO feed_events (id, feed, event_time, observed_at, taxonomy, type, identifier, source_ip, source_asn, \
                 source_cc, org_id, tlp, dedup_key, body) SELECT e->>0, e->>1, e->>2, e->>3, e->>4, e->>5, e->>6, e->>7, \
                 (e->>8)::bigint, e->>9, e->>10, e->>11, (e->>12)::bigint, e->>13 FROM json_array_elements($1::json) AS e \
                 ON CONFLICT (id) DO NOTHING RETURNING id"
            }
        };
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            // Serialised straight from the rows, with no JSON tree between.
            let tuples: Vec<_> = chunk
                .iter()
                .map(|row| {
                    (
                        &row.id,
                        &row.feed,
                        &row.event_time,
                        &row.observed_at,
                        &row.taxonomy,
                        &row.kind,
                        &row.identifier,
                        &row.source_ip,
                        row.source_asn,
                        &row.source_cc,
                        &row.org_id,
                        &row.tlp,
                        row.dedup_key,
                        &row.body,
                    )
                })
                .collect();
            // Strings and numbers always serialise.
            let batch = serde_json::to_string(&tuples).unwrap_or_default();
            inserted.extend(sqlx::query_scalar::<_, String>(sql).bind(batch).fetch_all(self.conn()).await?);
        }
        Ok(inserted)
    }

    /// Keeps a row that could not be parsed; the same line of the same run
    /// is kept once however often it is replayed.
    pub async fn feed_quarantine_add(&mut self, row: &QuarantineRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO feed_quarantine (feed, run_id, source_name, line, reason, raw, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_id, line) DO NOTHING",
        )
        .bind(row.feed.clone())
        .bind(row.run_id.clone())
        .bind(row.source_name.clone())
        .bind(row.line)
        .bind(row.reason.clone())
        .bind(row.raw.clone())
        .bind(row.received_at.clone())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Adds counts to a run, creating it on first sight.
    pub async fn feed_run_add(&mut self, id: &str, feed: &str, source_name: &str, counts: &RunCounts, at: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO feed_runs (id, feed, source_name, started_at, updated_at, finished_at, read_count, parsed, quarantined, \
             duplicates, filtered, stored, incidents) VALUES ($1, $2, $3, $4, $4, NULL, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (id) DO UPDATE SET updated_at = $4, read_count = feed_runs.read_count + $5, \
             parsed = feed_runs.parsed + $6, quarantined = feed_runs.quarantined + $7, duplicates = feed_runs.duplicates + $8, \
             filtered = feed_runs.filtered + $9, stored = feed_runs.stored + $10, incidents = feed_runs.incidents + $11",
        )
        .bind(id.to_owned())
        .bind(feed.to_owned())
        .bind(source_name.to_owned())
        .bind(at.to_owned())
        .bind(counts.read)
        .bind(counts.parsed)
        .bind(counts.quarantined)
        .bind(counts.duplicates)
        .bind(counts.filtered)
        .bind(counts.stored)
        .bind(counts.incidents)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn feed_run_finish(&mut self, id: &str, at: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE feed_runs SET finished_at = $2, updated_at = $2 WHERE id = $1")
            .bind(id.to_owned())
            .bind(at.to_owned())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Records, in the batch's own transaction, the last journal record
    /// the batch covers: a replay after a crash skips what committed.
    pub async fn feed_mark_set(&mut self, journal_id: &str, seq: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO feed_marks (journal_id, seq) VALUES ($1, $2) \
             ON CONFLICT (journal_id) DO UPDATE SET seq = CASE WHEN feed_marks.seq > $2 THEN feed_marks.seq ELSE $2 END",
        )
        .bind(journal_id.to_owned())
        .bind(seq)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Serialises the store stages of one feed across processes, for the
    /// rest of the transaction: their deduplication reads what the others
    /// committed. SQLite's `BEGIN IMMEDIATE` already admits one writer.
    pub async fn feed_lock(&mut self, feed: &str) -> Result<(), StoreError> {
        if self.backend() == crate::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('rampart.feed:' || $1))").bind(feed.to_owned()).execute(self.conn()).await?;
        }
        Ok(())
    }

    /// Records a queue message as committed; false when it already was
    /// (a redelivery), and then the caller must change nothing.
    pub async fn feed_applied_add(&mut self, message_id: &str, at: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("INSERT INTO feed_applied (message_id, applied_at) VALUES ($1, $2) ON CONFLICT (message_id) DO NOTHING")
            .bind(message_id.to_owned())
            .bind(at.to_owned())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The number of rows the run's source had (known once it was read to
    /// the end).
    pub async fn feed_run_total_set(&mut self, id: &str, total: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE feed_runs SET rows_total = $2 WHERE id = $1").bind(id.to_owned()).bind(total).execute(self.conn()).await?;
        Ok(())
    }

    /// Finishes the run if every row of its source has been counted;
    /// returns whether it is finished now.
    pub async fn feed_run_finish_if_complete(&mut self, id: &str, at: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE feed_runs SET finished_at = $2, updated_at = $2 \
             WHERE id = $1 AND finished_at IS NULL AND rows_total IS NOT NULL AND read_count >= rows_total",
        )
        .bind(id.to_owned())
        .bind(at.to_owned())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The highest event sequence number committed so far.
    pub async fn feed_max_seq(&mut self) -> Result<i64, StoreError> {
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM feed_events").fetch_one(self.conn()).await?;
        Ok(max.unwrap_or(0))
    }

    /// (seq, dedup key, event time) of a feed's events from `since` on:
    /// a store stage's deduplication window when it starts.
    pub async fn feed_dedup_recent(&mut self, feed: &str, since: &str) -> Result<Vec<(i64, i64, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT seq, dedup_key, event_time FROM feed_events WHERE feed = $1 AND event_time >= $2")
            .bind(feed.to_owned())
            .bind(since.to_owned())
            .fetch_all(self.conn())
            .await?)
    }

    /// (seq, dedup key, event time) of a feed's events committed after
    /// `after` (by other store stages, since this one last looked).
    pub async fn feed_dedup_after(&mut self, feed: &str, after: i64) -> Result<Vec<(i64, i64, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT seq, dedup_key, event_time FROM feed_events WHERE seq > $1 AND feed = $2")
            .bind(after)
            .bind(feed.to_owned())
            .fetch_all(self.conn())
            .await?)
    }

    /// The newest event time stored for a feed, inside the transaction.
    pub async fn feed_latest_time_tx(&mut self, feed: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT MAX(event_time) FROM feed_events WHERE feed = $1")
            .bind(feed.to_owned())
            .fetch_one(self.conn())
            .await?)
    }

    /// The incident that gathers a constituent's events of one type in one
    /// window, if it is open already.
    pub async fn feed_incident_get(&mut self, org_id: &str, kind: &str, window_start: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT incident_id FROM feed_incidents WHERE org_id = $1 AND type = $2 AND window_start = $3")
            .bind(org_id.to_owned())
            .bind(kind.to_owned())
            .bind(window_start.to_owned())
            .fetch_optional(self.conn())
            .await?)
    }

    pub async fn feed_incident_count(
        &mut self,
        org_id: &str,
        kind: &str,
        window_start: &str,
        incident_id: &str,
        events: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO feed_incidents (org_id, type, window_start, incident_id, events) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, type, window_start) DO UPDATE SET events = feed_incidents.events + $5",
        )
        .bind(org_id.to_owned())
        .bind(kind.to_owned())
        .bind(window_start.to_owned())
        .bind(incident_id.to_owned())
        .bind(events)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    pub async fn feed_mark(&self, journal_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT seq FROM feed_marks WHERE journal_id = $1")
            .bind(journal_id.to_owned())
            .fetch_optional(self.reader())
            .await?)
    }

    /// (dedup key, event time) of a feed's events from `since` on, to
    /// rebuild the deduplication window at start.
    pub async fn feed_dedup_window(&self, feed: &str, since: &str) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT dedup_key, event_time FROM feed_events WHERE feed = $1 AND event_time >= $2")
            .bind(feed.to_owned())
            .bind(since.to_owned())
            .fetch_all(self.reader())
            .await?)
    }

    /// The newest event time stored for a feed.
    pub async fn feed_latest_time(&self, feed: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT MAX(event_time) FROM feed_events WHERE feed = $1")
            .bind(feed.to_owned())
            .fetch_one(self.reader())
            .await?)
    }

    pub async fn feed_registry(&self) -> Result<RegistryDump, StoreError> {
        let networks = sqlx::query_as("SELECT org_id, network FROM constituency_networks ORDER BY prefix_len, network")
            .fetch_all(self.reader())
            .await?;
        let asns = sqlx::query_as("SELECT org_id, asn FROM constituency_asns ORDER BY asn, org_id").fetch_all(self.reader()).await?;
        let domains =
            sqlx::query_as("SELECT org_id, domain FROM constituency_domains ORDER BY domain, org_id").fetch_all(self.reader()).await?;
        Ok(RegistryDump { networks, asns, domains })
    }

    /// Events newest first, a page at a time (the cursor is the last `seq`).
    pub async fn feed_events(&self, filter: &FeedEventFilter, page: &PageRequest) -> Result<Page<FeedEventRow>, StoreError> {
        let mut conditions =
            vec!["($1 = '' OR feed = $1)", "($2 = '' OR org_id = $2)", "($3 = '' OR type = $3)", "($4 = '' OR source_ip = $4)"]
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>();
        let after: i64 = page.after.as_deref().and_then(|a| a.parse().ok()).unwrap_or(i64::MAX);
        conditions.push("seq < $5".into());
        let mut next = 6;
        let mut extra: Vec<String> = Vec::new();
        for (list, column) in [(&filter.tlps, "tlp"), (&filter.orgs, "org_id")] {
            if let Some(list) = list {
                if list.is_empty() {
                    conditions.push("1 = 0".into());
                    continue;
                }
                let marks: Vec<String> = list
                    .iter()
                    .map(|value| {
                        extra.push(value.clone());
                        next += 1;
                        format!("${}", next - 1)
                    })
                    .collect();
                conditions.push(format!("{column} IN ({})", marks.join(", ")));
            }
        }
        let sql = format!(
            "SELECT seq, {EVENT_COLUMNS} FROM feed_events WHERE {} ORDER BY seq DESC LIMIT {}",
            conditions.join(" AND "),
            page.fetch_limit()
        );
        let mut query = sqlx::query_as::<_, SeqRow>(sqlx::AssertSqlSafe(sql))
            .bind(filter.feed.clone().unwrap_or_default())
            .bind(filter.org_id.clone().unwrap_or_default())
            .bind(filter.kind.clone().unwrap_or_default())
            .bind(filter.source_ip.clone().unwrap_or_default())
            .bind(after);
        for value in extra {
            query = query.bind(value);
        }
        let rows = query.fetch_all(self.reader()).await?;
        let page = page.finish(rows, |r| r.seq.to_string());
        Ok(Page { items: page.items.into_iter().map(|r| r.row).collect(), next_cursor: page.next_cursor })
    }

    pub async fn feed_event_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM feed_events").fetch_one(self.reader()).await?)
    }

    /// Ids of every stored event of a feed, for tests and checks.
    pub async fn feed_event_ids(&self, feed: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT id FROM feed_events WHERE feed = $1 ORDER BY id")
            .bind(feed.to_owned())
            .fetch_all(self.reader())
            .await?)
    }

    pub async fn feed_runs(&self, limit: i64) -> Result<Vec<FeedRunRow>, StoreError> {
        Ok(sqlx::query_as::<_, FeedRunRow>(sqlx::AssertSqlSafe(format!(
            "SELECT id, feed, source_name, started_at, updated_at, finished_at, read_count, parsed, quarantined, duplicates, \
             filtered, stored, incidents FROM feed_runs ORDER BY updated_at DESC, id LIMIT {}",
            limit.clamp(1, 1000)
        )))
        .fetch_all(self.reader())
        .await?)
    }

    pub async fn feed_run_get(&self, id: &str) -> Result<Option<FeedRunRow>, StoreError> {
        Ok(sqlx::query_as::<_, FeedRunRow>(
            "SELECT id, feed, source_name, started_at, updated_at, finished_at, read_count, parsed, quarantined, duplicates, \
             filtered, stored, incidents FROM feed_runs WHERE id = $1",
        )
        .bind(id.to_owned())
        .fetch_optional(self.reader())
        .await?)
    }

    pub async fn feed_quarantine(&self, run_id: Option<&str>, limit: i64) -> Result<Vec<QuarantineRow>, StoreError> {
        Ok(sqlx::query_as::<_, QuarantineRow>(sqlx::AssertSqlSafe(format!(
            "SELECT feed, run_id, source_name, line, reason, raw, received_at FROM feed_quarantine \
             WHERE ($1 = '' OR run_id = $1) ORDER BY seq DESC LIMIT {}",
            limit.clamp(1, 1000)
        )))
        .bind(run_id.unwrap_or_default().to_owned())
        .fetch_all(self.reader())
        .await?)
    }
}

#[derive(sqlx::FromRow)]
struct SeqRow {
    seq: i64,
    #[sqlx(flatten)]
    row: FeedEventRow,
}
