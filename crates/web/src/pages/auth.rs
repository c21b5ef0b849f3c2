//! Signing in and out, with the second factor.

use super::{Ctx, render, role_label};
use crate::error::{PageError, WebError};
use crate::viewer::Viewer;
use crate::{AppState, cookies};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rampart_auth::{AuthError, LoginOutcome};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/login/second-factor", get(second_factor_form).post(second_factor))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Ctx,
    error: Option<String>,
    email: String,
    demo_accounts: Vec<(String, String, String)>,
}

fn login_page(state: &AppState, viewer: &Viewer, error: Option<String>, email: String) -> Result<Response, PageError> {
    let c = Ctx::new(state, viewer, "platform.login.title", "login");
    let demo_accounts = state
        .config()
        .demo_accounts
        .iter()
        .map(|(role, email, password)| (role_label(&c.t, role), email.clone(), password.clone()))
        .collect();
    render(&LoginPage { c, error, email, demo_accounts })
}

async fn login_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    if viewer.principal.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    login_page(&state, &viewer, None, String::new())
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    csrf: String,
}

fn session_cookie(state: &AppState, token: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&cookies::set(cookies::SESSION, token, state.config().secure_cookies, None)).ok()
}

async fn login(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let t = state.catalogues().for_lang(viewer.lang);
    let ip_key = viewer.ip.clone().unwrap_or_default();
    if !state.login_limiter().check(&ip_key, state.auth().now()) {
        let mut response = login_page(&state, &viewer, Some(t.get("platform.login.rate_limited").to_owned()), form.email)?;
        *response.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        return Ok(response);
    }
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    // Signing in again replaces any session this browser had.
    if let Some(old) = &viewer.session_token {
        state.auth().logout(old, viewer.ip.as_deref()).await?;
    }
    match state.auth().login(&form.email, &form.password, viewer.ip.as_deref(), user_agent).await {
        Ok(LoginOutcome::SignedIn { session_token }) => {
            let mut response = Redirect::to("/").into_response();
            if let Some(cookie) = session_cookie(&state, &session_token) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        Ok(LoginOutcome::SecondFactorRequired { session_token }) => {
            let mut response = Redirect::to("/login/second-factor").into_response();
            if let Some(cookie) = session_cookie(&state, &session_token) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        Err(err) => {
            let (status, message) = match &err {
                AuthError::InvalidCredentials => (axum::http::StatusCode::UNAUTHORIZED, t.get("platform.login.failed").to_owned()),
                AuthError::Locked { until } => {
                    (axum::http::StatusCode::TOO_MANY_REQUESTS, t.fill("platform.login.locked", &[("until", until)]))
                }
                AuthError::Disabled => (axum::http::StatusCode::FORBIDDEN, t.get("platform.login.disabled").to_owned()),
                _ => return Err(PageError(WebError::from(err))),
            };
            let mut response = login_page(&state, &viewer, Some(message), form.email)?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    c: Ctx,
    error: Option<String>,
}

async fn second_factor_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    if !viewer.second_factor_pending {
        return Ok(Redirect::to("/login").into_response());
    }
    render(&SecondFactorPage { c: Ctx::new(&state, &viewer, "platform.second_factor.title", "login"), error: None })
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
    csrf: String,
}

async fn second_factor(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let Some(session) = viewer.session_token.clone().filter(|_| viewer.second_factor_pending) else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !state.login_limiter().check(&format!("2fa:{}", viewer.ip.clone().unwrap_or_default()), state.auth().now()) {
        return Err(PageError(WebError::TooManyRequests));
    }
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    match state.auth().complete_second_factor(&session, &form.code, viewer.ip.as_deref(), user_agent).await {
        Ok(token) => {
            let mut response = Redirect::to("/").into_response();
            if let Some(cookie) = session_cookie(&state, &token) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        Err(AuthError::InvalidCode) => {
            let c = Ctx::new(&state, &viewer, "platform.second_factor.title", "login");
            let error = Some(c.t.get("platform.second_factor.failed").to_owned());
            let mut response = render(&SecondFactorPage { c, error })?;
            *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
            Ok(response)
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn logout(State(state): State<AppState>, viewer: Viewer, Form(form): Form<CsrfOnly>) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    if let Some(token) = &viewer.session_token {
        state.auth().logout(token, viewer.ip.as_deref()).await?;
    }
    let mut response = Redirect::to("/").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&cookies::clear(cookies::SESSION, state.config().secure_cookies)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}
