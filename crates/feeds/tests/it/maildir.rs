//! The maildir collector: X-ARF reports read one a message (what is not a
//! report is quarantined with the reason), report attachments read one a
//! run, and every message marked seen once its rows are stored.

use crate::pipeline::{ROWS, clock, registry, telnet_file};
use rampart_feeds::Pipeline;
use rampart_feeds::config::{CollectorKind, FeedConfig, ParserKind, PipelineConfig};
use rampart_feeds::intake::Intake;
use rampart_store::PageRequest;
use rampart_store::feeds::FeedEventFilter;
use std::path::Path;
use std::sync::Arc;

fn xarf(source: &str, date: &str) -> String {
    format!(
        "From: abuse@reporter.example\r\nSubject: abuse report about {source}\r\nX-ARF: YES\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nA host attacked us.\r\n\
         --b\r\nContent-Type: text/plain; name=\"report.txt\"\r\n\r\nReported-From: abuse@reporter.example\r\nCategory: abuse\r\n\
         Report-Type: login-attack\r\nService: ssh\r\nPort: 22\r\nSource-Type: ipv4\r\nSource: {source}\r\nDate: {date}\r\n--b--\r\n"
    )
}

fn maildir(root: &Path, messages: &[(&str, Vec<u8>)]) -> std::path::PathBuf {
    let dir = root.join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for (name, bytes) in messages {
        std::fs::write(dir.join("new").join(name), bytes).unwrap();
    }
    dir
}

async fn intake(store: &rampart_store::Store, feed: FeedConfig, journal: &Path) -> Intake {
    let config = PipelineConfig::single(feed).unwrap();
    Intake::embedded(Arc::new(Pipeline::open(config, store.clone(), Arc::new(clock()), journal).await.unwrap()))
}

#[tokio::test]
async fn x_arf_reports_in_a_maildir_become_events_and_the_rest_is_quarantined() {
    rampart_testkit::stores::each_store(|store| async move {
        let (bank, _) = registry(&store).await;
        let root = tempfile::tempdir().unwrap();
        let dir = maildir(
            root.path(),
            &[
                ("1764410000.1.host", xarf("198.51.100.7", "Sun, 29 Nov 2026 10:00:00 +0000").into_bytes()),
                ("1764410001.2.host", xarf("203.0.113.9", "2026-11-29 10:05:00").into_bytes()),
                ("1764410002.3.host", b"From: someone@example.org\r\nSubject: hello\r\n\r\nnot a report\r\n".to_vec()),
            ],
        );
        let mut feed = FeedConfig::shadowserver("xarf");
        feed.parser = ParserKind::XArf;
        feed.collector = Some(CollectorKind::Maildir { path: dir.clone(), interval_seconds: 60 });
        let intake = intake(&store, feed, &root.path().join("journal")).await;
        let lines = intake.sweep().await.unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("(3 messages): read 3, parsed 2, quarantined 1, duplicates 0, filtered 0, stored 2"), "{lines:?}");

        let events = store.feed_events(&FeedEventFilter::default(), &PageRequest::first(10)).await.unwrap().items;
        let attacker = events.iter().find(|e| e.source_ip.as_deref() == Some("198.51.100.7")).unwrap();
        assert_eq!((attacker.kind.as_str(), attacker.identifier.as_str()), ("brute-force", "login-attack"));
        assert_eq!(attacker.taxonomy, "intrusion-attempts");
        assert_eq!(attacker.org_id.as_deref(), Some(bank.as_str()), "attributed to the constituent");
        assert_eq!(attacker.event_time, "2026-11-29T10:00:00.000Z");
        let quarantine = store.feed_quarantine(None, 10).await.unwrap();
        assert_eq!(quarantine.len(), 1);
        assert!(quarantine[0].reason.contains("X-ARF: yes"), "{:?}", quarantine[0]);

        let seen: Vec<String> =
            std::fs::read_dir(dir.join("cur")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(seen.len(), 3);
        assert!(seen.iter().all(|name| name.ends_with(":2,S")), "{seen:?}");
        assert_eq!(std::fs::read_dir(dir.join("new")).unwrap().count(), 0);
        assert!(intake.sweep().await.unwrap().is_empty(), "nothing new");
    })
    .await;
}

#[tokio::test]
async fn report_attachments_in_a_maildir_are_read_by_their_file_names() {
    rampart_testkit::stores::each_store(|store| async move {
        registry(&store).await;
        let root = tempfile::tempdir().unwrap();
        let csv = std::fs::read_to_string(telnet_file(root.path(), &ROWS)).unwrap();
        let message = format!(
            "From: reports@feeds.example\r\nSubject: Shadowserver report\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n\
             --b\r\nContent-Type: text/csv; name=\"2026-11-29-scan_telnet-ke-geo.csv\"\r\n\
             Content-Disposition: attachment; filename=\"2026-11-29-scan_telnet-ke-geo.csv\"\r\n\r\n{csv}\r\n--b--\r\n"
        );
        let dir = maildir(
            root.path(),
            &[
                ("1764410000.1.host", message.into_bytes()),
                ("1764410001.2.host", b"From: a@b.example\r\nSubject: no attachment\r\n\r\nhello\r\n".to_vec()),
            ],
        );
        let mut feed = FeedConfig::shadowserver("shadowserver");
        feed.collector = Some(CollectorKind::Maildir { path: dir.clone(), interval_seconds: 60 });
        let intake = intake(&store, feed, &root.path().join("journal")).await;
        let lines = intake.sweep().await.unwrap();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("2026-11-29-scan_telnet-ke-geo.csv: read 6, parsed 4, quarantined 2, duplicates 1"), "{lines:?}");
        assert!(lines[1].ends_with("no report attached; marked seen"), "{lines:?}");
        assert_eq!(store.feed_event_count().await.unwrap(), 3);
        assert_eq!(std::fs::read_dir(dir.join("cur")).unwrap().count(), 2);
    })
    .await;
}
