//! Strategy API: the comparison, a country's status, self-assessment, gap
//! report and action plan, and CIRT maturity. What the browser pages do,
//! for scripts and for a coordinating body's own dashboards.

use super::{ApiRoute, parse_body, path_parameter, query_parameter};
use crate::AppState;
use crate::error::{ApiError, WebError};
use crate::viewer::ApiCaller;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use rampart_core::country::ItuRegion;
use rampart_strategy::maturity::Profile;
use rampart_strategy::service::AnswerInput;
use serde::Deserialize;
use serde_json::json;

type ApiResult = Result<Response, ApiError>;

fn route(method: &'static str, path: &'static str, operation_id: &'static str, summary: &'static str, access: &'static str) -> ApiRoute {
    super::route(method, path, operation_id, "strategy", summary, access)
}

pub fn routes() -> Vec<ApiRoute> {
    let readers = "Holders of a strategy grant for the country (strategy editors, viewers); a global grant reads every country";
    let editors = "The country's strategy editors";
    let country = || path_parameter("country", "ISO alpha-2 code.");
    let org = || path_parameter("org", "The CIRT organisation's id.");
    let object = || json!({"type": "object"});
    vec![
        ApiRoute {
            parameters: vec![query_parameter("region", "ITU region: africa, americas, arab_states, asia_pacific, cis or europe.")],
            response: json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
                "country": {"type": "string"}, "name": {"type": "string"}, "region": {"type": "string"}, "phase": {"type": ["string", "null"]},
                "share_in_place": {"type": ["number", "null"]}, "answered": {"type": "integer"}, "maturity": {"type": ["number", "null"]}}}}}}),
            handler: get(compare),
            ..route(
                "get",
                "/strategy",
                "compareStrategies",
                "Countries you may read: lifecycle phase, good practice in place, CIRT maturity.",
                readers,
            )
        },
        ApiRoute {
            parameters: vec![country()],
            response: json!({"type": "object", "description": "Record, phases, documents, stakeholders, per-area shares, plan summary, CIRT maturity."}),
            handler: get(overview),
            ..route("get", "/strategy/{country}", "getStrategy", "A country's strategy status.", readers)
        },
        ApiRoute {
            parameters: vec![country()],
            response: json!({"type": "object", "properties": {"items": {"type": "array", "items": object()}}}),
            handler: get(assessment),
            ..route(
                "get",
                "/strategy/{country}/assessment",
                "getStrategyAssessment",
                "Every good-practice element with its current answer and history.",
                readers,
            )
        },
        ApiRoute {
            parameters: vec![country(), path_parameter("element", "Element id, such as FA1.2.")],
            request_body: Some(json!({"type": "object", "required": ["status"], "properties": {
                "status": {"type": "string", "enum": ["in_place", "partial", "not_in_place", "not_applicable"]},
                "priority": {"type": "string", "enum": ["high", "medium", "low"]},
                "evidence": {"type": "array", "items": {"type": "string", "format": "uri"}}, "comment": {"type": "string"}}})),
            response: object(),
            handler: put(save_answer),
            ..route(
                "put",
                "/strategy/{country}/assessment/{element}",
                "saveStrategyAnswer",
                "Answer an element (a new version; earlier ones are kept).",
                editors,
            )
        },
        ApiRoute {
            parameters: vec![country()],
            response: json!({"type": "object", "description": "Baseline, gaps in priority order with each one's effect on the GCI pillar scores and tier, all gaps closed, per-area shares."}),
            handler: get(gaps),
            ..route(
                "get",
                "/strategy/{country}/gaps",
                "getStrategyGaps",
                "The gap report with the GCI effect of closing each gap.",
                readers,
            )
        },
        ApiRoute {
            parameters: vec![country()],
            request_body: Some(
                json!({"type": "object", "required": ["elements"], "properties": {"elements": {"type": "array", "items": {"type": "string"}}}}),
            ),
            success_status: 201,
            response: json!({"type": "object", "properties": {"items": {"type": "array", "items": object()}}}),
            handler: post(gaps_to_actions),
            ..route(
                "post",
                "/strategy/{country}/gaps/actions",
                "strategyGapsToActions",
                "Turn gaps into actions; a gap with an action already is skipped.",
                editors,
            )
        },
        ApiRoute {
            parameters: vec![country()],
            response: json!({"type": "object", "description": "Objectives, actions with overdue flags and KPIs with their values, and the monitoring summary."}),
            handler: get(plan),
            ..route("get", "/strategy/{country}/plan", "getStrategyPlan", "The action plan.", readers)
        },
        ApiRoute {
            parameters: vec![org()],
            response: json!({"type": "object", "description": "The CIRT, its assessments (newest first), current levels and targets, and its service catalogue."}),
            handler: get(maturity),
            ..route(
                "get",
                "/maturity/{org}",
                "getCirtMaturity",
                "A CIRT's SIM3 maturity and services.",
                "The CIRT's managers; strategy readers of its country",
            )
        },
        ApiRoute {
            parameters: vec![org()],
            request_body: Some(json!({"type": "object", "required": ["assessed_on", "levels"], "properties": {
                "assessed_on": {"type": "string", "format": "date"},
                "levels": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 4}, "description": "Every SIM3 parameter, such as O-1, with its level."},
                "targets": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 4}},
                "notes": {"type": "string"}}})),
            success_status: 201,
            response: object(),
            handler: post(record_maturity),
            ..route(
                "post",
                "/maturity/{org}/assessments",
                "recordCirtMaturity",
                "Record a SIM3 assessment with a target profile.",
                "The CIRT's managers; strategy editors of its country",
            )
        },
    ]
}

#[derive(Deserialize)]
struct RegionQuery {
    region: Option<String>,
}

async fn compare(State(state): State<AppState>, caller: ApiCaller, Query(query): Query<RegionQuery>) -> ApiResult {
    let region = match query.region.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(ItuRegion::parse(r).map_err(|_| WebError::invalid("region", format!("{r:?} is not an ITU region")))?),
        None => None,
    };
    if !caller.principal.has(rampart_core::Permission::StrategyRead) {
        return Err(WebError::Forbidden.into());
    }
    Ok(Json(json!({"items": state.strategy().compare(&caller.principal, region).await?})).into_response())
}

async fn overview(State(state): State<AppState>, caller: ApiCaller, Path(country): Path<String>) -> ApiResult {
    Ok(Json(state.strategy().overview(&caller.principal, &country).await?).into_response())
}

async fn assessment(State(state): State<AppState>, caller: ApiCaller, Path(country): Path<String>) -> ApiResult {
    Ok(Json(json!({"items": state.strategy().assessment(&caller.principal, &country).await?})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    status: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    evidence: Vec<String>,
    #[serde(default)]
    comment: String,
}

async fn save_answer(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((country, element)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult {
    let body: AnswerBody = parse_body(&body)?;
    let input = AnswerInput { status: body.status, priority: body.priority, evidence: body.evidence, comment: body.comment };
    Ok(Json(state.strategy().save_answer(&caller.actor(), &country, &element, &input).await?).into_response())
}

async fn gaps(State(state): State<AppState>, caller: ApiCaller, Path(country): Path<String>) -> ApiResult {
    Ok(Json(state.strategy().gaps(&caller.principal, &country).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ElementsBody {
    elements: Vec<String>,
}

async fn gaps_to_actions(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(country): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let body: ElementsBody = parse_body(&body)?;
    let added = state.strategy().actions_from_gaps(&caller.actor(), &country, &body.elements).await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!({"items": added}))).into_response())
}

async fn plan(State(state): State<AppState>, caller: ApiCaller, Path(country): Path<String>) -> ApiResult {
    Ok(Json(state.strategy().plan(&caller.principal, &country).await?).into_response())
}

async fn maturity(State(state): State<AppState>, caller: ApiCaller, Path(org): Path<String>) -> ApiResult {
    Ok(Json(state.strategy().maturity(&caller.principal, &org).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaturityBody {
    assessed_on: String,
    levels: Profile,
    #[serde(default)]
    targets: Profile,
    #[serde(default)]
    notes: String,
}

async fn record_maturity(State(state): State<AppState>, caller: ApiCaller, Path(org): Path<String>, body: axum::body::Bytes) -> ApiResult {
    let body: MaturityBody = parse_body(&body)?;
    let row = state.strategy().record_maturity(&caller.actor(), &org, &body.assessed_on, &body.levels, &body.targets, &body.notes).await?;
    Ok((axum::http::StatusCode::CREATED, Json(row)).into_response())
}
