//! Tables of the CIRT desk: constituency registry, incident reports,
//! incidents with their constituents, observables, tasks, timeline and links.

use crate::{Store, StoreError, WriteTx, page::Page, page::PageRequest};
use chrono::{DateTime, Datelike, Utc};
use rampart_core::{new_id, time};
use serde::Serialize;
use sqlx::Row;

// ----- constituency ---------------------------------------------------------

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NetworkRow {
    pub id: String,
    pub org_id: String,
    pub network: String,
    pub prefix_len: i64,
}

/// A network as the registry stores it: canonical text and its range keys.
#[derive(Debug, Clone)]
pub struct NetworkKeys {
    pub network: String,
    pub family: i64,
    pub prefix_len: i64,
    pub start_key: String,
    pub end_key: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NotificationPreferences {
    pub org_id: String,
    pub format: String,
    pub language: String,
    pub batch_minutes: i64,
}

/// A registry entry that is already there. The inserts below skip it with
/// `ON CONFLICT DO NOTHING` instead of failing the statement, because on
/// PostgreSQL a failed statement aborts the whole transaction, and an import
/// skips entries that are already registered and carries on.
fn already_registered(field: &'static str, affected: u64) -> Result<(), StoreError> {
    if affected == 0 { Err(StoreError::Conflict { field, message: "already exists".into() }) } else { Ok(()) }
}

impl WriteTx {
    pub async fn network_add(&mut self, org_id: &str, keys: &NetworkKeys, now: DateTime<Utc>) -> Result<NetworkRow, StoreError> {
        let id = new_id(now).to_string();
        let result = sqlx::query(
            "INSERT INTO constituency_networks (id, org_id, network, family, prefix_len, start_key, end_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(id.clone())
        .bind(org_id.to_owned())
        .bind(keys.network.clone())
        .bind(keys.family)
        .bind(keys.prefix_len)
        .bind(keys.start_key.clone())
        .bind(keys.end_key.clone())
        .bind(time::format(now))
        .execute(self.conn())
        .await?;
        already_registered("network", result.rows_affected())?;
        Ok(NetworkRow { id, org_id: org_id.to_owned(), network: keys.network.clone(), prefix_len: keys.prefix_len })
    }

    pub async fn asn_add(&mut self, org_id: &str, asn: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        let result = sqlx::query("INSERT INTO constituency_asns (org_id, asn, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(org_id.to_owned())
            .bind(asn)
            .bind(time::format(now))
            .execute(self.conn())
            .await?;
        already_registered("asn", result.rows_affected())
    }

    pub async fn domain_add(&mut self, org_id: &str, domain: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let result =
            sqlx::query("INSERT INTO constituency_domains (org_id, domain, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(org_id.to_owned())
                .bind(domain.to_owned())
                .bind(time::format(now))
                .execute(self.conn())
                .await?;
        already_registered("domain", result.rows_affected())
    }

    /// Removes one network, ASN or domain entry; false when there was none.
    pub async fn constituency_remove(&mut self, org_id: &str, kind: &str, value: &str) -> Result<bool, StoreError> {
        let result = match kind {
            "network" => {
                sqlx::query("DELETE FROM constituency_networks WHERE org_id = $1 AND network = $2")
                    .bind(org_id.to_owned())
                    .bind(value.to_owned())
                    .execute(self.conn())
                    .await?
            }
            "asn" => {
                let asn: i64 = value.parse().map_err(|_| StoreError::InvalidData(format!("asn `{value}`")))?;
                sqlx::query("DELETE FROM constituency_asns WHERE org_id = $1 AND asn = $2")
                    .bind(org_id.to_owned())
                    .bind(asn)
                    .execute(self.conn())
                    .await?
            }
            _ => {
                sqlx::query("DELETE FROM constituency_domains WHERE org_id = $1 AND domain = $2")
                    .bind(org_id.to_owned())
                    .bind(value.to_owned())
                    .execute(self.conn())
                    .await?
            }
        };
        Ok(result.rows_affected() > 0)
    }

    pub async fn notification_preferences_put(&mut self, prefs: &NotificationPreferences, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO notification_preferences (org_id, format, language, batch_minutes, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id) DO UPDATE SET format = excluded.format, language = excluded.language, \
             batch_minutes = excluded.batch_minutes, updated_at = excluded.updated_at",
        )
        .bind(prefs.org_id.clone())
        .bind(prefs.format.clone())
        .bind(prefs.language.clone())
        .bind(prefs.batch_minutes)
        .bind(time::format(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The next number for a kind of reference in the year of `now`.
    pub async fn next_reference(&mut self, kind: &str, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let year = i64::from(now.year());
        sqlx::query("INSERT INTO reference_counters (kind, year, last) VALUES ($1, $2, 0) ON CONFLICT (kind, year) DO NOTHING")
            .bind(kind.to_owned())
            .bind(year)
            .execute(self.conn())
            .await?;
        let next: i64 = sqlx::query_scalar("UPDATE reference_counters SET last = last + 1 WHERE kind = $1 AND year = $2 RETURNING last")
            .bind(kind.to_owned())
            .bind(year)
            .fetch_one(self.conn())
            .await?;
        Ok(next)
    }
}

impl Store {
    pub async fn networks_of(&self, org_id: &str) -> Result<Vec<NetworkRow>, StoreError> {
        let rows =
            sqlx::query("SELECT id, org_id, network, prefix_len FROM constituency_networks WHERE org_id = $1 ORDER BY family, start_key")
                .bind(org_id.to_owned())
                .fetch_all(self.reader())
                .await?;
        rows.iter()
            .map(|r| {
                Ok(NetworkRow {
                    id: r.try_get("id")?,
                    org_id: r.try_get("org_id")?,
                    network: r.try_get("network")?,
                    prefix_len: r.try_get("prefix_len")?,
                })
            })
            .collect()
    }

    pub async fn asns_of(&self, org_id: &str) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT asn FROM constituency_asns WHERE org_id = $1 ORDER BY asn")
            .bind(org_id.to_owned())
            .fetch_all(self.reader())
            .await?)
    }

    pub async fn domains_of(&self, org_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT domain FROM constituency_domains WHERE org_id = $1 ORDER BY domain")
            .bind(org_id.to_owned())
            .fetch_all(self.reader())
            .await?)
    }

    pub async fn notification_preferences(&self, org_id: &str) -> Result<Option<NotificationPreferences>, StoreError> {
        let row = sqlx::query("SELECT org_id, format, language, batch_minutes FROM notification_preferences WHERE org_id = $1")
            .bind(org_id.to_owned())
            .fetch_optional(self.reader())
            .await?;
        row.map(|r| {
            Ok(NotificationPreferences {
                org_id: r.try_get("org_id")?,
                format: r.try_get("format")?,
                language: r.try_get("language")?,
                batch_minutes: r.try_get("batch_minutes")?,
            })
        })
        .transpose()
    }

    /// Networks containing the address with this key, most specific first.
    pub async fn networks_containing(&self, family: i64, key: &str) -> Result<Vec<NetworkRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, org_id, network, prefix_len FROM constituency_networks \
             WHERE family = $1 AND start_key <= $2 AND end_key >= $2 ORDER BY prefix_len DESC, org_id",
        )
        .bind(family)
        .bind(key.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NetworkRow {
                    id: r.try_get("id")?,
                    org_id: r.try_get("org_id")?,
                    network: r.try_get("network")?,
                    prefix_len: r.try_get("prefix_len")?,
                })
            })
            .collect()
    }

    pub async fn orgs_with_asn(&self, asn: i64) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT org_id FROM constituency_asns WHERE asn = $1 ORDER BY org_id")
            .bind(asn)
            .fetch_all(self.reader())
            .await?)
    }

    pub async fn orgs_with_domain(&self, domain: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT org_id FROM constituency_domains WHERE domain = $1 ORDER BY org_id")
            .bind(domain.to_owned())
            .fetch_all(self.reader())
            .await?)
    }

    /// Organisations with at least one registry entry, for export.
    pub async fn constituency_org_ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT org_id FROM constituency_networks UNION SELECT org_id FROM constituency_asns \
             UNION SELECT org_id FROM constituency_domains ORDER BY 1",
        )
        .fetch_all(self.reader())
        .await?)
    }
}

// ----- reports ------------------------------------------------------------

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReportRow {
    pub id: String,
    pub reference: String,
    pub channel: String,
    pub received_at: String,
    pub owner_org_id: String,
    pub reporter_org_id: Option<String>,
    pub reporter_user_id: Option<String>,
    pub reporter_email: Option<String>,
    pub subject: String,
    pub body: String,
    pub tlp: String,
    pub status: String,
    pub incident_id: Option<String>,
    /// JSON array of `{kind, value}` extracted at intake.
    pub observables: String,
}

const REPORT_COLUMNS: &str = "id, reference, channel, received_at, owner_org_id, reporter_org_id, reporter_user_id, reporter_email, \
    subject, body, tlp, status, incident_id, observables";

fn report_from(r: &sqlx::any::AnyRow) -> Result<ReportRow, StoreError> {
    Ok(ReportRow {
        id: r.try_get("id")?,
        reference: r.try_get("reference")?,
        channel: r.try_get("channel")?,
        received_at: r.try_get("received_at")?,
        owner_org_id: r.try_get("owner_org_id")?,
        reporter_org_id: r.try_get("reporter_org_id")?,
        reporter_user_id: r.try_get("reporter_user_id")?,
        reporter_email: r.try_get("reporter_email")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        tlp: r.try_get("tlp")?,
        status: r.try_get("status")?,
        incident_id: r.try_get("incident_id")?,
        observables: r.try_get("observables")?,
    })
}

impl WriteTx {
    pub async fn report_insert(&mut self, report: &ReportRow) -> Result<(), StoreError> {
        let sql =
            format!("INSERT INTO incident_reports ({REPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(report.id.clone())
            .bind(report.reference.clone())
            .bind(report.channel.clone())
            .bind(report.received_at.clone())
            .bind(report.owner_org_id.clone())
            .bind(report.reporter_org_id.clone())
            .bind(report.reporter_user_id.clone())
            .bind(report.reporter_email.clone())
            .bind(report.subject.clone())
            .bind(report.body.clone())
            .bind(report.tlp.clone())
            .bind(report.status.clone())
            .bind(report.incident_id.clone())
            .bind(report.observables.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn report_set_status(&mut self, id: &str, status: &str, incident_id: Option<&str>) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE incident_reports SET status = $2, incident_id = $3 WHERE id = $1")
            .bind(id.to_owned())
            .bind(status.to_owned())
            .bind(incident_id.map(str::to_owned))
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "report" });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub owner_org_ids: Option<Vec<String>>,
    pub reporter_org_id: Option<String>,
    pub status: Option<String>,
}

impl Store {
    pub async fn report_get(&self, id: &str) -> Result<ReportRow, StoreError> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM incident_reports WHERE id = $1 OR reference = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "report" })?;
        report_from(&row)
    }

    /// Newest first; the cursor is the last id (UUIDv7 ids sort by time).
    pub async fn report_list(&self, filter: &ReportFilter, page: &PageRequest) -> Result<Page<ReportRow>, StoreError> {
        let owners = filter.owner_org_ids.as_ref().map(|ids| ids.join(","));
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM incident_reports WHERE ($1 = '' OR id < $1) \
             AND ($2 IS NULL OR (',' || $2 || ',') LIKE ('%,' || owner_org_id || ',%')) \
             AND ($3 IS NULL OR reporter_org_id = $3) AND ($4 IS NULL OR status = $4) ORDER BY id DESC LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(page.after.clone().unwrap_or_default())
            .bind(owners)
            .bind(filter.reporter_org_id.clone())
            .bind(filter.status.clone())
            .bind(page.fetch_limit())
            .fetch_all(self.reader())
            .await?;
        let reports = rows.iter().map(report_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(reports, |r| r.id.clone()))
    }
}

// ----- incidents ----------------------------------------------------------

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IncidentRow {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub description: String,
    pub owner_org_id: String,
    pub rsit_class: String,
    pub rsit_type: String,
    pub tlp: String,
    pub pap: String,
    pub impact: String,
    pub urgency: String,
    pub priority: String,
    pub status: String,
    pub assignee_id: Option<String>,
    pub source: String,
    pub merged_into: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub first_response_at: Option<String>,
}

const INCIDENT_COLUMNS: &str = "id, reference, title, description, owner_org_id, rsit_class, rsit_type, tlp, pap, impact, urgency, \
    priority, status, assignee_id, source, merged_into, created_at, updated_at, first_response_at";

fn incident_from(r: &sqlx::any::AnyRow) -> Result<IncidentRow, StoreError> {
    Ok(IncidentRow {
        id: r.try_get("id")?,
        reference: r.try_get("reference")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        owner_org_id: r.try_get("owner_org_id")?,
        rsit_class: r.try_get("rsit_class")?,
        rsit_type: r.try_get("rsit_type")?,
        tlp: r.try_get("tlp")?,
        pap: r.try_get("pap")?,
        impact: r.try_get("impact")?,
        urgency: r.try_get("urgency")?,
        priority: r.try_get("priority")?,
        status: r.try_get("status")?,
        assignee_id: r.try_get("assignee_id")?,
        source: r.try_get("source")?,
        merged_into: r.try_get("merged_into")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        first_response_at: r.try_get("first_response_at")?,
    })
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TaskRow {
    pub id: String,
    pub incident_id: String,
    pub position: i64,
    pub title: String,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EventRow {
    pub id: String,
    pub incident_id: String,
    pub at: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    /// `created`, `status`, `assigned`, `note`, `task`, `observable`,
    /// `constituent`, `classified`, `linked`, `merged`, `notice`.
    pub kind: String,
    pub body: String,
    pub detail: String,
}

/// Ends the id of an event copied onto the surviving incident of a merge.
const MERGED_COPY_SUFFIX: &str = "-m";

impl EventRow {
    /// Copied from an incident merged into this one: part of the timeline
    /// shown, but not this incident's own history (its status changes do
    /// not move this incident's SLA timers).
    pub fn is_merged_copy(&self) -> bool {
        self.id.ends_with(MERGED_COPY_SUFFIX)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ObservableRow {
    pub kind: String,
    pub value: String,
    /// How many other incidents hold the same observable.
    pub seen_elsewhere: i64,
}

impl WriteTx {
    pub async fn incident_insert(&mut self, incident: &IncidentRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO incidents ({INCIDENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(incident.id.clone())
            .bind(incident.reference.clone())
            .bind(incident.title.clone())
            .bind(incident.description.clone())
            .bind(incident.owner_org_id.clone())
            .bind(incident.rsit_class.clone())
            .bind(incident.rsit_type.clone())
            .bind(incident.tlp.clone())
            .bind(incident.pap.clone())
            .bind(incident.impact.clone())
            .bind(incident.urgency.clone())
            .bind(incident.priority.clone())
            .bind(incident.status.clone())
            .bind(incident.assignee_id.clone())
            .bind(incident.source.clone())
            .bind(incident.merged_into.clone())
            .bind(incident.created_at.clone())
            .bind(incident.updated_at.clone())
            .bind(incident.first_response_at.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Writes every mutable column of an incident read earlier in the same
    /// transaction (write transactions are serialised, so no change is lost).
    pub async fn incident_save(&mut self, incident: &IncidentRow) -> Result<(), StoreError> {
        let result = sqlx::query(
            "UPDATE incidents SET title = $2, description = $3, rsit_class = $4, rsit_type = $5, tlp = $6, pap = $7, impact = $8, \
             urgency = $9, priority = $10, status = $11, assignee_id = $12, merged_into = $13, updated_at = $14, first_response_at = $15 \
             WHERE id = $1",
        )
        .bind(incident.id.clone())
        .bind(incident.title.clone())
        .bind(incident.description.clone())
        .bind(incident.rsit_class.clone())
        .bind(incident.rsit_type.clone())
        .bind(incident.tlp.clone())
        .bind(incident.pap.clone())
        .bind(incident.impact.clone())
        .bind(incident.urgency.clone())
        .bind(incident.priority.clone())
        .bind(incident.status.clone())
        .bind(incident.assignee_id.clone())
        .bind(incident.merged_into.clone())
        .bind(incident.updated_at.clone())
        .bind(incident.first_response_at.clone())
        .execute(self.conn())
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "incident" });
        }
        Ok(())
    }

    pub async fn incident_lock(&mut self, id: &str) -> Result<IncidentRow, StoreError> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(self.conn())
            .await?
            .ok_or(StoreError::NotFound { entity: "incident" })?;
        incident_from(&row)
    }

    pub async fn incident_constituent_add(&mut self, incident_id: &str, org_id: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("INSERT INTO incident_constituents (incident_id, org_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(incident_id.to_owned())
            .bind(org_id.to_owned())
            .execute(self.conn())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn incident_observable_add(
        &mut self,
        incident_id: &str,
        kind: &str,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO incident_observables (incident_id, kind, value, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(incident_id.to_owned())
        .bind(kind.to_owned())
        .bind(value.to_owned())
        .bind(time::format(now))
        .execute(self.conn())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn incident_task_add(
        &mut self,
        incident_id: &str,
        position: i64,
        title: &str,
        now: DateTime<Utc>,
    ) -> Result<TaskRow, StoreError> {
        let id = new_id(now).to_string();
        sqlx::query("INSERT INTO incident_tasks (id, incident_id, position, title) VALUES ($1, $2, $3, $4)")
            .bind(id.clone())
            .bind(incident_id.to_owned())
            .bind(position)
            .bind(title.to_owned())
            .execute(self.conn())
            .await?;
        Ok(TaskRow { id, incident_id: incident_id.to_owned(), position, title: title.to_owned(), done_at: None, done_by: None })
    }

    pub async fn incident_task_set(
        &mut self,
        incident_id: &str,
        task_id: &str,
        done: Option<(&str, DateTime<Utc>)>,
    ) -> Result<TaskRow, StoreError> {
        let result = sqlx::query("UPDATE incident_tasks SET done_at = $3, done_by = $4 WHERE id = $1 AND incident_id = $2")
            .bind(task_id.to_owned())
            .bind(incident_id.to_owned())
            .bind(done.map(|(_, at)| time::format(at)))
            .bind(done.map(|(by, _)| by.to_owned()))
            .execute(self.conn())
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "task" });
        }
        let row = sqlx::query("SELECT id, incident_id, position, title, done_at, done_by FROM incident_tasks WHERE id = $1")
            .bind(task_id.to_owned())
            .fetch_one(self.conn())
            .await?;
        task_from(&row)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn incident_event_add(
        &mut self,
        incident_id: &str,
        actor_id: Option<&str>,
        actor_label: &str,
        kind: &str,
        body: &str,
        detail: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO incident_events (id, incident_id, at, actor_id, actor_label, kind, body, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new_id(now).to_string())
        .bind(incident_id.to_owned())
        .bind(time::format(now))
        .bind(actor_id.map(str::to_owned))
        .bind(actor_label.to_owned())
        .bind(kind.to_owned())
        .bind(body.to_owned())
        .bind(detail.to_string())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn incident_open_task_count(&mut self, incident_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM incident_tasks WHERE incident_id = $1 AND done_at IS NULL")
            .bind(incident_id.to_owned())
            .fetch_one(self.conn())
            .await?)
    }

    pub async fn incident_task_count(&mut self, incident_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM incident_tasks WHERE incident_id = $1")
            .bind(incident_id.to_owned())
            .fetch_one(self.conn())
            .await?)
    }

    pub async fn incident_link(&mut self, a: &str, b: &str) -> Result<bool, StoreError> {
        let mut added = false;
        for (from, to) in [(a, b), (b, a)] {
            let result = sqlx::query("INSERT INTO incident_links (incident_id, other_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(from.to_owned())
                .bind(to.to_owned())
                .execute(self.conn())
                .await?;
            added |= result.rows_affected() == 1;
        }
        Ok(added)
    }

    /// Copies the merged incident's constituents, observables and timeline
    /// onto the surviving one; the merged incident keeps its own copy.
    pub async fn incident_merge_into(&mut self, from: &str, into: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO incident_constituents (incident_id, org_id) SELECT $2, org_id FROM incident_constituents WHERE incident_id = $1 \
             ON CONFLICT DO NOTHING",
        )
        .bind(from.to_owned())
        .bind(into.to_owned())
        .execute(self.conn())
        .await?;
        sqlx::query(
            "INSERT INTO incident_observables (incident_id, kind, value, created_at) \
             SELECT $2, kind, value, created_at FROM incident_observables WHERE incident_id = $1 ON CONFLICT DO NOTHING",
        )
        .bind(from.to_owned())
        .bind(into.to_owned())
        .execute(self.conn())
        .await?;
        // Copies of the merged timeline get new ids derived from the old ones,
        // so the surviving timeline shows both histories in time order, and
        // [`EventRow::is_merged_copy`] tells the copies apart.
        sqlx::query(
            "INSERT INTO incident_events (id, incident_id, at, actor_id, actor_label, kind, body, detail) \
             SELECT id || $3, $2, at, actor_id, actor_label, kind, body, detail FROM incident_events WHERE incident_id = $1",
        )
        .bind(from.to_owned())
        .bind(into.to_owned())
        .bind(MERGED_COPY_SUFFIX.to_owned())
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

fn task_from(r: &sqlx::any::AnyRow) -> Result<TaskRow, StoreError> {
    Ok(TaskRow {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        position: r.try_get("position")?,
        title: r.try_get("title")?,
        done_at: r.try_get("done_at")?,
        done_by: r.try_get("done_by")?,
    })
}

/// What an incident queue shows. `None` means no restriction on that axis.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Incidents owned by these organisations…
    pub owner_org_ids: Option<Vec<String>>,
    /// …or affecting this organisation (a constituent's view).
    pub constituent_org_id: Option<String>,
    pub open_only: bool,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub assignee_id: Option<String>,
    pub unassigned: bool,
    pub rsit_class: Option<String>,
    /// Words to find in title, description, reference or notes.
    pub text: Option<String>,
}

impl Store {
    pub async fn incident_get(&self, id: &str) -> Result<IncidentRow, StoreError> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1 OR reference = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound { entity: "incident" })?;
        incident_from(&row)
    }

    /// Newest first; the cursor is the last id.
    pub async fn incident_list(&self, filter: &IncidentFilter, page: &PageRequest) -> Result<Page<IncidentRow>, StoreError> {
        let owners = filter.owner_org_ids.as_ref().map(|ids| ids.join(","));
        let text = filter.text.as_ref().map(|t| format!("%{}%", crate::escape_like(&t.to_lowercase())));
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents i WHERE ($1 = '' OR id < $1) \
             AND (($2 IS NULL AND $3 IS NULL) \
                  OR ($2 IS NOT NULL AND (',' || $2 || ',') LIKE ('%,' || owner_org_id || ',%')) \
                  OR ($3 IS NOT NULL AND EXISTS (SELECT 1 FROM incident_constituents c WHERE c.incident_id = i.id AND c.org_id = $3))) \
             AND ($4 = 0 OR status NOT IN ('resolved', 'closed')) \
             AND ($5 IS NULL OR status = $5) AND ($6 IS NULL OR priority = $6) \
             AND ($7 IS NULL OR assignee_id = $7) AND ($8 = 0 OR assignee_id IS NULL) AND ($9 IS NULL OR rsit_class = $9) \
             AND ($10 IS NULL OR LOWER(title) LIKE $10 ESCAPE '\\' OR LOWER(description) LIKE $10 ESCAPE '\\' \
                  OR LOWER(reference) LIKE $10 ESCAPE '\\' \
                  OR EXISTS (SELECT 1 FROM incident_events e WHERE e.incident_id = i.id AND e.kind = 'note' AND LOWER(e.body) LIKE $10 ESCAPE '\\')) \
             ORDER BY id DESC LIMIT $11"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(page.after.clone().unwrap_or_default())
            .bind(owners)
            .bind(filter.constituent_org_id.clone())
            .bind(i64::from(filter.open_only))
            .bind(filter.status.clone())
            .bind(filter.priority.clone())
            .bind(filter.assignee_id.clone())
            .bind(i64::from(filter.unassigned))
            .bind(filter.rsit_class.clone())
            .bind(text)
            .bind(page.fetch_limit())
            .fetch_all(self.reader())
            .await?;
        let incidents = rows.iter().map(incident_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(incidents, |i| i.id.clone()))
    }

    pub async fn incident_constituents(&self, incident_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT org_id FROM incident_constituents WHERE incident_id = $1 ORDER BY org_id")
            .bind(incident_id.to_owned())
            .fetch_all(self.reader())
            .await?)
    }

    pub async fn incident_observables(&self, incident_id: &str) -> Result<Vec<ObservableRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.kind, o.value, (SELECT COUNT(*) FROM incident_observables x WHERE x.kind = o.kind AND x.value = o.value \
             AND x.incident_id <> o.incident_id) AS seen FROM incident_observables o WHERE o.incident_id = $1 ORDER BY o.kind, o.value",
        )
        .bind(incident_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| Ok(ObservableRow { kind: r.try_get("kind")?, value: r.try_get("value")?, seen_elsewhere: r.try_get("seen")? }))
            .collect()
    }

    /// Incidents holding an observable, newest first.
    pub async fn incidents_with_observable(&self, kind: &str, value: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT incident_id FROM incident_observables WHERE kind = $1 AND value = $2 ORDER BY incident_id DESC")
            .bind(kind.to_owned())
            .bind(value.to_owned())
            .fetch_all(self.reader())
            .await?)
    }

    pub async fn incident_tasks(&self, incident_id: &str) -> Result<Vec<TaskRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, incident_id, position, title, done_at, done_by FROM incident_tasks WHERE incident_id = $1 ORDER BY position",
        )
        .bind(incident_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(task_from).collect()
    }

    pub async fn incident_events(&self, incident_id: &str) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, incident_id, at, actor_id, actor_label, kind, body, detail FROM incident_events WHERE incident_id = $1 ORDER BY at, id",
        )
        .bind(incident_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EventRow {
                    id: r.try_get("id")?,
                    incident_id: r.try_get("incident_id")?,
                    at: r.try_get("at")?,
                    actor_id: r.try_get("actor_id")?,
                    actor_label: r.try_get("actor_label")?,
                    kind: r.try_get("kind")?,
                    body: r.try_get("body")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    pub async fn incident_links(&self, incident_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT other_id FROM incident_links WHERE incident_id = $1 ORDER BY other_id")
            .bind(incident_id.to_owned())
            .fetch_all(self.reader())
            .await?)
    }
}

// ----- notices ------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NoticeRow {
    pub id: String,
    pub incident_id: String,
    pub org_id: String,
    pub recipient: String,
    pub language: String,
    pub format: String,
    pub queued_at: String,
    pub due_at: String,
    /// `queued`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub message_id: Option<String>,
}

const NOTICE_COLUMNS: &str =
    "id, incident_id, org_id, recipient, language, format, queued_at, due_at, status, attempts, last_error, sent_at, message_id";

fn notice_from(r: &sqlx::any::AnyRow) -> Result<NoticeRow, StoreError> {
    Ok(NoticeRow {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        org_id: r.try_get("org_id")?,
        recipient: r.try_get("recipient")?,
        language: r.try_get("language")?,
        format: r.try_get("format")?,
        queued_at: r.try_get("queued_at")?,
        due_at: r.try_get("due_at")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        sent_at: r.try_get("sent_at")?,
        message_id: r.try_get("message_id")?,
    })
}

impl WriteTx {
    pub async fn notice_insert(&mut self, notice: &NoticeRow) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO notices ({NOTICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(notice.id.clone())
            .bind(notice.incident_id.clone())
            .bind(notice.org_id.clone())
            .bind(notice.recipient.clone())
            .bind(notice.language.clone())
            .bind(notice.format.clone())
            .bind(notice.queued_at.clone())
            .bind(notice.due_at.clone())
            .bind(notice.status.clone())
            .bind(notice.attempts)
            .bind(notice.last_error.clone())
            .bind(notice.sent_at.clone())
            .bind(notice.message_id.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Records a delivery attempt's outcome.
    pub async fn notice_record(
        &mut self,
        id: &str,
        status: &str,
        due_at: &str,
        error: Option<&str>,
        sent_at: Option<&str>,
        message_id: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notices SET status = $2, due_at = $3, attempts = attempts + 1, last_error = $4, sent_at = $5, message_id = $6 WHERE id = $1",
        )
        .bind(id.to_owned())
        .bind(status.to_owned())
        .bind(due_at.to_owned())
        .bind(error.map(str::to_owned))
        .bind(sent_at.map(str::to_owned))
        .bind(message_id.map(str::to_owned))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Marks the first response of an incident if it has none yet.
    pub async fn incident_first_response(&mut self, incident_id: &str, at: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE incidents SET first_response_at = $2 WHERE id = $1 AND first_response_at IS NULL")
            .bind(incident_id.to_owned())
            .bind(at.to_owned())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

impl Store {
    /// Queued notices due at `now`, oldest first.
    pub async fn notices_due(&self, now: &str, limit: i64) -> Result<Vec<NoticeRow>, StoreError> {
        let sql = format!("SELECT {NOTICE_COLUMNS} FROM notices WHERE status = 'queued' AND due_at <= $1 ORDER BY due_at, id LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now.to_owned()).bind(limit).fetch_all(self.reader()).await?;
        rows.iter().map(notice_from).collect()
    }

    pub async fn notices_of_incident(&self, incident_id: &str) -> Result<Vec<NoticeRow>, StoreError> {
        let sql = format!("SELECT {NOTICE_COLUMNS} FROM notices WHERE incident_id = $1 ORDER BY queued_at, recipient");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(incident_id.to_owned()).fetch_all(self.reader()).await?;
        rows.iter().map(notice_from).collect()
    }
}

// ----- attachments --------------------------------------------------------------

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AttachmentRow {
    pub id: String,
    pub incident_id: String,
    pub filename: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

fn attachment_from(r: &sqlx::any::AnyRow) -> Result<AttachmentRow, StoreError> {
    Ok(AttachmentRow {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        filename: r.try_get("filename")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

impl WriteTx {
    pub async fn attachment_insert(&mut self, row: &AttachmentRow, content: &[u8]) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO incident_attachments (id, incident_id, filename, size, sha256, uploaded_by, uploaded_at, content) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row.id.clone())
        .bind(row.incident_id.clone())
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
}

impl Store {
    pub async fn attachments_of(&self, incident_id: &str) -> Result<Vec<AttachmentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, incident_id, filename, size, sha256, uploaded_by, uploaded_at FROM incident_attachments \
             WHERE incident_id = $1 ORDER BY uploaded_at, id",
        )
        .bind(incident_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(attachment_from).collect()
    }

    /// An attachment of an incident with its content.
    pub async fn attachment_get(&self, incident_id: &str, id: &str) -> Result<(AttachmentRow, Vec<u8>), StoreError> {
        let row = sqlx::query(
            "SELECT id, incident_id, filename, size, sha256, uploaded_by, uploaded_at, content FROM incident_attachments \
             WHERE incident_id = $1 AND id = $2",
        )
        .bind(incident_id.to_owned())
        .bind(id.to_owned())
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound { entity: "attachment" })?;
        Ok((attachment_from(&row)?, row.try_get("content")?))
    }
}

// ----- statistics ----------------------------------------------------------------

/// The facts of an incident that statistics need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    pub id: String,
    pub created_at: String,
    pub status: String,
    pub priority: String,
    pub rsit_class: String,
}

impl Store {
    /// Incidents of these CIRTs created in `[from, to)`, with the
    /// constituents (and their sectors) each concerns.
    pub async fn incident_facts(
        &self,
        owner_org_ids: &[String],
        from: &str,
        to: &str,
    ) -> Result<(Vec<IncidentFacts>, Vec<(String, String, Option<String>)>), StoreError> {
        let owners = owner_org_ids.join(",");
        let rows = sqlx::query(
            "SELECT id, created_at, status, priority, rsit_class FROM incidents \
             WHERE (',' || $1 || ',') LIKE ('%,' || owner_org_id || ',%') AND created_at >= $2 AND created_at < $3 AND merged_into IS NULL \
             ORDER BY created_at",
        )
        .bind(owners.clone())
        .bind(from.to_owned())
        .bind(to.to_owned())
        .fetch_all(self.reader())
        .await?;
        let facts = rows
            .iter()
            .map(|r| {
                Ok(IncidentFacts {
                    id: r.try_get("id")?,
                    created_at: r.try_get("created_at")?,
                    status: r.try_get("status")?,
                    priority: r.try_get("priority")?,
                    rsit_class: r.try_get("rsit_class")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let rows = sqlx::query(
            "SELECT c.incident_id, c.org_id, o.sector FROM incident_constituents c JOIN incidents i ON i.id = c.incident_id \
             JOIN organisations o ON o.id = c.org_id \
             WHERE (',' || $1 || ',') LIKE ('%,' || i.owner_org_id || ',%') AND i.created_at >= $2 AND i.created_at < $3 AND i.merged_into IS NULL",
        )
        .bind(owners)
        .bind(from.to_owned())
        .bind(to.to_owned())
        .fetch_all(self.reader())
        .await?;
        let constituents = rows
            .iter()
            .map(|r| Ok((r.try_get("incident_id")?, r.try_get("org_id")?, r.try_get("sector")?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((facts, constituents))
    }
}
