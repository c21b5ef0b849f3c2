//! Security advisories: working copies and their immutable releases.

use crate::{Store, StoreError, WriteTx, escape_like};
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AdvisoryRow {
    pub id: String,
    pub org_id: String,
    pub tracking_id: String,
    pub title: String,
    pub tlp: String,
    /// The working copy: a CSAF document as JSON text.
    pub document: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// The version last published, if any.
    pub released_version: Option<String>,
    pub released_at: Option<String>,
    /// Bumped by every save, for refusing edits based on an older read.
    pub revision: i64,
}

const ADVISORY_COLUMNS: &str =
    "id, org_id, tracking_id, title, tlp, document, created_by, created_at, updated_at, released_version, released_at, revision";

fn advisory_from(r: &sqlx::any::AnyRow) -> Result<AdvisoryRow, StoreError> {
    Ok(AdvisoryRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        tracking_id: r.try_get("tracking_id")?,
        title: r.try_get("title")?,
        tlp: r.try_get("tlp")?,
        document: r.try_get("document")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        released_version: r.try_get("released_version")?,
        released_at: r.try_get("released_at")?,
        revision: r.try_get("revision")?,
    })
}

/// A published revision. `content` is served byte for byte; the hashes are
/// of exactly those bytes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReleaseRow {
    pub advisory_id: String,
    pub version: String,
    pub released_at: String,
    pub released_by: String,
    pub tlp: String,
    /// The year folder of the provider layout.
    pub year: i64,
    pub file_name: String,
    pub sha256: String,
    pub sha512: String,
    /// Detached armoured OpenPGP signature of the content, if signed.
    pub signature: Option<String>,
}

const RELEASE_COLUMNS: &str =
    "r.advisory_id, r.version, r.released_at, r.released_by, r.tlp, r.year, r.file_name, r.sha256, r.sha512, r.signature";

fn release_from(r: &sqlx::any::AnyRow) -> Result<ReleaseRow, StoreError> {
    Ok(ReleaseRow {
        advisory_id: r.try_get("advisory_id")?,
        version: r.try_get("version")?,
        released_at: r.try_get("released_at")?,
        released_by: r.try_get("released_by")?,
        tlp: r.try_get("tlp")?,
        year: r.try_get("year")?,
        file_name: r.try_get("file_name")?,
        sha256: r.try_get("sha256")?,
        sha512: r.try_get("sha512")?,
        signature: r.try_get("signature")?,
    })
}

impl WriteTx {
    pub async fn advisory_insert(&mut self, row: &AdvisoryRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO advisories ({ADVISORY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.id.clone())
            .bind(row.org_id.clone())
            .bind(row.tracking_id.clone())
            .bind(row.title.clone())
            .bind(row.tlp.clone())
            .bind(row.document.clone())
            .bind(row.created_by.clone())
            .bind(row.created_at.clone())
            .bind(row.updated_at.clone())
            .bind(row.released_version.clone())
            .bind(row.released_at.clone())
            .bind(row.revision)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Replaces the working copy (and the columns derived from it) if it is
    /// still at `read_revision`, the revision its editor read; two editors
    /// saving at once cannot overwrite each other unseen.
    pub async fn advisory_update(
        &mut self,
        id: &str,
        read_revision: i64,
        title: &str,
        tlp: &str,
        document: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        let result = sqlx::query(
            "UPDATE advisories SET title = $3, tlp = $4, document = $5, updated_at = $6, revision = revision + 1 \
             WHERE id = $1 AND revision = $2",
        )
        .bind(id.to_owned())
        .bind(read_revision)
        .bind(title.to_owned())
        .bind(tlp.to_owned())
        .bind(document.to_owned())
        .bind(at.to_owned())
        .execute(self.conn())
        .await?;
        if result.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                field: "document",
                message: "someone else changed this advisory meanwhile; reload and try again".into(),
            })
        }
    }

    /// Stores a release and makes it the advisory's current one.
    pub async fn advisory_release(&mut self, release: &ReleaseRow, content: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO advisory_releases (advisory_id, version, released_at, released_by, tlp, year, file_name, content, sha256, sha512, signature) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(release.advisory_id.clone())
        .bind(release.version.clone())
        .bind(release.released_at.clone())
        .bind(release.released_by.clone())
        .bind(release.tlp.clone())
        .bind(release.year)
        .bind(release.file_name.clone())
        .bind(content.to_owned())
        .bind(release.sha256.clone())
        .bind(release.sha512.clone())
        .bind(release.signature.clone())
        .execute(self.conn())
        .await?;
        sqlx::query("UPDATE advisories SET released_version = $2, released_at = $3, updated_at = $3 WHERE id = $1")
            .bind(release.advisory_id.clone())
            .bind(release.version.clone())
            .bind(release.released_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

impl Store {
    pub async fn advisory_get(&self, id: &str) -> Result<AdvisoryRow, StoreError> {
        let sql = format!("SELECT {ADVISORY_COLUMNS} FROM advisories WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "advisory" })?;
        advisory_from(&row)
    }

    pub async fn advisory_by_tracking_id(&self, org_id: &str, tracking_id: &str) -> Result<Option<AdvisoryRow>, StoreError> {
        let sql = format!("SELECT {ADVISORY_COLUMNS} FROM advisories WHERE org_id = $1 AND tracking_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_owned())
            .bind(tracking_id.to_owned())
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(advisory_from).transpose()
    }

    /// Advisories, newest change first: those of `org_ids` (all when
    /// `None`), and, when `released` is set, only published ones.
    pub async fn advisory_list(&self, org_ids: Option<&[String]>, released: bool, limit: i64) -> Result<Vec<AdvisoryRow>, StoreError> {
        let owners = org_ids.map(|ids| ids.join(","));
        let sql = format!(
            "SELECT {ADVISORY_COLUMNS} FROM advisories WHERE ($1 IS NULL OR (',' || $1 || ',') LIKE ('%,' || org_id || ',%')) \
             AND ($2 = 0 OR released_version IS NOT NULL) ORDER BY updated_at DESC, id DESC LIMIT $3"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(owners).bind(i64::from(released)).bind(limit).fetch_all(self.reader()).await?;
        rows.iter().map(advisory_from).collect()
    }

    /// An organisation's tracking ids that start with `prefix`, whatever
    /// their case (on both databases).
    pub async fn advisory_ids_with_prefix(&self, org_id: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT tracking_id FROM advisories WHERE org_id = $1 AND LOWER(tracking_id) LIKE $2 ESCAPE '\\'")
            .bind(org_id.to_owned())
            .bind(format!("{}%", escape_like(&prefix.to_lowercase())))
            .fetch_all(self.reader())
            .await?)
    }

    /// The current release of every published advisory of an organisation,
    /// newest first.
    pub async fn current_releases(&self, org_id: &str) -> Result<Vec<ReleaseRow>, StoreError> {
        let sql = format!(
            "SELECT {RELEASE_COLUMNS} FROM advisory_releases r JOIN advisories a ON a.id = r.advisory_id AND a.released_version = r.version \
             WHERE a.org_id = $1 ORDER BY r.released_at DESC, r.advisory_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id.to_owned()).fetch_all(self.reader()).await?;
        rows.iter().map(release_from).collect()
    }

    /// The organisation that first published an advisory here, if any.
    pub async fn first_publisher(&self) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT a.org_id FROM advisory_releases r JOIN advisories a ON a.id = r.advisory_id \
             GROUP BY a.org_id ORDER BY MIN(r.released_at), a.org_id LIMIT 1",
        )
        .fetch_optional(self.reader())
        .await?)
    }

    /// Every release of an advisory, oldest first.
    pub async fn releases_of(&self, advisory_id: &str) -> Result<Vec<ReleaseRow>, StoreError> {
        let sql = format!("SELECT {RELEASE_COLUMNS} FROM advisory_releases r WHERE r.advisory_id = $1 ORDER BY r.released_at, r.version");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(advisory_id.to_owned()).fetch_all(self.reader()).await?;
        rows.iter().map(release_from).collect()
    }

    /// A release with its exact content.
    pub async fn release_content(&self, advisory_id: &str, version: &str) -> Result<(ReleaseRow, String), StoreError> {
        let sql = format!("SELECT {RELEASE_COLUMNS}, r.content FROM advisory_releases r WHERE r.advisory_id = $1 AND r.version = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(advisory_id.to_owned())
            .bind(version.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "advisory release" })?;
        Ok((release_from(&row)?, row.try_get("content")?))
    }
}
