//! Notices to constituents: composed from incidents in the recipient's
//! language with the affected observables attached (CSV or JSON), batched
//! per recipient and interval, sent over SMTP (TLS when the server offers
//! it) with retries, and tracked per recipient.

use chrono::{DateTime, Duration, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rampart_core::{Clock, Tlp, time};
use rampart_store::cirt::{IncidentRow, NoticeRow};
use rampart_store::{AuditEntry, Store, StoreError};
use serde::Deserialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

/// How many times a notice is tried before it is marked failed.
pub const MAX_ATTEMPTS: i64 = 5;

#[derive(Debug, Deserialize)]
struct Template {
    subject_one: String,
    subject_many: String,
    body: String,
}

fn templates() -> &'static HashMap<String, Template> {
    static TEMPLATES: OnceLock<HashMap<String, Template>> = OnceLock::new();
    TEMPLATES.get_or_init(|| toml::from_str(include_str!("../data/notice-templates.toml")).unwrap_or_default())
}

/// The languages notices can be written in.
pub fn languages() -> Vec<String> {
    let mut all: Vec<String> = templates().keys().cloned().collect();
    all.sort();
    all
}

fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_owned(), |text, (key, value)| text.replace(&format!("{{{key}}}"), value))
}

/// What goes into one mail: the incidents concerning one recipient.
pub struct Composed {
    pub subject: String,
    pub body: String,
    pub attachment_name: String,
    pub attachment_type: &'static str,
    pub attachment: Vec<u8>,
}

/// The strictest label among the incidents: the mail carries it.
fn strictest(incidents: &[(IncidentRow, Vec<(String, String)>)]) -> Tlp {
    incidents.iter().filter_map(|(i, _)| i.tlp.parse::<Tlp>().ok()).max().unwrap_or(Tlp::Red)
}

/// Composes a notice. `incidents` pairs each incident with its observables
/// (kind, value); `format` is `csv` or `json`.
pub fn compose(cirt_name: &str, language: &str, format: &str, incidents: &[(IncidentRow, Vec<(String, String)>)]) -> Composed {
    let template = templates().get(language).or_else(|| templates().get("en"));
    let tlp = format!("TLP:{}", strictest(incidents));
    let list: String = incidents
        .iter()
        .map(|(i, _)| format!("- {} — {} ({}/{})", i.reference, i.title, i.rsit_class, i.rsit_type))
        .collect::<Vec<_>>()
        .join("\n");
    let count = incidents.len().to_string();
    let (subject, body) = match (template, incidents) {
        (Some(t), [(only, _)]) => (
            fill(&t.subject_one, &[("tlp", &tlp), ("reference", &only.reference), ("title", &only.title)]),
            fill(&t.body, &[("tlp", &tlp), ("list", &list), ("cirt", cirt_name), ("count", &count)]),
        ),
        (Some(t), _) => (
            fill(&t.subject_many, &[("tlp", &tlp), ("count", &count)]),
            fill(&t.body, &[("tlp", &tlp), ("list", &list), ("cirt", cirt_name), ("count", &count)]),
        ),
        (None, _) => (format!("[{tlp}] {count} incident(s)"), list.clone()),
    };
    let rows: Vec<(String, String, String, String, String)> = incidents
        .iter()
        .flat_map(|(i, observables)| {
            observables.iter().map(move |(kind, value)| {
                (i.reference.clone(), format!("{}/{}", i.rsit_class, i.rsit_type), kind.clone(), value.clone(), i.tlp.clone())
            })
        })
        .collect();
    let (attachment_name, attachment_type, attachment) = if format == "json" {
        let items: Vec<serde_json::Value> = rows
            .iter()
            .map(|(reference, classification, kind, value, tlp)| json!({"incident": reference, "classification": classification, "kind": kind, "value": value, "tlp": tlp}))
            .collect();
        ("events.json".to_owned(), "application/json", serde_json::to_vec_pretty(&items).unwrap_or_default())
    } else {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let _ = writer.write_record(["incident", "classification", "kind", "value", "tlp"]);
        for (reference, classification, kind, value, tlp) in &rows {
            let _ = writer.write_record([reference, classification, kind, value, tlp]);
        }
        ("events.csv".to_owned(), "text/csv", writer.into_inner().unwrap_or_default())
    };
    Composed { subject, body, attachment_name, attachment_type, attachment }
}

/// Sends a message; the SMTP implementation is [`SmtpMailer`].
pub trait Mailer: Send + Sync {
    fn send(&self, message: Message) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// STARTTLS when the server offers it (the default: many constituents'
    /// relays still do not).
    Opportunistic,
    Required,
    None,
}

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    pub fn new(host: &str, port: u16, tls: TlsMode, credentials: Option<(String, String)>) -> Result<SmtpMailer, String> {
        let parameters = TlsParameters::new(host.to_owned()).map_err(|err| err.to_string())?;
        let tls = match tls {
            TlsMode::Opportunistic => Tls::Opportunistic(parameters),
            TlsMode::Required => Tls::Required(parameters),
            TlsMode::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(std::time::Duration::from_secs(30)));
        if let Some((user, password)) = credentials {
            builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(user, password));
        }
        Ok(SmtpMailer { transport: builder.build() })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, message: Message) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move { self.transport.send(message).await.map(|_| ()).map_err(|err| err.to_string()) })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Address(String),
}

/// Sends due notices. One per process is enough; several are harmless,
/// since a notice is sent only from the `queued` state inside a transaction.
pub struct Notifier {
    store: Store,
    clock: Arc<dyn Clock>,
    mailer: Arc<dyn Mailer>,
    from: Mailbox,
}

/// What one `flush` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FlushReport {
    pub mails_sent: usize,
    pub notices_sent: usize,
    pub notices_retrying: usize,
    pub notices_failed: usize,
}

impl Notifier {
    pub fn new(store: Store, clock: Arc<dyn Clock>, mailer: Arc<dyn Mailer>, from: &str) -> Result<Notifier, NotifyError> {
        let from = from.parse::<Mailbox>().map_err(|err| NotifyError::Address(format!("smtp.from: {err}")))?;
        Ok(Notifier { store, clock, mailer, from })
    }

    /// Sends every due notice, one mail per recipient, format and language.
    pub async fn flush(&self) -> Result<FlushReport, NotifyError> {
        let now = self.clock.now();
        let due = self.store.notices_due(&time::format(now), 1000).await?;
        let mut groups: BTreeMap<(String, String, String), Vec<NoticeRow>> = BTreeMap::new();
        for notice in due {
            groups.entry((notice.recipient.clone(), notice.format.clone(), notice.language.clone())).or_default().push(notice);
        }
        let mut report = FlushReport::default();
        for ((recipient, format, language), notices) in groups {
            let mut incidents = Vec::new();
            let mut cirt_name = String::new();
            for notice in &notices {
                let incident = self.store.incident_get(&notice.incident_id).await?;
                if cirt_name.is_empty() {
                    cirt_name = self.store.org_get(&incident.owner_org_id).await.map(|o| o.name).unwrap_or_default();
                }
                let observables = self.store.incident_observables(&incident.id).await?.into_iter().map(|o| (o.kind, o.value)).collect();
                incidents.push((incident, observables));
            }
            let composed = compose(&cirt_name, &language, &format, &incidents);
            let key = match notices.first() {
                Some(notice) => self.store.contact_key(&notice.org_id, &recipient).await?,
                None => None,
            };
            let outcome = match self.message(&recipient, &composed, key.as_deref()) {
                Ok(message) => self.mailer.send(message).await,
                Err(err) => Err(err),
            };
            self.record(&notices, &recipient, outcome, now, &mut report).await?;
        }
        Ok(report)
    }

    /// The mail for `recipient`: the text and the attachment, encrypted as
    /// PGP/MIME (RFC 3156) when the contact registered a key. The subject
    /// stays readable: it carries only the TLP label and references.
    fn message(&self, recipient: &str, composed: &Composed, key: Option<&str>) -> Result<Message, String> {
        let to = recipient.parse::<Mailbox>().map_err(|err| format!("recipient {recipient}: {err}"))?;
        let content_type = ContentType::parse(composed.attachment_type).map_err(|err| err.to_string())?;
        let content = MultiPart::mixed()
            .singlepart(SinglePart::plain(composed.body.clone()))
            .singlepart(Attachment::new(composed.attachment_name.clone()).body(composed.attachment.clone(), content_type));
        let body = match key {
            None => content,
            Some(key) => {
                let armored =
                    crate::encryption::encrypt(key, &content.formatted()).map_err(|err| format!("encrypting to {recipient}: {err}"))?;
                let control = ContentType::parse("application/pgp-encrypted").map_err(|err| err.to_string())?;
                let payload = ContentType::parse("application/octet-stream; name=\"encrypted.asc\"").map_err(|err| err.to_string())?;
                MultiPart::encrypted("application/pgp-encrypted".to_owned())
                    .singlepart(SinglePart::builder().header(control).body(String::from("Version: 1\r\n")))
                    .singlepart(SinglePart::builder().header(payload).body(armored))
            }
        };
        Message::builder().from(self.from.clone()).to(to).subject(composed.subject.clone()).multipart(body).map_err(|err| err.to_string())
    }

    async fn record(
        &self,
        notices: &[NoticeRow],
        recipient: &str,
        outcome: Result<(), String>,
        now: DateTime<Utc>,
        report: &mut FlushReport,
    ) -> Result<(), NotifyError> {
        let at = time::format(now);
        let mut tx = self.store.begin().await?;
        match &outcome {
            Ok(()) => {
                report.mails_sent += 1;
                for notice in notices {
                    tx.notice_record(&notice.id, "sent", &notice.due_at, None, Some(&at), None).await?;
                    // A notice is the CIRT's first response to the constituent.
                    tx.incident_first_response(&notice.incident_id, &at).await?;
                    tx.incident_event_add(
                        &notice.incident_id,
                        None,
                        "notifier",
                        "notice",
                        recipient,
                        &json!({"recipient": recipient, "status": "sent"}),
                        now,
                    )
                    .await?;
                    report.notices_sent += 1;
                }
            }
            Err(error) => {
                for notice in notices {
                    let attempts = notice.attempts + 1;
                    if attempts >= MAX_ATTEMPTS {
                        tx.notice_record(&notice.id, "failed", &notice.due_at, Some(error), None, None).await?;
                        tx.incident_event_add(
                            &notice.incident_id,
                            None,
                            "notifier",
                            "notice",
                            recipient,
                            &json!({"recipient": recipient, "status": "failed", "error": error}),
                            now,
                        )
                        .await?;
                        report.notices_failed += 1;
                    } else {
                        // Back off: 1, 2, 4, 8 minutes.
                        let retry = now + Duration::minutes(1 << (attempts - 1).clamp(0, 10));
                        tx.notice_record(&notice.id, "queued", &time::format(retry), Some(error), None, None).await?;
                        report.notices_retrying += 1;
                    }
                }
            }
        }
        tx.audit(
            AuditEntry {
                actor_id: None,
                actor_label: "notifier".into(),
                actor_org_id: None,
                action: if outcome.is_ok() { "cirt.notice.sent".into() } else { "cirt.notice.attempt_failed".into() },
                entity_type: "notice".into(),
                entity_id: notices.first().map(|n| n.id.clone()),
                source_ip: None,
                summary: json!({"recipient": recipient, "notices": notices.len(), "error": outcome.err()}),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(reference: &str, tlp: &str) -> IncidentRow {
        IncidentRow {
            id: reference.into(),
            reference: reference.into(),
            title: format!("Title of {reference}"),
            description: String::new(),
            owner_org_id: "cirt".into(),
            rsit_class: "malicious-code".into(),
            rsit_type: "infected-system".into(),
            tlp: tlp.into(),
            pap: "AMBER".into(),
            impact: "medium".into(),
            urgency: "medium".into(),
            priority: "medium".into(),
            status: "in_progress".into(),
            assignee_id: None,
            source: "web".into(),
            merged_into: None,
            created_at: String::new(),
            updated_at: String::new(),
            first_response_at: None,
        }
    }

    #[test]
    fn one_mail_for_many_incidents_in_the_recipients_language_with_the_strictest_label() {
        let incidents = vec![
            (incident("INC-2026-000001", "GREEN"), vec![("ipv4".to_owned(), "198.51.100.7".to_owned())]),
            (
                incident("INC-2026-000002", "AMBER"),
                vec![("ipv4".to_owned(), "198.51.100.8".to_owned()), ("domain".to_owned(), "x.example".to_owned())],
            ),
        ];
        let french = compose("KE-CIRT", "fr", "csv", &incidents);
        assert_eq!(french.subject, "[TLP:AMBER] 2 incidents concernent votre organisation");
        assert!(french.body.contains("INC-2026-000002") && french.body.contains("KE-CIRT traite"), "{}", french.body);
        let csv = String::from_utf8(french.attachment).unwrap();
        assert_eq!(csv.lines().count(), 4, "header and three observables: {csv}");
        assert!(csv.starts_with("incident,classification,kind,value,tlp\n"));
        let single = compose("KE-CIRT", "xx", "json", &incidents[..1]);
        assert_eq!(single.subject, "[TLP:GREEN] INC-2026-000001: Title of INC-2026-000001", "unknown languages fall back to English");
        let json: serde_json::Value = serde_json::from_slice(&single.attachment).unwrap();
        assert_eq!(json[0]["value"], "198.51.100.7");
        assert_eq!(languages(), ["ar", "en", "fr"]);
    }
}
