//! `rampart`: one binary for serving, migrating, administering, verifying
//! and backing up.
//!
//! Architecture invariant: this crate and `web` are the only readers of
//! configuration; everything below receives validated values.

mod bench;
mod commands;
mod config;
mod cop;
mod demo;
mod drill_bench;
mod drills;
mod error;
mod feeds;
mod gci;
mod intel;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "rampart", version, about = "Rampart: the open platform for national cybersecurity.", propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML). RAMPART_* environment variables override it.
    #[arg(long, global = true, env = "RAMPART_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database: a SQLite file path or a postgres:// URL (overrides the config).
    #[arg(long, global = true)]
    pub database: Option<String>,
    /// Log format: text or json (overrides the config).
    #[arg(long, global = true)]
    pub log_format: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web UI and API.
    Serve(ServeArgs),
    /// Apply database migrations.
    Migrate(CreateArg),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Reference data on countries.
    #[command(subcommand)]
    Country(CountryCommand),
    /// The audit chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The CIRT desk.
    #[command(subcommand)]
    Cirt(CirtCommand),
    /// Print the REST API's OpenAPI 3.1 document.
    Openapi,
    /// Back up the database: an online copy for SQLite, the pg_dump command for PostgreSQL.
    Backup(BackupArgs),
    /// Configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Rampart's side of the benchmarks in `benchmarks/`.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Child online protection.
    #[command(subcommand)]
    Cop(CopCommand),
    /// The Global Cybersecurity Index.
    #[command(subcommand)]
    Gci(GciCommand),
    /// Threat-intelligence exchange: TAXII collections and federation with peers.
    #[command(subcommand)]
    Intel(IntelCommand),
    /// Cyberdrills: the scenario library and after-action reports.
    #[command(subcommand)]
    Drill(DrillCommand),
    /// Read a feed file (a Shadowserver report, CSV, JSON lines) through the
    /// pipeline: parse, enrich, deduplicate, store; prints a summary.
    Ingest {
        /// The file, or `-` for standard input.
        file: PathBuf,
        /// The feed it belongs to (a [[feed]] of --pipeline, or a
        /// Shadowserver feed of that name with the usual chain).
        #[arg(long)]
        feed: String,
        /// The pipeline configuration (TOML).
        #[arg(long)]
        pipeline: Option<PathBuf>,
        /// The journal folder (default: beside the SQLite database).
        #[arg(long)]
        journal: Option<PathBuf>,
        /// The Shadowserver report, when the file's name does not say.
        #[arg(long)]
        report: Option<String>,
        /// MaxMind City (or Country) database for geolocation.
        #[arg(long)]
        geoip_city: Option<PathBuf>,
        /// MaxMind ASN database.
        #[arg(long)]
        geoip_asn: Option<PathBuf>,
        /// The CIRT (id or exact name) that owns incidents opened from the
        /// events; by default the database's one national CIRT.
        #[arg(long)]
        cirt: Option<String>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// With a distributed pipeline ([pipeline.nats]): wait until the
        /// workers have stored the whole file, then print the summary.
        #[arg(long)]
        wait: bool,
    },
    /// The feed pipeline's configuration.
    #[command(subcommand)]
    Feeds(FeedsCommand),
    /// Run one stage of a distributed pipeline ([pipeline.nats]): `process`
    /// (parse and enrich) or `store` (deduplicate, store, open incidents).
    /// Start as many of each as the load needs; stop with Ctrl-C or SIGTERM.
    Worker {
        #[arg(long)]
        stage: String,
        #[arg(long)]
        pipeline: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum FeedsCommand {
    /// Check a pipeline configuration; every mistake is named with its line.
    Check { file: PathBuf },
    /// Run the pipeline's folder collectors: ingest each new file and move
    /// it to done/; every INTERVAL seconds (by default the shortest
    /// `interval` of the folder collectors), or once with --once.
    Run {
        #[arg(long)]
        pipeline: PathBuf,
        #[arg(long)]
        journal: Option<PathBuf>,
        #[arg(long)]
        once: bool,
        #[arg(long)]
        interval: Option<u64>,
    },
    /// A distributed pipeline's streams: messages waiting at each stage and
    /// the newest dead letters with their stage and reason.
    Queue {
        #[arg(long)]
        pipeline: PathBuf,
        /// Dead letters to list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum DrillCommand {
    /// Import a scenario (Rampart JSON, or with --msel-title a master
    /// scenario events list in CSV) into the acting organiser's library;
    /// prints its id. A broken file is refused with the line or field.
    Import {
        /// The acting user (e-mail): a drill organiser.
        #[arg(long = "as")]
        acting: String,
        file: PathBuf,
        /// Read FILE as an MSEL spreadsheet and give the scenario this title.
        #[arg(long)]
        msel_title: Option<String>,
    },
    /// Print a scenario as JSON (static flags hashed).
    Export {
        #[arg(long = "as")]
        acting: String,
        scenario: String,
    },
    /// Print an exercise's after-action report as JSON, or CSV with --csv.
    Report {
        #[arg(long = "as")]
        acting: String,
        exercise: String,
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum IntelCommand {
    /// Create a TAXII collection owned by the acting user's organisation.
    CollectionCreate {
        /// The acting user (e-mail): a CIRT manager of the owning organisation.
        #[arg(long = "as")]
        acting: String,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Organisations that may read (id or exact name, or `*`); repeatable.
        #[arg(long = "reader")]
        readers: Vec<String>,
        /// Organisations that may add objects (id or exact name, or `*`); repeatable.
        #[arg(long = "writer")]
        writers: Vec<String>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Import MISP core-format events (JSON files) into a collection, as STIX.
    MispImport {
        /// The acting user (e-mail), who may write to the collection.
        #[arg(long = "as")]
        acting: String,
        #[arg(long)]
        collection: String,
        files: Vec<PathBuf>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Write a collection as a MISP feed (manifest.json, <uuid>.json, hashes.csv) into a directory.
    MispFeed {
        /// The acting user (e-mail), whose view of the collection is written.
        #[arg(long = "as")]
        acting: String,
        #[arg(long)]
        collection: String,
        /// The most restrictive TLP written: CLEAR, GREEN (the default), AMBER or AMBER+STRICT.
        #[arg(long, default_value = "GREEN")]
        max_tlp: String,
        /// The directory to write (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Exchange with the peer TAXII servers of `[[intel.peers]]` once (`serve` does it on each peer's interval).
    Sync {
        /// Only this peer.
        #[arg(long)]
        peer: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// The configured peers and where each exchange has got to.
    Peers {
        #[command(flatten)]
        json: JsonArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum GciCommand {
    /// E-mail the focal points of countries that have not submitted (or have
    /// answers sent back) 14, 7 and 1 day before a campaign's deadline and
    /// once after it; each is sent once. `serve` does this every hour when
    /// `[smtp]` is configured.
    Remind {
        /// Act as if today were this date (YYYY-MM-DD), to check a schedule.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        #[command(flatten)]
        json: JsonArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum CopCommand {
    /// Match images (PDQ, all eight rotations and flips; MD5; SHA-256) and
    /// PDQ hashes against a hash list; prints the matches as CSV.
    Match {
        /// A hash list file: CSV (hash,type,tags) or JSON (.json).
        #[arg(long, required_unless_present = "stored", conflicts_with = "stored")]
        list: Option<PathBuf>,
        /// A hash list stored in Rampart's database, by name or id.
        #[arg(long)]
        stored: Option<String>,
        /// A file of PDQ hashes (one per line, 64 hex digits first) to look up too.
        #[arg(long)]
        hashes: Option<PathBuf>,
        /// Largest Hamming distance for a PDQ match.
        #[arg(long, default_value_t = 31)]
        radius: u32,
        /// Image files.
        images: Vec<PathBuf>,
    },
    /// Delete reporters' personal data older than the retention period
    /// (`[cop] retention_days`); the server also does this every ten minutes.
    Purge {
        #[command(flatten)]
        json: JsonArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Decode and PDQ-hash images on all cores; print images per second.
    Pdq {
        /// Image files.
        #[arg(required = true)]
        images: Vec<std::path::PathBuf>,
        /// Hash the set this many times.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
        /// Only decode, to see what hashing itself costs.
        #[arg(long)]
        decode_only: bool,
        /// Decode to RGB and hash as the conformance test does, instead of
        /// decoding JPEGs to their luma plane as matching does.
        #[arg(long)]
        exact: bool,
    },
    /// Fill the constituency registry for the feed benchmark: ORGS
    /// organisations sharing NETWORKS random IPv4 networks, plus the
    /// documentation ranges the generated reports use.
    FeedRegistry {
        #[arg(long, default_value_t = 1_000)]
        orgs: usize,
        #[arg(long, default_value_t = 100_000)]
        networks: usize,
    },
    /// Longest-prefix lookups: a table of N random prefixes, M random
    /// addresses looked up on one thread; prints lookups per second.
    FeedLpm {
        #[arg(long, default_value_t = 1_000_000)]
        prefixes: usize,
        #[arg(long, default_value_t = 50_000_000)]
        lookups: usize,
    },
    /// The GCI uncertainty analysis: synthetic countries, Monte Carlo draws, one thread.
    Gci {
        #[arg(long, default_value = "gci-2024")]
        edition: String,
        #[arg(long, default_value_t = 194)]
        countries: usize,
        #[arg(long, default_value_t = 10_000)]
        draws: usize,
        /// Write the input as JSON here, for the baseline script.
        #[arg(long)]
        data: Option<std::path::PathBuf>,
    },
    /// Fill the database with a TAXII collection of N indicators (GREEN and
    /// CLEAR, a tenth with a second version) owned by a bench CIRT; prints
    /// the collection id and a reader's token as JSON.
    TaxiiLoad {
        #[arg(long, default_value_t = 10_000)]
        objects: usize,
    },
    /// Drive a TAXII 2.1 collection from many clients at once for a while:
    /// paged GETs following `next`, or POSTs of fresh envelopes; prints
    /// requests per second, p50 and p99 latency and errors as JSON.
    TaxiiDrive {
        /// The API root, e.g. http://127.0.0.1:8080/taxii2/api/.
        #[arg(long)]
        api_root: String,
        #[arg(long)]
        collection: String,
        /// Bearer token; or --username and --password for Basic.
        #[arg(long)]
        token: Option<String>,
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        password: Option<String>,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// POST envelopes of this many new objects instead of paging.
        #[arg(long)]
        post: Option<usize>,
        /// Objects per page.
        #[arg(long, default_value_t = 100)]
        page: usize,
        /// Give up on one request after this many seconds (counted as an error).
        #[arg(long, default_value_t = 30.0)]
        timeout: f64,
    },
    /// Make a drill load-test exercise in the database: TEAMS teams of
    /// PLAYERS players and five dynamically scored challenges, started;
    /// prints the exercise and the players as JSON for `drill-drive`.
    DrillLoad {
        #[arg(long, default_value_t = 200)]
        teams: usize,
        #[arg(long, default_value_t = 5)]
        players: usize,
    },
    /// Drive a running server (loopback only): sign every player in, hold a
    /// scoreboard event stream open for each, submit flags at RATE per
    /// second for SECONDS, then check the scoreboard against what players
    /// were told; prints latency, errors and problems as JSON.
    DrillDrive {
        /// The server, e.g. 127.0.0.1:8080.
        #[arg(long)]
        server: std::net::SocketAddr,
        /// The JSON file `drill-load` printed.
        #[arg(long)]
        load: PathBuf,
        #[arg(long, default_value_t = 500)]
        rate: usize,
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
        /// Every N-th submission carries the right flag (the rest are wrong).
        #[arg(long, default_value_t = 10)]
        correct_every: usize,
    },
    /// Parse and check a STIX bundle REPEAT times on one thread; prints objects per second.
    StixValidate {
        file: std::path::PathBuf,
        #[arg(long, default_value_t = 1)]
        repeat: usize,
    },
    /// Multi-index against a linear scan on random hashes with planted near matches.
    Index {
        #[arg(long, default_value_t = 1_000_000)]
        size: usize,
        #[arg(long, default_value_t = 10_000)]
        queries: usize,
        #[arg(long, default_value_t = 31)]
        radius: u32,
    },
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Seed and serve the demo world (creates the database if missing).
    #[arg(long)]
    pub demo: bool,
    /// Create the SQLite database file if it does not exist.
    #[arg(long)]
    pub create: bool,
    /// Address to listen on, e.g. 127.0.0.1:8080 (overrides the config).
    #[arg(long)]
    pub bind: Option<String>,
}

#[derive(Args, Debug)]
pub struct CreateArg {
    /// Create the SQLite database file if it does not exist.
    #[arg(long)]
    pub create: bool,
}

#[derive(Args, Debug)]
pub struct JsonArg {
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user. The password comes from --password or RAMPART_NEW_PASSWORD;
    /// without either a random one is generated and printed once.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Organisation id or exact name.
        #[arg(long)]
        org: String,
        #[arg(long, env = "RAMPART_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[arg(long, default_value = "en")]
        language: String,
        /// Roles to grant in the user's organisation (repeatable); use `user grant` for other scopes.
        #[arg(long = "role")]
        roles: Vec<String>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// List users.
    List {
        /// Only this organisation (id or exact name).
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Disable a user and end their sessions.
    Disable { email: String },
    /// Enable a disabled user.
    Enable { email: String },
    /// Set a new password (the user must change it at next sign-in).
    ResetPassword {
        email: String,
        #[arg(long, env = "RAMPART_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Create an API token for a user (for TAXII clients, peers and scripts); it is printed once.
    Token {
        email: String,
        #[arg(long)]
        name: String,
        /// Roles the token carries, among the user's own (repeatable).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Days until it expires (1 to 366); without it, it does not expire.
        #[arg(long)]
        days: Option<u32>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Grant a role.
    Grant(GrantArgs),
    /// Revoke a role.
    Revoke(GrantArgs),
}

#[derive(Args, Debug)]
pub struct GrantArgs {
    pub email: String,
    pub role: String,
    /// Scope: an organisation (id or exact name); the user's own by default.
    #[arg(long, conflicts_with_all = ["country", "global"])]
    pub org: Option<String>,
    /// Scope: a country (ISO alpha-2).
    #[arg(long, conflicts_with = "global")]
    pub country: Option<String>,
    /// Scope: platform-wide.
    #[arg(long)]
    pub global: bool,
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organisation.
    Create {
        #[arg(long)]
        name: String,
        /// national_cirt, sector_cirt, ministry, regulator, isp, critical_infrastructure, academia, hotline, law_enforcement, international, other
        #[arg(long)]
        kind: String,
        /// ISO 3166-1 code; omit only for international organisations.
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        sector: Option<String>,
        /// Parent organisation (id or exact name), e.g. the national CIRT of a constituent.
        #[arg(long)]
        parent: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// List organisations.
    List {
        #[arg(long)]
        country: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum CountryCommand {
    /// List ITU member states.
    List {
        /// africa, americas, arab_states, asia_pacific, cis or europe
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Walk the hash chain; exit 0 if untouched, 5 naming the first bad entry otherwise.
    Verify {
        #[command(flatten)]
        json: JsonArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum CirtCommand {
    /// Open incidents from IODEF v2 documents (RFC 7970), one per Incident.
    IodefImport {
        /// The CIRT that owns them (id or exact name).
        #[arg(long)]
        cirt: String,
        /// The acting user (e-mail), who may write the CIRT's incidents.
        #[arg(long = "as")]
        acting: String,
        files: Vec<PathBuf>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Print an incident as an IODEF v2 document, as the acting user may see it.
    IodefExport {
        #[arg(long = "as")]
        acting: String,
        /// The incident's id.
        incident: String,
        /// How peers reach this Rampart (the IncidentID's issuer); server.public_url by default.
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Take e-mailed incident reports (RFC 5322 files, or a maildir's new/
    /// messages, which move to cur/ once taken). X-ARF reports are recognised.
    IngestMail {
        /// The receiving CIRT (id or exact name).
        #[arg(long)]
        cirt: String,
        /// A maildir to take new messages from.
        #[arg(long)]
        maildir: Option<PathBuf>,
        /// Keep watching the maildir, checking every N seconds.
        #[arg(long, requires = "maildir")]
        watch: Option<u64>,
        /// Message files to take.
        files: Vec<PathBuf>,
        #[command(flatten)]
        json: JsonArg,
    },
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Where to write the copy (must not exist).
    pub target: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Validate the configuration and print the values in force.
    Check {
        #[command(flatten)]
        json: JsonArg,
    },
}

/// See the dependency's note in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
