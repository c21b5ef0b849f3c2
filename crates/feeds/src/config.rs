//! Pipelines declared in TOML: the feeds, their parser, their chain of
//! experts and their outputs. `check` reads a file and names the line of
//! every mistake at once, so an operator fixes a configuration in one go.

use crate::experts::{Condition, DEFAULT_DEDUP_FIELDS, Rule};
use crate::shadowserver::Schema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A mistake in a configuration: the line it is on and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    pipeline: RawPipeline,
    #[serde(default)]
    feed: Vec<RawFeed>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    journal: Option<Spanned<String>>,
    batch_size: Option<Spanned<i64>>,
    geoip_city: Option<Spanned<String>>,
    geoip_asn: Option<Spanned<String>>,
    routing_table: Option<Spanned<String>>,
    shadowserver_schema: Option<Spanned<String>>,
    /// The CIRT (organisation id) that owns incidents the pipeline opens.
    cirt: Option<Spanned<String>>,
    /// Stages joined by NATS JetStream instead of in-process channels.
    nats: Option<RawNats>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNats {
    url: Spanned<String>,
    prefix: Option<Spanned<String>>,
    ack_wait: Option<Spanned<String>>,
    max_deliver: Option<Spanned<i64>>,
    chunk_rows: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    name: Spanned<String>,
    #[serde(default)]
    provider: Option<String>,
    parser: Spanned<String>,
    report: Option<Spanned<String>>,
    accuracy: Option<Spanned<f64>>,
    tlp: Option<Spanned<String>>,
    keep_raw: Option<bool>,
    experts: Option<Spanned<Vec<Spanned<String>>>>,
    outputs: Option<Spanned<Vec<Spanned<String>>>>,
    jsonl_path: Option<Spanned<String>>,
    webhook: Option<RawWebhook>,
    collector: Option<RawCollector>,
    dedup: Option<RawDedup>,
    #[serde(default)]
    filter: Vec<RawRule>,
    #[serde(default)]
    columns: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    constants: BTreeMap<Spanned<String>, Spanned<String>>,
    incidents: Option<RawIncidents>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCollector {
    kind: Spanned<String>,
    path: Option<Spanned<String>>,
    pattern: Option<String>,
    interval: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    /// The report's file name (it picks the Shadowserver report); by
    /// default the URL's last path segment.
    name: Option<Spanned<String>>,
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: Spanned<String>,
    token: Option<String>,
    timeout: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDedup {
    window: Option<Spanned<String>>,
    fields: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    field: Spanned<String>,
    equals: Option<String>,
    #[serde(rename = "in")]
    any_of: Option<Vec<String>>,
    matches: Option<Spanned<String>>,
    exists: Option<bool>,
    action: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIncidents {
    window: Option<Spanned<String>>,
}

/// How a feed's input is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParserKind {
    /// Shadowserver CSV; the report from the configuration or the file name.
    Shadowserver { report: Option<String> },
    /// CSV with a header, columns mapped to event fields.
    Csv { columns: Vec<(String, String)> },
    /// One JSON event a line (IntelMQ's or Rampart's event JSON).
    JsonLines,
    /// X-ARF abuse reports from a maildir collector, one a message.
    XArf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectorKind {
    /// A folder watched for new files; a file is moved to `done/` once
    /// its rows are committed.
    Folder { path: PathBuf, pattern: String, interval_seconds: u64 },
    /// A report fetched from a URL every interval (conditionally: an
    /// unchanged report is not read again).
    Http { url: String, name: String, token: Option<String>, interval_seconds: u64 },
    /// A maildir: each new message's report attachments (or, for the
    /// `xarf` parser, the X-ARF report it is) are read, and the message
    /// is then marked seen (moved to `cur/`).
    Maildir { path: PathBuf, interval_seconds: u64 },
}

impl CollectorKind {
    pub fn interval_seconds(&self) -> u64 {
        match self {
            CollectorKind::Folder { interval_seconds, .. }
            | CollectorKind::Http { interval_seconds, .. }
            | CollectorKind::Maildir { interval_seconds, .. } => *interval_seconds,
        }
    }
}

/// Where the webhook output posts newly stored events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub token: Option<String>,
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expert {
    Taxonomy,
    Constituency,
    Geoip,
    Filter,
    Dedup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Store,
    Incidents,
    JsonLines,
    /// Newly stored events, posted as JSON to `webhook.url` in the batch's
    /// transaction (a refusal fails the batch, which is retried).
    Webhook,
    /// The addresses, URLs and domains of newly stored events, recorded
    /// as sightings in the pipeline CIRT's indicator store.
    Indicators,
}

#[derive(Debug, Clone)]
pub struct FeedConfig {
    pub name: String,
    pub provider: String,
    pub parser: ParserKind,
    pub accuracy: Option<f64>,
    pub tlp: rampart_core::Tlp,
    pub keep_raw: bool,
    pub experts: Vec<Expert>,
    pub outputs: Vec<Output>,
    pub jsonl_path: Option<PathBuf>,
    pub webhook: Option<Webhook>,
    pub collector: Option<CollectorKind>,
    pub dedup_fields: Vec<String>,
    pub dedup_window_seconds: i64,
    pub rules: Vec<Rule>,
    pub constants: Vec<(String, String)>,
    pub incident_window_seconds: i64,
}

/// The distributed mode: where the JetStream server is and how its
/// streams are named and consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsConfig {
    /// `nats://host:port`.
    pub url: String,
    /// Names the streams (`<prefix>_RAW`, `<prefix>_EVENTS`, `<prefix>_DEAD`)
    /// and their subjects, so several pipelines share one server.
    pub prefix: String,
    /// How long a stage may hold a message before it is delivered again.
    pub ack_wait_seconds: u64,
    /// Deliveries after which a message that keeps failing goes to the
    /// dead-letter stream.
    pub max_deliver: i64,
    /// Rows per message on the first stream.
    pub chunk_rows: usize,
}

#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub journal: Option<PathBuf>,
    pub batch_size: usize,
    pub geoip_city: Option<PathBuf>,
    pub geoip_asn: Option<PathBuf>,
    pub routing_table: Option<PathBuf>,
    pub schema: Schema,
    pub cirt: Option<String>,
    pub nats: Option<NatsConfig>,
    pub feeds: Vec<FeedConfig>,
}

impl PipelineConfig {
    pub fn feed(&self, name: &str) -> Option<&FeedConfig> {
        self.feeds.iter().find(|f| f.name == name)
    }

    /// A configuration with one feed and the defaults, for `rampart ingest`
    /// without a configuration file.
    pub fn single(feed: FeedConfig) -> Result<PipelineConfig, crate::FeedError> {
        Ok(PipelineConfig {
            journal: None,
            batch_size: DEFAULT_BATCH,
            geoip_city: None,
            geoip_asn: None,
            routing_table: None,
            schema: Schema::built_in()?,
            cirt: None,
            nats: None,
            feeds: vec![feed],
        })
    }
}

impl FeedConfig {
    /// A Shadowserver feed with the usual chain, for quick starts and tests.
    pub fn shadowserver(name: &str) -> FeedConfig {
        FeedConfig {
            name: name.to_owned(),
            provider: "Shadowserver".into(),
            parser: ParserKind::Shadowserver { report: None },
            accuracy: None,
            tlp: rampart_core::Tlp::Amber,
            keep_raw: true,
            experts: vec![Expert::Taxonomy, Expert::Constituency, Expert::Geoip, Expert::Filter, Expert::Dedup],
            outputs: vec![Output::Store, Output::Incidents],
            jsonl_path: None,
            webhook: None,
            collector: None,
            dedup_fields: DEFAULT_DEDUP_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            dedup_window_seconds: DEFAULT_WINDOW,
            rules: Vec::new(),
            constants: Vec::new(),
            incident_window_seconds: DEFAULT_WINDOW,
        }
    }
}

const DEFAULT_BATCH: usize = 4096;
const DEFAULT_WINDOW: i64 = 24 * 3600;

/// `90s`, `15m`, `24h`, `7d` or a number of seconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => (&text[..at], &text[at..]),
        None => (text, "s"),
    };
    let amount: i64 = digits.parse().ok()?;
    let factor = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    amount.checked_mul(factor).filter(|s| *s > 0)
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len())).map_or(1, |before| before.matches('\n').count() + 1)
}

/// Reads and checks a configuration. `base` resolves relative paths.
pub fn parse(text: &str, base: &Path) -> Result<PipelineConfig, Vec<ConfigError>> {
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(err) => {
            let line = err.span().map_or(1, |span| line_of(text, span.start));
            return Err(vec![ConfigError { line, message: err.message().to_owned() }]);
        }
    };
    let mut errors = Vec::new();
    let mut error = |span: std::ops::Range<usize>, message: String| errors.push(ConfigError { line: line_of(text, span.start), message });
    let path = |value: &Spanned<String>| {
        let p = PathBuf::from(value.get_ref());
        if p.is_absolute() { p } else { base.join(p) }
    };
    let existing = |value: &Option<Spanned<String>>, what: &str, error: &mut dyn FnMut(std::ops::Range<usize>, String)| {
        value.as_ref().map(|v| {
            let p = path(v);
            if !p.exists() {
                error(v.span(), format!("{what} `{}` does not exist", p.display()));
            }
            p
        })
    };
    let geoip_city = existing(&raw.pipeline.geoip_city, "geoip_city", &mut error);
    let geoip_asn = existing(&raw.pipeline.geoip_asn, "geoip_asn", &mut error);
    let routing_table = existing(&raw.pipeline.routing_table, "routing_table", &mut error);
    let schema = match &raw.pipeline.shadowserver_schema {
        None => Schema::built_in().map_err(|err| err.to_string()),
        Some(value) => std::fs::read_to_string(path(value))
            .map_err(|err| format!("shadowserver_schema `{}`: {err}", path(value).display()))
            .and_then(|text| Schema::parse(&text).map_err(|err| format!("shadowserver_schema: {err}"))),
    };
    let schema = match schema {
        Ok(schema) => Some(schema),
        Err(message) => {
            error(raw.pipeline.shadowserver_schema.as_ref().map_or(0..0, |v| v.span()), message);
            None
        }
    };
    let batch_size = match &raw.pipeline.batch_size {
        None => DEFAULT_BATCH,
        Some(value) if (1..=100_000).contains(value.get_ref()) => usize::try_from(*value.get_ref()).unwrap_or(DEFAULT_BATCH),
        Some(value) => {
            error(value.span(), "batch_size must be between 1 and 100000".into());
            DEFAULT_BATCH
        }
    };
    let nats = raw.pipeline.nats.as_ref().map(|nats| {
        let url = nats.url.get_ref().trim().to_owned();
        if !(url.starts_with("nats://") || url.starts_with("tls://")) || url::Url::parse(&url).is_err() {
            error(nats.url.span(), format!("`{url}` is not a NATS address such as nats://127.0.0.1:4222"));
        }
        let prefix = nats.prefix.as_ref().map_or_else(|| "RAMPART_FEEDS".to_owned(), |p| p.get_ref().clone());
        if let Some(span) = nats.prefix.as_ref().map(Spanned::span)
            && (prefix.is_empty() || prefix.len() > 64 || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            error(span, "prefix must be 1 to 64 letters, digits or underscores".into());
        }
        let ack_wait_seconds = match &nats.ack_wait {
            None => 30,
            Some(text) => match parse_duration(text.get_ref()) {
                Some(seconds) => u64::try_from(seconds).unwrap_or(30),
                None => {
                    error(text.span(), format!("`{}` is not a duration such as 30s, 5m or 1h", text.get_ref()));
                    30
                }
            },
        };
        let max_deliver = match &nats.max_deliver {
            None => 5,
            Some(value) if (1..=100).contains(value.get_ref()) => *value.get_ref(),
            Some(value) => {
                error(value.span(), "max_deliver must be between 1 and 100".into());
                5
            }
        };
        let chunk_rows = match &nats.chunk_rows {
            None => 500,
            Some(value) if (1..=5000).contains(value.get_ref()) => usize::try_from(*value.get_ref()).unwrap_or(500),
            Some(value) => {
                // Bounded so a chunk's events fit NATS's default 1 MiB
                // message limit with room to spare.
                error(value.span(), "chunk_rows must be between 1 and 5000".into());
                500
            }
        };
        NatsConfig { url, prefix, ack_wait_seconds, max_deliver, chunk_rows }
    });
    let mut feeds = Vec::new();
    let mut names = Vec::new();
    for feed in raw.feed {
        let name = feed.name.get_ref().trim().to_owned();
        if name.is_empty() || names.contains(&name) {
            error(
                feed.name.span(),
                if name.is_empty() { "a feed needs a name".into() } else { format!("feed `{name}` is declared twice") },
            );
        }
        names.push(name.clone());
        let mut config = FeedConfig::shadowserver(&name);
        config.provider = feed.provider.clone().unwrap_or_default();
        config.parser = match feed.parser.get_ref().as_str() {
            "shadowserver" => {
                let report = feed.report.as_ref().map(|r| r.get_ref().clone());
                if let (Some(report), Some(schema), Some(span)) = (&report, &schema, feed.report.as_ref().map(Spanned::span))
                    && schema.report(report).is_none()
                {
                    error(span, format!("`{report}` is not a report of the Shadowserver schema"));
                }
                ParserKind::Shadowserver { report }
            }
            "csv" => {
                if feed.columns.is_empty() {
                    error(feed.parser.span(), "a csv feed needs a [feed.columns] table mapping event fields to columns".into());
                }
                let mut columns = Vec::new();
                for (field, column) in &feed.columns {
                    if crate::event::kind_of(field.get_ref()).is_none() {
                        error(field.span(), format!("`{}` is not a field of the harmonised event", field.get_ref()));
                    }
                    columns.push((field.get_ref().clone(), column.get_ref().clone()));
                }
                ParserKind::Csv { columns }
            }
            "jsonl" | "json" => ParserKind::JsonLines,
            "xarf" => ParserKind::XArf,
            other => {
                error(feed.parser.span(), format!("parser `{other}` is not one of shadowserver, csv, jsonl, xarf"));
                ParserKind::JsonLines
            }
        };
        for (field, value) in &feed.constants {
            let mut probe = crate::event::Event::new();
            if let Err(err) = probe.add_text(field.get_ref(), value.get_ref()) {
                error(field.span(), err.to_string());
            }
            config.constants.push((field.get_ref().clone(), value.get_ref().clone()));
        }
        if let Some(accuracy) = &feed.accuracy {
            if !(0.0..=100.0).contains(accuracy.get_ref()) {
                error(accuracy.span(), "accuracy must be between 0 and 100".into());
            }
            config.accuracy = Some(*accuracy.get_ref());
        }
        if let Some(tlp) = &feed.tlp {
            match tlp.get_ref().parse::<rampart_core::Tlp>() {
                Ok(level) => config.tlp = level,
                Err(_) => error(tlp.span(), format!("`{}` is not a TLP level", tlp.get_ref())),
            }
        }
        config.keep_raw = feed.keep_raw.unwrap_or(true);
        if let Some(experts) = &feed.experts {
            config.experts.clear();
            for expert in experts.get_ref() {
                match expert.get_ref().as_str() {
                    "taxonomy" => config.experts.push(Expert::Taxonomy),
                    "constituency" => config.experts.push(Expert::Constituency),
                    "geoip" => config.experts.push(Expert::Geoip),
                    "filter" => config.experts.push(Expert::Filter),
                    "dedup" => config.experts.push(Expert::Dedup),
                    other => error(expert.span(), format!("expert `{other}` is not one of taxonomy, constituency, geoip, filter, dedup")),
                }
            }
        }
        if let Some(outputs) = &feed.outputs {
            config.outputs.clear();
            for output in outputs.get_ref() {
                match output.get_ref().as_str() {
                    "store" => config.outputs.push(Output::Store),
                    "incidents" => config.outputs.push(Output::Incidents),
                    "jsonl" => config.outputs.push(Output::JsonLines),
                    "webhook" => config.outputs.push(Output::Webhook),
                    "indicators" => config.outputs.push(Output::Indicators),
                    other => error(output.span(), format!("output `{other}` is not one of store, incidents, jsonl, webhook, indicators")),
                }
            }
            if config.outputs.contains(&Output::Incidents) && !config.outputs.contains(&Output::Store) {
                error(outputs.span(), "the incidents output needs the store output: incidents point at stored events".into());
            }
            if config.outputs.contains(&Output::Indicators) && !config.outputs.contains(&Output::Store) {
                error(outputs.span(), "the indicators output needs the store output: it records the events newly stored".into());
            }
            if config.outputs.contains(&Output::JsonLines) && feed.jsonl_path.is_none() {
                error(outputs.span(), "the jsonl output needs jsonl_path".into());
            }
            if config.outputs.contains(&Output::Webhook) {
                if feed.webhook.is_none() {
                    error(outputs.span(), "the webhook output needs a webhook = { url = \"https://…\" } table".into());
                }
                if !config.outputs.contains(&Output::Store) {
                    // It posts the events the store newly took, after deduplication.
                    error(outputs.span(), "the webhook output needs the store output".into());
                }
            }
            if nats.is_some() && config.outputs.contains(&Output::JsonLines) && !config.outputs.contains(&Output::Store) {
                // Distributed, the store stage writes the lines of the
                // events it newly stored, after deduplication.
                error(outputs.span(), "with [pipeline.nats], the jsonl output needs the store output".into());
            }
        }
        config.jsonl_path = feed.jsonl_path.as_ref().map(path);
        if let Some(webhook) = &feed.webhook {
            if let Err(message) = crate::http::check_url(webhook.url.get_ref()) {
                error(webhook.url.span(), format!("webhook url: {message}"));
            }
            let timeout_seconds = match &webhook.timeout {
                None => 10,
                Some(text) => match parse_duration(text.get_ref()) {
                    Some(seconds) => u64::try_from(seconds).unwrap_or(10),
                    None => {
                        error(text.span(), format!("`{}` is not a duration such as 10s or 1m", text.get_ref()));
                        10
                    }
                },
            };
            config.webhook = Some(Webhook { url: webhook.url.get_ref().clone(), token: webhook.token.clone(), timeout_seconds });
        }
        if let Some(collector) = &feed.collector {
            let mut interval = |default: u64| match &collector.interval {
                None => default,
                Some(text) => match parse_duration(text.get_ref()) {
                    Some(seconds) => u64::try_from(seconds).unwrap_or(default),
                    None => {
                        error(text.span(), format!("`{}` is not a duration such as 30s, 5m or 1h", text.get_ref()));
                        default
                    }
                },
            };
            config.collector = match collector.kind.get_ref().as_str() {
                "http" => {
                    let interval = interval(3600);
                    match &collector.url {
                        Some(url) => match crate::http::check_url(url.get_ref()) {
                            Ok(parsed) => {
                                let name = collector.name.as_ref().map(|n| n.get_ref().clone()).unwrap_or_else(|| {
                                    parsed
                                        .path_segments()
                                        .and_then(|mut s| s.next_back())
                                        .filter(|s| !s.is_empty())
                                        .unwrap_or("report")
                                        .to_owned()
                                });
                                Some(CollectorKind::Http {
                                    url: url.get_ref().clone(),
                                    name,
                                    token: collector.token.clone(),
                                    interval_seconds: interval,
                                })
                            }
                            Err(message) => {
                                error(url.span(), format!("collector url: {message}"));
                                None
                            }
                        },
                        None => {
                            error(collector.kind.span(), "an http collector needs a url".into());
                            None
                        }
                    }
                }
                "maildir" => match &collector.path {
                    Some(folder) => Some(CollectorKind::Maildir { path: path(folder), interval_seconds: interval(60) }),
                    None => {
                        error(collector.kind.span(), "a maildir collector needs a path".into());
                        None
                    }
                },
                "folder" => match &collector.path {
                    Some(folder) => {
                        let interval = interval(10);
                        Some(CollectorKind::Folder {
                            path: path(folder),
                            pattern: collector.pattern.clone().unwrap_or_else(|| "*.csv".into()),
                            interval_seconds: interval,
                        })
                    }
                    None => {
                        error(collector.kind.span(), "a folder collector needs a path".into());
                        None
                    }
                },
                // Standard input is `rampart ingest -`, not a standing collector.
                other => {
                    error(
                        collector.kind.span(),
                        format!("collector `{other}` is not `folder`, `http` or `maildir` (for standard input, use `rampart ingest -`)"),
                    );
                    None
                }
            };
        }
        if let Some(dedup) = &feed.dedup {
            if let Some(window) = &dedup.window {
                match parse_duration(window.get_ref()) {
                    Some(seconds) => config.dedup_window_seconds = seconds,
                    None => error(window.span(), format!("`{}` is not a duration such as 30s, 5m or 1h", window.get_ref())),
                }
            }
            if let Some(fields) = &dedup.fields {
                config.dedup_fields.clear();
                for field in fields {
                    if crate::event::kind_of(field.get_ref()).is_none() {
                        error(field.span(), format!("`{}` is not a field of the harmonised event", field.get_ref()));
                    }
                    config.dedup_fields.push(field.get_ref().clone());
                }
            }
        }
        if let Some(incidents) = &feed.incidents
            && let Some(window) = &incidents.window
        {
            match parse_duration(window.get_ref()) {
                Some(seconds) => config.incident_window_seconds = seconds,
                None => error(window.span(), format!("`{}` is not a duration such as 30s, 5m or 1h", window.get_ref())),
            }
        }
        for rule in &feed.filter {
            if crate::event::kind_of(rule.field.get_ref()).is_none() {
                error(rule.field.span(), format!("`{}` is not a field of the harmonised event", rule.field.get_ref()));
            }
            let keep = match rule.action.get_ref().as_str() {
                "keep" => true,
                "drop" => false,
                other => {
                    error(rule.action.span(), format!("action `{other}` is not keep or drop"));
                    false
                }
            };
            let given = [rule.equals.is_some(), rule.any_of.is_some(), rule.matches.is_some(), rule.exists.is_some()];
            if given.iter().filter(|g| **g).count() != 1 {
                error(rule.field.span(), "a rule needs exactly one of equals, in, matches, exists".into());
                continue;
            }
            let condition = if let Some(value) = &rule.equals {
                Condition::Equals(value.clone())
            } else if let Some(values) = &rule.any_of {
                Condition::In(values.clone())
            } else if let Some(pattern) = &rule.matches {
                match regex::Regex::new(pattern.get_ref()) {
                    Ok(regex) => Condition::Matches(regex),
                    Err(err) => {
                        error(pattern.span(), format!("matches: {err}"));
                        continue;
                    }
                }
            } else {
                Condition::Exists(rule.exists.unwrap_or(true))
            };
            config.rules.push(Rule { field: rule.field.get_ref().clone(), condition, keep });
        }
        feeds.push(config);
    }
    if feeds.is_empty() {
        errors.push(ConfigError { line: 1, message: "no [[feed]] is declared".into() });
    }
    match schema {
        Some(schema) if errors.is_empty() => Ok(PipelineConfig {
            journal: raw.pipeline.journal.as_ref().map(path),
            batch_size,
            geoip_city,
            geoip_asn,
            routing_table,
            schema,
            cirt: raw.pipeline.cirt.map(|c| c.into_inner()),
            nats,
            feeds,
        }),
        _ => {
            errors.sort_by_key(|e| e.line);
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_configuration_reads() {
        let text = r#"
[pipeline]
batch_size = 2000

[[feed]]
name = "shadowserver"
parser = "shadowserver"
tlp = "AMBER"
experts = ["taxonomy", "constituency", "dedup"]
collector = { kind = "folder", path = "incoming", interval = "30s" }
dedup = { window = "12h", fields = ["source.ip", "source.port"] }

[[feed.filter]]
field = "source.geolocation.cc"
in = ["KE", "GH"]
action = "keep"

[[feed]]
name = "partner-csv"
parser = "csv"
columns = { "source.ip" = "address", "time.source" = "seen" }
constants = { "classification.type" = "scanner" }
"#;
        let config = parse(text, Path::new("/etc/rampart")).unwrap();
        assert_eq!(config.batch_size, 2000);
        let feed = config.feed("shadowserver").unwrap();
        assert_eq!(feed.experts, vec![Expert::Taxonomy, Expert::Constituency, Expert::Dedup]);
        assert_eq!(feed.dedup_window_seconds, 12 * 3600);
        assert_eq!(
            feed.collector,
            Some(CollectorKind::Folder { path: "/etc/rampart/incoming".into(), pattern: "*.csv".into(), interval_seconds: 30 })
        );
        assert_eq!(feed.rules.len(), 1);
        assert!(matches!(&config.feed("partner-csv").unwrap().parser, ParserKind::Csv { columns } if columns.len() == 2));
    }

    #[test]
    fn every_mistake_is_named_with_its_line() {
        let text = "[[feed]]\nname = \"a\"\nparser = \"shadowserver\"\nreport = \"scan_nothing\"\nexperts = [\"taxonomy\", \"astrology\"]\n\n[[feed]]\nname = \"a\"\nparser = \"xml\"\ndedup = { window = \"forever\" }\n";
        let errors = parse(text, Path::new(".")).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![4, 5, 8, 9, 10], "{errors:?}");
        assert!(errors[1].message.contains("astrology"));
        let syntax = parse("[[feed]]\nname = \"a\"\nparser = \n", Path::new(".")).unwrap_err();
        assert_eq!(syntax[0].line, 3, "{syntax:?}");
        let unknown = parse("[[feed]]\nname = \"a\"\nparser = \"jsonl\"\ncolour = \"red\"\n", Path::new(".")).unwrap_err();
        assert_eq!(unknown[0].line, 4, "{unknown:?}");
    }

    #[test]
    fn the_distributed_mode_is_declared_and_checked() {
        let text = "[pipeline.nats]\nurl = \"nats://127.0.0.1:4222\"\nprefix = \"CIRT_KE\"\nack_wait = \"10s\"\n\n[[feed]]\nname = \"a\"\nparser = \"shadowserver\"\n";
        let config = parse(text, Path::new(".")).unwrap();
        assert_eq!(
            config.nats,
            Some(NatsConfig {
                url: "nats://127.0.0.1:4222".into(),
                prefix: "CIRT_KE".into(),
                ack_wait_seconds: 10,
                max_deliver: 5,
                chunk_rows: 500
            })
        );
        assert_eq!(parse("[[feed]]\nname = \"a\"\nparser = \"jsonl\"\n", Path::new(".")).unwrap().nats, None);
        let bad = "[pipeline.nats]\nurl = \"http://x\"\nprefix = \"a.b\"\nack_wait = \"soon\"\nmax_deliver = 0\nchunk_rows = 100000\n\n\
                   [[feed]]\nname = \"a\"\nparser = \"jsonl\"\noutputs = [\"jsonl\"]\njsonl_path = \"out.jsonl\"\n";
        let errors = parse(bad, Path::new(".")).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6, 11], "{errors:?}");
        assert!(errors[5].message.contains("needs the store output"), "{errors:?}");
    }

    #[test]
    fn http_collectors_and_webhooks_are_declared_and_checked() {
        let text = "[[feed]]\nname = \"partner\"\nparser = \"shadowserver\"\noutputs = [\"store\", \"webhook\"]\n\
                    collector = { kind = \"http\", url = \"https://partner.example/reports/2026-11-29-scan_telnet-ke-geo.csv\", token = \"t\" }\n\
                    webhook = { url = \"https://soar.example/hook\", timeout = \"30s\" }\n";
        let config = parse(text, Path::new(".")).unwrap();
        let feed = config.feed("partner").unwrap();
        assert_eq!(
            feed.collector,
            Some(CollectorKind::Http {
                url: "https://partner.example/reports/2026-11-29-scan_telnet-ke-geo.csv".into(),
                name: "2026-11-29-scan_telnet-ke-geo.csv".into(),
                token: Some("t".into()),
                interval_seconds: 3600,
            })
        );
        assert_eq!(feed.webhook, Some(Webhook { url: "https://soar.example/hook".into(), token: None, timeout_seconds: 30 }));
        let bad = "[[feed]]\nname = \"a\"\nparser = \"jsonl\"\noutputs = [\"webhook\"]\n\
                   collector = { kind = \"http\", url = \"http://partner.example/r.csv\" }\n\
                   webhook = { url = \"ftp://x/\" }\n";
        let errors = parse(bad, Path::new(".")).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![4, 5, 6], "{errors:?}");
        assert!(errors[0].message.contains("needs the store output"), "{errors:?}");
        assert!(errors[1].message.contains("loopback"), "{errors:?}");
        assert!(errors[2].message.contains("https"), "{errors:?}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("24h"), Some(86_400));
        assert_eq!(parse_duration("7d"), Some(604_800));
        assert_eq!(parse_duration("120"), Some(120));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("soon"), None);
    }
}
