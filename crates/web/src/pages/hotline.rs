//! Hotline pages: the public report form (no login, six UN languages) and
//! status check; for hotline analysts the queue, the item page (assess,
//! trace, refer, hash), referrals received with their takedown steps, hash
//! lists, matching and statistics.
//!
//! Analysts see addresses and metadata only. No page ever embeds reported
//! content: addresses are shown as text, never as links or previews.

use super::{Ctx, flash_text, read_upload, render, render_status};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::i18n::Tr;
use crate::viewer::Viewer;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rampart_cop::hotline::{Category, ItemView, NewHotlineReport, Outcome, PublicStatus, Receipt, TakedownStep};
use rampart_cop::lists::{DEFAULT_RADIUS, ImageMatch, ListHit, NewList};
use rampart_core::{Permission, Tlp, country};
use rampart_store::PageRequest;
use rampart_store::hotline::{HashEntryRow, HashListRow, HotlineItemRow, ReferralRow};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hotline/report", get(report_form).post(submit_report))
        .route("/hotline/status", get(status_page))
        .route("/hotline", get(queue))
        .route("/hotline/items/{id}", get(item_page))
        .route("/hotline/items/{id}/assess", post(assess))
        .route("/hotline/items/{id}/trace", post(trace))
        .route("/hotline/items/{id}/refer", post(refer))
        .route("/hotline/items/{id}/hash", post(hash_item).layer(DefaultBodyLimit::max(IMAGE_LIMIT)))
        .route("/hotline/items/{id}/add-to-list", post(add_to_list))
        .route("/hotline/referrals/{id}", post(takedown))
        .route("/hotline/stats", get(stats))
        .route("/hotline/lists", get(lists).post(create_list))
        .route("/hotline/lists/{id}", get(list_page))
        .route("/hotline/lists/{id}/import", post(import_list).layer(DefaultBodyLimit::max(LIST_LIMIT)))
        .route("/hotline/lists/{id}/share", post(share_list))
        .route("/hotline/lists/{id}/export", get(export_list))
        .route("/hotline/match", get(match_form).post(match_submit).layer(DefaultBodyLimit::max(IMAGE_LIMIT)))
}

/// Photographs given for hashing (held in memory only while hashed).
const IMAGE_LIMIT: usize = 32 * 1024 * 1024;
/// Hash list files.
const LIST_LIMIT: usize = 128 * 1024 * 1024;

fn country_name(code: &str) -> String {
    country::find(code).map(|c| c.name.clone()).unwrap_or_else(|| code.to_owned())
}

fn category_label(t: &Tr, category: &str) -> String {
    t.get(&format!("cop.categories.{category}")).to_owned()
}

fn outcome_label(t: &Tr, outcome: &str) -> String {
    t.get(&format!("cop.outcomes.{outcome}")).to_owned()
}

fn status_label(t: &Tr, status: &str) -> String {
    t.get(&format!("cop.statuses.{status}")).to_owned()
}

// ----- public form ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "hotline_report.html")]
struct ReportPage {
    c: Ctx,
    countries: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    form: ReportForm,
    error: Option<String>,
    receipt: Option<Receipt>,
}

#[derive(Deserialize, Default, Clone)]
struct ReportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    urls: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

async fn report_view(
    state: &AppState,
    viewer: &Viewer,
    form: ReportForm,
    error: Option<WebError>,
    receipt: Option<Receipt>,
) -> Result<Response, PageError> {
    let c = Ctx::new(state, viewer, "cop.public.title", "hotline_report");
    let mut countries: Vec<(String, String)> =
        state.hotline().hotline_countries().await?.into_iter().map(|code| (country_name(&code), code)).map(|(n, c)| (c, n)).collect();
    countries.sort_by(|a, b| a.1.cmp(&b.1));
    let categories = Category::ALL.iter().map(|k| (k.as_str().to_owned(), category_label(&c.t, k.as_str()))).collect();
    let status = error.as_ref().map(WebError::status);
    let page = ReportPage { countries, categories, form, error: error.as_ref().map(WebError::public_message), receipt, c };
    render_status(&page, status)
}

async fn report_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    report_view(&state, &viewer, ReportForm::default(), None, None).await
}

async fn submit_report(State(state): State<AppState>, viewer: Viewer, Form(form): Form<ReportForm>) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    if !state.public_form_limiter().check(&viewer.ip.clone().unwrap_or_default(), state.auth().now()) {
        return report_view(&state, &viewer, form, Some(WebError::TooManyRequests), None).await;
    }
    let report = NewHotlineReport {
        urls: form.urls.clone(),
        category: form.category.clone(),
        description: form.description.clone(),
        reporter_name: Some(form.name.clone()),
        reporter_email: Some(form.email.clone()),
        language: viewer.lang.to_owned(),
        country: Some(form.country.clone()),
        hotline_org_id: None,
        partner_reference: None,
    };
    // The public form is anonymous even for someone signed in: a report
    // about abuse must not be tied to an account unless they choose to
    // leave contact details.
    match state.hotline().submit(None, &report).await {
        Ok(receipt) => report_view(&state, &viewer, ReportForm::default(), None, Some(receipt)).await,
        Err(err) => {
            let err = WebError::from(err);
            if matches!(err, WebError::Invalid { .. }) {
                report_view(&state, &viewer, form, Some(err), None).await
            } else {
                Err(err.into())
            }
        }
    }
}

#[derive(Template)]
#[template(path = "hotline_status.html")]
struct StatusPage {
    c: Ctx,
    receipt: String,
    status: Option<PublicStatus>,
    state_text: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct StatusQuery {
    receipt: Option<String>,
}

async fn status_page(State(state): State<AppState>, viewer: Viewer, Query(query): Query<StatusQuery>) -> Result<Response, PageError> {
    let c = Ctx::new(&state, &viewer, "cop.status.title", "hotline_report");
    let receipt = query.receipt.unwrap_or_default().trim().to_owned();
    let mut page = StatusPage { c, receipt: receipt.clone(), status: None, state_text: String::new(), error: None };
    let mut code = None;
    if !receipt.is_empty() {
        if !state.status_limiter().check(&viewer.ip.clone().unwrap_or_default(), state.auth().now()) {
            let err = WebError::TooManyRequests;
            page.error = Some(err.public_message());
            code = Some(err.status());
        } else {
            match state.hotline().public_status(&receipt).await {
                Ok(status) => {
                    page.state_text = page.c.t.get(&format!("cop.status.states.{}", status.state)).to_owned();
                    page.status = Some(status);
                }
                Err(rampart_cop::CopError::NotFound(_)) => {
                    page.error = Some(page.c.t.get("cop.status.unknown").to_owned());
                    code = Some(axum::http::StatusCode::NOT_FOUND);
                }
                Err(err) => return Err(WebError::from(err).into()),
            }
        }
    }
    render_status(&page, code)
}

// ----- queue ---------------------------------------------------------------------

pub struct ItemRow {
    pub id: String,
    pub url: String,
    pub status: String,
    pub outcome: String,
    pub country: String,
    pub received: String,
    pub duplicate: bool,
}

fn item_row(t: &Tr, item: &HotlineItemRow) -> ItemRow {
    ItemRow {
        id: item.id.clone(),
        url: item.url.clone(),
        status: status_label(t, &item.status),
        outcome: item.outcome.as_deref().map(|o| outcome_label(t, o)).unwrap_or_default(),
        country: item.hosting_country.clone().unwrap_or_default(),
        received: item.created_at.get(..16).unwrap_or("").replace('T', " "),
        duplicate: item.duplicate_of.is_some(),
    }
}

pub struct ReferralLine {
    pub id: String,
    pub item_id: String,
    pub url: String,
    pub from: String,
    pub status: String,
    pub referred: String,
    pub next_steps: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "hotline_queue.html")]
struct QueuePage {
    c: Ctx,
    tabs: Vec<(String, String)>,
    status: String,
    rows: Vec<ItemRow>,
    next_link: Option<String>,
    referrals: Vec<ReferralLine>,
}

#[derive(Deserialize, Default)]
struct QueueQuery {
    status: Option<String>,
    cursor: Option<String>,
    done: Option<String>,
}

const QUEUE_TABS: [&str; 5] = ["new", "assessed", "referred", "closed", "all"];

fn next_steps(t: &Tr, status: &str, receiver: bool) -> Vec<(String, String)> {
    let order = ["referred", "notice_sent", "removed", "confirmed"];
    let at = order.iter().position(|s| *s == status).unwrap_or(0);
    TakedownStep::ALL
        .iter()
        .filter(|step| order.iter().position(|s| *s == step.as_str()).unwrap_or(0) > at)
        .filter(|step| receiver || **step == TakedownStep::Confirmed)
        .map(|step| (step.as_str().to_owned(), t.get(&format!("cop.steps.{}", step.as_str())).to_owned()))
        .collect()
}

async fn org_name(state: &AppState, id: &str) -> String {
    state.store().org_get(id).await.map(|o| o.name).unwrap_or_else(|_| id.to_owned())
}

async fn queue(State(state): State<AppState>, viewer: Viewer, Query(query): Query<QueueQuery>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::HotlineRead) {
        return Err(WebError::Forbidden.into());
    }
    let c = Ctx::new(&state, &viewer, "cop.queue.title", "hotline");
    let c = Ctx { flash: flash_text(&c.t, query.done.as_deref()), ..c };
    let status = query.status.clone().filter(|s| QUEUE_TABS.contains(&s.as_str())).unwrap_or_else(|| "new".into());
    let page_request =
        PageRequest::with_cursor(50, query.cursor.as_deref()).ok_or_else(|| WebError::invalid("cursor", "is not a cursor"))?;
    // The referred tab follows items until their removal is confirmed.
    let filter = match status.as_str() {
        "all" => None,
        "referred" => Some("referred,notice_sent,removed,confirmed"),
        other => Some(other),
    };
    let page = state.hotline().queue(principal, filter, &page_request).await?;
    let rows = page.items.iter().map(|i| item_row(&c.t, i)).collect();
    let next_link = page.next_cursor.map(|cursor| format!("/hotline?status={status}&cursor={cursor}"));
    let mut referrals = Vec::new();
    for (referral, item) in state.hotline().referrals_received(principal).await? {
        let (receiver, _) = state.hotline().sides(principal, &referral).await?;
        referrals.push(ReferralLine {
            next_steps: next_steps(&c.t, &referral.status, receiver),
            status: c.t.get(&format!("cop.steps.{}", referral.status)).to_owned(),
            from: org_name(&state, &referral.from_org_id).await,
            referred: referral.referred_at.get(..16).unwrap_or("").replace('T', " "),
            url: item.url,
            item_id: item.id,
            id: referral.id,
        });
    }
    let tabs = QUEUE_TABS.iter().map(|s| ((*s).to_owned(), c.t.get(&format!("cop.queue.tabs.{s}")).to_owned())).collect();
    render(&QueuePage { c, tabs, status, rows, next_link, referrals })
}

// ----- item ----------------------------------------------------------------------

pub struct EventLine {
    pub at: String,
    pub kind: String,
    pub detail: String,
}

pub struct ReferralView {
    pub id: String,
    pub to: String,
    pub country: String,
    pub status: String,
    pub referred: String,
    pub notice_sent: String,
    pub removed: String,
    pub confirmed: String,
    pub note: String,
    pub next_steps: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "hotline_item.html")]
struct ItemPage {
    c: Ctx,
    view: ItemView,
    category: String,
    status: String,
    outcome: String,
    hosting_country: String,
    hosting_org: String,
    outcomes: Vec<(String, String)>,
    events: Vec<EventLine>,
    referrals: Vec<ReferralView>,
    targets: Vec<(String, String)>,
    lists: Vec<(String, String)>,
    may_assess: bool,
    may_refer: bool,
    error: Option<String>,
    duplicate_outcome: String,
    countries: Vec<(String, String)>,
    geo_configured: bool,
    retention_text: String,
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

async fn item_view(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<&str>,
    error: Option<WebError>,
) -> Result<Response, PageError> {
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    viewer.require()?;
    let view = state.hotline().view(&actor, id).await?;
    let c = Ctx::new(state, viewer, "cop.item.title", "hotline");
    let c = Ctx { flash: flash_text(&c.t, flash), ..c };
    let principal = actor.principal;
    let may_assess = state.hotline().item_for_handler(principal, id).await.is_ok();
    let handler_of_item = view.handler && may_assess;
    let events = view
        .events
        .iter()
        .map(|e| EventLine {
            at: e.at.get(..16).unwrap_or("").replace('T', " "),
            kind: c.t.get(&format!("cop.events.{}", e.kind)).to_owned(),
            detail: e.detail.clone(),
        })
        .collect();
    let mut referrals = Vec::new();
    for r in &view.referrals {
        let (receiver, sender) = state.hotline().sides(principal, r).await?;
        referrals.push(referral_view(state, &c.t, r, receiver, sender).await);
    }
    let illegal = view.item.outcome.as_deref().and_then(|o| Outcome::parse(o).ok()).is_some_and(Outcome::is_illegal);
    let targets = if handler_of_item && illegal {
        state.hotline().referral_targets(&view.item).await?.into_iter().map(|o| (o.id, o.name)).collect()
    } else {
        Vec::new()
    };
    let lists = if handler_of_item && illegal {
        state
            .hash_lists()
            .visible(principal)
            .await?
            .into_iter()
            .filter(|l| rampart_cop::lists::HashLists::may_manage(principal, l))
            .map(|l| (l.id, l.name))
            .collect()
    } else {
        Vec::new()
    };
    let hosting_org = match &view.item.hosting_org_id {
        Some(id) => org_name(state, id).await,
        None => String::new(),
    };
    let mut countries: Vec<(String, String)> = country::all().iter().map(|c| (c.alpha2.clone(), c.name.clone())).collect();
    countries.sort_by(|a, b| a.1.cmp(&b.1));
    let page = ItemPage {
        category: category_label(&c.t, &view.report.category),
        status: status_label(&c.t, &view.item.status),
        outcome: view.item.outcome.as_deref().map(|o| outcome_label(&c.t, o)).unwrap_or_default(),
        hosting_country: view.item.hosting_country.as_deref().map(country_name).unwrap_or_default(),
        duplicate_outcome: view.duplicate.as_ref().and_then(|d| d.outcome.as_deref()).map(|o| outcome_label(&c.t, o)).unwrap_or_default(),
        hosting_org,
        outcomes: Outcome::ALL.iter().map(|o| (o.as_str().to_owned(), outcome_label(&c.t, o.as_str()))).collect(),
        events,
        referrals,
        may_refer: !targets.is_empty(),
        targets,
        lists,
        may_assess: handler_of_item,
        error: error.as_ref().map(WebError::public_message),
        countries,
        geo_configured: !state.hotline().tracer().is_empty(),
        retention_text: c.t.fill("cop.item.retention", &[("days", &state.hotline().retention_days().to_string())]),
        view,
        c,
    };
    render_status(&page, error.as_ref().map(WebError::status))
}

async fn referral_view(state: &AppState, t: &Tr, r: &ReferralRow, receiver: bool, sender: bool) -> ReferralView {
    let short = |v: &Option<String>| v.as_deref().and_then(|v| v.get(..16)).unwrap_or("").replace('T', " ");
    ReferralView {
        id: r.id.clone(),
        to: org_name(state, &r.to_org_id).await,
        country: country_name(&r.country),
        status: t.get(&format!("cop.steps.{}", r.status)).to_owned(),
        referred: r.referred_at.get(..16).unwrap_or("").replace('T', " "),
        notice_sent: short(&r.notice_sent_at),
        removed: short(&r.removed_at),
        confirmed: short(&r.confirmed_at),
        note: r.note.clone(),
        next_steps: if receiver || sender { next_steps(t, &r.status, receiver) } else { Vec::new() },
    }
}

async fn item_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    item_view(&state, &viewer, &id, query.done.as_deref(), None).await
}

/// After an action on an item: back to its page with a flash, or the page
/// again with the error.
async fn after(state: &AppState, viewer: &Viewer, id: &str, result: Result<(), WebError>, done: &str) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/hotline/items/{id}?done={done}")).into_response()),
        Err(err @ (WebError::Invalid { .. } | WebError::Conflict { .. })) => item_view(state, viewer, id, None, Some(err)).await,
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
struct AssessForm {
    csrf: String,
    outcome: String,
    #[serde(default)]
    note: String,
}

async fn assess(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<AssessForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.hotline().assess(&actor, &id, &form.outcome, &form.note).await.map(|_| ()).map_err(WebError::from);
    after(&state, &viewer, &id, result, "cop.item.assessed").await
}

#[derive(Deserialize)]
struct TraceForm {
    csrf: String,
    #[serde(default)]
    ip: String,
    #[serde(default)]
    country: String,
}

/// Resolves a host name to its first address: the operator step for a
/// report that names a host, not an address. Only a DNS query leaves the
/// server; nothing is fetched from the host.
async fn resolve(host: &str) -> Result<String, WebError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(ip.to_string());
    }
    let lookup = tokio::time::timeout(std::time::Duration::from_secs(5), tokio::net::lookup_host((host, 80))).await;
    match lookup {
        Ok(Ok(mut addresses)) => {
            addresses.next().map(|a| a.ip().to_string()).ok_or_else(|| WebError::invalid("ip", format!("{host} has no address")))
        }
        Ok(Err(err)) => Err(WebError::invalid("ip", format!("{host} does not resolve: {err}"))),
        Err(_) => Err(WebError::invalid("ip", format!("resolving {host} timed out"))),
    }
}

async fn trace(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<TraceForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = async {
        let ip = if form.ip.trim().is_empty() {
            let item = state.hotline().item_for_handler(actor.principal, &id).await?;
            resolve(&item.host).await?
        } else {
            form.ip.clone()
        };
        let country = Some(form.country.as_str()).filter(|c| !c.trim().is_empty());
        state.hotline().trace(&actor, &id, &ip, country).await?;
        Ok::<(), WebError>(())
    }
    .await;
    after(&state, &viewer, &id, result, "cop.item.traced").await
}

#[derive(Deserialize)]
struct ReferForm {
    csrf: String,
    to_org_id: String,
    #[serde(default)]
    note: String,
}

async fn refer(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ReferForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.hotline().refer(&actor, &id, &form.to_org_id, &form.note).await.map(|_| ()).map_err(WebError::from);
    after(&state, &viewer, &id, result, "cop.item.referred").await
}

fn describe_hits(hits: &[ListHit]) -> Option<String> {
    let first = hits.first()?;
    let more = if hits.len() > 1 { format!(" (+{} more)", hits.len() - 1) } else { String::new() };
    Some(format!("{}: {} {} at distance {}{more}", first.list_name, first.kind, first.hash, first.distance))
}

async fn hash_item(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let (csrf, file, _) = read_upload(&mut multipart).await?;
    let actor = viewer.act(&csrf)?;
    let result = async {
        state.hotline().item_for_handler(actor.principal, &id).await?;
        let bytes = file.ok_or_else(|| WebError::invalid("file", "choose an image"))?;
        let found: ImageMatch = state.hash_lists().match_image(actor.principal, bytes, DEFAULT_RADIUS).await?;
        state.hotline().set_item_hashes(&actor, &id, Some(&found.pdq), &found.md5, &found.sha256, describe_hits(&found.hits)).await?;
        Ok::<(), WebError>(())
    }
    .await;
    after(&state, &viewer, &id, result, "cop.item.hashed").await
}

#[derive(Deserialize)]
struct AddToListForm {
    csrf: String,
    list_id: String,
}

async fn add_to_list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<AddToListForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = async {
        let item = state.hotline().item_for_handler(actor.principal, &id).await?;
        state.hash_lists().add_item(&actor, &form.list_id, &item).await?;
        Ok::<(), WebError>(())
    }
    .await;
    after(&state, &viewer, &id, result, "cop.item.listed").await
}

#[derive(Deserialize)]
struct TakedownForm {
    csrf: String,
    step: String,
    #[serde(default)]
    note: String,
    /// Where to go back to: the item page or the queue.
    #[serde(default)]
    back: String,
}

async fn takedown(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<TakedownForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.hotline().record_takedown(&actor, &id, &form.step, &form.note).await;
    match result {
        Ok(referral) if form.back == "item" => {
            Ok(Redirect::to(&format!("/hotline/items/{}?done=cop.item.step_recorded", referral.item_id)).into_response())
        }
        Ok(_) => Ok(Redirect::to("/hotline?done=cop.item.step_recorded").into_response()),
        Err(err) => Err(WebError::from(err).into()),
    }
}

// ----- statistics ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "hotline_stats.html")]
struct StatsPage {
    c: Ctx,
    by_category: String,
    by_month: String,
    map: String,
    overall: TimesRow,
    by_country: Vec<TimesRow>,
    by_host: Vec<TimesRow>,
}

pub struct TimesRow {
    pub label: String,
    pub referrals: usize,
    pub removed: usize,
    pub to_removal: String,
    pub after_referral: String,
}

fn times_row(times: &rampart_cop::hotline::RemovalTimes, label: String) -> TimesRow {
    TimesRow {
        label,
        referrals: times.referrals,
        removed: times.removed,
        to_removal: hours_text(&times.median_hours_to_removal),
        after_referral: hours_text(&times.median_hours_after_referral),
    }
}

fn hours_text(value: &Option<f64>) -> String {
    match value {
        Some(h) if *h >= 48.0 => format!("{:.1} d", h / 24.0),
        Some(h) => format!("{h:.1} h"),
        None => "—".into(),
    }
}

async fn stats(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let figures = state.hotline().figures(principal).await?;
    let c = Ctx::new(&state, &viewer, "cop.stats.title", "hotline");
    let as_usize = |n: i64| usize::try_from(n).unwrap_or(0);
    let by_category: Vec<(String, usize)> =
        figures.reports_by_category.iter().map(|(k, n)| (category_label(&c.t, k), as_usize(*n))).collect();
    let mut months: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, month, n) in &figures.reports_by_month {
        *months.entry(month.clone()).or_default() += as_usize(*n);
    }
    let by_month: Vec<(String, usize)> = months.into_iter().collect();
    let countries: Vec<(String, usize)> = figures.hosting_countries.iter().map(|(cc, n)| (cc.clone(), as_usize(*n))).collect();
    let page = StatsPage {
        by_category: crate::svg::bar_chart(c.t.get("cop.stats.by_category"), &by_category),
        by_month: crate::svg::bar_chart(c.t.get("cop.stats.by_month"), &by_month),
        map: crate::map::world_map(c.t.get("cop.stats.map"), &countries, &country_name),
        overall: times_row(&figures.overall, String::new()),
        by_country: figures.by_country.iter().map(|r| times_row(r, country_name(&r.label))).collect(),
        by_host: figures.by_host.iter().map(|r| times_row(r, r.label.clone())).collect(),
        c,
    };
    render(&page)
}

// ----- hash lists ----------------------------------------------------------------

pub struct ListLine {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub tlp: String,
    pub tlp_class: &'static str,
    pub source: String,
    pub entries: i64,
}

#[derive(Template)]
#[template(path = "hotline_lists.html")]
struct ListsPage {
    c: Ctx,
    rows: Vec<ListLine>,
    orgs: Vec<(String, String)>,
    tlps: Vec<&'static str>,
    error: Option<String>,
}

fn tlp_class(label: &str) -> &'static str {
    label.parse::<Tlp>().map(Tlp::css_class).unwrap_or("tlp-amber")
}

async fn list_line(state: &AppState, list: HashListRow) -> ListLine {
    ListLine {
        owner: org_name(state, &list.org_id).await,
        tlp_class: tlp_class(&list.tlp),
        id: list.id,
        name: list.name,
        tlp: list.tlp,
        source: list.source,
        entries: list.entry_count,
    }
}

async fn lists_view(state: &AppState, viewer: &Viewer, error: Option<WebError>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::HashMatch) && !principal.has(Permission::HashListManage) {
        return Err(WebError::Forbidden.into());
    }
    let c = Ctx::new(state, viewer, "cop.lists.title", "hash_lists");
    let mut rows = Vec::new();
    for list in state.hash_lists().visible(principal).await? {
        rows.push(list_line(state, list).await);
    }
    let mut orgs = Vec::new();
    for id in principal.org_ids_for(Permission::HashListManage).unwrap_or_else(|| vec![principal.org_id.clone()]) {
        orgs.push((id.clone(), org_name(state, &id).await));
    }
    let page = ListsPage {
        rows,
        orgs,
        tlps: vec!["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"],
        error: error.as_ref().map(WebError::public_message),
        c,
    };
    render_status(&page, error.as_ref().map(WebError::status))
}

async fn lists(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    lists_view(&state, &viewer, None).await
}

#[derive(Deserialize)]
struct ListForm {
    csrf: String,
    org_id: String,
    name: String,
    #[serde(default)]
    source: String,
    tlp: String,
    #[serde(default)]
    description: String,
}

async fn create_list(State(state): State<AppState>, viewer: Viewer, Form(form): Form<ListForm>) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let new = NewList { org_id: form.org_id, name: form.name, source: form.source, tlp: form.tlp, description: form.description };
    match state.hash_lists().create(&actor, &new).await {
        Ok(list) => Ok(Redirect::to(&format!("/hotline/lists/{}?done=cop.lists.created", list.id)).into_response()),
        Err(err) => match WebError::from(err) {
            err @ (WebError::Invalid { .. } | WebError::Conflict { .. }) => lists_view(&state, &viewer, Some(err)).await,
            err => Err(err.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "hotline_list.html")]
struct ListPage {
    c: Ctx,
    list: ListLine,
    description: String,
    entries: Vec<HashEntryRow>,
    shown: usize,
    shared_with: Vec<(String, String)>,
    may_manage: bool,
    share_candidates: Vec<(String, String)>,
    error: Option<String>,
    first_entries_text: String,
}

async fn list_view(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<&str>,
    error: Option<WebError>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let (list, mut entries) = state.hash_lists().entries(principal, id).await?;
    let c = Ctx::new(state, viewer, "cop.lists.title", "hash_lists");
    let c = Ctx { flash: flash_text(&c.t, flash), ..c };
    let may_manage = rampart_cop::lists::HashLists::may_manage(principal, &list);
    let mut shared_with = Vec::new();
    for org in &list.shared_with {
        shared_with.push((org.clone(), org_name(state, org).await));
    }
    let share_candidates = if may_manage {
        let mut orgs: Vec<(String, String)> = state
            .store()
            .org_list(&rampart_store::orgs::OrgFilter::default(), &PageRequest::first(500))
            .await?
            .items
            .into_iter()
            .filter(|o| o.id != list.org_id && !list.shared_with.contains(&o.id))
            .map(|o| (o.id, o.name))
            .collect();
        orgs.sort_by(|a, b| a.1.cmp(&b.1));
        orgs
    } else {
        Vec::new()
    };
    let shown = entries.len();
    entries.truncate(500);
    let first_entries_text = c.t.fill("cop.lists.first_entries", &[("count", &entries.len().to_string())]);
    let page = ListPage {
        description: list.description.clone(),
        list: list_line(state, list).await,
        shown,
        entries,
        shared_with,
        may_manage,
        share_candidates,
        error: error.as_ref().map(WebError::public_message),
        first_entries_text,
        c,
    };
    render_status(&page, error.as_ref().map(WebError::status))
}

async fn list_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    list_view(&state, &viewer, &id, query.done.as_deref(), None).await
}

async fn import_list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let (csrf, file, fields) = read_upload(&mut multipart).await?;
    let actor = viewer.act(&csrf)?;
    let result = async {
        let bytes = file.ok_or_else(|| WebError::invalid("file", "choose a CSV or JSON file"))?;
        let text = String::from_utf8(bytes).map_err(|_| WebError::invalid("file", "is not UTF-8 text"))?;
        let json = fields.get("format").map(String::as_str) == Some("json") || text.trim_start().starts_with('[');
        state.hash_lists().import(&actor, &id, &text, json).await?;
        Ok::<(), WebError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/hotline/lists/{id}?done=cop.lists.imported")).into_response()),
        Err(err @ WebError::Invalid { .. }) => list_view(&state, &viewer, &id, None, Some(err)).await,
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
struct ShareForm {
    csrf: String,
    org_id: String,
    #[serde(default)]
    remove: String,
}

async fn share_list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ShareForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    match state.hash_lists().share(&actor, &id, &form.org_id, form.remove.is_empty()).await {
        Ok(()) => Ok(Redirect::to(&format!("/hotline/lists/{id}?done=cop.lists.shared")).into_response()),
        Err(err) => match WebError::from(err) {
            err @ WebError::Invalid { .. } => list_view(&state, &viewer, &id, None, Some(err)).await,
            err => Err(err.into()),
        },
    }
}

#[derive(Deserialize, Default)]
struct ExportQuery {
    format: Option<String>,
}

async fn export_list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, PageError> {
    viewer.require()?;
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    let json = query.format.as_deref() == Some("json");
    let (list, text) = state.hash_lists().export(&actor, &id, json).await?;
    Ok(export_response(&list, text, json))
}

/// A hash list file as a download, named after the list.
pub fn export_response(list: &HashListRow, text: String, json: bool) -> Response {
    let mut response = text.into_response();
    let (content_type, extension) = if json { ("application/json", "json") } else { ("text/csv; charset=utf-8", "csv") };
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let name: String = list.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.{extension}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("TLP:{}", list.tlp)) {
        response.headers_mut().insert("x-tlp", value);
    }
    response
}

// ----- matching ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "hotline_match.html")]
struct MatchPage {
    c: Ctx,
    hash: String,
    result: Option<ImageMatch>,
    hits: Vec<ListHit>,
    searched: bool,
    error: Option<String>,
    found_text: String,
}

async fn match_view(
    state: &AppState,
    viewer: &Viewer,
    page: (String, Option<ImageMatch>, Vec<ListHit>, bool),
    error: Option<WebError>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::HashMatch) && !principal.has(Permission::HashListManage) {
        return Err(WebError::Forbidden.into());
    }
    let c = Ctx::new(state, viewer, "cop.match.title", "hash_match");
    let (hash, result, hits, searched) = page;
    let found_text = c.t.fill("cop.match.found", &[("count", &hits.len().to_string())]);
    let page = MatchPage { c, hash, result, hits, searched, error: error.as_ref().map(WebError::public_message), found_text };
    render_status(&page, error.as_ref().map(WebError::status))
}

async fn match_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    match_view(&state, &viewer, (String::new(), None, Vec::new(), false), None).await
}

async fn match_submit(State(state): State<AppState>, viewer: Viewer, mut multipart: Multipart) -> Result<Response, PageError> {
    let (csrf, file, fields) = read_upload(&mut multipart).await?;
    let actor = viewer.act(&csrf)?;
    let hash = fields.get("hash").cloned().unwrap_or_default();
    let result = async {
        match file {
            Some(bytes) => {
                let found = state.hash_lists().match_image(actor.principal, bytes, DEFAULT_RADIUS).await?;
                let hits = found.hits.clone();
                Ok::<_, WebError>((String::new(), Some(found), hits))
            }
            None if !hash.trim().is_empty() => {
                Ok((hash.clone(), None, state.hash_lists().match_hash(actor.principal, &hash, DEFAULT_RADIUS).await?))
            }
            None => Err(WebError::invalid("file", "choose an image or give a hash")),
        }
    }
    .await;
    match result {
        Ok((hash, found, hits)) => match_view(&state, &viewer, (hash, found, hits, true), None).await,
        Err(err @ WebError::Invalid { .. }) => match_view(&state, &viewer, (hash, None, Vec::new(), false), Some(err)).await,
        Err(err) => Err(err.into()),
    }
}
