//! The CIRT desk pages: queues, incidents, reports, the report form and
//! the constituency registry.

use super::directory::url_encode;
use super::{Ctx, flash_text, render, render_status};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::listing::{self, Format, ListParams};
use crate::viewer::Viewer;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rampart_cirt::observables::Observable;
use rampart_cirt::priority::Level;
use rampart_cirt::sla::Timer;
use rampart_cirt::workflow::Status;
use rampart_cirt::{Channel, ListFilter, NewIncident, NewReport, Queue};
use rampart_core::{Permission, Tlp, country, time};
use rampart_store::PageRequest;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cirt", get(queue))
        .route("/cirt/incidents/new", get(new_incident_form))
        .route("/cirt/incidents", post(create_incident))
        .route("/cirt/incidents/{id}", get(incident_page))
        .route("/cirt/incidents/{id}/status", post(change_status))
        .route("/cirt/incidents/{id}/assign", post(assign))
        .route("/cirt/incidents/{id}/notes", post(add_note))
        .route("/cirt/incidents/{id}/tasks", post(add_task))
        .route("/cirt/incidents/{id}/tasks/{task_id}", post(toggle_task))
        .route("/cirt/incidents/{id}/observables", post(add_observable))
        .route("/cirt/incidents/{id}/constituents", post(add_constituent))
        .route("/cirt/incidents/{id}/classify", post(classify))
        .route("/cirt/incidents/{id}/link", post(link))
        .route("/cirt/incidents/{id}/merge", post(merge))
        .route("/cirt/incidents/{id}/notify", post(notify))
        .route(
            "/cirt/incidents/{id}/attachments",
            post(upload_attachment).layer(axum::extract::DefaultBodyLimit::max(rampart_cirt::desk::MAX_ATTACHMENT_BYTES + 64 * 1024)),
        )
        .route("/cirt/incidents/{id}/attachments/{attachment_id}", get(download_attachment))
        .route("/cirt/incidents/{id}/iodef.xml", get(iodef_export))
        .route("/cirt/incidents/iodef", post(iodef_import))
        .route("/cirt/dashboard", get(dashboard))
        .route("/cirt/bulk", post(bulk))
        .route("/cirt/cvss", get(cvss_calculator))
        .route("/cirt/reports", get(reports))
        .route("/cirt/reports/{id}", get(report_page))
        .route("/cirt/reports/{id}/promote", post(promote_report))
        .route("/cirt/reports/{id}/reject", post(reject_report))
        .route("/report", get(report_form).post(submit_report))
        .route("/cirt/constituency", get(constituency))
        .route("/cirt/constituency/entries", post(add_entry))
        .route("/cirt/constituency/entries/remove", post(remove_entry))
        .route("/cirt/constituency/import", post(import_registry))
        .route("/cirt/constituency/export", get(export_registry))
}

fn labels(c: &Ctx, prefix: &str, values: &[&str]) -> Vec<(String, String)> {
    values.iter().map(|v| ((*v).to_owned(), c.t.get(&format!("{prefix}.{v}")).to_owned())).collect()
}

const STATUSES: [&str; 6] = ["new", "triage", "in_progress", "waiting_for_constituent", "resolved", "closed"];
const PRIORITIES: [&str; 4] = ["critical", "high", "medium", "low"];
const LEVELS: [&str; 3] = ["high", "medium", "low"];
const TLPS: [&str; 5] = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];

fn rsit_choices() -> Vec<(String, String)> {
    rampart_cirt::rsit::taxonomy()
        .iter()
        .flat_map(|class| class.types.iter().map(move |t| (t.value.clone(), format!("{} — {}", class.label, t.label))))
        .collect()
}

pub(crate) fn tlp_class(tlp: &str) -> &'static str {
    tlp.parse::<Tlp>().map(Tlp::css_class).unwrap_or("tlp-red")
}

// ----- queue ----------------------------------------------------------------

#[derive(Deserialize, Default)]
struct QueueQuery {
    ok: Option<u32>,
    failed: Option<u32>,
    queue: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    class: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
    format: Option<String>,
    done: Option<String>,
}

pub struct IncidentLine {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub priority: String,
    pub priority_key: String,
    pub status: String,
    pub rsit: String,
    pub tlp: String,
    pub tlp_class: &'static str,
    pub assignee: String,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "cirt_queue.html")]
struct QueuePage {
    c: Ctx,
    queue: String,
    queues: Vec<(String, String)>,
    rows: Vec<IncidentLine>,
    statuses: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    classes: Vec<(String, String)>,
    status: String,
    priority: String,
    class: String,
    q: String,
    next_link: Option<String>,
    export_query: String,
    can_create: bool,
    handler: bool,
}

pub fn incident_json(incident: &rampart_store::cirt::IncidentRow) -> serde_json::Value {
    serde_json::to_value(incident).unwrap_or_default()
}

pub const INCIDENT_COLUMNS: [&str; 13] = [
    "reference",
    "title",
    "status",
    "priority",
    "impact",
    "urgency",
    "rsit_class",
    "rsit_type",
    "tlp",
    "pap",
    "assignee_id",
    "created_at",
    "id",
];

async fn queue(State(state): State<AppState>, viewer: Viewer, Query(query): Query<QueueQuery>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::IncidentRead) && !principal.has(Permission::ReportSubmit) {
        return Err(PageError(WebError::Forbidden));
    }
    let handler = principal.has(Permission::IncidentRead);
    let queue_name = query.queue.clone().unwrap_or_else(|| if handler { "open".into() } else { "all".into() });
    let queue = Queue::parse(&queue_name)?;
    let filter = ListFilter {
        status: query.status.clone().filter(|s| !s.is_empty()),
        priority: query.priority.clone().filter(|s| !s.is_empty()),
        rsit_class: query.class.clone().filter(|s| !s.is_empty()),
        constituent_org_id: None,
        text: query.q.clone(),
    };
    let params = ListParams { limit: query.limit, cursor: query.cursor.clone(), format: query.format.clone() };
    let page = state.desk().list(principal, queue, &filter, &params.page(50)?).await?;
    if params.format()? == Format::Csv {
        let items = page.items.iter().map(incident_json).collect();
        return Ok(listing::render(items, page.next_cursor, Format::Csv, &INCIDENT_COLUMNS, "incidents"));
    }
    let t = state.catalogues().for_lang(viewer.lang);
    let flash = match query.done.as_deref() {
        Some("cirt.queue.bulk_done") => Some(t.fill(
            "cirt.queue.bulk_done",
            &[("ok", &query.ok.unwrap_or(0).to_string()), ("failed", &query.failed.unwrap_or(0).to_string())],
        )),
        other => flash_text(&t, other),
    };
    let c = Ctx::new(&state, &viewer, "cirt.queue.title", "cirt").with_flash(flash);
    let mut rows = Vec::new();
    for incident in &page.items {
        let assignee = match &incident.assignee_id {
            Some(id) => state.store().user_get(id).await.map(|u| u.display_name).unwrap_or_default(),
            None => String::new(),
        };
        rows.push(IncidentLine {
            id: incident.id.clone(),
            reference: incident.reference.clone(),
            title: incident.title.clone(),
            priority: c.t.get(&format!("cirt.priority.{}", incident.priority)).to_owned(),
            priority_key: incident.priority.clone(),
            status: c.t.get(&format!("cirt.status.{}", incident.status)).to_owned(),
            rsit: format!("{}/{}", incident.rsit_class, incident.rsit_type),
            tlp_class: tlp_class(&incident.tlp),
            tlp: incident.tlp.clone(),
            assignee,
            created_at: incident.created_at.clone(),
        });
    }
    let queues = if handler { labels(&c, "cirt.queue", &["open", "mine", "unassigned", "sla_at_risk", "all"]) } else { Vec::new() };
    let base = format!(
        "queue={}&status={}&priority={}&class={}&q={}",
        url_encode(&queue_name),
        url_encode(query.status.as_deref().unwrap_or("")),
        url_encode(query.priority.as_deref().unwrap_or("")),
        url_encode(query.class.as_deref().unwrap_or("")),
        url_encode(query.q.as_deref().unwrap_or(""))
    );
    let page_view = QueuePage {
        queue: queue_name,
        queues,
        rows,
        statuses: labels(&c, "cirt.status", &STATUSES),
        priorities: labels(&c, "cirt.priority", &PRIORITIES),
        classes: rampart_cirt::rsit::taxonomy().iter().map(|k| (k.value.clone(), k.label.clone())).collect(),
        status: query.status.unwrap_or_default(),
        priority: query.priority.unwrap_or_default(),
        class: query.class.unwrap_or_default(),
        q: query.q.unwrap_or_default(),
        next_link: page.next_cursor.map(|cursor| format!("/cirt?{base}&cursor={}", url_encode(&cursor))),
        export_query: base,
        can_create: principal.has(Permission::IncidentWrite),
        handler,
        c,
    };
    render(&page_view)
}

/// Applies one action to every selected incident; each is checked and
/// audited on its own, so one refusal does not stop the others.
async fn bulk(State(state): State<AppState>, viewer: Viewer, Form(fields): Form<Vec<(String, String)>>) -> Result<Response, PageError> {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let actor = viewer.act(field("csrf"))?;
    let ids: Vec<&str> = fields.iter().filter(|(k, _)| k == "ids").map(|(_, v)| v.as_str()).collect();
    if ids.is_empty() {
        return Err(WebError::invalid("ids", "select at least one incident").into());
    }
    let action = field("action");
    let (mut ok, mut failed) = (0_u32, 0_u32);
    for id in ids {
        let result = match action.split_once(':') {
            None if action == "assign_me" => state.desk().assign(&actor, id, Some(actor.principal.user_id.as_str())).await.map(|_| ()),
            Some(("status", status)) => match Status::parse(status) {
                Ok(to) => state.desk().change_status(&actor, id, to, "").await.map(|_| ()),
                Err(err) => return Err(WebError::invalid("action", err.to_string()).into()),
            },
            _ => return Err(WebError::invalid("action", format!("`{action}` is not an action")).into()),
        };
        match result {
            Ok(()) => ok += 1,
            Err(_) => failed += 1,
        }
    }
    Ok(Redirect::to(&format!("/cirt?done=cirt.queue.bulk_done&ok={ok}&failed={failed}")).into_response())
}

#[derive(Template)]
#[template(path = "cirt_cvss.html")]
struct CvssPage {
    c: Ctx,
    vector: String,
    score: Option<String>,
    severity: String,
    error: Option<String>,
    v3: Vec<MetricChoice>,
    v4: Vec<MetricChoice>,
}

/// One base metric of the picker, with its values and the one chosen.
pub struct MetricChoice {
    pub key: &'static str,
    pub name: &'static str,
    pub values: Values,
    pub chosen: String,
}

/// A metric's values: (abbreviation, name).
type Values = &'static [(&'static str, &'static str)];
/// A base metric: (abbreviation, name, values).
type Metric = (&'static str, &'static str, Values);

// The base metrics as FIRST names them (CVSS v3.1 and v4.0 specifications);
// the standard's own terms, so they are not translated.
const LOW_HIGH: Values = &[("L", "Low"), ("H", "High")];
const NONE_LOW_HIGH: Values = &[("N", "None"), ("L", "Low"), ("H", "High")];
const IMPACT: Values = &[("H", "High"), ("L", "Low"), ("N", "None")];
const VECTOR: Values = &[("N", "Network"), ("A", "Adjacent"), ("L", "Local"), ("P", "Physical")];
const V3_METRICS: [Metric; 8] = [
    ("AV", "Attack Vector", VECTOR),
    ("AC", "Attack Complexity", LOW_HIGH),
    ("PR", "Privileges Required", NONE_LOW_HIGH),
    ("UI", "User Interaction", &[("N", "None"), ("R", "Required")]),
    ("S", "Scope", &[("U", "Unchanged"), ("C", "Changed")]),
    ("C", "Confidentiality", IMPACT),
    ("I", "Integrity", IMPACT),
    ("A", "Availability", IMPACT),
];
const V4_METRICS: [Metric; 11] = [
    ("AV", "Attack Vector", VECTOR),
    ("AC", "Attack Complexity", LOW_HIGH),
    ("AT", "Attack Requirements", &[("N", "None"), ("P", "Present")]),
    ("PR", "Privileges Required", NONE_LOW_HIGH),
    ("UI", "User Interaction", &[("N", "None"), ("P", "Passive"), ("A", "Active")]),
    ("VC", "Vulnerable System Confidentiality", IMPACT),
    ("VI", "Vulnerable System Integrity", IMPACT),
    ("VA", "Vulnerable System Availability", IMPACT),
    ("SC", "Subsequent System Confidentiality", IMPACT),
    ("SI", "Subsequent System Integrity", IMPACT),
    ("SA", "Subsequent System Availability", IMPACT),
];

/// The picker's rows, each set from `chosen(metric)` or its first value.
fn choices(metrics: &[Metric], chosen: impl Fn(&str) -> Option<String>) -> Vec<MetricChoice> {
    metrics
        .iter()
        .map(|(key, name, values)| MetricChoice {
            key,
            name,
            values,
            chosen: chosen(key).filter(|c| values.iter().any(|(v, _)| v == c)).unwrap_or_else(|| values[0].0.to_owned()),
        })
        .collect()
}

/// A CVSS v3.1 and v4.0 base-score calculator, computed on the server: pick
/// the metrics (or paste a vector, v3.0 included) and get the vector, score
/// and severity.
async fn cvss_calculator(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::IncidentRead) && !principal.has(Permission::AdvisoryWrite) {
        return Err(PageError(WebError::Forbidden));
    }
    let c = Ctx::new(&state, &viewer, "cirt.cvss.title", "cvss");
    let param = |name: &str| query.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
    // Built from the picker, or as pasted.
    let vector = match param("version").as_deref() {
        Some("3.1") => {
            let parts: Vec<String> =
                choices(&V3_METRICS, |k| param(&format!("v3_{k}"))).iter().map(|m| format!("{}:{}", m.key, m.chosen)).collect();
            format!("CVSS:3.1/{}", parts.join("/"))
        }
        Some("4.0") => {
            let parts: Vec<String> =
                choices(&V4_METRICS, |k| param(&format!("v4_{k}"))).iter().map(|m| format!("{}:{}", m.key, m.chosen)).collect();
            format!("CVSS:4.0/{}", parts.join("/"))
        }
        _ => param("vector").unwrap_or_default(),
    };
    // The picker shows the metrics of the vector in hand.
    let in_vector = |prefix: &str, key: &str| {
        vector.strip_prefix(prefix)?.split('/').find_map(|part| part.split_once(':').filter(|(k, _)| *k == key).map(|(_, v)| v.to_owned()))
    };
    let v3 = choices(&V3_METRICS, |k| in_vector("CVSS:3.1/", k).or_else(|| in_vector("CVSS:3.0/", k)));
    let v4 = choices(&V4_METRICS, |k| in_vector("CVSS:4.0/", k));
    let (score, severity, error) = if vector.is_empty() {
        (None, String::new(), None)
    } else {
        match rampart_cirt::csaf::cvss_base(&vector) {
            Ok(score) => (Some(format!("{:.1} (CVSS {})", score.score, score.version)), score.severity, None),
            Err(message) => (None, String::new(), Some(message)),
        }
    };
    let status = error.is_some().then_some(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    render_status(&CvssPage { c, vector, score, severity, error, v3, v4 }, status)
}

// ----- new incident -----------------------------------------------------------

#[derive(Template)]
#[template(path = "cirt_new.html")]
struct NewIncidentPage {
    c: Ctx,
    cirts: Vec<(String, String)>,
    types: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    tlps: Vec<String>,
    error: Option<String>,
}

/// The CIRTs whose incidents the principal may write.
async fn writable_cirts(state: &AppState, principal: &rampart_auth::Principal) -> Result<Vec<(String, String)>, PageError> {
    let mut out = Vec::new();
    match principal.org_ids_for(Permission::IncidentWrite) {
        Some(ids) => {
            for id in ids {
                let org = state.store().org_get(&id).await?;
                out.push((org.id, org.name));
            }
        }
        None => {
            let filter = rampart_store::orgs::OrgFilter { kind: Some("national_cirt".into()), ..Default::default() };
            for org in state.store().org_list(&filter, &PageRequest::first(500)).await?.items {
                out.push((org.id, org.name));
            }
        }
    }
    Ok(out)
}

async fn new_incident_view(state: &AppState, viewer: &Viewer, error: Option<WebError>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::IncidentWrite) {
        return Err(PageError(WebError::Forbidden));
    }
    let c = Ctx::new(state, viewer, "cirt.new.title", "cirt");
    let page = NewIncidentPage {
        cirts: writable_cirts(state, principal).await?,
        types: rsit_choices(),
        levels: labels(&c, "cirt.level", &LEVELS),
        tlps: TLPS.iter().map(|t| (*t).to_owned()).collect(),
        error: error.as_ref().map(WebError::public_message),
        c,
    };
    let mut response = render(&page)?;
    if let Some(err) = error {
        *response.status_mut() = err.status();
    }
    Ok(response)
}

async fn new_incident_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    new_incident_view(&state, &viewer, None).await
}

#[derive(Deserialize)]
struct NewIncidentForm {
    csrf: String,
    owner_org_id: String,
    title: String,
    description: String,
    rsit_type: String,
    impact: String,
    urgency: String,
    tlp: String,
    pap: String,
}

fn parse_tlp(field: &'static str, text: &str) -> Result<Tlp, WebError> {
    text.parse::<Tlp>().map_err(|_| WebError::invalid(field, format!("`{text}` is not a TLP label")))
}

fn level(field: &'static str, text: &str) -> Result<Level, WebError> {
    Level::parse(field, text).map_err(|err| WebError::invalid(field, err.to_string()))
}

#[allow(clippy::too_many_arguments)]
pub fn new_incident_from(
    owner_org_id: String,
    title: String,
    description: String,
    rsit_class: String,
    rsit_type: String,
    impact: &str,
    urgency: &str,
    tlp: &str,
    pap: &str,
) -> Result<NewIncident, WebError> {
    Ok(NewIncident {
        owner_org_id,
        title,
        description: description.clone(),
        rsit_class,
        rsit_type,
        tlp: parse_tlp("tlp", tlp)?,
        pap: parse_tlp("pap", pap)?,
        impact: level("impact", impact)?,
        urgency: level("urgency", urgency)?,
        constituents: Vec::new(),
        observables: rampart_cirt::observables::extract(&description),
    })
}

async fn create_incident(State(state): State<AppState>, viewer: Viewer, Form(form): Form<NewIncidentForm>) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let built = new_incident_from(
        form.owner_org_id,
        form.title,
        form.description,
        String::new(),
        form.rsit_type,
        &form.impact,
        &form.urgency,
        &form.tlp,
        &form.pap,
    );
    let result = match built {
        Ok(incident) => state.desk().create_incident(&actor, &incident).await.map_err(WebError::from),
        Err(err) => Err(err),
    };
    match result {
        Ok(created) => Ok(Redirect::to(&format!("/cirt/incidents/{}", created.id)).into_response()),
        Err(err @ WebError::Invalid { .. }) => new_incident_view(&state, &viewer, Some(err)).await,
        Err(err) => Err(err.into()),
    }
}

// ----- one incident -------------------------------------------------------------

pub struct TimerLine {
    pub name: String,
    pub state: String,
    pub state_key: String,
    pub due_at: String,
    pub met_at: String,
}

pub struct EventLine {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub body: String,
    pub response: bool,
}

#[derive(Template)]
#[template(path = "cirt_incident.html")]
struct IncidentPage {
    c: Ctx,
    view: rampart_cirt::IncidentView,
    handler: bool,
    priority: String,
    status: String,
    tlp_class: &'static str,
    pap_class: &'static str,
    rsit: String,
    assignee: String,
    timers: Vec<TimerLine>,
    events: Vec<EventLine>,
    next_statuses: Vec<(String, String)>,
    assignees: Vec<(String, String)>,
    can_assign: bool,
    types: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    tlps: Vec<String>,
    observable_kinds: Vec<String>,
    orgs: Vec<(String, String)>,
    link_refs: Vec<(String, String)>,
    notices: Vec<rampart_store::cirt::NoticeRow>,
    smtp_configured: bool,
    error: Option<String>,
}

fn timer_lines(c: &Ctx, timers: &[Timer]) -> Vec<TimerLine> {
    timers
        .iter()
        .map(|t| TimerLine {
            name: c.t.get(&format!("cirt.timer.{}", t.kind.as_str())).to_owned(),
            state: c.t.get(&format!("cirt.timer_state.{}", t.state.as_str())).to_owned(),
            state_key: t.state.as_str().to_owned(),
            due_at: time::format(t.due_at),
            met_at: t.met_at.map(time::format).unwrap_or_default(),
        })
        .collect()
}

/// Users of the owning CIRT who can work incidents, for the assign form.
async fn possible_assignees(state: &AppState, owner_org_id: &str, owner_country: Option<&str>) -> Result<Vec<(String, String)>, PageError> {
    let filter = rampart_store::users::UserFilter { org_id: Some(owner_org_id.to_owned()), email_contains: None };
    let mut out = Vec::new();
    for user in state.store().user_list(&filter, &PageRequest::first(500)).await?.items {
        if user.disabled {
            continue;
        }
        let target = rampart_auth::Target::Org { id: owner_org_id, country: owner_country };
        let works = state
            .store()
            .grants_of(&user.id)
            .await?
            .iter()
            .filter_map(rampart_auth::service::grant_from_row)
            .any(|grant| grant.allows(Permission::IncidentWrite, target));
        if works {
            out.push((user.id, user.display_name));
        }
    }
    Ok(out)
}

async fn incident_view(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<String>,
    error: Option<WebError>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let view = state.desk().view(principal, id).await?;
    let handler = state.desk().is_handler(principal, &view.incident).await?;
    let c = Ctx::new(state, viewer, "cirt.incident.title", "cirt").with_flash(flash);
    let incident = &view.incident;
    let status = Status::parse(&incident.status).unwrap_or(Status::New);
    let assignee = match &incident.assignee_id {
        Some(id) => state.store().user_get(id).await.map(|u| u.display_name).unwrap_or_default(),
        None => c.t.get("cirt.incident.unassigned").to_owned(),
    };
    let owner = state.store().org_get(&incident.owner_org_id).await?;
    let can_assign =
        principal.allows(Permission::IncidentAssign, rampart_auth::Target::Org { id: &owner.id, country: owner.country.as_deref() });
    let events = view
        .timeline
        .iter()
        .map(|e| EventLine {
            at: e.at.clone(),
            actor: e.actor_label.clone(),
            kind: c.t.get(&format!("cirt.event.{}", e.kind)).to_owned(),
            body: e.body.clone(),
            response: e.detail.contains("\"response\":true"),
        })
        .collect();
    let mut link_refs = Vec::new();
    for link in &view.links {
        if let Ok(other) = state.store().incident_get(link).await {
            link_refs.push((other.id, other.reference));
        }
    }
    let orgs = if handler {
        let filter = rampart_store::orgs::OrgFilter { country: owner.country.clone(), ..Default::default() };
        state.store().org_list(&filter, &PageRequest::first(500)).await?.items.into_iter().map(|o| (o.id, o.name)).collect()
    } else {
        Vec::new()
    };
    let page = IncidentPage {
        priority: c.t.get(&format!("cirt.priority.{}", incident.priority)).to_owned(),
        status: c.t.get(&format!("cirt.status.{}", incident.status)).to_owned(),
        tlp_class: tlp_class(&incident.tlp),
        pap_class: tlp_class(&incident.pap),
        rsit: format!("{} / {}", rampart_cirt::rsit::class_label(&incident.rsit_class).unwrap_or(&incident.rsit_class), incident.rsit_type),
        assignee,
        timers: timer_lines(&c, &view.timers),
        events,
        next_statuses: status
            .next()
            .iter()
            .map(|s| (s.as_str().to_owned(), c.t.get(&format!("cirt.status.{}", s.as_str())).to_owned()))
            .collect(),
        assignees: if can_assign { possible_assignees(state, &owner.id, owner.country.as_deref()).await? } else { Vec::new() },
        can_assign,
        types: rsit_choices(),
        levels: labels(&c, "cirt.level", &LEVELS),
        tlps: TLPS.iter().map(|t| (*t).to_owned()).collect(),
        observable_kinds: ["ipv4", "ipv6", "cidr", "domain", "url", "email", "md5", "sha1", "sha256", "cve"]
            .iter()
            .map(|k| (*k).to_owned())
            .collect(),
        orgs,
        link_refs,
        notices: if handler { state.store().notices_of_incident(&view.incident.id).await? } else { Vec::new() },
        smtp_configured: state.notifier().is_some(),
        handler,
        error: error.as_ref().map(WebError::public_message),
        view,
        c,
    };
    let mut response = render(&page)?;
    if let Some(err) = error {
        *response.status_mut() = err.status();
    }
    Ok(response)
}

async fn incident_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let t = state.catalogues().for_lang(viewer.lang);
    incident_view(&state, &viewer, &id, flash_text(&t, query.done.as_deref()), None).await
}

/// After an action on an incident: back to its page with a message, or the
/// page again with the error in place.
async fn after(state: &AppState, viewer: &Viewer, id: &str, result: Result<(), WebError>, done: &str) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/cirt/incidents/{id}?done={done}")).into_response()),
        Err(err @ (WebError::Invalid { .. } | WebError::Conflict { .. })) => incident_view(state, viewer, id, None, Some(err)).await,
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
struct StatusForm {
    csrf: String,
    status: String,
    #[serde(default)]
    comment: String,
}

async fn change_status(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = match Status::parse(&form.status) {
        Ok(to) => state.desk().change_status(&actor, &id, to, &form.comment).await.map(|_| ()).map_err(WebError::from),
        Err(err) => Err(WebError::invalid("status", err.to_string())),
    };
    after(&state, &viewer, &id, result, "cirt.incident.status_changed").await
}

#[derive(Deserialize)]
struct AssignForm {
    csrf: String,
    #[serde(default)]
    assignee_id: String,
}

async fn assign(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<AssignForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let principal = viewer.require()?;
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    let assignee = match form.assignee_id.as_str() {
        "" => None,
        "me" => Some(principal.user_id.clone()),
        other => Some(other.to_owned()),
    };
    let result = state.desk().assign(&actor, &id, assignee.as_deref()).await.map(|_| ()).map_err(WebError::from);
    after(&state, &viewer, &id, result, "cirt.incident.assigned").await
}

#[derive(Deserialize)]
struct NoteForm {
    csrf: String,
    text: String,
    response: Option<String>,
}

async fn add_note(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.desk().add_note(&actor, &id, &form.text, form.response.is_some()).await.map(|_| ()).map_err(WebError::from);
    after(&state, &viewer, &id, result, "cirt.incident.note_added").await
}

#[derive(Deserialize)]
struct TaskForm {
    csrf: String,
    title: String,
}

async fn add_task(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<TaskForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.desk().add_task(&actor, &id, &form.title).await.map(|_| ()).map_err(WebError::from);
    after(&state, &viewer, &id, result, "cirt.incident.task_updated").await
}

#[derive(Deserialize)]
struct ToggleForm {
    csrf: String,
    done: String,
}

async fn toggle_task(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, task_id)): Path<(String, String)>,
    Form(form): Form<ToggleForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.desk().set_task(&actor, &id, &task_id, form.done == "true").await.map(|_| ()).map_err(WebError::from);
    after(&state, &viewer, &id, result, "cirt.incident.task_updated").await
}

#[derive(Deserialize)]
struct ObservableForm {
    csrf: String,
    kind: String,
    value: String,
}

async fn add_observable(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ObservableForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.desk().add_observable(&actor, &id, &form.kind, &form.value).await.map(|_| ()).map_err(WebError::from);
    after(&state, &viewer, &id, result, "cirt.incident.observable_added").await
}

#[derive(Deserialize)]
struct ConstituentForm {
    csrf: String,
    org_id: String,
}

async fn add_constituent(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ConstituentForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.desk().add_constituent(&actor, &id, &form.org_id).await.map(|_| ()).map_err(WebError::from);
    after(&state, &viewer, &id, result, "cirt.incident.constituent_added").await
}

#[derive(Deserialize)]
struct ClassifyForm {
    csrf: String,
    rsit_type: String,
    impact: String,
    urgency: String,
    tlp: String,
    pap: String,
}

async fn classify(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ClassifyForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = async {
        let (impact, urgency) = (level("impact", &form.impact)?, level("urgency", &form.urgency)?);
        let (tlp, pap) = (parse_tlp("tlp", &form.tlp)?, parse_tlp("pap", &form.pap)?);
        state.desk().reclassify(&actor, &id, "", &form.rsit_type, impact, urgency, tlp, pap).await.map(|_| ()).map_err(WebError::from)
    }
    .await;
    after(&state, &viewer, &id, result, "cirt.incident.classified").await
}

#[derive(Deserialize)]
struct OtherForm {
    csrf: String,
    other: String,
}

async fn link(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<OtherForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.desk().link(&actor, &id, form.other.trim()).await.map(|_| ()).map_err(WebError::from);
    after(&state, &viewer, &id, result, "cirt.incident.linked").await
}

async fn merge(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<OtherForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    match state.desk().merge(&actor, &id, form.other.trim()).await {
        Ok(into) => Ok(Redirect::to(&format!("/cirt/incidents/{}?done=cirt.incident.merged", into.id)).into_response()),
        Err(err) => after(&state, &viewer, &id, Err(err.into()), "").await,
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn notify(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.desk().notify(&actor, &id).await.map(|_| ()).map_err(WebError::from);
    if result.is_ok() {
        flush_soon(&state);
    }
    after(&state, &viewer, &id, result, "cirt.incident.notices_queued").await
}

/// Sends due notices in the background, so the analyst's page does not wait
/// on a constituent's mail server.
pub fn flush_soon(state: &AppState) {
    if let Some(notifier) = state.notifier() {
        tokio::spawn(async move {
            if let Err(err) = notifier.flush().await {
                tracing::warn!(error = %err, "sending notices failed");
            }
        });
    }
}

/// A browser upload: the CSRF token and one file, as multipart/form-data.
async fn upload_attachment(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(|err| WebError::invalid("file", err.body_text()))? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(|err| WebError::invalid("csrf", err.body_text()))?,
            Some("file") => {
                let name = field.file_name().unwrap_or("attachment").to_owned();
                let bytes = field.bytes().await.map_err(|err| WebError::invalid("file", err.body_text()))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let actor = viewer.act(&csrf)?;
    let result = match &file {
        Some((name, bytes)) => state.desk().add_attachment(&actor, &id, name, bytes).await.map(|_| ()).map_err(WebError::from),
        None => Err(WebError::invalid("file", "choose a file")),
    };
    after(&state, &viewer, &id, result, "cirt.incident.attachment_added").await
}

/// Downloads are always attachments with a neutral type, so a browser never
/// renders evidence (HTML, SVG, scripts) in Rampart's origin.
pub fn attachment_response(row: &rampart_store::cirt::AttachmentRow, content: Vec<u8>) -> Response {
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    let ascii: String = row.filename.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", url_encode(&row.filename));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&row.sha256) {
        headers.insert("x-content-sha256", value);
    }
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    response
}

async fn download_attachment(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let (row, content) = state.desk().attachment(principal, &id, &attachment_id).await?;
    Ok(attachment_response(&row, content))
}

#[derive(Deserialize)]
struct IodefForm {
    csrf: String,
    owner_org_id: String,
    xml: String,
}

/// Opens an incident per `Incident` of a pasted IODEF v2 document and
/// shows the first; a refused document is shown back with its place.
async fn iodef_import(State(state): State<AppState>, viewer: Viewer, Form(form): Form<IodefForm>) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    match state.desk().import_iodef(&actor, &form.owner_org_id, &form.xml).await.map_err(WebError::from) {
        Ok(created) => {
            let target = created.first().map_or_else(|| "/cirt".to_owned(), |first| format!("/cirt/incidents/{}", first.id));
            Ok(Redirect::to(&target).into_response())
        }
        Err(err @ WebError::Invalid { .. }) => new_incident_view(&state, &viewer, Some(err)).await,
        Err(err) => Err(err.into()),
    }
}

/// The incident as an IODEF v2 document, as the viewer may see it.
async fn iodef_export(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let xml = state.desk().export_iodef(principal, &id).await?;
    let mut response = xml.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8"));
    response.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"incident-iodef.xml\""));
    Ok(response)
}

// ----- dashboard and yearly report ----------------------------------------------

#[derive(Template)]
#[template(path = "cirt_dashboard.html")]
struct DashboardPage {
    c: Ctx,
    year: i32,
    years: Vec<i32>,
    total: usize,
    open: usize,
    breached: usize,
    at_risk: usize,
    charts: Vec<(String, String)>,
    top: Vec<(String, String, usize)>,
}

#[derive(Deserialize, Default)]
struct DashboardQuery {
    year: Option<i32>,
}

async fn dashboard(State(state): State<AppState>, viewer: Viewer, Query(query): Query<DashboardQuery>) -> Result<Response, PageError> {
    use chrono::{Datelike, TimeZone, Utc};
    let principal = viewer.require()?;
    if !principal.has(Permission::IncidentRead) {
        return Err(PageError(WebError::Forbidden));
    }
    let this_year = state.auth().now().year();
    let year = query.year.unwrap_or(this_year);
    if !(2000..=this_year + 1).contains(&year) {
        return Err(WebError::invalid("year", format!("{year} is out of range")).into());
    }
    let start = Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).single().ok_or_else(|| WebError::invalid("year", "invalid"))?;
    let end = Utc.with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0).single().ok_or_else(|| WebError::invalid("year", "invalid"))?;
    let (figures, breached, at_risk) = state.desk().figures(principal, start, end).await?;
    let c = Ctx::new(&state, &viewer, "cirt.dashboard.title", "dashboard");
    let label = |prefix: &str, items: &[(String, usize)]| -> Vec<(String, usize)> {
        items
            .iter()
            .map(|(key, value)| {
                let full = format!("{prefix}.{key}");
                let text = c.t.get(&full);
                (if text == full { key.clone() } else { text.to_owned() }, *value)
            })
            .collect()
    };
    let classes: Vec<(String, usize)> =
        figures.by_class.iter().map(|(class, n)| (rampart_cirt::rsit::class_label(class).unwrap_or(class).to_owned(), *n)).collect();
    let charts = vec![
        (
            c.t.get("cirt.dashboard.open_by_priority").to_owned(),
            crate::svg::bar_chart(c.t.get("cirt.dashboard.open_by_priority"), &label("cirt.priority", &figures.open_by_priority)),
        ),
        (
            c.t.get("cirt.dashboard.by_status").to_owned(),
            crate::svg::bar_chart(c.t.get("cirt.dashboard.by_status"), &label("cirt.status", &figures.by_status)),
        ),
        (c.t.get("cirt.dashboard.by_class").to_owned(), crate::svg::bar_chart(c.t.get("cirt.dashboard.by_class"), &classes)),
        (c.t.get("cirt.dashboard.by_sector").to_owned(), crate::svg::bar_chart(c.t.get("cirt.dashboard.by_sector"), &figures.by_sector)),
        (c.t.get("cirt.dashboard.by_week").to_owned(), crate::svg::bar_chart(c.t.get("cirt.dashboard.by_week"), &figures.by_week)),
    ];
    let mut top = Vec::new();
    for (org_id, count) in &figures.top_constituents {
        let name = state.store().org_get(org_id).await.map(|o| o.name).unwrap_or_else(|_| org_id.clone());
        top.push((org_id.clone(), name, *count));
    }
    render(&DashboardPage {
        years: (2020..=this_year).rev().collect(),
        year,
        total: figures.total,
        open: figures.open,
        breached,
        at_risk,
        charts,
        top,
        c,
    })
}

// ----- reports ----------------------------------------------------------------

pub struct ReportLine {
    pub id: String,
    pub reference: String,
    pub subject: String,
    pub channel: String,
    pub status: String,
    pub received_at: String,
}

#[derive(Template)]
#[template(path = "cirt_reports.html")]
struct ReportsPage {
    c: Ctx,
    rows: Vec<ReportLine>,
    status: String,
    next_link: Option<String>,
}

#[derive(Deserialize, Default)]
struct ReportsQuery {
    status: Option<String>,
    cursor: Option<String>,
    done: Option<String>,
}

async fn reports(State(state): State<AppState>, viewer: Viewer, Query(query): Query<ReportsQuery>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let status = query.status.clone().unwrap_or_else(|| "new".into());
    let status_filter = (status != "all").then_some(status.as_str());
    let page_request = PageRequest::with_cursor(50, query.cursor.as_deref())
        .ok_or_else(|| WebError::invalid("cursor", "is not a cursor from this list"))?;
    let page = state.desk().reports(principal, status_filter, &page_request).await?;
    let t = state.catalogues().for_lang(viewer.lang);
    let c = Ctx::new(&state, &viewer, "cirt.reports.title", "reports").with_flash(flash_text(&t, query.done.as_deref()));
    let rows = page
        .items
        .iter()
        .map(|r| ReportLine {
            id: r.id.clone(),
            reference: r.reference.clone(),
            subject: r.subject.clone(),
            channel: c.t.get(&format!("cirt.channel.{}", r.channel)).to_owned(),
            status: c.t.get(&format!("cirt.report_status.{}", r.status)).to_owned(),
            received_at: r.received_at.clone(),
        })
        .collect();
    let next_link = page.next_cursor.map(|cursor| format!("/cirt/reports?status={}&cursor={}", url_encode(&status), url_encode(&cursor)));
    render(&ReportsPage { c, rows, status, next_link })
}

#[derive(Template)]
#[template(path = "cirt_report.html")]
struct ReportPage {
    c: Ctx,
    report: rampart_store::cirt::ReportRow,
    observables: Vec<Observable>,
    reporter_org: String,
    channel: String,
    status: String,
    can_handle: bool,
    types: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    tlps: Vec<String>,
    error: Option<String>,
}

async fn report_view(state: &AppState, viewer: &Viewer, id: &str, error: Option<WebError>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let report = state.desk().report(principal, id).await?;
    let owner = state.store().org_get(&report.owner_org_id).await?;
    let can_handle = report.status == "new"
        && principal.allows(Permission::IncidentWrite, rampart_auth::Target::Org { id: &owner.id, country: owner.country.as_deref() });
    let reporter_org = match &report.reporter_org_id {
        Some(id) => state.store().org_get(id).await.map(|o| o.name).unwrap_or_default(),
        None => String::new(),
    };
    let c = Ctx::new(state, viewer, "cirt.reports.title", "reports");
    let page = ReportPage {
        observables: serde_json::from_str(&report.observables).unwrap_or_default(),
        channel: c.t.get(&format!("cirt.channel.{}", report.channel)).to_owned(),
        status: c.t.get(&format!("cirt.report_status.{}", report.status)).to_owned(),
        reporter_org,
        can_handle,
        types: rsit_choices(),
        levels: labels(&c, "cirt.level", &LEVELS),
        tlps: TLPS.iter().map(|t| (*t).to_owned()).collect(),
        error: error.as_ref().map(WebError::public_message),
        report,
        c,
    };
    let mut response = render(&page)?;
    if let Some(err) = error {
        *response.status_mut() = err.status();
    }
    Ok(response)
}

async fn report_page(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    report_view(&state, &viewer, &id, None).await
}

#[derive(Deserialize)]
struct PromoteForm {
    csrf: String,
    title: String,
    rsit_type: String,
    impact: String,
    urgency: String,
    tlp: String,
    pap: String,
    #[serde(default)]
    existing: String,
}

async fn promote_report(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<PromoteForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    let principal = viewer.require()?;
    let actor = viewer.actor().ok_or(PageError(WebError::Unauthenticated))?;
    let result = async {
        let report = state.desk().report(principal, &id).await?;
        if !form.existing.trim().is_empty() {
            return state.desk().promote_report(&actor, &id, None, Some(form.existing.trim())).await.map_err(WebError::from);
        }
        let incident = new_incident_from(
            report.owner_org_id.clone(),
            form.title.clone(),
            report.body.clone(),
            String::new(),
            form.rsit_type.clone(),
            &form.impact,
            &form.urgency,
            &form.tlp,
            &form.pap,
        )?;
        state.desk().promote_report(&actor, &id, Some(incident), None).await.map_err(WebError::from)
    }
    .await;
    match result {
        Ok(incident) => Ok(Redirect::to(&format!("/cirt/incidents/{}?done=cirt.reports.promoted", incident.id)).into_response()),
        Err(err @ WebError::Invalid { .. }) => report_view(&state, &viewer, &id, Some(err)).await,
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
struct RejectForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

async fn reject_report(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<RejectForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    state.desk().reject_report(&actor, &id, &form.reason).await?;
    Ok(Redirect::to("/cirt/reports?done=cirt.reports.rejected").into_response())
}

// ----- report form (constituents and the public) ------------------------------------

#[derive(Template)]
#[template(path = "report_form.html")]
struct ReportFormPage {
    c: Ctx,
    signed_in: bool,
    countries: Vec<(String, String)>,
    tlps: Vec<String>,
    subject: String,
    body: String,
    email: String,
    error: Option<String>,
    receipt: Option<String>,
}

async fn report_form_view(
    state: &AppState,
    viewer: &Viewer,
    form: Option<&ReportSubmission>,
    error: Option<WebError>,
    receipt: Option<String>,
) -> Result<Response, PageError> {
    let c = Ctx::new(state, viewer, "cirt.report_form.title", "report");
    let countries = {
        // Only countries with a national CIRT on this platform can receive reports.
        let filter = rampart_store::orgs::OrgFilter { kind: Some("national_cirt".into()), ..Default::default() };
        let mut codes: Vec<(String, String)> = state
            .store()
            .org_list(&filter, &PageRequest::first(500))
            .await?
            .items
            .into_iter()
            .filter_map(|o| o.country)
            .filter_map(|cc| country::find(&cc).map(|c| (c.alpha2.clone(), c.name.clone())))
            .collect();
        codes.sort_by(|a, b| a.1.cmp(&b.1));
        codes.dedup();
        codes
    };
    let page = ReportFormPage {
        signed_in: viewer.principal.is_some(),
        countries,
        tlps: TLPS.iter().map(|t| (*t).to_owned()).collect(),
        subject: form.map(|f| f.subject.clone()).unwrap_or_default(),
        body: form.map(|f| f.body.clone()).unwrap_or_default(),
        email: form.and_then(|f| f.email.clone()).unwrap_or_default(),
        error: error.as_ref().map(WebError::public_message),
        receipt,
        c,
    };
    let mut response = render(&page)?;
    if let Some(err) = error {
        *response.status_mut() = err.status();
    }
    Ok(response)
}

async fn report_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    report_form_view(&state, &viewer, None, None, None).await
}

#[derive(Deserialize)]
struct ReportSubmission {
    csrf: String,
    subject: String,
    body: String,
    email: Option<String>,
    country: Option<String>,
    tlp: Option<String>,
}

async fn submit_report(State(state): State<AppState>, viewer: Viewer, Form(form): Form<ReportSubmission>) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    if viewer.principal.is_none() && !state.public_form_limiter().check(&viewer.ip.clone().unwrap_or_default(), state.auth().now()) {
        return report_form_view(&state, &viewer, Some(&form), Some(WebError::TooManyRequests), None).await;
    }
    let tlp = match form.tlp.as_deref().filter(|t| !t.is_empty()) {
        Some(text) => match parse_tlp("tlp", text) {
            Ok(tlp) => tlp,
            Err(err) => return report_form_view(&state, &viewer, Some(&form), Some(err), None).await,
        },
        None => Tlp::Amber,
    };
    let report = NewReport {
        subject: form.subject.clone(),
        body: form.body.clone(),
        reporter_email: form.email.clone(),
        tlp,
        cirt_org_id: None,
        country: form.country.clone().filter(|c| !c.is_empty()),
    };
    let result = match viewer.actor() {
        Some(actor) => state.desk().submit_report(Some(&actor), Channel::Web, &report).await,
        None => state.desk().submit_report(None, Channel::Public, &report).await,
    };
    match result {
        Ok(row) => {
            let t = state.catalogues().for_lang(viewer.lang);
            let receipt = t.fill("cirt.report_form.receipt", &[("reference", &row.reference)]);
            report_form_view(&state, &viewer, None, None, Some(receipt)).await
        }
        Err(err) => {
            let err = WebError::from(err);
            if matches!(err, WebError::Invalid { .. }) {
                report_form_view(&state, &viewer, Some(&form), Some(err), None).await
            } else {
                Err(err.into())
            }
        }
    }
}

// ----- constituency -------------------------------------------------------------

#[derive(Template)]
#[template(path = "cirt_constituency.html")]
struct ConstituencyPage {
    c: Ctx,
    q: String,
    matches: Vec<(String, String, String, String)>,
    searched: bool,
    org_id: String,
    orgs: Vec<(String, String)>,
    entries: Vec<(String, String)>,
    can_manage: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct ConstituencyQuery {
    q: Option<String>,
    org_id: Option<String>,
    done: Option<String>,
}

async fn constituency_view(
    state: &AppState,
    viewer: &Viewer,
    query: ConstituencyQuery,
    error: Option<WebError>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(Permission::ConstituencyRead) && !principal.has(Permission::ConstituencyManage) {
        return Err(PageError(WebError::Forbidden));
    }
    let t = state.catalogues().for_lang(viewer.lang);
    let c = Ctx::new(state, viewer, "cirt.constituency.title", "constituency").with_flash(flash_text(&t, query.done.as_deref()));
    let q = query.q.clone().unwrap_or_default();
    let mut matches = Vec::new();
    let mut lookup_error = None;
    if !q.trim().is_empty() {
        match state.desk().lookup(principal, &q).await {
            Ok(found) => {
                for m in found {
                    let name = state.store().org_get(&m.org_id).await.map(|o| o.name).unwrap_or_default();
                    matches.push((m.org_id, name, m.by, m.entry));
                }
            }
            Err(err) => lookup_error = Some(WebError::from(err)),
        }
    }
    let own = state.store().org_get(&principal.org_id).await?;
    let filter = rampart_store::orgs::OrgFilter { country: own.country.clone(), ..Default::default() };
    let orgs: Vec<(String, String)> =
        state.store().org_list(&filter, &PageRequest::first(500)).await?.items.into_iter().map(|o| (o.id, o.name)).collect();
    let org_id = query.org_id.clone().unwrap_or_default();
    let mut entries = Vec::new();
    if !org_id.is_empty() {
        for network in state.store().networks_of(&org_id).await? {
            entries.push(("network".to_owned(), network.network));
        }
        for asn in state.store().asns_of(&org_id).await? {
            entries.push(("asn".to_owned(), asn.to_string()));
        }
        for domain in state.store().domains_of(&org_id).await? {
            entries.push(("domain".to_owned(), domain));
        }
    }
    let error = error.or(lookup_error);
    let page = ConstituencyPage {
        searched: !q.trim().is_empty(),
        q,
        matches,
        org_id,
        orgs,
        entries,
        can_manage: principal.has(Permission::ConstituencyManage),
        error: error.as_ref().map(WebError::public_message),
        c,
    };
    let mut response = render(&page)?;
    if let Some(err) = error {
        *response.status_mut() = err.status();
    }
    Ok(response)
}

async fn constituency(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ConstituencyQuery>,
) -> Result<Response, PageError> {
    constituency_view(&state, &viewer, query, None).await
}

#[derive(Deserialize)]
struct EntryForm {
    csrf: String,
    org_id: String,
    kind: String,
    value: String,
}

async fn add_entry(State(state): State<AppState>, viewer: Viewer, Form(form): Form<EntryForm>) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let desk = state.desk();
    let result = match form.kind.as_str() {
        "network" => desk.add_network(&actor, &form.org_id, &form.value).await.map(|_| ()),
        "asn" => desk.add_asn(&actor, &form.org_id, &form.value).await.map(|_| ()),
        "domain" => desk.add_domain(&actor, &form.org_id, &form.value).await.map(|_| ()),
        other => Err(rampart_cirt::DeskError::Rule(rampart_cirt::CirtError::Invalid {
            field: "kind",
            message: format!("`{other}` is not network, asn or domain"),
        })),
    };
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/cirt/constituency?org_id={}&done=cirt.constituency.added", url_encode(&form.org_id)))
                .into_response())
        }
        Err(err) => {
            let err = WebError::from(err);
            if matches!(err, WebError::Invalid { .. }) {
                constituency_view(&state, &viewer, ConstituencyQuery { org_id: Some(form.org_id), ..Default::default() }, Some(err)).await
            } else {
                Err(err.into())
            }
        }
    }
}

async fn remove_entry(State(state): State<AppState>, viewer: Viewer, Form(form): Form<EntryForm>) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    state.desk().remove_entry(&actor, &form.org_id, &form.kind, &form.value).await?;
    Ok(Redirect::to(&format!("/cirt/constituency?org_id={}&done=cirt.constituency.removed", url_encode(&form.org_id))).into_response())
}

#[derive(Deserialize)]
struct ImportForm {
    csrf: String,
    csv: String,
}

async fn import_registry(State(state): State<AppState>, viewer: Viewer, Form(form): Form<ImportForm>) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    if !actor.principal.has(Permission::ConstituencyManage) {
        return Err(PageError(WebError::Forbidden));
    }
    match state.desk().import_registry(&actor, &form.csv).await {
        Ok(_) => Ok(Redirect::to("/cirt/constituency?done=cirt.constituency.imported").into_response()),
        Err(errors) => {
            let message = errors.iter().map(|(line, message)| format!("line {line}: {message}")).collect::<Vec<_>>().join("; ");
            constituency_view(&state, &viewer, ConstituencyQuery::default(), Some(WebError::invalid("csv", message))).await
        }
    }
}

async fn export_registry(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let csv = state.desk().export_registry(principal).await?;
    let mut response = csv.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    response.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"constituency.csv\""));
    Ok(response)
}
