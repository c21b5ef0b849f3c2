//! Threat intelligence in the browser: the TAXII collections one may read
//! or write, with the address a TAXII client uses, and for CIRT managers
//! the form that creates a collection and names who reads and writes it.

use super::{Ctx, flash_text, render_status};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::viewer::Viewer;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use rampart_core::Permission;
use rampart_store::orgs::OrgFilter;
use rampart_store::page::PageRequest;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/intel/collections", get(collections_page).post(create_collection))
        .route("/intel/collections/{id}/access", axum::routing::post(set_access))
        .route("/intel/collections/{id}/misp", axum::routing::post(import_misp))
        .route("/intel/groups", axum::routing::post(create_group))
        .route("/intel/groups/{id}/members", axum::routing::post(set_group_members))
        .route("/intel/indicators", get(indicators_page))
        .route("/intel/indicators/gather", axum::routing::post(gather))
        .route("/intel/indicators/export/{format}", get(export_page))
}

struct CollectionLine {
    id: String,
    title: String,
    description: String,
    owner: String,
    access: String,
    /// For its managers: the access form, with the current lists.
    may_manage: bool,
    /// For its writers: the MISP import form.
    can_write: bool,
    everyone: bool,
    readers: Vec<String>,
    writers: Vec<String>,
}

#[derive(Template)]
#[template(path = "intel_collections.html")]
struct CollectionsPage {
    c: Ctx,
    collections: Vec<CollectionLine>,
    may_create: bool,
    orgs: Vec<(String, String)>,
    /// The organisation's sharing groups, for their own section and as
    /// choices (`group:<id>`) in the access lists.
    groups: Vec<GroupLine>,
    error: Option<String>,
}

struct GroupLine {
    id: String,
    /// `group:<id>`, as the access lists name it.
    key: String,
    name: String,
    member_names: String,
    members: Vec<String>,
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

async fn view(state: &AppState, viewer: &Viewer, error: Option<String>, done: Option<&str>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::IntelRead) && !principal.has(Permission::IntelManage) {
        return Err(PageError(WebError::Forbidden));
    }
    let c = Ctx::new(state, viewer, "intel.collections.title", "intel");
    let c = Ctx { flash: flash_text(&c.t, done), ..c };
    let mut collections = Vec::new();
    for collection in state.taxii().collections(principal).await.map_err(|err| PageError(WebError::Internal(err.to_string())))? {
        let owner = state.store().org_get(&collection.row.owner_org_id).await.map(|o| o.name).unwrap_or_default();
        let access = match (collection.can_read, collection.can_write) {
            (true, true) => c.t.get("intel.collections.read_write"),
            (false, true) => c.t.get("intel.collections.write_only"),
            _ => c.t.get("intel.collections.read_only"),
        };
        let may_manage =
            state.taxii().may_manage(principal, &collection.row).await.map_err(|err| PageError(WebError::Internal(err.to_string())))?;
        let readers: Vec<String> = serde_json::from_str(&collection.row.readers).unwrap_or_default();
        let writers: Vec<String> = serde_json::from_str(&collection.row.writers).unwrap_or_default();
        collections.push(CollectionLine {
            id: collection.row.id.clone(),
            title: collection.row.title.clone(),
            description: collection.row.description.clone(),
            owner,
            access: access.to_owned(),
            may_manage,
            can_write: collection.can_write,
            everyone: readers.iter().any(|r| r == "*"),
            readers,
            writers,
        });
    }
    let may_create = principal.has(Permission::IntelManage);
    let orgs = if may_create || collections.iter().any(|c| c.may_manage) {
        let page = state.store().org_list(&OrgFilter::default(), &PageRequest::first(PageRequest::MAX_LIMIT)).await?;
        page.items.into_iter().filter(|o| o.id != principal.org_id).map(|o| (o.id, o.name)).collect()
    } else {
        Vec::new()
    };
    let names: std::collections::HashMap<&str, &str> = orgs.iter().map(|(id, name)| (id.as_str(), name.as_str())).collect();
    let groups = state
        .taxii()
        .sharing_groups(principal)
        .await
        .map_err(|err| PageError(WebError::Internal(err.to_string())))?
        .into_iter()
        .map(|g| {
            let members: Vec<String> = serde_json::from_str(&g.members).unwrap_or_default();
            let member_names = members.iter().map(|m| names.get(m.as_str()).copied().unwrap_or(m.as_str())).collect::<Vec<_>>().join(", ");
            GroupLine { key: format!("{}{}", rampart_intel::taxii::GROUP_PREFIX, g.id), id: g.id, name: g.name, member_names, members }
        })
        .collect();
    let status = error.as_ref().map(|_| StatusCode::UNPROCESSABLE_ENTITY);
    render_status(&CollectionsPage { c, collections, may_create, orgs, groups, error }, status)
}

async fn collections_page(State(state): State<AppState>, viewer: Viewer, Query(query): Query<DoneQuery>) -> Result<Response, PageError> {
    view(&state, &viewer, None, query.done.as_deref()).await
}

/// Fields: csrf and `event`, a MISP core-format event as JSON.
async fn import_misp(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let actor = viewer.act(&field("csrf"))?;
    match state.taxii().import_misp(&actor, &id, &field("event")).await {
        Ok(_) => Ok(Redirect::to("/intel/collections?done=intel.collections.imported").into_response()),
        Err(rampart_intel::IntelError::Forbidden) => Err(PageError(WebError::Forbidden)),
        Err(rampart_intel::IntelError::NotFound(what)) => Err(PageError(WebError::NotFound(what))),
        Err(
            err @ (rampart_intel::IntelError::Invalid { .. }
            | rampart_intel::IntelError::Syntax { .. }
            | rampart_intel::IntelError::TooLarge { .. }),
        ) => view(&state, &viewer, Some(format!("MISP: {err}")), None).await,
        Err(err) => Err(PageError(WebError::Internal(err.to_string()))),
    }
}

/// Fields: csrf and repeated `reader` / `writer` organisation ids (`*` for
/// the whole community), replacing the collection's lists.
async fn set_access(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let many = |name: &str| form.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let actor = viewer.act(&field("csrf"))?;
    let outcome = state.taxii().set_access(&actor, &id, &many("reader"), &many("writer")).await.map(|_| ());
    collections_outcome(&state, &viewer, outcome, "intel.collections.access_saved").await
}

/// Fields: csrf, title, description, and repeated `reader` / `writer`
/// organisation ids (`*` for the whole community).
async fn create_collection(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let many = |name: &str| form.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let actor = viewer.act(&field("csrf"))?;
    let outcome =
        state.taxii().create_collection(&actor, &field("title"), &field("description"), &many("reader"), &many("writer")).await.map(|_| ());
    collections_outcome(&state, &viewer, outcome, "intel.collections.created").await
}

/// The answer to a form about collections or groups: back to the page
/// with a message, or the error in the form.
async fn collections_outcome(
    state: &AppState,
    viewer: &Viewer,
    outcome: Result<(), rampart_intel::IntelError>,
    done: &str,
) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/intel/collections?done={done}")).into_response()),
        Err(rampart_intel::IntelError::Forbidden) => Err(PageError(WebError::Forbidden)),
        Err(rampart_intel::IntelError::NotFound(what)) => Err(PageError(WebError::NotFound(what))),
        Err(rampart_intel::IntelError::Invalid { path, message }) => view(state, viewer, Some(format!("{path}: {message}")), None).await,
        Err(err) => Err(PageError(WebError::Internal(err.to_string()))),
    }
}

/// Fields: csrf, name and repeated `member` organisation ids.
async fn create_group(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let many = |name: &str| form.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let actor = viewer.act(&field("csrf"))?;
    let outcome = state.taxii().create_group(&actor, &field("name"), &many("member")).await.map(|_| ());
    collections_outcome(&state, &viewer, outcome, "intel.groups.created").await
}

/// Fields: csrf and repeated `member` organisation ids, replacing the group's.
async fn set_group_members(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let many = |name: &str| form.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let actor = viewer.act(&field("csrf"))?;
    let outcome = state.taxii().set_group_members(&actor, &id, &many("member")).await;
    collections_outcome(&state, &viewer, outcome, "intel.groups.saved").await
}

#[derive(Deserialize, Default)]
struct IndicatorQuery {
    q: Option<String>,
    kind: Option<String>,
    expired: Option<String>,
    warned: Option<String>,
    done: Option<String>,
}

impl IndicatorQuery {
    fn to_query(&self, limit: usize) -> rampart_intel::indicators::Query {
        rampart_intel::indicators::Query {
            kind: self.kind.clone().filter(|k| !k.is_empty()),
            contains: self.q.clone().map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()),
            include_expired: self.expired.is_some(),
            include_warned: self.warned.is_some(),
            max_tlp: None,
            limit: Some(limit),
        }
    }

    /// The same filters as a query string, for the export links.
    fn params(&self) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("q", &self.q), ("kind", &self.kind), ("expired", &self.expired), ("warned", &self.warned)] {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                pairs.append_pair(name, value);
            }
        }
        pairs.finish()
    }
}

struct IndicatorLine {
    id: String,
    kind: String,
    value: String,
    tlp: String,
    tlp_class: &'static str,
    confidence: i64,
    score: String,
    last_seen: String,
    sightings: i64,
    warning: String,
    expired: bool,
}

#[derive(Template)]
#[template(path = "intel_indicators.html")]
struct IndicatorsPage {
    c: Ctx,
    lines: Vec<IndicatorLine>,
    q: String,
    kind: String,
    expired: bool,
    warned: bool,
    params: String,
    kinds: Vec<&'static str>,
    may_gather: bool,
    collections: Vec<(String, String)>,
    truncated: bool,
}

const PAGE_ROWS: usize = 500;

async fn indicators_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<IndicatorQuery>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::IntelRead) {
        return Err(PageError(WebError::Forbidden));
    }
    let c = Ctx::new(&state, &viewer, "intel.indicators.title", "intel_indicators");
    let c = Ctx { flash: flash_text(&c.t, query.done.as_deref()), ..c };
    let views = state
        .indicators()
        .list(principal, &query.to_query(PAGE_ROWS + 1))
        .await
        .map_err(|err| PageError(WebError::Internal(err.to_string())))?;
    let truncated = views.len() > PAGE_ROWS;
    let lines = views
        .into_iter()
        .take(PAGE_ROWS)
        .map(|v| IndicatorLine {
            id: v.row.id.clone(),
            kind: v.row.kind.clone(),
            value: v.row.value.clone(),
            tlp: v.row.tlp.clone(),
            tlp_class: super::cirt::tlp_class(&v.row.tlp),
            confidence: v.row.confidence,
            score: format!("{:.0}", v.score),
            last_seen: v.row.last_seen.chars().take(10).collect(),
            sightings: v.row.sightings,
            warning: v.warning.unwrap_or("").to_owned(),
            expired: v.expired,
        })
        .collect();
    let may_gather = principal.has(Permission::IntelWrite);
    let collections = if may_gather {
        state
            .taxii()
            .collections(principal)
            .await
            .map_err(|err| PageError(WebError::Internal(err.to_string())))?
            .into_iter()
            .filter(|c| c.can_read)
            .map(|c| (c.row.id, c.row.title))
            .collect()
    } else {
        Vec::new()
    };
    render_status(
        &IndicatorsPage {
            c,
            lines,
            q: query.q.clone().unwrap_or_default(),
            kind: query.kind.clone().unwrap_or_default(),
            expired: query.expired.is_some(),
            warned: query.warned.is_some(),
            params: query.params(),
            kinds: vec!["ipv4", "ipv6", "cidr", "domain", "url", "email", "md5", "sha1", "sha256"],
            may_gather,
            collections,
            truncated,
        },
        None,
    )
}

/// Fields: csrf, and `source`: `incidents`, or a collection id.
async fn gather(State(state): State<AppState>, viewer: Viewer, Form(form): Form<Vec<(String, String)>>) -> Result<Response, PageError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let actor = viewer.act(&field("csrf"))?;
    let source = field("source");
    let outcome = if source == "incidents" {
        state.indicators().gather_incidents(&actor, &actor.principal.org_id.clone()).await
    } else {
        state.indicators().gather_collection(&actor, state.taxii(), &source).await
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/intel/indicators?done=intel.indicators.gathered").into_response()),
        Err(rampart_intel::IntelError::Forbidden) => Err(PageError(WebError::Forbidden)),
        Err(rampart_intel::IntelError::NotFound(what)) => Err(PageError(WebError::NotFound(what))),
        Err(err) => Err(PageError(WebError::Internal(err.to_string()))),
    }
}

async fn export_page(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::extract::Path(format): axum::extract::Path<String>,
    Query(query): Query<IndicatorQuery>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    crate::misp_feed::indicator_export(&state, principal, &format, &query.to_query(rampart_intel::indicators::MAX_ROWS)).await.map_err(
        |err| match err {
            rampart_intel::IntelError::Forbidden => PageError(WebError::Forbidden),
            rampart_intel::IntelError::Invalid { .. } => PageError(WebError::NotFound("export format")),
            other => PageError(WebError::Internal(other.to_string())),
        },
    )
}
