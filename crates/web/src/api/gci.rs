//! GCI API: published results as data (with rank intervals and the
//! uncertainty analysis), editions, campaigns, answers, review, and the
//! import of past results. What the browser pages do, for scripts.

use super::{ApiRoute, parse_body, path_parameter, query_parameter, schema_ref};
use crate::AppState;
use crate::error::{ApiError, WebError};
use crate::viewer::ApiCaller;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rampart_gci::campaigns::{AnswerInput, Decision, Evidence, Results, ReviewInput};
use rampart_gci::framework::RankMethod;
use rampart_gci::uncertainty::{self, Analysis, Input, Settings, WeightModel};
use serde::Deserialize;
use serde_json::{Value, json};

type ApiResult = Result<Response, ApiError>;

/// The most draws an API caller may ask for.
const MAX_DRAWS: usize = 20_000;

pub fn schemas() -> Value {
    json!({
        "GciResultRow": {"type": "object", "properties": {
            "alpha3": {"type": "string"}, "alpha2": {"type": "string"}, "name": {"type": "string"}, "region": {"type": "string"},
            "overall": {"type": "number"}, "pillars": {"type": "object", "additionalProperties": {"type": "number"}},
            "indicators": {"type": "object", "additionalProperties": {"type": "number"}, "description": "Share of each indicator's maximum (campaign results only)."},
            "rank": {"type": "number"}, "regional_rank": {"type": "number"}, "tier": {"type": ["integer", "null"]},
            "median_rank": {"type": ["number", "null"]}, "p5_rank": {"type": ["integer", "null"]}, "p95_rank": {"type": ["integer", "null"]},
            "tier_probabilities": {"type": "object", "additionalProperties": {"type": "number"}}}},
        "GciResults": {"type": "object", "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "edition": {"type": "string"}, "published_at": {"type": ["string", "null"]},
            "ranking": {"type": "string", "enum": ["dense", "standard", "fractional"]}, "warnings": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "array", "items": {"$ref": "#/components/schemas/GciResultRow"}}}},
        "GciAnswer": {"type": "object", "properties": {
            "campaign_id": {"type": "string"}, "country": {"type": "string"}, "question_id": {"type": "string"}, "version": {"type": "integer"},
            "value": {"type": "string"}, "comment": {"type": "string"}, "evidence": {"type": "string", "description": "JSON array of evidence."},
            "state": {"type": "string", "enum": ["draft", "submitted", "accepted", "clarify", "changed"]}, "review_comment": {"type": "string"},
            "author_label": {"type": "string"}, "at": {"type": "string"}}},
    })
}

fn route(method: &'static str, path: &'static str, operation_id: &'static str, summary: &'static str, access: &'static str) -> ApiRoute {
    super::route(method, path, operation_id, "gci", summary, access)
}

pub fn routes() -> Vec<ApiRoute> {
    let anyone = "Any signed-in caller for published results; GCI editors also for unpublished ones";
    let editors = "GCI editors";
    let focal = "The country's GCI focal points";
    let reviewers = "GCI reviewers of the country";
    let id = || path_parameter("id", "Id.");
    let country = || path_parameter("country", "ISO alpha-2 or alpha-3 code.");
    vec![
        ApiRoute {
            response: json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}),
            handler: get(list_results),
            ..route("get", "/gci/results", "listGciResults", "Result sets: published editions and campaigns.", anyone)
        },
        ApiRoute {
            parameters: vec![id(), query_parameter("ranking", "dense (default of GCI 2020), standard or fractional.")],
            response: schema_ref("GciResults"),
            handler: get(get_results),
            ..route("get", "/gci/results/{id}", "getGciResults", "A result set ranked, with rank intervals and tier probabilities.", anyone)
        },
        ApiRoute {
            parameters: vec![
                id(),
                query_parameter("draws", "Monte Carlo draws (default 4000, at most 20000)."),
                query_parameter("seed", "Seed; the same seed gives the same analysis."),
                query_parameter("model", "uniform (default) or dirichlet."),
                query_parameter("spread", "Uniform model: relative spread of each weight (default 0.25)."),
                query_parameter("concentration", "Dirichlet model: concentration (default 20)."),
                query_parameter("geometric_share", "Share of draws aggregated geometrically (default 0.5)."),
            ],
            response: json!({"type": "object", "description": "Per country nominal, median and 5th–95th percentile ranks and tier probabilities; per pillar sensitivity indices; leave-one-out; diagnostics."}),
            handler: get(analysis),
            ..route("get", "/gci/results/{id}/analysis", "getGciAnalysis", "Uncertainty and sensitivity analysis of a result set.", anyone)
        },
        ApiRoute {
            request_body: Some(json!({"type": "object", "required": ["edition", "name", "csv"], "properties": {
                "edition": {"type": "string"}, "name": {"type": "string"},
                "csv": {"type": "string", "description": "Long (country, year, variable, value) or wide (country, overall, pillars…) CSV."}}})),
            success_status: 201,
            response: json!({"type": "object", "properties": {"id": {"type": "string"}, "warnings": {"type": "array", "items": {"type": "string"}}}}),
            handler: post(import),
            ..route(
                "post",
                "/gci/results",
                "importGciResults",
                "Import a past edition's published results; rows that break a rule are named and nothing is stored.",
                editors,
            )
        },
        ApiRoute {
            response: json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}),
            handler: get(list_editions),
            ..route(
                "get",
                "/gci/editions",
                "listGciEditions",
                "Editions (frameworks) with their shape.",
                "GCI focal points, reviewers and editors",
            )
        },
        ApiRoute {
            parameters: vec![path_parameter("code", "Edition code.")],
            response: json!({"type": "object", "description": "The framework: pillars → indicators → … → questions, weights, answer types, tiers."}),
            handler: get(get_edition),
            ..route("get", "/gci/editions/{code}", "getGciEdition", "One edition's framework.", "GCI focal points, reviewers and editors")
        },
        ApiRoute {
            request_body: Some(json!({"type": "object", "required": ["edition", "name", "deadline", "countries"], "properties": {
                "edition": {"type": "string"}, "name": {"type": "string"}, "deadline": {"type": "string", "format": "date"},
                "countries": {"type": "array", "items": {"type": "string"}}}})),
            success_status: 201,
            response: json!({"type": "object"}),
            handler: post(open_campaign),
            ..route("post", "/gci/campaigns", "openGciCampaign", "Open a campaign on a frozen edition for a set of countries.", editors)
        },
        ApiRoute {
            parameters: vec![id()],
            response: json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}),
            handler: get(board),
            ..route(
                "get",
                "/gci/campaigns/{id}/board",
                "getGciBoard",
                "Progress of each country you may follow.",
                "GCI focal points, reviewers and editors",
            )
        },
        ApiRoute {
            parameters: vec![id(), country()],
            response: json!({"type": "object", "description": "Every question with its current answer, evidence and history."}),
            handler: get(questionnaire),
            ..route(
                "get",
                "/gci/campaigns/{id}/countries/{country}",
                "getGciQuestionnaire",
                "A country's questionnaire.",
                "The country's focal points and reviewers; editors",
            )
        },
        ApiRoute {
            parameters: vec![id(), country(), path_parameter("question", "Question id.")],
            request_body: Some(json!({"type": "object", "required": ["value"], "properties": {
                "value": {"type": "string"}, "comment": {"type": "string"},
                "evidence": {"type": "array", "items": {"type": "object", "required": ["kind", "target", "checked_on"], "properties": {
                    "kind": {"type": "string", "enum": ["link", "file"]}, "target": {"type": "string"}, "name": {"type": "string"},
                    "checked_on": {"type": "string", "format": "date"}}}}}})),
            response: schema_ref("GciAnswer"),
            handler: axum::routing::put(save_answer),
            ..route(
                "put",
                "/gci/campaigns/{id}/countries/{country}/answers/{question}",
                "saveGciAnswer",
                "Save an answer (a new version; earlier ones are kept).",
                focal,
            )
        },
        ApiRoute {
            parameters: vec![id(), country()],
            response: json!({"type": "object"}),
            handler: post(submit),
            ..route(
                "post",
                "/gci/campaigns/{id}/countries/{country}/submit",
                "submitGciAnswers",
                "Submit the country's answers for review.",
                focal,
            )
        },
        ApiRoute {
            parameters: vec![id(), country(), path_parameter("question", "Question id.")],
            request_body: Some(json!({"type": "object", "required": ["decision"], "properties": {
                "decision": {"type": "string", "enum": ["accept", "clarify", "change"]},
                "comment": {"type": "string", "description": "Required to ask for clarification or to change."},
                "value": {"type": "string", "description": "The new answer, to change."}}})),
            response: schema_ref("GciAnswer"),
            handler: post(review),
            ..route(
                "post",
                "/gci/campaigns/{id}/countries/{country}/review/{question}",
                "reviewGciAnswer",
                "Accept, ask for clarification, or change an answer with a reason.",
                reviewers,
            )
        },
        ApiRoute {
            parameters: vec![id(), country()],
            response: json!({"type": "object"}),
            handler: post(validate),
            ..route(
                "post",
                "/gci/campaigns/{id}/countries/{country}/validate",
                "validateGciCountry",
                "Validate a country once every answer is accepted or changed.",
                reviewers,
            )
        },
        ApiRoute {
            parameters: vec![id()],
            success_status: 201,
            response: json!({"type": "object", "properties": {"id": {"type": "string"}}}),
            handler: post(publish),
            ..route("post", "/gci/campaigns/{id}/publish", "publishGciResults", "Score, rank and publish the validated countries.", editors)
        },
    ]
}

/// A result set as data: the ranked rows with each country's rank
/// interval and tier probabilities from `analysis`.
pub fn results_json(results: &Results, analysis: &Analysis) -> Value {
    let rows: Vec<Value> = results
        .rows
        .iter()
        .map(|row| {
            let found = analysis.countries.iter().find(|c| c.country == row.alpha3);
            let mut value = serde_json::to_value(row).unwrap_or(Value::Null);
            if let Some(object) = value.as_object_mut() {
                object.insert("median_rank".into(), json!(found.map(|c| c.median_rank)));
                object.insert("p5_rank".into(), json!(found.map(|c| c.p5_rank)));
                object.insert("p95_rank".into(), json!(found.map(|c| c.p95_rank)));
                let tiers: serde_json::Map<String, Value> =
                    found.map(|c| c.tiers.iter().map(|(n, p)| (n.to_string(), json!(p))).collect()).unwrap_or_default();
                object.insert("tier_probabilities".into(), Value::Object(tiers));
            }
            value
        })
        .collect();
    json!({
        "id": results.set.id,
        "name": results.set.name,
        "edition": results.set.edition_code,
        "published_at": results.set.published_at,
        "ranking": results.framework.ranking.as_str(),
        "precision": results.framework.precision,
        "warnings": results.warnings,
        "rows": rows,
    })
}

async fn list_results(State(state): State<AppState>, caller: ApiCaller) -> ApiResult {
    let sets = state.gci().result_sets(Some(&caller.principal)).await?;
    let items: Vec<Value> = sets
        .into_iter()
        .map(|s| json!({"id": s.id, "name": s.name, "edition": s.edition_code, "kind": s.kind, "campaign_id": s.campaign_id, "published_at": s.published_at}))
        .collect();
    Ok(Json(json!({"items": items})).into_response())
}

#[derive(Deserialize, Default)]
struct ResultsQuery {
    ranking: Option<String>,
}

async fn get_results(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    super::ApiQuery(query): super::ApiQuery<ResultsQuery>,
) -> ApiResult {
    let method = match query.ranking.as_deref() {
        None => None,
        Some(text) => Some(RankMethod::parse(text).ok_or_else(|| WebError::invalid("ranking", "must be dense, standard or fractional"))?),
    };
    let results = state.gci().results(Some(&caller.principal), &id, method).await?;
    let (input, _) = Input::from_entries(&results.framework, &results.entries);
    let analysis =
        state.gci_analysis(&results.set.id, || uncertainty::analyse(&input, Settings { draws: 4000, seed: 2020, ..Settings::default() }));
    Ok(Json(results_json(&results, &analysis)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AnalysisQuery {
    draws: Option<usize>,
    seed: Option<u64>,
    model: Option<String>,
    spread: Option<f64>,
    concentration: Option<f64>,
    geometric_share: Option<f64>,
}

async fn analysis(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    super::ApiQuery(query): super::ApiQuery<AnalysisQuery>,
) -> ApiResult {
    let results = state.gci().results(Some(&caller.principal), &id, None).await?;
    let draws = query.draws.unwrap_or(4000);
    if !(1..=MAX_DRAWS).contains(&draws) {
        return Err(WebError::invalid("draws", format!("must be 1 to {MAX_DRAWS}")).into());
    }
    let weights = match query.model.as_deref().unwrap_or("uniform") {
        "uniform" => {
            let spread = query.spread.unwrap_or(0.25);
            if !(0.0..1.0).contains(&spread) {
                return Err(WebError::invalid("spread", "must be at least 0 and below 1").into());
            }
            WeightModel::Uniform { spread }
        }
        "dirichlet" => {
            let concentration = query.concentration.unwrap_or(20.0);
            if !(concentration > 0.0 && concentration <= 10_000.0) {
                return Err(WebError::invalid("concentration", "must be above 0 and at most 10000").into());
            }
            WeightModel::Dirichlet { concentration }
        }
        other => return Err(WebError::invalid("model", format!("{other:?} is not uniform or dirichlet")).into()),
    };
    let geometric_share = query.geometric_share.unwrap_or(0.5);
    if !(0.0..=1.0).contains(&geometric_share) {
        return Err(WebError::invalid("geometric_share", "must be between 0 and 1").into());
    }
    let settings = Settings { draws, seed: query.seed.unwrap_or(2020), weights, geometric_share };
    let (input, excluded) = Input::from_entries(&results.framework, &results.entries);
    // Seconds of CPU at the largest size: off the async workers.
    let analysis = tokio::task::spawn_blocking(move || uncertainty::analyse(&input, settings))
        .await
        .map_err(|err| WebError::Internal(err.to_string()))?;
    let mut value = serde_json::to_value(&analysis).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.insert("excluded".into(), json!(excluded));
    }
    Ok(Json(value).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    edition: String,
    name: String,
    csv: String,
}

async fn import(State(state): State<AppState>, caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    let body: ImportBody = parse_body(&body)?;
    let (set, warnings) = state.gci().import_published(&caller.actor(), &body.edition, &body.name, &body.csv).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": set.id, "warnings": warnings}))).into_response())
}

fn require_staff(caller: &ApiCaller) -> Result<(), ApiError> {
    use rampart_core::Permission::{GciAnswer, GciEdit, GciReview};
    if [GciAnswer, GciEdit, GciReview].iter().any(|p| caller.principal.has(*p)) { Ok(()) } else { Err(WebError::Forbidden.into()) }
}

async fn list_editions(State(state): State<AppState>, caller: ApiCaller) -> ApiResult {
    require_staff(&caller)?;
    let mut items = Vec::new();
    for row in state.gci().editions().await? {
        let (_, framework) = state.gci().edition(&row.code).await?;
        items.push(json!({"code": row.code, "name": row.name, "year": row.year, "frozen": row.frozen, "based_on": row.based_on, "shape": framework.shape()}));
    }
    Ok(Json(json!({"items": items})).into_response())
}

async fn get_edition(State(state): State<AppState>, caller: ApiCaller, Path(code): Path<String>) -> ApiResult {
    require_staff(&caller)?;
    let (row, framework) = state.gci().edition(&code).await?;
    Ok(Json(json!({"frozen": row.frozen, "framework": framework})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenBody {
    edition: String,
    name: String,
    deadline: String,
    countries: Vec<String>,
}

async fn open_campaign(State(state): State<AppState>, caller: ApiCaller, body: axum::body::Bytes) -> ApiResult {
    let body: OpenBody = parse_body(&body)?;
    let campaign = state.gci().open_campaign(&caller.actor(), &body.edition, &body.name, &body.deadline, &body.countries).await?;
    Ok((StatusCode::CREATED, Json(campaign)).into_response())
}

async fn board(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> ApiResult {
    require_staff(&caller)?;
    Ok(Json(json!({"items": state.gci().board(&caller.principal, &id).await?})).into_response())
}

async fn questionnaire(State(state): State<AppState>, caller: ApiCaller, Path((id, country)): Path<(String, String)>) -> ApiResult {
    let code = rampart_gci::countries::find(&country).map(|c| c.alpha2).unwrap_or(country);
    let (q, _) = state.gci().questionnaire(&caller.principal, &id, &code).await?;
    Ok(Json(q).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    value: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    evidence: Vec<Evidence>,
}

async fn save_answer(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, country, question)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> ApiResult {
    let body: AnswerBody = parse_body(&body)?;
    let code = rampart_gci::countries::find(&country).map(|c| c.alpha2).unwrap_or(country);
    let input = AnswerInput { value: body.value, comment: body.comment, evidence: body.evidence };
    Ok(Json(state.gci().save_answer(&caller.actor(), &id, &code, &question, &input).await?).into_response())
}

async fn submit(State(state): State<AppState>, caller: ApiCaller, Path((id, country)): Path<(String, String)>) -> ApiResult {
    let code = rampart_gci::countries::find(&country).map(|c| c.alpha2).unwrap_or(country);
    Ok(Json(state.gci().submit(&caller.actor(), &id, &code).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    decision: String,
    #[serde(default)]
    comment: String,
    value: Option<String>,
}

async fn review(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, country, question)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> ApiResult {
    let body: ReviewBody = parse_body(&body)?;
    let code = rampart_gci::countries::find(&country).map(|c| c.alpha2).unwrap_or(country);
    let decision = Decision::parse(&body.decision)?;
    let input = ReviewInput { question, decision, comment: body.comment, new_value: body.value };
    Ok(Json(state.gci().review(&caller.actor(), &id, &code, &input).await?).into_response())
}

async fn validate(State(state): State<AppState>, caller: ApiCaller, Path((id, country)): Path<(String, String)>) -> ApiResult {
    let code = rampart_gci::countries::find(&country).map(|c| c.alpha2).unwrap_or(country);
    Ok(Json(state.gci().validate(&caller.actor(), &id, &code).await?).into_response())
}

async fn publish(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> ApiResult {
    let set = state.gci().publish(&caller.actor(), &id).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": set.id, "published_at": set.published_at}))).into_response())
}
