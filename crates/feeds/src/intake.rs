//! The pipeline as a server runs it: rows pushed over HTTP and files
//! left in collector folders go to the embedded pipeline, or onto the
//! first JetStream stream when the pipeline is distributed.

use crate::FeedError;
use crate::config::PipelineConfig;
use crate::distributed::{self, Bus, Published};
use crate::pipeline::{Pipeline, Summary};
use rampart_core::Clock;
use rampart_store::{AuditEntry, Store};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub enum Intake {
    Embedded(Arc<Pipeline>),
    Distributed { bus: Box<Bus>, config: Arc<PipelineConfig>, store: Store, clock: Arc<dyn Clock> },
}

/// What became of pushed rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// Embedded: the rows are stored; the run's counts.
    Stored(Summary),
    /// Distributed: the rows are on the first stream; workers store them.
    Published(Published),
}

impl Intake {
    pub fn config(&self) -> &PipelineConfig {
        match self {
            Intake::Embedded(pipeline) => pipeline.config(),
            Intake::Distributed { config, .. } => config,
        }
    }

    /// Reads a pushed body of `feed` as one run named `name` (a file name
    /// picks the Shadowserver report, as for files). The run's id is a
    /// hash of the feed, name and body, so a client that pushes again
    /// after a lost answer stores nothing twice. `audit` names who pushed
    /// (its action is kept; the run and the outcome are filled in).
    pub async fn push(&self, feed: &str, name: &str, body: Vec<u8>, audit: AuditEntry) -> Result<Pushed, FeedError> {
        let feed = self.config().feed(feed).ok_or_else(|| FeedError::field("feed", format!("no feed `{feed}` is configured")))?.clone();
        let mut hasher = Sha256::new();
        hasher.update(format!("push\u{1f}{}\u{1f}{name}\u{1f}", feed.name).as_bytes());
        hasher.update(&body);
        let run_id = data_encoding::HEXLOWER.encode(&hasher.finalize()[..16]);
        let total = body.len() as u64;
        let input: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(body));
        let (store, clock) = match self {
            Intake::Embedded(pipeline) => (pipeline.store(), pipeline.clock()),
            Intake::Distributed { store, clock, .. } => (store, clock),
        };
        let run_id = crate::collect::fresh_run_id(store, clock, run_id).await?;
        let pushed = match self {
            Intake::Embedded(pipeline) => {
                Pushed::Stored(pipeline.ingest_reader(&feed, run_id.clone(), name.to_owned(), input, total, None).await?)
            }
            Intake::Distributed { bus, .. } => {
                Pushed::Published(distributed::publish_reader(bus, &feed, run_id.clone(), name.to_owned(), input).await?)
            }
        };
        // The batches are audited as the pipeline's work; who pushed the
        // rows is recorded here.
        let outcome = match &pushed {
            Pushed::Stored(summary) => json!({"stored": summary.counts}),
            Pushed::Published(published) => json!({"published": published.rows, "messages": published.chunks}),
        };
        let mut tx = store.begin().await?;
        tx.audit(
            AuditEntry {
                entity_type: "feed_run".into(),
                entity_id: Some(run_id),
                summary: json!({"feed": feed.name, "name": name, "bytes": total, "outcome": outcome}),
                ..audit
            },
            clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(pushed)
    }

    /// One pass over the folder collectors; a line for each file taken.
    pub async fn sweep(&self) -> Result<Vec<String>, FeedError> {
        Ok(match self {
            Intake::Embedded(pipeline) => pipeline
                .sweep_folders()
                .await?
                .into_iter()
                .map(|(file, summary)| {
                    let c = summary.counts;
                    format!(
                        "{file}: read {}, parsed {}, quarantined {}, duplicates {}, filtered {}, stored {}",
                        c.read, c.parsed, c.quarantined, c.duplicates, c.filtered, c.stored
                    )
                })
                .collect(),
            Intake::Distributed { bus, config, store, clock } => distributed::sweep_folders(bus, config, store, clock)
                .await?
                .into_iter()
                .map(|(file, p)| format!("{file}: published {} rows in {} messages as run {}", p.rows, p.chunks, p.run_id))
                .collect(),
        })
    }

    /// The shortest interval of the folder collectors, if there are any.
    pub fn sweep_interval(&self) -> Option<u64> {
        self.config()
            .feeds
            .iter()
            .filter_map(|f| f.collector.as_ref().map(|crate::config::CollectorKind::Folder { interval_seconds, .. }| *interval_seconds))
            .min()
    }
}
