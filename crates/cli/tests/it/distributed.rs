//! The distributed pipeline against the local NATS JetStream server
//! (127.0.0.1:4222, which CI starts): `rampart worker` processes killed
//! with SIGKILL mid-stream and started again, and still every event is
//! stored exactly once; a message that can never be handled goes to the
//! dead-letter stream and the rest flows on.

use crate::feeds::report;
use crate::support::{Sandbox, Server, http};
use rampart_feeds::config::NatsConfig;
use rampart_feeds::distributed::Bus;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const NATS: &str = "nats://127.0.0.1:4222";
const FEED: &str = "[[feed]]\nname = \"shadowserver\"\nprovider = \"Shadowserver\"\nparser = \"shadowserver\"\n";

/// Streams named for one test, deleted when it ends (pass or fail).
struct Streams {
    config: NatsConfig,
}

impl Streams {
    fn new(name: &str) -> Streams {
        assert!(
            std::net::TcpStream::connect_timeout(&"127.0.0.1:4222".parse().unwrap(), Duration::from_secs(2)).is_ok(),
            "these tests need NATS with JetStream on 127.0.0.1:4222 (.ci/run starts it)"
        );
        use rampart_core::Clock;
        let unique = rampart_core::new_id(rampart_core::SystemClock.now()).simple().to_string();
        let prefix = format!("TEST_{name}_{unique}");
        Streams { config: NatsConfig { url: NATS.into(), prefix, ack_wait_seconds: 2, max_deliver: 10, chunk_rows: 500 } }
    }

    fn pipeline(&self, sandbox: &Sandbox) -> std::path::PathBuf {
        let path = sandbox.path("distributed.toml");
        std::fs::write(
            &path,
            format!(
                "[pipeline.nats]\nurl = \"{NATS}\"\nprefix = \"{}\"\nack_wait = \"2s\"\nmax_deliver = 10\nchunk_rows = 500\n\n{FEED}",
                self.config.prefix
            ),
        )
        .unwrap();
        path
    }

    fn bus<T>(&self, work: impl AsyncFnOnce(&Bus) -> T) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let bus = Bus::connect(&self.config).await.unwrap();
            work(&bus).await
        })
    }
}

impl Drop for Streams {
    fn drop(&mut self) {
        self.bus(async |bus| bus.delete_streams().await.unwrap());
    }
}

/// The database the workers share: the sandbox's SQLite file, or a fresh
/// PostgreSQL schema.
struct Database {
    argument: String,
    location: rampart_store::Location,
    _schema: Option<rampart_testkit::postgres::PgSchema>,
}

impl Database {
    fn sqlite(sandbox: &Sandbox) -> Database {
        Database { argument: sandbox.db_text(), location: rampart_store::Location::Sqlite(sandbox.db.clone()), _schema: None }
    }

    fn postgres(sandbox: &Sandbox, server: &str) -> Database {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let schema = runtime.block_on(rampart_testkit::postgres::PgSchema::create(server));
        let database = Database {
            argument: schema.url.clone(),
            location: rampart_store::Location::Postgres(schema.url.clone()),
            _schema: Some(schema),
        };
        sandbox.run_raw(&["--database", database.argument.as_str(), "migrate"], &[]).ok();
        database
    }

    fn with<T>(&self, work: impl AsyncFnOnce(&rampart_store::Store) -> T) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let store = rampart_store::Store::open(&self.location, rampart_store::OpenMode::ExistingOnly).await.unwrap();
            let result = work(&store).await;
            store.close().await;
            result
        })
    }
}

fn worker(sandbox: &Sandbox, database: &Database, stage: &str, pipeline: &std::path::Path) -> Child {
    sandbox
        .command(&["--database", database.argument.as_str(), "worker", "--stage", stage, "--pipeline", pipeline.to_str().unwrap()], &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Polls `check` every 200 ms until it gives something, failing the test
/// with `what` after `limit`.
fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(started.elapsed() < limit, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn stop(workers: impl IntoIterator<Item = Child>) {
    for mut child in workers {
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn run_finished(database: &Database, run: &str) -> Option<rampart_store::feeds::FeedRunRow> {
    database.with(async |store| store.feed_run_get(run).await.unwrap()).filter(|r| r.finished_at.is_some())
}

/// Two files whose rows all share their hosts (the second is the first
/// two hours later, so every row of it repeats one of the first inside
/// the deduplication window) go through two process and two store
/// workers at once; one worker of each stage is killed with SIGKILL again
/// and again and started again. Exactly one event per host is stored,
/// each one an event an embedded run of either file stores, and the
/// runs' counters add up to the files.
fn killed_workers_store_every_event_exactly_once(name: &str, postgres: Option<&str>) {
    let rows = 20_000;
    let reference = Sandbox::migrated();
    let file = reference.path("2026-11-29-scan_telnet-ke-geo.csv");
    report(&file, rows);
    let later_dir = reference.path("later");
    std::fs::create_dir_all(&later_dir).unwrap();
    let later = later_dir.join("2026-11-29-scan_telnet-ke-geo.csv");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&later, text.replace("2026-11-29 11:", "2026-11-29 13:").replace("2026-11-29 10:", "2026-11-29 12:")).unwrap();
    // Each file alone, embedded, with the same feed declaration.
    let embedded = reference.path("embedded.toml");
    std::fs::write(&embedded, FEED).unwrap();
    let mut allowed = Vec::new();
    let mut per_file = 0;
    for input in [&file, &later] {
        let alone = Sandbox::migrated();
        alone.run(&["ingest", input.to_str().unwrap(), "--feed", "shadowserver", "--pipeline", embedded.to_str().unwrap(), "--json"]).ok();
        let ids = alone.with_store(&alone.db, async |store| store.feed_event_ids("shadowserver").await.unwrap());
        per_file = ids.len();
        allowed.extend(ids);
    }
    allowed.sort();
    let bad_rows = (0..rows).filter(|i| i % 997 == 500).count();

    let streams = Streams::new(name);
    let sandbox = Sandbox::migrated();
    let database = match postgres {
        Some(server) => Database::postgres(&sandbox, server),
        None => Database::sqlite(&sandbox),
    };
    let pipeline = streams.pipeline(&sandbox);
    let spawn = |stage| worker(&sandbox, &database, stage, &pipeline);
    let mut process = vec![spawn("process"), spawn("process")];
    let mut store = vec![spawn("store"), spawn("store")];
    let mut runs = Vec::new();
    for input in [&file, &later] {
        let published = sandbox
            .run_raw(
                &[
                    "--database",
                    database.argument.as_str(),
                    "ingest",
                    input.to_str().unwrap(),
                    "--feed",
                    "shadowserver",
                    "--pipeline",
                    pipeline.to_str().unwrap(),
                    "--json",
                ],
                &[],
            )
            .ok()
            .json();
        assert_eq!(published["published"], rows);
        runs.push(published["run"].as_str().unwrap().to_owned());
    }
    let all_finished = || runs.iter().all(|run| run_finished(&database, run).is_some());

    // Kill one worker of each stage at staggered moments and start it
    // again; the runs must not finish before the first kills.
    let mut kills = 0;
    let started = Instant::now();
    for delay in [300u64, 450, 350, 600, 400, 500] {
        std::thread::sleep(Duration::from_millis(delay));
        if all_finished() {
            break;
        }
        let (stage, workers) = if kills % 2 == 0 { ("process", &mut process) } else { ("store", &mut store) };
        workers[0].kill().unwrap();
        workers[0].wait().unwrap();
        workers[0] = spawn(stage);
        kills += 1;
    }
    assert!(kills >= 2, "the workers finished before they could be killed; make the files bigger");
    wait_for(Duration::from_secs(180), "the runs finish", || all_finished().then_some(()));
    stop(process.into_iter().chain(store));

    let stored = database.with(async |store| store.feed_event_ids("shadowserver").await.unwrap());
    assert_eq!(stored.len(), per_file, "one event per host: nothing lost, nothing doubled ({kills} kills, {:?})", started.elapsed());
    let strangers = stored.iter().filter(|id| allowed.binary_search(id).is_err()).count();
    assert_eq!(strangers, 0, "every stored event is one an embedded run stores");
    let done: Vec<_> = runs.iter().filter_map(|run| run_finished(&database, run)).collect();
    for run in &done {
        assert_eq!(run.read_count, rows as i64, "{run:?}");
        assert_eq!(run.quarantined + run.duplicates + run.stored, rows as i64, "{run:?}");
    }
    assert_eq!(done.iter().map(|r| r.stored).sum::<i64>(), per_file as i64, "{done:?}");
    let quarantine = database.with(async |store| store.feed_quarantine(None, 1000).await.unwrap());
    assert_eq!(quarantine.len(), 2 * bad_rows);
    let depths = streams.bus(async |bus| bus.depths().await.unwrap());
    assert_eq!((depths.raw, depths.events, depths.dead), (0, 0, 0), "every message acknowledged, none dead");
}

#[test]
fn workers_killed_mid_stream_store_every_event_exactly_once_on_sqlite() {
    killed_workers_store_every_event_exactly_once("kill_sqlite", None);
}

/// On PostgreSQL the two store workers really write at once; their
/// deduplication is kept consistent by the per-feed lock.
#[test]
fn workers_killed_mid_stream_store_every_event_exactly_once_on_postgres() {
    let Some(server) = rampart_testkit::postgres::server() else {
        eprintln!("RAMPART_TEST_POSTGRES_URL is not set; the PostgreSQL half of this test is skipped");
        return;
    };
    killed_workers_store_every_event_exactly_once("kill_pg", Some(&server));
}

/// A message that does not decode, and one of a feed the workers do not
/// know, go to the dead-letter stream with the reason; the file published
/// after them is stored all the same, and `feeds queue` lists them.
#[test]
fn messages_that_cannot_be_handled_go_to_the_dead_letter_stream() {
    let streams = Streams::new("dead");
    let sandbox = Sandbox::migrated();
    let pipeline = streams.pipeline(&sandbox);
    streams.bus(async |bus| {
        bus.publish_raw("garbage:0", b"{ not json".to_vec()).await.unwrap();
        let chunk = serde_json::json!({
            "run_id": "r", "feed": "nobody-configured-this", "name": "x.csv", "header": [], "chunk": 0,
            "rows": [], "unreadable": [], "total": 0
        });
        bus.publish_raw("unknown-feed:0", serde_json::to_vec(&chunk).unwrap()).await.unwrap();
    });
    let file = sandbox.path("2026-11-29-scan_telnet-ke-geo.csv");
    report(&file, 200);
    let database = Database::sqlite(&sandbox);
    let mut workers = [worker(&sandbox, &database, "process", &pipeline), worker(&sandbox, &database, "store", &pipeline)];
    let summary = sandbox
        .run(&["ingest", file.to_str().unwrap(), "--feed", "shadowserver", "--pipeline", pipeline.to_str().unwrap(), "--wait", "--json"])
        .ok()
        .json();
    for child in &mut workers {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_eq!((summary["read"].as_i64(), summary["stored"].as_i64(), summary["duplicates"].as_i64()), (Some(200), Some(180), Some(20)));
    let queue = sandbox.run(&["feeds", "queue", "--pipeline", pipeline.to_str().unwrap(), "--json"]).ok().json();
    assert_eq!(queue["dead"], 2, "{queue}");
    let letters = queue["dead_letters"].as_array().unwrap();
    let reason = |id: &str| letters.iter().find(|l| l["message_id"] == id).map(|l| l["reason"].as_str().unwrap().to_owned());
    assert!(reason("garbage:0").unwrap().contains("not a chunk of rows"), "{queue}");
    assert!(reason("unknown-feed:0").unwrap().contains("feed `nobody-configured-this` is not configured"), "{queue}");
    assert!(letters.iter().all(|l| l["stage"] == "process"), "{queue}");
    let text = sandbox.run(&["feeds", "queue", "--pipeline", pipeline.to_str().unwrap()]).ok().stdout.clone();
    assert!(text.contains("dead letters: 2"), "{text}");

    // A worker without a distributed pipeline is refused with the reason.
    let plain = sandbox.path("plain.toml");
    std::fs::write(&plain, "[[feed]]\nname = \"a\"\nparser = \"shadowserver\"\n").unwrap();
    let refused = sandbox.run(&["worker", "--stage", "store", "--pipeline", plain.to_str().unwrap()]);
    assert!(refused.stderr.contains("needs a distributed pipeline"), "{}", refused.stderr);
    let bad_stage = sandbox.run(&["worker", "--stage", "parse", "--pipeline", pipeline.to_str().unwrap()]);
    assert!(bad_stage.stderr.contains("is not process or store"), "{}", bad_stage.stderr);
}

/// `rampart feeds run` with a distributed pipeline publishes each new file
/// of a folder, moves it to done/ once the server holds it, and the
/// workers store it.
#[test]
fn the_folder_collector_publishes_and_the_workers_store() {
    let streams = Streams::new("folder");
    let sandbox = Sandbox::migrated();
    let incoming = sandbox.path("incoming");
    std::fs::create_dir_all(&incoming).unwrap();
    report(&incoming.join("2026-11-29-scan_telnet-ke-geo.csv"), 1000);
    let pipeline = sandbox.path("folder.toml");
    std::fs::write(
        &pipeline,
        format!(
            "[pipeline.nats]\nurl = \"{NATS}\"\nprefix = \"{}\"\n\n{FEED}collector = {{ kind = \"folder\", path = \"incoming\" }}\n",
            streams.config.prefix
        ),
    )
    .unwrap();
    let run = sandbox.run(&["feeds", "run", "--pipeline", pipeline.to_str().unwrap(), "--once"]);
    assert!(run.ok().stdout.contains("published 1000 rows in 2 messages"), "{}", run.stdout);
    assert!(incoming.join("done/2026-11-29-scan_telnet-ke-geo.csv").exists());
    let database = Database::sqlite(&sandbox);
    let workers = [worker(&sandbox, &database, "process", &pipeline), worker(&sandbox, &database, "store", &pipeline)];
    let runs = wait_for(Duration::from_secs(60), "the workers store the file", || {
        Some(database.with(async |store| store.feed_runs(10).await.unwrap())).filter(|runs| runs.iter().any(|r| r.finished_at.is_some()))
    });
    stop(workers);
    assert_eq!((runs[0].read_count, runs[0].stored, runs[0].duplicates, runs[0].quarantined), (1000, 899, 100, 1));
}

/// A server whose `[feeds] pipeline` is distributed: a report pushed to
/// the API is answered 202 once it is on the first stream, and the
/// workers store it.
#[test]
fn a_report_pushed_to_a_distributed_server_is_queued_and_the_workers_store_it() {
    let streams = Streams::new("push");
    let sandbox = Sandbox::migrated();
    sandbox.add_cirt("KE-CIRT", "KE");
    sandbox.add_user("analyst@cirt.ke", "KE-CIRT", "cirt_analyst");
    let token = sandbox.token("analyst@cirt.ke", "cirt_analyst");
    let pipeline = streams.pipeline(&sandbox);
    let config = sandbox.path("rampart.toml");
    std::fs::write(&config, format!("[feeds]\npipeline = \"{}\"\n", pipeline.display())).unwrap();
    let server = Server::start(&sandbox, &["--config", config.to_str().unwrap()]);
    let file = sandbox.path("push.csv");
    report(&file, 200);
    let body = std::fs::read_to_string(&file).unwrap();
    let bearer = format!("Bearer {token}");
    let answer = http(
        server.port,
        "POST",
        "/api/v1/feeds/shadowserver/events?name=2026-11-29-scan_telnet-ke-geo.csv",
        &[("Authorization", bearer.as_str()), ("Content-Type", "text/csv")],
        Some(&body),
    );
    assert_eq!(answer.status, 202, "{}", answer.body);
    let queued: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!((queued["queued"].as_bool(), queued["published"].as_i64()), (Some(true), Some(200)), "{queued}");
    let run = queued["run"].as_str().unwrap().to_owned();

    let database = Database::sqlite(&sandbox);
    let workers = [worker(&sandbox, &database, "process", &pipeline), worker(&sandbox, &database, "store", &pipeline)];
    let done = wait_for(Duration::from_secs(60), "the workers store the pushed report", || run_finished(&database, &run));
    stop(workers);
    assert_eq!((done.read_count, done.stored, done.duplicates), (200, 180, 20), "{done:?}");
    drop(server);
}
