//! The pipeline as a server runs it: rows pushed over HTTP, files left in
//! collector folders and reports polled from URLs go to the embedded
//! pipeline, or onto the first JetStream stream when the pipeline is
//! distributed.

use crate::FeedError;
use crate::config::{CollectorKind, FeedConfig, PipelineConfig};
use crate::distributed::{self, Bus, Published};
use crate::http::{HttpClient, Polled, Validators};
use crate::pipeline::{Pipeline, Summary};
use chrono::{DateTime, Utc};
use rampart_core::Clock;
use rampart_store::{AuditEntry, Store};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// Where rows go.
pub enum Mode {
    Embedded(Arc<Pipeline>),
    Distributed { bus: Box<Bus>, config: Arc<PipelineConfig>, store: Store, clock: Arc<dyn Clock> },
}

pub struct Intake {
    mode: Mode,
    /// Each HTTP collector's next poll, and what the last one was given.
    polls: tokio::sync::Mutex<HashMap<String, PollState>>,
}

struct PollState {
    client: HttpClient,
    next_at: DateTime<Utc>,
    validators: Validators,
    /// The last body read, so a server that ignores conditional requests
    /// does not make the same report a new run every interval.
    last_body: Option<[u8; 32]>,
}

/// What became of pushed rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// Embedded: the rows are stored; the run's counts.
    Stored(Summary),
    /// Distributed: the rows are on the first stream; workers store them.
    Published(Published),
}

fn describe(file: &str, pushed: &Pushed) -> String {
    match pushed {
        Pushed::Stored(summary) => {
            let c = summary.counts;
            format!(
                "{file}: read {}, parsed {}, quarantined {}, duplicates {}, filtered {}, stored {}",
                c.read, c.parsed, c.quarantined, c.duplicates, c.filtered, c.stored
            )
        }
        Pushed::Published(p) => format!("{file}: published {} rows in {} messages as run {}", p.rows, p.chunks, p.run_id),
    }
}

impl Intake {
    pub fn new(mode: Mode) -> Intake {
        Intake { mode, polls: tokio::sync::Mutex::new(HashMap::new()) }
    }

    pub fn embedded(pipeline: Arc<Pipeline>) -> Intake {
        Intake::new(Mode::Embedded(pipeline))
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    pub fn config(&self) -> &PipelineConfig {
        match &self.mode {
            Mode::Embedded(pipeline) => pipeline.config(),
            Mode::Distributed { config, .. } => config,
        }
    }

    fn store_and_clock(&self) -> (&Store, &Arc<dyn Clock>) {
        match &self.mode {
            Mode::Embedded(pipeline) => (pipeline.store(), pipeline.clock()),
            Mode::Distributed { store, clock, .. } => (store, clock),
        }
    }

    /// Reads a body of `feed` as one run named `name` (a file name picks
    /// the Shadowserver report, as for files). The run's id is a hash of
    /// the feed, name and body, so the same body again stores nothing
    /// twice; the run id it returns is a fresh one if that run finished.
    async fn ingest_body(&self, feed: &FeedConfig, name: &str, body: Vec<u8>) -> Result<Pushed, FeedError> {
        let mut hasher = Sha256::new();
        hasher.update(format!("body\u{1f}{}\u{1f}{name}\u{1f}", feed.name).as_bytes());
        hasher.update(&body);
        let run_id = data_encoding::HEXLOWER.encode(&hasher.finalize()[..16]);
        let total = body.len() as u64;
        let input: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(body));
        let (store, clock) = self.store_and_clock();
        let run_id = crate::collect::fresh_run_id(store, clock, run_id).await?;
        Ok(match &self.mode {
            Mode::Embedded(pipeline) => Pushed::Stored(pipeline.ingest_reader(feed, run_id, name.to_owned(), input, total, None).await?),
            Mode::Distributed { bus, .. } => {
                Pushed::Published(distributed::publish_reader(bus, feed, run_id, name.to_owned(), input).await?)
            }
        })
    }

    /// Reads a pushed body; `audit` names who pushed (its action is kept;
    /// the run and the outcome are filled in).
    pub async fn push(&self, feed: &str, name: &str, body: Vec<u8>, audit: AuditEntry) -> Result<Pushed, FeedError> {
        let feed = self.config().feed(feed).ok_or_else(|| FeedError::field("feed", format!("no feed `{feed}` is configured")))?.clone();
        let bytes = body.len();
        let pushed = self.ingest_body(&feed, name, body).await?;
        // The batches are audited as the pipeline's work; who pushed the
        // rows is recorded here.
        let (run_id, outcome) = match &pushed {
            Pushed::Stored(summary) => (summary.run_id.clone(), json!({"stored": summary.counts})),
            Pushed::Published(published) => (published.run_id.clone(), json!({"published": published.rows, "messages": published.chunks})),
        };
        let (store, clock) = self.store_and_clock();
        let mut tx = store.begin().await?;
        tx.audit(
            AuditEntry {
                entity_type: "feed_run".into(),
                entity_id: Some(run_id),
                summary: json!({"feed": feed.name, "name": name, "bytes": bytes, "outcome": outcome}),
                ..audit
            },
            clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(pushed)
    }

    /// One pass over the collectors: every waiting file of the folders,
    /// and every URL whose interval has passed. A line for each file or
    /// report taken; a URL that fails gives a line saying so and is tried
    /// again at its next interval, without stopping the others.
    pub async fn sweep(&self) -> Result<Vec<String>, FeedError> {
        let mut lines = match &self.mode {
            Mode::Embedded(pipeline) => pipeline
                .sweep_folders()
                .await?
                .into_iter()
                .map(|(file, summary)| describe(&file, &Pushed::Stored(summary)))
                .collect::<Vec<_>>(),
            Mode::Distributed { bus, config, store, clock } => distributed::sweep_folders(bus, config, store, clock)
                .await?
                .into_iter()
                .map(|(file, published)| describe(&file, &Pushed::Published(published)))
                .collect(),
        };
        lines.extend(self.poll_due().await?);
        lines.extend(self.read_maildirs().await?);
        Ok(lines)
    }

    /// Every maildir collector's new messages: an X-ARF feed reads each
    /// message as one report (all of a pass in one run); any other feed
    /// reads each message's report attachments, one run each, by their
    /// file names. A message is marked seen once what it held is stored
    /// (embedded) or published (distributed); a crash before that reads
    /// it again, and its events are keyed by content.
    async fn read_maildirs(&self) -> Result<Vec<String>, FeedError> {
        let mut lines = Vec::new();
        for feed in &self.config().feeds {
            let Some(CollectorKind::Maildir { path, .. }) = &feed.collector else { continue };
            let messages = crate::collect::maildir_messages(path)?;
            if messages.is_empty() {
                continue;
            }
            let read = |message: &std::path::Path| std::fs::read(message).map_err(|err| FeedError::io(message, err));
            if feed.parser == crate::config::ParserKind::XArf {
                let mut body = String::new();
                for message in &messages {
                    body.push_str(&crate::xarf::row_for_message(&read(message)?));
                    body.push('\n');
                }
                let name = messages[0].file_name().map_or_else(|| "maildir".to_owned(), |n| n.to_string_lossy().into_owned());
                let pushed = self.ingest_body(feed, &format!("maildir {name}"), body.into_bytes()).await?;
                lines.push(describe(&format!("{} ({} messages)", path.display(), messages.len()), &pushed));
            } else {
                for message in &messages {
                    match rampart_cirt::intake::report_attachments(&read(message)?) {
                        Ok(attachments) if !attachments.is_empty() => {
                            for (name, bytes) in attachments {
                                let pushed = self.ingest_body(feed, &name, bytes).await?;
                                lines.push(describe(&name, &pushed));
                            }
                        }
                        Ok(_) => lines.push(format!("{}: no report attached; marked seen", message.display())),
                        Err(err) => lines.push(format!("{}: {err}; marked seen", message.display())),
                    }
                }
            }
            for message in &messages {
                crate::collect::mark_seen(message)?;
            }
        }
        Ok(lines)
    }

    async fn poll_due(&self) -> Result<Vec<String>, FeedError> {
        let mut lines = Vec::new();
        let now = self.store_and_clock().1.now();
        let mut polls = self.polls.lock().await;
        for feed in &self.config().feeds {
            let Some(CollectorKind::Http { url, name, token, interval_seconds }) = &feed.collector else { continue };
            let state = match polls.entry(feed.name.clone()) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => entry.insert(PollState {
                    client: HttpClient::new(token.as_deref(), std::time::Duration::from_secs(300))?,
                    next_at: now,
                    validators: Validators::default(),
                    last_body: None,
                }),
            };
            if now < state.next_at {
                continue;
            }
            state.next_at = now + chrono::Duration::seconds(i64::try_from(*interval_seconds).unwrap_or(3600));
            let parsed = crate::http::check_url(url).map_err(|message| FeedError::field("collector.url", message))?;
            match state.client.poll(&parsed, &state.validators).await {
                Ok(Polled::Unchanged) => {}
                Ok(Polled::Fresh { body, validators }) => {
                    let digest: [u8; 32] = Sha256::digest(&body).into();
                    if state.last_body == Some(digest) {
                        continue;
                    }
                    let pushed = self.ingest_body(feed, name, body.to_vec()).await?;
                    state.validators = validators;
                    state.last_body = Some(digest);
                    lines.push(describe(url, &pushed));
                }
                Err(err) => lines.push(format!("{url}: not polled: {err}")),
            }
        }
        Ok(lines)
    }

    /// The shortest interval of the collectors, if there are any.
    pub fn sweep_interval(&self) -> Option<u64> {
        self.config().feeds.iter().filter_map(|f| f.collector.as_ref().map(CollectorKind::interval_seconds)).min()
    }
}
