//! `rampart ingest` and `rampart feeds …`: the feed pipeline from the
//! command line.

use crate::config::Config;
use crate::error::CliError;
use rampart_core::{Clock, SystemClock};
use rampart_feeds::config::{self as feed_config, FeedConfig, NatsConfig, ParserKind, PipelineConfig};
use rampart_feeds::distributed::{self, Bus, Stage};
use rampart_feeds::intake::{Intake, Mode};
use rampart_feeds::{FeedError, Pipeline, Progress};
use rampart_store::{Location, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

impl From<FeedError> for CliError {
    fn from(err: FeedError) -> Self {
        match err {
            FeedError::Store(err) => err.into(),
            FeedError::Io { .. } => CliError::NotFound(err.to_string()),
            FeedError::Field { .. } | FeedError::Line { .. } | FeedError::Geo(_) => CliError::Invalid(err.to_string()),
            FeedError::Journal(_) | FeedError::Queue(_) | FeedError::Http(_) => CliError::Other(err.to_string()),
        }
    }
}

/// Where the journal lives unless told: beside a SQLite database, or in
/// the working directory for PostgreSQL.
pub fn default_journal(config: &Config) -> PathBuf {
    match &config.database {
        Location::Sqlite(path) => path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join("feeds-journal"),
        Location::Postgres(_) => PathBuf::from("rampart-feeds-journal"),
    }
}

/// Reads and checks a pipeline file; every error with its line.
pub fn load_pipeline(path: &Path) -> Result<PipelineConfig, CliError> {
    let text = std::fs::read_to_string(path).map_err(|err| CliError::NotFound(format!("{}: {err}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    feed_config::parse(&text, base).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("{}:{e}", path.display())).collect();
        CliError::Invalid(lines.join("\n"))
    })
}

/// `rampart feeds check FILE`.
pub fn check(path: &Path) -> Result<(), CliError> {
    let config = load_pipeline(path)?;
    for feed in &config.feeds {
        println!("feed {}: {:?} parser, experts {:?}, outputs {:?}", feed.name, parser_name(&feed.parser), feed.experts, feed.outputs);
    }
    for name in &config.schema.unknown_conversions {
        println!("note: the Shadowserver schema uses conversion `{name}`, which this version passes through unchanged");
    }
    println!("{}: ok", path.display());
    Ok(())
}

fn parser_name(kind: &ParserKind) -> &'static str {
    match kind {
        ParserKind::Shadowserver { .. } => "shadowserver",
        ParserKind::Csv { .. } => "csv",
        ParserKind::JsonLines => "jsonl",
        ParserKind::XArf => "xarf",
    }
}

pub struct IngestArgs {
    pub file: PathBuf,
    pub feed: String,
    pub pipeline: Option<PathBuf>,
    pub journal: Option<PathBuf>,
    pub report: Option<String>,
    pub geoip_city: Option<PathBuf>,
    pub geoip_asn: Option<PathBuf>,
    pub cirt: Option<String>,
    pub json: bool,
    pub quiet: bool,
    pub wait: bool,
}

/// `rampart ingest FILE --feed NAME`: the file through the pipeline, with
/// a progress bar and a summary.
pub async fn ingest(store: Store, config: &Config, args: IngestArgs) -> Result<(), CliError> {
    let mut pipeline_config = match &args.pipeline {
        Some(path) => load_pipeline(path)?,
        None => {
            let mut feed = FeedConfig::shadowserver(&args.feed);
            if args.file.extension().is_some_and(|e| e == "jsonl" || e == "json") {
                feed.parser = ParserKind::JsonLines;
            }
            PipelineConfig::single(feed)?
        }
    };
    if pipeline_config.feed(&args.feed).is_none() {
        return Err(CliError::Invalid(format!("--feed: no feed `{}` in the pipeline configuration", args.feed)));
    }
    if let Some(report) = &args.report {
        if pipeline_config.schema.report(report).is_none() {
            return Err(CliError::Invalid(format!("--report: `{report}` is not a report of the Shadowserver schema")));
        }
        for feed in &mut pipeline_config.feeds {
            if feed.name == args.feed {
                feed.parser = ParserKind::Shadowserver { report: Some(report.clone()) };
            }
        }
    }
    if args.geoip_city.is_some() || args.geoip_asn.is_some() {
        pipeline_config.geoip_city = args.geoip_city.clone().or(pipeline_config.geoip_city);
        pipeline_config.geoip_asn = args.geoip_asn.clone().or(pipeline_config.geoip_asn);
    }
    prepare(&store, config, &mut pipeline_config, args.cirt.as_deref()).await?;
    if let Some(nats) = pipeline_config.nats.clone() {
        return publish(store, pipeline_config, &nats, &args).await;
    }
    let journal = args.journal.clone().or_else(|| pipeline_config.journal.clone()).unwrap_or_else(|| default_journal(config));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let started = std::time::Instant::now();
    let pipeline = Pipeline::open(pipeline_config, store, clock, &journal).await?;
    let bar = if args.quiet || args.json {
        None
    } else {
        let total = if args.file.as_os_str() == "-" { 0 } else { std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0) };
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    };
    let progress: Option<Arc<dyn Fn(Progress) + Send + Sync>> = bar.clone().map(|bar| {
        let report: Arc<dyn Fn(Progress) + Send + Sync> = Arc::new(move |p: Progress| {
            bar.set_position(p.bytes_read);
            bar.set_message(format!("{} rows", p.rows));
        });
        report
    });
    let summary = if args.file.as_os_str() == "-" {
        // Standard input: one run under a fresh id, named `stdin` (a
        // Shadowserver feed then needs --report, having no file name).
        let feed =
            pipeline.config().feed(&args.feed).cloned().ok_or_else(|| CliError::Invalid(format!("--feed: no feed `{}`", args.feed)))?;
        let run_id = rampart_core::new_id(SystemClock.now()).simple().to_string();
        pipeline.ingest_reader(&feed, run_id, "stdin".into(), Box::new(std::io::stdin()), 0, progress).await?
    } else {
        pipeline.ingest_file(&args.feed, &args.file, progress).await?
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print_summary(&args, &summary, started.elapsed().as_secs_f64());
    Ok(())
}

fn print_summary(args: &IngestArgs, summary: &rampart_feeds::Summary, seconds: f64) {
    let c = summary.counts;
    if args.json {
        crate::commands::print_json(&serde_json::json!({
            "run": summary.run_id,
            "read": c.read,
            "parsed": c.parsed,
            "quarantined": c.quarantined,
            "duplicates": c.duplicates,
            "filtered": c.filtered,
            "stored": c.stored,
            "incidents": c.incidents,
            "seconds": seconds,
            "rows_per_second": if seconds > 0.0 { c.read as f64 / seconds } else { 0.0 },
        }));
    } else {
        println!(
            "{}: read {}, parsed {}, quarantined {}, duplicates {}, filtered {}, stored {}, incidents opened or updated {} ({:.1} s)",
            args.file.display(),
            c.read,
            c.parsed,
            c.quarantined,
            c.duplicates,
            c.filtered,
            c.stored,
            c.incidents,
            seconds
        );
        if c.quarantined > 0 {
            println!("quarantined rows are listed on the pipeline page, run {}", summary.run_id);
        }
    }
}

/// What every way of running a pipeline settles the same: the MaxMind
/// files from the server's configuration when the pipeline names none,
/// and the CIRT that owns its incidents (given by id or name, else the
/// database's one national CIRT).
async fn prepare(store: &Store, config: &Config, pipeline: &mut PipelineConfig, cirt: Option<&str>) -> Result<(), CliError> {
    if pipeline.geoip_city.is_none() && pipeline.geoip_asn.is_none() {
        pipeline.geoip_city = config.geoip_country.clone();
        pipeline.geoip_asn = config.geoip_asn.clone();
    }
    pipeline.cirt = match (cirt, pipeline.cirt.take()) {
        (Some(name), _) => Some(crate::commands::find_org(store, name).await?.id),
        (None, Some(name)) => Some(crate::commands::find_org(store, &name).await?.id),
        (None, None) => national_cirt(store).await?,
    };
    Ok(())
}

/// `rampart ingest` with a distributed pipeline: the file goes onto the
/// first stream; with --wait, the summary once the workers stored it all.
async fn publish(store: Store, pipeline: PipelineConfig, nats: &NatsConfig, args: &IngestArgs) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let bus = Bus::connect(nats).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let published = if args.file.as_os_str() == "-" {
        let feed = pipeline.feed(&args.feed).ok_or_else(|| CliError::Invalid(format!("--feed: no feed `{}`", args.feed)))?;
        let run_id = rampart_core::new_id(SystemClock.now()).simple().to_string();
        distributed::publish_reader(&bus, feed, run_id, "stdin".into(), Box::new(std::io::stdin())).await?
    } else {
        distributed::publish_file(&bus, &pipeline, &store, &clock, &args.feed, &args.file).await?
    };
    if !args.wait {
        if args.json {
            crate::commands::print_json(
                &serde_json::json!({"run": published.run_id, "published": published.rows, "messages": published.chunks}),
            );
        } else {
            println!(
                "{}: published {} rows in {} messages as run {}; the pipeline's workers store them",
                args.file.display(),
                published.rows,
                published.chunks,
                published.run_id
            );
        }
        return Ok(());
    }
    let run = loop {
        if let Some(run) = store.feed_run_get(&published.run_id).await?.filter(|run| run.finished_at.is_some()) {
            break run;
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
            _ = tokio::signal::ctrl_c() => return Err(CliError::Other("interrupted; the workers go on storing the file".into())),
        }
    };
    let summary = rampart_feeds::Summary {
        run_id: run.id.clone(),
        finished: true,
        counts: rampart_store::feeds::RunCounts {
            read: run.read_count,
            parsed: run.parsed,
            quarantined: run.quarantined,
            duplicates: run.duplicates,
            filtered: run.filtered,
            stored: run.stored,
            incidents: run.incidents,
        },
    };
    print_summary(args, &summary, started.elapsed().as_secs_f64());
    Ok(())
}

/// `rampart worker --stage NAME --pipeline FILE`.
pub async fn worker(store: Store, config: &Config, stage: &str, path: &Path) -> Result<(), CliError> {
    let stage = Stage::parse(stage).ok_or_else(|| CliError::Invalid(format!("--stage: `{stage}` is not process or store")))?;
    let mut pipeline = load_pipeline(path)?;
    let nats = pipeline.nats.clone().ok_or_else(|| {
        CliError::Invalid(format!("{}: a worker needs a distributed pipeline; add [pipeline.nats] with its url", path.display()))
    })?;
    prepare(&store, config, &mut pipeline, None).await?;
    let bus = Bus::connect(&nats).await?;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let signal = stop.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(term) => { term.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
        // The message in hand is finished and acknowledged first.
        signal.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    eprintln!(
        "{} worker on {} ({})",
        match stage {
            Stage::Process => "process",
            Stage::Store => "store",
        },
        nats.url,
        nats.prefix
    );
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let handled = distributed::run_worker(&bus, stage, Arc::new(pipeline), store, clock, stop).await?;
    eprintln!("stopped after {handled} messages");
    Ok(())
}

/// `rampart feeds queue --pipeline FILE`.
pub async fn queue(path: &Path, limit: usize, json: bool) -> Result<(), CliError> {
    let pipeline = load_pipeline(path)?;
    let nats =
        pipeline.nats.ok_or_else(|| CliError::Invalid(format!("{}: not a distributed pipeline (no [pipeline.nats])", path.display())))?;
    let bus = Bus::connect(&nats).await?;
    let depths = bus.depths().await?;
    let dead = bus.dead_letters(limit).await?;
    if json {
        crate::commands::print_json(
            &serde_json::json!({"waiting": {"process": depths.raw, "store": depths.events}, "dead": depths.dead, "dead_letters": dead}),
        );
    } else {
        println!("waiting to be processed: {}\nwaiting to be stored: {}\ndead letters: {}", depths.raw, depths.events, depths.dead);
        for letter in dead {
            println!(
                "#{} {} stage, message {}, delivered {} times: {}",
                letter.sequence, letter.stage, letter.message_id, letter.delivered, letter.reason
            );
        }
    }
    Ok(())
}

/// `rampart bench feed-registry`: organisations and their networks in one
/// transaction, so the benchmark's constituency lookups run over a
/// registry of realistic size.
pub async fn bench_registry(store: &Store, orgs: usize, networks: usize) -> Result<(), CliError> {
    use rampart_store::{AuditEntry, NewOrg};
    let now = SystemClock.now();
    let mut tx = store.begin().await?;
    let mut ids = Vec::with_capacity(orgs.max(1));
    for i in 0..orgs.max(1) {
        let org = NewOrg {
            name: format!("Bench constituent {i:05}"),
            short_name: None,
            kind: "other".into(),
            sector: None,
            country: None,
            parent_id: None,
            website: None,
            mfa_required: false,
        };
        ids.push(tx.org_insert(&org, now).await?.id);
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut seen = std::collections::HashSet::new();
    let mut texts: Vec<String> = vec!["192.0.2.0/24".into(), "198.51.100.0/24".into(), "203.0.113.0/24".into(), "81.2.69.0/24".into()];
    while texts.len() < networks {
        let len = 16 + (next() % 9) as u32;
        let address = (next() as u32) & (u32::MAX << (32 - len));
        if seen.insert((address, len)) {
            texts.push(format!("{}/{len}", std::net::Ipv4Addr::from(address)));
        }
    }
    for (i, text) in texts.iter().enumerate() {
        let keys = rampart_cirt::constituency::network_keys(text).map_err(|err| CliError::Invalid(err.to_string()))?;
        tx.network_add(&ids[i % ids.len()], &keys, now).await?;
    }
    tx.audit(
        AuditEntry {
            actor_id: None,
            actor_label: "bench".into(),
            actor_org_id: None,
            action: "bench.feed_registry".into(),
            entity_type: "constituency".into(),
            entity_id: None,
            source_ip: None,
            summary: serde_json::json!({"orgs": ids.len(), "networks": texts.len()}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    println!("{}", serde_json::json!({"orgs": ids.len(), "networks": texts.len()}));
    Ok(())
}

/// The CIRT that owns incidents when none is named: the one national
/// CIRT, if the database holds exactly one.
async fn national_cirt(store: &Store) -> Result<Option<String>, CliError> {
    let filter = rampart_store::orgs::OrgFilter { kind: Some("national_cirt".into()), ..Default::default() };
    let page = store.org_list(&filter, &rampart_store::PageRequest::first(2)).await?;
    Ok(if page.items.len() == 1 { page.items.into_iter().next().map(|o| o.id) } else { None })
}

/// Opens the pipeline a configuration declares: embedded, with its
/// journal, or distributed, connected to its JetStream server.
pub async fn open_intake(
    store: Store,
    config: &Config,
    mut pipeline: PipelineConfig,
    journal: Option<PathBuf>,
) -> Result<Intake, CliError> {
    prepare(&store, config, &mut pipeline, None).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok(match pipeline.nats.clone() {
        Some(nats) => {
            Intake::new(Mode::Distributed { bus: Box::new(Bus::connect(&nats).await?), config: Arc::new(pipeline), store, clock })
        }
        None => {
            let journal = journal.or_else(|| pipeline.journal.clone()).unwrap_or_else(|| default_journal(config));
            Intake::embedded(Arc::new(Pipeline::open(pipeline, store, clock, &journal).await?))
        }
    })
}

/// `rampart feeds run`: the folder collectors, until interrupted. A
/// distributed pipeline's collector only publishes; workers do the rest.
pub async fn run_folders(
    store: Store,
    config: &Config,
    path: &Path,
    journal: Option<PathBuf>,
    once: bool,
    interval: Option<u64>,
) -> Result<(), CliError> {
    let intake = open_intake(store, config, load_pipeline(path)?, journal).await?;
    let interval = interval.or_else(|| intake.sweep_interval()).unwrap_or(10);
    loop {
        if let Mode::Embedded(pipeline) = intake.mode() {
            pipeline.reload_registry().await?;
        }
        for line in intake.sweep().await? {
            println!("{line}");
        }
        if once || wait_or_interrupt(interval).await {
            return Ok(());
        }
    }
}

/// Sleeps `interval` seconds; true when interrupted instead.
async fn wait_or_interrupt(interval: u64) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(std::time::Duration::from_secs(interval.max(1))) => false,
        _ = tokio::signal::ctrl_c() => true,
    }
}
