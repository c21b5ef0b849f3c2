//! Global Cybersecurity Index: editions, campaigns, participants, answers
//! (append-only versions), evidence files and result sets. See migration
//! 0008. The rules (who may do what, which transitions) live in
//! `rampart-gci`; this module only reads and writes rows.

use crate::{Store, StoreError, WriteTx};
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EditionRow {
    pub code: String,
    pub name: String,
    pub year: i64,
    pub framework: String,
    pub frozen: bool,
    pub based_on: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CampaignRow {
    pub id: String,
    pub edition_code: String,
    pub name: String,
    pub deadline: String,
    pub status: String,
    pub created_by: String,
    pub created_at: String,
    pub published_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ParticipantRow {
    pub campaign_id: String,
    pub country: String,
    pub status: String,
    pub submitted_at: Option<String>,
    pub validated_at: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AnswerRow {
    pub campaign_id: String,
    pub country: String,
    pub question_id: String,
    pub version: i64,
    pub value: String,
    pub comment: String,
    pub evidence: String,
    pub state: String,
    pub review_comment: String,
    pub author_id: Option<String>,
    pub author_label: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EvidenceFileRow {
    pub id: String,
    pub campaign_id: String,
    pub country: String,
    pub filename: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ResultSetRow {
    pub id: String,
    pub edition_code: String,
    pub name: String,
    pub kind: String,
    pub campaign_id: Option<String>,
    pub entries: String,
    pub warnings: String,
    pub published_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

const EDITION_COLUMNS: &str = "code, name, year, framework, frozen, based_on, created_by, created_at, updated_at";
const CAMPAIGN_COLUMNS: &str = "id, edition_code, name, deadline, status, created_by, created_at, published_at";
const PARTICIPANT_COLUMNS: &str = "campaign_id, country, status, submitted_at, validated_at, updated_at";
const ANSWER_COLUMNS: &str =
    "campaign_id, country, question_id, version, value, comment, evidence, state, review_comment, author_id, author_label, at";
const RESULT_COLUMNS: &str = "id, edition_code, name, kind, campaign_id, entries, warnings, published_at, created_by, created_at";

fn edition_from(r: &sqlx::any::AnyRow) -> Result<EditionRow, StoreError> {
    Ok(EditionRow {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        year: r.try_get("year")?,
        framework: r.try_get("framework")?,
        frozen: r.try_get::<i64, _>("frozen")? != 0,
        based_on: r.try_get("based_on")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn campaign_from(r: &sqlx::any::AnyRow) -> Result<CampaignRow, StoreError> {
    Ok(CampaignRow {
        id: r.try_get("id")?,
        edition_code: r.try_get("edition_code")?,
        name: r.try_get("name")?,
        deadline: r.try_get("deadline")?,
        status: r.try_get("status")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        published_at: r.try_get("published_at")?,
    })
}

fn participant_from(r: &sqlx::any::AnyRow) -> Result<ParticipantRow, StoreError> {
    Ok(ParticipantRow {
        campaign_id: r.try_get("campaign_id")?,
        country: r.try_get("country")?,
        status: r.try_get("status")?,
        submitted_at: r.try_get("submitted_at")?,
        validated_at: r.try_get("validated_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn answer_from(r: &sqlx::any::AnyRow) -> Result<AnswerRow, StoreError> {
    Ok(AnswerRow {
        campaign_id: r.try_get("campaign_id")?,
        country: r.try_get("country")?,
        question_id: r.try_get("question_id")?,
        version: r.try_get("version")?,
        value: r.try_get("value")?,
        comment: r.try_get("comment")?,
        evidence: r.try_get("evidence")?,
        state: r.try_get("state")?,
        review_comment: r.try_get("review_comment")?,
        author_id: r.try_get("author_id")?,
        author_label: r.try_get("author_label")?,
        at: r.try_get("at")?,
    })
}

fn result_from(r: &sqlx::any::AnyRow) -> Result<ResultSetRow, StoreError> {
    Ok(ResultSetRow {
        id: r.try_get("id")?,
        edition_code: r.try_get("edition_code")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        campaign_id: r.try_get("campaign_id")?,
        entries: r.try_get("entries")?,
        warnings: r.try_get("warnings")?,
        published_at: r.try_get("published_at")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

fn evidence_from(r: &sqlx::any::AnyRow) -> Result<EvidenceFileRow, StoreError> {
    Ok(EvidenceFileRow {
        id: r.try_get("id")?,
        campaign_id: r.try_get("campaign_id")?,
        country: r.try_get("country")?,
        filename: r.try_get("filename")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

impl Store {
    pub async fn gci_editions(&self) -> Result<Vec<EditionRow>, StoreError> {
        let sql = format!("SELECT {EDITION_COLUMNS} FROM gci_editions ORDER BY year DESC, code");
        sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.reader()).await?.iter().map(edition_from).collect()
    }

    pub async fn gci_edition(&self, code: &str) -> Result<EditionRow, StoreError> {
        let sql = format!("SELECT {EDITION_COLUMNS} FROM gci_editions WHERE code = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(code.to_owned()).fetch_optional(self.reader()).await?;
        edition_from(&row.ok_or(StoreError::NotFound { entity: "edition" })?)
    }

    pub async fn gci_campaigns(&self) -> Result<Vec<CampaignRow>, StoreError> {
        let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM gci_campaigns ORDER BY created_at DESC");
        sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.reader()).await?.iter().map(campaign_from).collect()
    }

    pub async fn gci_campaign(&self, id: &str) -> Result<CampaignRow, StoreError> {
        let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM gci_campaigns WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.to_owned()).fetch_optional(self.reader()).await?;
        campaign_from(&row.ok_or(StoreError::NotFound { entity: "campaign" })?)
    }

    pub async fn gci_participants(&self, campaign_id: &str) -> Result<Vec<ParticipantRow>, StoreError> {
        let sql = format!("SELECT {PARTICIPANT_COLUMNS} FROM gci_participants WHERE campaign_id = $1 ORDER BY country");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(campaign_id.to_owned())
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(participant_from)
            .collect()
    }

    /// The campaigns a country takes part in, newest first.
    pub async fn gci_participations(&self, country: &str) -> Result<Vec<ParticipantRow>, StoreError> {
        let sql = format!("SELECT {PARTICIPANT_COLUMNS} FROM gci_participants WHERE country = $1 ORDER BY updated_at DESC");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(country.to_owned())
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(participant_from)
            .collect()
    }

    /// Every version of every answer of a country, oldest first.
    pub async fn gci_answers(&self, campaign_id: &str, country: &str) -> Result<Vec<AnswerRow>, StoreError> {
        let sql = format!("SELECT {ANSWER_COLUMNS} FROM gci_answers WHERE campaign_id = $1 AND country = $2 ORDER BY question_id, version");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(campaign_id.to_owned())
            .bind(country.to_owned())
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(answer_from)
            .collect()
    }

    /// Every version of every answer in a campaign, oldest first.
    pub async fn gci_campaign_answers(&self, campaign_id: &str) -> Result<Vec<AnswerRow>, StoreError> {
        let sql = format!("SELECT {ANSWER_COLUMNS} FROM gci_answers WHERE campaign_id = $1 ORDER BY country, question_id, version");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(campaign_id.to_owned()).fetch_all(self.reader()).await?.iter().map(answer_from).collect()
    }

    pub async fn gci_evidence_files(&self, campaign_id: &str, country: &str) -> Result<Vec<EvidenceFileRow>, StoreError> {
        let sql = "SELECT id, campaign_id, country, filename, size, sha256, uploaded_by, uploaded_at FROM gci_evidence_files \
                   WHERE campaign_id = $1 AND country = $2 ORDER BY uploaded_at";
        sqlx::query(sql)
            .bind(campaign_id.to_owned())
            .bind(country.to_owned())
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(evidence_from)
            .collect()
    }

    pub async fn gci_evidence_file(&self, id: &str) -> Result<(EvidenceFileRow, Vec<u8>), StoreError> {
        let sql = "SELECT id, campaign_id, country, filename, size, sha256, uploaded_by, uploaded_at, content FROM gci_evidence_files WHERE id = $1";
        let row = sqlx::query(sql)
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "evidence file" })?;
        Ok((evidence_from(&row)?, row.try_get("content")?))
    }

    pub async fn gci_result_sets(&self) -> Result<Vec<ResultSetRow>, StoreError> {
        let sql = format!("SELECT {RESULT_COLUMNS} FROM gci_result_sets ORDER BY created_at DESC");
        sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.reader()).await?.iter().map(result_from).collect()
    }

    pub async fn gci_result_set(&self, id: &str) -> Result<ResultSetRow, StoreError> {
        let sql = format!("SELECT {RESULT_COLUMNS} FROM gci_result_sets WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.to_owned()).fetch_optional(self.reader()).await?;
        result_from(&row.ok_or(StoreError::NotFound { entity: "result set" })?)
    }
}

impl WriteTx {
    pub async fn gci_edition_upsert(&mut self, row: &EditionRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO gci_editions ({EDITION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, year = excluded.year, framework = excluded.framework, \
             frozen = excluded.frozen, updated_at = excluded.updated_at"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.code.clone())
            .bind(row.name.clone())
            .bind(row.year)
            .bind(row.framework.clone())
            .bind(crate::flag(row.frozen))
            .bind(row.based_on.clone())
            .bind(row.created_by.clone())
            .bind(row.created_at.clone())
            .bind(row.updated_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Reads an edition inside the transaction, so a check that it is not
    /// frozen and the write that follows see the same row.
    pub async fn gci_edition_for_update(&mut self, code: &str) -> Result<EditionRow, StoreError> {
        let sql = format!("SELECT {EDITION_COLUMNS} FROM gci_editions WHERE code = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(code.to_owned()).fetch_optional(self.conn()).await?;
        edition_from(&row.ok_or(StoreError::NotFound { entity: "edition" })?)
    }

    pub async fn gci_campaign_insert(&mut self, row: &CampaignRow, countries: &[String]) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO gci_campaigns ({CAMPAIGN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.id.clone())
            .bind(row.edition_code.clone())
            .bind(row.name.clone())
            .bind(row.deadline.clone())
            .bind(row.status.clone())
            .bind(row.created_by.clone())
            .bind(row.created_at.clone())
            .bind(row.published_at.clone())
            .execute(self.conn())
            .await?;
        for country in countries {
            sqlx::query("INSERT INTO gci_participants (campaign_id, country, status, updated_at) VALUES ($1, $2, 'not_started', $3)")
                .bind(row.id.clone())
                .bind(country.clone())
                .bind(row.created_at.clone())
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    pub async fn gci_campaign_status(&mut self, id: &str, status: &str, published_at: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE gci_campaigns SET status = $1, published_at = $2 WHERE id = $3")
            .bind(status.to_owned())
            .bind(published_at.map(str::to_owned))
            .bind(id.to_owned())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn gci_participant_for_update(&mut self, campaign_id: &str, country: &str) -> Result<ParticipantRow, StoreError> {
        let sql = format!("SELECT {PARTICIPANT_COLUMNS} FROM gci_participants WHERE campaign_id = $1 AND country = $2");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(campaign_id.to_owned()).bind(country.to_owned()).fetch_optional(self.conn()).await?;
        participant_from(&row.ok_or(StoreError::NotFound { entity: "participant" })?)
    }

    pub async fn gci_participant_update(&mut self, row: &ParticipantRow) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE gci_participants SET status = $1, submitted_at = $2, validated_at = $3, updated_at = $4 \
             WHERE campaign_id = $5 AND country = $6",
        )
        .bind(row.status.clone())
        .bind(row.submitted_at.clone())
        .bind(row.validated_at.clone())
        .bind(row.updated_at.clone())
        .bind(row.campaign_id.clone())
        .bind(row.country.clone())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The latest version of each answer of a country, read in the
    /// transaction that will add the next versions.
    pub async fn gci_latest_answers(&mut self, campaign_id: &str, country: &str) -> Result<Vec<AnswerRow>, StoreError> {
        let sql = format!(
            "SELECT {ANSWER_COLUMNS} FROM gci_answers a WHERE campaign_id = $1 AND country = $2 AND version = \
             (SELECT MAX(version) FROM gci_answers b WHERE b.campaign_id = a.campaign_id AND b.country = a.country \
              AND b.question_id = a.question_id) ORDER BY question_id"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(campaign_id.to_owned())
            .bind(country.to_owned())
            .fetch_all(self.conn())
            .await?
            .iter()
            .map(answer_from)
            .collect()
    }

    pub async fn gci_answer_insert(&mut self, row: &AnswerRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO gci_answers ({ANSWER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.campaign_id.clone())
            .bind(row.country.clone())
            .bind(row.question_id.clone())
            .bind(row.version)
            .bind(row.value.clone())
            .bind(row.comment.clone())
            .bind(row.evidence.clone())
            .bind(row.state.clone())
            .bind(row.review_comment.clone())
            .bind(row.author_id.clone())
            .bind(row.author_label.clone())
            .bind(row.at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn gci_evidence_insert(&mut self, row: &EvidenceFileRow, content: &[u8]) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO gci_evidence_files (id, campaign_id, country, filename, size, sha256, uploaded_by, uploaded_at, content) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(row.id.clone())
        .bind(row.campaign_id.clone())
        .bind(row.country.clone())
        .bind(row.filename.clone())
        .bind(row.size)
        .bind(row.sha256.clone())
        .bind(row.uploaded_by.clone())
        .bind(row.uploaded_at.clone())
        .bind(content.to_vec())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn gci_result_set_insert(&mut self, row: &ResultSetRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO gci_result_sets ({RESULT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.id.clone())
            .bind(row.edition_code.clone())
            .bind(row.name.clone())
            .bind(row.kind.clone())
            .bind(row.campaign_id.clone())
            .bind(row.entries.clone())
            .bind(row.warnings.clone())
            .bind(row.published_at.clone())
            .bind(row.created_by.clone())
            .bind(row.created_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

/// Someone to remind: a focal point of a country.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct FocalPointRow {
    pub email: String,
    pub display_name: String,
    pub language: String,
}

impl Store {
    /// The active users holding the GCI focal point role for `country`.
    pub async fn gci_focal_points(&self, country: &str) -> Result<Vec<FocalPointRow>, StoreError> {
        Ok(sqlx::query_as::<_, FocalPointRow>(
            "SELECT DISTINCT u.email, u.display_name, u.language FROM users u JOIN role_grants g ON g.user_id = u.id \
             WHERE g.role = 'gci_focal_point' AND g.scope_country = $1 AND u.disabled = 0 ORDER BY u.email",
        )
        .bind(country.to_owned())
        .fetch_all(self.reader())
        .await?)
    }

    /// The stages already reminded in a campaign: (country, stage).
    pub async fn gci_reminders_sent(&self, campaign_id: &str) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as::<_, (String, i64)>("SELECT country, stage FROM gci_reminders WHERE campaign_id = $1")
            .bind(campaign_id.to_owned())
            .fetch_all(self.reader())
            .await?)
    }
}

impl WriteTx {
    /// Records a stage as reminded; false when it already was (another
    /// sender got there first), so the caller sends nothing twice.
    pub async fn gci_reminder_insert(
        &mut self,
        campaign_id: &str,
        country: &str,
        stage: i64,
        recipients: i64,
        at: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO gci_reminders (campaign_id, country, stage, recipients, sent_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (campaign_id, country, stage) DO NOTHING",
        )
        .bind(campaign_id.to_owned())
        .bind(country.to_owned())
        .bind(stage)
        .bind(recipients)
        .bind(at.to_owned())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
