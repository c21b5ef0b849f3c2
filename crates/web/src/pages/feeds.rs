//! The feed pipeline's page. CIRT handlers see recent runs with their
//! counts, quarantined rows with file, line and reason, and the stored
//! events, searchable and exportable (CSV, JSON lines); a constituent sees
//! and exports the events about its own organisation. Which events a
//! viewer reads is `rampart_auth::access::feed_event_scope`, applied in the
//! query for the page and for both exports.

use super::{Ctx, csv_download, download, render};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::viewer::Viewer;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use rampart_auth::access::FeedEventScope;
use rampart_store::feeds::{FeedEventFilter, FeedEventRow};
use rampart_store::page::PageRequest;
use serde::Deserialize;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cirt/feeds", get(feeds_page))
        .route("/cirt/feeds/events.csv", get(export_csv))
        .route("/cirt/feeds/events.jsonl", get(export_jsonl))
}

#[derive(Deserialize, Default)]
struct EventQuery {
    feed: Option<String>,
    org: Option<String>,
    kind: Option<String>,
    ip: Option<String>,
    cursor: Option<String>,
}

impl EventQuery {
    fn clean(value: &Option<String>) -> Option<String> {
        value.as_ref().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn filter(&self, scope: &FeedEventScope) -> FeedEventFilter {
        FeedEventFilter {
            feed: Self::clean(&self.feed),
            org_id: Self::clean(&self.org),
            kind: Self::clean(&self.kind),
            source_ip: Self::clean(&self.ip),
            tlps: Some(scope.tlps.iter().map(|t| t.as_str().to_owned()).collect()),
            orgs: scope.orgs.clone(),
        }
    }

    /// The filters as a query string, for the export and next-page links.
    fn params(&self) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("feed", &self.feed), ("org", &self.org), ("kind", &self.kind), ("ip", &self.ip)] {
            if let Some(value) = Self::clean(value) {
                pairs.append_pair(name, &value);
            }
        }
        pairs.finish()
    }
}

fn require(viewer: &Viewer) -> Result<FeedEventScope, PageError> {
    let principal = viewer.require()?;
    rampart_auth::access::feed_event_scope(principal).ok_or(PageError(WebError::Forbidden))
}

struct RunLine {
    source: String,
    feed: String,
    updated: String,
    finished: bool,
    read: i64,
    parsed: i64,
    quarantined: i64,
    duplicates: i64,
    filtered: i64,
    stored: i64,
    incidents: i64,
}

struct QuarantineLine {
    source: String,
    line: i64,
    reason: String,
    raw: String,
}

struct EventLine {
    time: String,
    feed: String,
    kind: String,
    identifier: String,
    ip: String,
    country: String,
    constituent: String,
    tlp: String,
    tlp_class: &'static str,
}

#[derive(Template)]
#[template(path = "cirt_feeds.html")]
struct FeedsPage {
    c: Ctx,
    runs: Vec<RunLine>,
    quarantine: Vec<QuarantineLine>,
    events: Vec<EventLine>,
    feed: String,
    org: String,
    kind: String,
    ip: String,
    params: String,
    next: Option<String>,
    /// A CIRT handler (runs, quarantine, every constituent) rather than a
    /// constituent reading its own events.
    handler: bool,
}

async fn org_names(state: &AppState, rows: &[FeedEventRow]) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for org_id in rows.iter().filter_map(|r| r.org_id.as_ref()) {
        if !names.contains_key(org_id) {
            let name = state.store().org_get(org_id).await.map(|o| o.name).unwrap_or_else(|_| org_id.clone());
            names.insert(org_id.clone(), name);
        }
    }
    names
}

async fn feeds_page(State(state): State<AppState>, viewer: Viewer, Query(query): Query<EventQuery>) -> Result<Response, PageError> {
    let scope = require(&viewer)?;
    let handler = scope.orgs.is_none();
    let internal = |err: rampart_store::StoreError| PageError(WebError::Internal(err.to_string()));
    // Runs and the quarantine are the CIRT's operations, not a constituent's.
    let (runs, quarantine) = if handler {
        (state.store().feed_runs(20).await.map_err(internal)?, state.store().feed_quarantine(None, 20).await.map_err(internal)?)
    } else {
        (Vec::new(), Vec::new())
    };
    let request = PageRequest::with_cursor(50, query.cursor.as_deref()).ok_or_else(|| WebError::invalid("cursor", "is not one of ours"))?;
    let page = state.store().feed_events(&query.filter(&scope), &request).await.map_err(internal)?;
    let names = org_names(&state, &page.items).await;
    let c = Ctx::new(&state, &viewer, "feeds.title", "feeds");
    let params = query.params();
    let next = page.next_cursor.map(|cursor| {
        let mut pairs = url::form_urlencoded::Serializer::new(params.clone());
        pairs.append_pair("cursor", &cursor);
        pairs.finish()
    });
    render(&FeedsPage {
        c,
        runs: runs
            .into_iter()
            .map(|r| RunLine {
                source: r.source_name,
                feed: r.feed,
                updated: r.updated_at.chars().take(16).collect::<String>().replace('T', " "),
                finished: r.finished_at.is_some(),
                read: r.read_count,
                parsed: r.parsed,
                quarantined: r.quarantined,
                duplicates: r.duplicates,
                filtered: r.filtered,
                stored: r.stored,
                incidents: r.incidents,
            })
            .collect(),
        quarantine: quarantine
            .into_iter()
            .map(|q| QuarantineLine { source: q.source_name, line: q.line, reason: q.reason, raw: q.raw.chars().take(200).collect() })
            .collect(),
        events: page
            .items
            .iter()
            .map(|e| EventLine {
                time: e.event_time.chars().take(16).collect::<String>().replace('T', " "),
                feed: e.feed.clone(),
                kind: e.kind.clone(),
                identifier: e.identifier.clone(),
                ip: e.source_ip.clone().unwrap_or_default(),
                country: e.source_cc.clone().unwrap_or_default(),
                constituent: e.org_id.as_ref().and_then(|o| names.get(o).cloned()).unwrap_or_default(),
                tlp: e.tlp.clone(),
                tlp_class: super::cirt::tlp_class(&e.tlp),
            })
            .collect(),
        feed: query.feed.clone().unwrap_or_default(),
        org: query.org.clone().unwrap_or_default(),
        kind: query.kind.clone().unwrap_or_default(),
        ip: query.ip.clone().unwrap_or_default(),
        params,
        next,
        handler,
    })
}

/// Rows an export holds at most; the page says to narrow the filters.
const EXPORT_ROWS: usize = 100_000;

async fn exported(state: &AppState, scope: &FeedEventScope, query: &EventQuery) -> Result<Vec<FeedEventRow>, PageError> {
    let filter = query.filter(scope);
    let mut rows = Vec::new();
    let mut request = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let page = state.store().feed_events(&filter, &request).await.map_err(|err| PageError(WebError::Internal(err.to_string())))?;
        rows.extend(page.items);
        match page.next_cursor {
            Some(cursor) if rows.len() < EXPORT_ROWS => {
                request = PageRequest::with_cursor(PageRequest::MAX_LIMIT, Some(&cursor)).unwrap_or_default();
            }
            _ => break,
        }
    }
    rows.truncate(EXPORT_ROWS);
    Ok(rows)
}

async fn export_csv(State(state): State<AppState>, viewer: Viewer, Query(query): Query<EventQuery>) -> Result<Response, PageError> {
    let scope = require(&viewer)?;
    let rows = exported(&state, &scope, &query).await?;
    let names = org_names(&state, &rows).await;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "time.source",
        "feed.name",
        "classification.taxonomy",
        "classification.type",
        "classification.identifier",
        "source.ip",
        "source.asn",
        "source.geolocation.cc",
        "constituent",
        "tlp",
        "id",
    ];
    let _ = writer.write_record(header);
    for row in &rows {
        let constituent = row.org_id.as_ref().and_then(|o| names.get(o)).cloned().unwrap_or_default();
        let asn = row.source_asn.map(|a| a.to_string()).unwrap_or_default();
        let cells = [
            row.event_time.as_str(),
            row.feed.as_str(),
            row.taxonomy.as_str(),
            row.kind.as_str(),
            row.identifier.as_str(),
            row.source_ip.as_deref().unwrap_or_default(),
            asn.as_str(),
            row.source_cc.as_deref().unwrap_or_default(),
            constituent.as_str(),
            row.tlp.as_str(),
            row.id.as_str(),
        ];
        let _ = writer.write_record(cells.iter().map(|cell| rampart_core::spreadsheet::defuse(cell)));
    }
    let body = String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default();
    Ok(csv_download("feed-events.csv", body))
}

async fn export_jsonl(State(state): State<AppState>, viewer: Viewer, Query(query): Query<EventQuery>) -> Result<Response, PageError> {
    let scope = require(&viewer)?;
    let rows = exported(&state, &scope, &query).await?;
    let mut body = String::new();
    for row in &rows {
        body.push_str(&row.body);
        body.push('\n');
    }
    Ok(download("application/x-ndjson", "feed-events.jsonl", body.into_bytes()))
}
