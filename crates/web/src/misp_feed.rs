//! Machine feeds. MISP feeds of TAXII collections at `/misp/feeds/{collection}/`: the
//! `manifest.json`, one `<event uuid>.json` per event and `hashes.csv`
//! that MISP (and any feed consumer) fetches. A MISP instance adds the feed
//! with an `Authorization: Bearer <token>` header; each caller gets the
//! collection as the access layer lets them see it (TLP included), turned
//! into events by `rampart_intel::misp_export`. And the indicator store
//! as CSV, block lists and STIX at `/feeds/indicators/{format}`.

use crate::AppState;
use crate::error::ApiError;
use crate::viewer::ApiCaller;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rampart_core::Tlp;
use rampart_intel::IntelError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/misp/feeds/{collection}/{file}", get(feed_file))
        .route("/feeds/indicators/{format}", get(indicator_feed))
        .route("/feeds/indicators/misp/{file}", get(indicator_misp_feed))
}

/// The indicator store in one of its export formats (`csv`, `ip.txt`,
/// `domain.txt`, `stix.json`), as `principal` may see it; expired and
/// warned indicators only when the query asks.
pub async fn indicator_export(
    state: &AppState,
    principal: &rampart_auth::Principal,
    format: &str,
    query: &rampart_intel::indicators::Query,
) -> Result<Response, IntelError> {
    use rampart_intel::indicators::{blocklist, csv, stix_bundle};
    let views = state.indicators().list(principal, query).await?;
    let now = state.auth().now();
    Ok(match format {
        "csv" => answer(StatusCode::OK, "text/csv; charset=utf-8", csv(&views)),
        "ip.txt" => answer(StatusCode::OK, "text/plain; charset=utf-8", blocklist(&views, "ip", now)?),
        "domain.txt" => answer(StatusCode::OK, "text/plain; charset=utf-8", blocklist(&views, "domain", now)?),
        "stix.json" => answer(StatusCode::OK, "application/stix+json;version=2.1", stix_bundle(&views, now).to_string()),
        other => {
            return Err(IntelError::Invalid {
                path: "format".into(),
                message: format!("{other:?} is not csv, ip.txt, domain.txt or stix.json"),
            });
        }
    })
}

#[derive(serde::Deserialize, Default)]
struct FeedQuery {
    kind: Option<String>,
    expired: Option<String>,
    warned: Option<String>,
    max_tlp: Option<String>,
}

/// The caller's view of the indicator store (current, not warned) as a MISP
/// feed: `manifest.json`, `<uuid>.json`, `hashes.csv`.
async fn indicator_misp_feed(State(state): State<AppState>, Path(file): Path<String>, found: Result<ApiCaller, ApiError>) -> Response {
    let caller = match machine_caller(&state, found) {
        Ok(caller) => caller,
        Err(turned) => return turned.into_response(),
    };
    let views = match state.indicators().list(&caller.principal, &rampart_intel::indicators::Query::default()).await {
        Ok(views) => views,
        Err(IntelError::Forbidden) => return refuse(StatusCode::FORBIDDEN, "you may not read indicators"),
        Err(err) => {
            tracing::error!(error = %err, "building the indicator feed failed");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "the feed could not be built");
        }
    };
    let owner = match state.store().org_get(&caller.principal.org_id).await {
        Ok(org) => rampart_intel::misp_export::Publisher { name: org.name, uuid: org.id },
        Err(_) => return refuse(StatusCode::FORBIDDEN, "you belong to no organisation"),
    };
    let events = rampart_intel::indicators::misp_events(&views, &owner, state.auth().now());
    feed_answer(&events, &file)
}

/// One file of a MISP feed made of `events`.
fn feed_answer(events: &[serde_json::Value], file: &str) -> Response {
    match file {
        "manifest.json" => answer(StatusCode::OK, "application/json", rampart_intel::misp_export::manifest(events).to_string()),
        "hashes.csv" => answer(StatusCode::OK, "text/csv; charset=utf-8", rampart_intel::misp_export::hashes_csv(events)),
        name => {
            let wanted = name.strip_suffix(".json").unwrap_or("");
            match events.iter().find(|e| !wanted.is_empty() && e["Event"]["uuid"].as_str() == Some(wanted)) {
                Some(event) => answer(StatusCode::OK, "application/json", event.to_string()),
                None => refuse(StatusCode::NOT_FOUND, "no such event in this feed"),
            }
        }
    }
}

/// For firewalls, resolvers and scripts: the indicator store with an API token.
async fn indicator_feed(
    State(state): State<AppState>,
    Path(format): Path<String>,
    axum::extract::Query(query): axum::extract::Query<FeedQuery>,
    found: Result<ApiCaller, ApiError>,
) -> Response {
    let caller = match machine_caller(&state, found) {
        Ok(caller) => caller,
        Err(turned) => return turned.into_response(),
    };
    let max_tlp = match query.max_tlp.as_deref().map(str::parse::<Tlp>) {
        None => None,
        Some(Ok(tlp)) => Some(tlp),
        Some(Err(_)) => return refuse(StatusCode::BAD_REQUEST, "max_tlp: not a TLP label"),
    };
    let wanted = rampart_intel::indicators::Query {
        kind: query.kind.filter(|k| !k.is_empty()),
        contains: None,
        include_expired: query.expired.is_some(),
        include_warned: query.warned.is_some(),
        max_tlp,
        limit: None,
    };
    match indicator_export(&state, &caller.principal, &format, &wanted).await {
        Ok(response) => response,
        Err(IntelError::Forbidden) => refuse(StatusCode::FORBIDDEN, "you may not read indicators"),
        Err(IntelError::Invalid { message, .. }) => refuse(StatusCode::NOT_FOUND, &message),
        Err(err) => {
            tracing::error!(error = %err, "exporting indicators failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "the export could not be built")
        }
    }
}

fn answer(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Why a feed request is turned away before any work.
enum Turned {
    Unauthenticated,
    Throttled,
}

impl IntoResponse for Turned {
    fn into_response(self) -> Response {
        match self {
            Turned::Unauthenticated => {
                let mut response = refuse(StatusCode::UNAUTHORIZED, "send an API token as Bearer or as the Basic password");
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer, Basic realm=\"Rampart feeds\""));
                response
            }
            Turned::Throttled => refuse(StatusCode::TOO_MANY_REQUESTS, "slow down and try again in a minute"),
        }
    }
}

/// The token holder behind a feed request, within the rate limit that
/// TAXII shares.
fn machine_caller(state: &AppState, found: Result<ApiCaller, ApiError>) -> Result<ApiCaller, Turned> {
    let caller = found.map_err(|_| Turned::Unauthenticated)?;
    if !state.taxii_limiter().check(&caller.principal.user_id, state.auth().now()) {
        return Err(Turned::Throttled);
    }
    Ok(caller)
}

fn refuse(status: StatusCode, message: &str) -> Response {
    answer(status, "application/json", serde_json::json!({"message": message}).to_string())
}

async fn feed_file(
    State(state): State<AppState>,
    Path((collection, file)): Path<(String, String)>,
    found: Result<ApiCaller, ApiError>,
) -> Response {
    let caller = match machine_caller(&state, found) {
        Ok(caller) => caller,
        Err(turned) => return turned.into_response(),
    };
    // TLP:RED is never in a feed; the access layer decides the rest.
    let events = match state.taxii().misp_events(&caller.principal, &collection, Tlp::AmberStrict).await {
        Ok(events) => events,
        Err(IntelError::NotFound(_)) => return refuse(StatusCode::NOT_FOUND, "no such feed"),
        Err(IntelError::Forbidden) => return refuse(StatusCode::FORBIDDEN, "you may not read this collection"),
        Err(err) => {
            tracing::error!(error = %err, "building a MISP feed failed");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "the feed could not be built");
        }
    };
    feed_answer(&events, &file)
}
