//! Countries and the organisation directory.

use super::{Ctx, flash_text, render};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::listing::{self, Format, ListParams};
use crate::viewer::Viewer;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use rampart_core::country::{self, ItuRegion};
use rampart_core::{OrgKind, Permission};
use rampart_store::orgs::OrgFilter;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/countries", get(countries)).route("/orgs", get(orgs)).route("/orgs/{id}", get(org_detail))
}

#[derive(Deserialize, Default)]
struct CountryQuery {
    region: Option<String>,
    q: Option<String>,
    format: Option<String>,
}

pub struct CountryRow {
    pub alpha2: String,
    pub alpha3: String,
    pub numeric: String,
    pub name: String,
    pub region: String,
}

#[derive(Template)]
#[template(path = "countries.html")]
struct CountriesPage {
    c: Ctx,
    rows: Vec<CountryRow>,
    regions: Vec<(String, String)>,
    region: String,
    q: String,
    export_query: String,
}

/// Filters the compiled-in country list; shared with the API.
pub fn filter_countries(region: Option<&str>, query: Option<&str>) -> Result<Vec<&'static country::Country>, WebError> {
    let region = match region.filter(|r| !r.is_empty()) {
        Some(text) => Some(ItuRegion::parse(text).map_err(|_| WebError::invalid("region", format!("unknown region `{text}`")))?),
        None => None,
    };
    let needle = query.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
    Ok(country::all()
        .iter()
        .filter(|c| region.is_none_or(|r| c.region == r))
        .filter(|c| {
            needle
                .as_ref()
                .is_none_or(|n| c.name.to_lowercase().contains(n) || c.alpha2.eq_ignore_ascii_case(n) || c.alpha3.eq_ignore_ascii_case(n))
        })
        .collect())
}

async fn countries(State(state): State<AppState>, viewer: Viewer, Query(query): Query<CountryQuery>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::DirectoryRead) {
        return Err(PageError(WebError::Forbidden));
    }
    let matching = filter_countries(query.region.as_deref(), query.q.as_deref())?;
    let params = ListParams { format: query.format.clone(), ..Default::default() };
    if params.format()? == Format::Csv {
        let items = matching.iter().map(|c| serde_json::to_value(c).unwrap_or_default()).collect();
        return Ok(listing::render(items, None, Format::Csv, &["alpha2", "alpha3", "numeric", "name", "region"], "countries"));
    }
    let c = Ctx::new(&state, &viewer, "platform.countries.title", "countries");
    let rows = matching
        .iter()
        .map(|country| CountryRow {
            alpha2: country.alpha2.clone(),
            alpha3: country.alpha3.clone(),
            numeric: country.numeric.clone(),
            name: country.name.clone(),
            region: c.t.get(&format!("platform.regions.{}", country.region.as_str())).to_owned(),
        })
        .collect();
    let regions =
        ItuRegion::ALL.iter().map(|r| (r.as_str().to_owned(), c.t.get(&format!("platform.regions.{}", r.as_str())).to_owned())).collect();
    let region = query.region.clone().unwrap_or_default();
    let q = query.q.clone().unwrap_or_default();
    let export_query = format!("region={}&q={}", url_encode(&region), url_encode(&q));
    render(&CountriesPage { c, rows, regions, region, q, export_query })
}

pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[derive(Deserialize, Default)]
struct OrgQuery {
    country: Option<String>,
    kind: Option<String>,
    q: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    format: Option<String>,
    done: Option<String>,
}

pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub country: String,
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct OrgsPage {
    c: Ctx,
    rows: Vec<OrgRow>,
    kinds: Vec<(String, String)>,
    kind: String,
    country: String,
    q: String,
    next_link: Option<String>,
    export_query: String,
    can_create: bool,
}

/// Parses the organisation filters shared by the page and the API.
pub fn org_filter(country: Option<&str>, kind: Option<&str>, q: Option<&str>) -> Result<OrgFilter, WebError> {
    let country = match country.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => Some(
            country::find(code)
                .map(|c| c.alpha2.clone())
                .ok_or_else(|| WebError::invalid("country", format!("unknown country `{code}`")))?,
        ),
        None => None,
    };
    let kind = match kind.map(str::trim).filter(|k| !k.is_empty()) {
        Some(text) => {
            Some(text.parse::<OrgKind>().map_err(|_| WebError::invalid("kind", format!("unknown kind `{text}`")))?.as_str().to_owned())
        }
        None => None,
    };
    Ok(OrgFilter { country, kind, name_contains: q.map(str::to_owned).filter(|q| !q.trim().is_empty()) })
}

pub fn org_json(org: &rampart_store::Organisation) -> serde_json::Value {
    serde_json::to_value(org).unwrap_or_default()
}

pub const ORG_COLUMNS: [&str; 9] = ["id", "name", "short_name", "kind", "sector", "country", "parent_id", "website", "mfa_required"];

async fn orgs(State(state): State<AppState>, viewer: Viewer, Query(query): Query<OrgQuery>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::DirectoryRead) {
        return Err(PageError(WebError::Forbidden));
    }
    let filter = org_filter(query.country.as_deref(), query.kind.as_deref(), query.q.as_deref())?;
    let params = ListParams { limit: query.limit, cursor: query.cursor.clone(), format: query.format.clone() };
    let page = state.store().org_list(&filter, &params.page(50)?).await?;
    if params.format()? == Format::Csv {
        let items = page.items.iter().map(org_json).collect();
        return Ok(listing::render(items, page.next_cursor, Format::Csv, &ORG_COLUMNS, "organisations"));
    }
    let t = state.catalogues().for_lang(viewer.lang);
    let c = Ctx::new(&state, &viewer, "platform.orgs.title", "orgs").with_flash(flash_text(&t, query.done.as_deref()));
    let international = c.t.get("platform.orgs.international").to_owned();
    let rows = page
        .items
        .iter()
        .map(|org| OrgRow {
            id: org.id.clone(),
            name: org.name.clone(),
            kind: c.t.get(&format!("platform.org_kinds.{}", org.kind)).to_owned(),
            country: org.country.as_deref().and_then(country::find).map(|c| c.name.clone()).unwrap_or_else(|| international.clone()),
        })
        .collect();
    let kinds =
        OrgKind::ALL.iter().map(|k| (k.as_str().to_owned(), c.t.get(&format!("platform.org_kinds.{}", k.as_str())).to_owned())).collect();
    let base = format!(
        "country={}&kind={}&q={}",
        url_encode(query.country.as_deref().unwrap_or("")),
        url_encode(query.kind.as_deref().unwrap_or("")),
        url_encode(query.q.as_deref().unwrap_or(""))
    );
    let next_link = page.next_cursor.map(|cursor| format!("/orgs?{base}&cursor={}", url_encode(&cursor)));
    render(&OrgsPage {
        can_create: principal.allows(Permission::OrgCreate, rampart_auth::Target::Platform),
        c,
        rows,
        kinds,
        kind: query.kind.unwrap_or_default(),
        country: query.country.unwrap_or_default(),
        q: query.q.unwrap_or_default(),
        next_link,
        export_query: base,
    })
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    c: Ctx,
    org: rampart_store::Organisation,
    kind: String,
    country: String,
    contacts: Vec<ContactLine>,
    can_manage: bool,
}

pub struct ContactLine {
    pub contact: rampart_store::Contact,
    /// The OpenPGP key's fingerprint, empty without a key.
    pub fingerprint: String,
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

async fn org_detail(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::DirectoryRead) {
        return Err(PageError(WebError::Forbidden));
    }
    let org = state.store().org_get(&id).await?;
    let target = rampart_auth::Target::Org { id: &org.id, country: org.country.as_deref() };
    let can_manage = principal.allows(Permission::OrgManage, target);
    // Contacts are for members, their managers and CIRT staff; the directory
    // shows everyone the organisation itself.
    let contacts = if can_manage
        || principal.org_id == org.id
        || principal.allows(Permission::UserRead, rampart_auth::Target::Org { id: &org.id, country: org.country.as_deref() })
    {
        state.store().contacts_of(&org.id).await?
    } else {
        Vec::new()
    };
    let contacts = contacts
        .into_iter()
        .map(|contact| {
            let fingerprint = match contact.openpgp_key.as_deref().map(rampart_cirt::encryption::inspect) {
                Some(Ok(info)) => info.fingerprint,
                Some(Err(_)) => "?".into(),
                None => String::new(),
            };
            ContactLine { contact, fingerprint }
        })
        .collect();
    let t = state.catalogues().for_lang(viewer.lang);
    let mut c = Ctx::new(&state, &viewer, "platform.orgs.title", "orgs").with_flash(flash_text(&t, query.done.as_deref()));
    c.title = org.name.clone();
    let kind = c.t.get(&format!("platform.org_kinds.{}", org.kind)).to_owned();
    let country = org
        .country
        .as_deref()
        .and_then(country::find)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| c.t.get("platform.orgs.international").to_owned());
    render(&OrgPage { c, org, kind, country, contacts, can_manage })
}
