use chrono::{TimeZone, Utc};
use rampart_core::{ManualClock, Tlp};
use rampart_feeds::config::{FeedConfig, PipelineConfig};
use rampart_feeds::journal::Journal;
use rampart_feeds::record::{Record, SourceInfo};
use rampart_feeds::{Event, Pipeline};
use rampart_store::feeds::FeedEventFilter;
use rampart_store::{AuditEntry, NewOrg, PageRequest, Store};
use std::path::Path;
use std::sync::Arc;

const HEADER: &str = "timestamp,ip,protocol,port,hostname,tag,asn,geo,region,city,naics,sic,banner";

pub(crate) fn clock() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).single().unwrap())
}

/// A bank with a /24, an ISP with a /16 around it, and a university known
/// by its domain only.
pub(crate) async fn registry(store: &Store) -> (String, String) {
    let now = clock().now();
    let mut tx = store.begin().await.unwrap();
    let org = |name: &str| NewOrg {
        name: name.into(),
        short_name: None,
        kind: "critical_infrastructure".into(),
        sector: None,
        country: Some("KE".into()),
        parent_id: None,
        website: None,
        mfa_required: false,
    };
    let bank = tx.org_insert(&org("Savanna Bank"), now).await.unwrap();
    let isp = tx.org_insert(&org("Rift Telecom"), now).await.unwrap();
    let keys = |text: &str| rampart_cirt::constituency::network_keys(text).unwrap();
    tx.network_add(&bank.id, &keys("198.51.100.0/24"), now).await.unwrap();
    tx.network_add(&isp.id, &keys("198.51.0.0/16"), now).await.unwrap();
    tx.audit(setup_entry(), now).await.unwrap();
    tx.commit().await.unwrap();
    (bank.id, isp.id)
}

use rampart_core::Clock;

/// The audit entry of a test's own set-up writes.
fn setup_entry() -> AuditEntry {
    AuditEntry {
        actor_id: None,
        actor_label: "test".into(),
        actor_org_id: None,
        action: "test.setup".into(),
        entity_type: "organisation".into(),
        entity_id: None,
        source_ip: None,
        summary: serde_json::json!({}),
    }
}

pub(crate) fn telnet_file(dir: &Path, rows: &[&str]) -> std::path::PathBuf {
    let path = dir.join("2026-11-29-scan_telnet-ke-geo.csv");
    let mut text = String::from(HEADER);
    text.push('\n');
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

async fn pipeline(store: &Store, journal: &Path) -> Pipeline {
    let config = PipelineConfig::single(FeedConfig::shadowserver("shadowserver")).unwrap();
    Pipeline::open(config, store.clone(), Arc::new(clock()), journal).await.unwrap()
}

pub(crate) const ROWS: [&str; 6] = [
    "2026-11-29 10:00:00,198.51.100.7,tcp,23,host7.example,telnet,64500,KE,Nairobi,Nairobi,517311,0,login:",
    "2026-11-29 11:00:00,198.51.100.7,tcp,23,host7.example,telnet,64500,KE,Nairobi,Nairobi,517311,0,login:",
    "2026-11-29 10:05:00,198.51.7.9,tcp,23,,telnet,64500,KE,,,0,0,",
    "2026-11-29 10:06:00,not-an-ip,tcp,23,,telnet,64500,KE,,,0,0,",
    "2026-11-29 10:07:00,203.0.113.5,tcp",
    "2026-11-29 10:08:00,203.0.113.9,tcp,2323,,telnet,0,ZA,,,0,0,BusyBox",
];

#[tokio::test]
async fn a_report_is_attributed_deduplicated_quarantined_and_stored_once() {
    rampart_testkit::stores::each_store(|store| async move {
        let (bank, isp) = registry(&store).await;
        let dir = tempfile::tempdir().unwrap();
        let file = telnet_file(dir.path(), &ROWS);
        let journal = dir.path().join("journal");
        let pipeline = pipeline(&store, &journal).await;
        let summary = pipeline.ingest_file("shadowserver", &file, None).await.unwrap();
        assert!(summary.finished);
        let c = summary.counts;
        assert_eq!((c.read, c.parsed, c.quarantined, c.duplicates, c.stored), (6, 4, 2, 1, 3), "{c:?}");

        let events = store.feed_events(&FeedEventFilter::default(), &PageRequest::first(50)).await.unwrap().items;
        assert_eq!(events.len(), 3);
        let by_ip = |ip: &str| events.iter().find(|e| e.source_ip.as_deref() == Some(ip)).unwrap();
        assert_eq!(by_ip("198.51.100.7").org_id.as_deref(), Some(bank.as_str()), "the /24 beats the /16");
        assert_eq!(by_ip("198.51.7.9").org_id.as_deref(), Some(isp.as_str()));
        assert_eq!(by_ip("203.0.113.9").org_id, None);
        let first = by_ip("198.51.100.7");
        assert_eq!(
            (first.taxonomy.as_str(), first.kind.as_str(), first.identifier.as_str()),
            ("vulnerable", "vulnerable-system", "open-telnet")
        );
        assert_eq!(first.event_time, "2026-11-29T10:00:00.000Z");
        assert_eq!(first.tlp, "AMBER");
        let body = Event::from_json(&first.body).unwrap();
        assert_eq!(body.get_str("feed.name"), Some("shadowserver"));
        assert_eq!(body.get_str("source.reverse_dns"), Some("host7.example"));
        assert_eq!(body.get_str("extra.banner"), Some("login:"));
        assert_eq!(body.get_str("time.observation"), Some("2026-11-29T12:00:00+00:00"));
        assert!(body.get_str("raw").is_some());

        let quarantine = store.feed_quarantine(Some(&summary.run_id), 10).await.unwrap();
        let mut lines: Vec<(i64, String)> = quarantine.iter().map(|q| (q.line, q.reason.clone())).collect();
        lines.sort();
        assert_eq!(lines[0].0, 5);
        assert!(lines[0].1.starts_with("ip (source.ip):"), "{lines:?}");
        assert_eq!(lines[1].0, 6);
        assert!(lines[1].1.contains("columns"), "{lines:?}");
        assert_eq!(quarantine[0].source_name, "2026-11-29-scan_telnet-ke-geo.csv");

        // The same file again: a new run, and nothing stored twice.
        let again = pipeline.ingest_file("shadowserver", &file, None).await.unwrap();
        assert_ne!(again.run_id, summary.run_id);
        assert_eq!((again.counts.read, again.counts.stored, again.counts.duplicates), (6, 0, 4), "{:?}", again.counts);
        drop(pipeline);
        // A fresh process rebuilds the deduplication window from the store.
        let reopened = pipeline_at(&store, &journal).await;
        let third = reopened.ingest_file("shadowserver", &file, None).await.unwrap();
        assert_eq!((third.counts.stored, third.counts.duplicates), (0, 4), "{:?}", third.counts);
        assert_eq!(store.feed_event_count().await.unwrap(), 3);
        assert_eq!(reopened.pending(), 0, "everything is acknowledged");
    })
    .await;
}

async fn pipeline_at(store: &Store, journal: &Path) -> Pipeline {
    pipeline(store, journal).await
}

#[tokio::test]
async fn rows_left_in_the_journal_by_a_crash_are_stored_on_restart() {
    rampart_testkit::stores::each_store(|store| async move {
        registry(&store).await;
        let dir = tempfile::tempdir().unwrap();
        let journal_dir = dir.path().join("journal");
        // Open once so the journal has its id and sources folder.
        drop(pipeline(&store, &journal_dir).await);
        {
            // What a collector had made durable when the process died.
            let mut journal = Journal::open(&journal_dir, 1 << 20).unwrap();
            let info = SourceInfo {
                run_id: "crashed-run".into(),
                feed: "shadowserver".into(),
                name: "2026-11-29-scan_telnet-ke-geo.csv".into(),
                header: HEADER.split(',').map(str::to_owned).collect(),
                journaled_through: 0,
            };
            let seq = journal.append(&Record::Source(info.clone()).encode()).unwrap();
            std::fs::write(journal_dir.join("sources").join(format!("{seq}.json")), serde_json::to_string(&info).unwrap()).unwrap();
            for (i, row) in ROWS.iter().enumerate() {
                let fields = row.split(',').map(str::to_owned).collect();
                journal.append(&Record::Row { source: seq, line: i as u64 + 2, fields }.encode()).unwrap();
            }
            journal.sync().unwrap();
        }
        let pipeline = pipeline(&store, &journal_dir).await;
        assert_eq!(store.feed_event_count().await.unwrap(), 3);
        assert_eq!(pipeline.pending(), 0);
        let run = store.feed_run_get("crashed-run").await.unwrap().unwrap();
        assert_eq!((run.read_count, run.stored, run.quarantined), (6, 3, 2));
        assert!(run.finished_at.is_none(), "its end never reached the journal");

        // A crash after the commit but before the acknowledgement: the
        // ledger says nothing was acknowledged, the store's mark says all
        // was, and the replay must not count the rows again.
        drop(pipeline);
        std::fs::write(journal_dir.join("acked"), b"").unwrap();
        let pipeline = pipeline_again(&store, &journal_dir).await;
        let run = store.feed_run_get("crashed-run").await.unwrap().unwrap();
        assert_eq!((run.read_count, run.stored), (6, 3), "nothing counted twice");
        assert_eq!(pipeline.pending(), 0);
    })
    .await;
}

async fn pipeline_again(store: &Store, journal: &Path) -> Pipeline {
    pipeline(store, journal).await
}

#[tokio::test]
async fn tlp_and_constituent_filters_narrow_the_event_list() {
    rampart_testkit::stores::each_store(|store| async move {
        let (bank, _) = registry(&store).await;
        let dir = tempfile::tempdir().unwrap();
        let file = telnet_file(dir.path(), &ROWS);
        let pipeline = pipeline(&store, &dir.path().join("journal")).await;
        pipeline.ingest_file("shadowserver", &file, None).await.unwrap();
        let only_bank = FeedEventFilter { orgs: Some(vec![bank.clone()]), ..FeedEventFilter::default() };
        let events = store.feed_events(&only_bank, &PageRequest::first(50)).await.unwrap().items;
        assert_eq!(events.len(), 1);
        let green_only =
            FeedEventFilter { tlps: Some(vec![Tlp::Green.as_str().into(), Tlp::Clear.as_str().into()]), ..FeedEventFilter::default() };
        assert!(store.feed_events(&green_only, &PageRequest::first(50)).await.unwrap().items.is_empty(), "the feed is AMBER");
        let page = store.feed_events(&FeedEventFilter::default(), &PageRequest::first(2)).await.unwrap();
        assert_eq!(page.items.len(), 2);
        let next = PageRequest::with_cursor(2, page.next_cursor.as_deref()).unwrap();
        assert_eq!(store.feed_events(&FeedEventFilter::default(), &next).await.unwrap().items.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn events_open_one_incident_per_constituent_and_type_and_each_contact_gets_one_mail() {
    use rampart_cirt::notify::{Notifier, SmtpMailer, TlsMode};
    rampart_testkit::stores::each_store(|store| async move {
        let (bank, isp) = registry(&store).await;
        let now = clock().now();
        let mut tx = store.begin().await.unwrap();
        let cirt = tx
            .org_insert(
                &NewOrg {
                    name: "KE-CIRT".into(),
                    short_name: None,
                    kind: "national_cirt".into(),
                    sector: None,
                    country: Some("KE".into()),
                    parent_id: None,
                    website: None,
                    mfa_required: false,
                },
                now,
            )
            .await
            .unwrap();
        tx.contact_insert(&bank, "incident reports", None, "soc@bank.example", None, now).await.unwrap();
        tx.contact_insert(&isp, "abuse", None, "abuse@isp.example", None, now).await.unwrap();
        tx.audit(setup_entry(), now).await.unwrap();
        tx.commit().await.unwrap();

        let dir = tempfile::tempdir().unwrap();
        let mut feed = FeedConfig::shadowserver("shadowserver");
        feed.outputs.push(rampart_feeds::config::Output::Indicators);
        feed.accuracy = Some(80.0);
        let mut config = PipelineConfig::single(feed).unwrap();
        config.cirt = Some(cirt.id.clone());
        let pipeline = Pipeline::open(config, store.clone(), Arc::new(clock()), &dir.path().join("journal")).await.unwrap();
        let file = telnet_file(dir.path(), &ROWS);
        let summary = pipeline.ingest_file("shadowserver", &file, None).await.unwrap();
        assert_eq!(summary.counts.incidents, 2, "the bank's and the ISP's: {:?}", summary.counts);

        // The indicators output: each stored event's address, a sighting in
        // the CIRT's indicator store; the same file again adds nothing.
        let indicators = store.indicators(&cirt.id, &[], None, None, 10).await.unwrap();
        let mut values: Vec<&str> = indicators.iter().map(|i| i.value.as_str()).collect();
        values.sort_unstable();
        assert_eq!(values, vec!["198.51.100.7", "198.51.7.9", "203.0.113.9"]);
        let seven = indicators.iter().find(|i| i.value == "198.51.100.7").unwrap();
        assert_eq!((seven.kind.as_str(), seven.tlp.as_str(), seven.confidence, seven.sightings), ("ipv4", "AMBER", 80, 1));
        assert_eq!(seven.first_seen, "2026-11-29T10:00:00.000Z");
        let sightings = store.indicator_sightings(&seven.id).await.unwrap();
        assert_eq!(sightings[0].source, "feed:shadowserver");
        pipeline.ingest_file("shadowserver", &file, None).await.unwrap();
        assert_eq!(store.indicators(&cirt.id, &[], None, None, 10).await.unwrap().iter().map(|i| i.sightings).sum::<i64>(), 3);

        // A second report in the same window adds to the bank's incident.
        let more = dir.path().join("2026-11-29-scan_telnet-more.csv");
        std::fs::write(&more, format!("{HEADER}\n2026-11-29 10:30:00,198.51.100.99,tcp,23,,telnet,64500,KE,,,0,0,\n")).unwrap();
        let again = pipeline.ingest_file("shadowserver", &more, None).await.unwrap();
        assert_eq!((again.counts.stored, again.counts.incidents), (1, 1));

        let incidents = store.incident_list(&Default::default(), &PageRequest::first(10)).await.unwrap().items;
        assert_eq!(incidents.len(), 2, "{incidents:?}");
        let bank_incident = incidents.iter().find(|i| i.title.contains("Savanna Bank")).unwrap();
        assert_eq!((bank_incident.rsit_class.as_str(), bank_incident.rsit_type.as_str()), ("vulnerable", "vulnerable-system"));
        assert_eq!(bank_incident.owner_org_id, cirt.id);
        assert_eq!(bank_incident.tlp, "AMBER");
        let observables: Vec<String> = store.incident_observables(&bank_incident.id).await.unwrap().into_iter().map(|o| o.value).collect();
        assert_eq!(observables, vec!["198.51.100.7".to_owned(), "198.51.100.99".to_owned()]);
        assert_eq!(store.incident_constituents(&bank_incident.id).await.unwrap(), vec![bank.clone()]);

        // One mail per contact, through a real SMTP exchange.
        let server = rampart_testkit::smtp::SmtpServer::start().await;
        let mailer = SmtpMailer::new("127.0.0.1", server.port, TlsMode::Opportunistic, None).unwrap();
        let notifier = Notifier::new(store.clone(), Arc::new(clock()), Arc::new(mailer), "KE-CIRT <cirt@ke-cirt.example>").unwrap();
        let report = notifier.flush().await.unwrap();
        assert_eq!((report.mails_sent, report.notices_sent), (2, 2), "{report:?}");
        let mut recipients: Vec<String> = server.messages().iter().flat_map(|m| m.to.clone()).collect();
        recipients.sort();
        assert_eq!(recipients, vec!["abuse@isp.example".to_owned(), "soc@bank.example".to_owned()]);
        assert_eq!(notifier.flush().await.unwrap().mails_sent, 0, "nothing twice");
    })
    .await;
}

#[tokio::test]
async fn a_row_that_is_not_text_is_quarantined_and_the_rest_goes_on() {
    rampart_testkit::stores::each_store(|store| async move {
        registry(&store).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2026-11-29-scan_telnet-ke-geo.csv");
        let mut bytes = format!("{HEADER}\n{}\n", ROWS[0]).into_bytes();
        bytes.extend_from_slice(b"2026-11-29 10:00:00,198.51.100.8,tcp,23,\xff\xfe,telnet,64500,KE,,,0,0,\n");
        bytes.extend_from_slice(format!("{}\n", ROWS[2]).as_bytes());
        std::fs::write(&path, bytes).unwrap();
        let pipeline = pipeline(&store, &dir.path().join("journal")).await;
        let summary = pipeline.ingest_file("shadowserver", &path, None).await.unwrap();
        assert_eq!((summary.counts.read, summary.counts.quarantined, summary.counts.stored), (3, 1, 2), "{:?}", summary.counts);
        let quarantine = store.feed_quarantine(Some(&summary.run_id), 10).await.unwrap();
        assert_eq!(quarantine[0].line, 3);
        assert!(quarantine[0].reason.starts_with("row: unreadable:"), "{}", quarantine[0].reason);
    })
    .await;
}
