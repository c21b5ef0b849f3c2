//! What each subcommand does.

use crate::config::{Config, ConfigError, LogFormat, RawConfig};
use crate::error::CliError;
use crate::{
    AuditCommand, BenchCommand, CirtCommand, Cli, Command, ConfigCommand, CopCommand, CountryCommand, FeedsCommand, GciCommand, GrantArgs,
    OrgCommand, ServeArgs, UserCommand, demo,
};
use rampart_auth::service::{Actor, NewUserRequest};
use rampart_auth::{AuthConfig, AuthService, Principal, Scope};
use rampart_core::country::{self, ItuRegion};
use rampart_core::{Clock, Role, SystemClock};
use rampart_store::orgs::OrgFilter;
use rampart_store::users::UserFilter;
use rampart_store::{Location, NewOrg, OpenMode, PageRequest, Store};
use serde_json::json;
use std::sync::Arc;

fn load_config(cli: &Cli) -> Result<Config, CliError> {
    let mut raw = match &cli.config {
        Some(path) => RawConfig::from_file(path)?,
        None => RawConfig::default(),
    };
    raw.apply_env(|key| std::env::var(key).ok())?;
    if let Some(database) = &cli.database {
        raw.database.url = Some(database.clone());
    }
    if let Some(format) = &cli.log_format {
        raw.log.format = Some(format.clone());
    }
    if let Command::Serve(ServeArgs { bind: Some(bind), .. }) = &cli.command {
        raw.server.bind = Some(bind.clone());
    }
    Ok(raw.validate()?)
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{},sqlx=warn", config.log_level)));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn open_store(config: &Config, mode: OpenMode) -> Result<Store, CliError> {
    let store = Store::open(&config.database, mode).await?;
    Ok(store)
}

fn auth_service(store: Store, config: &Config, demo_mode: bool) -> AuthService {
    let auth_config = AuthConfig {
        max_failed_logins: config.max_failed_logins,
        lockout: chrono::Duration::minutes(config.lockout_minutes),
        session_idle: chrono::Duration::minutes(config.session_idle_minutes),
        session_absolute: chrono::Duration::hours(config.session_absolute_hours),
        demo_mode,
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    AuthService::new(store, clock, auth_config)
}

/// Opens the database and brings its schema up to date, as every command
/// that touches data needs.
async fn ready_store(config: &Config, mode: OpenMode) -> Result<Store, CliError> {
    let store = open_store(config, mode).await?;
    store.migrate().await?;
    Ok(store)
}

fn operator() -> Principal {
    let who = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    Principal::cli(&who)
}

pub(crate) fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let config = load_config(&cli)?;
    init_logging(&config);
    match cli.command {
        Command::Serve(args) => serve(&config, &args).await,
        Command::Migrate(args) => {
            let store = open_store(&config, if args.create { OpenMode::Create } else { OpenMode::ExistingOnly }).await?;
            let applied = store.migrate().await?;
            println!("{applied} migration(s) applied to {}", config.database.redacted());
            Ok(())
        }
        Command::User(command) => user(&config, command).await,
        Command::Org(command) => org(&config, command).await,
        Command::Country(CountryCommand::List { region, json }) => {
            let region = region.map(|r| ItuRegion::parse(&r).map_err(|e| CliError::Invalid(e.to_string()))).transpose()?;
            let list: Vec<_> = country::all().iter().filter(|c| region.is_none_or(|r| c.region == r)).collect();
            if json.json {
                print_json(&json!(list));
            } else {
                for c in &list {
                    println!("{}  {}  {}  {:<14} {}", c.alpha2, c.alpha3, c.numeric, c.region.as_str(), c.name);
                }
                println!("{} countries", list.len());
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { json }) => {
            // Verification only reads: it must not migrate (and so change) a
            // backup or an old database it is asked to check.
            let store = open_store(&config, OpenMode::ExistingOnly).await?;
            let report = store.audit_verify().await?;
            if json.json {
                print_json(&json!(report));
            }
            match report.problem {
                None => {
                    if !json.json {
                        println!("OK: {} entries, head {}", report.entries, report.head_hash);
                    }
                    Ok(())
                }
                Some(problem) => Err(CliError::AuditBroken(problem.to_string())),
            }
        }
        Command::Cirt(CirtCommand::IodefImport { cirt, acting, files, json }) => {
            let store = ready_store(&config, OpenMode::ExistingOnly).await?;
            let auth = auth_service(store.clone(), &config, false);
            let user = find_user(&store, &acting).await?;
            let principal = auth.principal_for(&user, rampart_auth::Via::Cli, None).await?;
            let cirt_org = find_org(&store, &cirt).await?;
            let desk = rampart_cirt::Desk::new(store.clone(), auth.clock());
            let mut all = Vec::new();
            for file in &files {
                let xml = std::fs::read_to_string(file).map_err(|err| CliError::Invalid(format!("{}: {err}", file.display())))?;
                let created = desk
                    .import_iodef(&Actor { principal: &principal, ip: None }, &cirt_org.id, &xml)
                    .await
                    .map_err(|err| CliError::Invalid(format!("{}: {err}", file.display())))?;
                for incident in &created {
                    if !json.json {
                        println!("{}  {}  {}", incident.reference, incident.id, incident.title);
                    }
                }
                all.extend(created);
            }
            if json.json {
                print_json(&json!(all));
            }
            Ok(())
        }
        Command::Cirt(CirtCommand::IodefExport { acting, incident, public_url }) => {
            let store = ready_store(&config, OpenMode::ExistingOnly).await?;
            let auth = auth_service(store.clone(), &config, false);
            let user = find_user(&store, &acting).await?;
            let principal = auth.principal_for(&user, rampart_auth::Via::Cli, None).await?;
            let url = public_url.or_else(|| config.public_url.clone()).unwrap_or_default();
            let desk = rampart_cirt::Desk::new(store.clone(), auth.clock()).with_public_url(&url);
            let xml = desk.export_iodef(&principal, &incident).await.map_err(|err| CliError::NotFound(err.to_string()))?;
            print!("{xml}");
            Ok(())
        }
        Command::Cirt(CirtCommand::IngestMail { cirt, maildir, watch, files, json }) => {
            ingest_mail(&config, &cirt, maildir.as_deref(), watch, &files, json.json).await
        }
        Command::Bench(BenchCommand::TaxiiLoad { objects }) => {
            let store = ready_store(&config, OpenMode::Create).await?;
            let auth = auth_service(store, &config, false);
            crate::bench::taxii_load(&auth, objects).await
        }
        Command::Bench(BenchCommand::TaxiiDrive {
            api_root,
            collection,
            token,
            username,
            password,
            concurrency,
            seconds,
            post,
            page,
            timeout,
        }) => {
            let credentials = match (token, username, password) {
                (Some(token), _, _) => rampart_intel::client::Credentials::Bearer(token),
                (None, Some(username), Some(password)) => rampart_intel::client::Credentials::Basic { username, password },
                _ => rampart_intel::client::Credentials::None,
            };
            let drive = crate::bench::Drive { api_root, collection, credentials, concurrency, seconds, post, page, timeout };
            crate::bench::taxii_drive(&drive).await
        }
        Command::Bench(BenchCommand::DrillLoad { teams, players }) => {
            let store = ready_store(&config, OpenMode::Create).await?;
            let auth = auth_service(store, &config, false);
            crate::drill_bench::drill_load(&auth, teams, players).await
        }
        Command::Bench(BenchCommand::DrillDrive { server, load, rate, seconds, correct_every }) => {
            let text = std::fs::read_to_string(&load).map_err(|err| CliError::Invalid(format!("{}: {err}", load.display())))?;
            let load = serde_json::from_str(&text).map_err(|err| CliError::Invalid(format!("{}: {err}", load.display())))?;
            crate::drill_bench::drill_drive(&crate::drill_bench::DrillDrive { base: server, load, rate, seconds, correct_every }).await
        }
        Command::Bench(BenchCommand::StixValidate { file, repeat }) => crate::bench::stix_validate(&file, repeat),
        Command::Bench(BenchCommand::Pdq { images, repeat, decode_only, exact }) => {
            crate::bench::pdq_throughput(&images, repeat, decode_only, exact)
        }
        Command::Bench(BenchCommand::Index { size, queries, radius }) => crate::bench::index(size, queries, radius),
        Command::Bench(BenchCommand::Gci { edition, countries, draws, data }) => crate::bench::gci(&edition, countries, draws, data),
        Command::Cop(CopCommand::Match { list, stored, hashes, radius, images }) => {
            let entries = match (list, stored) {
                (Some(path), _) => crate::cop::load_list(&path)?,
                (None, Some(name)) => {
                    let store = open_store(&config, OpenMode::ExistingOnly).await?;
                    crate::cop::load_stored(&store, &name).await?
                }
                (None, None) => return Err(CliError::Invalid("give --list FILE or --stored NAME".into())),
            };
            crate::cop::match_command(entries, &images, hashes.as_deref(), radius)
        }
        Command::Feeds(FeedsCommand::Check { file }) => crate::feeds::check(&file),
        Command::Feeds(FeedsCommand::Run { pipeline, journal, once, interval }) => {
            let store = ready_store(&config, OpenMode::Create).await?;
            crate::feeds::run_folders(store, &config, &pipeline, journal, once, interval).await
        }
        Command::Bench(BenchCommand::FeedLpm { prefixes, lookups }) => crate::bench::feed_lpm(prefixes, lookups),
        Command::Bench(BenchCommand::FeedRegistry { orgs, networks }) => {
            let store = ready_store(&config, OpenMode::Create).await?;
            crate::feeds::bench_registry(&store, orgs, networks).await
        }
        Command::Feeds(FeedsCommand::Queue { pipeline, limit, json }) => crate::feeds::queue(&pipeline, limit, json).await,
        Command::Worker { stage, pipeline } => {
            let store = ready_store(&config, OpenMode::Create).await?;
            crate::feeds::worker(store, &config, &stage, &pipeline).await
        }
        Command::Ingest { file, feed, pipeline, journal, report, geoip_city, geoip_asn, cirt, json, quiet, wait } => {
            let store = ready_store(&config, OpenMode::Create).await?;
            let args = crate::feeds::IngestArgs { file, feed, pipeline, journal, report, geoip_city, geoip_asn, cirt, json, quiet, wait };
            crate::feeds::ingest(store, &config, args).await
        }
        Command::Drill(command) => {
            let store = ready_store(&config, OpenMode::ExistingOnly).await?;
            let auth = auth_service(store, &config, false);
            crate::drills::run(&auth, command).await
        }
        Command::Intel(command) => {
            let store = ready_store(&config, OpenMode::ExistingOnly).await?;
            let auth = auth_service(store, &config, false);
            crate::intel::run(&auth, &config, command).await
        }
        Command::Gci(GciCommand::Remind { as_of, json }) => {
            let smtp = config
                .smtp
                .as_ref()
                .ok_or_else(|| CliError::Invalid("smtp.host: reminders need an SMTP server ([smtp] in the configuration)".into()))?;
            let mailer = rampart_cirt::notify::SmtpMailer::new(&smtp.host, smtp.port, smtp.tls, smtp.credentials.clone())
                .map_err(|err| CliError::Invalid(format!("smtp.host: {err}")))?;
            let store = ready_store(&config, OpenMode::ExistingOnly).await?;
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let now = match as_of {
                Some(day) => day.and_hms_opt(12, 0, 0).map(|t| t.and_utc()).unwrap_or_else(|| clock.now()),
                None => clock.now(),
            };
            let gci = rampart_gci::campaigns::Gci::new(store.clone(), clock);
            let base = config.public_url.clone().unwrap_or_else(|| "http://localhost:8080".into());
            let sent = crate::gci::send_reminders(&gci, &mailer, &smtp.from, &base, now).await?;
            if json.json {
                print_json(&json!(sent));
            } else {
                for (campaign, country, stage, recipients) in &sent.reminders {
                    let stage = if *stage == 0 { "overdue".to_owned() } else { format!("{stage} day(s) before") };
                    println!("{campaign}: {country} reminded ({stage}, {recipients} recipient(s))");
                }
                for (campaign, country, error) in &sent.failed {
                    println!("{campaign}: {country} NOT reminded: {error}");
                }
                println!("{} reminder(s) sent, {} failed", sent.reminders.len(), sent.failed.len());
            }
            if sent.failed.is_empty() {
                Ok(())
            } else {
                Err(CliError::Other(format!("{} reminder(s) could not be sent", sent.failed.len())))
            }
        }
        Command::Cop(CopCommand::Purge { json }) => {
            let store = ready_store(&config, OpenMode::ExistingOnly).await?;
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let settings = rampart_cop::hotline::HotlineSettings { retention_days: config.cop_retention_days, ..Default::default() };
            let purged =
                rampart_cop::hotline::Hotline::new(store, clock, settings).purge().await.map_err(|err| CliError::Other(err.to_string()))?;
            if json.json {
                print_json(&json!({"purged": purged, "retention_days": config.cop_retention_days}));
            } else {
                println!("{purged} report(s) purged of personal data (retention {} days)", config.cop_retention_days);
            }
            Ok(())
        }
        Command::Openapi => {
            print_json(&rampart_web::api::openapi_document());
            Ok(())
        }
        Command::Backup(args) => {
            match &config.database {
                Location::Postgres(_) => {
                    println!(
                        "PostgreSQL is backed up with its own tools, for example:\n  pg_dump --format=custom --file={} '{}'\n\
                         (the password is hidden here; give it to pg_dump through PGPASSWORD or ~/.pgpass)",
                        args.target.display(),
                        config.database.redacted()
                    );
                }
                Location::Sqlite(_) => {
                    let store = open_store(&config, OpenMode::ExistingOnly).await?;
                    store.backup_sqlite(&args.target).await?;
                    println!("backed up to {}", args.target.display());
                }
            }
            Ok(())
        }
        Command::Config(ConfigCommand::Check { json }) => {
            let summary = json!({
                "database": config.database.redacted(),
                "bind": config.bind.to_string(),
                "tls": config.tls.is_some(),
                "trust_proxy": config.trust_proxy,
                "secure_cookies": config.secure_cookies,
                "auth": {
                    "max_failed_logins": config.max_failed_logins,
                    "lockout_minutes": config.lockout_minutes,
                    "session_idle_minutes": config.session_idle_minutes,
                    "session_absolute_hours": config.session_absolute_hours,
                    "login_attempts_per_minute": config.login_attempts_per_minute,
                },
                "log": {"format": format!("{:?}", config.log_format).to_lowercase(), "level": config.log_level},
                "smtp": config.smtp.as_ref().map(|s| json!({"host": s.host, "port": s.port, "from": s.from, "tls": format!("{:?}", s.tls).to_lowercase(), "authenticated": s.credentials.is_some()})),
            });
            if json.json {
                print_json(&summary);
            } else {
                println!("configuration OK");
                print_json(&summary);
            }
            Ok(())
        }
    }
}

async fn serve(config: &Config, args: &ServeArgs) -> Result<(), CliError> {
    let mode = if args.demo || args.create { OpenMode::Create } else { OpenMode::ExistingOnly };
    let store = ready_store(config, mode).await?;
    let auth = auth_service(store.clone(), config, args.demo);
    let signer = match &config.csaf_signing_key {
        Some((path, passphrase)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|err| ConfigError { key: "csaf.signing_key".into(), message: format!("{}: {err}", path.display()) })?;
            let signer = rampart_cirt::signing::Signer::from_armored(&text, passphrase.as_deref())
                .map_err(|err| ConfigError { key: "csaf.signing_key".into(), message: err.to_string() })?;
            Some(Arc::new(signer))
        }
        None if args.demo => Some(Arc::new(demo::signing_key(&config.database)?)),
        None => None,
    };
    if args.demo && demo::seed(&auth, signer.clone()).await? {
        tracing::info!("demo world seeded");
    }
    rampart_web::install_metrics_recorder();
    let mut intake = match &config.feeds_pipeline {
        Some(path) => {
            let pipeline = crate::feeds::load_pipeline(path)?;
            Some(Arc::new(crate::feeds::open_intake(store.clone(), config, pipeline, None).await?))
        }
        None => None,
    };
    if args.demo {
        let (summary, pipeline) = demo::run_demo_feed(&store, &crate::feeds::default_journal(config)).await?;
        if intake.is_none() {
            intake = Some(Arc::new(rampart_feeds::intake::Intake::embedded(Arc::new(pipeline))));
        }
        let c = summary.counts;
        tracing::info!(
            read = c.read,
            stored = c.stored,
            duplicates = c.duplicates,
            quarantined = c.quarantined,
            incidents = c.incidents,
            "demo feed ingested"
        );
    }
    let tls = config.tls.as_ref().map(rampart_web::server::load_tls).transpose().map_err(|err| CliError::Invalid(err.to_string()))?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|err| CliError::Other(format!("cannot listen on {}: {err}", config.bind)))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let address = listener.local_addr().map_err(|err| CliError::Other(err.to_string()))?;
    let web_config = rampart_web::WebConfig {
        secure_cookies: config.secure_cookies,
        hsts: tls.is_some(),
        trust_proxy: config.trust_proxy,
        demo: args.demo,
        login_attempts_per_minute: config.login_attempts_per_minute,
        demo_accounts: if args.demo { demo::accounts() } else { Vec::new() },
        public_url: Some(config.public_url.clone().unwrap_or_else(|| format!("{scheme}://{address}"))),
        signer,
        hotline: hotline_settings(config)?,
        taxii_requests_per_minute: config.taxii_requests_per_minute,
        wrong_flags_per_minute: config.wrong_flags_per_minute,
    };
    println!("Rampart is serving at {scheme}://{address}/  (database: {})", config.database.redacted());
    if args.demo {
        println!(
            "Demo mode: sign in as admin@{} with password {} (every demo account is listed on the sign-in page).",
            rampart_auth::service::DEMO_DOMAIN,
            demo::DEMO_PASSWORD
        );
    }
    spawn_session_purge(auth.clone(), config);
    if !config.peers.is_empty() {
        crate::intel::spawn_federation(auth.clone(), config.peers.clone());
        println!("Exchanging threat intelligence with {} TAXII peer(s)", config.peers.len());
    }
    let mut state = rampart_web::AppState::new(auth.clone(), web_config);
    if let Some(intake) = intake {
        if let Some(interval) = intake.sweep_interval() {
            spawn_feed_collectors(intake.clone(), interval);
        }
        println!("Feed pipeline: {} feed(s); rows may be pushed to /api/v1/feeds/{{feed}}/events", intake.config().feeds.len());
        state = state.with_feed_intake(intake);
    }
    spawn_hotline_purge(state.clone());
    spawn_drill_clock(state.drills().clone());
    match &config.smtp {
        Some(smtp) => {
            let mailer = rampart_cirt::notify::SmtpMailer::new(&smtp.host, smtp.port, smtp.tls, smtp.credentials.clone())
                .map_err(|err| CliError::Invalid(format!("smtp.host: {err}")))?;
            let notifier = rampart_cirt::notify::Notifier::new(store.clone(), auth.clock(), std::sync::Arc::new(mailer), &smtp.from)
                .map_err(|err| CliError::Invalid(err.to_string()))?;
            let notifier = std::sync::Arc::new(notifier);
            spawn_notice_sender(notifier.clone());
            let reminders = rampart_cirt::notify::SmtpMailer::new(&smtp.host, smtp.port, smtp.tls, smtp.credentials.clone())
                .map_err(|err| CliError::Invalid(format!("smtp.host: {err}")))?;
            let base = config.public_url.clone().unwrap_or_else(|| format!("{scheme}://{address}"));
            spawn_gci_reminders(
                rampart_gci::campaigns::Gci::new(store.clone(), auth.clock()),
                reminders,
                smtp.from.clone(),
                base,
                auth.clock(),
            );
            state = state.with_notifier(notifier);
            println!("Notices to constituents are sent through {}:{}", smtp.host, smtp.port);
        }
        None => println!("No SMTP server configured: notices to constituents stay queued (see [smtp] in the README)."),
    }
    // Stop cleanly on Ctrl-C and on SIGTERM (what service managers send).
    let shutdown = async {
        let interrupt = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
            tokio::select! {
                _ = interrupt => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = interrupt.await;
        }
    };
    rampart_web::serve(state, listener, tls, shutdown).await.map_err(|err| CliError::Other(err.to_string()))?;
    store.close().await;
    Ok(())
}

/// Runs the feed pipeline's folder collectors every `interval` seconds.
fn spawn_feed_collectors(intake: Arc<rampart_feeds::intake::Intake>, interval: u64) {
    tokio::spawn(async move {
        loop {
            match intake.sweep().await {
                Ok(lines) => {
                    for line in lines {
                        tracing::info!("feed collector: {line}");
                    }
                }
                Err(err) => tracing::warn!("feed collector: {err}"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(interval.max(1))).await;
        }
    });
}

/// Sends due GCI deadline reminders every hour.
fn spawn_gci_reminders(
    gci: rampart_gci::campaigns::Gci,
    mailer: rampart_cirt::notify::SmtpMailer,
    from: String,
    base: String,
    clock: Arc<dyn Clock>,
) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            interval.tick().await;
            match crate::gci::send_reminders(&gci, &mailer, &from, &base, clock.now()).await {
                Ok(sent) if !sent.reminders.is_empty() || !sent.failed.is_empty() => {
                    tracing::info!(sent = sent.reminders.len(), failed = sent.failed.len(), "GCI reminders");
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "sending GCI reminders failed"),
            }
        }
    });
}

/// Sends due notices every thirty seconds (batched notices fall due later
/// than they are queued).
fn spawn_notice_sender(notifier: std::sync::Arc<rampart_cirt::notify::Notifier>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            interval.tick().await;
            match notifier.flush().await {
                Ok(report) if report.mails_sent + report.notices_failed + report.notices_retrying > 0 => {
                    tracing::info!(
                        mails = report.mails_sent,
                        retrying = report.notices_retrying,
                        failed = report.notices_failed,
                        "notices sent"
                    );
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "sending notices failed"),
            }
        }
    });
}

/// The hotline's retention period and geolocation databases, opened and
/// checked now so a corrupt file stops start-up with its name.
fn hotline_settings(config: &Config) -> Result<rampart_cop::hotline::HotlineSettings, CliError> {
    let tracer = rampart_cop::trace::Tracer::open(config.geoip_country.as_deref(), config.geoip_asn.as_deref())
        .map_err(|err| ConfigError { key: "cop.geoip".into(), message: err.to_string() })?;
    Ok(rampart_cop::hotline::HotlineSettings { retention_days: config.cop_retention_days, tracer: Arc::new(tracer) })
}

/// Delivers the injects that fall due in running exercises, every second:
/// at 10× speed a second is ten seconds of exercise time.
fn spawn_drill_clock(drills: std::sync::Arc<rampart_drills::Drills>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(1));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(err) = drills.tick().await {
                tracing::warn!(error = %err, "delivering drill injects failed");
            }
        }
    });
}

/// Reporters' personal data past the retention period is purged every ten
/// minutes.
fn spawn_hotline_purge(state: rampart_web::AppState) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            interval.tick().await;
            match state.hotline().purge().await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(reports = purged, "hotline personal data purged"),
                Err(err) => tracing::warn!(error = %err, "hotline purge failed"),
            }
        }
    });
}

/// Expired sessions are removed every ten minutes; expiry itself is checked
/// on every request, so this only keeps the table small.
fn spawn_session_purge(auth: AuthService, config: &Config) {
    let idle = chrono::Duration::minutes(config.session_idle_minutes);
    let absolute = chrono::Duration::hours(config.session_absolute_hours);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            interval.tick().await;
            let now = auth.now();
            if let Err(err) = auth.store().sessions_purge(now - idle, now - absolute).await {
                tracing::warn!(error = %err, "session purge failed");
            }
        }
    });
}

/// Takes each message; returns how many were taken and the failures.
async fn ingest_mail(
    config: &Config,
    cirt: &str,
    maildir: Option<&std::path::Path>,
    watch: Option<u64>,
    files: &[std::path::PathBuf],
    json_output: bool,
) -> Result<(), CliError> {
    if maildir.is_none() && files.is_empty() {
        return Err(CliError::Invalid("give message files or --maildir".into()));
    }
    let store = ready_store(config, OpenMode::ExistingOnly).await?;
    let cirt_org = find_org(&store, cirt).await?;
    let auth = auth_service(store.clone(), config, false);
    let desk = rampart_cirt::Desk::new(store.clone(), auth.clock());
    let mut taken = Vec::new();
    let mut failed = Vec::new();
    let take = async |path: &std::path::Path, taken: &mut Vec<serde_json::Value>, failed: &mut Vec<serde_json::Value>| -> bool {
        let raw = match std::fs::read(path) {
            Ok(raw) => raw,
            Err(err) => {
                failed.push(json!({"file": path.display().to_string(), "error": err.to_string()}));
                return false;
            }
        };
        match desk.receive_email(&cirt_org.id, &raw).await {
            Ok(report) => {
                taken.push(json!({"file": path.display().to_string(), "reference": report.reference}));
                true
            }
            Err(err) => {
                failed.push(json!({"file": path.display().to_string(), "error": err.to_string()}));
                false
            }
        }
    };
    for file in files {
        take(file, &mut taken, &mut failed).await;
    }
    loop {
        if let Some(dir) = maildir {
            let new = dir.join("new");
            let cur = dir.join("cur");
            let mut entries: Vec<_> = std::fs::read_dir(&new)
                .map_err(|err| CliError::Invalid(format!("maildir: {}: {err}", new.display())))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            for path in entries {
                if take(&path, &mut taken, &mut failed).await {
                    // Taken: mark it seen in cur/, as mail readers expect.
                    if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                        let _ = std::fs::create_dir_all(&cur);
                        let _ = std::fs::rename(&path, cur.join(format!("{name}:2,S")));
                    }
                }
            }
        }
        if !json_output {
            for item in taken.drain(..) {
                println!("{} -> {}", item["file"].as_str().unwrap_or(""), item["reference"].as_str().unwrap_or(""));
            }
            for item in &failed {
                eprintln!("{}: {}", item["file"].as_str().unwrap_or(""), item["error"].as_str().unwrap_or(""));
            }
        }
        match watch {
            Some(seconds) => {
                if !json_output {
                    failed.clear();
                }
                tokio::time::sleep(std::time::Duration::from_secs(seconds.max(1))).await;
            }
            None => break,
        }
    }
    if json_output {
        print_json(&json!({"taken": taken, "failed": failed}));
    }
    if failed.is_empty() { Ok(()) } else { Err(CliError::Invalid(format!("{} message(s) could not be taken", failed.len()))) }
}

pub(crate) async fn find_org(store: &Store, id_or_name: &str) -> Result<rampart_store::Organisation, CliError> {
    if let Ok(org) = store.org_get(id_or_name).await {
        return Ok(org);
    }
    store.org_by_name(id_or_name).await?.ok_or_else(|| CliError::NotFound(format!("no organisation with id or name `{id_or_name}`")))
}

pub(crate) async fn find_user(store: &Store, email: &str) -> Result<rampart_store::UserRow, CliError> {
    store.user_by_email(email).await?.ok_or_else(|| CliError::NotFound(format!("no user with e-mail `{email}`")))
}

fn parse_role(text: &str) -> Result<Role, CliError> {
    text.parse::<Role>().map_err(|_| {
        let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        CliError::Invalid(format!("role: unknown `{text}`; known roles: {}", known.join(", ")))
    })
}

fn new_password_or_generated(given: Option<String>) -> Result<(String, bool), CliError> {
    match given {
        Some(password) => Ok((password, false)),
        None => {
            let generated = rampart_auth::secret::random_token().map_err(|e| CliError::Other(e.to_string()))?;
            Ok((generated.chars().take(20).collect(), true))
        }
    }
}

async fn scope_of(store: &Store, user: &rampart_store::UserRow, args: &GrantArgs) -> Result<Scope, CliError> {
    Ok(if args.global {
        Scope::Global
    } else if let Some(cc) = &args.country {
        Scope::Country(cc.trim().to_ascii_uppercase())
    } else if let Some(org) = &args.org {
        Scope::Org(find_org(store, org).await?.id)
    } else if parse_role(&args.role)?.is_global_only() {
        Scope::Global
    } else {
        Scope::Org(user.org_id.clone())
    })
}

async fn user(config: &Config, command: UserCommand) -> Result<(), CliError> {
    let store = ready_store(config, OpenMode::ExistingOnly).await?;
    let auth = auth_service(store.clone(), config, false);
    let principal = operator();
    let actor = Actor { principal: &principal, ip: None };
    match command {
        UserCommand::Create { email, name, org, password, language, roles, json } => {
            let org = find_org(&store, &org).await?;
            let roles = roles.iter().map(|r| parse_role(r)).collect::<Result<Vec<_>, _>>()?;
            let (password, generated) = new_password_or_generated(password)?;
            let request = NewUserRequest {
                org_id: org.id.clone(),
                email,
                display_name: name,
                password: password.clone(),
                language,
                must_change_password: generated,
            };
            let id = auth.create_user(&actor, &request).await?;
            for role in &roles {
                let scope = if role.is_global_only() { Scope::Global } else { Scope::Org(org.id.clone()) };
                auth.grant_role(&actor, &id, *role, scope).await?;
            }
            if json.json {
                print_json(&json!({"id": id, "generated_password": generated.then_some(password)}));
            } else {
                println!("created user {id}");
                if generated {
                    println!("initial password (shown once; must be changed at first sign-in): {password}");
                }
            }
        }
        UserCommand::List { org, json } => {
            let org_id = match org {
                Some(org) => Some(find_org(&store, &org).await?.id),
                None => None,
            };
            let filter = UserFilter { org_id, email_contains: None };
            let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
            let mut rows = Vec::new();
            loop {
                let result = store.user_list(&filter, &page).await?;
                for user in result.items {
                    let roles: Vec<String> = store.grants_of(&user.id).await?.into_iter().map(|g| g.role).collect();
                    rows.push(json!({"id": user.id, "email": user.email, "display_name": user.display_name, "org_id": user.org_id,
                        "disabled": user.disabled, "totp_enabled": user.totp_enabled, "roles": roles}));
                }
                match result.next_cursor {
                    Some(cursor) => page = PageRequest::with_cursor(PageRequest::MAX_LIMIT, Some(&cursor)).unwrap_or_default(),
                    None => break,
                }
            }
            if json.json {
                print_json(&json!(rows));
            } else {
                for row in &rows {
                    let disabled = if row["disabled"].as_bool().unwrap_or(false) { " (disabled)" } else { "" };
                    println!(
                        "{:<40} {:<28} {}{disabled}",
                        row["email"].as_str().unwrap_or(""),
                        row["display_name"].as_str().unwrap_or(""),
                        row["roles"]
                            .as_array()
                            .map(|r| r.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(","))
                            .unwrap_or_default()
                    );
                }
                println!("{} users", rows.len());
            }
        }
        UserCommand::Disable { email } => {
            let user = find_user(&store, &email).await?;
            auth.set_disabled(&actor, &user.id, true).await?;
            println!("disabled {email}");
        }
        UserCommand::Enable { email } => {
            let user = find_user(&store, &email).await?;
            auth.set_disabled(&actor, &user.id, false).await?;
            println!("enabled {email}");
        }
        UserCommand::ResetPassword { email, password } => {
            let user = find_user(&store, &email).await?;
            let (password, generated) = new_password_or_generated(password)?;
            auth.reset_password(&actor, &user.id, &password, true).await?;
            if generated {
                println!("new password for {email} (shown once; must be changed at next sign-in): {password}");
            } else {
                println!("password reset for {email}; it must be changed at next sign-in");
            }
        }
        UserCommand::Token { email, name, roles, days, json } => {
            let user = find_user(&store, &email).await?;
            let roles = roles.iter().map(|r| parse_role(r)).collect::<Result<Vec<_>, _>>()?;
            // The token is the user's own: it is made as them, from the command line.
            let owner = auth.principal_for(&user, rampart_auth::Via::Cli, None).await?;
            let (token, row) = auth.create_token(&Actor { principal: &owner, ip: None }, &name, &roles, days).await?;
            if json.json {
                print_json(&json!({"token": token, "id": row.id, "expires_at": row.expires_at}));
            } else {
                println!("{token}");
                eprintln!("API token {} for {email}; it is shown only now", row.id);
            }
        }
        UserCommand::Grant(args) => {
            let user = find_user(&store, &args.email).await?;
            let role = parse_role(&args.role)?;
            let scope = scope_of(&store, &user, &args).await?;
            auth.grant_role(&actor, &user.id, role, scope).await?;
            println!("granted {role} to {}", args.email);
        }
        UserCommand::Revoke(args) => {
            let user = find_user(&store, &args.email).await?;
            let role = parse_role(&args.role)?;
            let scope = scope_of(&store, &user, &args).await?;
            let (want_org, want_country) = match &scope {
                Scope::Global => (None, None),
                Scope::Org(id) => (Some(id.clone()), None),
                Scope::Country(cc) => (None, Some(cc.clone())),
            };
            let grant = store
                .grants_of(&user.id)
                .await?
                .into_iter()
                .find(|g| g.role == role.as_str() && g.scope_org_id == want_org && g.scope_country == want_country)
                .ok_or_else(|| CliError::NotFound(format!("{} does not hold {role} in that scope", args.email)))?;
            auth.revoke_role(&actor, &grant.id).await?;
            println!("revoked {role} from {}", args.email);
        }
    }
    Ok(())
}

async fn org(config: &Config, command: OrgCommand) -> Result<(), CliError> {
    let store = ready_store(config, OpenMode::ExistingOnly).await?;
    let auth = auth_service(store.clone(), config, false);
    let principal = operator();
    let actor = Actor { principal: &principal, ip: None };
    match command {
        OrgCommand::Create { name, kind, country, sector, parent, json } => {
            let parent_id = match parent {
                Some(parent) => Some(find_org(&store, &parent).await?.id),
                None => None,
            };
            let created = auth
                .create_org(
                    &actor,
                    &NewOrg { name, short_name: None, kind, sector, country, parent_id, website: None, mfa_required: false },
                )
                .await?;
            if json.json {
                print_json(&json!(created));
            } else {
                println!("created organisation {} ({})", created.name, created.id);
            }
        }
        OrgCommand::List { country, json } => {
            let filter = OrgFilter { country: country.map(|c| c.to_ascii_uppercase()), ..Default::default() };
            let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
            let mut all = Vec::new();
            loop {
                let result = store.org_list(&filter, &page).await?;
                all.extend(result.items);
                match result.next_cursor {
                    Some(cursor) => page = PageRequest::with_cursor(PageRequest::MAX_LIMIT, Some(&cursor)).unwrap_or_default(),
                    None => break,
                }
            }
            if json.json {
                print_json(&json!(all));
            } else {
                for org in &all {
                    println!("{}  {:<4} {:<24} {}", org.id, org.country.as_deref().unwrap_or("--"), org.kind, org.name);
                }
                println!("{} organisations", all.len());
            }
        }
    }
    Ok(())
}
