use crate::{Store, StoreError, WriteTx};
use chrono::{DateTime, Utc};
use rampart_core::time;

impl WriteTx {
    pub async fn setting_put(&mut self, key: &str, value: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key.to_owned())
        .bind(value.to_owned())
        .bind(time::format(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    pub async fn setting_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key.to_owned()).fetch_optional(self.reader()).await?)
    }
}
