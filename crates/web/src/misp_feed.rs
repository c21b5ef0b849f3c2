//! MISP feeds of TAXII collections at `/misp/feeds/{collection}/`: the
//! `manifest.json`, one `<event uuid>.json` per event and `hashes.csv`
//! that MISP (and any feed consumer) fetches. A MISP instance adds the feed
//! with an `Authorization: Bearer <token>` header; each caller gets the
//! collection as the access layer lets them see it (TLP included), turned
//! into events by `rampart_intel::misp_export`.

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
    Router::new().route("/misp/feeds/{collection}/{file}", get(feed_file))
}

fn answer(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn refuse(status: StatusCode, message: &str) -> Response {
    answer(status, "application/json", serde_json::json!({"message": message}).to_string())
}

async fn feed_file(
    State(state): State<AppState>,
    Path((collection, file)): Path<(String, String)>,
    found: Result<ApiCaller, ApiError>,
) -> Response {
    let Ok(caller) = found else {
        let mut response = refuse(StatusCode::UNAUTHORIZED, "send an API token as Bearer or as the Basic password");
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer, Basic realm=\"MISP feed\""));
        return response;
    };
    if !state.taxii_limiter().check(&caller.principal.user_id, state.auth().now()) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, "slow down and try again in a minute");
    }
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
    match file.as_str() {
        "manifest.json" => answer(StatusCode::OK, "application/json", rampart_intel::misp_export::manifest(&events).to_string()),
        "hashes.csv" => answer(StatusCode::OK, "text/csv; charset=utf-8", rampart_intel::misp_export::hashes_csv(&events)),
        name => {
            let wanted = name.strip_suffix(".json").unwrap_or("");
            match events.iter().find(|e| !wanted.is_empty() && e["Event"]["uuid"].as_str() == Some(wanted)) {
                Some(event) => answer(StatusCode::OK, "application/json", event.to_string()),
                None => refuse(StatusCode::NOT_FOUND, "no such event in this feed"),
            }
        }
    }
}
