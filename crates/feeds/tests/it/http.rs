//! The pipeline's HTTP edges against a real HTTP/1.1 peer on loopback: a
//! report polled from a URL (conditionally, with the collector's token)
//! and newly stored events posted to a webhook, which may refuse them.

use crate::pipeline::{ROWS, clock, registry, telnet_file};
use rampart_feeds::Pipeline;
use rampart_feeds::config::{CollectorKind, FeedConfig, Output, PipelineConfig, Webhook};
use rampart_feeds::intake::Intake;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

/// A request the peer received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// An HTTP/1.1 server on loopback that records each request and answers
/// what `respond` says; one request a connection.
struct Peer {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Peer {
    fn start(respond: impl Fn(&Seen) -> Answer + Send + 'static) -> Peer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                let mut parts = line.split_whitespace();
                let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
                let mut headers = Vec::new();
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        headers.push((name.trim().to_owned(), value.trim().to_owned()));
                    }
                }
                let length = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")).and_then(|(_, v)| v.parse().ok());
                let mut body = vec![0u8; length.unwrap_or(0)];
                reader.read_exact(&mut body).unwrap();
                let request = Seen { method, path, headers, body };
                let (status, headers, body) = respond(&request);
                record.lock().unwrap().push(request);
                let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Peer { port, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn a_polled_report_is_read_once_until_it_changes() {
    rampart_testkit::stores::each_store(|store| async move {
        registry(&store).await;
        let dir = tempfile::tempdir().unwrap();
        let first = std::fs::read(telnet_file(dir.path(), &ROWS[..3])).unwrap();
        let second = std::fs::read(telnet_file(dir.path(), &ROWS)).unwrap();
        // Version 1 until the test switches to version 2.
        let version = Arc::new(Mutex::new(1));
        let current = version.clone();
        let peer = Peer::start(move |request| {
            let v = *current.lock().unwrap();
            let tag = format!("\"v{v}\"");
            if request.header("If-None-Match") == Some(tag.as_str()) {
                return (304, vec![("ETag".into(), tag)], Vec::new());
            }
            let body = if v == 1 { first.clone() } else { second.clone() };
            (200, vec![("ETag".into(), tag), ("Content-Type".into(), "text/csv".into())], body)
        });
        let mut feed = FeedConfig::shadowserver("shadowserver");
        feed.collector = Some(CollectorKind::Http {
            url: format!("http://127.0.0.1:{}/reports/2026-11-29-scan_telnet-ke-geo.csv", peer.port),
            name: "2026-11-29-scan_telnet-ke-geo.csv".into(),
            token: Some("s3cret".into()),
            interval_seconds: 3600,
        });
        let clock = clock();
        let config = PipelineConfig::single(feed).unwrap();
        let pipeline = Pipeline::open(config, store.clone(), Arc::new(clock.clone()), &dir.path().join("journal")).await.unwrap();
        let intake = Intake::embedded(Arc::new(pipeline));
        assert_eq!(intake.sweep_interval(), Some(3600));

        let lines = intake.sweep().await.unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].ends_with("read 3, parsed 3, quarantined 0, duplicates 1, filtered 0, stored 2"), "{lines:?}");
        assert!(intake.sweep().await.unwrap().is_empty(), "not due again within the interval");
        assert_eq!(peer.seen().len(), 1);

        clock.advance(chrono::Duration::hours(2));
        assert!(intake.sweep().await.unwrap().is_empty(), "unchanged: 304");
        let seen = peer.seen();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].header("If-None-Match"), Some("\"v1\""), "a conditional request");
        assert!(seen.iter().all(|r| r.method == "GET" && r.header("Authorization") == Some("Bearer s3cret")), "{seen:?}");
        assert_eq!(seen[0].path, "/reports/2026-11-29-scan_telnet-ke-geo.csv");

        *version.lock().unwrap() = 2;
        clock.advance(chrono::Duration::hours(2));
        let lines = intake.sweep().await.unwrap();
        assert!(lines[0].ends_with("read 6, parsed 4, quarantined 2, duplicates 3, filtered 0, stored 1"), "{lines:?}");
        assert_eq!(store.feed_event_count().await.unwrap(), 3);
    })
    .await;
}

#[tokio::test]
async fn newly_stored_events_are_posted_to_the_webhook_and_a_refusal_is_retried() {
    rampart_testkit::stores::each_store(|store| async move {
        registry(&store).await;
        let dir = tempfile::tempdir().unwrap();
        let file = telnet_file(dir.path(), &ROWS);
        let refuse = Arc::new(Mutex::new(true));
        let refusing = refuse.clone();
        let peer = Peer::start(
            move |_| if *refusing.lock().unwrap() { (503, Vec::new(), b"busy".to_vec()) } else { (204, Vec::new(), Vec::new()) },
        );
        let mut feed = FeedConfig::shadowserver("shadowserver");
        feed.outputs.push(Output::Webhook);
        feed.webhook =
            Some(Webhook { url: format!("http://127.0.0.1:{}/hook", peer.port), token: Some("hook-token".into()), timeout_seconds: 5 });
        let config = PipelineConfig::single(feed).unwrap();
        let journal = dir.path().join("journal");

        // The webhook refuses: the batch fails, nothing is stored, and the
        // rows stay in the journal.
        let pipeline = Pipeline::open(config.clone(), store.clone(), Arc::new(clock()), &journal).await.unwrap();
        let err = pipeline.ingest_file("shadowserver", &file, None).await.unwrap_err().to_string();
        assert!(err.contains("/hook") && err.contains("HTTP 503: busy"), "{err}");
        assert_eq!(store.feed_event_count().await.unwrap(), 0);
        assert!(pipeline.pending() > 0);
        drop(pipeline);

        // It accepts again: the journal's rows are delivered on restart.
        *refuse.lock().unwrap() = false;
        let pipeline = Pipeline::open(config, store.clone(), Arc::new(clock()), &journal).await.unwrap();
        assert_eq!(store.feed_event_count().await.unwrap(), 3);
        let posts: Vec<_> = peer.seen().into_iter().filter(|r| r.method == "POST").collect();
        let last = posts.last().unwrap();
        assert_eq!(last.header("Authorization"), Some("Bearer hook-token"));
        assert_eq!(last.header("Content-Type"), Some("application/json"));
        let payload: serde_json::Value = serde_json::from_slice(&last.body).unwrap();
        assert_eq!(payload["feed"], "shadowserver");
        let events = payload["events"].as_array().unwrap();
        assert_eq!(events.len(), 3, "the three stored events: {payload}");
        assert!(events.iter().all(|e| e["feed.name"] == "shadowserver" && e["source.ip"].is_string()));

        // Asked for the same file, the restarted pipeline reports the run
        // it finished on recovery; asked again, it reads it anew: nothing
        // new, nothing posted.
        let before = peer.seen().len();
        let resumed = pipeline.ingest_file("shadowserver", &file, None).await.unwrap();
        assert_eq!((resumed.finished, resumed.counts.stored), (true, 3));
        let again = pipeline.ingest_file("shadowserver", &file, None).await.unwrap();
        assert_eq!((again.counts.stored, again.counts.duplicates), (0, 4), "{:?}", again.counts);
        assert_eq!(peer.seen().len(), before, "no event was new, so no post");
    })
    .await;
}
