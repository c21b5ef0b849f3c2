//! A small SMTP server for tests: it speaks enough of RFC 5321 for a
//! real client (lettre) to deliver mail over loopback, records what
//! arrived, and can be told to refuse the next deliveries temporarily.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    refuse: Arc<AtomicUsize>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let server = SmtpServer { port, received: Arc::default(), refuse: Arc::default() };
        let state = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = state.session(stream).await;
                });
            }
        });
        server
    }

    /// Answer the next `count` MAIL commands with a temporary failure.
    pub fn refuse_next(&self, count: usize) {
        self.refuse.store(count, Ordering::SeqCst);
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 rampart-test ESMTP\r\n").await?;
        let mut from = String::new();
        let mut to = Vec::new();
        while let Some(line) = lines.next_line().await? {
            let upper = line.to_ascii_uppercase();
            if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                write.write_all(b"250-rampart-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n").await?;
            } else if upper.starts_with("MAIL FROM:") {
                if self.refuse.load(Ordering::SeqCst) > 0 {
                    self.refuse.fetch_sub(1, Ordering::SeqCst);
                    write.write_all(b"451 4.3.0 try again later\r\n").await?;
                    continue;
                }
                from = line[10..].trim().trim_matches(['<', '>']).to_owned();
                to.clear();
                write.write_all(b"250 OK\r\n").await?;
            } else if upper.starts_with("RCPT TO:") {
                to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                write.write_all(b"250 OK\r\n").await?;
            } else if upper == "DATA" {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                while let Some(body_line) = lines.next_line().await? {
                    if body_line == "." {
                        break;
                    }
                    // Undo dot-stuffing (RFC 5321 4.5.2).
                    data.push_str(body_line.strip_prefix('.').filter(|_| body_line.starts_with("..")).unwrap_or(&body_line));
                    data.push('\n');
                }
                self.received.lock().expect("lock").push(Received { from: from.clone(), to: to.clone(), data });
                write.write_all(b"250 OK queued\r\n").await?;
            } else if upper == "QUIT" {
                write.write_all(b"221 bye\r\n").await?;
                break;
            } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
                write.write_all(b"250 OK\r\n").await?;
            } else {
                write.write_all(b"502 5.5.2 not implemented\r\n").await?;
            }
        }
        Ok(())
    }
}

/// The decoded body of the MIME part whose headers mention `marker`.
pub fn part_body(message: &str, marker: &str) -> Option<String> {
    let start = message.find(marker)?;
    let rest = &message[start..];
    let body_start = rest.find("\n\n")? + 2;
    let body = &rest[body_start..];
    let end = body.find("\n--").unwrap_or(body.len());
    let raw = &body[..end];
    let headers = &rest[..body_start];
    if headers.to_ascii_lowercase().contains("content-transfer-encoding: base64") {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = data_encoding::BASE64.decode(compact.as_bytes()).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    } else {
        Some(raw.to_owned())
    }
}
