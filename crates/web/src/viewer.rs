//! Who is asking: the principal behind a session cookie or an API token,
//! their language, address and CSRF token. The one extractor every handler
//! uses, so authentication is resolved the same way everywhere.

use crate::error::{ApiError, PageError, WebError};
use crate::{AppState, cookies, i18n};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use rampart_auth::Principal;
use rampart_auth::service::Actor;
use std::net::SocketAddr;

/// The CSRF token of this request, put in the extensions by the security
/// layer (read from the cookie, or newly made and set on the response).
#[derive(Clone)]
pub struct CsrfToken(pub String);

pub struct Viewer {
    pub principal: Option<Principal>,
    /// Password accepted, second factor still to come.
    pub second_factor_pending: bool,
    pub session_token: Option<String>,
    pub lang: &'static str,
    pub csrf: String,
    pub ip: Option<String>,
}

impl Viewer {
    /// The principal, or a redirect to the login page; users who must set up
    /// two-factor authentication are sent there first.
    pub fn require(&self) -> Result<&Principal, PageError> {
        match &self.principal {
            Some(principal) if principal.must_set_up_mfa => Err(PageError(WebError::Forbidden)),
            Some(principal) => Ok(principal),
            None => Err(PageError(WebError::Unauthenticated)),
        }
    }

    pub fn actor(&self) -> Option<Actor<'_>> {
        self.principal.as_ref().map(|principal| Actor { principal, ip: self.ip.clone() })
    }

    /// For a form that changes something: checks the CSRF token and that
    /// someone is signed in, and returns them as the actor.
    pub fn act(&self, csrf: &str) -> Result<Actor<'_>, PageError> {
        self.check_csrf(csrf)?;
        self.require()?;
        self.actor().ok_or(PageError(WebError::Unauthenticated))
    }

    pub fn check_csrf(&self, submitted: &str) -> Result<(), PageError> {
        if rampart_auth::secret::constant_time_eq(&self.csrf, submitted) {
            Ok(())
        } else {
            Err(PageError(WebError::invalid("csrf", "the form expired; reload the page and try again")))
        }
    }
}

pub fn client_ip(parts: &Parts, trust_proxy: bool) -> Option<String> {
    if trust_proxy
        && let Some(forwarded) = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok())
        && let Some(first) = forwarded.split(',').next()
    {
        return Some(first.trim().to_owned());
    }
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string())
}

fn language_of(headers: &HeaderMap, principal: Option<&Principal>) -> &'static str {
    principal
        .and_then(|p| i18n::supported(&p.language))
        .or_else(|| cookies::get(headers, cookies::LANG).and_then(|lang| i18n::supported(&lang)))
        .or_else(|| headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(i18n::negotiate))
        .unwrap_or("en")
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session_token = cookies::get(&parts.headers, cookies::SESSION);
        let mut principal = None;
        let mut second_factor_pending = false;
        if let Some(token) = &session_token
            && let Some((found, verified)) = state.auth().session_principal(token).await?
        {
            if verified {
                principal = Some(found);
            } else {
                second_factor_pending = true;
            }
        }
        let csrf = parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
        Ok(Viewer {
            lang: language_of(&parts.headers, principal.as_ref()),
            ip: client_ip(parts, state.config().trust_proxy),
            principal,
            second_factor_pending,
            session_token,
            csrf,
        })
    }
}

/// An authenticated API caller: a bearer token (`Authorization: Bearer
/// rmp_…`, or HTTP Basic with the token as password, for TAXII clients), or
/// a browser session, which must then send the CSRF token in
/// `X-CSRF-Token` for anything but a read.
pub struct ApiCaller {
    pub principal: Principal,
    pub ip: Option<String>,
}

impl ApiCaller {
    pub fn actor(&self) -> Actor<'_> {
        Actor { principal: &self.principal, ip: self.ip.clone() }
    }
}

pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    if let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) {
        return Some(token.trim().to_owned());
    }
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = data_encoding::BASE64.decode(encoded.trim().as_bytes()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, password)| password.to_owned())
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts, state.config().trust_proxy);
        if let Some(token) = bearer_token(&parts.headers) {
            let principal = state.auth().token_principal(&token).await?.ok_or(ApiError(WebError::Unauthenticated))?;
            return Ok(ApiCaller { principal, ip });
        }
        let Some(session) = cookies::get(&parts.headers, cookies::SESSION) else {
            return Err(ApiError(WebError::Unauthenticated));
        };
        let Some((principal, true)) = state.auth().session_principal(&session).await? else {
            return Err(ApiError(WebError::Unauthenticated));
        };
        if principal.must_set_up_mfa {
            return Err(ApiError(WebError::Forbidden));
        }
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let expected = cookies::get(&parts.headers, cookies::CSRF).unwrap_or_default();
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
            if expected.is_empty() || !rampart_auth::secret::constant_time_eq(&expected, sent) {
                return Err(ApiError(WebError::invalid("x-csrf-token", "missing or wrong CSRF token")));
            }
        }
        Ok(ApiCaller { principal, ip })
    }
}
