//! Sessions live in the database so any web node can serve any request.
//! Only a hash of the session id is stored: a copy of the table does not
//! let anyone log in.

use crate::{Store, StoreError, WriteTx, flag};
use chrono::{DateTime, Utc};
use rampart_core::time;
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub mfa_verified: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl WriteTx {
    pub async fn session_insert(
        &mut self,
        id_hash: &str,
        user_id: &str,
        mfa_verified: bool,
        ip: Option<&str>,
        user_agent: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = time::format(now);
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, mfa_verified, ip, user_agent) \
             VALUES ($1, $2, $3, $3, $4, $5, $6)",
        )
        .bind(id_hash.to_owned())
        .bind(user_id.to_owned())
        .bind(at)
        .bind(flag(mfa_verified))
        .bind(ip.map(str::to_owned))
        .bind(user_agent.map(|ua| ua.chars().take(200).collect::<String>()))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn session_delete(&mut self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash.to_owned()).execute(self.conn()).await?;
        Ok(())
    }

    pub async fn sessions_delete_for_user(&mut self, user_id: &str) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id.to_owned()).execute(self.conn()).await?;
        Ok(result.rows_affected())
    }
}

impl Store {
    pub async fn session_get(&self, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        let row =
            sqlx::query("SELECT id_hash, user_id, created_at, last_seen_at, mfa_verified, ip, user_agent FROM sessions WHERE id_hash = $1")
                .bind(id_hash.to_owned())
                .fetch_optional(self.reader())
                .await?;
        row.map(|row| {
            Ok(SessionRow {
                id_hash: row.try_get("id_hash")?,
                user_id: row.try_get("user_id")?,
                created_at: row.try_get("created_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
                mfa_verified: row.try_get::<i64, _>("mfa_verified")? != 0,
                ip: row.try_get("ip")?,
                user_agent: row.try_get("user_agent")?,
            })
        })
        .transpose()
    }

    /// Refreshes the idle timer. Not audited: it is bookkeeping, not a change
    /// anyone made, and it runs on every request.
    pub async fn session_touch(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
            .bind(id_hash.to_owned())
            .bind(time::format(now))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Removes sessions idle since before `idle_cutoff` or created before
    /// `absolute_cutoff`. Housekeeping, not audited.
    pub async fn sessions_purge(&self, idle_cutoff: DateTime<Utc>, absolute_cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
            .bind(time::format(idle_cutoff))
            .bind(time::format(absolute_cutoff))
            .execute(&self.write)
            .await?;
        Ok(result.rows_affected())
    }
}
