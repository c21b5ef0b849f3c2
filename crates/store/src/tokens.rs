//! Personal API tokens. The token itself is shown once; only its SHA-256 is
//! kept (tokens are 256 random bits, so a fast hash is enough).

use crate::{Store, StoreError, WriteTx};
use chrono::{DateTime, Utc};
use rampart_core::{new_id, time};
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Serialize)]
pub struct ApiTokenRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The first characters of the token, to recognise it in a list.
    pub prefix: String,
    #[serde(skip)]
    pub token_hash: String,
    /// Role slugs this token may use; a subset of the user's roles.
    pub roles: Vec<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

fn token_from(row: &sqlx::any::AnyRow) -> Result<ApiTokenRow, StoreError> {
    let roles: String = row.try_get("roles")?;
    Ok(ApiTokenRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        token_hash: row.try_get("token_hash")?,
        roles: roles.split(',').filter(|r| !r.is_empty()).map(str::to_owned).collect(),
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

const TOKEN_COLUMNS: &str = "id, user_id, name, prefix, token_hash, roles, created_at, expires_at, revoked_at, last_used_at";

impl WriteTx {
    #[allow(clippy::too_many_arguments)]
    pub async fn token_insert(
        &mut self,
        user_id: &str,
        name: &str,
        prefix: &str,
        token_hash: &str,
        roles: &[String],
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<ApiTokenRow, StoreError> {
        let id = new_id(now).to_string();
        let at = time::format(now);
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, roles, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.clone())
        .bind(user_id.to_owned())
        .bind(name.to_owned())
        .bind(prefix.to_owned())
        .bind(token_hash.to_owned())
        .bind(roles.join(","))
        .bind(at.clone())
        .bind(expires_at.map(time::format))
        .execute(self.conn())
        .await?;
        Ok(ApiTokenRow {
            id,
            user_id: user_id.to_owned(),
            name: name.to_owned(),
            prefix: prefix.to_owned(),
            token_hash: token_hash.to_owned(),
            roles: roles.to_vec(),
            created_at: at,
            expires_at: expires_at.map(time::format),
            revoked_at: None,
            last_used_at: None,
        })
    }

    pub async fn token_revoke(&mut self, token_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(token_id.to_owned())
            .bind(time::format(now))
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "api token" });
        }
        Ok(())
    }
}

impl Store {
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<ApiTokenRow>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token_hash.to_owned()).fetch_optional(self.reader()).await?;
        row.as_ref().map(token_from).transpose()
    }

    pub async fn token_get(&self, token_id: &str) -> Result<ApiTokenRow, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "api token" })?;
        token_from(&row)
    }

    pub async fn tokens_of(&self, user_id: &str) -> Result<Vec<ApiTokenRow>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id.to_owned()).fetch_all(self.reader()).await?;
        rows.iter().map(token_from).collect()
    }

    /// Bookkeeping on each use; not audited.
    pub async fn token_touch(&self, token_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(token_id.to_owned())
            .bind(time::format(now))
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
