//! Deadline reminders for a campaign's focal points: 14, 7 and 1 day
//! before the deadline and once when it has passed, to each country that
//! has not submitted or has answers sent back to it. Each stage is sent
//! once per country (recorded in `gci_reminders`), and a country first seen
//! late gets only the stage it is in, not the earlier ones. Sending is the
//! caller's: this module says who is due and records what was sent.

use crate::GciError;
use crate::campaigns::Gci;
use crate::countries;
use chrono::{DateTime, NaiveDate, Utc};
use rampart_core::time;
use rampart_store::AuditEntry;
use rampart_store::gci::FocalPointRow;
use serde::Serialize;
use serde_json::json;

/// Days before the deadline at which a reminder goes out.
pub const STAGES: [i64; 3] = [14, 7, 1];

/// The stage `days_left` falls in: the nearest stage at or above it; 0 once
/// the deadline has passed; none further out than the first stage.
pub fn stage(days_left: i64) -> Option<i64> {
    if days_left < 0 {
        return Some(0);
    }
    STAGES.iter().rev().copied().find(|s| days_left <= *s)
}

#[derive(Debug, Clone, Serialize)]
pub struct Reminder {
    pub campaign_id: String,
    pub campaign_name: String,
    pub deadline: String,
    pub country: String,
    pub country_name: String,
    pub stage: i64,
    pub days_left: i64,
    pub answered: usize,
    pub questions: usize,
    pub clarifications: usize,
    pub recipients: Vec<FocalPointRow>,
}

impl Reminder {
    /// The message: (subject, plain-text body). `base_url` links the questionnaire.
    pub fn compose(&self, base_url: &str) -> (String, String) {
        let when = match self.days_left {
            d if d < 0 => format!("was due on {} ({} day(s) ago)", self.deadline, -d),
            0 => format!("is due today, {}", self.deadline),
            d => format!("is due on {} (in {d} day(s))", self.deadline),
        };
        let subject = if self.days_left < 0 {
            format!("Overdue: {} questionnaire for {}", self.campaign_name, self.country_name)
        } else {
            format!("Reminder: {} questionnaire for {} {}", self.campaign_name, self.country_name, short_when(self.days_left))
        };
        let mut body = format!(
            "The {} questionnaire for {} {when}.\n\nAnswered: {} of {} questions.\n",
            self.campaign_name, self.country_name, self.answered, self.questions
        );
        if self.clarifications > 0 {
            body.push_str(&format!("Sent back by the reviewers for clarification: {} answer(s).\n", self.clarifications));
        }
        body.push_str(&format!(
            "\nOpen the questionnaire: {}/gci/campaigns/{}/countries/{}\n\nYou receive this because you are a GCI focal point for {}.\n",
            base_url.trim_end_matches('/'),
            self.campaign_id,
            self.country,
            self.country_name
        ));
        (subject, body)
    }
}

fn short_when(days_left: i64) -> String {
    match days_left {
        0 => "due today".into(),
        1 => "due tomorrow".into(),
        d => format!("due in {d} days"),
    }
}

impl Gci {
    /// The reminders due at `now` and not sent yet.
    pub async fn due_reminders(&self, now: DateTime<Utc>) -> Result<Vec<Reminder>, GciError> {
        let today = now.date_naive();
        let mut due = Vec::new();
        for campaign in self.store().gci_campaigns().await? {
            if campaign.status != "open" {
                continue;
            }
            let Ok(deadline) = NaiveDate::parse_from_str(&campaign.deadline, "%Y-%m-%d") else { continue };
            let days_left = (deadline - today).num_days();
            let Some(stage) = stage(days_left) else { continue };
            let sent = self.store().gci_reminders_sent(&campaign.id).await?;
            let (_, framework) = self.edition(&campaign.edition_code).await?;
            let questions = framework.questions().count();
            let answers = self.store().gci_campaign_answers(&campaign.id).await?;
            for participant in self.store().gci_participants(&campaign.id).await? {
                if sent.iter().any(|(cc, s)| *cc == participant.country && *s == stage) {
                    continue;
                }
                // The latest version of each of the country's answers.
                let mut latest: std::collections::HashMap<&str, &rampart_store::gci::AnswerRow> = std::collections::HashMap::new();
                for answer in answers.iter().filter(|a| a.country == participant.country) {
                    if latest.get(answer.question_id.as_str()).is_none_or(|a| a.version < answer.version) {
                        latest.insert(answer.question_id.as_str(), answer);
                    }
                }
                let clarifications = latest.values().filter(|a| a.state == "clarify").count();
                let waiting = matches!(participant.status.as_str(), "not_started" | "in_progress") || clarifications > 0;
                if !waiting || participant.status == "validated" {
                    continue;
                }
                let recipients = self.store().gci_focal_points(&participant.country).await?;
                if recipients.is_empty() {
                    continue;
                }
                due.push(Reminder {
                    campaign_id: campaign.id.clone(),
                    campaign_name: campaign.name.clone(),
                    deadline: campaign.deadline.clone(),
                    country_name: countries::find(&participant.country).map(|c| c.name).unwrap_or_else(|| participant.country.clone()),
                    country: participant.country.clone(),
                    stage,
                    days_left,
                    answered: latest.len(),
                    questions,
                    clarifications,
                    recipients,
                });
            }
        }
        Ok(due)
    }

    /// Records a reminder as sent, audited; false when another sender
    /// recorded it first.
    pub async fn mark_reminded(&self, reminder: &Reminder, now: DateTime<Utc>) -> Result<bool, GciError> {
        let mut tx = self.store().begin().await?;
        let recipients = i64::try_from(reminder.recipients.len()).unwrap_or(i64::MAX);
        if !tx.gci_reminder_insert(&reminder.campaign_id, &reminder.country, reminder.stage, recipients, &time::format(now)).await? {
            return Ok(false);
        }
        let entry = AuditEntry {
            actor_id: None,
            actor_label: "system:gci-reminders".into(),
            actor_org_id: None,
            action: "gci.reminder.sent".into(),
            entity_type: "gci_campaign".into(),
            entity_id: Some(reminder.campaign_id.clone()),
            source_ip: None,
            summary: json!({"country": reminder.country, "stage": reminder.stage, "recipients": recipients}),
        };
        tx.audit(entry, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
