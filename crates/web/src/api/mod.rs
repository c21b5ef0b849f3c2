//! The REST API under `/api/v1`. Each route is declared once, in
//! [`catalogue`], with its documentation beside its handler; the router and
//! the OpenAPI 3.1 document are both built from that one list, so no route
//! can exist undocumented.

mod advisories;
mod cirt;
mod cop;
mod feeds;
pub(crate) mod gci;
mod platform;
mod strategy;

use crate::AppState;
use axum::Json;
use axum::Router;
use axum::routing::{MethodRouter, get};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Query-string parameters for API handlers: a bad value is a JSON error
/// naming the parameter, like every other API error (axum's own `Query`
/// answers in plain text).
pub struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(ApiQuery).map_err(|err| {
            let path = err.path().to_string();
            let message = err.inner().to_string();
            crate::error::ApiError(crate::WebError::Invalid { field: field_name(&path, &message, "query"), message })
        })
    }
}

/// Parses a JSON body, naming the field at fault by its path.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, crate::error::ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let message = err.inner().to_string();
        // Broken JSON is the body's fault, wherever the parser gave up.
        let field = if err.inner().is_syntax() || err.inner().is_eof() {
            "body".to_owned()
        } else {
            field_name(&err.path().to_string(), &message, "body")
        };
        crate::error::ApiError(crate::WebError::Invalid { field, message })
    })
}

/// The field an error is about: the deserialiser's path when it has one;
/// else a name serde put in the message (missing or unknown field, or our
/// own `name: …` messages); else `fallback`.
fn field_name(path: &str, message: &str, fallback: &str) -> String {
    if !path.is_empty() && path != "." && path != "?" {
        return path.to_owned();
    }
    for marker in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.split(marker).nth(1)
            && let Some(name) = rest.split('`').next()
        {
            return name.to_owned();
        }
    }
    match message.split_once(':') {
        Some((name, _)) if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => name.to_owned(),
        _ => fallback.to_owned(),
    }
}

pub struct ApiRoute {
    pub method: &'static str,
    /// Path under `/api/v1`, in the `{param}` syntax shared by axum and OpenAPI.
    pub path: &'static str,
    pub operation_id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Who may call it, in words, for the document.
    pub access: &'static str,
    pub parameters: Vec<Value>,
    pub request_body: Option<Value>,
    /// The media types the request body may have.
    pub request_media: &'static [&'static str],
    pub success_status: u16,
    pub response: Value,
    pub handler: MethodRouter<AppState>,
}

/// A route's documentation with the common defaults (no parameters or
/// body, 200, an empty response schema), for `..route(…)` in the catalogues.
pub fn route(
    method: &'static str,
    path: &'static str,
    operation_id: &'static str,
    tag: &'static str,
    summary: &'static str,
    access: &'static str,
) -> ApiRoute {
    ApiRoute {
        method,
        path,
        operation_id,
        tag,
        summary,
        access,
        parameters: Vec::new(),
        request_body: None,
        request_media: &["application/json"],
        success_status: 200,
        response: json!({}),
        handler: get(|| async { axum::http::StatusCode::NOT_FOUND }),
    }
}

pub fn catalogue() -> Vec<ApiRoute> {
    let mut routes = platform::routes();
    routes.extend(cirt::routes());
    routes.extend(advisories::routes());
    routes.extend(cop::routes());
    routes.extend(gci::routes());
    routes.extend(strategy::routes());
    routes.extend(feeds::routes());
    routes
}

pub fn routes() -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for route in catalogue() {
        let merged = match by_path.remove(route.path) {
            Some(existing) => existing.merge(route.handler),
            None => route.handler,
        };
        by_path.insert(route.path, merged);
    }
    let mut router = Router::new().route("/openapi.json", get(openapi_json));
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    router.fallback(|| async { crate::error::ApiError(crate::WebError::NotFound("route")) })
}

async fn openapi_json() -> Json<Value> {
    Json(openapi_document())
}

fn merge_objects(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

pub fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "examples": ["not_found"]},
            "message": {"type": "string"},
            "field": {"type": ["string", "null"]}
        }}}
    })
}

pub fn list_of(item_ref: &str) -> Value {
    json!({
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{item_ref}")}},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` to get the next page; null on the last page."}
        }
    })
}

pub fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

pub fn list_parameters() -> Vec<Value> {
    vec![
        json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}, "description": "Page size (default 50)."}),
        json!({"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "The `next_cursor` of the previous page."}),
        json!({"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}, "description": "`csv` exports the page as CSV; the next cursor is then in the `X-Next-Cursor` header."}),
    ]
}

pub fn path_parameter(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description})
}

pub fn query_parameter(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": "string"}, "description": description})
}

/// The OpenAPI 3.1 document.
pub fn openapi_document() -> Value {
    let mut paths: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    for route in catalogue() {
        let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        let mut responses = serde_json::Map::new();
        let success = if route.success_status == 204 {
            json!({"description": "Done."})
        } else {
            json!({"description": "Success.", "content": {"application/json": {"schema": route.response}}})
        };
        responses.insert(route.success_status.to_string(), success);
        responses.insert("401".into(), error("Not authenticated: no valid session or token."));
        responses.insert("403".into(), error("Authenticated, but the caller's roles do not allow this."));
        if route.path.contains('{') {
            responses.insert("404".into(), error("Not found, or not visible to the caller."));
        }
        if route.request_body.is_some() || !route.parameters.is_empty() {
            responses.insert("422".into(), error("Invalid input; `field` names the offending field."));
        }
        let mut operation = json!({
            "operationId": route.operation_id,
            "tags": [route.tag],
            "summary": route.summary,
            "description": format!("Access: {}", route.access),
            "parameters": route.parameters,
            "responses": responses,
            "security": [{"bearerToken": []}, {"basicToken": []}, {"sessionCookie": []}],
        });
        if let Some(body) = route.request_body {
            let content: serde_json::Map<String, Value> =
                route.request_media.iter().map(|media| ((*media).to_owned(), json!({"schema": body.clone()}))).collect();
            operation["requestBody"] = json!({"required": true, "content": content});
        }
        paths.entry(format!("/api/v1{}", route.path)).or_default().insert(route.method.to_owned(), operation);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Rampart API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The REST API of Rampart, the open platform for national cybersecurity. Authenticate with a personal API token (`Authorization: Bearer rmp_…`), or from the browser with the session cookie plus the `X-CSRF-Token` header on writes. Lists page by cursor and export as CSV with `format=csv`. Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`."
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer", "description": "A personal API token from the profile page."},
                "basicToken": {"type": "http", "scheme": "basic", "description": "Any user name, the API token as password (for TAXII clients)."},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "rampart_session"}
            },
            "schemas": merge_objects(
                merge_objects(merge_objects(merge_objects(platform::schemas(), cirt::schemas()), advisories::schemas()), cop::schemas()),
                gci::schemas(),
            ),
        }
    })
}
