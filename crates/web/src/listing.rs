//! The one mechanism by which every list is paged and exported: `limit`,
//! `cursor` and `format` (json or csv) in the query string, the same for
//! pages and API. Filters are per list; TLP and scope are applied by the
//! caller before items get here.

use crate::error::WebError;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rampart_store::PageRequest;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListParams {
    #[serde(default, deserialize_with = "number_or_text")]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub format: Option<String>,
}

/// Query strings carry numbers as text, and `#[serde(flatten)]` (used to
/// share these parameters) loses the type hint that would convert them; so
/// accept both, and report a bad value as the `limit` field.
fn number_or_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u32),
        Text(String),
    }
    match Option::<Raw>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Raw::Number(n)) => Ok(Some(n)),
        Some(Raw::Text(text)) if text.is_empty() => Ok(None),
        Some(Raw::Text(text)) => {
            text.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("limit: `{text}` is not a whole number")))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl ListParams {
    pub fn page(&self, default_limit: u32) -> Result<PageRequest, WebError> {
        let limit = self.limit.unwrap_or(default_limit);
        if limit == 0 || limit > PageRequest::MAX_LIMIT {
            return Err(WebError::invalid("limit", format!("must be between 1 and {}", PageRequest::MAX_LIMIT)));
        }
        PageRequest::with_cursor(limit, self.cursor.as_deref()).ok_or_else(|| WebError::invalid("cursor", "is not a cursor from this list"))
    }

    pub fn format(&self) -> Result<Format, WebError> {
        match self.format.as_deref() {
            None | Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some(other) => Err(WebError::invalid("format", format!("`{other}` is not json or csv"))),
        }
    }
}

/// Renders items (already serialised to JSON objects) as the list envelope
/// or as CSV with the given columns.
pub fn render(items: Vec<Value>, next_cursor: Option<String>, format: Format, columns: &[&str], filename: &str) -> Response {
    match format {
        Format::Json => axum::Json(serde_json::json!({"items": items, "next_cursor": next_cursor})).into_response(),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let _ = writer.write_record(columns);
            for item in &items {
                let row: Vec<String> = columns.iter().map(|column| cell(item.get(*column))).collect();
                let _ = writer.write_record(&row);
            }
            let body = writer.into_inner().unwrap_or_default();
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}.csv\"")) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            if let Some(cursor) = next_cursor
                && let Ok(value) = HeaderValue::from_str(&cursor)
            {
                headers.insert("x-next-cursor", value);
            }
            response
        }
    }
}

/// A CSV cell. Text starting with a formula character is prefixed with a
/// quote so a spreadsheet does not execute it (CSV injection).
fn cell(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items.iter().map(|i| cell(Some(i))).collect::<Vec<_>>().join(";"),
        Some(other) => other.to_string(),
    };
    rampart_core::spreadsheet::defuse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_defused() {
        assert_eq!(cell(Some(&Value::String("=HYPERLINK(1)".into()))), "'=HYPERLINK(1)");
        assert_eq!(cell(Some(&serde_json::json!(["a", "b"]))), "a;b");
        assert_eq!(cell(None), "");
        assert!(ListParams { limit: Some(0), ..Default::default() }.page(50).is_err());
        assert!(ListParams { format: Some("xml".into()), ..Default::default() }.format().is_err());
    }
}
