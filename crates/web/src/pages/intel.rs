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
    Router::new().route("/intel/collections", get(collections_page).post(create_collection))
}

struct CollectionLine {
    id: String,
    title: String,
    description: String,
    owner: String,
    access: String,
}

#[derive(Template)]
#[template(path = "intel_collections.html")]
struct CollectionsPage {
    c: Ctx,
    collections: Vec<CollectionLine>,
    may_create: bool,
    orgs: Vec<(String, String)>,
    error: Option<String>,
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
        collections.push(CollectionLine {
            id: collection.row.id.clone(),
            title: collection.row.title.clone(),
            description: collection.row.description.clone(),
            owner,
            access: access.to_owned(),
        });
    }
    let may_create = principal.has(Permission::IntelManage);
    let orgs = if may_create {
        let page = state.store().org_list(&OrgFilter::default(), &PageRequest::first(PageRequest::MAX_LIMIT)).await?;
        page.items.into_iter().filter(|o| o.id != principal.org_id).map(|o| (o.id, o.name)).collect()
    } else {
        Vec::new()
    };
    let status = error.as_ref().map(|_| StatusCode::UNPROCESSABLE_ENTITY);
    render_status(&CollectionsPage { c, collections, may_create, orgs, error }, status)
}

async fn collections_page(State(state): State<AppState>, viewer: Viewer, Query(query): Query<DoneQuery>) -> Result<Response, PageError> {
    view(&state, &viewer, None, query.done.as_deref()).await
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
    match state.taxii().create_collection(&actor, &field("title"), &field("description"), &many("reader"), &many("writer")).await {
        Ok(_) => Ok(Redirect::to("/intel/collections?done=intel.collections.created").into_response()),
        Err(rampart_intel::IntelError::Forbidden) => Err(PageError(WebError::Forbidden)),
        Err(rampart_intel::IntelError::Invalid { path, message }) => view(&state, &viewer, Some(format!("{path}: {message}")), None).await,
        Err(err) => Err(PageError(WebError::Internal(err.to_string()))),
    }
}
