//! National strategy and CIRT maturity in the browser: the comparison of
//! countries, a country's status page (lifecycle, timeline, documents,
//! stakeholders), the good-practice self-assessment, the gap report with
//! each gap's effect on the GCI, the action plan with its timeline and
//! monitoring dashboard, and CIRT maturity (SIM3 and services).

use super::{Ctx, csv_download, flash_text, render_status};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::i18n::Tr;
use crate::svg::{self, Span};
use crate::viewer::Viewer;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use rampart_core::country::{self, ItuRegion};
use rampart_strategy::data::{self, Priority, SIM3_CATEGORIES, SIM3_LEVELS};
use rampart_strategy::gaps::{Effect, Status};
use rampart_strategy::maturity::{self, Profile};
use rampart_strategy::plan::{self, ACTION_STATUSES};
use rampart_strategy::service::{ActionInput, AnswerInput, DOCUMENT_KINDS, KpiInput, PHASES, SECTORS, SERVICE_LEVELS};
use rampart_strategy::{Strategy, StrategyError};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/strategy", get(index))
        .route("/strategy/{cc}", get(country_page).post(save_record))
        .route("/strategy/{cc}/phases", post(save_phase))
        .route("/strategy/{cc}/documents", post(add_document))
        .route("/strategy/{cc}/stakeholders", post(add_stakeholder))
        .route("/strategy/{cc}/stakeholders/{id}/remove", post(remove_stakeholder))
        .route("/strategy/{cc}/assessment", get(assessment_page))
        .route("/strategy/{cc}/assessment/{element}", post(save_answer))
        .route("/strategy/{cc}/gaps", get(gaps_page))
        .route("/strategy/{cc}/gaps/actions", post(gaps_to_actions))
        .route("/strategy/{cc}/plan", get(plan_page))
        .route("/strategy/{cc}/plan.csv", get(plan_csv))
        .route("/strategy/{cc}/plan/objectives", post(add_objective))
        .route("/strategy/{cc}/plan/actions", post(add_action))
        .route("/strategy/{cc}/plan/actions/{id}", post(edit_action))
        .route("/strategy/{cc}/plan/actions/{id}/status", post(action_status))
        .route("/strategy/{cc}/plan/actions/{id}/kpis", post(add_kpi))
        .route("/strategy/{cc}/plan/kpis/{id}", post(record_kpi))
        .route("/maturity", get(maturity_index))
        .route("/maturity/{org}", get(maturity_page).post(record_maturity))
        .route("/maturity/{org}/actions", post(maturity_actions))
        .route("/maturity/{org}/services/{service}", post(set_service))
}

/// A DOM id from a data id ("FA1.2" → "FA1-2"), so CSS selectors need no escaping.
fn dom(id: &str) -> String {
    id.replace('.', "-")
}

/// The text of `key` in a catalogue section (`prefix` ends with a dot).
fn label(t: &Tr, prefix: &str, key: &str) -> String {
    t.get(&format!("{prefix}{key}")).to_owned()
}

fn pct(share: Option<f64>) -> String {
    share.map(|s| format!("{:.0}%", s * 100.0)).unwrap_or_else(|| "—".into())
}

fn country_name(cc: &str) -> String {
    country::find(cc).map(|c| c.name.clone()).unwrap_or_else(|| cc.to_owned())
}

/// The message of a form error worth showing beside the form; anything else
/// (forbidden, not found, a failure) becomes the error page.
fn form_error(err: StrategyError) -> Result<String, PageError> {
    match WebError::from(err) {
        invalid @ WebError::Invalid { .. } => Ok(invalid.to_string()),
        other => Err(PageError(other)),
    }
}

fn status_for(error: &Option<String>) -> Option<StatusCode> {
    error.as_ref().map(|_| StatusCode::UNPROCESSABLE_ENTITY)
}

#[derive(Deserialize, Default)]
struct PageQuery {
    done: Option<String>,
    region: Option<String>,
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

// ----- comparison ---------------------------------------------------------------

struct CompareLine {
    country: String,
    name: String,
    region: String,
    phase: String,
    share: String,
    answered: usize,
    maturity: String,
}

#[derive(Template)]
#[template(path = "strategy_index.html")]
struct IndexPage {
    c: Ctx,
    rows: Vec<CompareLine>,
    regions: Vec<(String, String, bool)>,
    elements: usize,
    /// The one country a country-scoped user works on.
    own: Vec<(String, String)>,
}

async fn index(State(state): State<AppState>, viewer: Viewer, Query(query): Query<PageQuery>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !principal.has(rampart_core::Permission::StrategyRead) {
        return Err(PageError(WebError::Forbidden));
    }
    let c = Ctx::new(&state, &viewer, "strategy.index.title", "strategy");
    let c = Ctx { flash: flash_text(&c.t, query.done.as_deref()), ..c };
    let region = query.region.as_deref().filter(|r| !r.is_empty()).and_then(|r| ItuRegion::parse(r).ok());
    let rows = state
        .strategy()
        .compare(principal, region)
        .await?
        .into_iter()
        .map(|r| CompareLine {
            phase: r.phase.as_deref().map(|p| label(&c.t, "strategy.phases.", p)).unwrap_or_else(|| "—".into()),
            region: label(&c.t, "platform.regions.", &r.region),
            share: pct(r.share_in_place),
            maturity: r.maturity.map(|m| format!("{m:.1} / 4")).unwrap_or_else(|| "—".into()),
            answered: r.answered,
            country: r.country,
            name: r.name,
        })
        .collect();
    let regions =
        ItuRegion::ALL.iter().map(|r| (r.as_str().to_owned(), label(&c.t, "platform.regions.", r.as_str()), Some(*r) == region)).collect();
    let own = Strategy::readable_countries(principal).unwrap_or_default().into_iter().map(|cc| (country_name(&cc), cc)).collect();
    let elements = data::guide().map(|g| g.elements.len()).unwrap_or(0);
    render_status(&IndexPage { c, rows, regions, elements, own }, None)
}

// ----- a country's status page -------------------------------------------------------

struct PhaseLine {
    key: String,
    label: String,
    state: &'static str,
    started_on: String,
    ended_on: String,
    note: String,
}

struct AreaLine {
    id: String,
    title: String,
    share: String,
    counts: String,
}

struct CirtLine {
    id: String,
    name: String,
    level: String,
    target: String,
    assessed_on: String,
}

#[derive(Template)]
#[template(path = "strategy_country.html")]
struct CountryPage {
    c: Ctx,
    cc: String,
    name: String,
    region: String,
    title: String,
    summary: String,
    phase: String,
    phase_key: String,
    phases: Vec<PhaseLine>,
    timeline: String,
    documents: Vec<(String, String, String, String)>,
    stakeholders: Vec<(String, String, String, String)>,
    areas: Vec<AreaLine>,
    share: String,
    answered: usize,
    elements: usize,
    plan_actions: usize,
    plan_overdue: usize,
    plan_done: usize,
    cirts: Vec<CirtLine>,
    may_edit: bool,
    phase_options: Vec<(String, String)>,
    sector_options: Vec<(String, String)>,
    kind_options: Vec<(String, String)>,
    error: Option<String>,
}

async fn country_view(
    state: &AppState,
    viewer: &Viewer,
    cc: &str,
    error: Option<String>,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let o = state.strategy().overview(principal, cc).await?;
    let c = Ctx::new(state, viewer, "strategy.country.title", "strategy");
    let c = Ctx { title: format!("{} — {}", o.name, c.title), flash: flash_text(&c.t, done), ..c };
    let today = state.strategy().today();
    let current = o.record.as_ref().map(|r| r.phase.clone()).unwrap_or_default();
    let current_index = PHASES.iter().position(|p| *p == current);
    let phases: Vec<PhaseLine> = PHASES
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let row = o.phases.iter().find(|r| r.phase == *p);
            PhaseLine {
                key: (*p).to_owned(),
                label: label(&c.t, "strategy.phases.", p),
                state: match current_index {
                    Some(ci) if ci == i => "current",
                    Some(ci) if i < ci => "done",
                    _ => "",
                },
                started_on: row.map(|r| r.started_on.clone()).unwrap_or_default(),
                ended_on: row.and_then(|r| r.ended_on.clone()).unwrap_or_default(),
                note: row.map(|r| r.note.clone()).unwrap_or_default(),
            }
        })
        .collect();
    // The timeline: each recorded phase from its start to its end, or to
    // the next phase's start, or to today for the current one.
    let mut spans = Vec::new();
    let mut dated: Vec<&rampart_store::strategy::PhaseRow> = o.phases.iter().collect();
    dated.sort_by(|a, b| a.started_on.cmp(&b.started_on));
    for (i, row) in dated.iter().enumerate() {
        let Ok(start) = NaiveDate::parse_from_str(&row.started_on, "%Y-%m-%d") else { continue };
        let next = dated.get(i + 1).and_then(|n| NaiveDate::parse_from_str(&n.started_on, "%Y-%m-%d").ok());
        let end = row.ended_on.as_deref().and_then(|e| NaiveDate::parse_from_str(e, "%Y-%m-%d").ok()).or(next).unwrap_or(today.max(start));
        spans.push(Span {
            label: label(&c.t, "strategy.phases.", &row.phase),
            start,
            end,
            class: if row.phase == current { "bar-current" } else { "bar-phase" },
            note: row.note.clone(),
        });
    }
    let timeline = if spans.is_empty() { String::new() } else { svg::timeline_chart(c.t.get("strategy.country.timeline"), &spans, today) };
    let guide = data::guide()?;
    let areas = o
        .areas
        .iter()
        .map(|a| AreaLine {
            id: a.area.clone(),
            title: guide.area(&a.area).map(|x| x.title.clone()).unwrap_or_default(),
            share: pct(a.share()),
            counts: c.t.fill(
                "strategy.country.area_counts",
                &[
                    ("in_place", &a.in_place.to_string()),
                    ("partial", &a.partial.to_string()),
                    ("not_in_place", &a.not_in_place.to_string()),
                    ("elements", &a.elements.to_string()),
                ],
            ),
        })
        .collect();
    let page = CountryPage {
        cc: o.country.clone(),
        name: o.name.clone(),
        region: label(&c.t, "platform.regions.", &o.region),
        title: o.record.as_ref().map(|r| r.title.clone()).unwrap_or_default(),
        summary: o.record.as_ref().map(|r| r.summary.clone()).unwrap_or_default(),
        phase: if current.is_empty() {
            c.t.get("strategy.country.no_record").to_owned()
        } else {
            label(&c.t, "strategy.phases.", &current)
        },
        phase_key: current,
        phases,
        timeline,
        documents: o
            .documents
            .iter()
            .map(|d| {
                (d.title.clone(), label(&c.t, "strategy.document_kinds.", &d.kind), d.url.clone(), d.issued_on.clone().unwrap_or_default())
            })
            .collect(),
        stakeholders: o
            .stakeholders
            .iter()
            .map(|s| (s.id.clone(), s.name.clone(), label(&c.t, "strategy.sectors.", &s.sector), s.role.clone()))
            .collect(),
        areas,
        share: pct(o.share_in_place),
        answered: o.answered,
        elements: o.elements,
        plan_actions: o.plan.actions,
        plan_overdue: o.plan.overdue,
        plan_done: o.plan.by_status.get("done").copied().unwrap_or(0),
        cirts: o
            .cirts
            .iter()
            .map(|m| CirtLine {
                id: m.org.id.clone(),
                name: m.org.name.clone(),
                level: m.level.map(|l| format!("{l:.1}")).unwrap_or_else(|| "—".into()),
                target: m.target.map(|l| format!("{l:.1}")).unwrap_or_else(|| "—".into()),
                assessed_on: m.latest.as_ref().map(|a| a.assessed_on.clone()).unwrap_or_default(),
            })
            .collect(),
        may_edit: o.may_edit,
        phase_options: PHASES.iter().map(|p| ((*p).to_owned(), label(&c.t, "strategy.phases.", p))).collect(),
        sector_options: SECTORS.iter().map(|p| ((*p).to_owned(), label(&c.t, "strategy.sectors.", p))).collect(),
        kind_options: DOCUMENT_KINDS.iter().map(|p| ((*p).to_owned(), label(&c.t, "strategy.document_kinds.", p))).collect(),
        error,
        c,
    };
    let status = status_for(&page.error);
    render_status(&page, status)
}

async fn country_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(cc): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, PageError> {
    country_view(&state, &viewer, &cc, None, query.done.as_deref()).await
}

/// After a form on the country page: back to it with a flash, or the page
/// again with the error beside the forms.
async fn back_to_country<T>(
    state: &AppState,
    viewer: &Viewer,
    cc: &str,
    result: Result<T, StrategyError>,
    done: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/strategy/{}?done={done}", cc.to_ascii_uppercase())).into_response()),
        Err(err) => country_view(state, viewer, cc, Some(form_error(err)?), None).await,
    }
}

#[derive(Deserialize)]
struct RecordForm {
    csrf: String,
    title: String,
    phase: String,
    #[serde(default)]
    summary: String,
}

async fn save_record(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(cc): Path<String>,
    Form(form): Form<RecordForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.strategy().save_record(&actor, &cc, &form.title, &form.phase, &form.summary).await;
    back_to_country(&state, &viewer, &cc, result, "strategy.country.saved").await
}

#[derive(Deserialize)]
struct PhaseForm {
    csrf: String,
    phase: String,
    started_on: String,
    #[serde(default)]
    ended_on: String,
    #[serde(default)]
    note: String,
}

async fn save_phase(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(cc): Path<String>,
    Form(form): Form<PhaseForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.strategy().set_phase(&actor, &cc, &form.phase, &form.started_on, &form.ended_on, &form.note).await;
    back_to_country(&state, &viewer, &cc, result, "strategy.country.saved").await
}

#[derive(Deserialize)]
struct DocumentForm {
    csrf: String,
    title: String,
    kind: String,
    url: String,
    #[serde(default)]
    issued_on: String,
}

async fn add_document(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(cc): Path<String>,
    Form(form): Form<DocumentForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.strategy().add_document(&actor, &cc, &form.title, &form.kind, &form.url, &form.issued_on).await;
    back_to_country(&state, &viewer, &cc, result, "strategy.country.saved").await
}

#[derive(Deserialize)]
struct StakeholderForm {
    csrf: String,
    name: String,
    sector: String,
    role: String,
}

async fn add_stakeholder(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(cc): Path<String>,
    Form(form): Form<StakeholderForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.strategy().add_stakeholder(&actor, &cc, &form.name, &form.sector, &form.role).await;
    back_to_country(&state, &viewer, &cc, result, "strategy.country.saved").await
}

async fn remove_stakeholder(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((cc, id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.strategy().remove_stakeholder(&actor, &cc, &id).await;
    back_to_country(&state, &viewer, &cc, result, "strategy.country.removed").await
}

// ----- self-assessment ----------------------------------------------------------------

struct ElementLine {
    id: String,
    dom: String,
    title: String,
    description: String,
    published: bool,
    gci: String,
    status: String,
    status_key: String,
    priority: String,
    evidence: Vec<String>,
    comment: String,
    versions: usize,
    by: String,
}

struct AreaBlock {
    id: String,
    title: String,
    summary: String,
    elements: Vec<ElementLine>,
}

#[derive(Template)]
#[template(path = "strategy_assessment.html")]
struct AssessmentPage {
    c: Ctx,
    cc: String,
    name: String,
    areas: Vec<AreaBlock>,
    may_edit: bool,
    statuses: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    answered: usize,
    total: usize,
    error: Option<String>,
}

async fn assessment_view(
    state: &AppState,
    viewer: &Viewer,
    cc: &str,
    error: Option<String>,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let views = state.strategy().assessment(principal, cc).await?;
    let cc = cc.to_ascii_uppercase();
    let c = Ctx::new(state, viewer, "strategy.assessment.title", "strategy");
    let c = Ctx { flash: flash_text(&c.t, done), ..c };
    let guide = data::guide()?;
    let answered = views.iter().filter(|v| v.current.is_some()).count();
    let total = views.len();
    let areas = guide
        .areas
        .iter()
        .map(|area| AreaBlock {
            id: area.id.clone(),
            title: area.title.clone(),
            summary: area.summary.clone(),
            elements: views
                .iter()
                .filter(|v| v.element.area == area.id)
                .map(|v| {
                    let status_key = v.current.as_ref().map(|a| a.status.clone()).unwrap_or_else(|| "none".into());
                    ElementLine {
                        id: v.element.id.clone(),
                        dom: dom(&v.element.id),
                        title: v.element.title.clone(),
                        description: v.element.description.clone(),
                        published: v.element.published,
                        gci: v.element.gci.join(", "),
                        status: label(&c.t, "strategy.status.", &status_key),
                        priority: v.current.as_ref().map(|a| a.priority.clone()).unwrap_or_else(|| v.element.priority.as_str().to_owned()),
                        status_key,
                        evidence: v.evidence.clone(),
                        comment: v.current.as_ref().map(|a| a.comment.clone()).unwrap_or_default(),
                        versions: v.history.len(),
                        by: v
                            .current
                            .as_ref()
                            .map(|a| format!("{} · {}", a.author_label, a.at.chars().take(10).collect::<String>()))
                            .unwrap_or_default(),
                    }
                })
                .collect(),
        })
        .collect();
    let page = AssessmentPage {
        cc: cc.clone(),
        name: country_name(&cc),
        areas,
        may_edit: Strategy::may_edit(principal, &cc),
        statuses: Status::ALL.iter().map(|s| (s.as_str().to_owned(), label(&c.t, "strategy.status.", s.as_str()))).collect(),
        priorities: Priority::ALL.iter().map(|p| (p.as_str().to_owned(), label(&c.t, "strategy.priority.", p.as_str()))).collect(),
        answered,
        total,
        error,
        c,
    };
    let status = status_for(&page.error);
    render_status(&page, status)
}

async fn assessment_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(cc): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, PageError> {
    assessment_view(&state, &viewer, &cc, None, query.done.as_deref()).await
}

#[derive(Deserialize)]
struct AnswerForm {
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    comment: String,
}

async fn save_answer(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((cc, element)): Path<(String, String)>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let input = AnswerInput {
        status: form.status,
        priority: form.priority,
        evidence: form.evidence.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect(),
        comment: form.comment,
    };
    match state.strategy().save_answer(&actor, &cc, &element, &input).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/strategy/{}/assessment?done=strategy.assessment.saved#el-{}",
            cc.to_ascii_uppercase(),
            dom(&element)
        ))
        .into_response()),
        Err(err) => assessment_view(&state, &viewer, &cc, Some(form_error(err)?), None).await,
    }
}

// ----- gap report -----------------------------------------------------------------------

struct EffectLine {
    pillars: Vec<(String, String, String, bool)>,
    overall: String,
    tier: String,
    tier_moves: bool,
}

fn effect_line(t: &Tr, effect: &Effect, pillar_names: &[(String, String)]) -> EffectLine {
    let tier = |n: Option<u8>| n.map(|n| n.to_string()).unwrap_or_else(|| "—".into());
    EffectLine {
        pillars: pillar_names
            .iter()
            .map(|(id, name)| {
                let (before, after) = effect.pillars.get(id).copied().unwrap_or((0.0, 0.0));
                let delta = after - before;
                (name.clone(), format!("{after:.2}"), if delta > 0.0 { format!("+{delta:.2}") } else { String::new() }, delta > 0.0)
            })
            .collect(),
        overall: format!("{:.2} → {:.2}", effect.overall_before, effect.overall_after),
        tier: t.fill("strategy.gaps.tier_change", &[("before", &tier(effect.tier_before)), ("after", &tier(effect.tier_after))]),
        tier_moves: effect.moves_tier(),
    }
}

struct GapLine {
    id: String,
    dom: String,
    title: String,
    area: String,
    status: String,
    status_key: String,
    priority: String,
    priority_key: String,
    gci: String,
    effect: EffectLine,
}

#[derive(Template)]
#[template(path = "strategy_gaps.html")]
struct GapsPage {
    c: Ctx,
    cc: String,
    name: String,
    baseline: String,
    edition: String,
    current: EffectLine,
    gaps: Vec<GapLine>,
    all_closed: EffectLine,
    unanswered: usize,
    may_edit: bool,
    pillar_names: Vec<(String, String)>,
    error: Option<String>,
}

async fn gaps_view(state: &AppState, viewer: &Viewer, cc: &str, error: Option<String>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let report = state.strategy().gaps(principal, cc).await?;
    let cc = cc.to_ascii_uppercase();
    let c = Ctx::new(state, viewer, "strategy.gaps.title", "strategy");
    let (_, framework) = state.gci().edition(&report.baseline.edition).await?;
    let pillar_names: Vec<(String, String)> = framework
        .pillars()
        .map(|p| {
            let key = format!("gci.pillars.{}", p.id);
            let text = c.t.get(&key);
            (p.id.clone(), if text != key { text.to_owned() } else { p.name.clone() })
        })
        .collect();
    let guide = data::guide()?;
    let baseline = match &report.baseline.campaign {
        Some((_, name)) => c.t.fill(
            "strategy.gaps.baseline_campaign",
            &[
                ("campaign", name),
                ("answered", &report.baseline.answered.to_string()),
                ("estimated", &report.baseline.estimated.to_string()),
                ("questions", &report.baseline.questions.to_string()),
            ],
        ),
        None => c.t.fill(
            "strategy.gaps.baseline_estimated",
            &[("estimated", &report.baseline.estimated.to_string()), ("questions", &report.baseline.questions.to_string())],
        ),
    };
    let gaps = report
        .gaps
        .iter()
        .map(|g| GapLine {
            id: g.element.id.clone(),
            dom: dom(&g.element.id),
            title: g.element.title.clone(),
            area: guide.area(&g.element.area).map(|a| a.title.clone()).unwrap_or_default(),
            status: label(&c.t, "strategy.status.", g.status.as_str()),
            status_key: g.status.as_str().to_owned(),
            priority: label(&c.t, "strategy.priority.", g.priority.as_str()),
            priority_key: g.priority.as_str().to_owned(),
            gci: g.element.gci.join(", "),
            effect: effect_line(&c.t, &g.effect, &pillar_names),
        })
        .collect();
    let page = GapsPage {
        cc: cc.clone(),
        name: country_name(&cc),
        baseline,
        edition: framework.name.clone(),
        current: effect_line(&c.t, &report.current, &pillar_names),
        all_closed: effect_line(&c.t, &report.all_closed, &pillar_names),
        gaps,
        unanswered: report.unanswered.len(),
        may_edit: Strategy::may_edit(principal, &cc),
        pillar_names,
        error,
        c,
    };
    let status = status_for(&page.error);
    render_status(&page, status)
}

async fn gaps_page(State(state): State<AppState>, viewer: Viewer, Path(cc): Path<String>) -> Result<Response, PageError> {
    gaps_view(&state, &viewer, &cc, None).await
}

/// Repeated fields (checkboxes) arrive as pairs.
fn values_of<'a>(form: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = String> + 'a {
    form.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.clone())
}

fn csrf_of(form: &[(String, String)]) -> String {
    values_of(form, "csrf").next().unwrap_or_default()
}

async fn gaps_to_actions(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(cc): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&csrf_of(&form))?;
    let elements: Vec<String> = values_of(&form, "element").collect();
    if elements.is_empty() {
        return gaps_view(&state, &viewer, &cc, Some(WebError::invalid("elements", "choose at least one gap").to_string())).await;
    }
    match state.strategy().actions_from_gaps(&actor, &cc, &elements).await {
        Ok(_) => Ok(Redirect::to(&format!("/strategy/{}/plan?done=strategy.plan.from_gaps", cc.to_ascii_uppercase())).into_response()),
        Err(err) => gaps_view(&state, &viewer, &cc, Some(form_error(err)?)).await,
    }
}

// ----- action plan ------------------------------------------------------------------------

struct KpiLine {
    id: String,
    name: String,
    unit: String,
    baseline: String,
    target: String,
    latest: String,
    progress: Option<u32>,
    measured: usize,
}

struct ActionLine {
    id: String,
    title: String,
    lead: String,
    supporting: String,
    supporting_raw: String,
    budget: String,
    budget_raw: String,
    currency: String,
    start_on: String,
    end_on: String,
    status: String,
    status_key: String,
    overdue: bool,
    origin: String,
    kpis: Vec<KpiLine>,
}

struct ObjectiveBlock {
    id: String,
    title: String,
    area: String,
    actions: Vec<ActionLine>,
}

#[derive(Template)]
#[template(path = "strategy_plan.html")]
struct PlanPage {
    c: Ctx,
    cc: String,
    name: String,
    objectives: Vec<ObjectiveBlock>,
    timeline: String,
    actions: usize,
    by_status: Vec<(String, String, usize)>,
    overdue: usize,
    budget: Vec<String>,
    kpis: usize,
    kpis_measured: usize,
    kpis_met: usize,
    mean_progress: String,
    may_edit: bool,
    statuses: Vec<(String, String)>,
    area_options: Vec<(String, String)>,
    today: String,
    error: Option<String>,
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value}") }
}

async fn plan_view(state: &AppState, viewer: &Viewer, cc: &str, error: Option<String>, done: Option<&str>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let plan = state.strategy().plan(principal, cc).await?;
    let cc = cc.to_ascii_uppercase();
    let c = Ctx::new(state, viewer, "strategy.plan.title", "strategy");
    let c = Ctx { flash: flash_text(&c.t, done), ..c };
    let today = state.strategy().today();
    let guide = data::guide()?;
    let mut spans = Vec::new();
    for (_, a) in plan.actions() {
        let dates = (NaiveDate::parse_from_str(&a.action.start_on, "%Y-%m-%d"), NaiveDate::parse_from_str(&a.action.end_on, "%Y-%m-%d"));
        if let (Ok(start), Ok(end)) = dates {
            let class = if a.overdue {
                "bar-overdue"
            } else {
                match a.action.status.as_str() {
                    "done" => "bar-done",
                    "in_progress" => "bar-in_progress",
                    "cancelled" => "bar-cancelled",
                    _ => "bar-planned",
                }
            };
            let status = label(&c.t, "strategy.action_status.", &a.action.status);
            let note = if a.overdue { format!("({status}, {})", c.t.get("strategy.plan.overdue")) } else { format!("({status})") };
            spans.push(Span { label: a.action.title.clone(), start, end, class, note });
        }
    }
    let timeline = if spans.is_empty() { String::new() } else { svg::timeline_chart(c.t.get("strategy.plan.timeline"), &spans, today) };
    let objectives = plan
        .objectives
        .iter()
        .map(|o| ObjectiveBlock {
            id: o.id.clone(),
            title: o.title.clone(),
            area: guide.area(&o.area).map(|a| a.title.clone()).unwrap_or_default(),
            actions: o
                .actions
                .iter()
                .map(|a| ActionLine {
                    id: a.action.id.clone(),
                    title: a.action.title.clone(),
                    lead: if a.action.lead_org.is_empty() {
                        c.t.get("strategy.plan.unassigned").to_owned()
                    } else {
                        a.action.lead_org.clone()
                    },
                    supporting: a.action.supporting.lines().map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", "),
                    supporting_raw: a.action.supporting.clone(),
                    budget: a.action.budget.map(|b| format!("{b} {}", a.action.currency)).unwrap_or_else(|| "—".into()),
                    budget_raw: a.action.budget.map(|b| b.to_string()).unwrap_or_default(),
                    currency: a.action.currency.clone(),
                    start_on: a.action.start_on.clone(),
                    end_on: a.action.end_on.clone(),
                    status: label(&c.t, "strategy.action_status.", &a.action.status),
                    status_key: a.action.status.clone(),
                    overdue: a.overdue,
                    origin: a.action.origin.clone(),
                    kpis: a
                        .kpis
                        .iter()
                        .map(|k| KpiLine {
                            id: k.kpi.id.clone(),
                            name: k.kpi.name.clone(),
                            unit: k.kpi.unit.clone(),
                            baseline: number(k.kpi.baseline),
                            target: number(k.kpi.target),
                            latest: k.latest.map(number).unwrap_or_else(|| "—".into()),
                            progress: k.progress.map(|p| (p * 100.0).round() as u32),
                            measured: k.values.len(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let s = &plan.summary;
    let page = PlanPage {
        cc: cc.clone(),
        name: country_name(&cc),
        objectives,
        timeline,
        actions: s.actions,
        by_status: ACTION_STATUSES
            .iter()
            .map(|k| ((*k).to_owned(), label(&c.t, "strategy.action_status.", k), s.by_status.get(*k).copied().unwrap_or(0)))
            .collect(),
        overdue: s.overdue,
        budget: s.budget.iter().map(|(cur, total)| format!("{total} {cur}")).collect(),
        kpis: s.kpis,
        kpis_measured: s.kpis_measured,
        kpis_met: s.kpis_met,
        mean_progress: pct(s.mean_progress),
        may_edit: Strategy::may_edit(principal, &cc),
        statuses: ACTION_STATUSES.iter().map(|k| ((*k).to_owned(), label(&c.t, "strategy.action_status.", k))).collect(),
        area_options: guide.areas.iter().map(|a| (a.id.clone(), a.title.clone())).collect(),
        today: today.to_string(),
        error,
        c,
    };
    let status = status_for(&page.error);
    render_status(&page, status)
}

async fn plan_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(cc): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, PageError> {
    plan_view(&state, &viewer, &cc, None, query.done.as_deref()).await
}

async fn plan_csv(State(state): State<AppState>, viewer: Viewer, Path(cc): Path<String>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let plan = state.strategy().plan(principal, &cc).await?;
    Ok(csv_download(&format!("action-plan-{}.csv", cc.to_ascii_uppercase()), plan::to_csv(&plan)))
}

async fn back_to_plan<T>(
    state: &AppState,
    viewer: &Viewer,
    cc: &str,
    result: Result<T, StrategyError>,
    done: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/strategy/{}/plan?done={done}", cc.to_ascii_uppercase())).into_response()),
        Err(err) => plan_view(state, viewer, cc, Some(form_error(err)?), None).await,
    }
}

#[derive(Deserialize)]
struct ObjectiveForm {
    csrf: String,
    title: String,
    #[serde(default)]
    area: String,
}

async fn add_objective(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(cc): Path<String>,
    Form(form): Form<ObjectiveForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.strategy().add_objective(&actor, &cc, &form.title, &form.area).await;
    back_to_plan(&state, &viewer, &cc, result, "strategy.plan.saved").await
}

#[derive(Deserialize)]
struct ActionForm {
    csrf: String,
    objective_id: String,
    title: String,
    #[serde(default)]
    lead_org: String,
    #[serde(default)]
    supporting: String,
    #[serde(default)]
    budget: String,
    #[serde(default)]
    currency: String,
    start_on: String,
    end_on: String,
    #[serde(default)]
    status: String,
}

impl ActionForm {
    fn input(self) -> ActionInput {
        ActionInput {
            objective_id: self.objective_id,
            title: self.title,
            lead_org: self.lead_org,
            supporting: self.supporting,
            budget: self.budget,
            currency: self.currency,
            start_on: self.start_on,
            end_on: self.end_on,
            status: self.status,
        }
    }
}

async fn add_action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(cc): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    let csrf = form.csrf.clone();
    let actor = viewer.act(&csrf)?;
    let result = state.strategy().save_action(&actor, &cc, None, &form.input()).await;
    back_to_plan(&state, &viewer, &cc, result, "strategy.plan.saved").await
}

async fn edit_action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((cc, id)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    let csrf = form.csrf.clone();
    let actor = viewer.act(&csrf)?;
    let result = state.strategy().save_action(&actor, &cc, Some(&id), &form.input()).await;
    back_to_plan(&state, &viewer, &cc, result, "strategy.plan.saved").await
}

#[derive(Deserialize)]
struct StatusForm {
    csrf: String,
    status: String,
}

async fn action_status(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((cc, id)): Path<(String, String)>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.strategy().set_action_status(&actor, &cc, &id, &form.status).await;
    back_to_plan(&state, &viewer, &cc, result, "strategy.plan.saved").await
}

#[derive(Deserialize)]
struct KpiForm {
    csrf: String,
    name: String,
    #[serde(default)]
    unit: String,
    baseline: String,
    target: String,
}

async fn add_kpi(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((cc, id)): Path<(String, String)>,
    Form(form): Form<KpiForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let input = KpiInput { name: form.name, unit: form.unit, baseline: form.baseline, target: form.target };
    let result = state.strategy().add_kpi(&actor, &cc, &id, &input).await;
    back_to_plan(&state, &viewer, &cc, result, "strategy.plan.saved").await
}

#[derive(Deserialize)]
struct MeasureForm {
    csrf: String,
    measured_on: String,
    value: String,
    #[serde(default)]
    note: String,
}

async fn record_kpi(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((cc, id)): Path<(String, String)>,
    Form(form): Form<MeasureForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.strategy().record_kpi(&actor, &cc, &id, &form.measured_on, &form.value, &form.note).await;
    back_to_plan(&state, &viewer, &cc, result, "strategy.plan.measured_done").await
}

// ----- CIRT maturity -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "maturity_index.html")]
struct MaturityIndexPage {
    c: Ctx,
    cirts: Vec<(String, String, String, String, String)>,
}

async fn maturity_index(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let c = Ctx::new(&state, &viewer, "strategy.maturity.index_title", "maturity");
    let mut cirts = Vec::new();
    for org in state.strategy().cirts(principal).await? {
        let view = state.strategy().maturity(principal, &org.id).await?;
        let latest = view.assessments.first();
        cirts.push((
            org.id.clone(),
            org.name.clone(),
            org.country.as_deref().map(country_name).unwrap_or_default(),
            latest.map(|a| a.assessed_on.clone()).unwrap_or_else(|| "—".into()),
            latest.map(|_| format!("{:.1}", maturity::overall(&view.levels))).unwrap_or_else(|| "—".into()),
        ));
    }
    render_status(&MaturityIndexPage { c, cirts }, None)
}

struct ParameterLine {
    id: String,
    name: String,
    description: String,
    published: bool,
    level: u8,
    target: Option<u8>,
    /// The target, or 255 for none, for comparing in the template.
    target_or: u8,
    gap: bool,
}

struct CategoryBlock {
    id: String,
    name: String,
    mean: String,
    target: String,
    parameters: Vec<ParameterLine>,
}

struct ServiceLine {
    id: String,
    dom: String,
    name: String,
    description: String,
    level: String,
    level_label: String,
    audience: String,
    note: String,
}

struct ServiceArea {
    name: String,
    services: Vec<ServiceLine>,
}

#[derive(Template)]
#[template(path = "maturity_cirt.html")]
struct MaturityPage {
    c: Ctx,
    org_id: String,
    org_name: String,
    country: String,
    cc: String,
    assessed_on: String,
    history: Vec<(String, String)>,
    categories: Vec<CategoryBlock>,
    radar: String,
    gaps: Vec<(String, String, u8, u8)>,
    levels: Vec<(u8, String)>,
    services: Vec<ServiceArea>,
    service_levels: Vec<(String, String)>,
    may_assess: bool,
    has_assessment: bool,
    notes: String,
    today: String,
    error: Option<String>,
}

async fn maturity_view(
    state: &AppState,
    viewer: &Viewer,
    org_id: &str,
    error: Option<String>,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let view = state.strategy().maturity(principal, org_id).await?;
    let c = Ctx::new(state, viewer, "strategy.maturity.title", "maturity");
    let c = Ctx { title: format!("{} — {}", view.org.name, c.title), flash: flash_text(&c.t, done), ..c };
    let model = data::sim3()?;
    let means = maturity::category_means(model, &view.levels);
    let target_means = maturity::category_means(model, &view.targets);
    let categories: Vec<CategoryBlock> = SIM3_CATEGORIES
        .iter()
        .zip(means.iter().zip(&target_means))
        .map(|((id, _), (mean, target))| CategoryBlock {
            id: (*id).to_owned(),
            name: label(&c.t, "strategy.sim3_categories.", id),
            mean: format!("{:.1}", mean.2),
            target: if view.targets.keys().any(|k| k.starts_with(&format!("{id}-"))) { format!("{:.1}", target.2) } else { "—".into() },
            parameters: model
                .parameters
                .iter()
                .filter(|p| p.category == *id)
                .map(|p| {
                    let level = view.levels.get(&p.id).copied().unwrap_or(0);
                    let target = view.targets.get(&p.id).copied();
                    ParameterLine {
                        id: p.id.clone(),
                        name: p.name.clone(),
                        description: p.description.clone(),
                        published: p.published,
                        level,
                        target,
                        target_or: target.unwrap_or(u8::MAX),
                        gap: target.is_some_and(|t| t > level),
                    }
                })
                .collect(),
        })
        .collect();
    let has_assessment = !view.assessments.is_empty();
    // The radar: the current profile per category against the target, as
    // shares of level 4. A target left out counts as the current level.
    let radar = if has_assessment {
        let axes: Vec<(String, f64)> = categories.iter().zip(&means).map(|(cat, m)| (cat.name.clone(), m.2 / 4.0)).collect();
        let mut full_targets = view.levels.clone();
        full_targets.extend(view.targets.clone());
        let targets: Vec<f64> = maturity::category_means(model, &full_targets).iter().map(|m| m.2 / 4.0).collect();
        svg::radar_chart(c.t.get("strategy.maturity.radar"), &axes, Some((c.t.get("strategy.maturity.target"), &targets)), &view.org.name)
    } else {
        String::new()
    };
    let services = data::services()?;
    let service_areas = services
        .areas()
        .map(|area| ServiceArea {
            name: area.name.clone(),
            services: services
                .in_area(&area.id)
                .map(|s| {
                    let row = view.services.iter().find(|r| r.service_id == s.id);
                    let level = row.map(|r| r.level.clone()).unwrap_or_else(|| "none".into());
                    ServiceLine {
                        id: s.id.clone(),
                        dom: dom(&s.id),
                        name: s.name.clone(),
                        description: s.description.clone(),
                        level_label: label(&c.t, "strategy.service_levels.", &level),
                        level,
                        audience: row.map(|r| r.audience.clone()).unwrap_or_default(),
                        note: row.map(|r| r.note.clone()).unwrap_or_default(),
                    }
                })
                .collect(),
        })
        .collect();
    let page = MaturityPage {
        org_id: view.org.id.clone(),
        org_name: view.org.name.clone(),
        country: view.org.country.as_deref().map(country_name).unwrap_or_default(),
        cc: view.org.country.clone().unwrap_or_default(),
        assessed_on: view.assessments.first().map(|a| a.assessed_on.clone()).unwrap_or_default(),
        history: view
            .assessments
            .iter()
            .map(|a| {
                (
                    a.assessed_on.clone(),
                    format!("{:.1}", maturity::overall(&serde_json::from_str::<Profile>(&a.levels).unwrap_or_default())),
                )
            })
            .collect(),
        gaps: maturity::gaps(model, &view.levels, &view.targets).into_iter().map(|g| (g.parameter, g.name, g.level, g.target)).collect(),
        categories,
        radar,
        levels: SIM3_LEVELS.iter().enumerate().map(|(i, _)| (i as u8, label(&c.t, "strategy.sim3_levels.", &i.to_string()))).collect(),
        services: service_areas,
        service_levels: SERVICE_LEVELS.iter().map(|l| ((*l).to_owned(), label(&c.t, "strategy.service_levels.", l))).collect(),
        may_assess: view.may_assess,
        has_assessment,
        notes: view.assessments.first().map(|a| a.notes.clone()).unwrap_or_default(),
        today: state.strategy().today().to_string(),
        error,
        c,
    };
    let status = status_for(&page.error);
    render_status(&page, status)
}

async fn maturity_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(org): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, PageError> {
    maturity_view(&state, &viewer, &org, None, query.done.as_deref()).await
}

/// Reads `level.<id>` and `target.<id>` fields; an empty target is no target.
fn profiles(form: &[(String, String)]) -> Result<(Profile, Profile), WebError> {
    let mut levels = Profile::new();
    let mut targets = Profile::new();
    for (key, value) in form {
        let (map, id, field) = if let Some(id) = key.strip_prefix("level.") {
            (&mut levels, id, "levels")
        } else if let Some(id) = key.strip_prefix("target.") {
            (&mut targets, id, "targets")
        } else {
            continue;
        };
        if value.trim().is_empty() && field == "targets" {
            continue;
        }
        let level = value
            .trim()
            .parse::<u8>()
            .map_err(|_| WebError::invalid(&format!("{field}.{id}"), format!("{value:?} is not a level 0 to 4")))?;
        map.insert(id.to_owned(), level);
    }
    Ok((levels, targets))
}

async fn record_maturity(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(org): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&csrf_of(&form))?;
    let (levels, targets) = match profiles(&form) {
        Ok(p) => p,
        Err(err) => return maturity_view(&state, &viewer, &org, Some(err.to_string()), None).await,
    };
    let assessed_on = values_of(&form, "assessed_on").next().unwrap_or_default();
    let notes = values_of(&form, "notes").next().unwrap_or_default();
    match state.strategy().record_maturity(&actor, &org, &assessed_on, &levels, &targets, &notes).await {
        Ok(_) => Ok(Redirect::to(&format!("/maturity/{org}?done=strategy.maturity.recorded")).into_response()),
        Err(err) => maturity_view(&state, &viewer, &org, Some(form_error(err)?), None).await,
    }
}

async fn maturity_actions(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(org): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&csrf_of(&form))?;
    let parameters: Vec<String> = values_of(&form, "parameter").collect();
    if parameters.is_empty() {
        return maturity_view(&state, &viewer, &org, Some(WebError::invalid("parameters", "choose at least one gap").to_string()), None)
            .await;
    }
    match state.strategy().maturity_actions(&actor, &org, &parameters).await {
        Ok(_) => Ok(Redirect::to(&format!("/maturity/{org}?done=strategy.maturity.added_to_plan")).into_response()),
        Err(err) => maturity_view(&state, &viewer, &org, Some(form_error(err)?), None).await,
    }
}

#[derive(Deserialize)]
struct ServiceForm {
    csrf: String,
    level: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    note: String,
}

async fn set_service(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((org, service)): Path<(String, String)>,
    Form(form): Form<ServiceForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    match state.strategy().set_service(&actor, &org, &service, &form.level, &form.audience, &form.note).await {
        Ok(_) => Ok(Redirect::to(&format!("/maturity/{org}?done=strategy.maturity.service_saved#svc-{}", dom(&service))).into_response()),
        Err(err) => maturity_view(&state, &viewer, &org, Some(form_error(err)?), None).await,
    }
}
