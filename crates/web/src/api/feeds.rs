//! Pushing rows into the feed pipeline: a partner or a script posts a
//! report (CSV, or JSON lines) with an API token, and the rows go through
//! the same parse, enrichment, deduplication and storage as a collected
//! file.

use super::{ApiQuery, ApiRoute, path_parameter, query_parameter, route};
use crate::AppState;
use crate::error::{ApiError, WebError};
use crate::viewer::ApiCaller;
use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rampart_feeds::intake::Pushed;
use serde::Deserialize;
use serde_json::json;

/// The largest body one push may carry; bigger reports go through a
/// collector folder.
const MAX_PUSH_BYTES: usize = 64 << 20;

pub fn routes() -> Vec<ApiRoute> {
    vec![ApiRoute {
        parameters: vec![
            path_parameter("feed", "A feed of the server's pipeline (`[feeds] pipeline`)."),
            query_parameter(
                "name",
                "The report's file name; for a Shadowserver feed it picks the report, as a file's name does (`2026-11-29-scan_telnet-ke-geo.csv`).",
            ),
        ],
        request_body: Some(json!({"type": "string", "description": "The report: CSV with its header, or one JSON event a line."})),
        request_media: &["text/csv", "application/x-ndjson"],
        response: json!({"type": "object", "properties": {
            "run": {"type": "string"},
            "queued": {"type": "boolean", "description": "false: the rows went through the (embedded) pipeline and the counts say what became of them; true: they wait on the first JetStream stream for the workers (202 Accepted)."},
            "read": {"type": "integer"}, "parsed": {"type": "integer"}, "quarantined": {"type": "integer"}, "duplicates": {"type": "integer"},
            "filtered": {"type": "integer"}, "stored": {"type": "integer"}, "incidents": {"type": "integer"},
            "published": {"type": "integer"}, "messages": {"type": "integer"}}}),
        handler: post(push).layer(DefaultBodyLimit::max(MAX_PUSH_BYTES)),
        ..route(
            "post",
            "/feeds/{feed}/events",
            "pushFeedEvents",
            "feeds",
            "Push a report's rows into the feed pipeline; pushing the same body again stores nothing twice.",
            "incident handlers of the pipeline's CIRT",
        )
    }]
}

#[derive(Deserialize)]
struct PushQuery {
    name: Option<String>,
}

async fn push(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(feed): Path<String>,
    ApiQuery(query): ApiQuery<PushQuery>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let Some(intake) = state.feed_intake() else {
        return Err(WebError::NotFound("feed pipeline").into());
    };
    if !rampart_auth::access::may_push_feed(&caller.principal, intake.config().cirt.as_deref()) {
        return Err(WebError::Forbidden.into());
    }
    if intake.config().feed(&feed).is_none() {
        return Err(WebError::NotFound("feed").into());
    }
    let name = query.name.unwrap_or_else(|| "push".into());
    if name.len() > 200 || name.contains(['/', '\\', '\0']) {
        return Err(WebError::invalid("name", "a file name of at most 200 characters, without slashes").into());
    }
    if body.is_empty() {
        return Err(WebError::invalid("body", "the report is empty").into());
    }
    let audit = caller.actor().entry("feeds.push", "feed_run", None, json!({}));
    let pushed = intake.push(&feed, &name, body.to_vec(), audit).await.map_err(feed_error)?;
    Ok(match pushed {
        Pushed::Stored(summary) => {
            let c = summary.counts;
            Json(json!({
                "run": summary.run_id, "queued": false, "read": c.read, "parsed": c.parsed, "quarantined": c.quarantined,
                "duplicates": c.duplicates, "filtered": c.filtered, "stored": c.stored, "incidents": c.incidents,
            }))
            .into_response()
        }
        Pushed::Published(published) => (
            StatusCode::ACCEPTED,
            Json(json!({"run": published.run_id, "queued": true, "published": published.rows, "messages": published.chunks})),
        )
            .into_response(),
    })
}

fn feed_error(err: rampart_feeds::FeedError) -> ApiError {
    use rampart_feeds::FeedError;
    match err {
        FeedError::Field { field, message } => WebError::Invalid { field, message }.into(),
        FeedError::Line { line, message, .. } => WebError::invalid("body", format!("line {line}: {message}")).into(),
        FeedError::Store(err) => WebError::from(err).into(),
        other => WebError::Internal(other.to_string()).into(),
    }
}
