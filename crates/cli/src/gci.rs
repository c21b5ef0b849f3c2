//! GCI deadline reminders by e-mail: `rampart gci remind` sends what is
//! due once; `serve` does the same every hour when SMTP is configured.

use crate::error::CliError;
use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::Mailbox;
use rampart_cirt::notify::Mailer;
use rampart_gci::campaigns::Gci;
use rampart_gci::reminders::Reminder;

/// What one round of sending did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Sent {
    pub reminders: Vec<(String, String, i64, usize)>,
    pub failed: Vec<(String, String, String)>,
}

fn message(reminder: &Reminder, from: &str, base_url: &str) -> Result<Message, String> {
    let (subject, body) = reminder.compose(base_url);
    let from: Mailbox = from.parse().map_err(|err| format!("smtp.from: {err}"))?;
    let mut builder = Message::builder().from(from).subject(subject);
    for recipient in &reminder.recipients {
        let to: Mailbox = format!("{} <{}>", recipient.display_name.replace(['<', '>', '"'], ""), recipient.email)
            .parse()
            .map_err(|err| format!("{}: {err}", recipient.email))?;
        builder = builder.to(to);
    }
    builder.header(lettre::message::header::ContentType::TEXT_PLAIN).body(body).map_err(|err| err.to_string())
}

/// Sends every reminder due at `now`, recording each one sent; a failed
/// send is left unrecorded so the next round tries again.
pub async fn send_reminders(gci: &Gci, mailer: &dyn Mailer, from: &str, base_url: &str, now: DateTime<Utc>) -> Result<Sent, CliError> {
    let mut sent = Sent::default();
    for reminder in gci.due_reminders(now).await.map_err(|err| CliError::Other(err.to_string()))? {
        let outcome = match message(&reminder, from, base_url) {
            Ok(message) => mailer.send(message).await,
            Err(err) => Err(err),
        };
        match outcome {
            Ok(()) => {
                gci.mark_reminded(&reminder, now).await.map_err(|err| CliError::Other(err.to_string()))?;
                sent.reminders.push((reminder.campaign_name.clone(), reminder.country.clone(), reminder.stage, reminder.recipients.len()));
            }
            Err(err) => sent.failed.push((reminder.campaign_name.clone(), reminder.country.clone(), err)),
        }
    }
    Ok(sent)
}
