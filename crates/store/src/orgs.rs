use crate::{Store, StoreError, WriteTx, flag, page::Page, page::PageRequest};
use chrono::{DateTime, Utc};
use rampart_core::{new_id, time};
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: String,
    pub sector: Option<String>,
    /// ISO 3166-1 alpha-2; `None` for an international organisation.
    pub country: Option<String>,
    pub parent_id: Option<String>,
    pub website: Option<String>,
    pub mfa_required: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone)]
pub struct NewOrg {
    pub name: String,
    pub short_name: Option<String>,
    pub kind: String,
    pub sector: Option<String>,
    pub country: Option<String>,
    pub parent_id: Option<String>,
    pub website: Option<String>,
    pub mfa_required: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Contact {
    pub id: String,
    pub org_id: String,
    pub role: String,
    pub name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    /// Armoured OpenPGP public key; notices to this contact are encrypted to it.
    pub openpgp_key: Option<String>,
}

const ORG_COLUMNS: &str = "id, name, short_name, kind, sector, country, parent_id, website, mfa_required, created_at, updated_at";

fn org_from(row: &sqlx::any::AnyRow) -> Result<Organisation, StoreError> {
    Ok(Organisation {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        short_name: row.try_get("short_name")?,
        kind: row.try_get("kind")?,
        sector: row.try_get("sector")?,
        country: row.try_get("country")?,
        parent_id: row.try_get("parent_id")?,
        website: row.try_get("website")?,
        mfa_required: row.try_get::<i64, _>("mfa_required")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub country: Option<String>,
    pub kind: Option<String>,
    pub name_contains: Option<String>,
}

impl WriteTx {
    pub async fn org_insert(&mut self, org: &NewOrg, now: DateTime<Utc>) -> Result<Organisation, StoreError> {
        let id = new_id(now).to_string();
        let at = time::format(now);
        sqlx::query(
            "INSERT INTO organisations (id, name, short_name, kind, sector, country, parent_id, website, mfa_required, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(id.clone())
        .bind(org.name.clone())
        .bind(org.short_name.clone())
        .bind(org.kind.clone())
        .bind(org.sector.clone())
        .bind(org.country.clone())
        .bind(org.parent_id.clone())
        .bind(org.website.clone())
        .bind(flag(org.mfa_required))
        .bind(at.clone())
        .execute(self.conn())
        .await?;
        Ok(Organisation {
            id,
            name: org.name.clone(),
            short_name: org.short_name.clone(),
            kind: org.kind.clone(),
            sector: org.sector.clone(),
            country: org.country.clone(),
            parent_id: org.parent_id.clone(),
            website: org.website.clone(),
            mfa_required: org.mfa_required,
            created_at: at.clone(),
            updated_at: at,
        })
    }

    pub async fn org_set_mfa_required(&mut self, org_id: &str, required: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE organisations SET mfa_required = $1, updated_at = $2 WHERE id = $3")
            .bind(flag(required))
            .bind(time::format(now))
            .bind(org_id.to_owned())
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "organisation" });
        }
        Ok(())
    }

    pub async fn contact_insert(
        &mut self,
        org_id: &str,
        role: &str,
        name: Option<&str>,
        email: &str,
        phone: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Contact, StoreError> {
        let id = new_id(now).to_string();
        sqlx::query("INSERT INTO org_contacts (id, org_id, role, name, email, phone, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id.clone())
            .bind(org_id.to_owned())
            .bind(role.to_owned())
            .bind(name.map(str::to_owned))
            .bind(email.to_owned())
            .bind(phone.map(str::to_owned))
            .bind(time::format(now))
            .execute(self.conn())
            .await?;
        Ok(Contact {
            id,
            org_id: org_id.to_owned(),
            role: role.to_owned(),
            name: name.map(str::to_owned),
            email: email.to_owned(),
            phone: phone.map(str::to_owned),
            openpgp_key: None,
        })
    }
}

impl WriteTx {
    /// Removes a contact of an organisation; returns what was removed.
    pub async fn contact_delete(&mut self, org_id: &str, contact_id: &str) -> Result<Contact, StoreError> {
        let row = sqlx::query("SELECT id, org_id, role, name, email, phone, openpgp_key FROM org_contacts WHERE id = $1 AND org_id = $2")
            .bind(contact_id.to_owned())
            .bind(org_id.to_owned())
            .fetch_optional(self.conn())
            .await?
            .ok_or(StoreError::NotFound { entity: "contact" })?;
        let contact = Contact {
            id: row.try_get("id")?,
            org_id: row.try_get("org_id")?,
            role: row.try_get("role")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            phone: row.try_get("phone")?,
            openpgp_key: row.try_get("openpgp_key")?,
        };
        sqlx::query("DELETE FROM org_contacts WHERE id = $1").bind(contact_id.to_owned()).execute(self.conn()).await?;
        Ok(contact)
    }

    /// Sets or clears a contact's OpenPGP key.
    pub async fn contact_set_key(&mut self, org_id: &str, contact_id: &str, key: Option<&str>) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE org_contacts SET openpgp_key = $3 WHERE id = $1 AND org_id = $2")
            .bind(contact_id.to_owned())
            .bind(org_id.to_owned())
            .bind(key.map(str::to_owned))
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "contact" });
        }
        Ok(())
    }
}

impl Store {
    pub async fn org_get(&self, id: &str) -> Result<Organisation, StoreError> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organisations WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "organisation" })?;
        org_from(&row)
    }

    /// The organisation with this short name (case-insensitive), if exactly one has it.
    pub async fn org_by_short_name(&self, short_name: &str) -> Result<Option<Organisation>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM organisations WHERE LOWER(short_name) = LOWER($1) LIMIT 2")
            .bind(short_name.to_owned())
            .fetch_all(self.reader())
            .await?;
        match ids.as_slice() {
            [id] => Ok(Some(self.org_get(id).await?)),
            _ => Ok(None),
        }
    }

    pub async fn org_by_name(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organisations WHERE name = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(name.to_owned()).fetch_optional(self.reader()).await?;
        row.as_ref().map(org_from).transpose()
    }

    /// Ordered by name, then id; the cursor is `name\u{1f}id`.
    pub async fn org_list(&self, filter: &OrgFilter, page: &PageRequest) -> Result<Page<Organisation>, StoreError> {
        let (after_name, after_id) = match &page.after {
            Some(cursor) => {
                let (name, id) = cursor.split_once('\u{1f}').ok_or(StoreError::InvalidCursor)?;
                (name.to_owned(), id.to_owned())
            }
            None => (String::new(), String::new()),
        };
        let contains = filter.name_contains.as_ref().map(|text| format!("%{}%", crate::escape_like(&text.to_lowercase())));
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM organisations WHERE (name > $1 OR (name = $1 AND id > $2)) \
             AND ($3 IS NULL OR country = $3) AND ($4 IS NULL OR kind = $4) AND ($5 IS NULL OR LOWER(name) LIKE $5 ESCAPE '\\') \
             ORDER BY name, id LIMIT $6"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after_name)
            .bind(after_id)
            .bind(filter.country.clone())
            .bind(filter.kind.clone())
            .bind(contains)
            .bind(page.fetch_limit())
            .fetch_all(self.reader())
            .await?;
        let orgs = rows.iter().map(org_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(orgs, |org| format!("{}\u{1f}{}", org.name, org.id)))
    }

    pub async fn contacts_of(&self, org_id: &str) -> Result<Vec<Contact>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, org_id, role, name, email, phone, openpgp_key FROM org_contacts WHERE org_id = $1 ORDER BY role, email",
        )
        .bind(org_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Contact {
                    id: row.try_get("id")?,
                    org_id: row.try_get("org_id")?,
                    role: row.try_get("role")?,
                    name: row.try_get("name")?,
                    email: row.try_get("email")?,
                    phone: row.try_get("phone")?,
                    openpgp_key: row.try_get("openpgp_key")?,
                })
            })
            .collect()
    }

    /// The OpenPGP key of an organisation's contact at this address, if any
    /// of its contacts with that address has one.
    pub async fn contact_key(&self, org_id: &str, email: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT openpgp_key FROM org_contacts WHERE org_id = $1 AND LOWER(email) = $2 AND openpgp_key IS NOT NULL ORDER BY id LIMIT 1",
        )
        .bind(org_id.to_owned())
        .bind(email.trim().to_lowercase())
        .fetch_optional(self.reader())
        .await?)
    }

    /// Organisations with a contact at this e-mail address.
    pub async fn org_ids_with_contact(&self, email: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT DISTINCT org_id FROM org_contacts WHERE LOWER(email) = $1 ORDER BY org_id")
            .bind(email.trim().to_lowercase())
            .fetch_all(self.reader())
            .await?)
    }

    pub async fn org_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organisations").fetch_one(self.reader()).await?)
    }
}
