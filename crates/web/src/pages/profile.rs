//! The signed-in user's own account: details, language, password,
//! two-factor authentication and API tokens.

use super::{Ctx, describe_grant, flash_text, render, role_label};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::viewer::Viewer;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rampart_auth::{AuthError, Principal};
use rampart_core::Role;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/profile", get(profile))
        .route("/profile/password", post(change_password))
        .route("/profile/two-factor", get(two_factor_page))
        .route("/profile/two-factor/start", post(two_factor_start))
        .route("/profile/two-factor/confirm", post(two_factor_confirm))
        .route("/profile/two-factor/disable", post(two_factor_disable))
        .route("/profile/tokens", post(create_token))
        .route("/profile/tokens/{id}/revoke", post(revoke_token))
}

pub struct TokenView {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub roles: String,
    pub expires: String,
    pub last_used: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    c: Ctx,
    email: String,
    organisation: String,
    roles: Vec<String>,
    role_choices: Vec<(String, String)>,
    totp_enabled: bool,
    tfa_on_text: String,
    tokens: Vec<TokenView>,
    error: Option<String>,
    error_field: String,
}

#[derive(Deserialize, Default)]
struct FlashQuery {
    done: Option<String>,
}

/// Signed in, even if the user still has to set up two-factor
/// authentication (the pages here are where they do it).
fn signed_in(viewer: &Viewer) -> Result<&Principal, PageError> {
    viewer.principal.as_ref().ok_or(PageError(WebError::Unauthenticated))
}

async fn profile_page(state: &AppState, viewer: &Viewer, flash: Option<String>, error: Option<WebError>) -> Result<Response, PageError> {
    let principal = signed_in(viewer)?;
    if principal.must_set_up_mfa {
        return Ok(Redirect::to("/profile/two-factor").into_response());
    }
    let c = Ctx::new(state, viewer, "platform.profile.title", "profile").with_flash(flash);
    let org = state.store().org_get(&principal.org_id).await?;
    let mut role_choices: Vec<(String, String)> =
        principal.grants.iter().map(|g| (g.role.as_str().to_owned(), role_label(&c.t, g.role.as_str()))).collect();
    role_choices.dedup();
    let never = c.t.get("platform.profile.token_never").to_owned();
    let tokens = state
        .store()
        .tokens_of(&principal.user_id)
        .await?
        .into_iter()
        .map(|row| TokenView {
            roles: row.roles.iter().map(|r| role_label(&c.t, r)).collect::<Vec<_>>().join(", "),
            expires: row.expires_at.clone().unwrap_or_else(|| never.clone()),
            last_used: row.last_used_at.clone().unwrap_or_else(|| never.clone()),
            revoked: row.revoked_at.is_some(),
            id: row.id,
            name: row.name,
            prefix: row.prefix,
        })
        .collect();
    let page = ProfilePage {
        roles: principal.grants.iter().map(|g| describe_grant(&c.t, g)).collect(),
        email: principal.email.clone(),
        organisation: org.name,
        role_choices,
        totp_enabled: principal.totp_enabled,
        tfa_on_text: c.t.fill(
            "platform.profile.two_factor_on",
            &[("count", &state.store().recovery_codes_left(&principal.user_id).await?.to_string())],
        ),
        tokens,
        error_field: error.as_ref().and_then(|e| e.field().map(str::to_owned)).unwrap_or_default(),
        error: error.map(|e| e.public_message()),
        c,
    };
    let mut response = render(&page)?;
    if !page.error_field.is_empty() {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn profile(State(state): State<AppState>, viewer: Viewer, Query(query): Query<FlashQuery>) -> Result<Response, PageError> {
    let t = state.catalogues().for_lang(viewer.lang);
    profile_page(&state, &viewer, flash_text(&t, query.done.as_deref()), None).await
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
}

async fn change_password(State(state): State<AppState>, viewer: Viewer, Form(form): Form<PasswordForm>) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    match state.auth().change_own_password(&actor, &form.current_password, &form.new_password).await {
        Ok(()) => Ok(Redirect::to("/profile?done=platform.profile.password_changed").into_response()),
        Err(AuthError::Invalid { field, message }) => profile_page(&state, &viewer, None, Some(WebError::invalid(field, message))).await,
        Err(err) => Err(err.into()),
    }
}

#[derive(Template)]
#[template(path = "two_factor.html")]
struct TwoFactorPage {
    c: Ctx,
    required: bool,
    enabled: bool,
    secret: Option<String>,
    uri: String,
    error: Option<String>,
    recovery_codes: Vec<String>,
}

async fn two_factor_view(
    state: &AppState,
    viewer: &Viewer,
    error: Option<String>,
    recovery_codes: Vec<String>,
) -> Result<Response, PageError> {
    let principal = signed_in(viewer)?;
    let pending = if recovery_codes.is_empty() { state.auth().pending_totp(&principal.user_id).await? } else { None };
    let c = Ctx::new(state, viewer, "platform.two_factor.title", "profile");
    let (secret, uri) = match pending {
        Some((secret, uri)) => (Some(secret), uri),
        None => (None, String::new()),
    };
    let page = TwoFactorPage {
        c,
        required: principal.must_set_up_mfa,
        enabled: principal.totp_enabled || !recovery_codes.is_empty(),
        secret,
        uri,
        error,
        recovery_codes,
    };
    render(&page)
}

async fn two_factor_page(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    two_factor_view(&state, &viewer, None, Vec::new()).await
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn two_factor_start(State(state): State<AppState>, viewer: Viewer, Form(form): Form<CsrfForm>) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    state.auth().begin_totp_setup(&actor).await?;
    Ok(Redirect::to("/profile/two-factor").into_response())
}

#[derive(Deserialize)]
struct ConfirmForm {
    csrf: String,
    code: String,
}

async fn two_factor_confirm(State(state): State<AppState>, viewer: Viewer, Form(form): Form<ConfirmForm>) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    match state.auth().confirm_totp(&actor, &form.code).await {
        Ok(codes) => two_factor_view(&state, &viewer, None, codes).await,
        Err(AuthError::InvalidCode) => {
            let t = state.catalogues().for_lang(viewer.lang);
            two_factor_view(&state, &viewer, Some(t.get("platform.second_factor.failed").to_owned()), Vec::new()).await
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
struct DisableForm {
    csrf: String,
    password: String,
}

async fn two_factor_disable(State(state): State<AppState>, viewer: Viewer, Form(form): Form<DisableForm>) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let principal = viewer.require()?;
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    match state.auth().disable_totp(&actor, &principal.user_id, Some(&form.password)).await {
        Ok(()) => Ok(Redirect::to("/profile").into_response()),
        Err(AuthError::Invalid { field, message }) => profile_page(&state, &viewer, None, Some(WebError::invalid(field, message))).await,
        Err(err) => Err(err.into()),
    }
}

#[derive(Template)]
#[template(path = "token_created.html")]
struct TokenCreatedPage {
    c: Ctx,
    token: String,
}

async fn create_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    viewer.check_csrf(field("csrf"))?;
    viewer.require()?;
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    let roles = fields
        .iter()
        .filter(|(k, _)| k == "roles")
        .map(|(_, v)| v.parse::<Role>().map_err(|_| WebError::invalid("roles", format!("unknown role `{v}`"))))
        .collect::<Result<Vec<_>, _>>()?;
    let days = match field("valid_days").trim() {
        "" => None,
        text => Some(text.parse::<u32>().map_err(|_| WebError::invalid("valid_days", "must be a whole number of days"))?),
    };
    match state.auth().create_token(&actor, field("name"), &roles, days).await {
        Ok((token, _row)) => render(&TokenCreatedPage { c: Ctx::new(&state, &viewer, "platform.profile.tokens_title", "profile"), token }),
        Err(AuthError::Invalid { field, message }) => profile_page(&state, &viewer, None, Some(WebError::invalid(field, message))).await,
        Err(err) => Err(err.into()),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    state.auth().revoke_token(&actor, &id).await?;
    Ok(Redirect::to("/profile?done=platform.profile.token_revoked").into_response())
}
