//! Reports that arrive by e-mail: RFC 5322 messages (from files or a
//! maildir), with X-ARF abuse reports recognised and their report type
//! mapped to RSIT. Parsing never panics; a message that cannot be a report
//! is refused with the reason, and nothing is stored.

use crate::CirtError;
use mail_parser::{MessageParser, MimeHeaders};
use rampart_core::Tlp;
use serde::Serialize;
use std::collections::HashMap;

/// What an X-ARF report says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XArf {
    pub report_type: String,
    pub source: Option<String>,
    pub service: Option<String>,
    /// RSIT class and type suggested by the report type.
    pub rsit: (String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMail {
    pub from: String,
    pub subject: String,
    pub body: String,
    /// A TLP label in the subject (`[TLP:GREEN]`), if any.
    pub tlp: Option<Tlp>,
    pub xarf: Option<XArf>,
}

/// Maximum size of a message accepted as a report.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

fn invalid(message: impl Into<String>) -> CirtError {
    CirtError::Invalid { field: "message", message: message.into() }
}

/// X-ARF report types (v0.1 to v0.3 names) and the RSIT type each maps to.
pub fn rsit_for(report_type: &str) -> (&'static str, &'static str) {
    match report_type.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "login-attack" | "bruteforce" | "brute-force" => ("intrusion-attempts", "brute-force"),
        "portscan" | "port-scan" | "scan" | "info" => ("information-gathering", "scanner"),
        "phishing" => ("fraud", "phishing"),
        "spam" => ("abusive-content", "spam"),
        "malware" | "malware-distribution" => ("malicious-code", "malware-distribution"),
        "botnet" | "bot" | "infected" | "drone" => ("malicious-code", "infected-system"),
        "c2" | "cnc" | "command-and-control" => ("malicious-code", "c2-server"),
        "ddos" | "dos" => ("availability", "ddos"),
        "harvesting" | "web-attack" | "exploit" => ("intrusion-attempts", "exploit"),
        "copyright" => ("fraud", "copyright"),
        _ => ("other", "other"),
    }
}

/// Reads the X-ARF machine-readable part: JSON (v0.3) or the flat
/// `Key: value` YAML of v0.2; keys are compared without case or dashes
/// (`Report-Type` and `ReportType` are both `reporttype`).
fn xarf_fields(text: &str) -> HashMap<String, String> {
    let normalise = |key: &str| key.trim().to_ascii_lowercase().replace(['-', '_'], "");
    let trimmed = text.trim();
    if trimmed.starts_with('{')
        && let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(trimmed)
    {
        return map
            .into_iter()
            .filter_map(|(k, v)| {
                let value = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some((normalise(&k), value))
            })
            .collect();
    }
    trimmed
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (normalise(key), value.trim().trim_matches(['"', '\'']).to_owned()))
        .collect()
}

fn tlp_in(subject: &str) -> Option<Tlp> {
    let upper = subject.to_ascii_uppercase();
    let start = upper.find("TLP:")?;
    let label: String = upper[start..].chars().take_while(|c| !matches!(c, ']' | ')' | ' ' | ',')).collect();
    label.parse().ok()
}

/// The machine-readable part of an X-ARF message: the part named
/// `report.*`, else the second part; it must have a Report-Type.
fn xarf_part(message: &mail_parser::Message<'_>) -> Result<HashMap<String, String>, CirtError> {
    let parts: Vec<_> = message.parts.iter().filter(|p| !p.is_multipart()).collect();
    let report_part =
        parts.iter().find(|p| p.attachment_name().is_some_and(|n| n.to_ascii_lowercase().starts_with("report."))).or_else(|| parts.get(1));
    let text = report_part
        .and_then(|p| p.text_contents())
        .ok_or_else(|| CirtError::Invalid { field: "x-arf", message: "the message says X-ARF but has no report part".into() })?;
    let fields = xarf_fields(text);
    if fields.get("reporttype").is_none_or(|t| t.trim().is_empty()) {
        return Err(CirtError::Invalid { field: "x-arf", message: "the X-ARF report has no Report-Type".into() });
    }
    Ok(fields)
}

/// An X-ARF message's report fields by normalised key (`reporttype`,
/// `source`, `sourcetype`, `service`, `port`, `date`, …), for the feed
/// pipeline; the message's own Date header is `messagedate`. A message
/// that is not X-ARF, or whose report part is missing or has no
/// Report-Type, is refused with the reason.
pub fn xarf_report(raw: &[u8]) -> Result<HashMap<String, String>, CirtError> {
    if raw.len() > MAX_BYTES {
        return Err(invalid(format!("the message is larger than {} MiB", MAX_BYTES / 1024 / 1024)));
    }
    let message = MessageParser::default().parse(raw).ok_or_else(|| invalid("not an e-mail message"))?;
    if !message.header_raw("X-ARF").is_some_and(|value| value.trim().eq_ignore_ascii_case("yes")) {
        return Err(CirtError::Invalid { field: "x-arf", message: "the message has no `X-ARF: yes` header".into() });
    }
    let mut fields = xarf_part(&message)?;
    if let Some(date) = message.date() {
        fields.insert("messagedate".into(), date.to_rfc3339());
    }
    Ok(fields)
}

/// The attachments of a message that are reports (CSV or JSON lines, by
/// name or type), with their file names, for the feed pipeline's maildir
/// collector.
pub fn report_attachments(raw: &[u8]) -> Result<Vec<(String, Vec<u8>)>, CirtError> {
    if raw.len() > MAX_BYTES * 10 {
        return Err(invalid(format!("the message is larger than {} MiB", MAX_BYTES * 10 / 1024 / 1024)));
    }
    let message = MessageParser::default().parse(raw).ok_or_else(|| invalid("not an e-mail message"))?;
    let mut found = Vec::new();
    for part in message.attachments() {
        let name = part.attachment_name().unwrap_or("").to_owned();
        let lower = name.to_ascii_lowercase();
        let typed = part.content_type().is_some_and(|t| {
            let sub = t.subtype().unwrap_or("").to_ascii_lowercase();
            t.ctype().eq_ignore_ascii_case("text") && (sub == "csv" || sub == "comma-separated-values")
        });
        if typed || lower.ends_with(".csv") || lower.ends_with(".jsonl") {
            let name = if name.is_empty() { format!("attachment-{}.csv", found.len() + 1) } else { name };
            found.push((name, part.contents().to_vec()));
        }
    }
    Ok(found)
}

/// Parses a raw message into what a report needs.
pub fn parse(raw: &[u8]) -> Result<ParsedMail, CirtError> {
    if raw.is_empty() {
        return Err(invalid("the message is empty"));
    }
    if raw.len() > MAX_BYTES {
        return Err(invalid(format!("the message is larger than {} MiB", MAX_BYTES / 1024 / 1024)));
    }
    let message = MessageParser::default().parse(raw).ok_or_else(|| invalid("not an e-mail message"))?;
    let from = message
        .from()
        .and_then(|list| list.first())
        .and_then(|mailbox| mailbox.address().map(str::to_ascii_lowercase))
        .ok_or_else(|| CirtError::Invalid { field: "from", message: "the message has no sender address (From:)".into() })?;
    let subject = message.subject().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("(no subject)").to_owned();
    let is_xarf = message.header_raw("X-ARF").is_some_and(|value| value.trim().eq_ignore_ascii_case("yes"));
    let mut xarf = None;
    if is_xarf {
        let fields = xarf_part(&message)?;
        let report_type = fields.get("reporttype").cloned().unwrap_or_default();
        let (class, kind) = rsit_for(&report_type);
        xarf = Some(XArf {
            report_type,
            source: fields.get("source").cloned(),
            service: fields.get("service").cloned(),
            rsit: (class.to_owned(), kind.to_owned()),
        });
    }
    let mut body = message.body_text(0).map(|text| text.trim().to_owned()).unwrap_or_default();
    if let Some(xarf) = &xarf {
        let summary = format!(
            "X-ARF report: {}{}{} (suggested RSIT: {}/{})",
            xarf.report_type,
            xarf.source.as_ref().map(|s| format!(" from {s}")).unwrap_or_default(),
            xarf.service.as_ref().map(|s| format!(" on {s}")).unwrap_or_default(),
            xarf.rsit.0,
            xarf.rsit.1
        );
        body = if body.is_empty() { summary } else { format!("{summary}\n\n{body}") };
    }
    if body.is_empty() {
        return Err(CirtError::Invalid { field: "body", message: "the message has no text".into() });
    }
    Ok(ParsedMail { from, tlp: tlp_in(&subject), subject, body, xarf })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_report() {
        let raw = b"From: SOC <soc@isp.example>\r\nTo: cirt@cirt.example\r\nSubject: [TLP:GREEN] Phishing on our network\r\n\r\nSee hxxp://bad[.]example/x on 198.51.100.7\r\n";
        let mail = parse(raw).unwrap();
        assert_eq!(mail.from, "soc@isp.example");
        assert_eq!(mail.subject, "[TLP:GREEN] Phishing on our network");
        assert_eq!(mail.tlp, Some(Tlp::Green));
        assert!(mail.body.contains("198.51.100.7"));
        assert_eq!(mail.xarf, None);
    }

    #[test]
    fn x_arf_yaml_and_json_are_recognised() {
        let yaml = "From: abuse@reporter.example\r\nSubject: abuse report about 192.0.2.44\r\nX-ARF: YES\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nA host attacked us.\r\n\
            --b\r\nContent-Type: text/plain; name=\"report.txt\"\r\n\r\nReported-From: abuse@reporter.example\r\nCategory: abuse\r\n\
            Report-Type: login-attack\r\nService: ssh\r\nSource-Type: ipv4\r\nSource: 192.0.2.44\r\n--b--\r\n";
        let mail = parse(yaml.as_bytes()).unwrap();
        let xarf = mail.xarf.unwrap();
        assert_eq!(xarf.report_type, "login-attack");
        assert_eq!(xarf.source.as_deref(), Some("192.0.2.44"));
        assert_eq!(xarf.rsit, ("intrusion-attempts".to_owned(), "brute-force".to_owned()));
        assert!(mail.body.starts_with("X-ARF report: login-attack from 192.0.2.44 on ssh"), "{}", mail.body);

        let json = "From: a@r.example\r\nSubject: x\r\nX-ARF: yes\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhuman\r\n\
            --b\r\nContent-Type: application/json; name=\"report.json\"\r\n\r\n{\"ReportType\": \"phishing\", \"Source\": \"http://p.example/\"}\r\n--b--\r\n";
        let xarf = parse(json.as_bytes()).unwrap().xarf.unwrap();
        assert_eq!(xarf.rsit, ("fraud".to_owned(), "phishing".to_owned()));
    }

    #[test]
    fn the_pipeline_reads_x_arf_fields_and_report_attachments() {
        let yaml = "From: abuse@reporter.example\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\nSubject: s\r\nX-ARF: YES\r\n\
            Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhuman\r\n\
            --b\r\nContent-Type: text/plain; name=\"report.txt\"\r\n\r\nReport-Type: login-attack\r\nSource: 192.0.2.44\r\nPort: 22\r\n--b--\r\n";
        let fields = xarf_report(yaml.as_bytes()).unwrap();
        assert_eq!(fields.get("reporttype").map(String::as_str), Some("login-attack"));
        assert_eq!(fields.get("port").map(String::as_str), Some("22"));
        assert_eq!(fields.get("messagedate").map(String::as_str), Some("2026-11-29T10:00:00Z"));
        let plain = b"From: a@b.example\r\nSubject: s\r\n\r\nhello\r\n";
        assert!(matches!(xarf_report(plain), Err(CirtError::Invalid { field: "x-arf", .. })));

        let report = "From: reports@feeds.example\r\nSubject: report\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n--b\r\nContent-Type: text/csv; name=\"2026-11-29-scan_telnet-ke-geo.csv\"\r\n\
            Content-Disposition: attachment; filename=\"2026-11-29-scan_telnet-ke-geo.csv\"\r\n\r\ntimestamp,ip\r\n2026-11-29 10:00:00,192.0.2.1\r\n\
            --b\r\nContent-Type: image/png; name=\"logo.png\"\r\nContent-Disposition: attachment; filename=\"logo.png\"\r\n\r\nxx\r\n--b--\r\n";
        let attachments = report_attachments(report.as_bytes()).unwrap();
        assert_eq!(attachments.len(), 1, "{attachments:?}");
        assert_eq!(attachments[0].0, "2026-11-29-scan_telnet-ke-geo.csv");
        assert!(String::from_utf8_lossy(&attachments[0].1).starts_with("timestamp,ip"));
    }

    #[test]
    fn bad_messages_are_refused_with_the_reason() {
        assert!(matches!(parse(b""), Err(CirtError::Invalid { field: "message", .. })));
        assert!(matches!(parse(b"Subject: no sender\r\n\r\nbody"), Err(CirtError::Invalid { field: "from", .. })));
        assert!(matches!(parse(b"From: a@b.example\r\nSubject: s\r\n\r\n"), Err(CirtError::Invalid { field: "body", .. })));
        let no_type = "From: a@b.example\r\nSubject: s\r\nX-ARF: yes\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\r\nx\r\n--b\r\n\r\nCategory: abuse\r\n--b--\r\n";
        assert!(matches!(parse(no_type.as_bytes()), Err(CirtError::Invalid { field: "x-arf", .. })));
        // Arbitrary bytes never panic.
        for sample in [&b"\xff\xfe\x00garbage"[..], b"From:\r\n\r\n", b"\r\n\r\n\r\n", b"From: <>\r\n"] {
            let _ = parse(sample);
        }
    }
}
