use crate::{Store, StoreError, WriteTx, flag, page::Page, page::PageRequest};
use chrono::{DateTime, Utc};
use rampart_core::{new_id, time};
use serde::Serialize;
use sqlx::Row;

/// A user as stored. Carries secrets (password hash, TOTP secret): it never
/// crosses a wire; `web` converts it to a public view.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub language: String,
    pub disabled: bool,
    pub must_change_password: bool,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: Option<i64>,
    pub failed_logins: i64,
    pub locked_until: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_login_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub org_id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub language: String,
    pub must_change_password: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RoleGrantRow {
    pub id: String,
    pub user_id: String,
    pub role: String,
    pub scope_org_id: Option<String>,
    pub scope_country: Option<String>,
    pub created_at: String,
}

const USER_COLUMNS: &str = "id, org_id, email, display_name, password_hash, language, disabled, must_change_password, \
    totp_secret, totp_enabled, totp_last_step, failed_logins, locked_until, created_at, updated_at, last_login_at";

fn user_from(row: &sqlx::any::AnyRow) -> Result<UserRow, StoreError> {
    Ok(UserRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        password_hash: row.try_get("password_hash")?,
        language: row.try_get("language")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        totp_secret: row.try_get("totp_secret")?,
        totp_enabled: row.try_get::<i64, _>("totp_enabled")? != 0,
        totp_last_step: row.try_get("totp_last_step")?,
        failed_logins: row.try_get("failed_logins")?,
        locked_until: row.try_get("locked_until")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_login_at: row.try_get("last_login_at")?,
    })
}

fn grant_from(row: &sqlx::any::AnyRow) -> Result<RoleGrantRow, StoreError> {
    Ok(RoleGrantRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        role: row.try_get("role")?,
        scope_org_id: row.try_get("scope_org_id")?,
        scope_country: row.try_get("scope_country")?,
        created_at: row.try_get("created_at")?,
    })
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub org_id: Option<String>,
    pub email_contains: Option<String>,
}

impl WriteTx {
    pub async fn user_insert(&mut self, user: &NewUser, now: DateTime<Utc>) -> Result<String, StoreError> {
        let id = new_id(now).to_string();
        let at = time::format(now);
        sqlx::query(
            "INSERT INTO users (id, org_id, email, display_name, password_hash, language, must_change_password, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(id.clone())
        .bind(user.org_id.clone())
        .bind(user.email.to_lowercase())
        .bind(user.display_name.clone())
        .bind(user.password_hash.clone())
        .bind(user.language.clone())
        .bind(flag(user.must_change_password))
        .bind(at)
        .execute(self.conn())
        .await?;
        Ok(id)
    }

    async fn user_update(
        &mut self,
        sql: &'static str,
        user_id: &str,
        now: DateTime<Utc>,
        bind: Vec<Option<String>>,
    ) -> Result<(), StoreError> {
        let mut query = sqlx::query(sql).bind(user_id.to_owned()).bind(time::format(now));
        for value in bind {
            query = query.bind(value);
        }
        let result = query.execute(self.conn()).await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "user" });
        }
        Ok(())
    }

    pub async fn user_set_password(&mut self, user_id: &str, hash: &str, must_change: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
        let sql = if must_change {
            "UPDATE users SET password_hash = $3, must_change_password = 1, failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $1"
        } else {
            "UPDATE users SET password_hash = $3, must_change_password = 0, failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $1"
        };
        self.user_update(sql, user_id, now, vec![Some(hash.to_owned())]).await
    }

    pub async fn user_set_disabled(&mut self, user_id: &str, disabled: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
        let sql = if disabled {
            "UPDATE users SET disabled = 1, updated_at = $2 WHERE id = $1"
        } else {
            "UPDATE users SET disabled = 0, updated_at = $2 WHERE id = $1"
        };
        self.user_update(sql, user_id, now, vec![]).await?;
        if disabled {
            // A disabled user loses every open session at once.
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id.to_owned()).execute(self.conn()).await?;
        }
        Ok(())
    }

    pub async fn user_set_language(&mut self, user_id: &str, language: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.user_update("UPDATE users SET language = $3, updated_at = $2 WHERE id = $1", user_id, now, vec![Some(language.to_owned())])
            .await
    }

    /// Records a failed login; `lock_until` is set when the caller decided
    /// the account must be locked.
    pub async fn user_login_failed(
        &mut self,
        user_id: &str,
        lock_until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.user_update(
            // A lock that has run out starts a fresh count, so one mistake
            // after a lockout does not lock the account again at once.
            "UPDATE users SET \
               failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN 1 ELSE failed_logins + 1 END, \
               locked_until = CASE WHEN $3 IS NOT NULL THEN $3 WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN NULL \
                                   ELSE locked_until END, \
               updated_at = $2 WHERE id = $1",
            user_id,
            now,
            vec![lock_until.map(time::format)],
        )
        .await
    }

    pub async fn user_login_succeeded(&mut self, user_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.user_update(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $2, updated_at = $2 WHERE id = $1",
            user_id,
            now,
            vec![],
        )
        .await
    }

    /// Stores a TOTP secret not yet confirmed; enabling needs a valid code.
    pub async fn user_set_totp_pending(&mut self, user_id: &str, secret: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.user_update(
            "UPDATE users SET totp_secret = $3, totp_enabled = 0, updated_at = $2 WHERE id = $1",
            user_id,
            now,
            vec![Some(secret.to_owned())],
        )
        .await
    }

    pub async fn user_enable_totp(
        &mut self,
        user_id: &str,
        step: i64,
        code_hashes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.user_update(
            "UPDATE users SET totp_enabled = 1, totp_last_step = CAST($3 AS BIGINT), updated_at = $2 WHERE id = $1",
            user_id,
            now,
            vec![Some(step.to_string())],
        )
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id.to_owned()).execute(self.conn()).await?;
        for hash in code_hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id.to_owned())
                .bind(hash.clone())
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    pub async fn user_disable_totp(&mut self, user_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.user_update(
            "UPDATE users SET totp_enabled = 0, totp_secret = NULL, totp_last_step = NULL, updated_at = $2 WHERE id = $1",
            user_id,
            now,
            vec![],
        )
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id.to_owned()).execute(self.conn()).await?;
        Ok(())
    }

    /// Accepts a TOTP time step only if it is newer than the last one used,
    /// so a code cannot be replayed within its window.
    pub async fn user_advance_totp_step(&mut self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)")
            .bind(user_id.to_owned())
            .bind(step)
            .execute(self.conn())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Marks a recovery code used; false if unknown or already used.
    pub async fn recovery_code_use(&mut self, user_id: &str, code_hash: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL")
            .bind(user_id.to_owned())
            .bind(code_hash.to_owned())
            .bind(time::format(now))
            .execute(self.conn())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn role_grant(
        &mut self,
        user_id: &str,
        role: &str,
        scope_org_id: Option<&str>,
        scope_country: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<RoleGrantRow, StoreError> {
        let id = new_id(now).to_string();
        let at = time::format(now);
        sqlx::query("INSERT INTO role_grants (id, user_id, role, scope_org_id, scope_country, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id.clone())
            .bind(user_id.to_owned())
            .bind(role.to_owned())
            .bind(scope_org_id.map(str::to_owned))
            .bind(scope_country.map(str::to_owned))
            .bind(at.clone())
            .execute(self.conn())
            .await?;
        Ok(RoleGrantRow {
            id,
            user_id: user_id.to_owned(),
            role: role.to_owned(),
            scope_org_id: scope_org_id.map(str::to_owned),
            scope_country: scope_country.map(str::to_owned),
            created_at: at,
        })
    }

    pub async fn role_revoke(&mut self, grant_id: &str) -> Result<RoleGrantRow, StoreError> {
        let row = sqlx::query("SELECT id, user_id, role, scope_org_id, scope_country, created_at FROM role_grants WHERE id = $1")
            .bind(grant_id.to_owned())
            .fetch_optional(self.conn())
            .await?
            .ok_or(StoreError::NotFound { entity: "role grant" })?;
        let grant = grant_from(&row)?;
        sqlx::query("DELETE FROM role_grants WHERE id = $1").bind(grant_id.to_owned()).execute(self.conn()).await?;
        Ok(grant)
    }
}

impl Store {
    pub async fn user_get(&self, id: &str) -> Result<UserRow, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "user" })?;
        user_from(&row)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(email.trim().to_lowercase()).fetch_optional(self.reader()).await?;
        row.as_ref().map(user_from).transpose()
    }

    /// Ordered by e-mail; the cursor is the last e-mail (unique).
    pub async fn user_list(&self, filter: &UserFilter, page: &PageRequest) -> Result<Page<UserRow>, StoreError> {
        let contains = filter.email_contains.as_ref().map(|text| format!("%{}%", crate::escape_like(&text.to_lowercase())));
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email > $1 AND ($2 IS NULL OR org_id = $2) \
             AND ($3 IS NULL OR email LIKE $3 ESCAPE '\\') ORDER BY email LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(page.after.clone().unwrap_or_default())
            .bind(filter.org_id.clone())
            .bind(contains)
            .bind(page.fetch_limit())
            .fetch_all(self.reader())
            .await?;
        let users = rows.iter().map(user_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(users, |user| user.email.clone()))
    }

    pub async fn grants_of(&self, user_id: &str) -> Result<Vec<RoleGrantRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, role, scope_org_id, scope_country, created_at FROM role_grants WHERE user_id = $1 ORDER BY role, id",
        )
        .bind(user_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(grant_from).collect()
    }

    pub async fn grant_get(&self, grant_id: &str) -> Result<RoleGrantRow, StoreError> {
        let row = sqlx::query("SELECT id, user_id, role, scope_org_id, scope_country, created_at FROM role_grants WHERE id = $1")
            .bind(grant_id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "role grant" })?;
        grant_from(&row)
    }

    pub async fn recovery_codes_left(&self, user_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id.to_owned())
            .fetch_one(self.reader())
            .await?)
    }

    pub async fn user_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(self.reader()).await?)
    }
}
