//! `rampart ingest` and `rampart feeds check`, and the pipeline's promise
//! that killing it at any moment loses and doubles nothing.

use crate::support::{Sandbox, Server, http};
use std::io::Write;
use std::time::Duration;

const HEADER: &str = "timestamp,ip,protocol,port,hostname,tag,asn,geo,region,city,naics,sic,banner";

/// A scan_telnet report of `rows` rows: every 10th row repeats the host of
/// the row before it an hour later (a duplicate), every 997th is broken.
pub fn report(path: &std::path::Path, rows: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(file, "{HEADER}").unwrap();
    for i in 0..rows {
        let host = if i % 10 == 9 { i - 1 } else { i };
        let ip = format!("10.{}.{}.{}", (host >> 16) & 255, (host >> 8) & 255, host & 255);
        let hour = if i % 10 == 9 { 11 } else { 10 };
        if i % 997 == 500 {
            writeln!(file, "2026-11-29 {hour}:00:00,not-an-address,tcp,23,,telnet,64500,KE,,,0,0,").unwrap();
        } else {
            writeln!(file, "2026-11-29 {hour}:00:00,{ip},tcp,23,,telnet,64500,KE,Nairobi,Nairobi,0,0,login:").unwrap();
        }
    }
}

#[test]
fn ingest_prints_a_summary_and_check_names_lines() {
    let sandbox = Sandbox::migrated();
    let file = sandbox.path("2026-11-29-scan_telnet-ke-geo.csv");
    report(&file, 2000);
    let run = sandbox.run(&["ingest", file.to_str().unwrap(), "--feed", "shadowserver", "--json"]);
    let summary = run.ok().json();
    assert_eq!(summary["read"], 2000);
    assert_eq!(summary["quarantined"], 2);
    assert_eq!(summary["duplicates"], 200);
    assert_eq!(summary["stored"], 1798);

    let text = sandbox.run(&["ingest", file.to_str().unwrap(), "--feed", "shadowserver", "--quiet"]);
    assert!(text.ok().stdout.contains("read 2000, parsed 1998, quarantined 2, duplicates 1998, filtered 0, stored 0"), "{}", text.stdout);

    let config = sandbox.path("feeds.toml");
    std::fs::write(&config, "[[feed]]\nname = \"a\"\nparser = \"shadowserver\"\n\n[[feed]]\nname = \"b\"\nparser = \"csv\"\nexperts = [\"taxonomy\", \"tarot\"]\n").unwrap();
    let bad = sandbox.run(&["feeds", "check", config.to_str().unwrap()]);
    bad.expect_code(7);
    assert!(bad.stderr.contains("feeds.toml:line 7: a csv feed needs"), "{}", bad.stderr);
    assert!(bad.stderr.contains("feeds.toml:line 8: expert `tarot`"), "{}", bad.stderr);
    std::fs::write(&config, "[[feed]]\nname = \"a\"\nparser = \"shadowserver\"\n").unwrap();
    assert!(sandbox.run(&["feeds", "check", config.to_str().unwrap()]).ok().stdout.contains("ok"));
    let missing = sandbox.run(&["ingest", "nowhere.csv", "--feed", "shadowserver"]);
    missing.expect_code(6);
}

/// Kill `rampart ingest` with SIGKILL at varied moments, again and again,
/// then let it finish: the events stored are exactly those of a run that
/// was never interrupted, the quarantine holds each bad line once, and the
/// run's counters add up to the file.
#[test]
fn killing_an_ingest_at_any_moment_loses_and_doubles_nothing() {
    let rows = 60_000;
    let reference = Sandbox::migrated();
    let file = reference.path("2026-11-29-scan_telnet-ke-geo.csv");
    report(&file, rows);
    reference.run(&["ingest", file.to_str().unwrap(), "--feed", "shadowserver", "--json"]).ok();
    let expected = reference.with_store(&reference.db, async |store| store.feed_event_ids("shadowserver").await.unwrap());
    let bad = |i: usize| i % 997 == 500;
    let duplicates = (0..rows).filter(|i| i % 10 == 9 && !bad(*i) && !bad(i - 1)).count();
    let bad_rows = (0..rows).filter(|i| bad(*i)).count();
    assert_eq!(expected.len(), rows - duplicates - bad_rows);

    let sandbox = Sandbox::migrated();
    let copy = sandbox.path("2026-11-29-scan_telnet-ke-geo.csv");
    std::fs::copy(&file, &copy).unwrap();
    let db = sandbox.db_text();
    let args = ["--database", db.as_str(), "ingest", copy.to_str().unwrap(), "--feed", "shadowserver", "--quiet"];
    let mut killed = 0;
    // Kill points spread over the run: while the journal opens, while rows
    // flow, and around commits; the ingest must not finish first.
    for delay in [150u64, 400, 700, 250, 900, 550, 1200, 320] {
        let mut child = sandbox.command(&args, &[]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
    }
    assert!(killed >= 4, "the ingest finished before it could be killed; make the file bigger");
    let finish = sandbox.run_raw(&args, &[]);
    finish.ok();
    let stored = sandbox.with_store(&sandbox.db, async |store| store.feed_event_ids("shadowserver").await.unwrap());
    assert_eq!(stored.len(), expected.len(), "nothing lost, nothing doubled");
    assert_eq!(stored, expected, "the very same events");
    let (runs, quarantine) = sandbox
        .with_store(&sandbox.db, async |store| (store.feed_runs(10).await.unwrap(), store.feed_quarantine(None, 1000).await.unwrap()));
    assert_eq!(runs.len(), 1, "one run, resumed: {runs:?}");
    let run = &runs[0];
    assert!(run.finished_at.is_some());
    assert_eq!(run.read_count, rows as i64, "{run:?}");
    assert_eq!(run.stored, expected.len() as i64, "{run:?}");
    assert_eq!(run.quarantined + run.duplicates + run.stored, rows as i64, "{run:?}");
    assert_eq!(quarantine.len(), bad_rows);
}

#[test]
fn the_folder_collector_ingests_new_files_and_moves_them_to_done() {
    let sandbox = Sandbox::migrated();
    let incoming = sandbox.path("incoming");
    std::fs::create_dir_all(&incoming).unwrap();
    report(&incoming.join("2026-11-29-scan_telnet-ke-geo.csv"), 100);
    std::fs::write(incoming.join("notes.txt"), "not a report").unwrap();
    let config = sandbox.path("feeds.toml");
    std::fs::write(
        &config,
        "[[feed]]\nname = \"shadowserver\"\nparser = \"shadowserver\"\ncollector = { kind = \"folder\", path = \"incoming\" }\n",
    )
    .unwrap();
    let run = sandbox.run(&["feeds", "run", "--pipeline", config.to_str().unwrap(), "--once"]);
    assert!(run.ok().stdout.contains("read 100, parsed 100, quarantined 0, duplicates 10, filtered 0, stored 90"), "{}", run.stdout);
    assert!(incoming.join("done/2026-11-29-scan_telnet-ke-geo.csv").exists());
    assert!(incoming.join("notes.txt").exists(), "only files matching *.csv are taken");
    assert_eq!(sandbox.run(&["feeds", "run", "--pipeline", config.to_str().unwrap(), "--once"]).ok().stdout, "");
}

#[test]
fn ingest_reads_standard_input_with_a_named_report() {
    let sandbox = Sandbox::migrated();
    let file = sandbox.path("input.csv");
    report(&file, 50);
    let db = sandbox.db_text();
    let mut child = sandbox
        .command(&["--database", db.as_str(), "ingest", "-", "--feed", "shadowserver", "--report", "scan_telnet", "--json"], &[])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&std::fs::read(&file).unwrap()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((summary["read"].as_i64(), summary["stored"].as_i64()), (Some(50), Some(45)));
}

/// `serve --demo` keeps its pipeline for the push endpoint: the demo
/// CIRT's analyst pushes a report with an API token and gets the run's
/// counts; the same body again stores nothing; others are refused; and
/// `/metrics` counts the pipeline's events.
#[test]
fn rows_pushed_over_the_api_go_through_the_servers_pipeline() {
    let sandbox = Sandbox::new();
    let server = Server::start(&sandbox, &["--demo"]);
    let analyst = sandbox.token("analyst@demo.rampart.test", "cirt_analyst");
    let constituent = sandbox.token("isp@demo.rampart.test", "constituent");
    let file = sandbox.path("push.csv");
    report(&file, 300);
    let body = std::fs::read_to_string(&file).unwrap();
    let path = "/api/v1/feeds/shadowserver-demo/events?name=2026-11-29-scan_telnet-ke-geo.csv";
    let bearer = |token: &str| format!("Bearer {token}");
    let push = |token: &str, path: &str| {
        http(server.port, "POST", path, &[("Authorization", bearer(token).as_str()), ("Content-Type", "text/csv")], Some(&body))
    };
    let first = push(&analyst, path);
    assert_eq!(first.status, 200, "{}", first.body);
    let counts: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(
        (counts["queued"].as_bool(), counts["read"].as_i64(), counts["quarantined"].as_i64(), counts["stored"].as_i64()),
        (Some(false), Some(300), Some(0), Some(270)),
        "{counts}"
    );
    let again: serde_json::Value = serde_json::from_str(&push(&analyst, path).body).unwrap();
    assert_eq!((again["stored"].as_i64(), again["duplicates"].as_i64()), (Some(0), Some(300)), "{again}");
    assert_ne!(again["run"], counts["run"], "a new run, whose rows are all duplicates");

    assert_eq!(push(&constituent, path).status, 403, "a constituent does not push into the CIRT's pipeline");
    let anonymous = http(server.port, "POST", path, &[("Content-Type", "text/csv")], Some(&body));
    assert_eq!(anonymous.status, 401);
    let unknown = push(&analyst, "/api/v1/feeds/nobody/events");
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let bad_name = push(&analyst, "/api/v1/feeds/shadowserver-demo/events?name=..%2Fetc%2Fpasswd");
    assert_eq!(bad_name.status, 422, "{}", bad_name.body);
    assert!(bad_name.body.contains("\"field\":\"name\""), "{}", bad_name.body);

    let metrics = server.get("/metrics", &[]).body;
    assert!(metrics.contains("rampart_feed_events_total{feed=\"shadowserver-demo\",outcome=\"stored\"}"), "{metrics}");
    let filter = rampart_store::AuditFilter { action_prefix: Some("feeds.push".into()), ..Default::default() };
    let page = rampart_store::PageRequest { limit: 10, after: None };
    let pushes = sandbox.with_store(&sandbox.db, async |store| store.audit_list(&filter, &page).await.unwrap().items);
    assert_eq!(pushes.len(), 2, "each push is audited with who pushed");
    assert!(pushes.iter().all(|entry| entry.actor_label.contains("analyst@demo.rampart.test")), "{pushes:?}");
}
