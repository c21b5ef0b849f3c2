//! TAXII 2.1 over HTTP at `/taxii2/`: discovery, one API root (`api`),
//! collections, objects (GET with filters and pagination, POST of an
//! envelope answered with a status), an object by id (GET, DELETE), its
//! versions, the manifest and status. Media type
//! `application/taxii+json;version=2.1`; errors are TAXII error objects.
//! Callers authenticate with an API token, as Bearer or as the password of
//! HTTP Basic; what they may see is decided by `rampart_intel::taxii`.

use crate::AppState;
use crate::error::ApiError;
use crate::viewer::ApiCaller;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rampart_intel::IntelError;
use rampart_intel::taxii::{Collection, Filter, Page};
use serde_json::{Value, json};

pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// Largest POST body, also announced as the API root's max_content_length.
pub const MAX_CONTENT_LENGTH: usize = 10 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/taxii2/", get(discovery))
        .route("/taxii2/api/", get(api_root))
        .route("/taxii2/api/status/{id}/", get(status))
        .route("/taxii2/api/collections/", get(collections))
        .route("/taxii2/api/collections/{id}/", get(collection))
        .route(
            "/taxii2/api/collections/{id}/objects/",
            get(objects).post(add_objects).layer(axum::extract::DefaultBodyLimit::max(MAX_CONTENT_LENGTH)),
        )
        .route("/taxii2/api/collections/{id}/objects/{object}/", get(object).delete(delete_object))
        .route("/taxii2/api/collections/{id}/objects/{object}/versions/", get(versions))
        .route("/taxii2/api/collections/{id}/manifest/", get(manifest))
}

fn taxii(status: StatusCode, body: Value) -> Response {
    taxii_text(status, body.to_string())
}

fn taxii_text(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    response
}

/// A request refused, answered as a TAXII error object.
pub struct Refusal {
    status: StatusCode,
    title: &'static str,
    description: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = json!({"title": self.title, "description": self.description, "http_status": self.status.as_u16().to_string()});
        let mut response = taxii(self.status, body);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"TAXII\", Bearer"));
        }
        response
    }
}

fn refuse(status: StatusCode, title: &'static str, description: impl Into<String>) -> Refusal {
    Refusal { status, title, description: description.into() }
}

impl From<IntelError> for Refusal {
    fn from(err: IntelError) -> Refusal {
        match err {
            IntelError::Forbidden => refuse(StatusCode::FORBIDDEN, "Forbidden", "you may not do this on this collection"),
            IntelError::NotFound(what) => refuse(StatusCode::NOT_FOUND, "Not found", format!("{what} not found")),
            IntelError::TooLarge { .. } => refuse(StatusCode::PAYLOAD_TOO_LARGE, "Too large", err.to_string()),
            IntelError::Store(_) => refuse(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", "the request could not be completed"),
            other => refuse(StatusCode::BAD_REQUEST, "Bad request", other.to_string()),
        }
    }
}

type Answer = Result<Response, Refusal>;

/// The caller, once authenticated, within the rate limit and asking for a
/// media type we speak.
fn caller(state: &AppState, found: Result<ApiCaller, ApiError>, headers: &HeaderMap) -> Result<ApiCaller, Refusal> {
    let caller =
        found.map_err(|_| refuse(StatusCode::UNAUTHORIZED, "Unauthorized", "send an API token as Bearer or as the Basic password"))?;
    if !state.taxii_limiter().check(&caller.principal.user_id, state.auth().now()) {
        return Err(refuse(StatusCode::TOO_MANY_REQUESTS, "Too many requests", "slow down and try again in a minute"));
    }
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return Ok(caller) };
    let ok = accept.split(',').map(|m| m.trim().to_ascii_lowercase().replace(' ', "")).any(|m| {
        (m.starts_with("application/taxii+json") && (!m.contains("version=") || m.contains("version=2.1")))
            || m.starts_with("*/*")
            || m.starts_with("application/*")
    });
    if ok { Ok(caller) } else { Err(refuse(StatusCode::NOT_ACCEPTABLE, "Not acceptable", format!("this server speaks {MEDIA_TYPE}"))) }
}

fn base(headers: &HeaderMap, state: &AppState) -> String {
    state.config().public_url.clone().unwrap_or_else(|| {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
        format!("http://{host}")
    })
}

async fn discovery(State(state): State<AppState>, headers: HeaderMap, found: Result<ApiCaller, ApiError>) -> Answer {
    caller(&state, found, &headers)?;
    let root = format!("{}/taxii2/api/", base(&headers, &state).trim_end_matches('/'));
    Ok(taxii(
        StatusCode::OK,
        json!({"title": "Rampart TAXII", "description": "Threat intelligence shared by this Rampart.", "default": root, "api_roots": [root]}),
    ))
}

async fn api_root(State(state): State<AppState>, headers: HeaderMap, found: Result<ApiCaller, ApiError>) -> Answer {
    caller(&state, found, &headers)?;
    Ok(taxii(StatusCode::OK, json!({"title": "Rampart", "versions": [MEDIA_TYPE], "max_content_length": MAX_CONTENT_LENGTH})))
}

fn collection_json(c: &Collection) -> Value {
    json!({"id": c.row.id, "title": c.row.title, "description": c.row.description, "can_read": c.can_read, "can_write": c.can_write, "media_types": [STIX_MEDIA_TYPE]})
}

async fn collections(State(state): State<AppState>, headers: HeaderMap, found: Result<ApiCaller, ApiError>) -> Answer {
    let caller = caller(&state, found, &headers)?;
    let list = state.taxii().collections(&caller.principal).await?;
    Ok(taxii(StatusCode::OK, json!({"collections": list.iter().map(collection_json).collect::<Vec<_>>()})))
}

async fn collection(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    found: Result<ApiCaller, ApiError>,
) -> Answer {
    let caller = caller(&state, found, &headers)?;
    Ok(taxii(StatusCode::OK, collection_json(&state.taxii().collection(&caller.principal, &id).await?)))
}

/// The query's filters: `added_after`, `limit`, `next`, and the
/// comma-separated `match[id]`, `match[type]`, `match[version]`, `match[spec_version]`.
fn filter(query: &[(String, String)]) -> Result<Filter, Refusal> {
    let mut filter = Filter::default();
    let split = |v: &str| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect::<Vec<_>>();
    for (key, value) in query {
        match key.as_str() {
            "added_after" => filter.added_after = Some(value.clone()),
            "next" => filter.next = Some(value.clone()),
            "limit" => {
                let limit = value.parse::<usize>().ok().filter(|n| *n > 0);
                filter.limit =
                    Some(limit.ok_or_else(|| {
                        refuse(StatusCode::BAD_REQUEST, "Bad request", format!("limit: {value:?} is not a positive number"))
                    })?);
            }
            "match[id]" => filter.ids.extend(split(value)),
            "match[type]" => filter.types.extend(split(value)),
            "match[version]" => filter.versions.extend(split(value)),
            "match[spec_version]" => filter.spec_versions.extend(split(value)),
            other => return Err(refuse(StatusCode::BAD_REQUEST, "Bad request", format!("{other}: not a TAXII 2.1 parameter"))),
        }
    }
    Ok(filter)
}

fn page_headers(response: Response, page: &Page) -> Response {
    added_headers(response, &page.first_added, &page.last_added)
}

/// The `X-TAXII-Date-Added-First` and `-Last` headers of a page.
fn added_headers(mut response: Response, first: &Option<String>, last: &Option<String>) -> Response {
    for (name, value) in [("x-taxii-date-added-first", first), ("x-taxii-date-added-last", last)] {
        if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn with_next(mut body: Value, page: &Page) -> Value {
    if let Some(next) = &page.next {
        body["next"] = json!(next);
    }
    body
}

/// The envelope as text. Stored bodies are compact JSON written by us when
/// they were added, so they are spliced in as they are rather than parsed
/// and written again (the largest cost of a page).
fn envelope(page: &Page) -> String {
    let mut out = String::with_capacity(page.objects.iter().map(|o| o.body.len() + 1).sum::<usize>() + 96);
    out.push_str(if page.more { "{\"more\":true" } else { "{\"more\":false" });
    if let Some(next) = &page.next {
        out.push_str(",\"next\":");
        out.push_str(&Value::from(next.as_str()).to_string());
    }
    out.push_str(",\"objects\":[");
    for (i, object) in page.objects.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&object.body);
    }
    out.push_str("]}");
    out
}

async fn objects(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    found: Result<ApiCaller, ApiError>,
) -> Answer {
    let caller = caller(&state, found, &headers)?;
    let page = state.taxii().objects_text(&caller.principal, &id, &filter(&query)?).await?;
    let mut out = String::with_capacity(page.bodies.len() + 96);
    out.push_str(if page.more { "{\"more\":true" } else { "{\"more\":false" });
    if let (true, Some(last)) = (page.more, &page.last_added) {
        out.push_str(",\"next\":");
        out.push_str(&Value::from(last.as_str()).to_string());
    }
    out.push_str(",\"objects\":[");
    out.push_str(&page.bodies);
    out.push_str("]}");
    Ok(added_headers(taxii_text(StatusCode::OK, out), &page.first_added, &page.last_added))
}

async fn manifest(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    found: Result<ApiCaller, ApiError>,
) -> Answer {
    let caller = caller(&state, found, &headers)?;
    let page = state.taxii().objects(&caller.principal, &id, &filter(&query)?).await?;
    let entries: Vec<Value> = page
        .objects
        .iter()
        .map(|o| json!({"id": o.object_id, "date_added": o.date_added, "version": o.version, "media_type": STIX_MEDIA_TYPE}))
        .collect();
    Ok(page_headers(taxii(StatusCode::OK, with_next(json!({"more": page.more, "objects": entries}), &page)), &page))
}

async fn object(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, object)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
    found: Result<ApiCaller, ApiError>,
) -> Answer {
    let caller = caller(&state, found, &headers)?;
    let mut filter = filter(&query)?;
    filter.ids = vec![object.clone()];
    let page = state.taxii().objects(&caller.principal, &id, &filter).await?;
    if page.objects.is_empty() {
        return Err(refuse(StatusCode::NOT_FOUND, "Not found", format!("{object} is not in this collection")));
    }
    Ok(page_headers(taxii_text(StatusCode::OK, envelope(&page)), &page))
}

async fn versions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, object)): Path<(String, String)>,
    found: Result<ApiCaller, ApiError>,
) -> Answer {
    let caller = caller(&state, found, &headers)?;
    let list = state.taxii().versions(&caller.principal, &id, &object).await?;
    Ok(taxii(StatusCode::OK, json!({"more": false, "versions": list})))
}

async fn add_objects(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    found: Result<ApiCaller, ApiError>,
    body: Bytes,
) -> Answer {
    let caller = caller(&state, found, &headers)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase().replace(' ', "");
    if !content_type.starts_with("application/taxii+json") || (content_type.contains("version=") && !content_type.contains("version=2.1")) {
        return Err(refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type", format!("send {MEDIA_TYPE}")));
    }
    let text = std::str::from_utf8(&body).map_err(|_| refuse(StatusCode::BAD_REQUEST, "Bad request", "the body is not UTF-8"))?;
    Ok(taxii(StatusCode::ACCEPTED, state.taxii().add(&caller.actor(), &id, text).await?))
}

async fn delete_object(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, object)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
    found: Result<ApiCaller, ApiError>,
) -> Answer {
    let caller = caller(&state, found, &headers)?;
    state.taxii().delete(&caller.actor(), &id, &object, &filter(&query)?).await?;
    Ok(taxii(StatusCode::OK, json!({})))
}

async fn status(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, found: Result<ApiCaller, ApiError>) -> Answer {
    let caller = caller(&state, found, &headers)?;
    Ok(taxii(StatusCode::OK, state.taxii().status(&caller.principal, &id).await?))
}
