//! Hotline API: partner hotlines submit reports and follow referrals; a
//! hotline's analysts work items; hash lists are managed, exported and
//! matched against. The public report form has no API on purpose: anyone
//! without an account uses the rate-limited page.

use super::{ApiRoute, parse_body, path_parameter, query_parameter, schema_ref};
use crate::AppState;
use crate::error::{ApiError, WebError};
use crate::viewer::ApiCaller;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rampart_cop::hotline::NewHotlineReport;
use rampart_cop::lists::{DEFAULT_RADIUS, NewList};
use serde::Deserialize;
use serde_json::{Value, json};

type ApiResult = Result<Response, ApiError>;

/// Images for matching: large photos, not archives.
const IMAGE_LIMIT: usize = 32 * 1024 * 1024;
/// Hash list imports.
const LIST_LIMIT: usize = 128 * 1024 * 1024;

pub fn schemas() -> Value {
    json!({
        "HotlineReportIn": {"type": "object", "required": ["urls", "category"], "properties": {
            "urls": {"type": "array", "items": {"type": "string"}, "description": "One or more web addresses (at most 50)."},
            "category": {"type": "string", "enum": ["child_sexual_abuse", "grooming", "sextortion", "extremism_hate", "other_harmful"]},
            "description": {"type": "string"}, "language": {"type": "string", "default": "en"},
            "country": {"type": "string", "description": "ISO alpha-2: the report goes to that country's hotline."},
            "hotline_org_id": {"type": "string", "description": "Or the receiving hotline itself."},
            "partner_reference": {"type": "string", "description": "Your own reference for the report."},
            "reporter_name": {"type": "string"}, "reporter_email": {"type": "string"}}},
        "HotlineReceipt": {"type": "object", "properties": {
            "receipt": {"type": "string"}, "received_at": {"type": "string"}, "urls": {"type": "integer"}, "hotline": {"type": "string"}}},
        "HotlineItem": {"type": "object", "description": "One reported address with its assessment, tracing and hashes.", "properties": {
            "id": {"type": "string"}, "report_id": {"type": "string"}, "hotline_org_id": {"type": "string"}, "url": {"type": "string"},
            "normalised_url": {"type": "string"}, "host": {"type": "string"},
            "status": {"type": "string", "enum": ["new", "assessed", "referred", "notice_sent", "removed", "confirmed", "closed"]},
            "outcome": {"type": ["string", "null"]}, "duplicate_of": {"type": ["string", "null"]},
            "ip": {"type": ["string", "null"]}, "hosting_country": {"type": ["string", "null"]}, "network": {"type": ["string", "null"]},
            "asn": {"type": ["integer", "null"]}, "as_org": {"type": ["string", "null"]}, "hosting_org_id": {"type": ["string", "null"]},
            "pdq": {"type": ["string", "null"]}, "md5": {"type": ["string", "null"]}, "sha256": {"type": ["string", "null"]},
            "known_match": {"type": ["string", "null"]}, "created_at": {"type": "string"}, "updated_at": {"type": "string"}}},
        "HotlineReferral": {"type": "object", "properties": {
            "id": {"type": "string"}, "item_id": {"type": "string"}, "from_org_id": {"type": "string"}, "to_org_id": {"type": "string"},
            "country": {"type": "string"}, "status": {"type": "string", "enum": ["referred", "notice_sent", "removed", "confirmed"]},
            "referred_at": {"type": "string"}, "notice_sent_at": {"type": ["string", "null"]}, "removed_at": {"type": ["string", "null"]},
            "confirmed_at": {"type": ["string", "null"]}, "note": {"type": "string"}}},
        "HashList": {"type": "object", "properties": {
            "id": {"type": "string"}, "org_id": {"type": "string"}, "name": {"type": "string"}, "source": {"type": "string"},
            "tlp": {"type": "string"}, "description": {"type": "string"}, "shared_with": {"type": "array", "items": {"type": "string"}},
            "entry_count": {"type": "integer"}, "created_at": {"type": "string"}, "updated_at": {"type": "string"}}},
        "HashHit": {"type": "object", "properties": {
            "list_id": {"type": "string"}, "list_name": {"type": "string"}, "kind": {"type": "string", "enum": ["pdq", "md5", "sha256"]},
            "hash": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}, "distance": {"type": "integer"}}},
    })
}

fn route(method: &'static str, path: &'static str, operation_id: &'static str, summary: &'static str, access: &'static str) -> ApiRoute {
    super::route(method, path, operation_id, "hotline", summary, access)
}

pub fn routes() -> Vec<ApiRoute> {
    let analysts = "Hotline analysts of the receiving hotline (and of a hotline it was referred to, read-only)";
    let matchers = "Holders of hash matching or hash list management";
    let id = || path_parameter("id", "Id.");
    vec![
        ApiRoute {
            request_body: Some(schema_ref("HotlineReportIn")),
            success_status: 201,
            response: schema_ref("HotlineReceipt"),
            handler: post(submit),
            ..route(
                "post",
                "/hotline/reports",
                "submitHotlineReport",
                "Submit a report to a hotline (partner hotlines).",
                "Hotline analysts",
            )
        },
        ApiRoute {
            parameters: vec![query_parameter("receipt", "The receipt of a report you submitted.")],
            response: json!({"type": "object", "properties": {"receipt": {"type": "string"}, "received_at": {"type": "string"},
                "state": {"type": "string", "enum": ["received", "in_assessment", "assessed", "referred", "removed"]},
                "urls": {"type": "integer"}, "removed": {"type": "integer"}}}),
            handler: get(report_status),
            ..route(
                "get",
                "/hotline/reports/status",
                "getHotlineReportStatus",
                "The progress of a report, by its receipt (as the public status page shows it).",
                "Hotline analysts",
            )
        },
        ApiRoute {
            parameters: vec![query_parameter(
                "status",
                "new, assessed, referred, notice_sent, removed, confirmed or closed; several separated by commas.",
            )],
            response: super::list_of("HotlineItem"),
            handler: get(items),
            ..route("get", "/hotline/items", "listHotlineItems", "Reported addresses your hotlines work, newest first.", analysts)
        },
        ApiRoute {
            parameters: vec![id()],
            response: json!({"type": "object", "description": "The item, its report (personal data only for the receiving hotline), timeline and referrals."}),
            handler: get(item),
            ..route("get", "/hotline/items/{id}", "getHotlineItem", "One reported address; every read is audited.", analysts)
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(json!({"type": "object", "required": ["outcome"], "properties": {
                "outcome": {"type": "string", "enum": ["illegal_national", "illegal_interpol", "not_illegal", "duplicate", "unreachable"]},
                "note": {"type": "string"}}})),
            response: schema_ref("HotlineItem"),
            handler: post(assess),
            ..route("post", "/hotline/items/{id}/assess", "assessHotlineItem", "Record the assessment.", analysts)
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(json!({"type": "object", "required": ["ip"], "properties": {
                "ip": {"type": "string"}, "country": {"type": "string", "description": "Overrides or fills in the hosting country."}}})),
            response: schema_ref("HotlineItem"),
            handler: post(trace),
            ..route(
                "post",
                "/hotline/items/{id}/trace",
                "traceHotlineItem",
                "Trace the hosting address (MaxMind DB, constituency registry).",
                analysts,
            )
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(json!({"type": "object", "required": ["to_org_id"], "properties": {
                "to_org_id": {"type": "string", "description": "A hotline or law-enforcement organisation of the hosting country."},
                "note": {"type": "string"}}})),
            success_status: 201,
            response: schema_ref("HotlineReferral"),
            handler: post(refer),
            ..route("post", "/hotline/items/{id}/refer", "referHotlineItem", "Refer an illegal item to the hosting country.", analysts)
        },
        ApiRoute {
            response: json!({"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("HotlineReferral")}}}),
            handler: get(referrals),
            ..route("get", "/hotline/referrals", "listHotlineReferrals", "Referrals your hotlines received.", "Hotline analysts")
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(json!({"type": "object", "required": ["step"], "properties": {
                "step": {"type": "string", "enum": ["notice_sent", "removed", "confirmed"]}, "note": {"type": "string"}}})),
            response: schema_ref("HotlineReferral"),
            handler: post(takedown),
            ..route(
                "post",
                "/hotline/referrals/{id}",
                "recordTakedownStep",
                "Record notice sent or removal (receiver), or confirm removal (either side).",
                "Hotline analysts of either side",
            )
        },
        ApiRoute {
            response: json!({"type": "object", "description": "Reports by category and month, hosting countries, times to removal."}),
            handler: get(stats),
            ..route("get", "/hotline/stats", "getHotlineStats", "Hotline statistics.", "Hotline analysts")
        },
        ApiRoute {
            response: json!({"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("HashList")}}}),
            handler: get(lists),
            ..route("get", "/hash-lists", "listHashLists", "Hash lists you may read (TLP and sharing).", matchers)
        },
        ApiRoute {
            request_body: Some(json!({"type": "object", "required": ["org_id", "name", "tlp"], "properties": {
                "org_id": {"type": "string"}, "name": {"type": "string"}, "source": {"type": "string"},
                "tlp": {"type": "string"}, "description": {"type": "string"}}})),
            success_status: 201,
            response: schema_ref("HashList"),
            handler: post(create_list),
            ..route("post", "/hash-lists", "createHashList", "Create a hash list.", "Hash list managers of the owning organisation")
        },
        ApiRoute {
            parameters: vec![id(), query_parameter("format", "csv (default) or json.")],
            request_body: Some(
                json!({"type": "string", "description": "CSV (hash,type,tags) or JSON ([{hash, type, tags}]); all or nothing."}),
            ),
            response: json!({"type": "object", "properties": {"added": {"type": "integer"}}}),
            handler: post(import).layer(axum::extract::DefaultBodyLimit::max(LIST_LIMIT)),
            ..route(
                "post",
                "/hash-lists/{id}/entries",
                "importHashes",
                "Import hashes into a list.",
                "Hash list managers of the owning organisation",
            )
        },
        ApiRoute {
            parameters: vec![id(), query_parameter("format", "csv (default) or json.")],
            response: json!({"type": "string", "description": "The list in CSV or JSON."}),
            handler: get(export),
            ..route("get", "/hash-lists/{id}/export", "exportHashList", "Export a list; TLP enforced, audited.", matchers)
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(json!({"type": "object", "required": ["org_id"], "properties": {
                "org_id": {"type": "string"}, "shared": {"type": "boolean", "default": true}}})),
            success_status: 204,
            handler: post(share),
            ..route(
                "post",
                "/hash-lists/{id}/shares",
                "shareHashList",
                "Share a list with an organisation, or stop.",
                "Hash list managers of the owning organisation",
            )
        },
        ApiRoute {
            parameters: vec![
                query_parameter("hash", "A PDQ, SHA-256 (64 hex digits) or MD5 (32) hash."),
                query_parameter("radius", "PDQ Hamming radius (default 31)."),
            ],
            response: json!({"type": "object", "properties": {"hits": {"type": "array", "items": schema_ref("HashHit")}}}),
            handler: get(match_hash),
            ..route("get", "/hash-lists/match", "matchHash", "Look a hash up in the lists you may read.", matchers)
        },
        ApiRoute {
            parameters: vec![query_parameter("radius", "PDQ Hamming radius (default 31).")],
            request_body: Some(
                json!({"type": "string", "format": "binary", "description": "The image bytes (JPEG, PNG, WebP, GIF, BMP); hashed in memory and discarded."}),
            ),
            response: json!({"type": "object", "properties": {"pdq": {"type": "string"}, "quality": {"type": "integer"},
                "md5": {"type": "string"}, "sha256": {"type": "string"}, "hits": {"type": "array", "items": schema_ref("HashHit")}}}),
            handler: post(match_image).layer(axum::extract::DefaultBodyLimit::max(IMAGE_LIMIT)),
            ..route("post", "/hash-lists/match-image", "matchImage", "Hash an image (never stored) and look it up.", matchers)
        },
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    urls: Vec<String>,
    category: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    language: String,
    country: Option<String>,
    hotline_org_id: Option<String>,
    partner_reference: Option<String>,
    reporter_name: Option<String>,
    reporter_email: Option<String>,
}

async fn submit(State(state): State<AppState>, caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    let body: ReportBody = parse_body(&body)?;
    let report = NewHotlineReport {
        urls: body.urls.join("\n"),
        category: body.category,
        description: body.description,
        reporter_name: body.reporter_name,
        reporter_email: body.reporter_email,
        language: body.language,
        country: body.country,
        hotline_org_id: body.hotline_org_id,
        partner_reference: body.partner_reference,
    };
    let receipt = state.hotline().submit(Some(&caller.actor()), &report).await?;
    Ok((StatusCode::CREATED, Json(receipt)).into_response())
}

#[derive(Deserialize, Default)]
struct ReceiptQuery {
    receipt: Option<String>,
}

/// A partner follows the reports it sent: the same coarse progress the
/// reporter sees, nothing of the assessment.
async fn report_status(
    State(state): State<AppState>,
    caller: ApiCaller,
    super::ApiQuery(query): super::ApiQuery<ReceiptQuery>,
) -> ApiResult {
    if !caller.principal.has(rampart_core::Permission::HotlineRead) {
        return Err(WebError::Forbidden.into());
    }
    let receipt = query.receipt.ok_or_else(|| WebError::invalid("receipt", "is required"))?;
    Ok(Json(state.hotline().public_status(&receipt).await?).into_response())
}

#[derive(Deserialize, Default)]
struct ItemsQuery {
    status: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn items(State(state): State<AppState>, caller: ApiCaller, super::ApiQuery(query): super::ApiQuery<ItemsQuery>) -> ApiResult {
    let page = rampart_store::PageRequest::with_cursor(query.limit.unwrap_or(50), query.cursor.as_deref())
        .ok_or_else(|| WebError::invalid("cursor", "is not a cursor from this list"))?;
    let found = state.hotline().queue(&caller.principal, query.status.as_deref(), &page).await?;
    Ok(Json(found).into_response())
}

async fn item(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> ApiResult {
    Ok(Json(state.hotline().view(&caller.actor(), &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssessBody {
    outcome: String,
    #[serde(default)]
    note: String,
}

async fn assess(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: AssessBody = parse_body(&body)?;
    Ok(Json(state.hotline().assess(&caller.actor(), &id, &body.outcome, &body.note).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceBody {
    ip: String,
    country: Option<String>,
}

async fn trace(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: TraceBody = parse_body(&body)?;
    Ok(Json(state.hotline().trace(&caller.actor(), &id, &body.ip, body.country.as_deref()).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferBody {
    to_org_id: String,
    #[serde(default)]
    note: String,
}

async fn refer(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: ReferBody = parse_body(&body)?;
    let referral = state.hotline().refer(&caller.actor(), &id, &body.to_org_id, &body.note).await?;
    Ok((StatusCode::CREATED, Json(referral)).into_response())
}

async fn referrals(State(state): State<AppState>, caller: ApiCaller) -> ApiResult {
    let items: Vec<Value> = state
        .hotline()
        .referrals_received(&caller.principal)
        .await?
        .into_iter()
        .map(|(referral, item)| {
            let mut value = json!(referral);
            value["url"] = json!(item.url);
            value
        })
        .collect();
    Ok(Json(json!({"items": items})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepBody {
    step: String,
    #[serde(default)]
    note: String,
}

async fn takedown(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: StepBody = parse_body(&body)?;
    Ok(Json(state.hotline().record_takedown(&caller.actor(), &id, &body.step, &body.note).await?).into_response())
}

async fn stats(State(state): State<AppState>, caller: ApiCaller) -> ApiResult {
    Ok(Json(state.hotline().figures(&caller.principal).await?).into_response())
}

async fn lists(State(state): State<AppState>, caller: ApiCaller) -> ApiResult {
    if !caller.principal.has(rampart_core::Permission::HashMatch) && !caller.principal.has(rampart_core::Permission::HashListManage) {
        return Err(WebError::Forbidden.into());
    }
    Ok(Json(json!({"items": state.hash_lists().visible(&caller.principal).await?})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListBody {
    org_id: String,
    name: String,
    #[serde(default)]
    source: String,
    tlp: String,
    #[serde(default)]
    description: String,
}

async fn create_list(State(state): State<AppState>, caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    let body: ListBody = parse_body(&body)?;
    let new = NewList { org_id: body.org_id, name: body.name, source: body.source, tlp: body.tlp, description: body.description };
    Ok((StatusCode::CREATED, Json(state.hash_lists().create(&caller.actor(), &new).await?)).into_response())
}

#[derive(Deserialize, Default)]
struct FormatQuery {
    format: Option<String>,
}

fn wants_json(format: Option<&str>) -> Result<bool, WebError> {
    match format {
        None | Some("csv") => Ok(false),
        Some("json") => Ok(true),
        Some(other) => Err(WebError::invalid("format", format!("`{other}` is not csv or json"))),
    }
}

async fn import(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    super::ApiQuery(query): super::ApiQuery<FormatQuery>,
    body: axum::body::Bytes,
) -> ApiResult {
    let json = wants_json(query.format.as_deref())?;
    let text = std::str::from_utf8(&body).map_err(|_| WebError::invalid("body", "is not UTF-8"))?;
    let added = state.hash_lists().import(&caller.actor(), &id, text, json).await?;
    Ok(Json(json!({"added": added})).into_response())
}

async fn export(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    super::ApiQuery(query): super::ApiQuery<FormatQuery>,
) -> ApiResult {
    let json = wants_json(query.format.as_deref())?;
    let (list, text) = state.hash_lists().export(&caller.actor(), &id, json).await?;
    Ok(crate::pages::hotline_export_response(&list, text, json))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareBody {
    org_id: String,
    #[serde(default = "yes")]
    shared: bool,
}

fn yes() -> bool {
    true
}

async fn share(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: ShareBody = parse_body(&body)?;
    state.hash_lists().share(&caller.actor(), &id, &body.org_id, body.shared).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default)]
struct MatchQuery {
    hash: Option<String>,
    radius: Option<u32>,
}

async fn match_hash(State(state): State<AppState>, caller: ApiCaller, super::ApiQuery(query): super::ApiQuery<MatchQuery>) -> ApiResult {
    let hash = query.hash.ok_or_else(|| WebError::invalid("hash", "is required"))?;
    let hits = state.hash_lists().match_hash(&caller.principal, &hash, query.radius.unwrap_or(DEFAULT_RADIUS)).await?;
    Ok(Json(json!({"hits": hits})).into_response())
}

async fn match_image(
    State(state): State<AppState>,
    caller: ApiCaller,
    super::ApiQuery(query): super::ApiQuery<MatchQuery>,
    body: axum::body::Bytes,
) -> ApiResult {
    let found = state.hash_lists().match_image(&caller.principal, body.to_vec(), query.radius.unwrap_or(DEFAULT_RADIUS)).await?;
    Ok(Json(found).into_response())
}
