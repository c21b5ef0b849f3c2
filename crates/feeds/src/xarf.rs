//! X-ARF abuse reports (v0.2 YAML or v0.3 JSON, as e-mail) as events.
//! The maildir collector turns each message into one row: a JSON object
//! of the report's fields by normalised key (`reporttype`, `source`, …),
//! or `{"_error": …}` when the message is not a readable X-ARF report, so
//! that it is quarantined with the reason like any bad row.

use crate::FeedError;
use crate::event::{Event, format_time, parse_time};
use serde_json::{Map, Value};

/// Fields the mapping uses; the others go to `extra.<key>`.
const MAPPED: [&str; 8] = ["reporttype", "source", "sourcetype", "port", "service", "date", "messagedate", "category"];

/// The row the collector writes for a message.
pub(crate) fn row_for_message(raw: &[u8]) -> String {
    let value = match rampart_cirt::intake::xarf_report(raw) {
        Ok(fields) => Value::Object(fields.into_iter().map(|(k, v)| (k, Value::String(v))).collect()),
        Err(err) => serde_json::json!({"_error": err.to_string()}),
    };
    value.to_string()
}

/// An X-ARF date: RFC 2822 (`Thu, 03 Sep 2009 10:54:22 +0200`) or one of
/// the forms feeds write.
fn time_of(text: &str) -> Option<String> {
    let at = chrono::DateTime::parse_from_rfc2822(text.trim()).map(|t| t.with_timezone(&chrono::Utc)).ok().or_else(|| parse_time(text))?;
    Some(format_time(at))
}

/// One row (the collector's JSON object) to an event.
pub(crate) fn event(row: &str) -> Result<Event, FeedError> {
    let fields: Map<String, Value> = match serde_json::from_str(row) {
        Ok(Value::Object(map)) => map,
        _ => return Err(FeedError::field("x-arf", "the row is not a report's fields")),
    };
    if let Some(error) = fields.get("_error").and_then(Value::as_str) {
        return Err(FeedError::field("x-arf", error.to_owned()));
    }
    let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty());
    let report_type = text("reporttype").ok_or_else(|| FeedError::field("x-arf", "the report has no Report-Type"))?;
    let mut event = Event::new();
    let (_, rsit_type) = rampart_cirt::intake::rsit_for(report_type);
    event.add_text("classification.type", rsit_type)?;
    event.add_text("classification.identifier", &report_type.to_ascii_lowercase())?;
    let source = text("source").ok_or_else(|| FeedError::field("x-arf", "the report has no Source"))?;
    let field = match text("sourcetype").map(str::to_ascii_lowercase).as_deref() {
        Some("ipv4" | "ipv6" | "ip-address" | "ip") => "source.ip",
        Some("uri" | "url") => "source.url",
        Some("domain" | "fqdn" | "hostname") => "source.fqdn",
        _ if source.parse::<std::net::IpAddr>().is_ok() => "source.ip",
        _ if source.contains("://") => "source.url",
        _ => "source.fqdn",
    };
    event.add_text(field, source)?;
    if let Some(port) = text("port") {
        // The port of the service attacked or abused.
        event.add_text("destination.port", port)?;
    }
    if let Some(service) = text("service") {
        event.add_text("protocol.application", &service.to_ascii_lowercase())?;
    }
    if let Some(when) = text("date").or_else(|| text("messagedate")) {
        let at = time_of(when).ok_or_else(|| FeedError::field("time.source", format!("`{when}` is not a date")))?;
        event.add_text("time.source", &at)?;
    }
    if let Some(category) = text("category") {
        event.add_text("extra.xarf_category", category)?;
    }
    for (key, value) in &fields {
        if MAPPED.contains(&key.as_str()) || key.starts_with('_') {
            continue;
        }
        if let Some(value) = value.as_str().filter(|v| !v.trim().is_empty())
            && key.chars().all(|c| c.is_ascii_alphanumeric())
        {
            event.add_text(&format!("extra.xarf_{key}"), value)?;
        }
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &[u8] = b"From: abuse@reporter.example\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\nSubject: abuse\r\nX-ARF: YES\r\n\
        Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nA host attacked us.\r\n\
        --b\r\nContent-Type: text/plain; name=\"report.txt\"\r\n\r\nReported-From: abuse@reporter.example\r\nCategory: abuse\r\n\
        Report-Type: login-attack\r\nService: SSH\r\nPort: 22\r\nSource-Type: ipv4\r\nSource: 192.0.2.44\r\nDate: Sun, 29 Nov 2026 09:58:00 +0100\r\n--b--\r\n";

    #[test]
    fn a_login_attack_report_becomes_a_brute_force_event() {
        let event = event(&row_for_message(REPORT)).unwrap();
        assert_eq!(event.get_str("classification.type"), Some("brute-force"));
        assert_eq!(event.get_str("classification.identifier"), Some("login-attack"));
        assert_eq!(event.get_str("source.ip"), Some("192.0.2.44"));
        assert_eq!(event.get("destination.port").and_then(Value::as_i64), Some(22));
        assert_eq!(event.get_str("protocol.application"), Some("ssh"));
        assert_eq!(event.get_str("time.source"), Some("2026-11-29T08:58:00+00:00"), "the report's own date, in UTC");
        assert_eq!(event.get_str("extra.xarf_category"), Some("abuse"));
        assert_eq!(event.get_str("extra.xarf_reportedfrom"), Some("abuse@reporter.example"));
    }

    #[test]
    fn what_is_not_a_report_is_refused_with_the_reason() {
        let plain = row_for_message(b"From: a@b.example\r\nSubject: hello\r\n\r\njust mail\r\n");
        assert!(event(&plain).unwrap_err().to_string().contains("X-ARF: yes"), "{plain}");
        assert!(event("not json").is_err());
        let no_source = serde_json::json!({"reporttype": "spam"}).to_string();
        assert!(event(&no_source).unwrap_err().to_string().contains("Source"));
        let bad_date = serde_json::json!({"reporttype": "spam", "source": "192.0.2.1", "date": "yesterday"}).to_string();
        assert!(event(&bad_date).unwrap_err().to_string().starts_with("time.source"));
        let url = serde_json::json!({"reporttype": "phishing", "source": "http://p.example/login"}).to_string();
        assert_eq!(event(&url).unwrap().get_str("source.url"), Some("http://p.example/login"));
    }
}
