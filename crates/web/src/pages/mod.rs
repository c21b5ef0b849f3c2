//! Server-rendered pages. They work without JavaScript; `static/app.js`
//! only adds conveniences.

pub(crate) mod admin;
mod advisories;
mod auth;
pub(crate) mod cirt;
mod csaf_provider;
pub(crate) mod directory;
mod drills;
mod feeds;
mod gci;
mod guidance;
mod hotline;
mod intel;
mod profile;
mod strategy;

pub(crate) use hotline::export_response as hotline_export_response;

use crate::error::{PageError, WebError};
use crate::i18n::{LANGUAGES, Tr};
use crate::viewer::Viewer;
use crate::{AppState, cookies};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rampart_auth::Principal;
use rampart_core::Permission;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/language", post(set_language))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .merge(auth::routes())
        .merge(profile::routes())
        .merge(directory::routes())
        .merge(admin::routes())
        .merge(cirt::routes())
        .merge(feeds::routes())
        .merge(advisories::routes())
        .merge(csaf_provider::routes())
        .merge(hotline::routes())
        .merge(guidance::routes())
        .merge(gci::routes())
        .merge(strategy::routes())
        .merge(intel::routes())
        .merge(drills::routes())
}

pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

pub struct UserBadge {
    pub display_name: String,
    pub email: String,
}

/// What every page's layout needs.
pub struct Ctx {
    pub t: Tr,
    pub lang: &'static str,
    pub dir: &'static str,
    pub title: String,
    pub csrf: String,
    pub user: Option<UserBadge>,
    pub nav: Vec<NavItem>,
    pub flash: Option<String>,
    pub demo: bool,
    pub languages: &'static [(&'static str, &'static str)],
}

impl Ctx {
    pub fn new(state: &AppState, viewer: &Viewer, title_key: &str, active: &str) -> Ctx {
        let t = state.catalogues().for_lang(viewer.lang);
        let principal = viewer.principal.as_ref().filter(|p| !p.must_set_up_mfa);
        let mut nav = vec![NavItem { href: "/", label: t.get("platform.nav.home").to_owned(), active: active == "home" }];
        if principal.is_some_and(|p| p.has(Permission::DirectoryRead)) {
            nav.push(NavItem { href: "/countries", label: t.get("platform.nav.countries").to_owned(), active: active == "countries" });
            nav.push(NavItem { href: "/orgs", label: t.get("platform.nav.organisations").to_owned(), active: active == "orgs" });
        }
        if principal.is_some_and(|p| p.has(Permission::IncidentRead)) {
            nav.push(NavItem { href: "/cirt", label: t.get("cirt.nav.desk").to_owned(), active: active == "cirt" });
            nav.push(NavItem { href: "/cirt/reports", label: t.get("cirt.nav.reports").to_owned(), active: active == "reports" });
            nav.push(NavItem { href: "/cirt/dashboard", label: t.get("cirt.nav.dashboard").to_owned(), active: active == "dashboard" });
            nav.push(NavItem { href: "/cirt/feeds", label: t.get("feeds.nav").to_owned(), active: active == "feeds" });
            nav.push(NavItem { href: "/cirt/cvss", label: t.get("cirt.nav.cvss").to_owned(), active: active == "cvss" });
        } else if principal.is_some_and(|p| p.has(Permission::ReportSubmit)) {
            nav.push(NavItem { href: "/cirt", label: t.get("cirt.nav.my_incidents").to_owned(), active: active == "cirt" });
            nav.push(NavItem { href: "/cirt/reports", label: t.get("cirt.nav.my_reports").to_owned(), active: active == "reports" });
            nav.push(NavItem { href: "/cirt/feeds", label: t.get("feeds.nav_constituent").to_owned(), active: active == "feeds" });
        }
        nav.push(NavItem { href: "/advisories", label: t.get("cirt.nav.advisories").to_owned(), active: active == "advisories" });
        if principal.is_some_and(|p| p.has(Permission::ConstituencyRead) || p.has(Permission::ConstituencyManage)) {
            nav.push(NavItem {
                href: "/cirt/constituency",
                label: t.get("cirt.nav.constituency").to_owned(),
                active: active == "constituency",
            });
        }
        if principal.is_none_or(|p| p.has(Permission::ReportSubmit)) {
            nav.push(NavItem { href: "/report", label: t.get("cirt.nav.report").to_owned(), active: active == "report" });
        }
        if principal.is_some_and(|p| p.has(Permission::HotlineRead)) {
            nav.push(NavItem { href: "/hotline", label: t.get("cop.nav.hotline").to_owned(), active: active == "hotline" });
        }
        if principal.is_some_and(|p| p.has(Permission::HashMatch) || p.has(Permission::HashListManage)) {
            nav.push(NavItem { href: "/hotline/lists", label: t.get("cop.nav.hash_lists").to_owned(), active: active == "hash_lists" });
            nav.push(NavItem { href: "/hotline/match", label: t.get("cop.nav.match").to_owned(), active: active == "hash_match" });
        }
        if principal.is_none() {
            nav.push(NavItem {
                href: "/hotline/report",
                label: t.get("cop.nav.report_content").to_owned(),
                active: active == "hotline_report",
            });
        }
        nav.push(NavItem { href: "/gci", label: t.get("gci.nav.index").to_owned(), active: active == "gci" });
        if principal.is_some_and(|p| p.has(Permission::GciEdit) || p.has(Permission::GciReview) || p.has(Permission::GciAnswer)) {
            nav.push(NavItem { href: "/gci/campaigns", label: t.get("gci.nav.campaigns").to_owned(), active: active == "gci_campaigns" });
            nav.push(NavItem { href: "/gci/editions", label: t.get("gci.nav.editions").to_owned(), active: active == "gci_editions" });
        }
        if principal.is_some_and(|p| p.has(Permission::IntelRead)) {
            nav.push(NavItem { href: "/intel/collections", label: t.get("intel.nav.collections").to_owned(), active: active == "intel" });
            nav.push(NavItem {
                href: "/intel/indicators",
                label: t.get("intel.nav.indicators").to_owned(),
                active: active == "intel_indicators",
            });
        }
        if principal.is_some_and(|p| p.has(Permission::StrategyRead)) {
            nav.push(NavItem { href: "/strategy", label: t.get("strategy.nav.strategy").to_owned(), active: active == "strategy" });
        }
        if principal.is_some_and(|p| p.has(Permission::MaturityAssess) || p.has(Permission::StrategyRead)) {
            nav.push(NavItem { href: "/maturity", label: t.get("strategy.nav.maturity").to_owned(), active: active == "maturity" });
        }
        if principal.is_some_and(|p| {
            p.has(Permission::DrillOrganise)
                || p.has_role(rampart_core::Role::DrillEvaluator)
                || p.has_role(rampart_core::Role::DrillPlayer)
        }) {
            nav.push(NavItem { href: "/drills", label: t.get("drills.nav.drills").to_owned(), active: active == "drills" });
        }
        nav.push(NavItem { href: "/guidance", label: t.get("cop.nav.guidance").to_owned(), active: active == "guidance" });
        if principal.is_some_and(|p| p.has(Permission::UserRead)) {
            nav.push(NavItem { href: "/admin/users", label: t.get("platform.nav.users").to_owned(), active: active == "users" });
        }
        if principal.is_some_and(|p| p.has(Permission::AuditRead)) {
            nav.push(NavItem { href: "/admin/audit", label: t.get("platform.nav.audit").to_owned(), active: active == "audit" });
        }
        Ctx {
            title: t.get(title_key).to_owned(),
            lang: t.lang,
            dir: t.dir(),
            csrf: viewer.csrf.clone(),
            user: viewer.principal.as_ref().map(|p: &Principal| UserBadge { display_name: p.display_name.clone(), email: p.email.clone() }),
            nav,
            flash: None,
            demo: state.config().demo,
            languages: &LANGUAGES,
            t,
        }
    }

    pub fn with_flash(mut self, flash: Option<String>) -> Ctx {
        self.flash = flash;
        self
    }
}

/// A file to save: its type, a file name made safe for the header, the body.
pub(crate) fn download(content_type: &str, filename: &str, body: Vec<u8>) -> Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let safe: String = filename.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    let mut response = body.into_response();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

pub fn render<T: Template>(page: &T) -> Result<Response, PageError> {
    let html = page.render().map_err(|err| PageError(WebError::Internal(err.to_string())))?;
    Ok(Html(html).into_response())
}

/// Renders a page with `status` instead of 200 when one is given (a form
/// shown again with its error, say).
pub fn render_status<T: Template>(page: &T, status: Option<axum::http::StatusCode>) -> Result<Response, PageError> {
    let mut response = render(page)?;
    if let Some(status) = status {
        *response.status_mut() = status;
    }
    Ok(response)
}

/// A CSV file to download.
pub(crate) fn csv_download(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response()
}

/// Flash messages travel as a query parameter naming a catalogue key, so no
/// server state is needed and no text can be injected.
pub fn flash_text(t: &Tr, key: Option<&str>) -> Option<String> {
    let key = key?;
    if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        return None;
    }
    let text = t.get(key);
    (text != key).then(|| text.to_owned())
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Ctx,
    welcome: Option<String>,
    roles: Vec<String>,
    stats: Vec<String>,
    /// The newest published advisories the visitor may read: (id, tracking id, title, severity).
    advisories: Vec<(String, String, String, String)>,
    /// The visitor works at or with a CIRT desk.
    cirt: bool,
    /// The visitor works at a hotline.
    hotline: bool,
}

async fn home(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    if viewer.second_factor_pending {
        return Ok(Redirect::to("/login/second-factor").into_response());
    }
    if viewer.principal.as_ref().is_some_and(|p| p.must_set_up_mfa) {
        return Ok(Redirect::to("/profile/two-factor").into_response());
    }
    let c = Ctx::new(&state, &viewer, "platform.home.title", "home");
    let principal = viewer.principal.as_ref().filter(|p| !p.must_set_up_mfa);
    let advisories = state
        .desk()
        .latest_published(principal, 5)
        .await?
        .into_iter()
        .map(|(row, digest)| (row.id, row.tracking_id, row.title, digest.severity.unwrap_or_default()))
        .collect();
    let cirt = principal.is_some_and(|p| p.has(Permission::IncidentRead) || p.has(Permission::ReportSubmit));
    let hotline = principal.is_some_and(|p| p.has(Permission::HotlineRead));
    let mut page = HomePage { welcome: None, roles: Vec::new(), stats: Vec::new(), advisories, cirt, hotline, c };
    if let Some(principal) = &viewer.principal {
        page.welcome = Some(page.c.t.fill("platform.home.welcome", &[("name", &principal.display_name)]));
        page.roles = principal.grants.iter().map(|g| describe_grant(&page.c.t, g)).collect();
        let countries = rampart_core::country::all().len().to_string();
        page.stats.push(page.c.t.fill("platform.home.countries_count", &[("count", &countries)]));
        if principal.has(Permission::DirectoryRead) {
            let orgs = state.store().org_count().await?.to_string();
            page.stats.push(page.c.t.fill("platform.home.organisations_count", &[("count", &orgs)]));
        }
        if principal.is_platform_admin() {
            let users = state.store().user_count().await?.to_string();
            page.stats.push(page.c.t.fill("platform.home.users_count", &[("count", &users)]));
        }
    }
    render(&page)
}

pub fn role_label(t: &Tr, role: &str) -> String {
    t.get(&format!("platform.roles.{role}")).to_owned()
}

pub fn describe_grant(t: &Tr, grant: &rampart_auth::Grant) -> String {
    let role = role_label(t, grant.role.as_str());
    match &grant.scope {
        rampart_auth::Scope::Global => format!("{role} — {}", t.get("platform.users.scope_global")),
        rampart_auth::Scope::Org(_) => role,
        rampart_auth::Scope::Country(cc) => {
            let name = rampart_core::country::find(cc).map(|c| c.name.clone()).unwrap_or_else(|| cc.clone());
            format!("{role} — {name}")
        }
    }
}

#[derive(serde::Deserialize)]
struct LanguageForm {
    lang: String,
    csrf: String,
}

async fn set_language(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<LanguageForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let lang = crate::i18n::supported(&form.lang).ok_or_else(|| PageError(WebError::invalid("lang", "unsupported language")))?;
    if let Some(actor) = viewer.actor() {
        state.auth().set_language(&actor, lang).await?;
    }
    // Back to the page the picker was on, if it was ours.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_owned()))
        .filter(|path| path.starts_with('/') && !path.starts_with("//"))
        .unwrap_or_else(|| "/".to_owned());
    let mut response = Redirect::to(&back).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&cookies::set(cookies::LANG, lang, state.config().secure_cookies, Some(31_536_000))) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn css() -> Response {
    static_file(include_str!("../../static/app.css"), "text/css; charset=utf-8")
}

async fn js() -> Response {
    static_file(include_str!("../../static/app.js"), "text/javascript; charset=utf-8")
}

fn static_file(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}

/// Reads a browser upload: the CSRF token, at most one file (field `file`;
/// its name goes in the fields as `filename`) and the other text fields.
/// The file stays in memory and is dropped by the caller.
pub(crate) async fn read_upload(
    multipart: &mut axum::extract::Multipart,
) -> Result<(String, Option<Vec<u8>>, std::collections::HashMap<String, String>), WebError> {
    let mut csrf = String::new();
    let mut file = None;
    let mut fields = std::collections::HashMap::new();
    while let Some(field) = multipart.next_field().await.map_err(|err| WebError::invalid("file", err.body_text()))? {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "csrf" => csrf = field.text().await.map_err(|err| WebError::invalid("csrf", err.body_text()))?,
            "file" => {
                let filename = field.file_name().unwrap_or("").to_owned();
                let bytes = field.bytes().await.map_err(|err| WebError::invalid("file", err.body_text()))?;
                if !bytes.is_empty() {
                    fields.insert("filename".to_owned(), filename);
                    file = Some(bytes.to_vec());
                }
            }
            _ => {
                let text = field.text().await.map_err(|err| WebError::invalid("form", err.body_text()))?;
                fields.insert(name, text);
            }
        }
    }
    Ok((csrf, file, fields))
}
