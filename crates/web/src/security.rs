//! Headers and checks on every response: a strict Content-Security-Policy
//! (no inline script or style), no framing, no sniffing, HSTS under TLS;
//! the CSRF cookie; and a same-origin check on every state-changing request.

use crate::viewer::CsrfToken;
use crate::{AppState, cookies};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// True when an `Origin` header, if present, names this same host. Browsers
/// send it on cross-site POSTs, so this stops cross-site form submission
/// even before the CSRF token is checked.
fn same_origin(request: &Request) -> bool {
    let Some(origin) = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let Some(host) = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    let origin_host = origin.split("://").nth(1).unwrap_or("");
    origin_host == host
}

pub async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !same_origin(&request) {
        return (StatusCode::FORBIDDEN, "cross-origin request refused").into_response();
    }
    let existing = cookies::get(request.headers(), cookies::CSRF).filter(|token| token.len() >= 32);
    let (token, fresh) = match existing {
        Some(token) => (token, false),
        None => (rampart_auth::secret::random_token().unwrap_or_default(), true),
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let is_static = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A handler may set a stricter policy (downloads are sandboxed).
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if !is_static && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.config().hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    if fresh && let Ok(value) = HeaderValue::from_str(&cookies::set(cookies::CSRF, &token, state.config().secure_cookies, None)) {
        headers.append(header::SET_COOKIE, value);
    }
    response
}
