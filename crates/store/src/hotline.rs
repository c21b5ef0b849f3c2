//! Child online protection: hotline reports and the URLs they name,
//! referrals with their takedown milestones, hash lists and guidance pages.
//! No reported image or video is ever stored; see migration 0007.

use crate::{Page, PageRequest, Store, StoreError, WriteTx};
use serde::Serialize;
use sqlx::Row;

// ----- reports -------------------------------------------------------------

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HotlineReportRow {
    pub id: String,
    pub receipt: String,
    pub hotline_org_id: String,
    pub channel: String,
    pub received_at: String,
    pub language: String,
    pub category: String,
    pub description: String,
    pub reporter_name: Option<String>,
    pub reporter_email: Option<String>,
    pub partner_org_id: Option<String>,
    pub partner_reference: Option<String>,
    /// When the retention purge blanked the personal data.
    pub purged_at: Option<String>,
}

const REPORT_COLUMNS: &str = "id, receipt, hotline_org_id, channel, received_at, language, category, description, \
    reporter_name, reporter_email, partner_org_id, partner_reference, purged_at";

fn report_from(r: &sqlx::any::AnyRow) -> Result<HotlineReportRow, StoreError> {
    Ok(HotlineReportRow {
        id: r.try_get("id")?,
        receipt: r.try_get("receipt")?,
        hotline_org_id: r.try_get("hotline_org_id")?,
        channel: r.try_get("channel")?,
        received_at: r.try_get("received_at")?,
        language: r.try_get("language")?,
        category: r.try_get("category")?,
        description: r.try_get("description")?,
        reporter_name: r.try_get("reporter_name")?,
        reporter_email: r.try_get("reporter_email")?,
        partner_org_id: r.try_get("partner_org_id")?,
        partner_reference: r.try_get("partner_reference")?,
        purged_at: r.try_get("purged_at")?,
    })
}

// ----- items ---------------------------------------------------------------

/// One reported URL: assessed, traced, referred and taken down on its own.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HotlineItemRow {
    pub id: String,
    pub report_id: String,
    pub hotline_org_id: String,
    pub url: String,
    pub normalised_url: String,
    pub host: String,
    pub status: String,
    pub outcome: Option<String>,
    pub duplicate_of: Option<String>,
    pub assessed_by: Option<String>,
    pub assessed_at: Option<String>,
    pub assessment_note: String,
    pub ip: Option<String>,
    pub hosting_country: Option<String>,
    pub network: Option<String>,
    pub asn: Option<i64>,
    pub as_org: Option<String>,
    pub hosting_org_id: Option<String>,
    pub traced_at: Option<String>,
    pub pdq: Option<String>,
    pub md5: Option<String>,
    pub sha256: Option<String>,
    pub known_match: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const ITEM_COLUMNS: &str = "id, report_id, hotline_org_id, url, normalised_url, host, status, outcome, duplicate_of, \
    assessed_by, assessed_at, assessment_note, ip, hosting_country, network, asn, as_org, hosting_org_id, traced_at, \
    pdq, md5, sha256, known_match, created_at, updated_at";

fn item_from(r: &sqlx::any::AnyRow) -> Result<HotlineItemRow, StoreError> {
    Ok(HotlineItemRow {
        id: r.try_get("id")?,
        report_id: r.try_get("report_id")?,
        hotline_org_id: r.try_get("hotline_org_id")?,
        url: r.try_get("url")?,
        normalised_url: r.try_get("normalised_url")?,
        host: r.try_get("host")?,
        status: r.try_get("status")?,
        outcome: r.try_get("outcome")?,
        duplicate_of: r.try_get("duplicate_of")?,
        assessed_by: r.try_get("assessed_by")?,
        assessed_at: r.try_get("assessed_at")?,
        assessment_note: r.try_get("assessment_note")?,
        ip: r.try_get("ip")?,
        hosting_country: r.try_get("hosting_country")?,
        network: r.try_get("network")?,
        asn: r.try_get("asn")?,
        as_org: r.try_get("as_org")?,
        hosting_org_id: r.try_get("hosting_org_id")?,
        traced_at: r.try_get("traced_at")?,
        pdq: r.try_get("pdq")?,
        md5: r.try_get("md5")?,
        sha256: r.try_get("sha256")?,
        known_match: r.try_get("known_match")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HotlineEventRow {
    pub id: String,
    pub item_id: String,
    pub at: String,
    pub actor_id: Option<String>,
    pub actor_org_id: Option<String>,
    pub kind: String,
    pub detail: String,
}

// ----- referrals -----------------------------------------------------------

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReferralRow {
    pub id: String,
    pub item_id: String,
    pub from_org_id: String,
    pub to_org_id: String,
    pub country: String,
    pub status: String,
    pub referred_at: String,
    pub referred_by: String,
    pub notice_sent_at: Option<String>,
    pub removed_at: Option<String>,
    pub confirmed_at: Option<String>,
    pub note: String,
}

const REFERRAL_COLUMNS: &str =
    "id, item_id, from_org_id, to_org_id, country, status, referred_at, referred_by, notice_sent_at, removed_at, confirmed_at, note";

fn referral_from(r: &sqlx::any::AnyRow) -> Result<ReferralRow, StoreError> {
    Ok(ReferralRow {
        id: r.try_get("id")?,
        item_id: r.try_get("item_id")?,
        from_org_id: r.try_get("from_org_id")?,
        to_org_id: r.try_get("to_org_id")?,
        country: r.try_get("country")?,
        status: r.try_get("status")?,
        referred_at: r.try_get("referred_at")?,
        referred_by: r.try_get("referred_by")?,
        notice_sent_at: r.try_get("notice_sent_at")?,
        removed_at: r.try_get("removed_at")?,
        confirmed_at: r.try_get("confirmed_at")?,
        note: r.try_get("note")?,
    })
}

/// A removal for the statistics: when the report came in, when the content
/// went, and where it was hosted.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RemovalFact {
    pub received_at: String,
    pub referred_at: String,
    pub removed_at: Option<String>,
    pub country: String,
    pub host: String,
}

/// Who may see which items: handlers see their hotline's items; a hotline
/// that received a referral sees the referred item.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Hotlines whose items to list; `None` means every hotline.
    pub hotline_org_ids: Option<Vec<String>>,
    /// Any of these statuses; `None`: all.
    pub statuses: Option<Vec<String>>,
}

impl WriteTx {
    pub async fn hotline_report_insert(&mut self, row: &HotlineReportRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO hotline_reports ({REPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.id.clone())
            .bind(row.receipt.clone())
            .bind(row.hotline_org_id.clone())
            .bind(row.channel.clone())
            .bind(row.received_at.clone())
            .bind(row.language.clone())
            .bind(row.category.clone())
            .bind(row.description.clone())
            .bind(row.reporter_name.clone())
            .bind(row.reporter_email.clone())
            .bind(row.partner_org_id.clone())
            .bind(row.partner_reference.clone())
            .bind(row.purged_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn hotline_item_insert(&mut self, row: &HotlineItemRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO hotline_items ({ITEM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"
        );
        bind_item(sqlx::query(sqlx::AssertSqlSafe(sql)), row).execute(self.conn()).await?;
        Ok(())
    }

    /// Writes every mutable column of an item back.
    pub async fn hotline_item_save(&mut self, row: &HotlineItemRow) -> Result<(), StoreError> {
        let result = sqlx::query(
            "UPDATE hotline_items SET status = $2, outcome = $3, duplicate_of = $4, assessed_by = $5, assessed_at = $6, \
             assessment_note = $7, ip = $8, hosting_country = $9, network = $10, asn = $11, as_org = $12, hosting_org_id = $13, \
             traced_at = $14, pdq = $15, md5 = $16, sha256 = $17, known_match = $18, updated_at = $19 WHERE id = $1",
        )
        .bind(row.id.clone())
        .bind(row.status.clone())
        .bind(row.outcome.clone())
        .bind(row.duplicate_of.clone())
        .bind(row.assessed_by.clone())
        .bind(row.assessed_at.clone())
        .bind(row.assessment_note.clone())
        .bind(row.ip.clone())
        .bind(row.hosting_country.clone())
        .bind(row.network.clone())
        .bind(row.asn)
        .bind(row.as_org.clone())
        .bind(row.hosting_org_id.clone())
        .bind(row.traced_at.clone())
        .bind(row.pdq.clone())
        .bind(row.md5.clone())
        .bind(row.sha256.clone())
        .bind(row.known_match.clone())
        .bind(row.updated_at.clone())
        .execute(self.conn())
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "hotline item" });
        }
        Ok(())
    }

    pub async fn hotline_event_add(&mut self, event: &HotlineEventRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO hotline_events (id, item_id, at, actor_id, actor_org_id, kind, detail, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             (SELECT COALESCE(MAX(seq), 0) + 1 FROM hotline_events WHERE item_id = $2))",
        )
        .bind(event.id.clone())
        .bind(event.item_id.clone())
        .bind(event.at.clone())
        .bind(event.actor_id.clone())
        .bind(event.actor_org_id.clone())
        .bind(event.kind.clone())
        .bind(event.detail.clone())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn referral_insert(&mut self, row: &ReferralRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO hotline_referrals ({REFERRAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row.id.clone())
            .bind(row.item_id.clone())
            .bind(row.from_org_id.clone())
            .bind(row.to_org_id.clone())
            .bind(row.country.clone())
            .bind(row.status.clone())
            .bind(row.referred_at.clone())
            .bind(row.referred_by.clone())
            .bind(row.notice_sent_at.clone())
            .bind(row.removed_at.clone())
            .bind(row.confirmed_at.clone())
            .bind(row.note.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn referral_save(&mut self, row: &ReferralRow) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE hotline_referrals SET status = $2, notice_sent_at = $3, removed_at = $4, confirmed_at = $5, note = $6 WHERE id = $1",
        )
        .bind(row.id.clone())
        .bind(row.status.clone())
        .bind(row.notice_sent_at.clone())
        .bind(row.removed_at.clone())
        .bind(row.confirmed_at.clone())
        .bind(row.note.clone())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Blanks the personal data of reports received before `cutoff`; returns
    /// how many reports were purged.
    pub async fn hotline_purge(&mut self, cutoff: &str, now: &str) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE hotline_reports SET reporter_name = NULL, reporter_email = NULL, description = '', purged_at = $2 \
             WHERE purged_at IS NULL AND received_at < $1",
        )
        .bind(cutoff.to_owned())
        .bind(now.to_owned())
        .execute(self.conn())
        .await?;
        Ok(result.rows_affected())
    }
}

fn bind_item<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    row: &HotlineItemRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(row.id.clone())
        .bind(row.report_id.clone())
        .bind(row.hotline_org_id.clone())
        .bind(row.url.clone())
        .bind(row.normalised_url.clone())
        .bind(row.host.clone())
        .bind(row.status.clone())
        .bind(row.outcome.clone())
        .bind(row.duplicate_of.clone())
        .bind(row.assessed_by.clone())
        .bind(row.assessed_at.clone())
        .bind(row.assessment_note.clone())
        .bind(row.ip.clone())
        .bind(row.hosting_country.clone())
        .bind(row.network.clone())
        .bind(row.asn)
        .bind(row.as_org.clone())
        .bind(row.hosting_org_id.clone())
        .bind(row.traced_at.clone())
        .bind(row.pdq.clone())
        .bind(row.md5.clone())
        .bind(row.sha256.clone())
        .bind(row.known_match.clone())
        .bind(row.created_at.clone())
        .bind(row.updated_at.clone())
}

/// `ids` as a comma-joined list for the `LIKE` membership test both
/// backends understand; ids never contain commas.
fn joined(ids: &Option<Vec<String>>) -> Option<String> {
    ids.as_ref().map(|ids| ids.join(","))
}

impl Store {
    pub async fn hotline_report_get(&self, id: &str) -> Result<HotlineReportRow, StoreError> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM hotline_reports WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "hotline report" })?;
        report_from(&row)
    }

    pub async fn hotline_report_by_receipt(&self, receipt: &str) -> Result<Option<HotlineReportRow>, StoreError> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM hotline_reports WHERE receipt = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(receipt.to_owned()).fetch_optional(self.reader()).await?;
        row.as_ref().map(report_from).transpose()
    }

    pub async fn hotline_item_get(&self, id: &str) -> Result<HotlineItemRow, StoreError> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM hotline_items WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "hotline item" })?;
        item_from(&row)
    }

    pub async fn hotline_items_of_report(&self, report_id: &str) -> Result<Vec<HotlineItemRow>, StoreError> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM hotline_items WHERE report_id = $1 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(report_id.to_owned()).fetch_all(self.reader()).await?;
        rows.iter().map(item_from).collect()
    }

    /// Another item with this normalised URL, for duplicate detection: the
    /// earliest assessed one, else the earliest.
    pub async fn hotline_item_with_url(&self, normalised_url: &str, except: &str) -> Result<Option<HotlineItemRow>, StoreError> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM hotline_items WHERE normalised_url = $1 AND id <> $2 \
             ORDER BY CASE WHEN outcome IS NULL OR outcome = 'duplicate' THEN 1 ELSE 0 END, created_at, id LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(normalised_url.to_owned())
            .bind(except.to_owned())
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(item_from).transpose()
    }

    /// Another item whose material had this SHA-256 or MD5: the earliest
    /// assessed one, else the earliest.
    pub async fn hotline_item_with_file(&self, sha256: &str, md5: &str, except: &str) -> Result<Option<HotlineItemRow>, StoreError> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM hotline_items WHERE (sha256 = $1 OR md5 = $2) AND id <> $3 \
             ORDER BY CASE WHEN outcome IS NULL OR outcome = 'duplicate' THEN 1 ELSE 0 END, created_at, id LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(sha256.to_owned())
            .bind(md5.to_owned())
            .bind(except.to_owned())
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(item_from).transpose()
    }

    /// Newest first; the cursor is the last id (UUIDv7 ids sort by time).
    pub async fn hotline_item_list(&self, filter: &ItemFilter, page: &PageRequest) -> Result<Page<HotlineItemRow>, StoreError> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM hotline_items WHERE ($1 = '' OR id < $1) \
             AND ($2 IS NULL OR (',' || $2 || ',') LIKE ('%,' || hotline_org_id || ',%')) \
             AND ($3 IS NULL OR (',' || $3 || ',') LIKE ('%,' || status || ',%')) ORDER BY id DESC LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(page.after.clone().unwrap_or_default())
            .bind(joined(&filter.hotline_org_ids))
            .bind(joined(&filter.statuses))
            .bind(page.fetch_limit())
            .fetch_all(self.reader())
            .await?;
        let items = rows.iter().map(item_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |r| r.id.clone()))
    }

    pub async fn hotline_events(&self, item_id: &str) -> Result<Vec<HotlineEventRow>, StoreError> {
        let rows =
            sqlx::query("SELECT id, item_id, at, actor_id, actor_org_id, kind, detail FROM hotline_events WHERE item_id = $1 ORDER BY seq")
                .bind(item_id.to_owned())
                .fetch_all(self.reader())
                .await?;
        rows.iter()
            .map(|r| {
                Ok(HotlineEventRow {
                    id: r.try_get("id")?,
                    item_id: r.try_get("item_id")?,
                    at: r.try_get("at")?,
                    actor_id: r.try_get("actor_id")?,
                    actor_org_id: r.try_get("actor_org_id")?,
                    kind: r.try_get("kind")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    pub async fn referral_get(&self, id: &str) -> Result<ReferralRow, StoreError> {
        let sql = format!("SELECT {REFERRAL_COLUMNS} FROM hotline_referrals WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "referral" })?;
        referral_from(&row)
    }

    pub async fn referrals_of_item(&self, item_id: &str) -> Result<Vec<ReferralRow>, StoreError> {
        let sql = format!("SELECT {REFERRAL_COLUMNS} FROM hotline_referrals WHERE item_id = $1 ORDER BY referred_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(item_id.to_owned()).fetch_all(self.reader()).await?;
        rows.iter().map(referral_from).collect()
    }

    /// Referrals received by any of `to_org_ids` (`None`: all), newest first.
    pub async fn referrals_received(&self, to_org_ids: &Option<Vec<String>>, limit: i64) -> Result<Vec<ReferralRow>, StoreError> {
        let sql = format!(
            "SELECT {REFERRAL_COLUMNS} FROM hotline_referrals \
             WHERE ($1 IS NULL OR (',' || $1 || ',') LIKE ('%,' || to_org_id || ',%')) ORDER BY referred_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(joined(to_org_ids)).bind(limit).fetch_all(self.reader()).await?;
        rows.iter().map(referral_from).collect()
    }

    /// (category, month `YYYY-MM`, count) of the reports to these hotlines.
    pub async fn hotline_reports_by_month(&self, org_ids: &Option<Vec<String>>) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT category, SUBSTR(received_at, 1, 7) AS month, COUNT(*) AS n FROM hotline_reports \
             WHERE ($1 IS NULL OR (',' || $1 || ',') LIKE ('%,' || hotline_org_id || ',%')) \
             GROUP BY category, SUBSTR(received_at, 1, 7) ORDER BY month, category",
        )
        .bind(joined(org_ids))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| Ok((r.try_get("category")?, r.try_get("month")?, r.try_get("n")?))).collect()
    }

    /// (hosting country, count) of the traced items of these hotlines.
    pub async fn hotline_items_by_country(&self, org_ids: &Option<Vec<String>>) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT hosting_country, COUNT(*) AS n FROM hotline_items WHERE hosting_country IS NOT NULL \
             AND ($1 IS NULL OR (',' || $1 || ',') LIKE ('%,' || hotline_org_id || ',%')) \
             GROUP BY hosting_country ORDER BY n DESC, hosting_country",
        )
        .bind(joined(org_ids))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| Ok((r.try_get("hosting_country")?, r.try_get("n")?))).collect()
    }

    /// Every referral made by or to these hotlines, with the times the
    /// statistics need.
    pub async fn removal_facts(&self, org_ids: &Option<Vec<String>>) -> Result<Vec<RemovalFact>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.received_at, f.referred_at, f.removed_at, f.country, i.host FROM hotline_referrals f \
             JOIN hotline_items i ON i.id = f.item_id JOIN hotline_reports r ON r.id = i.report_id \
             WHERE ($1 IS NULL OR (',' || $1 || ',') LIKE ('%,' || f.from_org_id || ',%') \
                OR (',' || $1 || ',') LIKE ('%,' || f.to_org_id || ',%')) ORDER BY f.referred_at",
        )
        .bind(joined(org_ids))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RemovalFact {
                    received_at: r.try_get("received_at")?,
                    referred_at: r.try_get("referred_at")?,
                    removed_at: r.try_get("removed_at")?,
                    country: r.try_get("country")?,
                    host: r.try_get("host")?,
                })
            })
            .collect()
    }
}

// ----- hash lists ----------------------------------------------------------

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HashListRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub source: String,
    pub tlp: String,
    pub description: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// Organisations the owner shared the list with.
    pub shared_with: Vec<String>,
    pub entry_count: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HashEntryRow {
    pub list_id: String,
    pub kind: String,
    pub hash: String,
    /// Semicolon-separated, as stored.
    pub tags: String,
    pub added_at: String,
    pub added_by: Option<String>,
    pub item_id: Option<String>,
}

fn entry_from(r: &sqlx::any::AnyRow) -> Result<HashEntryRow, StoreError> {
    Ok(HashEntryRow {
        list_id: r.try_get("list_id")?,
        kind: r.try_get("kind")?,
        hash: r.try_get("hash")?,
        tags: r.try_get("tags")?,
        added_at: r.try_get("added_at")?,
        added_by: r.try_get("added_by")?,
        item_id: r.try_get("item_id")?,
    })
}

impl WriteTx {
    pub async fn hash_list_insert(&mut self, row: &HashListRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO hash_lists (id, org_id, name, source, tlp, description, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(row.id.clone())
        .bind(row.org_id.clone())
        .bind(row.name.clone())
        .bind(row.source.clone())
        .bind(row.tlp.clone())
        .bind(row.description.clone())
        .bind(row.created_by.clone())
        .bind(row.created_at.clone())
        .bind(row.updated_at.clone())
        .execute(self.conn())
        .await
        .map_err(|err| match StoreError::from(err) {
            StoreError::Conflict { .. } => {
                StoreError::Conflict { field: "name", message: format!("a hash list named `{}` already exists", row.name) }
            }
            other => other,
        })?;
        Ok(())
    }

    pub async fn hash_list_share(&mut self, list_id: &str, org_id: &str, shared: bool) -> Result<(), StoreError> {
        let sql = if shared {
            "INSERT INTO hash_list_shares (list_id, org_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM hash_list_shares WHERE list_id = $1 AND org_id = $2"
        };
        sqlx::query(sql).bind(list_id.to_owned()).bind(org_id.to_owned()).execute(self.conn()).await?;
        Ok(())
    }

    /// Adds entries, skipping hashes the list already holds; returns how
    /// many were new. Marks the list changed so matchers rebuild.
    pub async fn hash_entries_add(&mut self, list_id: &str, entries: &[HashEntryRow], now: &str) -> Result<u64, StoreError> {
        let mut added = 0;
        for entry in entries {
            let result = sqlx::query(
                "INSERT INTO hash_entries (list_id, kind, hash, tags, added_at, added_by, item_id) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(list_id.to_owned())
            .bind(entry.kind.clone())
            .bind(entry.hash.clone())
            .bind(entry.tags.clone())
            .bind(entry.added_at.clone())
            .bind(entry.added_by.clone())
            .bind(entry.item_id.clone())
            .execute(self.conn())
            .await?;
            added += result.rows_affected();
        }
        sqlx::query("UPDATE hash_lists SET updated_at = $2 WHERE id = $1")
            .bind(list_id.to_owned())
            .bind(now.to_owned())
            .execute(self.conn())
            .await?;
        Ok(added)
    }
}

impl Store {
    /// Every hash list with its shares and size; callers filter by what the
    /// viewer may see.
    pub async fn hash_lists(&self) -> Result<Vec<HashListRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.id, l.org_id, l.name, l.source, l.tlp, l.description, l.created_by, l.created_at, l.updated_at, \
             (SELECT COUNT(*) FROM hash_entries e WHERE e.list_id = l.id) AS entry_count FROM hash_lists l ORDER BY l.name, l.id",
        )
        .fetch_all(self.reader())
        .await?;
        let shares = sqlx::query("SELECT list_id, org_id FROM hash_list_shares ORDER BY org_id").fetch_all(self.reader()).await?;
        let mut lists = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get("id")?;
            let mut shared_with = Vec::new();
            for share in &shares {
                let list: String = share.try_get("list_id")?;
                if list == id {
                    shared_with.push(share.try_get("org_id")?);
                }
            }
            lists.push(HashListRow {
                id,
                org_id: r.try_get("org_id")?,
                name: r.try_get("name")?,
                source: r.try_get("source")?,
                tlp: r.try_get("tlp")?,
                description: r.try_get("description")?,
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
                shared_with,
                entry_count: r.try_get("entry_count")?,
            });
        }
        Ok(lists)
    }

    pub async fn hash_entries_of(&self, list_id: &str) -> Result<Vec<HashEntryRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT list_id, kind, hash, tags, added_at, added_by, item_id FROM hash_entries WHERE list_id = $1 ORDER BY kind, hash",
        )
        .bind(list_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(entry_from).collect()
    }

    /// Every entry of every list, for building the matcher.
    pub async fn hash_entries_all(&self) -> Result<Vec<HashEntryRow>, StoreError> {
        let rows =
            sqlx::query("SELECT list_id, kind, hash, tags, added_at, added_by, item_id FROM hash_entries ORDER BY list_id, kind, hash")
                .fetch_all(self.reader())
                .await?;
        rows.iter().map(entry_from).collect()
    }

    /// Changes whenever an entry or a list is added or changed: the number
    /// of entries and lists and the newest list change.
    pub async fn hash_lists_version(&self) -> Result<String, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM hash_entries) AS entries, (SELECT COUNT(*) FROM hash_lists) AS lists, \
             (SELECT MAX(updated_at) FROM hash_lists) AS newest",
        )
        .fetch_one(self.reader())
        .await?;
        let entries: i64 = row.try_get("entries")?;
        let lists: i64 = row.try_get("lists")?;
        let newest: Option<String> = row.try_get("newest")?;
        Ok(format!("{entries}/{lists}/{}", newest.unwrap_or_default()))
    }
}

// ----- guidance ------------------------------------------------------------

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GuidanceRow {
    pub audience: String,
    pub language: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub updated_by: String,
    pub updated_at: String,
}

impl WriteTx {
    pub async fn guidance_put(&mut self, row: &GuidanceRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO guidance_pages (audience, language, title, body, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (audience, language) DO UPDATE SET title = excluded.title, body = excluded.body, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(row.audience.clone())
        .bind(row.language.clone())
        .bind(row.title.clone())
        .bind(row.body.clone())
        .bind(row.updated_by.clone())
        .bind(row.updated_at.clone())
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    /// The edited version of a page, if an administrator saved one.
    pub async fn guidance_get(&self, audience: &str, language: &str) -> Result<Option<GuidanceRow>, StoreError> {
        let row = sqlx::query(
            "SELECT audience, language, title, body, updated_by, updated_at FROM guidance_pages WHERE audience = $1 AND language = $2",
        )
        .bind(audience.to_owned())
        .bind(language.to_owned())
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            Ok(GuidanceRow {
                audience: r.try_get("audience")?,
                language: r.try_get("language")?,
                title: r.try_get("title")?,
                body: r.try_get("body")?,
                updated_by: r.try_get("updated_by")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .transpose()
    }
}
