//! Parsers: a source's rows to harmonised events. A parser is bound to a
//! source once (its header, its report type) and then turns each row into
//! an event or a reason for quarantine.

use crate::FeedError;
use crate::config::{FeedConfig, ParserKind};
use crate::event::Event;
use crate::record::SourceInfo;
use crate::shadowserver::{BoundReport, Schema};
use serde_json::Value;

#[derive(Debug)]
pub enum SourceParser {
    Shadowserver(Box<BoundReport>),
    Csv {
        columns: Vec<(String, usize)>,
        width: usize,
    },
    JsonLines,
    /// X-ARF reports, one message's fields a row (see `xarf`).
    XArf,
    /// The source could not be bound (no such report, a required column
    /// missing from the header): every row is quarantined with this reason.
    Broken(String),
}

impl SourceParser {
    pub fn bind(feed: &FeedConfig, schema: &Schema, source: &SourceInfo) -> SourceParser {
        let header: Vec<&str> = source.header.iter().map(String::as_str).collect();
        match &feed.parser {
            ParserKind::Shadowserver { report } => {
                let found = match report {
                    Some(name) => schema.report(name),
                    None => schema.report_for_file(&source.name),
                };
                let Some(found) = found else {
                    return SourceParser::Broken(format!(
                        "no Shadowserver report matches `{}`; name the report in the feed's configuration",
                        report.as_deref().unwrap_or(&source.name)
                    ));
                };
                match BoundReport::bind(found, &header) {
                    Ok(bound) => SourceParser::Shadowserver(Box::new(bound)),
                    Err(err) => SourceParser::Broken(format!("header: {err}")),
                }
            }
            ParserKind::Csv { columns } => {
                let mut bound = Vec::new();
                for (field, column) in columns {
                    match header.iter().position(|h| h.trim() == column) {
                        Some(index) => bound.push((field.clone(), index)),
                        None => return SourceParser::Broken(format!("header: column `{column}` (for {field}) is missing")),
                    }
                }
                SourceParser::Csv { columns: bound, width: header.len() }
            }
            ParserKind::JsonLines => SourceParser::JsonLines,
            ParserKind::XArf => SourceParser::XArf,
        }
    }

    /// One row to an event (before the feed's constants and the experts).
    pub fn event(&self, fields: &[String]) -> Result<Event, FeedError> {
        match self {
            SourceParser::Shadowserver(bound) => bound.event(fields),
            SourceParser::Csv { columns, width } => {
                if fields.len() != *width {
                    return Err(FeedError::field("row", format!("has {} columns where the header has {width}", fields.len())));
                }
                let mut event = Event::new();
                for (field, index) in columns {
                    let text = fields.get(*index).map(String::as_str).unwrap_or_default();
                    event.add(field, Value::String(text.to_owned()))?;
                }
                Ok(event)
            }
            SourceParser::JsonLines => {
                let line = fields.first().map(String::as_str).unwrap_or_default();
                Event::from_json(line)
            }
            SourceParser::XArf => crate::xarf::event(fields.first().map(String::as_str).unwrap_or_default()),
            SourceParser::Broken(reason) => Err(FeedError::field("source", reason.clone())),
        }
    }

    /// Whether the input has a header line (CSV) or not (JSON lines, and
    /// the X-ARF collector's rows).
    pub fn has_header(kind: &ParserKind) -> bool {
        !matches!(kind, ParserKind::JsonLines | ParserKind::XArf)
    }
}

/// The original row as CSV text, for `raw` and for quarantine: fields
/// joined by commas, quoted (RFC 4180) only where they need it.
pub fn row_text(fields: &[String]) -> String {
    let mut out = String::with_capacity(fields.iter().map(|f| f.len() + 1).sum());
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_quoted_only_where_needed() {
        let fields: Vec<String> = ["a", "b,c", "say \"hi\"", ""].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(row_text(&fields), "a,\"b,c\",\"say \"\"hi\"\"\",");
        let text = row_text(&fields);
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
        let back: Vec<String> = reader.records().next().unwrap().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(back, fields);
    }
}
