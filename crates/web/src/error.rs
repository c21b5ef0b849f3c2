//! The one mapping of errors to HTTP: domain errors become a status, a
//! stable code and a message naming the field. `ApiError` renders JSON,
//! `PageError` renders HTML (or a redirect to the login page).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use rampart_auth::AuthError;
use rampart_store::StoreError;
use serde_json::json;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum WebError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{field}: {message}")]
    Conflict { field: String, message: String },
    #[error("too many requests; slow down")]
    TooManyRequests,
    #[error("account locked until {0}")]
    Locked(String),
    /// A CSAF document that may not be published; every problem is listed.
    #[error("the document is not valid CSAF 2.0")]
    Document(Vec<rampart_cirt::csaf::Problem>),
    #[error("internal error")]
    Internal(String),
}

impl WebError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        WebError::Invalid { field: field.to_owned(), message: message.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Unauthenticated => StatusCode::UNAUTHORIZED,
            WebError::Forbidden => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Invalid { .. } | WebError::Document(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Conflict { .. } => StatusCode::CONFLICT,
            WebError::TooManyRequests | WebError::Locked(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            WebError::Unauthenticated => "unauthenticated",
            WebError::Forbidden => "forbidden",
            WebError::NotFound(_) => "not_found",
            WebError::Invalid { .. } => "invalid",
            WebError::Document(_) => "invalid_document",
            WebError::Conflict { .. } => "conflict",
            WebError::TooManyRequests => "rate_limited",
            WebError::Locked(_) => "locked",
            WebError::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            WebError::Invalid { field, .. } | WebError::Conflict { field, .. } => Some(field),
            WebError::Document(_) => Some("document"),
            _ => None,
        }
    }

    /// The message shown to people: never the internal detail.
    pub fn public_message(&self) -> String {
        match self {
            WebError::Invalid { message, .. } | WebError::Conflict { message, .. } => message.clone(),
            WebError::Document(problems) => {
                let first = problems.first().map(|p| format!("; first: {} at {}: {}", p.test, p.path, p.message)).unwrap_or_default();
                format!("the document is not valid CSAF 2.0: {} problem(s){first}", problems.len())
            }
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for WebError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { entity } => WebError::NotFound(entity),
            StoreError::InvalidCursor => WebError::invalid("cursor", "is not a cursor from this list"),
            StoreError::Conflict { field, message } => WebError::Conflict { field: field.to_owned(), message },
            other => {
                tracing::error!(error = %other, "store error");
                WebError::Internal(other.to_string())
            }
        }
    }
}

impl From<AuthError> for WebError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::InvalidCredentials => WebError::invalid("password", err.to_string()),
            AuthError::InvalidCode => WebError::invalid("code", err.to_string()),
            AuthError::Disabled => WebError::Forbidden,
            AuthError::Locked { until } => WebError::Locked(until),
            AuthError::Unauthenticated => WebError::Unauthenticated,
            AuthError::Forbidden => WebError::Forbidden,
            AuthError::Invalid { field, message } => WebError::Invalid { field: field.to_owned(), message },
            AuthError::Store(store) => store.into(),
            AuthError::Hashing | AuthError::Random => {
                tracing::error!(error = %err, "auth internal error");
                WebError::Internal(err.to_string())
            }
        }
    }
}

impl From<rampart_cirt::DeskError> for WebError {
    fn from(err: rampart_cirt::DeskError) -> Self {
        use rampart_cirt::{CirtError, DeskError};
        match err {
            DeskError::Rule(CirtError::Invalid { field, message }) => WebError::Invalid { field: field.to_owned(), message },
            DeskError::Rule(CirtError::Field { path, message }) => WebError::Invalid { field: path, message },
            DeskError::Document(problems) => WebError::Document(problems),
            DeskError::Rule(transition @ CirtError::Transition { .. }) => {
                WebError::Conflict { field: "status".into(), message: transition.to_string() }
            }
            DeskError::Store(store) => store.into(),
            DeskError::Forbidden => WebError::Forbidden,
            DeskError::NotFound(entity) => WebError::NotFound(entity),
        }
    }
}

impl From<rampart_cop::CopError> for WebError {
    fn from(err: rampart_cop::CopError) -> Self {
        use rampart_cop::CopError;
        match err {
            CopError::Image(message) => WebError::invalid("file", message),
            CopError::Hash(message) => WebError::invalid("hash", message),
            CopError::Invalid { field, message } => WebError::Invalid { field: field.to_owned(), message },
            CopError::Rows(rows) => {
                let shown: Vec<String> = rows.iter().take(20).cloned().collect();
                let more = if rows.len() > shown.len() { format!("; and {} more", rows.len() - shown.len()) } else { String::new() };
                WebError::invalid("file", format!("{} bad row(s), nothing imported: {}{more}", rows.len(), shown.join("; ")))
            }
            CopError::GeoDatabase(message) => {
                tracing::error!(error = %message, "geolocation database");
                WebError::Internal(message)
            }
            CopError::Forbidden => WebError::Forbidden,
            CopError::NotFound(entity) => WebError::NotFound(entity),
            CopError::Store(store) => store.into(),
        }
    }
}

/// An error from an API handler: `{"error": {"code", "message", "field"}}`.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(err: E) -> Self {
        ApiError(err.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = self.0;
        let mut body = json!({"error": {"code": err.code(), "message": err.public_message(), "field": err.field()}});
        if let WebError::Document(problems) = &err {
            body["error"]["problems"] = json!(problems);
        }
        let mut response = (err.status(), Json(body)).into_response();
        if matches!(err, WebError::Unauthenticated) {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer realm=\"rampart\""));
        }
        response
    }
}

/// An error from a page handler.
#[derive(Debug)]
pub struct PageError(pub WebError);

impl<E: Into<WebError>> From<E> for PageError {
    fn from(err: E) -> Self {
        PageError(err.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let err = self.0;
        if matches!(err, WebError::Unauthenticated) {
            return Redirect::to("/login").into_response();
        }
        let status = err.status();
        let message = askama_escape(&err.public_message());
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{status} · Rampart</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
             <body><main class=\"container narrow\"><h1>{}</h1><p class=\"error-message\">{message}</p><p><a href=\"/\">Rampart</a></p></main></body></html>",
            status.canonical_reason().unwrap_or("Error"),
        );
        (status, Html(page)).into_response()
    }
}

fn askama_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

impl From<rampart_gci::GciError> for WebError {
    fn from(err: rampart_gci::GciError) -> Self {
        use rampart_gci::GciError;
        match err {
            GciError::Framework { .. } => WebError::invalid("file", err.to_string()),
            GciError::Invalid { field, message } => WebError::Invalid { field, message },
            GciError::Rows(rows) => {
                let shown: Vec<String> = rows.iter().take(20).cloned().collect();
                let more = if rows.len() > shown.len() { format!("; and {} more", rows.len() - shown.len()) } else { String::new() };
                WebError::invalid("file", format!("{} bad row(s), nothing imported: {}{more}", rows.len(), shown.join("; ")))
            }
            GciError::State(message) => WebError::Conflict { field: "status".into(), message },
            GciError::Forbidden => WebError::Forbidden,
            GciError::NotFound(entity) => WebError::NotFound(entity),
            GciError::Store(store) => store.into(),
        }
    }
}

impl From<rampart_strategy::StrategyError> for WebError {
    fn from(err: rampart_strategy::StrategyError) -> Self {
        use rampart_strategy::StrategyError;
        match err {
            StrategyError::Data { .. } => WebError::Internal(err.to_string()),
            StrategyError::Invalid { field, message } => WebError::Invalid { field, message },
            StrategyError::Forbidden => WebError::Forbidden,
            StrategyError::NotFound(entity) => WebError::NotFound(entity),
            StrategyError::Gci(gci) => gci.into(),
            StrategyError::Store(store) => store.into(),
        }
    }
}

impl From<rampart_drills::DrillsError> for WebError {
    fn from(err: rampart_drills::DrillsError) -> Self {
        use rampart_drills::DrillsError;
        match err {
            DrillsError::Invalid { field, message } => WebError::Invalid { field, message },
            DrillsError::Forbidden => WebError::Forbidden,
            DrillsError::NotFound(entity) => WebError::NotFound(entity),
            // The exercise's state does not allow it (paused, over, already answered).
            DrillsError::State(message) => WebError::Conflict { field: "state".into(), message },
            DrillsError::RateLimited { .. } => WebError::TooManyRequests,
            DrillsError::Store(store) => store.into(),
        }
    }
}
