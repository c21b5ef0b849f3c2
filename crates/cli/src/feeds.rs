//! `rampart ingest` and `rampart feeds …`: the feed pipeline from the
//! command line.

use crate::config::Config;
use crate::error::CliError;
use rampart_core::{Clock, SystemClock};
use rampart_feeds::config::{self as feed_config, FeedConfig, ParserKind, PipelineConfig};
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
            FeedError::Journal(_) => CliError::Other(err.to_string()),
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
    pub json: bool,
    pub quiet: bool,
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
    } else if pipeline_config.geoip_city.is_none() && pipeline_config.geoip_asn.is_none() {
        pipeline_config.geoip_city = config.geoip_country.clone();
        pipeline_config.geoip_asn = config.geoip_asn.clone();
    }
    let journal = args.journal.clone().or_else(|| pipeline_config.journal.clone()).unwrap_or_else(|| default_journal(config));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let started = std::time::Instant::now();
    let pipeline = Pipeline::open(pipeline_config, store, clock, &journal).await?;
    let bar = if args.quiet || args.json {
        None
    } else {
        let total = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
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
    let summary = pipeline.ingest_file(&args.feed, &args.file, progress).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let seconds = started.elapsed().as_secs_f64();
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
    Ok(())
}
