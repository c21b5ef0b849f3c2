//! Shadowserver's CSV reports, driven by a mapping file in the shape of the
//! schema Shadowserver publishes for IntelMQ: per report a `feed_name`, a
//! `file_name`, `constant_fields`, and `required_fields` and
//! `optional_fields` as `[event field, CSV column, conversion]` triples. A
//! user loads an updated schema with `feeds.shadowserver_schema` and new
//! report types work without a new release.
//!
//! A row that misses a required column, or whose required value is not
//! valid, is refused with the column named; an optional value that does
//! not fit its field is kept in `extra.` under the column's name instead,
//! as IntelMQ does. Columns the mapping does not name go to `extra.` too,
//! so nothing a report says is lost.

use crate::FeedError;
use crate::event::Event;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The schema Rampart ships: the common scan, event and sandbox reports.
pub const BUILT_IN_SCHEMA: &str = include_str!("../data/shadowserver-schema.json");

#[derive(Debug, Clone, Deserialize)]
struct RawReport {
    feed_name: String,
    file_name: String,
    #[serde(default)]
    constant_fields: BTreeMap<String, Value>,
    #[serde(default)]
    required_fields: Vec<Vec<Value>>,
    #[serde(default)]
    optional_fields: Vec<Vec<Value>>,
}

/// What a conversion does to a column's text before the event field checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conversion {
    /// The text as it is; the field's own check applies.
    None,
    /// A time with no zone is UTC.
    AddUtc,
    /// `0` means "no value".
    InvalidateZero,
    /// An empty or `0`/`none`/`n/a`-like value is no value.
    ToNone,
    /// `Y`/`yes`/`true`/`1` and their opposites.
    Bool,
    /// Base64 of the text.
    Base64,
    /// A URL built from the row's `http_host` (or `hostname`) and this path.
    HostAndUrl,
    /// A conversion this version does not know: the text passes through.
    Unknown(String),
}

impl Conversion {
    fn parse(name: &str) -> Conversion {
        match name {
            "" => Conversion::None,
            "add_UTC_to_timestamp" | "convert_date_utc" | "convert_date" => Conversion::AddUtc,
            "invalidate_zero" => Conversion::InvalidateZero,
            "validate_to_none" => Conversion::ToNone,
            "convert_bool" | "set_tor_node" => Conversion::Bool,
            "force_base64" => Conversion::Base64,
            "convert_http_host_and_url" => Conversion::HostAndUrl,
            // The field's own check does what these do.
            "validate_ip" | "validate_network" | "validate_fqdn" | "convert_int" | "convert_float" | "validate_asn" | "to_lower" => {
                Conversion::None
            }
            other => Conversion::Unknown(other.to_owned()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FieldMap {
    /// The event field, or `extra.` to keep the column under its own name.
    pub target: String,
    pub column: String,
    pub conversion: Conversion,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub key: String,
    pub feed_name: String,
    pub file_name: String,
    pub constants: Vec<(String, Value)>,
    pub required: Vec<FieldMap>,
    pub optional: Vec<FieldMap>,
}

/// A loaded schema: reports by key, with lookups by file name and feed name.
#[derive(Debug, Clone)]
pub struct Schema {
    reports: BTreeMap<String, Report>,
    by_file: HashMap<String, String>,
    by_feed: HashMap<String, String>,
    /// Conversion names the schema uses that this version passes through.
    pub unknown_conversions: Vec<String>,
}

fn triple(report: &str, list: &str, index: usize, entry: &[Value]) -> Result<FieldMap, FeedError> {
    let at = || format!("{report}.{list}[{index}]");
    let text = |i: usize| entry.get(i).and_then(Value::as_str).map(str::to_owned);
    let (Some(target), Some(column)) = (text(0), text(1)) else {
        return Err(FeedError::field(at(), "must be [event field, CSV column, conversion]"));
    };
    if target != "extra." && crate::event::kind_of(&target).is_none() {
        return Err(FeedError::field(at(), format!("`{target}` is not a field of the harmonised event")));
    }
    let conversion = Conversion::parse(&text(2).unwrap_or_default());
    Ok(FieldMap { target, column, conversion })
}

impl Schema {
    /// Reads a schema; errors name the report and entry, or the JSON line.
    pub fn parse(json: &str) -> Result<Schema, FeedError> {
        let raw: BTreeMap<String, Value> =
            serde_json::from_str(json).map_err(|err| FeedError::line("shadowserver schema", err.line() as u64, err.to_string()))?;
        let mut reports = BTreeMap::new();
        let mut by_file = HashMap::new();
        let mut by_feed = HashMap::new();
        let mut unknown = Vec::new();
        for (key, value) in raw {
            if key.starts_with('_') {
                continue;
            }
            let report: RawReport = serde_json::from_value(value).map_err(|err| FeedError::field(key.clone(), err.to_string()))?;
            let mut constants = Vec::new();
            for (field, value) in report.constant_fields {
                let mut probe = Event::new();
                probe.add(&field, value.clone()).map_err(|err| FeedError::field(format!("{key}.constant_fields"), err.to_string()))?;
                constants.push((field, value));
            }
            let required = report
                .required_fields
                .iter()
                .enumerate()
                .map(|(i, e)| triple(&key, "required_fields", i, e))
                .collect::<Result<Vec<_>, _>>()?;
            let optional = report
                .optional_fields
                .iter()
                .enumerate()
                .map(|(i, e)| triple(&key, "optional_fields", i, e))
                .collect::<Result<Vec<_>, _>>()?;
            for map in required.iter().chain(&optional) {
                if let Conversion::Unknown(name) = &map.conversion
                    && !unknown.contains(name)
                {
                    unknown.push(name.clone());
                }
            }
            by_file.insert(report.file_name.clone(), key.clone());
            by_feed.insert(report.feed_name.to_ascii_lowercase(), key.clone());
            reports.insert(
                key.clone(),
                Report { key, feed_name: report.feed_name, file_name: report.file_name, constants, required, optional },
            );
        }
        if reports.is_empty() {
            return Err(FeedError::field("shadowserver schema", "holds no reports"));
        }
        Ok(Schema { reports, by_file, by_feed, unknown_conversions: unknown })
    }

    pub fn built_in() -> Result<Schema, FeedError> {
        Schema::parse(BUILT_IN_SCHEMA)
    }

    pub fn reports(&self) -> impl Iterator<Item = &Report> {
        self.reports.values()
    }

    /// A report by its key, its `file_name` or its `feed_name`.
    pub fn report(&self, name: &str) -> Option<&Report> {
        self.reports
            .get(name)
            .or_else(|| self.by_file.get(name).and_then(|k| self.reports.get(k)))
            .or_else(|| self.by_feed.get(&name.to_ascii_lowercase()).and_then(|k| self.reports.get(k)))
    }

    /// The report a file's name says it is: Shadowserver names files
    /// `YYYY-MM-DD-<file_name>-<country>-<geo>.csv`, e.g.
    /// `2026-11-29-scan_telnet-ke-geo.csv`.
    pub fn report_for_file(&self, file_name: &str) -> Option<&Report> {
        let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
        let stem = base.strip_suffix(".csv").unwrap_or(base);
        let stem = strip_date(stem);
        let first = stem.split('-').next().unwrap_or(stem);
        self.report(first).or_else(|| self.report(stem))
    }
}

fn strip_date(stem: &str) -> &str {
    let bytes = stem.as_bytes();
    let dated = bytes.len() > 11
        && bytes[..10].iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() })
        && bytes[10] == b'-';
    if dated { &stem[11..] } else { stem }
}

/// A report bound to a file's header: column positions resolved once, so
/// each row is a few indexed reads.
#[derive(Debug, Clone)]
pub struct BoundReport {
    report: Report,
    required: Vec<(usize, FieldMap)>,
    optional: Vec<(usize, FieldMap)>,
    unmapped: Vec<(usize, String)>,
    host_column: Option<usize>,
    columns: usize,
}

impl BoundReport {
    /// Binds to the header; a required column the header lacks is an error
    /// for the whole file.
    pub fn bind(report: &Report, header: &[&str]) -> Result<BoundReport, FeedError> {
        let position = |column: &str| header.iter().position(|h| h.trim() == column);
        let mut required = Vec::new();
        for map in &report.required {
            let Some(index) = position(&map.column) else {
                return Err(FeedError::field(
                    map.column.clone(),
                    format!("the {} report requires this column and the header lacks it", report.key),
                ));
            };
            required.push((index, map.clone()));
        }
        let optional: Vec<(usize, FieldMap)> =
            report.optional.iter().filter_map(|map| position(&map.column).map(|i| (i, map.clone()))).collect();
        let used: Vec<usize> = required.iter().chain(&optional).map(|(i, _)| *i).collect();
        let unmapped = header
            .iter()
            .enumerate()
            .filter(|(i, _)| !used.contains(i))
            .map(|(i, h)| (i, format!("extra.{}", h.trim())))
            .filter(|(_, name)| name.len() > "extra.".len())
            .collect();
        let host_column = position("http_host").or_else(|| position("hostname"));
        Ok(BoundReport { report: report.clone(), required, optional, unmapped, host_column, columns: header.len() })
    }

    pub fn report(&self) -> &Report {
        &self.report
    }

    /// One row to an event, or the reason it cannot be one.
    pub fn event(&self, row: &[String]) -> Result<Event, FeedError> {
        if row.len() != self.columns {
            return Err(FeedError::field("row", format!("has {} columns where the header has {}", row.len(), self.columns)));
        }
        let mut event = Event::new();
        for (field, value) in &self.report.constants {
            event.add(field, value.clone())?;
        }
        for (index, map) in &self.required {
            let text = row.get(*index).map(String::as_str).unwrap_or_default();
            let value = self.convert(&map.conversion, text, row);
            match value {
                Some(value) => event.add(&target(map), value).map_err(|err| relabel(err, &map.column))?,
                None => return Err(FeedError::field(map.column.clone(), "is required and empty")),
            }
        }
        for (index, map) in &self.optional {
            let text = row.get(*index).map(String::as_str).unwrap_or_default();
            if let Some(value) = self.convert(&map.conversion, text, row)
                && event.add(&target(map), value).is_err()
            {
                // Kept, not lost: the value did not fit its field.
                event.add(&format!("extra.{}", map.column), Value::String(text.to_owned()))?;
            }
        }
        for (index, name) in &self.unmapped {
            let text = row.get(*index).map(String::as_str).unwrap_or_default();
            if !text.is_empty() {
                event.add(name, Value::String(text.to_owned()))?;
            }
        }
        Ok(event)
    }

    fn convert(&self, conversion: &Conversion, text: &str, row: &[String]) -> Option<Value> {
        let text = text.trim();
        match conversion {
            Conversion::None | Conversion::AddUtc | Conversion::Unknown(_) => (!text.is_empty()).then(|| Value::String(text.to_owned())),
            Conversion::InvalidateZero => (!text.is_empty() && text != "0").then(|| Value::String(text.to_owned())),
            Conversion::ToNone => {
                let none = text.is_empty() || matches!(text.to_ascii_lowercase().as_str(), "0" | "unknown" | "none" | "n/a" | "null" | "-");
                (!none).then(|| Value::String(text.to_owned()))
            }
            Conversion::Bool => match text.to_ascii_lowercase().as_str() {
                "y" | "yes" | "true" | "1" => Some(Value::Bool(true)),
                "n" | "no" | "false" | "0" => Some(Value::Bool(false)),
                _ => None,
            },
            Conversion::Base64 => (!text.is_empty()).then(|| Value::String(data_encoding::BASE64.encode(text.as_bytes()))),
            Conversion::HostAndUrl => {
                let host = self.host_column.and_then(|i| row.get(i)).map(|h| h.trim()).unwrap_or_default();
                if host.is_empty() {
                    None
                } else {
                    let path = if text.starts_with('/') { text.to_owned() } else { format!("/{text}") };
                    Some(Value::String(format!("http://{host}{path}")))
                }
            }
        }
    }
}

fn target(map: &FieldMap) -> String {
    if map.target == "extra." { format!("extra.{}", map.column) } else { map.target.clone() }
}

/// Errors name the CSV column the analyst can see, with the field it fills.
fn relabel(err: FeedError, column: &str) -> FeedError {
    match err {
        FeedError::Field { field, message } => FeedError::field(format!("{column} ({field})"), message),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_built_in_schema_loads_and_names_reports_by_file() {
        let schema = Schema::built_in().unwrap();
        assert!(schema.reports().count() >= 8);
        assert_eq!(schema.report_for_file("2026-11-29-scan_telnet-ke-geo.csv").map(|r| r.key.as_str()), Some("scan_telnet"));
        assert_eq!(schema.report_for_file("/in/scan_telnet.csv").map(|r| r.key.as_str()), Some("scan_telnet"));
        assert!(schema.report_for_file("2026-11-29-unheard_of-ke-geo.csv").is_none());
    }

    #[test]
    fn a_broken_schema_names_the_entry() {
        let err = Schema::parse(r#"{"scan_x": {"feed_name": "X", "file_name": "scan_x", "required_fields": [["source.nope", "ip"]]}}"#)
            .unwrap_err();
        assert!(err.to_string().starts_with("scan_x.required_fields[0]"), "{err}");
        let err = Schema::parse("{\n\"a\": [").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err =
            Schema::parse(r#"{"scan_x": {"feed_name": "X", "file_name": "scan_x", "constant_fields": {"classification.type": "nope"}}}"#)
                .unwrap_err();
        assert!(err.to_string().starts_with("scan_x.constant_fields"), "{err}");
    }

    #[test]
    fn a_row_becomes_an_event_and_bad_rows_name_the_column() {
        let schema = Schema::parse(
            r#"{"scan_telnet": {"feed_name": "Accessible-Telnet", "file_name": "scan_telnet",
                "constant_fields": {"classification.taxonomy": "vulnerable", "classification.type": "vulnerable-system", "classification.identifier": "open-telnet"},
                "required_fields": [["time.source", "timestamp", "add_UTC_to_timestamp"], ["source.ip", "ip", "validate_ip"]],
                "optional_fields": [["source.port", "port", "convert_int"], ["source.asn", "asn", "invalidate_zero"], ["extra.", "banner", "validate_to_none"]]}}"#,
        )
        .unwrap();
        let report = schema.report("scan_telnet").unwrap();
        let header = ["timestamp", "ip", "port", "asn", "banner", "naics"];
        let bound = BoundReport::bind(report, &header).unwrap();
        let row = strings(&["2026-11-29 10:00:00", "192.0.2.1", "23", "0", "login:", "517311"]);
        let event = bound.event(&row).unwrap();
        assert_eq!(event.get_str("source.ip"), Some("192.0.2.1"));
        assert_eq!(event.get_str("time.source"), Some("2026-11-29T10:00:00+00:00"));
        assert_eq!(event.get("source.port"), Some(&Value::from(23)));
        assert!(!event.contains("source.asn"), "zero is no AS");
        assert_eq!(event.get_str("extra.banner"), Some("login:"));
        assert_eq!(event.get_str("extra.naics"), Some("517311"), "unmapped columns are kept");
        assert_eq!(event.get_str("classification.identifier"), Some("open-telnet"));

        let bad = strings(&["2026-11-29 10:00:00", "not-an-ip", "23", "0", "", ""]);
        assert!(bound.event(&bad).unwrap_err().to_string().starts_with("ip (source.ip):"));
        let odd_port = strings(&["2026-11-29 10:00:00", "192.0.2.1", "telnet", "", "", ""]);
        assert_eq!(bound.event(&odd_port).unwrap().get_str("extra.port"), Some("telnet"));
        let short = strings(&["2026-11-29 10:00:00"]);
        assert!(bound.event(&short).unwrap_err().to_string().contains("columns"));
        let err = BoundReport::bind(report, &["timestamp", "port"]).unwrap_err();
        assert!(err.to_string().starts_with("ip:"), "{err}");
    }
}
