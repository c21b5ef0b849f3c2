//! The indicator store's rows (migration 0013). Who may see which
//! indicator, scores and warning lists are decided in `rampart-intel`.

use crate::{Store, StoreError, WriteTx};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct IndicatorRow {
    pub id: String,
    pub owner_org_id: String,
    pub kind: String,
    pub value: String,
    pub tlp: String,
    pub confidence: i64,
    pub first_seen: String,
    pub last_seen: String,
    pub sightings: i64,
    pub expires_at: Option<String>,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct SightingRow {
    pub indicator_id: String,
    pub seen_at: String,
    pub source: String,
}

/// An observable of one of a CIRT's incidents, with what the store needs of the incident.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct IncidentObservable {
    pub reference: String,
    pub tlp: String,
    pub created_at: String,
    pub kind: String,
    pub value: String,
}

const COLUMNS: &str = "id, owner_org_id, kind, value, tlp, confidence, first_seen, last_seen, sightings, expires_at, description, \
    created_at, updated_at";

impl Store {
    /// Indicators owned by `owner` or labelled with one of `open_tlps`
    /// (what others may see), most recently seen first; `kind` and a
    /// substring of the value narrow them.
    pub async fn indicators(
        &self,
        owner: &str,
        open_tlps: &[&str],
        kind: Option<&str>,
        contains: Option<&str>,
        limit: usize,
    ) -> Result<Vec<IndicatorRow>, StoreError> {
        let marks: Vec<String> = (0..open_tlps.len()).map(|i| format!("${}", i + 4)).collect();
        let open = if marks.is_empty() { "1 = 0".to_owned() } else { format!("tlp IN ({})", marks.join(", ")) };
        let sql = format!(
            "SELECT {COLUMNS} FROM indicators WHERE (owner_org_id = $1 OR {open}) AND ($2 = '' OR kind = $2) \
             AND ($3 = '' OR value LIKE $3 ESCAPE '\\') ORDER BY last_seen DESC, kind, value LIMIT {limit}"
        );
        let pattern = contains.map(|c| format!("%{}%", crate::escape_like(c))).unwrap_or_default();
        let mut query = sqlx::query_as::<_, IndicatorRow>(sqlx::AssertSqlSafe(sql))
            .bind(owner.to_owned())
            .bind(kind.unwrap_or("").to_owned())
            .bind(pattern);
        for tlp in open_tlps {
            query = query.bind((*tlp).to_owned());
        }
        Ok(query.fetch_all(self.reader()).await?)
    }

    /// The observables of every incident `owner` holds (merged ones left out).
    pub async fn incident_observables_of(&self, owner: &str) -> Result<Vec<IncidentObservable>, StoreError> {
        Ok(sqlx::query_as::<_, IncidentObservable>(
            "SELECT i.reference, i.tlp, i.created_at, o.kind, o.value FROM incident_observables o \
             JOIN incidents i ON i.id = o.incident_id WHERE i.owner_org_id = $1 AND i.merged_into IS NULL \
             ORDER BY i.created_at, o.kind, o.value",
        )
        .bind(owner.to_owned())
        .fetch_all(self.reader())
        .await?)
    }

    pub async fn indicator(&self, id: &str) -> Result<IndicatorRow, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM indicators WHERE id = $1");
        sqlx::query_as::<_, IndicatorRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "indicator" })
    }

    pub async fn indicator_sightings(&self, id: &str) -> Result<Vec<SightingRow>, StoreError> {
        Ok(sqlx::query_as::<_, SightingRow>(
            "SELECT indicator_id, seen_at, source FROM indicator_sightings WHERE indicator_id = $1 ORDER BY seen_at DESC, source",
        )
        .bind(id.to_owned())
        .fetch_all(self.reader())
        .await?)
    }
}

impl WriteTx {
    pub async fn indicator_find(&mut self, owner: &str, kind: &str, value: &str) -> Result<Option<IndicatorRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM indicators WHERE owner_org_id = $1 AND kind = $2 AND value = $3");
        Ok(sqlx::query_as::<_, IndicatorRow>(sqlx::AssertSqlSafe(sql))
            .bind(owner.to_owned())
            .bind(kind.to_owned())
            .bind(value.to_owned())
            .fetch_optional(self.conn())
            .await?)
    }

    /// Inserts or replaces the row with this id.
    pub async fn indicator_save(&mut self, row: &IndicatorRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO indicators ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (id) DO UPDATE SET tlp = excluded.tlp, confidence = excluded.confidence, first_seen = excluded.first_seen, \
             last_seen = excluded.last_seen, sightings = excluded.sightings, expires_at = excluded.expires_at, \
             description = excluded.description, updated_at = excluded.updated_at"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.id.clone())
            .bind(row.owner_org_id.clone())
            .bind(row.kind.clone())
            .bind(row.value.clone())
            .bind(row.tlp.clone())
            .bind(row.confidence)
            .bind(row.first_seen.clone())
            .bind(row.last_seen.clone())
            .bind(row.sightings)
            .bind(row.expires_at.clone())
            .bind(row.description.clone())
            .bind(row.created_at.clone())
            .bind(row.updated_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Records a sighting; false when that one was already recorded.
    pub async fn indicator_sighting_insert(&mut self, row: &SightingRow) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO indicator_sightings (indicator_id, seen_at, source) VALUES ($1, $2, $3) \
             ON CONFLICT (indicator_id, seen_at, source) DO NOTHING",
        )
        .bind(row.indicator_id.clone())
        .bind(row.seen_at.clone())
        .bind(row.source.clone())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
