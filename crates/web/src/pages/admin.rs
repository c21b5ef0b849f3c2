//! Administration: users and their roles, new organisations, the audit log.
//! Every action asks the access layer; org administrators see and manage
//! only their own organisation, and other users are "not found" to them.

use super::directory::url_encode;
use super::{Ctx, flash_text, render, role_label};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::listing::{self, Format, ListParams};
use crate::viewer::Viewer;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rampart_auth::service::NewUserRequest;
use rampart_auth::{AuthError, Principal, Scope, Target};
use rampart_core::{OrgKind, Permission, Role, Sector, country};
use rampart_store::users::UserFilter;
use rampart_store::{AuditFilter, NewOrg};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/{id}", get(user_detail))
        .route("/admin/users/{id}/status", post(set_status))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/users/{id}/grants", post(grant))
        .route("/admin/users/{id}/grants/{grant_id}/revoke", post(revoke))
        .route("/admin/users/{id}/two-factor/disable", post(disable_two_factor))
        .route("/admin/orgs/new", get(new_org_form))
        .route("/admin/orgs", post(create_org))
        .route("/admin/orgs/{id}/mfa", post(org_mfa))
        .route("/admin/orgs/{id}/contacts", post(add_contact))
        .route("/admin/orgs/{id}/contacts/{contact_id}/remove", post(remove_contact))
        .route("/admin/orgs/{id}/contacts/{contact_id}/key", post(set_contact_key))
        .route("/admin/audit", get(audit))
}

fn require_permission(viewer: &Viewer, permission: Permission) -> Result<&Principal, PageError> {
    let principal = viewer.require()?;
    if principal.has(permission) { Ok(principal) } else { Err(PageError(WebError::Forbidden)) }
}

// ----- users ------------------------------------------------------------

#[derive(Deserialize, Default)]
struct UsersQuery {
    org_id: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
    format: Option<String>,
    done: Option<String>,
}

pub struct UserListRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub org: String,
    pub disabled: bool,
    pub last_login: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    c: Ctx,
    rows: Vec<UserListRow>,
    orgs: Vec<(String, String)>,
    org_id: String,
    q: String,
    next_link: Option<String>,
    export_query: String,
    languages: Vec<(String, String)>,
    error: Option<String>,
    error_field: String,
}

/// The organisations whose users `principal` may list: `None` for all.
fn visible_orgs(principal: &Principal) -> Option<Vec<String>> {
    principal.org_ids_for(Permission::UserRead)
}

async fn users_page(state: &AppState, viewer: &Viewer, query: UsersQuery, error: Option<WebError>) -> Result<Response, PageError> {
    let principal = require_permission(viewer, Permission::UserRead)?;
    let scope = visible_orgs(principal);
    // Outside an org administrator's scope the filter is forced to their org.
    let org_id = match (&scope, query.org_id.as_deref().filter(|s| !s.is_empty())) {
        (None, wanted) => wanted.map(str::to_owned),
        (Some(allowed), Some(wanted)) if allowed.iter().any(|a| a == wanted) => Some(wanted.to_owned()),
        (Some(allowed), _) => allowed.first().cloned(),
    };
    let params = ListParams { limit: query.limit, cursor: query.cursor.clone(), format: query.format.clone() };
    let filter = UserFilter { org_id: org_id.clone(), email_contains: query.q.clone().filter(|q| !q.is_empty()) };
    let page = state.store().user_list(&filter, &params.page(50)?).await?;
    let mut org_names = std::collections::HashMap::new();
    for user in &page.items {
        if !org_names.contains_key(&user.org_id) {
            org_names.insert(user.org_id.clone(), state.store().org_get(&user.org_id).await?.name);
        }
    }
    if params.format()? == Format::Csv {
        let items = page.items.iter().map(|u| user_json(u, org_names.get(&u.org_id).map(String::as_str))).collect();
        return Ok(listing::render(items, page.next_cursor, Format::Csv, &USER_COLUMNS, "users"));
    }
    let t = state.catalogues().for_lang(viewer.lang);
    let c = Ctx::new(state, viewer, "platform.users.title", "users").with_flash(flash_text(&t, query.done.as_deref()));
    let never = c.t.get("platform.profile.token_never").to_owned();
    let rows = page
        .items
        .iter()
        .map(|u| UserListRow {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.display_name.clone(),
            org: org_names.get(&u.org_id).cloned().unwrap_or_default(),
            disabled: u.disabled,
            last_login: u.last_login_at.clone().unwrap_or_else(|| never.clone()),
        })
        .collect();
    let orgs = match &scope {
        None => state.store().org_list(&Default::default(), &rampart_store::PageRequest::first(500)).await?.items,
        Some(ids) => {
            let mut list = Vec::new();
            for id in ids {
                list.push(state.store().org_get(id).await?);
            }
            list
        }
    }
    .into_iter()
    .map(|o| (o.id, o.name))
    .collect();
    let base = format!("org_id={}&q={}", url_encode(org_id.as_deref().unwrap_or("")), url_encode(query.q.as_deref().unwrap_or("")));
    let languages = crate::i18n::LANGUAGES.iter().map(|(code, name)| ((*code).to_owned(), (*name).to_owned())).collect();
    let mut response = render(&UsersPage {
        rows,
        orgs,
        org_id: org_id.unwrap_or_default(),
        q: query.q.unwrap_or_default(),
        next_link: page.next_cursor.map(|cursor| format!("/admin/users?{base}&cursor={}", url_encode(&cursor))),
        export_query: base,
        languages,
        error_field: error.as_ref().and_then(|e| e.field().map(str::to_owned)).unwrap_or_default(),
        error: error.as_ref().map(WebError::public_message),
        c,
    })?;
    if let Some(err) = error {
        *response.status_mut() = err.status();
    }
    Ok(response)
}

pub const USER_COLUMNS: [&str; 8] = ["id", "email", "display_name", "org_id", "organisation", "language", "disabled", "last_login_at"];

pub fn user_json(user: &rampart_store::UserRow, org_name: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "org_id": user.org_id,
        "organisation": org_name,
        "language": user.language,
        "disabled": user.disabled,
        "totp_enabled": user.totp_enabled,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    })
}

async fn users(State(state): State<AppState>, viewer: Viewer, Query(query): Query<UsersQuery>) -> Result<Response, PageError> {
    users_page(&state, &viewer, query, None).await
}

#[derive(Deserialize)]
struct NewUserForm {
    csrf: String,
    org_id: String,
    email: String,
    display_name: String,
    password: String,
    language: String,
    must_change: Option<String>,
}

async fn create_user(State(state): State<AppState>, viewer: Viewer, Form(form): Form<NewUserForm>) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    require_permission(&viewer, Permission::UserManage)?;
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    let request = NewUserRequest {
        org_id: form.org_id.clone(),
        email: form.email,
        display_name: form.display_name,
        password: form.password,
        language: form.language,
        must_change_password: form.must_change.is_some(),
    };
    match state.auth().create_user(&actor, &request).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/users/{id}?done=platform.users.created")).into_response()),
        Err(err @ (AuthError::Invalid { .. } | AuthError::Store(rampart_store::StoreError::Conflict { .. }))) => {
            let query = UsersQuery { org_id: Some(form.org_id), ..Default::default() };
            users_page(&state, &viewer, query, Some(err.into())).await
        }
        Err(err) => Err(err.into()),
    }
}

pub struct GrantView {
    pub id: String,
    pub role: String,
    pub scope: String,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    c: Ctx,
    user: rampart_store::UserRow,
    org_name: String,
    grants: Vec<GrantView>,
    roles: Vec<(String, String)>,
    countries: Vec<(String, String)>,
    can_manage: bool,
    can_grant_anywhere: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

/// Loads a user the viewer may see; anyone else is "not found".
async fn visible_user(state: &AppState, principal: &Principal, id: &str) -> Result<rampart_store::UserRow, PageError> {
    let user = state.store().user_get(id).await?;
    if !state.auth().can_read_user(principal, &user).await? {
        return Err(PageError(WebError::NotFound("user")));
    }
    Ok(user)
}

async fn user_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<String>,
    error: Option<WebError>,
) -> Result<Response, PageError> {
    let principal = require_permission(viewer, Permission::UserRead)?;
    let user = visible_user(state, principal, id).await?;
    let org = state.store().org_get(&user.org_id).await?;
    let c = Ctx::new(state, viewer, "platform.users.title", "users").with_flash(flash);
    let grants = state
        .store()
        .grants_of(&user.id)
        .await?
        .into_iter()
        .map(|g| GrantView {
            role: role_label(&c.t, &g.role),
            scope: match (&g.scope_org_id, &g.scope_country) {
                (Some(org_id), _) if *org_id == org.id => org.name.clone(),
                (Some(org_id), _) => org_id.clone(),
                (None, Some(cc)) => country::find(cc).map(|c| c.name.clone()).unwrap_or_else(|| cc.clone()),
                (None, None) => c.t.get("platform.users.scope_global").to_owned(),
            },
            id: g.id,
        })
        .collect();
    let can_grant_anywhere = principal.is_platform_admin();
    // Platform administration last, so it is never the accidental default.
    let roles = Role::ALL
        .iter()
        .rev()
        .filter(|r| can_grant_anywhere || !r.is_global_only())
        .map(|r| (r.as_str().to_owned(), role_label(&c.t, r.as_str())))
        .collect();
    let countries = country::all().iter().map(|c| (c.alpha2.clone(), c.name.clone())).collect();
    let can_manage = principal.allows(Permission::UserManage, Target::Org { id: &org.id, country: org.country.as_deref() });
    let mut response = render(&UserPage {
        error: error.as_ref().map(WebError::public_message),
        c,
        user,
        org_name: org.name,
        grants,
        roles,
        countries,
        can_manage,
        can_grant_anywhere,
    })?;
    if let Some(err) = error {
        *response.status_mut() = err.status();
    }
    Ok(response)
}

async fn user_detail(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let t = state.catalogues().for_lang(viewer.lang);
    user_page(&state, &viewer, &id, flash_text(&t, query.done.as_deref()), None).await
}

/// Runs an admin action on a user and re-renders their page with either
/// the flash message or the error, so mistakes are shown in place.
async fn after_action(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    result: Result<(), AuthError>,
    done: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}?done={done}")).into_response()),
        Err(err @ (AuthError::Invalid { .. } | AuthError::Store(rampart_store::StoreError::Conflict { .. }))) => {
            user_page(state, viewer, id, None, Some(err.into())).await
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
struct StatusForm {
    csrf: String,
    disabled: String,
}

async fn set_status(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let principal = require_permission(&viewer, Permission::UserRead)?;
    visible_user(&state, principal, &id).await?;
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    let result = state.auth().set_disabled(&actor, &id, form.disabled == "true").await;
    after_action(&state, &viewer, &id, result, "platform.users.status_changed").await
}

#[derive(Deserialize)]
struct ResetForm {
    csrf: String,
    password: String,
}

async fn reset_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ResetForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let principal = require_permission(&viewer, Permission::UserRead)?;
    visible_user(&state, principal, &id).await?;
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    let result = state.auth().reset_password(&actor, &id, &form.password, true).await;
    after_action(&state, &viewer, &id, result, "platform.users.password_reset").await
}

#[derive(Deserialize)]
struct GrantForm {
    csrf: String,
    role: String,
    scope: String,
    country: Option<String>,
}

async fn grant(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<GrantForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let principal = require_permission(&viewer, Permission::UserRead)?;
    let user = visible_user(&state, principal, &id).await?;
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    let role = form.role.parse::<Role>().map_err(|_| WebError::invalid("role", format!("unknown role `{}`", form.role)))?;
    let scope = match form.scope.as_str() {
        "global" => Scope::Global,
        "org" => Scope::Org(user.org_id.clone()),
        "country" => Scope::Country(form.country.clone().unwrap_or_default().trim().to_ascii_uppercase()),
        other => return Err(WebError::invalid("scope", format!("unknown scope `{other}`")).into()),
    };
    let result = state.auth().grant_role(&actor, &id, role, scope).await.map(|_| ());
    after_action(&state, &viewer, &id, result, "platform.users.granted").await
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, grant_id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let principal = require_permission(&viewer, Permission::UserRead)?;
    visible_user(&state, principal, &id).await?;
    let grant = state.store().grant_get(&grant_id).await?;
    if grant.user_id != id {
        return Err(PageError(WebError::NotFound("role grant")));
    }
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    let result = state.auth().revoke_role(&actor, &grant_id).await;
    after_action(&state, &viewer, &id, result, "platform.users.revoked").await
}

async fn disable_two_factor(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let principal = require_permission(&viewer, Permission::UserRead)?;
    visible_user(&state, principal, &id).await?;
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    let result = state.auth().disable_totp(&actor, &id, None).await;
    after_action(&state, &viewer, &id, result, "platform.users.two_factor_off").await
}

// ----- organisations ----------------------------------------------------

#[derive(Template)]
#[template(path = "admin_org_new.html")]
struct NewOrgPage {
    c: Ctx,
    kinds: Vec<(String, String)>,
    sectors: Vec<String>,
    countries: Vec<(String, String)>,
    error: Option<String>,
}

async fn new_org_page(state: &AppState, viewer: &Viewer, error: Option<WebError>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.allows(Permission::OrgCreate, Target::Platform) {
        return Err(PageError(WebError::Forbidden));
    }
    let c = Ctx::new(state, viewer, "platform.orgs.create", "orgs");
    let kinds =
        OrgKind::ALL.iter().map(|k| (k.as_str().to_owned(), c.t.get(&format!("platform.org_kinds.{}", k.as_str())).to_owned())).collect();
    let sectors = Sector::ALL.iter().map(|s| s.as_str().to_owned()).collect();
    let countries = country::all().iter().map(|c| (c.alpha2.clone(), c.name.clone())).collect();
    let mut response = render(&NewOrgPage { error: error.as_ref().map(WebError::public_message), c, kinds, sectors, countries })?;
    if let Some(err) = error {
        *response.status_mut() = err.status();
    }
    Ok(response)
}

async fn new_org_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    new_org_page(&state, &viewer, None).await
}

#[derive(Deserialize)]
struct NewOrgForm {
    csrf: String,
    name: String,
    kind: String,
    sector: Option<String>,
    country: Option<String>,
    website: Option<String>,
}

async fn create_org(State(state): State<AppState>, viewer: Viewer, Form(form): Form<NewOrgForm>) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let org = NewOrg {
        name: form.name,
        short_name: None,
        kind: form.kind,
        sector: form.sector.filter(|s| !s.is_empty()),
        country: form.country.filter(|c| !c.is_empty()),
        parent_id: None,
        website: form.website.filter(|w| !w.is_empty()),
        mfa_required: false,
    };
    match state.auth().create_org(&actor, &org).await {
        Ok(created) => Ok(Redirect::to(&format!("/orgs/{}", created.id)).into_response()),
        Err(err @ (AuthError::Invalid { .. } | AuthError::Store(rampart_store::StoreError::Conflict { .. }))) => {
            new_org_page(&state, &viewer, Some(err.into())).await
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
struct MfaForm {
    csrf: String,
    required: String,
}

async fn org_mfa(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<MfaForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    state.auth().set_org_mfa_required(&actor, &id, form.required == "true").await?;
    Ok(Redirect::to(&format!("/orgs/{id}")).into_response())
}

#[derive(Deserialize)]
struct ContactForm {
    csrf: String,
    role: String,
    name: Option<String>,
    email: String,
    phone: Option<String>,
}

async fn add_contact(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ContactForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    state.auth().add_contact(&actor, &id, &form.role, form.name.as_deref(), &form.email, form.phone.as_deref()).await?;
    Ok(Redirect::to(&format!("/orgs/{id}?done=platform.orgs.contact_added")).into_response())
}

async fn remove_contact(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, contact_id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    state.auth().remove_contact(&actor, &id, &contact_id).await?;
    Ok(Redirect::to(&format!("/orgs/{id}?done=platform.orgs.contact_removed")).into_response())
}

#[derive(Deserialize)]
struct KeyForm {
    csrf: String,
    #[serde(default)]
    key: String,
}

/// Registers a contact's OpenPGP key (an empty key removes it); notices to
/// the contact are then encrypted.
async fn set_contact_key(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, contact_id)): Path<(String, String)>,
    Form(form): Form<KeyForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let key = Some(form.key.as_str()).filter(|k| !k.trim().is_empty());
    let done = if key.is_some() { "platform.orgs.key_saved" } else { "platform.orgs.key_removed" };
    state.desk().set_contact_key(&actor, &id, &contact_id, key).await?;
    Ok(Redirect::to(&format!("/orgs/{id}?done={done}")).into_response())
}

// ----- audit ------------------------------------------------------------

#[derive(Deserialize, Default)]
struct AuditQuery {
    action: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
    actor_id: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Ctx,
    rows: Vec<rampart_store::AuditRecord>,
    action: String,
    chain: String,
    chain_ok: bool,
    next_link: Option<String>,
    export_query: String,
}

pub const AUDIT_COLUMNS: [&str; 11] =
    ["seq", "at", "actor_label", "actor_id", "actor_org_id", "action", "entity_type", "entity_id", "source_ip", "summary", "hash"];

/// The audit filter a principal may use: org administrators see the
/// entries of their organisation's people only.
pub fn scoped_audit_filter(principal: &Principal, mut filter: AuditFilter) -> Result<AuditFilter, WebError> {
    if !principal.has(Permission::AuditRead) {
        return Err(WebError::Forbidden);
    }
    if let Some(orgs) = principal.org_ids_for(Permission::AuditRead) {
        let own = orgs.first().cloned().ok_or(WebError::Forbidden)?;
        filter.actor_org_id = Some(own);
    }
    Ok(filter)
}

async fn audit(State(state): State<AppState>, viewer: Viewer, Query(query): Query<AuditQuery>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let filter = scoped_audit_filter(
        principal,
        AuditFilter {
            action_prefix: query.action.clone().filter(|a| !a.is_empty()),
            entity_type: query.entity_type.clone().filter(|a| !a.is_empty()),
            entity_id: query.entity_id.clone().filter(|a| !a.is_empty()),
            actor_id: query.actor_id.clone().filter(|a| !a.is_empty()),
            actor_org_id: None,
        },
    )?;
    let params = ListParams { limit: query.limit, cursor: query.cursor.clone(), format: query.format.clone() };
    let page = state.store().audit_list(&filter, &params.page(100)?).await?;
    if params.format()? == Format::Csv {
        let items = page.items.iter().map(|r| serde_json::to_value(r).unwrap_or_default()).collect();
        return Ok(listing::render(items, page.next_cursor, Format::Csv, &AUDIT_COLUMNS, "audit"));
    }
    let c = Ctx::new(&state, &viewer, "platform.audit.title", "audit");
    // Only platform administrators see the chain's state: it covers
    // everyone's entries.
    let (chain, chain_ok) = if principal.is_platform_admin() {
        let report = state.store().audit_verify().await?;
        match report.problem {
            None => (c.t.fill("platform.audit.chain_ok", &[("count", &report.entries.to_string())]), true),
            Some(problem) => (c.t.fill("platform.audit.chain_broken", &[("problem", &problem.to_string())]), false),
        }
    } else {
        (String::new(), true)
    };
    let base = format!("action={}", url_encode(query.action.as_deref().unwrap_or("")));
    render(&AuditPage {
        c,
        rows: page.items,
        action: query.action.unwrap_or_default(),
        chain,
        chain_ok,
        next_link: page.next_cursor.map(|cursor| format!("/admin/audit?{base}&cursor={}", url_encode(&cursor))),
        export_query: base,
    })
}
