//! The embedded pipeline: a collector, the processing stages and the store
//! writer as tasks joined by bounded channels, with the journal in front.
//!
//! ```text
//! input ─▶ collector ─▶ journal (sync) ─▶ parse · experts · dedup ─▶ writer ─▶ store
//!                          ▲                                            │
//!                          └──────────── ack after commit ──────────────┘
//! ```
//!
//! Bounded channels give backpressure: a slow store slows the parser,
//! which slows the collector, so memory stays flat whatever the input's
//! size. The writer commits each batch in one transaction together with
//! the last journal sequence number it covers (`feed_marks`); a replay
//! after a crash starts after that mark, so counters and incidents are
//! exact too, and events themselves are keyed by content, so even a
//! replay past the mark stores nothing twice.

use crate::FeedError;
use crate::config::{Expert, FeedConfig, Output, PipelineConfig};
use crate::event::{Event, parse_time};
use crate::experts::{self, ConstituencyExpert, Constituent, Deduplicator, GeoExpert, Registry};
use crate::journal::Journal;
use crate::parse::{SourceParser, row_text};
use crate::record::{Record, SourceInfo};
use chrono::{DateTime, Utc};
use rampart_core::{Clock, time};
use rampart_store::feeds::{FeedEventRow, QuarantineRow, RunCounts};
use rampart_store::{AuditEntry, Store};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Records between journal syncs and per processing batch when the
/// configuration does not say.
const SEGMENT_BYTES: u64 = 64 << 20;

/// Shared enrichment state: built from the registry and the MaxMind files.
pub(crate) struct Enrichment {
    constituency: ConstituencyExpert,
    geo: Option<GeoExpert>,
}

/// What the processing stage keeps between batches.
pub(crate) struct ProcessorState {
    pub(crate) sources: HashMap<u64, (SourceInfo, SourceParser)>,
    pub(crate) dedup: HashMap<String, Deduplicator>,
}

/// A batch on its way to the writer.
#[derive(Default)]
pub(crate) struct Batch {
    pub(crate) last_seq: u64,
    pub(crate) events: Vec<FeedEventRow>,
    /// The run of each event, by position in `events`.
    pub(crate) event_runs: Vec<String>,
    pub(crate) quarantine: Vec<QuarantineRow>,
    pub(crate) runs: BTreeMap<String, (String, String, RunCounts)>,
    pub(crate) finished: Vec<(String, u64)>,
    pub(crate) jsonl: Vec<(PathBuf, String)>,
}

/// What an ingest did, from the run's counters in the store (so a
/// resumed ingest reports the whole file).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub run_id: String,
    pub counts: RunCounts,
    pub finished: bool,
}

/// Progress of a running ingest, for a progress bar.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub bytes_read: u64,
    pub bytes_total: u64,
    pub rows: u64,
}

pub struct Pipeline {
    config: Arc<PipelineConfig>,
    store: Store,
    clock: Arc<dyn Clock>,
    journal: Arc<Mutex<Journal>>,
    journal_dir: PathBuf,
    journal_id: String,
    enrichment: Arc<std::sync::RwLock<Arc<Enrichment>>>,
    state: Arc<Mutex<ProcessorState>>,
    /// One ingest at a time: the journal is a single ordered queue.
    running: tokio::sync::Mutex<()>,
    /// Runs whose rows were still in the journal when this process
    /// started: asking to ingest their file again means "resume".
    recovered_runs: Mutex<HashSet<String>>,
    /// Constituents' contacts for incident notices, read outside the
    /// batch transaction and kept until the registry is reloaded.
    plans: tokio::sync::Mutex<HashMap<String, rampart_cirt::feed_incidents::ContactPlan>>,
    webhooks: Webhooks,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Pipeline {
    /// Opens the journal, loads the registry and MaxMind files, rebuilds
    /// the deduplication windows from the store and replays whatever the
    /// journal holds past the last committed batch.
    pub async fn open(config: PipelineConfig, store: Store, clock: Arc<dyn Clock>, journal_dir: &Path) -> Result<Pipeline, FeedError> {
        let journal = Journal::open(journal_dir, SEGMENT_BYTES)?;
        let id_path = journal_dir.join("id");
        let journal_id = match std::fs::read_to_string(&id_path) {
            Ok(id) if !id.trim().is_empty() => id.trim().to_owned(),
            _ => {
                let id = rampart_core::new_id(clock.now()).to_string();
                write_atomic(&id_path, id.as_bytes())?;
                id
            }
        };
        std::fs::create_dir_all(journal_dir.join("sources")).map_err(|e| FeedError::io(journal_dir, e))?;
        let enrichment = Arc::new(load_enrichment(&config, &store).await?);
        let mut dedup = HashMap::new();
        for feed in &config.feeds {
            if feed.experts.contains(&Expert::Dedup) {
                let mut window = Deduplicator::new(feed.dedup_fields.clone(), feed.dedup_window_seconds);
                if let Some(latest) = store.feed_latest_time(&feed.name).await?.as_deref().and_then(time::parse) {
                    let since = latest - chrono::Duration::seconds(feed.dedup_window_seconds);
                    for (key, at) in store.feed_dedup_window(&feed.name, &time::format(since)).await? {
                        if let Some(at) = time::parse(&at) {
                            window.remember(key as u64, at.timestamp());
                        }
                    }
                }
                dedup.insert(feed.name.clone(), window);
            }
        }
        let webhooks = webhooks(&config)?;
        let pipeline = Pipeline {
            webhooks,
            config: Arc::new(config),
            store,
            clock,
            journal: Arc::new(Mutex::new(journal)),
            journal_dir: journal_dir.to_path_buf(),
            journal_id,
            enrichment: Arc::new(std::sync::RwLock::new(enrichment)),
            state: Arc::new(Mutex::new(ProcessorState { sources: HashMap::new(), dedup })),
            running: tokio::sync::Mutex::new(()),
            recovered_runs: Mutex::new(HashSet::new()),
            plans: tokio::sync::Mutex::new(HashMap::new()),
        };
        pipeline.recover().await?;
        Ok(pipeline)
    }

    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Reloads the constituency registry (after it changed).
    pub async fn reload_registry(&self) -> Result<(), FeedError> {
        let fresh = Arc::new(load_enrichment(&self.config, &self.store).await?);
        *self.enrichment.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        self.plans.lock().await.clear();
        Ok(())
    }

    /// Records in the journal not yet acknowledged.
    pub fn pending(&self) -> u64 {
        lock(&self.journal).pending()
    }

    fn sources_dir(&self) -> PathBuf {
        self.journal_dir.join("sources")
    }

    fn load_sources(&self) -> Result<BTreeMap<u64, SourceInfo>, FeedError> {
        let dir = self.sources_dir();
        let mut sources = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| FeedError::io(&dir, e))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(seq) = name.strip_suffix(".json").and_then(|n| n.parse::<u64>().ok()) else {
                continue;
            };
            let text = std::fs::read_to_string(entry.path()).map_err(|e| FeedError::io(entry.path(), e))?;
            let info: SourceInfo =
                serde_json::from_str(&text).map_err(|err| FeedError::Journal(format!("{}: {err}", entry.path().display())))?;
            sources.insert(seq, info);
        }
        Ok(sources)
    }

    /// Replays what the journal holds past the last committed batch.
    pub async fn recover(&self) -> Result<u64, FeedError> {
        let _running = self.running.lock().await;
        lock(&self.recovered_runs).extend(self.load_sources()?.into_values().map(|info| info.run_id));
        let mark = self.store.feed_mark(&self.journal_id).await?.and_then(|m| u64::try_from(m).ok()).unwrap_or(0);
        let records = {
            let journal = lock(&self.journal);
            journal.unacked()?
        };
        let records: Vec<(u64, Vec<u8>)> = records.into_iter().filter(|(seq, _)| *seq > mark).collect();
        if records.is_empty() {
            // Committed but not acknowledged (a crash between the two):
            // the store's mark is the truth.
            {
                let mut journal = lock(&self.journal);
                let last = journal.next_seq().saturating_sub(1);
                if mark > journal.acked() {
                    journal.ack(mark.min(last))?;
                }
            }
            self.prune_sources().await?;
            return Ok(0);
        }
        let count = records.len() as u64;
        {
            let sources = self.load_sources()?;
            let mut state = lock(&self.state);
            for (seq, info) in sources {
                if let Some(feed) = self.config.feed(&info.feed) {
                    let parser = SourceParser::bind(feed, &self.config.schema, &info);
                    state.sources.insert(seq, (info, parser));
                }
            }
        }
        let (tx, rx) = mpsc::channel::<Vec<(u64, Record)>>(4);
        let chunk = self.config.batch_size;
        let feeder = tokio::task::spawn_blocking(move || -> Result<(), FeedError> {
            let mut batch = Vec::with_capacity(chunk);
            for (seq, payload) in records {
                batch.push((seq, Record::decode(&payload)?));
                if batch.len() >= chunk && tx.blocking_send(std::mem::take(&mut batch)).is_err() {
                    return Ok(());
                }
            }
            if !batch.is_empty() {
                let _ = tx.blocking_send(batch);
            }
            Ok(())
        });
        self.process_and_write(rx).await?;
        feeder.await.map_err(|err| FeedError::Journal(format!("replay task: {err}")))??;
        Ok(count)
    }

    /// Reads a file of `feed` through the pipeline and returns the run's
    /// counts. Ingesting a file again that was cut short resumes where
    /// its rows stopped reaching the journal.
    pub async fn ingest_file(
        &self,
        feed: &str,
        path: &Path,
        progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    ) -> Result<Summary, FeedError> {
        let feed_config =
            self.config.feed(feed).ok_or_else(|| FeedError::field("feed", format!("no feed `{feed}` is configured")))?.clone();
        let metadata = std::fs::metadata(path).map_err(|e| FeedError::io(path, e))?;
        let name = crate::collect::display_name(path);
        let run_id = crate::collect::file_run_id(feed, path, &metadata);
        // The same file read again after it finished is a new run, unless
        // this process found the run in its journal: then the earlier
        // process was killed and its run completed on recovery.
        if lock(&self.recovered_runs).contains(&run_id)
            && let Some(run) = self.store.feed_run_get(&run_id).await?.filter(|run| run.finished_at.is_some())
        {
            lock(&self.recovered_runs).remove(&run_id);
            return Ok(summary_of(run));
        }
        let run_id = crate::collect::fresh_run_id(&self.store, &self.clock, run_id).await?;
        let file = std::fs::File::open(path).map_err(|e| FeedError::io(path, e))?;
        self.ingest_reader(&feed_config, run_id, name, Box::new(file), metadata.len(), progress).await
    }

    /// One pass over every folder collector: each file matching the
    /// feed's pattern is ingested and then moved to `done/` beside it
    /// (the file stays until its rows are committed, so a crash re-reads
    /// it, and resuming skips what is already in the journal).
    pub async fn sweep_folders(&self) -> Result<Vec<(String, Summary)>, FeedError> {
        let mut done = Vec::new();
        for (feed, file) in crate::collect::waiting_files(&self.config)? {
            let summary = self.ingest_file(&feed, &file, None).await?;
            crate::collect::move_to_done(&file)?;
            done.push((file.display().to_string(), summary));
        }
        Ok(done)
    }

    /// Reads any input (a file, standard input, a pushed body) as one run.
    pub async fn ingest_reader(
        &self,
        feed: &FeedConfig,
        run_id: String,
        name: String,
        input: Box<dyn std::io::Read + Send>,
        bytes_total: u64,
        progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    ) -> Result<Summary, FeedError> {
        let _running = self.running.lock().await;
        // A run cut short earlier continues under its own source record.
        let mut existing = self.load_sources()?.into_iter().find(|(_, info)| info.run_id == run_id);
        if let Some((seq, info)) = &mut existing {
            // Rows synced to the journal after the description was last
            // written (a kill between the two) must not be read twice.
            let mut through = info.journaled_through;
            lock(&self.journal).read_all(|_, payload| {
                if let Ok(Record::Row { source, line, .. }) = Record::decode(payload)
                    && source == *seq
                {
                    through = through.max(line);
                }
            })?;
            info.journaled_through = through;
            let parser = SourceParser::bind(feed, &self.config.schema, info);
            lock(&self.state).sources.insert(*seq, (info.clone(), parser));
        }
        let (tx, rx) = mpsc::channel::<Vec<(u64, Record)>>(4);
        let journal = self.journal.clone();
        let sources_dir = self.sources_dir();
        let chunk = self.config.batch_size;
        let has_header = SourceParser::has_header(&feed.parser);
        let feed_name = feed.name.clone();
        let run = run_id.clone();
        let collector = tokio::task::spawn_blocking(move || -> Result<(), FeedError> {
            let mut rows_in = crate::collect::Rows::open(input, has_header, &name)?;
            let header = std::mem::take(&mut rows_in.header);
            let (source_seq, mut info) = match existing {
                Some((seq, info)) => (seq, info),
                None => {
                    let info =
                        SourceInfo { run_id: run.clone(), feed: feed_name.clone(), name: name.clone(), header, journaled_through: 0 };
                    let mut journal = lock(&journal);
                    let seq = journal.append(&Record::Source(info.clone()).encode())?;
                    journal.sync()?;
                    drop(journal);
                    write_atomic(&sources_dir.join(format!("{seq}.json")), serde_json::to_string(&info).unwrap_or_default().as_bytes())?;
                    if tx.blocking_send(vec![(seq, Record::Source(info.clone()))]).is_err() {
                        return Ok(());
                    }
                    (seq, info)
                }
            };
            let resume_after = info.journaled_through;
            let mut batch: Vec<(u64, Record)> = Vec::with_capacity(chunk);
            let mut rows = 0u64;
            let flush = |batch: &mut Vec<(u64, Record)>, info: &mut SourceInfo, last_line: u64| -> Result<bool, FeedError> {
                lock(&journal).sync()?;
                info.journaled_through = last_line;
                write_atomic(
                    &sources_dir.join(format!("{source_seq}.json")),
                    serde_json::to_string(&*info).unwrap_or_default().as_bytes(),
                )?;
                Ok(tx.blocking_send(std::mem::take(batch)).is_ok())
            };
            let mut last_line = resume_after;
            while let Some(item) = rows_in.next_item() {
                let (line, row) = match item {
                    crate::collect::Item::Row { line, fields } => (line, Record::Row { source: source_seq, line, fields }),
                    crate::collect::Item::Unreadable { line, reason } => (line, Record::Unreadable { source: source_seq, line, reason }),
                };
                if line <= resume_after {
                    continue;
                }
                let seq = lock(&journal).append(&row.encode())?;
                batch.push((seq, row));
                last_line = line;
                rows += 1;
                if batch.len() >= chunk {
                    if let Some(report) = &progress {
                        report(Progress { bytes_read: rows_in.bytes_read(), bytes_total, rows });
                    }
                    if !flush(&mut batch, &mut info, last_line)? {
                        return Ok(());
                    }
                }
            }
            let end = Record::End { source: source_seq };
            let seq = lock(&journal).append(&end.encode())?;
            batch.push((seq, end));
            flush(&mut batch, &mut info, last_line)?;
            if let Some(report) = &progress {
                report(Progress { bytes_read: bytes_total.max(rows_in.bytes_read()), bytes_total, rows });
            }
            Ok(())
        });
        let written = self.process_and_write(rx).await;
        let collected = collector.await.map_err(|err| FeedError::Journal(format!("collector task: {err}")))?;
        written?;
        collected?;
        Ok(match self.store.feed_run_get(&run_id).await? {
            Some(row) => summary_of(row),
            None => Summary { run_id, ..Summary::default() },
        })
    }

    /// Runs the processing stage on a blocking thread and writes its
    /// batches as they come.
    async fn process_and_write(&self, rx: mpsc::Receiver<Vec<(u64, Record)>>) -> Result<(), FeedError> {
        let (batches_tx, mut batches_rx) = mpsc::channel::<Batch>(2);
        let state = self.state.clone();
        let config = self.config.clone();
        let enrichment = self.enrichment.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let clock = self.clock.clone();
        let processor = tokio::task::spawn_blocking(move || {
            let mut rx = rx;
            while let Some(records) = rx.blocking_recv() {
                let now = clock.now();
                let batch = {
                    let mut state = lock(&state);
                    process(&config, &enrichment, &mut state, records, now)
                };
                if batches_tx.blocking_send(batch).is_err() {
                    return;
                }
            }
        });
        let mut failure = None;
        while let Some(batch) = batches_rx.recv().await {
            if failure.is_none()
                && let Err(err) = self.write(batch).await
            {
                failure = Some(err);
                // Stop the stages upstream: dropping the receiver makes
                // their sends fail and they return.
                batches_rx.close();
            }
        }
        processor.await.map_err(|err| FeedError::Journal(format!("processing task: {err}")))?;
        match failure {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    async fn write(&self, batch: Batch) -> Result<(), FeedError> {
        let started = std::time::Instant::now();
        let now = self.clock.now();
        let at = time::format(now);
        // JSON-lines outputs are written before the commit: at least once.
        write_jsonl(batch.jsonl.iter().map(|(path, line)| (path.as_path(), line.as_str())))?;
        let mut plans = self.plans.lock().await;
        load_plans(&self.store, &self.config, &batch.events, &mut plans).await?;
        let mut tx = self.store.begin().await?;
        let mut runs = batch.runs;
        let inserted = store_events(&mut tx, &self.config, &plans, &batch.events, &batch.event_runs, &mut runs, now).await?;
        drop(plans);
        record_indicators(&mut tx, &self.config, &batch.events, &inserted, now).await?;
        deliver_webhooks(&self.webhooks, &batch.events, &inserted).await?;
        record_batch(&mut tx, &batch.quarantine, &runs, json!({"journal_seq": batch.last_seq}), now).await?;
        for (run_id, _) in &batch.finished {
            tx.feed_run_finish(run_id, &at).await?;
        }
        tx.feed_mark_set(&self.journal_id, i64::try_from(batch.last_seq).unwrap_or(i64::MAX)).await?;
        tx.commit().await?;
        count_outcomes(&runs);
        metrics::histogram!("rampart_feed_batch_seconds", "stage" => "store").record(started.elapsed().as_secs_f64());
        let mut journal = lock(&self.journal);
        journal.ack(batch.last_seq)?;
        metrics::gauge!("rampart_feed_journal_pending").set(journal.pending() as f64);
        drop(journal);
        for (_, source_seq) in &batch.finished {
            let path = self.sources_dir().join(format!("{source_seq}.json"));
            let _ = std::fs::remove_file(path);
            lock(&self.state).sources.remove(source_seq);
        }
        Ok(())
    }

    /// Drops the descriptions of sources whose run finished (a crash
    /// between the commit and the clean-up leaves them behind).
    async fn prune_sources(&self) -> Result<(), FeedError> {
        for (seq, info) in self.load_sources()? {
            if self.store.feed_run_get(&info.run_id).await?.is_some_and(|run| run.finished_at.is_some()) {
                let _ = std::fs::remove_file(self.sources_dir().join(format!("{seq}.json")));
            }
        }
        Ok(())
    }
}

fn summary_of(row: rampart_store::feeds::FeedRunRow) -> Summary {
    Summary {
        finished: row.finished_at.is_some(),
        counts: RunCounts {
            read: row.read_count,
            parsed: row.parsed,
            quarantined: row.quarantined,
            duplicates: row.duplicates,
            filtered: row.filtered,
            stored: row.stored,
            incidents: row.incidents,
        },
        run_id: row.id,
    }
}

/// Appends lines to JSON-lines output files.
pub(crate) fn write_jsonl<'a>(lines: impl Iterator<Item = (&'a Path, &'a str)>) -> Result<(), FeedError> {
    let mut files: HashMap<&Path, std::fs::File> = HashMap::new();
    for (path, line) in lines {
        let file = match files.entry(path) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| FeedError::io(path, e))?)
            }
        };
        writeln!(file, "{line}").map_err(|e| FeedError::io(path, e))?;
    }
    Ok(())
}

/// The `indicators` output: the source address, URL or domain of each
/// event a batch newly stored, as a sighting in the pipeline CIRT's
/// indicator store, inside the batch's transaction (so a replay records
/// nothing twice: sightings are keyed by value, time and source). The
/// confidence is the feed's accuracy (50 when it has none).
pub(crate) async fn record_indicators(
    tx: &mut rampart_store::WriteTx,
    config: &PipelineConfig,
    events: &[FeedEventRow],
    inserted: &HashSet<String>,
    now: DateTime<Utc>,
) -> Result<(), FeedError> {
    use rampart_cirt::observables::Kind;
    let Some(owner) = &config.cirt else { return Ok(()) };
    let mut sightings = Vec::new();
    for row in events.iter().filter(|row| inserted.contains(&row.id)) {
        let Some(feed) = config.feed(&row.feed).filter(|f| f.outputs.contains(&Output::Indicators)) else { continue };
        let Ok(event) = Event::from_json(&row.body) else { continue };
        let (kind, value) = if let Some(ip) = &row.source_ip {
            (if ip.contains(':') { Kind::Ipv6 } else { Kind::Ipv4 }, ip.clone())
        } else if let Some(url) = event.get_str("source.url") {
            (Kind::Url, url.to_owned())
        } else if let Some(fqdn) = event.get_str("source.fqdn") {
            (Kind::Domain, fqdn.to_owned())
        } else {
            continue;
        };
        let identifier = if row.identifier.is_empty() { String::new() } else { format!(" ({})", row.identifier) };
        sightings.push(rampart_intel::indicators::Sighting {
            kind,
            value,
            tlp: row.tlp.parse().unwrap_or(feed.tlp),
            confidence: feed.accuracy.map_or(50, |a| a.clamp(0.0, 100.0) as u8),
            seen_at: time::parse(&row.event_time).unwrap_or(now),
            source: format!("feed:{}", feed.name),
            expires_at: None,
            description: format!("{}{identifier}, reported by the {} feed", row.kind, feed.name),
        });
    }
    if !sightings.is_empty() {
        // record_in only writes: its one failure is the store's.
        rampart_intel::indicators::record_in(tx, owner, &sightings, now).await.map_err(|err| match err {
            rampart_intel::IntelError::Store(err) => FeedError::Store(err),
            other => FeedError::field("indicators", other.to_string()),
        })?;
    }
    Ok(())
}

/// The webhook outputs' clients and addresses, by feed.
pub(crate) type Webhooks = HashMap<String, (crate::http::HttpClient, url::Url)>;

pub(crate) fn webhooks(config: &PipelineConfig) -> Result<Webhooks, FeedError> {
    let mut hooks = HashMap::new();
    for feed in &config.feeds {
        if let (true, Some(hook)) = (feed.outputs.contains(&Output::Webhook), &feed.webhook) {
            let url = crate::http::check_url(&hook.url).map_err(|message| FeedError::field("webhook.url", message))?;
            let client = crate::http::HttpClient::new(hook.token.as_deref(), std::time::Duration::from_secs(hook.timeout_seconds))?;
            hooks.insert(feed.name.clone(), (client, url));
        }
    }
    Ok(hooks)
}

/// Posts the events a batch newly stored to their feeds' webhooks, as
/// `{"feed": …, "events": [IntelMQ events]}`, before the batch commits: a
/// refusal fails the batch and it is tried again (at least once).
pub(crate) async fn deliver_webhooks(hooks: &Webhooks, events: &[FeedEventRow], inserted: &HashSet<String>) -> Result<(), FeedError> {
    if hooks.is_empty() {
        return Ok(());
    }
    let mut by_feed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for row in events.iter().filter(|row| inserted.contains(&row.id) && hooks.contains_key(&row.feed)) {
        by_feed.entry(row.feed.as_str()).or_default().push(row.body.as_str());
    }
    for (feed, bodies) in by_feed {
        let Some((client, url)) = hooks.get(feed) else { continue };
        // The bodies are event JSON already: spliced, not parsed again.
        let mut payload = format!("{{\"feed\":{},\"events\":[", Value::String(feed.to_owned()));
        for (i, body) in bodies.iter().enumerate() {
            if i > 0 {
                payload.push(',');
            }
            payload.push_str(body);
        }
        payload.push_str("]}");
        client.post_json(url, payload.into_bytes()).await?;
    }
    Ok(())
}

/// Reads, before the batch's transaction, the contacts of the
/// constituents its events may open incidents for.
pub(crate) async fn load_plans(
    store: &Store,
    config: &PipelineConfig,
    events: &[FeedEventRow],
    plans: &mut HashMap<String, rampart_cirt::feed_incidents::ContactPlan>,
) -> Result<(), FeedError> {
    if config.cirt.is_none() {
        return Ok(());
    }
    for row in events {
        if let Some(org_id) = &row.org_id
            && config.feed(&row.feed).is_some_and(|f| f.outputs.contains(&Output::Incidents))
            && !plans.contains_key(org_id)
        {
            let plan = rampart_cirt::feed_incidents::plan_for(store, org_id).await?;
            plans.insert(org_id.clone(), plan);
        }
    }
    Ok(())
}

/// Inserts a batch's events, counts those that were new against their
/// runs, and opens or counts up the incidents they belong to; returns the
/// ids that were new.
pub(crate) async fn store_events(
    tx: &mut rampart_store::WriteTx,
    config: &PipelineConfig,
    plans: &HashMap<String, rampart_cirt::feed_incidents::ContactPlan>,
    events: &[FeedEventRow],
    event_runs: &[String],
    runs: &mut BTreeMap<String, (String, String, RunCounts)>,
    now: DateTime<Utc>,
) -> Result<HashSet<String>, FeedError> {
    let inserted: HashSet<String> = tx.feed_events_insert(events).await?.into_iter().collect();
    // (constituent, type, window start, feed) → (run, TLP, events, addresses)
    type Group = (String, rampart_core::Tlp, i64, Vec<(String, String)>);
    let mut groups: BTreeMap<(String, String, String, String), Group> = BTreeMap::new();
    for (run_id, row) in event_runs.iter().zip(events) {
        if !inserted.contains(&row.id) {
            continue;
        }
        if let Some((_, _, counts)) = runs.get_mut(run_id) {
            counts.stored += 1;
        }
        let Some(org_id) = &row.org_id else { continue };
        let Some(feed) = config.feed(&row.feed).filter(|f| f.outputs.contains(&Output::Incidents)) else { continue };
        if config.cirt.is_none() || !plans.contains_key(org_id) {
            continue;
        }
        let window = feed.incident_window_seconds.max(1);
        let at = time::parse(&row.event_time).map_or(0, |t| t.timestamp());
        let start = DateTime::from_timestamp(at.div_euclid(window) * window, 0).unwrap_or(now);
        let key = (org_id.clone(), row.kind.clone(), time::format(start), row.feed.clone());
        let group = groups.entry(key).or_insert_with(|| (run_id.clone(), row.tlp.parse().unwrap_or(feed.tlp), 0, Vec::new()));
        group.2 += 1;
        if let Some(ip) = &row.source_ip {
            let kind = if ip.contains(':') { "ipv6" } else { "ipv4" };
            group.3.push((kind.to_owned(), ip.clone()));
        }
    }
    if let Some(cirt) = &config.cirt {
        for ((org_id, kind, window_start, feed), (run_id, tlp, events, observables)) in &groups {
            let Some(plan) = plans.get(org_id) else { continue };
            let gathered = rampart_cirt::feed_incidents::Gathered {
                cirt_org_id: cirt,
                plan,
                feed,
                rsit_type: kind,
                window_start,
                tlp: *tlp,
                events: *events,
                observables,
            };
            match rampart_cirt::feed_incidents::gather(tx, &gathered, now).await {
                Ok(_) => {
                    if let Some((_, _, counts)) = runs.get_mut(run_id) {
                        counts.incidents += 1;
                    }
                }
                Err(rampart_cirt::desk::DeskError::Store(err)) => return Err(err.into()),
                // A type the taxonomy does not know opens no incident;
                // the events are stored all the same.
                Err(_) => {}
            }
        }
    }
    Ok(inserted)
}

/// The rest of a batch's transaction: its quarantined rows, its runs'
/// counters and the audit entry (`detail` says where the batch came from).
pub(crate) async fn record_batch(
    tx: &mut rampart_store::WriteTx,
    quarantine: &[QuarantineRow],
    runs: &BTreeMap<String, (String, String, RunCounts)>,
    detail: Value,
    now: DateTime<Utc>,
) -> Result<(), FeedError> {
    let at = time::format(now);
    for row in quarantine {
        tx.feed_quarantine_add(row).await?;
    }
    for (run_id, (feed, name, counts)) in runs {
        tx.feed_run_add(run_id, feed, name, counts, &at).await?;
    }
    let totals = runs.values().fold(RunCounts::default(), |mut sum, (_, _, c)| {
        sum.add(c);
        sum
    });
    tx.audit(
        AuditEntry {
            actor_id: None,
            actor_label: "feed pipeline".into(),
            actor_org_id: None,
            action: "feeds.batch.store".into(),
            entity_type: "feed_run".into(),
            entity_id: runs.keys().next().cloned(),
            source_ip: None,
            summary: json!({"runs": runs.keys().collect::<Vec<_>>(), "counts": totals, "from": detail}),
        },
        now,
    )
    .await?;
    Ok(())
}

/// `rampart_feed_events_total{feed,outcome}` after a commit.
pub(crate) fn count_outcomes(runs: &BTreeMap<String, (String, String, RunCounts)>) {
    for (feed, _, counts) in runs.values() {
        for (outcome, value) in [
            ("read", counts.read),
            ("quarantined", counts.quarantined),
            ("duplicate", counts.duplicates),
            ("filtered", counts.filtered),
            ("stored", counts.stored),
        ] {
            metrics::counter!("rampart_feed_events_total", "feed" => feed.clone(), "outcome" => outcome)
                .increment(u64::try_from(value).unwrap_or(0));
        }
    }
}

pub(crate) async fn load_enrichment(config: &PipelineConfig, store: &Store) -> Result<Enrichment, FeedError> {
    let dump = store.feed_registry().await?;
    let mut registry = Registry::default();
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut org_index = |org_id: &str, registry: &mut Registry| -> u32 {
        if let Some(i) = index.get(org_id) {
            return *i;
        }
        let i = u32::try_from(registry.orgs.len()).unwrap_or(u32::MAX);
        registry.orgs.push(Constituent { org_id: org_id.to_owned(), name: org_id.to_owned() });
        index.insert(org_id.to_owned(), i);
        i
    };
    for (org_id, network) in dump.networks {
        if let Ok(network) = network.parse::<ipnet::IpNet>() {
            let i = org_index(&org_id, &mut registry);
            registry.networks.push((network, i));
        }
    }
    for (org_id, asn) in dump.asns {
        if let Ok(asn) = u32::try_from(asn) {
            let i = org_index(&org_id, &mut registry);
            registry.asns.push((asn, i));
        }
    }
    for (org_id, domain) in dump.domains {
        let i = org_index(&org_id, &mut registry);
        registry.domains.push((domain, i));
    }
    let routing = match &config.routing_table {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| FeedError::io(path, e))?;
            Some(experts::parse_routing_table(&text, &path.display().to_string())?)
        }
        None => None,
    };
    let geo = if config.geoip_city.is_some() || config.geoip_asn.is_some() {
        Some(GeoExpert::open(config.geoip_city.as_deref(), config.geoip_asn.as_deref())?)
    } else {
        None
    };
    Ok(Enrichment { constituency: ConstituencyExpert::new(registry, routing), geo })
}

/// The processing stage: rows to stored events, quarantined rows and counts.
pub(crate) fn process(
    config: &PipelineConfig,
    enrichment: &Enrichment,
    state: &mut ProcessorState,
    records: Vec<(u64, Record)>,
    now: DateTime<Utc>,
) -> Batch {
    let started = std::time::Instant::now();
    let mut batch = Batch::default();
    let observed = crate::event::format_time(now);
    let observed_at = time::format(now);
    for (seq, record) in records {
        batch.last_seq = batch.last_seq.max(seq);
        match record {
            Record::Source(info) => {
                if let Some(feed) = config.feed(&info.feed) {
                    let parser = SourceParser::bind(feed, &config.schema, &info);
                    state.sources.insert(seq, (info, parser));
                }
            }
            Record::End { source } => {
                if let Some((info, _)) = state.sources.get(&source) {
                    batch.finished.push((info.run_id.clone(), source));
                }
            }
            Record::Row { .. } | Record::Unreadable { .. } => {
                let (source, line, fields, unreadable) = match record {
                    Record::Row { source, line, fields } => (source, line, fields, None),
                    Record::Unreadable { source, line, reason } => (source, line, Vec::new(), Some(reason)),
                    _ => continue,
                };
                let Some((info, parser)) = state.sources.get(&source) else {
                    continue;
                };
                let Some(feed) = config.feed(&info.feed) else {
                    continue;
                };
                let counts = &mut batch
                    .runs
                    .entry(info.run_id.clone())
                    .or_insert_with(|| (feed.name.clone(), info.name.clone(), RunCounts::default()))
                    .2;
                counts.read += 1;
                let outcome = if let Some(reason) = unreadable {
                    Err(FeedError::field("row", format!("unreadable: {reason}")))
                } else {
                    build(feed, parser, &fields, &observed).and_then(|(id, mut event)| {
                        enrich(feed, enrichment, &mut event)?;
                        Ok((id, event))
                    })
                };
                let (id, event) = match outcome {
                    Ok(done) => done,
                    Err(err) => {
                        counts.quarantined += 1;
                        batch.quarantine.push(QuarantineRow {
                            feed: feed.name.clone(),
                            run_id: info.run_id.clone(),
                            source_name: info.name.clone(),
                            line: i64::try_from(line).unwrap_or(i64::MAX),
                            reason: err.to_string(),
                            raw: row_text(&fields).chars().take(4096).collect(),
                            received_at: observed_at.clone(),
                        });
                        continue;
                    }
                };
                counts.parsed += 1;
                if feed.experts.contains(&Expert::Filter) && !experts::keep(&feed.rules, &event) {
                    counts.filtered += 1;
                    continue;
                }
                let event_time = Deduplicator::time_of(&event).unwrap_or(now.timestamp());
                let dedup_key = match state.dedup.get_mut(&feed.name) {
                    Some(dedup) => {
                        let key = dedup.key(&event);
                        if dedup.is_duplicate(key, event_time) {
                            counts.duplicates += 1;
                            continue;
                        }
                        key
                    }
                    None => event.key_over(&feed.dedup_fields),
                };
                if feed.outputs.contains(&Output::JsonLines)
                    && let Some(path) = &feed.jsonl_path
                {
                    batch.jsonl.push((path.clone(), event.to_json()));
                }
                if feed.outputs.contains(&Output::Store) {
                    batch.events.push(row_of(id, feed, &event, dedup_key, &observed_at));
                    batch.event_runs.push(info.run_id.clone());
                }
            }
        }
    }
    metrics::histogram!("rampart_feed_batch_seconds", "stage" => "process").record(started.elapsed().as_secs_f64());
    batch
}

/// Parses a row and adds what the feed itself says; the event's id is
/// taken here, before enrichment, so a changed registry or GeoIP file
/// cannot make a replayed row a different event.
fn build(feed: &FeedConfig, parser: &SourceParser, fields: &[String], observed: &str) -> Result<(String, Event), FeedError> {
    let mut event = parser.event(fields)?;
    for (field, value) in &feed.constants {
        if !event.contains(field) {
            event.add_text(field, value)?;
        }
    }
    event.add_text("feed.name", &feed.name)?;
    if !feed.provider.is_empty() {
        event.add_text("feed.provider", &feed.provider)?;
    }
    if let Some(accuracy) = feed.accuracy {
        event.add("feed.accuracy", Value::from(accuracy))?;
    }
    if !event.contains("tlp") {
        event.add_text("tlp", feed.tlp.as_str())?;
    }
    let id = event.id();
    event.add_text("time.observation", observed)?;
    if feed.keep_raw {
        event.add("raw", Value::String(data_encoding::BASE64.encode(row_text(fields).as_bytes())))?;
    }
    Ok((id, event))
}

fn enrich(feed: &FeedConfig, enrichment: &Enrichment, event: &mut Event) -> Result<(), FeedError> {
    for expert in &feed.experts {
        match expert {
            Expert::Taxonomy => experts::taxonomy(event)?,
            Expert::Constituency => {
                enrichment.constituency.apply(event)?;
            }
            Expert::Geoip => {
                if let Some(geo) = &enrichment.geo {
                    geo.apply(event)?;
                }
            }
            // Judged by the stage itself, after every enrichment.
            Expert::Filter | Expert::Dedup => {}
        }
    }
    if !event.contains("classification.taxonomy") {
        experts::taxonomy(event)?;
    }
    Ok(())
}

fn row_of(id: String, feed: &FeedConfig, event: &Event, dedup_key: u64, observed_at: &str) -> FeedEventRow {
    let text = |field: &str| event.get_str(field).map(str::to_owned);
    let event_time = text("time.source").and_then(|t| parse_time(&t)).map(time::format).unwrap_or_else(|| observed_at.to_owned());
    FeedEventRow {
        id,
        feed: feed.name.clone(),
        event_time,
        observed_at: observed_at.to_owned(),
        taxonomy: text("classification.taxonomy").unwrap_or_else(|| "other".into()),
        kind: text("classification.type").unwrap_or_else(|| "undetermined".into()),
        identifier: text("classification.identifier").unwrap_or_default(),
        source_ip: text("source.ip"),
        source_asn: event.get("source.asn").and_then(Value::as_i64),
        source_cc: text("source.geolocation.cc"),
        org_id: text("extra.constituent"),
        tlp: text("tlp").unwrap_or_else(|| feed.tlp.as_str().to_owned()),
        dedup_key: dedup_key as i64,
        body: event.to_json(),
    }
}

/// Writes beside and renames over, so a crash leaves the old or the new file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FeedError> {
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::File::create(&temporary).map_err(|e| FeedError::io(&temporary, e))?;
    file.write_all(bytes).map_err(|e| FeedError::io(&temporary, e))?;
    file.sync_all().map_err(|e| FeedError::io(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| FeedError::io(path, e))
}
