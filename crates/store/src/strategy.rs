//! National strategy and CIRT maturity: strategy records with their
//! timeline, documents and stakeholders, self-assessment answers
//! (append-only versions), the action plan with KPIs and measured values,
//! SIM3 assessments and service catalogues. See migration 0009. The rules
//! live in `rampart-strategy`; this module only reads and writes rows.

use crate::{Store, StoreError, WriteTx};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct RecordRow {
    pub country: String,
    pub title: String,
    pub phase: String,
    pub summary: String,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct PhaseRow {
    pub country: String,
    pub phase: String,
    pub started_on: String,
    pub ended_on: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct DocumentRow {
    pub id: String,
    pub country: String,
    pub title: String,
    pub kind: String,
    pub url: String,
    pub issued_on: Option<String>,
    pub added_by: String,
    pub added_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct StakeholderRow {
    pub id: String,
    pub country: String,
    pub name: String,
    pub sector: String,
    pub role: String,
    pub added_by: String,
    pub added_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct AssessmentAnswerRow {
    pub country: String,
    pub framework: String,
    pub element_id: String,
    pub version: i64,
    pub status: String,
    pub priority: String,
    pub evidence: String,
    pub comment: String,
    pub author_id: Option<String>,
    pub author_label: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct ObjectiveRow {
    pub id: String,
    pub country: String,
    pub title: String,
    pub area: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct ActionRow {
    pub id: String,
    pub country: String,
    pub objective_id: String,
    pub title: String,
    pub lead_org: String,
    pub supporting: String,
    pub budget: Option<i64>,
    pub currency: String,
    pub start_on: String,
    pub end_on: String,
    pub status: String,
    pub origin: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct KpiRow {
    pub id: String,
    pub action_id: String,
    pub name: String,
    pub unit: String,
    pub baseline: f64,
    pub target: f64,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct KpiValueRow {
    pub kpi_id: String,
    pub measured_on: String,
    pub value: f64,
    pub note: String,
    pub author_label: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct MaturityRow {
    pub id: String,
    pub org_id: String,
    pub country: String,
    pub model: String,
    pub assessed_on: String,
    pub levels: String,
    pub targets: String,
    pub notes: String,
    pub created_by: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceRow {
    pub org_id: String,
    pub service_id: String,
    pub level: String,
    pub audience: String,
    pub note: String,
    pub updated_by: String,
    pub updated_at: String,
}

const RECORD_COLUMNS: &str = "country, title, phase, summary, updated_by, updated_at";
const PHASE_COLUMNS: &str = "country, phase, started_on, ended_on, note";
const DOCUMENT_COLUMNS: &str = "id, country, title, kind, url, issued_on, added_by, added_at";
const STAKEHOLDER_COLUMNS: &str = "id, country, name, sector, role, added_by, added_at";
const ANSWER_COLUMNS: &str = "country, framework, element_id, version, status, priority, evidence, comment, author_id, author_label, at";
const OBJECTIVE_COLUMNS: &str = "id, country, title, area, created_at";
const ACTION_COLUMNS: &str = "id, country, objective_id, title, lead_org, supporting, budget, currency, start_on, end_on, status, origin, \
                              created_by, created_at, updated_at";
const KPI_COLUMNS: &str = "id, action_id, name, unit, baseline, target, created_at";
const KPI_VALUE_COLUMNS: &str = "kpi_id, measured_on, value, note, author_label, at";
const MATURITY_COLUMNS: &str = "id, org_id, country, model, assessed_on, levels, targets, notes, created_by, created_at";
const SERVICE_COLUMNS: &str = "org_id, service_id, level, audience, note, updated_by, updated_at";

/// Everything of one country's action plan, read together.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlanRows {
    pub objectives: Vec<ObjectiveRow>,
    pub actions: Vec<ActionRow>,
    pub kpis: Vec<KpiRow>,
    pub values: Vec<KpiValueRow>,
}

macro_rules! select {
    ($store:expr, $ty:ty, $sql:expr $(, $bind:expr)*) => {{
        let sql: String = $sql;
        sqlx::query_as::<_, $ty>(sqlx::AssertSqlSafe(sql))$(.bind($bind.to_owned()))*.fetch_all($store.reader()).await.map_err(StoreError::from)
    }};
}

impl Store {
    pub async fn strategy_records(&self) -> Result<Vec<RecordRow>, StoreError> {
        select!(self, RecordRow, format!("SELECT {RECORD_COLUMNS} FROM strategy_records ORDER BY country"))
    }

    pub async fn strategy_record(&self, country: &str) -> Result<Option<RecordRow>, StoreError> {
        Ok(select!(self, RecordRow, format!("SELECT {RECORD_COLUMNS} FROM strategy_records WHERE country = $1"), country)?.pop())
    }

    pub async fn strategy_phases(&self, country: &str) -> Result<Vec<PhaseRow>, StoreError> {
        select!(self, PhaseRow, format!("SELECT {PHASE_COLUMNS} FROM strategy_phases WHERE country = $1 ORDER BY started_on"), country)
    }

    pub async fn strategy_documents(&self, country: &str) -> Result<Vec<DocumentRow>, StoreError> {
        select!(
            self,
            DocumentRow,
            format!("SELECT {DOCUMENT_COLUMNS} FROM strategy_documents WHERE country = $1 ORDER BY added_at"),
            country
        )
    }

    pub async fn strategy_stakeholders(&self, country: &str) -> Result<Vec<StakeholderRow>, StoreError> {
        select!(
            self,
            StakeholderRow,
            format!("SELECT {STAKEHOLDER_COLUMNS} FROM strategy_stakeholders WHERE country = $1 ORDER BY sector, name"),
            country
        )
    }

    /// Every version of every self-assessment answer of a country, oldest first.
    pub async fn strategy_answers(&self, country: &str, framework: &str) -> Result<Vec<AssessmentAnswerRow>, StoreError> {
        select!(
            self,
            AssessmentAnswerRow,
            format!("SELECT {ANSWER_COLUMNS} FROM strategy_answers WHERE country = $1 AND framework = $2 ORDER BY element_id, version"),
            country,
            framework
        )
    }

    /// The latest version of every answer of every country, for comparisons.
    pub async fn strategy_latest_answers(&self, framework: &str) -> Result<Vec<AssessmentAnswerRow>, StoreError> {
        select!(
            self,
            AssessmentAnswerRow,
            format!(
                "SELECT {ANSWER_COLUMNS} FROM strategy_answers a WHERE framework = $1 AND version = (SELECT MAX(version) FROM \
                 strategy_answers b WHERE b.country = a.country AND b.framework = a.framework AND b.element_id = a.element_id) \
                 ORDER BY country, element_id"
            ),
            framework
        )
    }

    pub async fn strategy_plan(&self, country: &str) -> Result<PlanRows, StoreError> {
        let objectives = select!(
            self,
            ObjectiveRow,
            format!("SELECT {OBJECTIVE_COLUMNS} FROM strategy_objectives WHERE country = $1 ORDER BY created_at, id"),
            country
        )?;
        let actions = select!(
            self,
            ActionRow,
            format!("SELECT {ACTION_COLUMNS} FROM strategy_actions WHERE country = $1 ORDER BY start_on, created_at, id"),
            country
        )?;
        let kpis = select!(
            self,
            KpiRow,
            format!(
                "SELECT k.id, k.action_id, k.name, k.unit, k.baseline, k.target, k.created_at FROM strategy_kpis k \
                 JOIN strategy_actions a ON a.id = k.action_id WHERE a.country = $1 ORDER BY k.created_at, k.id"
            ),
            country
        )?;
        let values = select!(
            self,
            KpiValueRow,
            format!(
                "SELECT v.kpi_id, v.measured_on, v.value, v.note, v.author_label, v.at FROM strategy_kpi_values v \
                 JOIN strategy_kpis k ON k.id = v.kpi_id JOIN strategy_actions a ON a.id = k.action_id \
                 WHERE a.country = $1 ORDER BY v.measured_on"
            ),
            country
        )?;
        Ok(PlanRows { objectives, actions, kpis, values })
    }

    /// Every assessment of a CIRT, newest first.
    pub async fn maturity_assessments(&self, org_id: &str) -> Result<Vec<MaturityRow>, StoreError> {
        select!(
            self,
            MaturityRow,
            format!("SELECT {MATURITY_COLUMNS} FROM maturity_assessments WHERE org_id = $1 ORDER BY assessed_on DESC, created_at DESC"),
            org_id
        )
    }

    /// Every assessment of the CIRTs of a country, newest first.
    pub async fn maturity_assessments_in(&self, country: &str) -> Result<Vec<MaturityRow>, StoreError> {
        select!(
            self,
            MaturityRow,
            format!("SELECT {MATURITY_COLUMNS} FROM maturity_assessments WHERE country = $1 ORDER BY assessed_on DESC, created_at DESC"),
            country
        )
    }

    pub async fn cirt_services(&self, org_id: &str) -> Result<Vec<ServiceRow>, StoreError> {
        select!(self, ServiceRow, format!("SELECT {SERVICE_COLUMNS} FROM cirt_services WHERE org_id = $1 ORDER BY service_id"), org_id)
    }
}

impl WriteTx {
    pub async fn strategy_record_upsert(&mut self, row: &RecordRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO strategy_records ({RECORD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (country) DO UPDATE SET \
             title = excluded.title, phase = excluded.phase, summary = excluded.summary, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.country.clone())
            .bind(row.title.clone())
            .bind(row.phase.clone())
            .bind(row.summary.clone())
            .bind(row.updated_by.clone())
            .bind(row.updated_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn strategy_phase_upsert(&mut self, row: &PhaseRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO strategy_phases ({PHASE_COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (country, phase) DO UPDATE SET \
             started_on = excluded.started_on, ended_on = excluded.ended_on, note = excluded.note"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.country.clone())
            .bind(row.phase.clone())
            .bind(row.started_on.clone())
            .bind(row.ended_on.clone())
            .bind(row.note.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn strategy_document_insert(&mut self, row: &DocumentRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO strategy_documents ({DOCUMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.id.clone())
            .bind(row.country.clone())
            .bind(row.title.clone())
            .bind(row.kind.clone())
            .bind(row.url.clone())
            .bind(row.issued_on.clone())
            .bind(row.added_by.clone())
            .bind(row.added_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn strategy_stakeholder_insert(&mut self, row: &StakeholderRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO strategy_stakeholders ({STAKEHOLDER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.id.clone())
            .bind(row.country.clone())
            .bind(row.name.clone())
            .bind(row.sector.clone())
            .bind(row.role.clone())
            .bind(row.added_by.clone())
            .bind(row.added_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Deletes a stakeholder of a country; false when there was none.
    pub async fn strategy_stakeholder_delete(&mut self, country: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM strategy_stakeholders WHERE country = $1 AND id = $2")
            .bind(country.to_owned())
            .bind(id.to_owned())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The newest version number of an answer, read in the transaction that adds the next.
    pub async fn strategy_answer_version(&mut self, country: &str, framework: &str, element: &str) -> Result<i64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM strategy_answers WHERE country = $1 AND framework = $2 AND element_id = $3")
                .bind(country.to_owned())
                .bind(framework.to_owned())
                .bind(element.to_owned())
                .fetch_one(self.conn())
                .await?;
        Ok(version.unwrap_or(0))
    }

    pub async fn strategy_answer_insert(&mut self, row: &AssessmentAnswerRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO strategy_answers ({ANSWER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.country.clone())
            .bind(row.framework.clone())
            .bind(row.element_id.clone())
            .bind(row.version)
            .bind(row.status.clone())
            .bind(row.priority.clone())
            .bind(row.evidence.clone())
            .bind(row.comment.clone())
            .bind(row.author_id.clone())
            .bind(row.author_label.clone())
            .bind(row.at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn strategy_objective_insert(&mut self, row: &ObjectiveRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO strategy_objectives ({OBJECTIVE_COLUMNS}) VALUES ($1, $2, $3, $4, $5)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.id.clone())
            .bind(row.country.clone())
            .bind(row.title.clone())
            .bind(row.area.clone())
            .bind(row.created_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn strategy_action_upsert(&mut self, row: &ActionRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO strategy_actions ({ACTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (id) DO UPDATE SET objective_id = excluded.objective_id, title = excluded.title, lead_org = excluded.lead_org, \
             supporting = excluded.supporting, budget = excluded.budget, currency = excluded.currency, start_on = excluded.start_on, \
             end_on = excluded.end_on, status = excluded.status, updated_at = excluded.updated_at"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.id.clone())
            .bind(row.country.clone())
            .bind(row.objective_id.clone())
            .bind(row.title.clone())
            .bind(row.lead_org.clone())
            .bind(row.supporting.clone())
            .bind(row.budget)
            .bind(row.currency.clone())
            .bind(row.start_on.clone())
            .bind(row.end_on.clone())
            .bind(row.status.clone())
            .bind(row.origin.clone())
            .bind(row.created_by.clone())
            .bind(row.created_at.clone())
            .bind(row.updated_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn strategy_kpi_insert(&mut self, row: &KpiRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO strategy_kpis ({KPI_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.id.clone())
            .bind(row.action_id.clone())
            .bind(row.name.clone())
            .bind(row.unit.clone())
            .bind(row.baseline)
            .bind(row.target)
            .bind(row.created_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Records a measured value; a second value for the same day replaces the first.
    pub async fn strategy_kpi_value_upsert(&mut self, row: &KpiValueRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO strategy_kpi_values ({KPI_VALUE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kpi_id, measured_on) \
             DO UPDATE SET value = excluded.value, note = excluded.note, author_label = excluded.author_label, at = excluded.at"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.kpi_id.clone())
            .bind(row.measured_on.clone())
            .bind(row.value)
            .bind(row.note.clone())
            .bind(row.author_label.clone())
            .bind(row.at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn maturity_insert(&mut self, row: &MaturityRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO maturity_assessments ({MATURITY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.id.clone())
            .bind(row.org_id.clone())
            .bind(row.country.clone())
            .bind(row.model.clone())
            .bind(row.assessed_on.clone())
            .bind(row.levels.clone())
            .bind(row.targets.clone())
            .bind(row.notes.clone())
            .bind(row.created_by.clone())
            .bind(row.created_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn cirt_service_upsert(&mut self, row: &ServiceRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO cirt_services ({SERVICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (org_id, service_id) DO UPDATE \
             SET level = excluded.level, audience = excluded.audience, note = excluded.note, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.org_id.clone())
            .bind(row.service_id.clone())
            .bind(row.level.clone())
            .bind(row.audience.clone())
            .bind(row.note.clone())
            .bind(row.updated_by.clone())
            .bind(row.updated_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
