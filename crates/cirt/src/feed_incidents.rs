//! Incidents gathered from the feed pipeline: one per constituent,
//! classification type and time window, opened the first time such an
//! event is stored and counted up after that, with the constituent's
//! contacts queued for notice when it opens. The notifier then sends each
//! recipient one mail for all their due notices.
//!
//! Everything here runs inside the pipeline's batch transaction, so an
//! incident exists exactly when the events that opened it do.

use crate::desk::DeskError;
use crate::playbook;
use crate::priority::{Level, PriorityMatrix};
use crate::workflow::Status;
use chrono::{DateTime, Datelike, Utc};
use rampart_core::{Tlp, new_id, time};
use rampart_store::cirt::{IncidentRow, NoticeRow};
use rampart_store::{Contact, Store, StoreError, WriteTx};
use serde_json::json;

/// Who hears about an organisation's incidents, read before the batch's
/// transaction starts (nothing reads through the pool while it is open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPlan {
    pub org_id: String,
    pub org_name: String,
    pub recipients: Vec<String>,
    pub language: String,
    pub format: String,
    pub batch_minutes: i64,
}

/// The contacts a notice goes to: role addresses for incidents, abuse or
/// security first, any contact otherwise.
pub fn choose_recipients(contacts: &[Contact]) -> Vec<&Contact> {
    let preferred: Vec<&Contact> = contacts
        .iter()
        .filter(|c| {
            let role = c.role.to_lowercase();
            role.contains("incident") || role.contains("abuse") || role.contains("security")
        })
        .collect();
    if preferred.is_empty() { contacts.iter().collect() } else { preferred }
}

pub async fn plan_for(store: &Store, org_id: &str) -> Result<ContactPlan, StoreError> {
    let org = store.org_get(org_id).await?;
    let contacts = store.contacts_of(org_id).await?;
    let prefs = store.notification_preferences(org_id).await?;
    Ok(ContactPlan {
        org_id: org_id.to_owned(),
        org_name: org.name,
        recipients: choose_recipients(&contacts).into_iter().map(|c| c.email.clone()).collect(),
        language: prefs.as_ref().map(|p| p.language.clone()).unwrap_or_else(|| "en".into()),
        format: prefs.as_ref().map(|p| p.format.clone()).unwrap_or_else(|| "csv".into()),
        batch_minutes: prefs.as_ref().map(|p| p.batch_minutes).unwrap_or(0),
    })
}

/// Events of one constituent, type and window, new in this batch.
#[derive(Debug, Clone)]
pub struct Gathered<'a> {
    /// The CIRT that owns the incident.
    pub cirt_org_id: &'a str,
    pub plan: &'a ContactPlan,
    pub feed: &'a str,
    pub rsit_type: &'a str,
    pub window_start: &'a str,
    pub tlp: Tlp,
    pub events: i64,
    /// (kind, value) pairs worth recording: the affected addresses.
    pub observables: &'a [(String, String)],
}

/// What `gather` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub incident_id: String,
    pub opened: bool,
    pub notices: usize,
}

/// Observables kept on one incident from a feed; the stored events hold
/// the rest.
const MAX_OBSERVABLES: usize = 200;

pub async fn gather(tx: &mut WriteTx, group: &Gathered<'_>, now: DateTime<Utc>) -> Result<Outcome, DeskError> {
    let classification = crate::rsit::classify("", group.rsit_type)?;
    if let Some(incident_id) = tx.feed_incident_get(&group.plan.org_id, group.rsit_type, group.window_start).await? {
        tx.feed_incident_count(&group.plan.org_id, group.rsit_type, group.window_start, &incident_id, group.events).await?;
        for (kind, value) in group.observables.iter().take(MAX_OBSERVABLES) {
            tx.incident_observable_add(&incident_id, kind, value, now).await?;
        }
        tx.incident_event_add(
            &incident_id,
            None,
            "feed pipeline",
            "feed",
            &format!("{} more events from {}", group.events, group.feed),
            &json!({"feed": group.feed, "events": group.events}),
            now,
        )
        .await?;
        return Ok(Outcome { incident_id, opened: false, notices: 0 });
    }
    let at = time::format(now);
    let number = tx.next_reference("incident", now).await?;
    let label = crate::rsit::taxonomy()
        .iter()
        .flat_map(|c| c.types.iter())
        .find(|t| t.value == classification.kind)
        .map_or(classification.kind.clone(), |t| t.label.clone());
    let (impact, urgency) = match classification.class.as_str() {
        "malicious-code" | "intrusions" | "availability" => (Level::High, Level::High),
        "vulnerable" | "information-gathering" => (Level::Medium, Level::Low),
        _ => (Level::Medium, Level::Medium),
    };
    let row = IncidentRow {
        id: new_id(now).to_string(),
        reference: format!("INC-{}-{number:06}", now.year()),
        title: format!("{label}: {} ({})", group.plan.org_name, group.feed).chars().take(300).collect(),
        description: format!(
            "Opened by the feed pipeline for events of type `{}` from feed `{}` attributed to {} in the window starting {}.",
            classification.kind, group.feed, group.plan.org_name, group.window_start
        ),
        owner_org_id: group.cirt_org_id.to_owned(),
        rsit_class: classification.class.clone(),
        rsit_type: classification.kind.clone(),
        tlp: group.tlp.as_str().to_owned(),
        pap: Tlp::Amber.as_str().to_owned(),
        impact: impact.as_str().to_owned(),
        urgency: urgency.as_str().to_owned(),
        priority: PriorityMatrix::default().priority(impact, urgency).as_str().to_owned(),
        status: Status::New.as_str().to_owned(),
        assignee_id: None,
        source: "feed".into(),
        merged_into: None,
        created_at: at.clone(),
        updated_at: at.clone(),
        first_response_at: None,
    };
    tx.incident_insert(&row).await?;
    tx.incident_constituent_add(&row.id, &group.plan.org_id).await?;
    for (kind, value) in group.observables.iter().take(MAX_OBSERVABLES) {
        tx.incident_observable_add(&row.id, kind, value, now).await?;
    }
    for (position, title) in playbook::tasks_for(&classification.class, &classification.kind).iter().enumerate() {
        tx.incident_task_add(&row.id, i64::try_from(position).unwrap_or(0), title, now).await?;
    }
    tx.incident_event_add(
        &row.id,
        None,
        "feed pipeline",
        "created",
        &row.title,
        &json!({"priority": row.priority, "rsit": format!("{}/{}", row.rsit_class, row.rsit_type), "feed": group.feed, "events": group.events}),
        now,
    )
    .await?;
    tx.feed_incident_count(&group.plan.org_id, group.rsit_type, group.window_start, &row.id, group.events).await?;
    // TLP:RED is told to named people directly, never by e-mail.
    let mut notices = 0;
    if group.tlp != Tlp::Red {
        for recipient in &group.plan.recipients {
            let notice = NoticeRow {
                id: new_id(now).to_string(),
                incident_id: row.id.clone(),
                org_id: group.plan.org_id.clone(),
                recipient: recipient.clone(),
                language: group.plan.language.clone(),
                format: group.plan.format.clone(),
                queued_at: at.clone(),
                due_at: time::format(now + chrono::Duration::minutes(group.plan.batch_minutes)),
                status: "queued".into(),
                attempts: 0,
                last_error: None,
                sent_at: None,
                message_id: None,
            };
            tx.notice_insert(&notice).await?;
            tx.incident_event_add(
                &row.id,
                None,
                "feed pipeline",
                "notice",
                recipient,
                &json!({"recipient": recipient, "status": "queued"}),
                now,
            )
            .await?;
            notices += 1;
        }
    }
    Ok(Outcome { incident_id: row.id, opened: true, notices })
}
