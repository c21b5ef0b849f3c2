//! The distributed mode: the pipeline's stages as separate processes
//! (`rampart worker --stage …`) joined by NATS JetStream streams.
//!
//! ```text
//! collector ─▶ <P>_RAW ─▶ process workers ─▶ <P>_EVENTS ─▶ store workers ─▶ store
//!                                 └──────────────┴──▶ <P>_DEAD (messages that keep failing)
//! ```
//!
//! - A message on `<P>_RAW` is a chunk of one source's rows; its id is the
//!   run and the chunk's number, so publishing a file again after a crash
//!   repeats ids and JetStream drops the repeats.
//! - A process worker parses and enriches a chunk into events and
//!   publishes them under the same id (split into parts if they would not
//!   fit one message), then acknowledges the chunk.
//! - A store worker commits a message's events, quarantine, counters and
//!   incidents in one transaction together with the message's id
//!   (`feed_applied`), then acknowledges it: a redelivery changes nothing.
//! - Deduplication is the store stage's: it holds a window per feed and,
//!   under a per-feed lock, first reads what other store workers committed
//!   since it last looked, so several of them judge duplicates as one.
//! - Both work streams are work queues with one durable pull consumer per
//!   stage, shared by all of that stage's workers, acknowledged explicitly.
//!   A worker that dies holding messages loses nothing: they are delivered
//!   again after `ack_wait`. A message that fails `max_deliver` times (or
//!   can never succeed, such as one that does not decode) goes to the
//!   dead-letter stream with the stage and the reason.

use crate::FeedError;
use crate::collect::{Item, Rows};
use crate::config::{Expert, FeedConfig, NatsConfig, Output, PipelineConfig};
use crate::experts::Deduplicator;
use crate::parse::SourceParser;
use crate::pipeline::{self, Enrichment, ProcessorState};
use crate::record::{Record, SourceInfo};
use async_nats::jetstream::{self, AckKind, consumer::pull, stream};
use futures_util::StreamExt;
use rampart_core::{Clock, time};
use rampart_store::Store;
use rampart_store::feeds::{FeedEventRow, QuarantineRow, RunCounts};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Room left in a message for headers and the JSON around the events.
const PAYLOAD_MARGIN: usize = 16 << 10;

/// A chunk of a source's rows: a message of the first stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RawChunk {
    run_id: String,
    feed: String,
    name: String,
    header: Vec<String>,
    chunk: u64,
    rows: Vec<(u64, Vec<String>)>,
    unreadable: Vec<(u64, String)>,
    /// On the last chunk: how many rows (readable or not) the source had.
    total: Option<u64>,
}

/// A chunk's events: a message of the second stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EventsMessage {
    run_id: String,
    feed: String,
    name: String,
    counts: RunCounts,
    events: Vec<FeedEventRow>,
    quarantine: Vec<QuarantineRow>,
    total: Option<u64>,
}

/// A message the dead-letter stream holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    pub sequence: u64,
    pub stage: String,
    pub message_id: String,
    pub reason: String,
    pub delivered: i64,
    pub bytes: usize,
}

/// Messages waiting in each stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Depths {
    pub raw: u64,
    pub events: u64,
    pub dead: u64,
}

/// What a collector published.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Published {
    pub run_id: String,
    pub rows: u64,
    pub chunks: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Process,
    Store,
}

impl Stage {
    pub fn parse(name: &str) -> Option<Stage> {
        match name {
            "process" => Some(Stage::Process),
            "store" => Some(Stage::Store),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Stage::Process => "process",
            Stage::Store => "store",
        }
    }
}

fn queue_error(what: &str, err: impl std::fmt::Display) -> FeedError {
    FeedError::Queue(format!("{what}: {err}"))
}

/// A connection to the JetStream server with the pipeline's streams.
pub struct Bus {
    client: async_nats::Client,
    js: jetstream::Context,
    config: NatsConfig,
}

impl Bus {
    /// Connects and creates the streams if they do not exist yet.
    pub async fn connect(config: &NatsConfig) -> Result<Bus, FeedError> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .connect(config.url.as_str())
            .await
            .map_err(|err| queue_error(&config.url, err))?;
        let js = jetstream::new(client.clone());
        let bus = Bus { client, js, config: config.clone() };
        for (name, subject, retention) in [
            (bus.stream_name("RAW"), bus.subject("raw"), stream::RetentionPolicy::WorkQueue),
            (bus.stream_name("EVENTS"), bus.subject("events"), stream::RetentionPolicy::WorkQueue),
            (bus.stream_name("DEAD"), format!("{}.>", bus.subject("dead")), stream::RetentionPolicy::Limits),
        ] {
            bus.js
                .get_or_create_stream(stream::Config {
                    name: name.clone(),
                    subjects: vec![subject],
                    retention,
                    storage: stream::StorageType::File,
                    // Long enough to cover a collector re-publishing a
                    // file after a crash; the store's `feed_applied` covers
                    // the rest.
                    duplicate_window: Duration::from_secs(3600),
                    max_age: if retention == stream::RetentionPolicy::Limits { Duration::from_secs(30 * 86_400) } else { Duration::ZERO },
                    ..Default::default()
                })
                .await
                .map_err(|err| queue_error(&format!("stream {name}"), err))?;
        }
        Ok(bus)
    }

    fn stream_name(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.config.prefix)
    }

    fn subject(&self, suffix: &str) -> String {
        format!("rampart.{}.{suffix}", self.config.prefix)
    }

    /// Removes the streams and everything in them.
    pub async fn delete_streams(&self) -> Result<(), FeedError> {
        for suffix in ["RAW", "EVENTS", "DEAD"] {
            let name = self.stream_name(suffix);
            if let Err(err) = self.js.delete_stream(&name).await
                && !err.to_string().contains("not found")
            {
                return Err(queue_error(&format!("stream {name}"), err));
            }
        }
        Ok(())
    }

    pub async fn depths(&self) -> Result<Depths, FeedError> {
        let mut depths = [0u64; 3];
        for (i, suffix) in ["RAW", "EVENTS", "DEAD"].into_iter().enumerate() {
            let name = self.stream_name(suffix);
            let mut stream = self.js.get_stream(&name).await.map_err(|err| queue_error(&format!("stream {name}"), err))?;
            depths[i] = stream.info().await.map_err(|err| queue_error(&format!("stream {name}"), err))?.state.messages;
        }
        Ok(Depths { raw: depths[0], events: depths[1], dead: depths[2] })
    }

    /// The newest `limit` dead letters, newest first.
    pub async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, FeedError> {
        let name = self.stream_name("DEAD");
        let mut stream = self.js.get_stream(&name).await.map_err(|err| queue_error(&format!("stream {name}"), err))?;
        let state = stream.info().await.map_err(|err| queue_error(&format!("stream {name}"), err))?.state.clone();
        let mut letters = Vec::new();
        if state.messages == 0 {
            return Ok(letters);
        }
        let mut sequence = state.last_sequence;
        while sequence >= state.first_sequence && letters.len() < limit {
            if let Ok(message) = stream.get_raw_message(sequence).await {
                let header = |name: &str| message.headers.get(name).map(|v| v.as_str().to_owned()).unwrap_or_default();
                letters.push(DeadLetter {
                    sequence,
                    stage: header("Rampart-Stage"),
                    message_id: header("Rampart-Message-Id"),
                    reason: header("Rampart-Reason"),
                    delivered: header("Rampart-Delivered").parse().unwrap_or(0),
                    bytes: message.payload.len(),
                });
            }
            if sequence == 0 {
                break;
            }
            sequence -= 1;
        }
        Ok(letters)
    }

    /// Publishes a payload on the first stream as it is, for tests and
    /// operators re-injecting a dead letter.
    pub async fn publish_raw(&self, message_id: &str, payload: Vec<u8>) -> Result<(), FeedError> {
        let publish = jetstream::message::PublishMessage::build().payload(payload.into()).message_id(message_id);
        self.js
            .send_publish(self.subject("raw"), publish)
            .await
            .map_err(|err| queue_error("publish", err))?
            .await
            .map_err(|err| queue_error("publish", err))?;
        Ok(())
    }

    async fn dead_letter(
        &self,
        stage: Stage,
        message: &jetstream::Message,
        id: &str,
        delivered: i64,
        reason: &str,
    ) -> Result<(), FeedError> {
        // Header values are one line and bounded.
        let reason: String = reason.replace(['\r', '\n'], " ").chars().take(512).collect();
        let publish = jetstream::message::PublishMessage::build()
            .payload(message.payload.clone())
            .message_id(format!("dead:{}:{id}", stage.name()))
            .header("Rampart-Stage", stage.name())
            .header("Rampart-Message-Id", id)
            .header("Rampart-Reason", reason.as_str())
            .header("Rampart-Delivered", delivered.to_string().as_str());
        self.js
            .send_publish(format!("{}.{}", self.subject("dead"), stage.name()), publish)
            .await
            .map_err(|err| queue_error("dead letter", err))?
            .await
            .map_err(|err| queue_error("dead letter", err))?;
        metrics::counter!("rampart_feed_dead_letters_total", "stage" => stage.name()).increment(1);
        Ok(())
    }

    async fn consumer(&self, stage: Stage) -> Result<jetstream::consumer::Consumer<pull::Config>, FeedError> {
        let (stream_name, subject) = match stage {
            Stage::Process => (self.stream_name("RAW"), self.subject("raw")),
            Stage::Store => (self.stream_name("EVENTS"), self.subject("events")),
        };
        let stream = self.js.get_stream(&stream_name).await.map_err(|err| queue_error(&format!("stream {stream_name}"), err))?;
        stream
            .get_or_create_consumer(
                stage.name(),
                pull::Config {
                    durable_name: Some(stage.name().to_owned()),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(self.config.ack_wait_seconds),
                    // Unlimited here: the worker counts deliveries itself and
                    // dead-letters, so a message whose worker died on its
                    // last try is not left stranded in the work queue.
                    max_deliver: -1,
                    filter_subject: subject,
                    max_ack_pending: 1024,
                    ..Default::default()
                },
            )
            .await
            .map_err(|err| queue_error(&format!("consumer {}", stage.name()), err))
    }
}

/// Publishes a file of `feed` on the first stream. The same file again
/// (same path, size and time) repeats its message ids, so a collector
/// killed half-way simply starts over.
pub async fn publish_file(
    bus: &Bus,
    config: &PipelineConfig,
    store: &Store,
    clock: &Arc<dyn Clock>,
    feed: &str,
    path: &Path,
) -> Result<Published, FeedError> {
    let feed = config.feed(feed).ok_or_else(|| FeedError::field("feed", format!("no feed `{feed}` is configured")))?;
    let metadata = std::fs::metadata(path).map_err(|e| FeedError::io(path, e))?;
    let run_id = crate::collect::fresh_run_id(store, clock, crate::collect::file_run_id(&feed.name, path, &metadata)).await?;
    let file = std::fs::File::open(path).map_err(|e| FeedError::io(path, e))?;
    publish_reader(bus, feed, run_id, crate::collect::display_name(path), Box::new(file)).await
}

/// One pass over every folder collector: each waiting file is published
/// and moves to `done/` once the server has acknowledged all its chunks.
pub async fn sweep_folders(
    bus: &Bus,
    config: &PipelineConfig,
    store: &Store,
    clock: &Arc<dyn Clock>,
) -> Result<Vec<(String, Published)>, FeedError> {
    let mut done = Vec::new();
    for (feed, file) in crate::collect::waiting_files(config)? {
        let published = publish_file(bus, config, store, clock, &feed, &file).await?;
        crate::collect::move_to_done(&file)?;
        done.push((file.display().to_string(), published));
    }
    Ok(done)
}

/// Publishes any input as one run.
pub async fn publish_reader(
    bus: &Bus,
    feed: &FeedConfig,
    run_id: String,
    name: String,
    input: Box<dyn std::io::Read + Send>,
) -> Result<Published, FeedError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<RawChunk>(4);
    let has_header = SourceParser::has_header(&feed.parser);
    let chunk_rows = bus.config.chunk_rows;
    let (feed_name, run) = (feed.name.clone(), run_id.clone());
    let reader = tokio::task::spawn_blocking(move || -> Result<(), FeedError> {
        let mut rows = Rows::open(input, has_header, &name)?;
        let header = std::mem::take(&mut rows.header);
        let fresh = |chunk: u64| RawChunk {
            run_id: run.clone(),
            feed: feed_name.clone(),
            name: name.clone(),
            header: header.clone(),
            chunk,
            rows: Vec::new(),
            unreadable: Vec::new(),
            total: None,
        };
        let mut current = fresh(0);
        let mut total = 0u64;
        while let Some(item) = rows.next_item() {
            // A full chunk leaves only when another row follows it, so the
            // last chunk (which carries the total) is never an empty one.
            if current.rows.len() + current.unreadable.len() >= chunk_rows {
                let next = fresh(current.chunk + 1);
                if tx.blocking_send(std::mem::replace(&mut current, next)).is_err() {
                    return Ok(());
                }
            }
            match item {
                Item::Row { line, fields } => current.rows.push((line, fields)),
                Item::Unreadable { line, reason } => current.unreadable.push((line, reason)),
            }
            total += 1;
        }
        current.total = Some(total);
        let _ = tx.blocking_send(current);
        Ok(())
    });
    let mut published = Published { run_id: run_id.clone(), rows: 0, chunks: 0 };
    // Acknowledgements are awaited a window behind, so publishing does not
    // wait a round trip per chunk.
    let mut pending = VecDeque::new();
    let mut failure = None;
    while let Some(chunk) = rx.recv().await {
        let id = format!("{}:{}", chunk.run_id, chunk.chunk);
        published.rows += (chunk.rows.len() + chunk.unreadable.len()) as u64;
        published.chunks += 1;
        let payload = serde_json::to_vec(&chunk).unwrap_or_default();
        let publish = jetstream::message::PublishMessage::build().payload(payload.into()).message_id(&id);
        match bus.js.send_publish(bus.subject("raw"), publish).await {
            Ok(ack) => pending.push_back(ack),
            Err(err) => {
                failure = Some(queue_error("publish", err));
                break;
            }
        }
        if pending.len() >= 32
            && let Some(ack) = pending.pop_front()
            && let Err(err) = ack.await
        {
            failure = Some(queue_error("publish", err));
            break;
        }
    }
    drop(rx);
    for ack in pending {
        if let Err(err) = ack.await {
            failure.get_or_insert(queue_error("publish", err));
        }
    }
    reader.await.map_err(|err| FeedError::Queue(format!("reader task: {err}")))??;
    match failure {
        Some(err) => Err(err),
        None => Ok(published),
    }
}

/// What a stage does with one message.
enum Failure {
    /// It can never succeed (it does not decode, its feed is unknown):
    /// straight to the dead-letter stream.
    Poison(String),
    /// It may succeed later (the database or the server is away).
    Retry(String),
}

impl From<FeedError> for Failure {
    fn from(err: FeedError) -> Failure {
        Failure::Retry(err.to_string())
    }
}

/// Runs one stage until `stop` is set; returns the messages handled.
pub async fn run_worker(
    bus: &Bus,
    stage: Stage,
    config: Arc<PipelineConfig>,
    store: Store,
    clock: Arc<dyn Clock>,
    stop: Arc<AtomicBool>,
) -> Result<u64, FeedError> {
    let consumer = bus.consumer(stage).await?;
    let mut processor = match stage {
        Stage::Process => Some(Processor { enrichment: Arc::new(pipeline::load_enrichment(&config, &store).await?) }),
        Stage::Store => None,
    };
    let mut storer = StoreStage { plans: HashMap::new(), windows: HashMap::new(), webhooks: pipeline::webhooks(&config)? };
    let mut handled = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let mut batch = match consumer.fetch().max_messages(4).expires(Duration::from_millis(500)).messages().await {
            Ok(batch) => batch,
            Err(err) => {
                pause_after(&err.to_string()).await;
                continue;
            }
        };
        while let Some(message) = batch.next().await {
            let Ok(message) = message else { break };
            let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
                .map(|v| v.as_str().to_owned())
                .or_else(|| message.info().ok().map(|info| format!("seq:{}", info.stream_sequence)))
                .unwrap_or_default();
            let started = std::time::Instant::now();
            let outcome = if delivered > bus.config.max_deliver {
                Err(Failure::Poison(format!("delivered {delivered} times without being acknowledged")))
            } else {
                match stage {
                    Stage::Process => match &mut processor {
                        Some(processor) => processor.handle(bus, &config, &clock, &message.payload, &id).await,
                        None => Err(Failure::Retry("no processor".into())),
                    },
                    Stage::Store => storer.handle(&config, &store, &clock, &message.payload, &id).await,
                }
            };
            match outcome {
                Ok(()) => {
                    message.double_ack().await.map_err(|err| queue_error("ack", err))?;
                    handled += 1;
                    metrics::histogram!("rampart_feed_batch_seconds", "stage" => stage.name()).record(started.elapsed().as_secs_f64());
                }
                Err(Failure::Retry(reason)) if delivered < bus.config.max_deliver => {
                    eprintln!("{} stage: message {id} failed (delivery {delivered}), retrying: {reason}", stage.name());
                    let delay = Duration::from_secs(1u64 << delivered.clamp(0, 5));
                    message.ack_with(AckKind::Nak(Some(delay))).await.map_err(|err| queue_error("nak", err))?;
                }
                Err(Failure::Retry(reason) | Failure::Poison(reason)) => {
                    eprintln!("{} stage: message {id} goes to the dead-letter stream: {reason}", stage.name());
                    bus.dead_letter(stage, &message, &id, delivered, &reason).await?;
                    message.double_ack().await.map_err(|err| queue_error("ack", err))?;
                }
            }
        }
    }
    Ok(handled)
}

/// A short pause after the server failed to answer a pull, so a worker
/// whose server is away does not spin.
async fn pause_after(reason: &str) {
    eprintln!("waiting for the JetStream server: {reason}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The process stage: a chunk of rows to events, without deduplication.
struct Processor {
    enrichment: Arc<Enrichment>,
}

impl Processor {
    async fn handle(
        &mut self,
        bus: &Bus,
        config: &Arc<PipelineConfig>,
        clock: &Arc<dyn Clock>,
        payload: &[u8],
        id: &str,
    ) -> Result<(), Failure> {
        let chunk: RawChunk = serde_json::from_slice(payload).map_err(|err| Failure::Poison(format!("not a chunk of rows: {err}")))?;
        if config.feed(&chunk.feed).is_none() {
            return Err(Failure::Poison(format!("feed `{}` is not configured", chunk.feed)));
        }
        let (config, enrichment, now) = (config.clone(), self.enrichment.clone(), clock.now());
        let messages = tokio::task::spawn_blocking(move || process_chunk(&config, &enrichment, chunk, now))
            .await
            .map_err(|err| Failure::Retry(format!("processing task: {err}")))?;
        let max = bus.client.server_info().max_payload.saturating_sub(PAYLOAD_MARGIN).max(PAYLOAD_MARGIN);
        let parts = split(messages, max);
        let count = parts.len();
        let mut acks = Vec::with_capacity(count);
        for (part, message) in parts.into_iter().enumerate() {
            // One part keeps the chunk's id; more get a suffix each.
            let message_id = if count == 1 { id.to_owned() } else { format!("{id}/{part}") };
            let publish = jetstream::message::PublishMessage::build()
                .payload(serde_json::to_vec(&message).unwrap_or_default().into())
                .message_id(message_id);
            let ack = bus.js.send_publish(bus.subject("events"), publish).await.map_err(|err| Failure::Retry(format!("publish: {err}")))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(|err| Failure::Retry(format!("publish: {err}")))?;
        }
        Ok(())
    }
}

fn process_chunk(config: &PipelineConfig, enrichment: &Enrichment, chunk: RawChunk, now: chrono::DateTime<chrono::Utc>) -> EventsMessage {
    let info = SourceInfo {
        run_id: chunk.run_id.clone(),
        feed: chunk.feed.clone(),
        name: chunk.name.clone(),
        header: chunk.header,
        journaled_through: 0,
    };
    let mut records = Vec::with_capacity(chunk.rows.len() + chunk.unreadable.len() + 1);
    records.push((0, Record::Source(info)));
    let mut seq = 0;
    for (line, fields) in chunk.rows {
        seq += 1;
        records.push((seq, Record::Row { source: 0, line, fields }));
    }
    for (line, reason) in chunk.unreadable {
        seq += 1;
        records.push((seq, Record::Unreadable { source: 0, line, reason }));
    }
    // No deduplication windows here: the store stage judges duplicates.
    let mut state = ProcessorState { sources: HashMap::new(), dedup: HashMap::new() };
    let batch = pipeline::process(config, enrichment, &mut state, records, now);
    let counts = batch.runs.get(&chunk.run_id).map(|(_, _, counts)| *counts).unwrap_or_default();
    EventsMessage {
        run_id: chunk.run_id,
        feed: chunk.feed,
        name: chunk.name,
        counts,
        events: batch.events,
        quarantine: batch.quarantine,
        total: chunk.total,
    }
}

/// Splits a chunk's events into messages of at most `max` bytes. The
/// first carries the quarantine, the rows filtered out and the total;
/// each carries the read and parsed counts of its own events, so the run
/// finishes only when every part has been stored.
fn split(message: EventsMessage, max: usize) -> Vec<EventsMessage> {
    let size = serde_json::to_vec(&message).map_or(usize::MAX, |bytes| bytes.len());
    if size <= max {
        return vec![message];
    }
    let EventsMessage { run_id, feed, name, counts, events, quarantine, total } = message;
    let mut parts: Vec<EventsMessage> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0usize;
    for event in events {
        let event_bytes = event.body.len() + 512;
        if !current.is_empty() && bytes + event_bytes > max {
            parts.push(EventsMessage {
                run_id: run_id.clone(),
                feed: feed.clone(),
                name: name.clone(),
                counts: RunCounts::default(),
                events: std::mem::take(&mut current),
                quarantine: Vec::new(),
                total: None,
            });
            bytes = 0;
        }
        bytes += event_bytes;
        current.push(event);
    }
    parts.push(EventsMessage { run_id, feed, name, counts: RunCounts::default(), events: current, quarantine, total });
    // The quarantine and the filtered rows go with the last part.
    let last = parts.len() - 1;
    for (i, part) in parts.iter_mut().enumerate() {
        let n = part.events.len() as i64;
        part.counts.read = n;
        part.counts.parsed = n;
        if i == last {
            part.counts.read += counts.quarantined + counts.filtered;
            part.counts.parsed += counts.filtered;
            part.counts.quarantined = counts.quarantined;
            part.counts.filtered = counts.filtered;
        }
    }
    parts
}

/// A store worker's deduplication window for one feed and how far it has
/// read the events other workers committed.
struct Window {
    dedup: Deduplicator,
    seen_through: i64,
}

/// The store stage.
struct StoreStage {
    plans: HashMap<String, rampart_cirt::feed_incidents::ContactPlan>,
    windows: HashMap<String, Window>,
    webhooks: pipeline::Webhooks,
}

impl StoreStage {
    async fn handle(
        &mut self,
        config: &PipelineConfig,
        store: &Store,
        clock: &Arc<dyn Clock>,
        payload: &[u8],
        id: &str,
    ) -> Result<(), Failure> {
        let message: EventsMessage =
            serde_json::from_slice(payload).map_err(|err| Failure::Poison(format!("not a message of events: {err}")))?;
        let Some(feed) = config.feed(&message.feed) else {
            return Err(Failure::Poison(format!("feed `{}` is not configured", message.feed)));
        };
        let feed_name = feed.name.clone();
        let outcome = self.apply(config, feed, store, clock, message, id).await;
        if outcome.is_err() {
            // The window may hold keys of events that were not committed.
            self.windows.remove(&feed_name);
        }
        outcome.map_err(Failure::from)
    }

    async fn apply(
        &mut self,
        config: &PipelineConfig,
        feed: &FeedConfig,
        store: &Store,
        clock: &Arc<dyn Clock>,
        message: EventsMessage,
        id: &str,
    ) -> Result<(), FeedError> {
        let now = clock.now();
        let at = time::format(now);
        pipeline::load_plans(store, config, &message.events, &mut self.plans).await?;
        let mut tx = store.begin().await?;
        tx.feed_lock(&feed.name).await?;
        if !tx.feed_applied_add(id, &at).await? {
            // Committed before; the acknowledgement was lost.
            tx.rollback().await?;
            return Ok(());
        }
        let EventsMessage { run_id, feed: _, name, mut counts, mut events, quarantine, total } = message;
        if feed.experts.contains(&Expert::Dedup) {
            let window = self.window(&mut tx, feed).await?;
            events.retain(|row| {
                let at = time::parse(&row.event_time).map_or(now.timestamp(), |t| t.timestamp());
                let duplicate = window.dedup.is_duplicate(row.dedup_key as u64, at);
                if duplicate {
                    counts.duplicates += 1;
                }
                !duplicate
            });
        }
        let mut runs = BTreeMap::new();
        runs.insert(run_id.clone(), (feed.name.clone(), name, counts));
        let event_runs = vec![run_id.clone(); events.len()];
        let inserted = pipeline::store_events(&mut tx, config, &self.plans, &events, &event_runs, &mut runs, now).await?;
        pipeline::record_indicators(&mut tx, config, &events, &inserted, now).await?;
        pipeline::deliver_webhooks(&self.webhooks, &events, &inserted).await?;
        if feed.outputs.contains(&Output::JsonLines)
            && let Some(path) = &feed.jsonl_path
        {
            // Lines of the events this message newly stored, so a
            // redelivery writes none twice.
            let new: HashSet<&str> = inserted.iter().map(String::as_str).collect();
            pipeline::write_jsonl(
                events.iter().filter(|row| new.contains(row.id.as_str())).map(|row| (path.as_path(), row.body.as_str())),
            )?;
        }
        pipeline::record_batch(&mut tx, &quarantine, &runs, json!({"message": id}), now).await?;
        if let Some(total) = total {
            tx.feed_run_total_set(&run_id, i64::try_from(total).unwrap_or(i64::MAX)).await?;
        }
        tx.feed_run_finish_if_complete(&run_id, &at).await?;
        tx.commit().await?;
        pipeline::count_outcomes(&runs);
        Ok(())
    }

    /// The feed's window, brought up to date with what other store workers
    /// committed; called under the feed's lock.
    async fn window(&mut self, tx: &mut rampart_store::WriteTx, feed: &FeedConfig) -> Result<&mut Window, FeedError> {
        let window = match self.windows.entry(feed.name.clone()) {
            std::collections::hash_map::Entry::Occupied(entry) => {
                let window = entry.into_mut();
                for (seq, key, at) in tx.feed_dedup_after(&feed.name, window.seen_through).await? {
                    if let Some(at) = time::parse(&at) {
                        window.dedup.remember(key as u64, at.timestamp());
                    }
                    window.seen_through = window.seen_through.max(seq);
                }
                window
            }
            std::collections::hash_map::Entry::Vacant(entry) => {
                // Nothing of this feed commits while the lock is held, so
                // the highest sequence now bounds what the warm-up read.
                let seen_through = tx.feed_max_seq().await?;
                let mut dedup = Deduplicator::new(feed.dedup_fields.clone(), feed.dedup_window_seconds);
                if let Some(latest) = tx.feed_latest_time_tx(&feed.name).await?.as_deref().and_then(time::parse) {
                    let since = latest - chrono::Duration::seconds(feed.dedup_window_seconds);
                    for (_, key, at) in tx.feed_dedup_recent(&feed.name, &time::format(since)).await? {
                        if let Some(at) = time::parse(&at) {
                            dedup.remember(key as u64, at.timestamp());
                        }
                    }
                }
                entry.insert(Window { dedup, seen_through })
            }
        };
        Ok(window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: usize, body: usize) -> FeedEventRow {
        FeedEventRow {
            id: format!("{id:032x}"),
            feed: "f".into(),
            event_time: "2026-11-29T10:00:00Z".into(),
            observed_at: "2026-11-29T10:00:00Z".into(),
            taxonomy: "vulnerable".into(),
            kind: "vulnerable-system".into(),
            identifier: String::new(),
            source_ip: None,
            source_asn: None,
            source_cc: None,
            org_id: None,
            tlp: "AMBER".into(),
            dedup_key: 0,
            body: "x".repeat(body),
        }
    }

    #[test]
    fn a_message_too_large_splits_and_the_counts_still_add_up() {
        let counts = RunCounts { read: 105, parsed: 102, quarantined: 3, filtered: 2, ..RunCounts::default() };
        let message = EventsMessage {
            run_id: "r".into(),
            feed: "f".into(),
            name: "n".into(),
            counts,
            events: (0..100).map(|i| row(i, 2000)).collect(),
            quarantine: Vec::new(),
            total: Some(105),
        };
        let parts = split(message.clone(), 1 << 20);
        assert_eq!(parts.len(), 1, "a message that fits is left whole");
        assert_eq!(parts[0].counts, counts);
        let parts = split(message, 50_000);
        assert!(parts.len() >= 4, "{}", parts.len());
        assert!(parts.iter().all(|p| serde_json::to_vec(p).unwrap().len() <= 50_000 + 2600));
        let read: i64 = parts.iter().map(|p| p.counts.read).sum();
        let parsed: i64 = parts.iter().map(|p| p.counts.parsed).sum();
        let events: usize = parts.iter().map(|p| p.events.len()).sum();
        assert_eq!((read, parsed, events), (105, 102, 100));
        assert_eq!(parts.iter().filter(|p| p.total.is_some()).count(), 1);
        assert_eq!(parts.iter().map(|p| p.counts.quarantined).sum::<i64>(), 3);
    }
}
