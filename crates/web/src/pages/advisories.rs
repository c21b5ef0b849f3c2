//! Advisory pages: the public list and page of each advisory, the Atom
//! feed, and for a CIRT's analysts the editor (structured forms and a JSON
//! editor) with live CSAF validation and publishing.

use super::{Ctx, flash_text, render, render_status};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::viewer::Viewer;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rampart_cirt::advisories::AdvisoryView;
use rampart_cirt::advisory::{self, General, NewProduct, NewRemediation, NewVulnerability, Reference};
use rampart_cirt::provider;
use rampart_core::{Permission, Tlp};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/advisories", get(list).post(create))
        .route("/advisories/new", get(new_form))
        .route("/advisories/import", post(import))
        .route("/advisories/feed.atom", get(atom))
        .route("/advisories/{id}", get(page))
        .route("/advisories/{id}/csaf.json", get(download))
        .route("/advisories/{id}/general", post(set_general))
        .route("/advisories/{id}/products", post(add_product))
        .route("/advisories/{id}/products/{product_id}/remove", post(remove_product))
        .route("/advisories/{id}/vulnerabilities", post(add_vulnerability))
        .route("/advisories/{id}/vulnerabilities/{index}/remove", post(remove_vulnerability))
        .route("/advisories/{id}/json", get(json_editor).post(save_json))
        .route("/advisories/{id}/publish", post(publish))
}

// ----- list ---------------------------------------------------------------------

pub struct Row {
    pub id: String,
    pub tracking_id: String,
    pub title: String,
    pub tlp: String,
    pub tlp_class: &'static str,
    pub version: String,
    pub status: String,
    pub published: bool,
    pub severity: String,
    pub score: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "advisories.html")]
struct ListPage {
    c: Ctx,
    rows: Vec<Row>,
    may_write: bool,
}

fn tlp_class(label: &str) -> &'static str {
    label.parse::<Tlp>().map(Tlp::css_class).unwrap_or("tlp-amber")
}

async fn list(State(state): State<AppState>, viewer: Viewer, Query(query): Query<DoneQuery>) -> Result<Response, PageError> {
    let t = state.catalogues().for_lang(viewer.lang);
    let c = Ctx::new(&state, &viewer, "cirt.advisories.title", "advisories").with_flash(flash_text(&t, query.done.as_deref()));
    let principal = viewer.principal.as_ref().filter(|p| !p.must_set_up_mfa);
    let rows = state
        .desk()
        .advisories(principal)
        .await?
        .into_iter()
        .map(|(row, digest)| Row {
            tlp_class: tlp_class(&row.tlp),
            published: row.released_version.is_some(),
            id: row.id,
            tracking_id: row.tracking_id,
            title: row.title,
            tlp: row.tlp,
            version: digest.version,
            status: digest.status,
            severity: digest.severity.unwrap_or_default(),
            score: digest.max_score.map(|s| format!("{s:.1}")).unwrap_or_default(),
            updated: row.updated_at.get(..10).unwrap_or("").to_owned(),
        })
        .collect();
    let may_write = principal.is_some_and(|p| p.has(Permission::AdvisoryWrite));
    render(&ListPage { c, rows, may_write })
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

// ----- new ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "advisory_new.html")]
struct NewPage {
    c: Ctx,
    cirts: Vec<(String, String)>,
    tlps: Vec<&'static str>,
    error: Option<String>,
    form: GeneralForm,
}

#[derive(Deserialize, Default, Clone)]
struct GeneralForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    tlp: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    references: String,
}

/// References typed one per line: the address, a space, what it is.
fn parse_references(text: &str) -> Result<Vec<Reference>, WebError> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(|(index, line)| match line.split_once(char::is_whitespace) {
            Some((url, summary)) => Ok(Reference { url: url.to_owned(), summary: summary.trim().to_owned() }),
            None => Err(WebError::invalid("references", format!("line {}: an address, a space, then what it is", index + 1))),
        })
        .collect()
}

fn general_of(form: &GeneralForm) -> Result<General, WebError> {
    let tlp: Tlp = form.tlp.parse().map_err(|_| WebError::invalid("tlp", "choose a TLP label"))?;
    Ok(General {
        title: form.title.clone(),
        tlp,
        summary: form.summary.clone(),
        lang: "en".into(),
        references: parse_references(&form.references)?,
    })
}

const TLPS: [&str; 5] = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];

async fn writable_cirts(state: &AppState, viewer: &Viewer) -> Result<Vec<(String, String)>, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::AdvisoryWrite) {
        return Err(PageError(WebError::Forbidden));
    }
    let mut out = Vec::new();
    for id in principal.org_ids_for(Permission::AdvisoryWrite).unwrap_or_else(|| vec![principal.org_id.clone()]) {
        if let Ok(org) = state.desk().store().org_get(&id).await {
            out.push((org.id, org.name));
        }
    }
    Ok(out)
}

async fn new_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let cirts = writable_cirts(&state, &viewer).await?;
    let c = Ctx::new(&state, &viewer, "cirt.advisories.new", "advisories");
    let form = GeneralForm { tlp: "CLEAR".into(), ..GeneralForm::default() };
    render(&NewPage { c, cirts, tlps: TLPS.to_vec(), error: None, form })
}

async fn create(State(state): State<AppState>, viewer: Viewer, Form(form): Form<GeneralForm>) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let org = (!form.org_id.is_empty()).then_some(form.org_id.as_str());
    let result = match general_of(&form) {
        Ok(general) => state.desk().create_advisory(&actor, org, &general).await.map_err(WebError::from),
        Err(err) => Err(err),
    };
    match result {
        Ok(row) => Ok(Redirect::to(&format!("/advisories/{}?done=cirt.advisories.created", row.id)).into_response()),
        Err(err @ (WebError::Invalid { .. } | WebError::Conflict { .. })) => new_page_again(&state, &viewer, form, &err).await,
        Err(err) => Err(err.into()),
    }
}

/// The new-advisory page again, with what was typed and the error.
async fn new_page_again(state: &AppState, viewer: &Viewer, form: GeneralForm, err: &WebError) -> Result<Response, PageError> {
    let cirts = writable_cirts(state, viewer).await?;
    let c = Ctx::new(state, viewer, "cirt.advisories.new", "advisories");
    render_status(&NewPage { c, cirts, tlps: TLPS.to_vec(), error: Some(err.public_message()), form }, Some(err.status()))
}

#[derive(Deserialize)]
struct ImportForm {
    csrf: String,
    document: String,
    #[serde(default)]
    tlp: String,
}

async fn import(State(state): State<AppState>, viewer: Viewer, Form(form): Form<ImportForm>) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let tlp = form.tlp.parse::<Tlp>().ok();
    match state.desk().import_advisory(&actor, None, &form.document, tlp).await.map_err(WebError::from) {
        Ok(row) => Ok(Redirect::to(&format!("/advisories/{}?done=cirt.advisories.imported", row.id)).into_response()),
        Err(err @ (WebError::Invalid { .. } | WebError::Conflict { .. })) => {
            new_page_again(&state, &viewer, GeneralForm { tlp: "CLEAR".into(), ..GeneralForm::default() }, &err).await
        }
        Err(err) => Err(err.into()),
    }
}

// ----- the advisory page ----------------------------------------------------------

pub struct ProductLine {
    pub id: String,
    pub name: String,
}

pub struct ScoreLine {
    pub version: String,
    pub vector: String,
    pub score: String,
    pub severity: String,
}

pub struct VulnerabilityBlock {
    pub index: usize,
    pub title: String,
    pub cve: String,
    pub cwe: String,
    pub description: String,
    pub scores: Vec<ScoreLine>,
    pub affected: Vec<String>,
    pub fixed: Vec<String>,
    pub remediations: Vec<(String, String, String)>,
    pub references: Vec<(String, String)>,
}

pub struct RevisionLine {
    pub number: String,
    pub date: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "advisory.html")]
struct AdvisoryPage {
    c: Ctx,
    v: AdvisoryView,
    tlp: String,
    tlp_class: &'static str,
    summary: String,
    publisher: String,
    products: Vec<ProductLine>,
    vulnerabilities: Vec<VulnerabilityBlock>,
    references: Vec<(String, String)>,
    revisions: Vec<RevisionLine>,
    general: GeneralForm,
    tlps: Vec<&'static str>,
    remediation_categories: Vec<&'static str>,
    error: Option<String>,
}

fn text(value: &Value, pointer: &str) -> String {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("").to_owned()
}

/// Only web addresses become links: an imported document could carry
/// `javascript:` or `data:` URLs.
fn safe_url(url: String) -> String {
    if url.starts_with("https://") || url.starts_with("http://") { url } else { String::new() }
}

fn references_of(value: Option<&Value>) -> Vec<(String, String)> {
    value.and_then(Value::as_array).into_iter().flatten().map(|r| (safe_url(text(r, "/url")), text(r, "/summary"))).collect()
}

fn product_names(ids: Option<&Value>, products: &[(String, String)]) -> Vec<String> {
    ids.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|id| products.iter().find(|(p, _)| p == id).map(|(_, name)| name.clone()).unwrap_or_else(|| id.to_owned()))
        .collect()
}

fn page_of(c: Ctx, v: AdvisoryView, error: Option<String>) -> AdvisoryPage {
    let doc = &v.document;
    let products = advisory::products(doc);
    let vulnerabilities = doc
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(index, vuln)| {
            let description = vuln
                .get("notes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|n| matches!(n.get("category").and_then(Value::as_str), Some("description" | "summary")))
                .filter_map(|n| n.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n\n");
            let mut scores = Vec::new();
            for score in vuln.get("scores").and_then(Value::as_array).into_iter().flatten() {
                for key in ["cvss_v4", "cvss_v3", "cvss_v2"] {
                    if let Some(cvss) = score.get(key) {
                        scores.push(ScoreLine {
                            version: text(cvss, "/version"),
                            vector: text(cvss, "/vectorString"),
                            score: cvss.get("baseScore").and_then(Value::as_f64).map(|s| format!("{s:.1}")).unwrap_or_default(),
                            severity: text(cvss, "/baseSeverity"),
                        });
                    }
                }
            }
            VulnerabilityBlock {
                index,
                title: text(vuln, "/title"),
                cve: text(vuln, "/cve"),
                cwe: match (vuln.pointer("/cwe/id").and_then(Value::as_str), vuln.pointer("/cwe/name").and_then(Value::as_str)) {
                    (Some(id), Some(name)) => format!("{id}: {name}"),
                    _ => String::new(),
                },
                description,
                scores,
                affected: product_names(vuln.pointer("/product_status/known_affected"), &products),
                fixed: product_names(vuln.pointer("/product_status/fixed"), &products),
                remediations: vuln
                    .get("remediations")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|r| (text(r, "/category"), text(r, "/details"), safe_url(text(r, "/url"))))
                    .collect(),
                references: references_of(vuln.get("references")),
            }
        })
        .collect();
    let summary = doc
        .pointer("/document/notes")
        .and_then(Value::as_array)
        .and_then(|notes| notes.iter().find(|n| n.get("category").and_then(Value::as_str) == Some("summary")))
        .map(|n| text(n, "/text"))
        .unwrap_or_default();
    let revisions = doc
        .pointer("/document/tracking/revision_history")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| RevisionLine {
            number: text(r, "/number"),
            date: text(r, "/date").get(..10).unwrap_or("").to_owned(),
            summary: text(r, "/summary"),
        })
        .collect();
    let references = references_of(doc.pointer("/document/references")).into_iter().filter(|(url, _)| !url.is_empty()).collect();
    let tlp = v.digest.tlp.map(|t| t.as_str().to_owned()).unwrap_or_default();
    let general = GeneralForm {
        csrf: String::new(),
        org_id: String::new(),
        title: v.digest.title.clone(),
        tlp: tlp.clone(),
        summary: summary.clone(),
        references: references_of(doc.pointer("/document/references"))
            .into_iter()
            .zip(doc.pointer("/document/references").and_then(Value::as_array).cloned().unwrap_or_default())
            .filter(|(_, r)| r.get("category").and_then(Value::as_str) != Some("self"))
            .map(|((url, summary), _)| format!("{url} {summary}"))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    AdvisoryPage {
        tlp_class: tlp_class(&tlp),
        tlp,
        summary,
        publisher: text(doc, "/document/publisher/name"),
        products: products.into_iter().map(|(id, name)| ProductLine { id, name }).collect(),
        vulnerabilities,
        references,
        revisions,
        general,
        tlps: TLPS.to_vec(),
        remediation_categories: vec!["vendor_fix", "mitigation", "workaround", "none_available", "no_fix_planned"],
        error,
        c,
        v,
    }
}

async fn show(state: &AppState, viewer: &Viewer, id: &str, flash: Option<String>, error: Option<WebError>) -> Result<Response, PageError> {
    let principal = viewer.principal.as_ref().filter(|p| !p.must_set_up_mfa);
    let view = state.desk().advisory(principal, id).await?;
    let mut c = Ctx::new(state, viewer, "cirt.advisories.title", "advisories").with_flash(flash);
    c.title = format!("{} · {}", view.digest.tracking_id, view.digest.title);
    let status = error.as_ref().map(WebError::status);
    render_status(&page_of(c, view, error.map(|e| e.public_message())), status)
}

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let t = state.catalogues().for_lang(viewer.lang);
    show(&state, &viewer, &id, flash_text(&t, query.done.as_deref()), None).await
}

/// The shown document as a file.
async fn download(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let principal = viewer.principal.as_ref().filter(|p| !p.must_set_up_mfa);
    let view = state.desk().advisory(principal, &id).await?;
    let body = serde_json::to_string_pretty(&view.document).map_err(|err| WebError::Internal(err.to_string()))?;
    let name = advisory::file_name(&view.digest.tracking_id);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// After an edit: back to the page with a message, or the page with the
/// error in place.
async fn after(state: &AppState, viewer: &Viewer, id: &str, result: Result<(), WebError>, done: &str) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/advisories/{id}?done={done}")).into_response()),
        Err(err @ (WebError::Invalid { .. } | WebError::Conflict { .. } | WebError::Document(_))) => {
            show(state, viewer, id, None, Some(err)).await
        }
        Err(err) => Err(err.into()),
    }
}

async fn set_general(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<GeneralForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = match general_of(&form) {
        Ok(general) => state.desk().set_advisory_general(&actor, &id, &general).await.map(|_| ()).map_err(WebError::from),
        Err(err) => Err(err),
    };
    after(&state, &viewer, &id, result, "cirt.advisories.saved").await
}

#[derive(Deserialize)]
struct ProductForm {
    csrf: String,
    vendor: String,
    product: String,
    version: String,
}

async fn add_product(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ProductForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let product = NewProduct { vendor: form.vendor, product: form.product, version: form.version };
    let result = state
        .desk()
        .edit_advisory(&actor, &id, "cirt.advisory.product.add", |document| {
            let added = advisory::add_product(document, &product)?;
            Ok(json!({"product_id": added}))
        })
        .await
        .map(|_| ())
        .map_err(WebError::from);
    after(&state, &viewer, &id, result, "cirt.advisories.saved").await
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn remove_product(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, product_id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state
        .desk()
        .edit_advisory(&actor, &id, "cirt.advisory.product.remove", |document| {
            advisory::remove_product(document, &product_id)?;
            Ok(json!({"product_id": product_id}))
        })
        .await
        .map(|_| ())
        .map_err(WebError::from);
    after(&state, &viewer, &id, result, "cirt.advisories.saved").await
}

async fn add_vulnerability(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let all = |name: &str| fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let actor = viewer.act(&field("csrf"))?;
    let optional = |name: &str| Some(field(name)).filter(|v| !v.is_empty());
    let references = parse_references(&field("references"));
    let result = match references {
        Err(err) => Err(err),
        Ok(references) => {
            let input = NewVulnerability {
                title: field("title"),
                description: field("description"),
                cve: optional("cve"),
                cwe: optional("cwe"),
                cvss_v3: optional("cvss_v3"),
                cvss_v4: optional("cvss_v4"),
                known_affected: all("known_affected"),
                fixed: all("fixed"),
                remediation: optional("remediation_details").map(|details| NewRemediation {
                    category: field("remediation_category"),
                    details,
                    url: optional("remediation_url"),
                }),
                references,
            };
            state
                .desk()
                .edit_advisory(&actor, &id, "cirt.advisory.vulnerability.add", |document| {
                    let index = advisory::add_vulnerability(document, &input)?;
                    Ok(json!({"index": index, "cve": input.cve}))
                })
                .await
                .map(|_| ())
                .map_err(WebError::from)
        }
    };
    after(&state, &viewer, &id, result, "cirt.advisories.saved").await
}

async fn remove_vulnerability(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, index)): Path<(String, usize)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state
        .desk()
        .edit_advisory(&actor, &id, "cirt.advisory.vulnerability.remove", |document| {
            advisory::remove_vulnerability(document, index)?;
            Ok(json!({"index": index}))
        })
        .await
        .map(|_| ())
        .map_err(WebError::from);
    after(&state, &viewer, &id, result, "cirt.advisories.saved").await
}

#[derive(Deserialize)]
struct PublishForm {
    csrf: String,
    summary: String,
}

async fn publish(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<PublishForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.desk().publish_advisory(&actor, &id, &form.summary).await.map(|_| ()).map_err(WebError::from);
    after(&state, &viewer, &id, result, "cirt.advisories.published").await
}

// ----- JSON editor ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "advisory_json.html")]
struct JsonPage {
    c: Ctx,
    id: String,
    tracking_id: String,
    text: String,
    error: Option<String>,
}

async fn json_editor(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    viewer.require()?;
    let view = state.desk().advisory(viewer.principal.as_ref(), &id).await?;
    if !view.may_edit {
        return Err(PageError(WebError::Forbidden));
    }
    let c = Ctx::new(&state, &viewer, "cirt.advisories.json_title", "advisories");
    let text = serde_json::to_string_pretty(&view.document).map_err(|err| WebError::Internal(err.to_string()))?;
    render(&JsonPage { c, id: view.id, tracking_id: view.digest.tracking_id, text, error: None })
}

#[derive(Deserialize)]
struct JsonForm {
    csrf: String,
    document: String,
}

async fn save_json(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<JsonForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    match state.desk().replace_advisory_document(&actor, &id, &form.document).await.map_err(WebError::from) {
        Ok(_) => Ok(Redirect::to(&format!("/advisories/{id}?done=cirt.advisories.saved")).into_response()),
        Err(err @ (WebError::Invalid { .. } | WebError::Conflict { .. })) => {
            let view = state.desk().advisory(viewer.principal.as_ref(), &id).await?;
            let c = Ctx::new(&state, &viewer, "cirt.advisories.json_title", "advisories");
            let page = JsonPage { c, id, tracking_id: view.digest.tracking_id, text: form.document, error: Some(err.public_message()) };
            render_status(&page, Some(err.status()))
        }
        Err(err) => Err(err.into()),
    }
}

// ----- Atom -----------------------------------------------------------------------

/// Published advisories the reader may see, newest first, as Atom.
async fn atom(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let principal = viewer.principal.as_ref().filter(|p| !p.must_set_up_mfa);
    let base = state.desk().public_url().to_owned();
    let mut entries = Vec::new();
    let mut orgs: Vec<String> = Vec::new();
    for (row, _) in state.desk().advisories(principal).await? {
        if row.released_version.is_some() && !orgs.contains(&row.org_id) {
            orgs.push(row.org_id.clone());
        }
    }
    for org_id in orgs {
        let org = state.desk().store().org_get(&org_id).await?;
        for listed in state.desk().provider_listing(principal, &org).await? {
            let url = format!("{base}/advisories/{}", listed.release.advisory_id);
            entries.push((listed, url));
        }
    }
    entries.sort_by(|a, b| b.0.release.released_at.cmp(&a.0.release.released_at));
    entries.truncate(100);
    let now = rampart_core::time::format(state.auth().now());
    let xml = provider::atom(&format!("{base}/advisories/feed.atom"), "Rampart security advisories", &entries, &now);
    let mut response = (StatusCode::OK, xml).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/atom+xml; charset=utf-8"));
    Ok(response)
}
