//! Advisory API: write, edit and publish CSAF 2.0 advisories. Reading
//! published advisories without an account goes through the CSAF provider
//! layout (`/.well-known/csaf/…`), not through this API.

use super::{ApiQuery, ApiRoute, parse_body, path_parameter, query_parameter, schema_ref};
use crate::AppState;
use crate::error::{ApiError, WebError};
use crate::viewer::ApiCaller;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use rampart_cirt::advisory::{self, General, NewProduct, NewVulnerability};
use rampart_core::Tlp;
use serde::Deserialize;
use serde_json::{Value, json};

type ApiResult = Result<Response, ApiError>;

const BODY_LIMIT: usize = rampart_cirt::advisories::MAX_DOCUMENT_BYTES;

pub fn schemas() -> Value {
    json!({
        "AdvisoryGeneral": {"type": "object", "required": ["title", "tlp", "summary"], "properties": {
            "title": {"type": "string"}, "tlp": {"type": "string", "enum": ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]},
            "summary": {"type": "string"}, "lang": {"type": "string", "default": "en"},
            "references": {"type": "array", "items": {"$ref": "#/components/schemas/AdvisoryReference"}},
            "org_id": {"type": "string", "description": "On creation: the CIRT publishing it (default: your organisation)."}}},
        "AdvisoryReference": {"type": "object", "required": ["url", "summary"], "properties": {"url": {"type": "string"}, "summary": {"type": "string"}}},
        "AdvisoryProduct": {"type": "object", "required": ["vendor", "product", "version"], "properties": {
            "vendor": {"type": "string"}, "product": {"type": "string"}, "version": {"type": "string"}}},
        "AdvisoryVulnerability": {"type": "object", "required": ["title", "description", "known_affected"], "properties": {
            "title": {"type": "string"}, "description": {"type": "string"},
            "cve": {"type": "string", "examples": ["CVE-2026-12345"]}, "cwe": {"type": "string", "examples": ["CWE-79"], "description": "The official name is filled in."},
            "cvss_v3": {"type": "string", "description": "A CVSS v3.0/3.1 vector; the score is computed."},
            "cvss_v4": {"type": "string", "description": "A CVSS v4.0 vector; the score is computed."},
            "known_affected": {"type": "array", "items": {"type": "string"}, "description": "Product ids (CSAFPID-0001)."},
            "fixed": {"type": "array", "items": {"type": "string"}},
            "remediation": {"type": "object", "required": ["category", "details"], "properties": {
                "category": {"type": "string", "enum": ["vendor_fix", "mitigation", "workaround", "none_available", "no_fix_planned"]},
                "details": {"type": "string"}, "url": {"type": "string"}}},
            "references": {"type": "array", "items": {"$ref": "#/components/schemas/AdvisoryReference"}}}},
        "AdvisorySummary": {"type": "object", "properties": {
            "id": {"type": "string"}, "org_id": {"type": "string"}, "tracking_id": {"type": "string"}, "title": {"type": "string"},
            "tlp": {"type": "string"}, "version": {"type": "string"}, "status": {"type": "string"},
            "released_version": {"type": ["string", "null"]}, "released_at": {"type": ["string", "null"]},
            "cves": {"type": "array", "items": {"type": "string"}}, "max_score": {"type": ["number", "null"]},
            "severity": {"type": ["string", "null"]}, "updated_at": {"type": "string"}}},
        "Advisory": {"type": "object", "properties": {
            "id": {"type": "string"}, "org_id": {"type": "string"}, "org_name": {"type": "string"},
            "document": {"type": "object", "description": "The CSAF document: the working copy for its authors, the current release for readers."},
            "digest": {"type": "object"}, "releases": {"type": "array", "items": {"$ref": "#/components/schemas/AdvisoryRelease"}},
            "problems": {"type": "array", "items": {"type": "object"}}, "unpublished_changes": {"type": "boolean"},
            "may_edit": {"type": "boolean"}, "may_publish": {"type": "boolean"}}},
        "AdvisoryRelease": {"type": "object", "properties": {
            "advisory_id": {"type": "string"}, "version": {"type": "string"}, "released_at": {"type": "string"}, "released_by": {"type": "string"},
            "tlp": {"type": "string"}, "year": {"type": "integer"}, "file_name": {"type": "string"},
            "sha256": {"type": "string"}, "sha512": {"type": "string"}}},
    })
}

fn route(method: &'static str, path: &'static str, operation_id: &'static str, summary: &'static str, access: &'static str) -> ApiRoute {
    super::route(method, path, operation_id, "advisories", summary, access)
}

pub fn routes() -> Vec<ApiRoute> {
    let writers = "CIRT analysts and managers of the publishing CIRT";
    let readers = "Authors; published advisories for anyone TLP allows";
    let id = || path_parameter("id", "Advisory id.");
    let limit = || axum::extract::DefaultBodyLimit::max(BODY_LIMIT);
    vec![
        ApiRoute {
            response: json!({"type": "object", "properties": {"items": {"type": "array", "items": schema_ref("AdvisorySummary")}}}),
            handler: get(list),
            ..route("get", "/advisories", "listAdvisories", "Advisories you write and published advisories you may read.", readers)
        },
        ApiRoute {
            request_body: Some(schema_ref("AdvisoryGeneral")),
            success_status: 201,
            response: schema_ref("AdvisorySummary"),
            handler: post(create),
            ..route("post", "/advisories", "createAdvisory", "Start a draft advisory.", writers)
        },
        ApiRoute {
            parameters: vec![
                query_parameter("tlp", "The TLP for a document without a TLP label."),
                query_parameter("org_id", "The CIRT importing it (default: your organisation)."),
            ],
            request_body: Some(json!({"type": "object", "description": "A CSAF 2.0 document, kept exactly as given."})),
            success_status: 201,
            response: schema_ref("AdvisorySummary"),
            handler: post(import).layer(limit()),
            ..route("post", "/advisories/import", "importAdvisory", "Import a CSAF 2.0 document as a draft.", writers)
        },
        ApiRoute {
            parameters: vec![id()],
            response: schema_ref("Advisory"),
            handler: get(show),
            ..route("get", "/advisories/{id}", "getAdvisory", "An advisory with its problems and releases.", readers)
        },
        ApiRoute {
            parameters: vec![id()],
            response: json!({"type": "object", "description": "A CSAF 2.0 document."}),
            handler: get(document),
            ..route("get", "/advisories/{id}/document", "getAdvisoryDocument", "The CSAF document as shown by getAdvisory.", readers)
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(json!({"type": "object", "description": "A CSAF 2.0 document with the same tracking id."})),
            response: schema_ref("AdvisorySummary"),
            handler: put(replace).layer(limit()),
            ..route("put", "/advisories/{id}/document", "replaceAdvisoryDocument", "Replace the working copy.", writers)
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(schema_ref("AdvisoryGeneral")),
            response: schema_ref("AdvisorySummary"),
            handler: put(set_general),
            ..route("put", "/advisories/{id}/general", "setAdvisoryGeneral", "Set title, TLP, summary and references.", writers)
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(schema_ref("AdvisoryProduct")),
            success_status: 201,
            response: json!({"type": "object", "properties": {"product_id": {"type": "string"}}}),
            handler: post(add_product),
            ..route("post", "/advisories/{id}/products", "addAdvisoryProduct", "Add a product version to the product tree.", writers)
        },
        ApiRoute {
            parameters: vec![id(), path_parameter("product_id", "CSAF product id.")],
            success_status: 204,
            handler: delete(remove_product),
            ..route(
                "delete",
                "/advisories/{id}/products/{product_id}",
                "removeAdvisoryProduct",
                "Remove an unused product version.",
                writers,
            )
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(schema_ref("AdvisoryVulnerability")),
            success_status: 201,
            response: json!({"type": "object", "properties": {"index": {"type": "integer"}}}),
            handler: post(add_vulnerability),
            ..route(
                "post",
                "/advisories/{id}/vulnerabilities",
                "addAdvisoryVulnerability",
                "Add a vulnerability; CVSS scores are computed.",
                writers,
            )
        },
        ApiRoute {
            parameters: vec![id(), path_parameter("index", "Position in the list, from 0.")],
            success_status: 204,
            handler: delete(remove_vulnerability),
            ..route("delete", "/advisories/{id}/vulnerabilities/{index}", "removeAdvisoryVulnerability", "Remove a vulnerability.", writers)
        },
        ApiRoute {
            parameters: vec![id()],
            request_body: Some(
                json!({"type": "object", "required": ["summary"], "properties": {"summary": {"type": "string", "description": "What changed, for the revision history."}}}),
            ),
            success_status: 201,
            response: schema_ref("AdvisoryRelease"),
            handler: post(publish),
            ..route(
                "post",
                "/advisories/{id}/publish",
                "publishAdvisory",
                "Publish the working copy as the next version; refused with every CSAF problem found.",
                "CIRT managers of the publishing CIRT",
            )
        },
        ApiRoute {
            parameters: vec![id(), path_parameter("version", "Release version.")],
            response: json!({"type": "object", "description": "The released CSAF document, byte for byte."}),
            handler: get(release),
            ..route("get", "/advisories/{id}/releases/{version}", "getAdvisoryRelease", "A past release exactly as published.", readers)
        },
    ]
}

fn summary(row: &rampart_store::advisories::AdvisoryRow, digest: &advisory::Digest) -> Value {
    json!({
        "id": row.id, "org_id": row.org_id, "tracking_id": row.tracking_id, "title": row.title, "tlp": row.tlp,
        "version": digest.version, "status": digest.status, "released_version": row.released_version, "released_at": row.released_at,
        "cves": digest.cves, "max_score": digest.max_score, "severity": digest.severity, "updated_at": row.updated_at,
    })
}

fn row_summary(row: &rampart_store::advisories::AdvisoryRow) -> Value {
    let document: Value = serde_json::from_str(&row.document).unwrap_or(Value::Null);
    summary(row, &advisory::digest(&document))
}

async fn list(State(state): State<AppState>, caller: ApiCaller) -> ApiResult {
    let items: Vec<Value> =
        state.desk().advisories(Some(&caller.principal)).await?.iter().map(|(row, digest)| summary(row, digest)).collect();
    Ok(Json(json!({"items": items})).into_response())
}

#[derive(Deserialize)]
struct CreateBody {
    // The fields of `General`, listed rather than flattened so that an error
    // names the field at fault (serde loses the path through `flatten`).
    title: String,
    tlp: Tlp,
    summary: String,
    #[serde(default = "english")]
    lang: String,
    #[serde(default)]
    references: Vec<advisory::Reference>,
    org_id: Option<String>,
}

fn english() -> String {
    "en".into()
}

async fn create(State(state): State<AppState>, caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    let body: CreateBody = parse_body(&body)?;
    let general = General { title: body.title, tlp: body.tlp, summary: body.summary, lang: body.lang, references: body.references };
    let row = state.desk().create_advisory(&caller.actor(), body.org_id.as_deref(), &general).await?;
    Ok((StatusCode::CREATED, Json(row_summary(&row))).into_response())
}

#[derive(Deserialize, Default)]
struct ImportQuery {
    tlp: Option<String>,
    org_id: Option<String>,
}

async fn import(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<ImportQuery>,
    body: axum::body::Bytes,
) -> ApiResult {
    let tlp = query
        .tlp
        .as_deref()
        .map(str::parse::<Tlp>)
        .transpose()
        .map_err(|_| WebError::invalid("tlp", "CLEAR, GREEN, AMBER, AMBER+STRICT or RED"))?;
    let text = std::str::from_utf8(&body).map_err(|_| WebError::invalid("body", "is not UTF-8"))?;
    let row = state.desk().import_advisory(&caller.actor(), query.org_id.as_deref(), text, tlp).await?;
    Ok((StatusCode::CREATED, Json(row_summary(&row))).into_response())
}

async fn show(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> ApiResult {
    Ok(Json(state.desk().advisory(Some(&caller.principal), &id).await?).into_response())
}

fn csaf_response(text: String) -> Response {
    let mut response = text.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

async fn document(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> ApiResult {
    let view = state.desk().advisory(Some(&caller.principal), &id).await?;
    Ok(Json(view.document).into_response())
}

async fn replace(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let text = std::str::from_utf8(&body).map_err(|_| WebError::invalid("body", "is not UTF-8"))?;
    let row = state.desk().replace_advisory_document(&caller.actor(), &id, text).await?;
    Ok(Json(row_summary(&row)).into_response())
}

async fn set_general(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let general: General = parse_body(&body)?;
    let row = state.desk().set_advisory_general(&caller.actor(), &id, &general).await?;
    Ok(Json(row_summary(&row)).into_response())
}

async fn add_product(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let product: NewProduct = parse_body(&body)?;
    let mut added = String::new();
    state
        .desk()
        .edit_advisory(&caller.actor(), &id, "cirt.advisory.product.add", |document| {
            added = advisory::add_product(document, &product)?;
            Ok(json!({"product_id": added, "vendor": product.vendor, "product": product.product, "version": product.version}))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"product_id": added}))).into_response())
}

async fn remove_product(State(state): State<AppState>, caller: ApiCaller, Path((id, product_id)): Path<(String, String)>) -> ApiResult {
    state
        .desk()
        .edit_advisory(&caller.actor(), &id, "cirt.advisory.product.remove", |document| {
            advisory::remove_product(document, &product_id)?;
            Ok(json!({"product_id": product_id}))
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn add_vulnerability(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let input: NewVulnerability = parse_body(&body)?;
    let mut index = 0;
    state
        .desk()
        .edit_advisory(&caller.actor(), &id, "cirt.advisory.vulnerability.add", |document| {
            index = advisory::add_vulnerability(document, &input)?;
            Ok(json!({"index": index, "cve": input.cve, "title": input.title}))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"index": index}))).into_response())
}

async fn remove_vulnerability(State(state): State<AppState>, caller: ApiCaller, Path((id, index)): Path<(String, String)>) -> ApiResult {
    let index: usize = index.parse().map_err(|_| WebError::invalid("index", "a position from 0"))?;
    state
        .desk()
        .edit_advisory(&caller.actor(), &id, "cirt.advisory.vulnerability.remove", |document| {
            advisory::remove_vulnerability(document, index)?;
            Ok(json!({"index": index}))
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct PublishBody {
    summary: String,
}

async fn publish(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: PublishBody = parse_body(&body)?;
    let release = state.desk().publish_advisory(&caller.actor(), &id, &body.summary).await?;
    Ok((StatusCode::CREATED, Json(release)).into_response())
}

async fn release(State(state): State<AppState>, caller: ApiCaller, Path((id, version)): Path<(String, String)>) -> ApiResult {
    // Reading the advisory applies the visibility rules first.
    let view = state.desk().advisory(Some(&caller.principal), &id).await?;
    if !view.releases.iter().any(|r| r.version == version) {
        return Err(ApiError(WebError::NotFound("advisory release")));
    }
    let (_, content) = state.desk().store().release_content(&view.id, &version).await?;
    Ok(csaf_response(content))
}
