//! Cyberdrills in the browser: the scenario library (import from JSON or
//! an MSEL spreadsheet, edit, export), the director's console (clock,
//! communication check, live timeline, teams and people), the player
//! portal (inbox, responses with files, team log, challenges, flags,
//! hints), the evaluator's queue, the live scoreboard with its projector
//! view, the hot wash and the after-action report (page, JSON, CSV).
//!
//! Live views use server-sent events: the scoreboard stream carries the
//! scoreboard itself, the portal's stream only says something changed.
//! Every page works without JavaScript too.

use super::{Ctx, csv_download, download, flash_text, read_upload, render_status};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::viewer::Viewer;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rampart_auth::access::ExerciseRole;
use rampart_core::Permission;
use rampart_drills::DrillsError;
use rampart_drills::evaluate::{Queue, Scoreboard};
use rampart_drills::play::{FlagOutcome, PlayerView};
use rampart_drills::report::{HotwashInput, ImprovementInput, Report};
use rampart_drills::scenario::Scenario;
use rampart_drills::service::{Console, ExerciseSummary, InjectEdit};
use rampart_store::drills::ScenarioRow;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/drills", get(index))
        .route("/drills/scenarios/import", post(import_scenario))
        .route("/drills/scenarios/{id}", get(scenario_page).post(save_scenario))
        .route("/drills/scenarios/{id}/export.json", get(export_scenario))
        .route("/drills/scenarios/{id}/injects", post(add_inject))
        .route("/drills/scenarios/{id}/injects/{key}/remove", post(remove_inject))
        .route("/drills/exercises", post(create_exercise))
        .route("/drills/exercises/{id}", get(console_page))
        .route("/drills/exercises/{id}/clock", post(clock))
        .route("/drills/exercises/{id}/speed", post(speed))
        .route("/drills/exercises/{id}/commcheck", post(comm_check))
        .route("/drills/exercises/{id}/teams", post(add_team))
        .route("/drills/exercises/{id}/members", post(set_member))
        .route("/drills/exercises/{id}/members/{user}/remove", post(remove_member))
        .route("/drills/exercises/{id}/injects/{key}", post(inject_action))
        .route("/drills/exercises/{id}/play", get(play_page))
        .route("/drills/exercises/{id}/play/events", get(play_events))
        .route("/drills/exercises/{id}/play/ack/{key}", post(acknowledge))
        .route("/drills/exercises/{id}/play/respond/{key}", post(respond))
        .route("/drills/exercises/{id}/play/log", post(add_log))
        .route("/drills/exercises/{id}/play/commcheck", post(confirm_comm_check))
        .route("/drills/exercises/{id}/play/flag/{challenge}", post(submit_flag))
        .route("/drills/exercises/{id}/play/hint/{challenge}/{index}", post(unlock_hint))
        .route("/drills/exercises/{id}/files/{sha}", get(challenge_file))
        .route("/drills/exercises/{id}/responses/{response}/file", get(response_file))
        .route("/drills/exercises/{id}/evaluate", get(evaluate_page).post(evaluate))
        .route("/drills/exercises/{id}/scoreboard", get(scoreboard_page))
        .route("/drills/exercises/{id}/scoreboard.json", get(scoreboard_json))
        .route("/drills/exercises/{id}/scoreboard/events", get(scoreboard_events))
        .route("/drills/exercises/{id}/report", get(report_page))
        .route("/drills/exercises/{id}/report.json", get(report_json))
        .route("/drills/exercises/{id}/report.csv", get(report_csv))
        .route("/drills/exercises/{id}/improvements", post(add_improvement))
        .route("/drills/exercises/{id}/hotwash", get(hotwash_page).post(hotwash))
        // Response files and MSEL sheets may be larger than the default body limit.
        .layer(axum::extract::DefaultBodyLimit::max(12 * 1024 * 1024))
}

type Fields = Form<Vec<(String, String)>>;

fn field(form: &[(String, String)], name: &str) -> String {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
    projector: Option<String>,
    /// The evaluator's queue: one team only, and only what is still to score.
    team: Option<String>,
    open: Option<String>,
}

/// A refusal that belongs on the form (bad input, a state that forbids
/// it) rather than on an error page.
fn form_error(err: &DrillsError) -> Option<String> {
    match err {
        DrillsError::Invalid { .. } | DrillsError::State(_) => Some(err.to_string()),
        _ => None,
    }
}

fn back(path: String, done: &str) -> Response {
    Redirect::to(&format!("{path}?done={done}")).into_response()
}

// ----- the library -----------------------------------------------------------

#[derive(Template)]
#[template(path = "drills_index.html")]
struct IndexPage {
    c: Ctx,
    exercises: Vec<ExerciseLine>,
    scenarios: Vec<ScenarioRow>,
    organiser: bool,
    error: Option<String>,
}

struct ExerciseLine {
    summary: ExerciseSummary,
    part: String,
    state: String,
    href: String,
}

async fn index_view(state: &AppState, viewer: &Viewer, error: Option<String>, done: Option<&str>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let c = Ctx::new(state, viewer, "drills.index.title", "drills");
    let c = Ctx { flash: flash_text(&c.t, done), ..c };
    let organiser = principal.has(Permission::DrillOrganise);
    let scenarios = if organiser { state.drills().scenarios(principal).await? } else { Vec::new() };
    let exercises = state
        .drills()
        .exercises(principal)
        .await?
        .into_iter()
        .map(|summary| {
            let part = summary.part.clone().unwrap_or_else(|| "organiser".into());
            let href = if part == "player" {
                format!("/drills/exercises/{}/play", summary.row.id)
            } else {
                format!("/drills/exercises/{}", summary.row.id)
            };
            ExerciseLine {
                part: c.t.get(&format!("drills.parts.{part}")).to_owned(),
                state: c.t.get(&format!("drills.states.{}", summary.row.state)).to_owned(),
                href,
                summary,
            }
        })
        .collect();
    let status = error.as_ref().map(|_| StatusCode::UNPROCESSABLE_ENTITY);
    render_status(&IndexPage { c, exercises, scenarios, organiser, error }, status)
}

async fn index(State(state): State<AppState>, viewer: Viewer, Query(query): Query<DoneQuery>) -> Result<Response, PageError> {
    index_view(&state, &viewer, None, query.done.as_deref()).await
}

/// Multipart fields: csrf, `format` (json or msel), `title` (for MSEL),
/// and the document as `text` or as an uploaded `file`.
async fn import_scenario(State(state): State<AppState>, viewer: Viewer, mut multipart: Multipart) -> Result<Response, PageError> {
    let (csrf, file, fields) = read_upload(&mut multipart).await?;
    let actor = viewer.act(&csrf)?;
    let text = match file {
        Some(bytes) => String::from_utf8(bytes).map_err(|_| WebError::invalid("file", "the file is not UTF-8 text"))?,
        None => fields.get("text").cloned().unwrap_or_default(),
    };
    let org = actor.principal.org_id.clone();
    let result = match fields.get("format").map(String::as_str) {
        Some("msel") => {
            let title = fields.get("title").cloned().unwrap_or_default();
            state.drills().import_msel(&actor, &org, &title, &text).await
        }
        _ => state.drills().import_scenario_json(&actor, &org, &text).await,
    };
    answer(
        result,
        |id| format!("/drills/scenarios/{id}"),
        "drills.scenario.imported",
        |message| index_view(&state, &viewer, Some(message), None),
    )
    .await
}

// ----- one scenario ----------------------------------------------------------

#[derive(Template)]
#[template(path = "drills_scenario.html")]
struct ScenarioPage {
    c: Ctx,
    row: ScenarioRow,
    scenario: Scenario,
    json: String,
    may_edit: bool,
    channels: &'static [&'static str],
    kinds: [&'static str; 3],
    error: Option<String>,
}

async fn scenario_view(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    error: Option<String>,
    edited: Option<String>,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let (row, scenario, may_edit) = state.drills().scenario(principal, id).await?;
    let c = Ctx::new(state, viewer, "drills.scenario.title", "drills");
    let c = Ctx { flash: flash_text(&c.t, done), title: scenario.title.clone(), ..c };
    let json = edited.unwrap_or_else(|| scenario.to_json());
    let status = error.as_ref().map(|_| StatusCode::UNPROCESSABLE_ENTITY);
    let channels = &rampart_drills::scenario::CHANNELS;
    render_status(&ScenarioPage { c, row, scenario, json, may_edit, channels, kinds: ["text", "document", "manual"], error }, status)
}

async fn scenario_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    scenario_view(&state, &viewer, &id, None, None, query.done.as_deref()).await
}

/// Fields: csrf and `json`, the whole scenario.
async fn save_scenario(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let text = field(&form, "json");
    let result = match Scenario::from_json(&text) {
        Ok(scenario) => state.drills().save_scenario(&actor, Some(&id), "", scenario).await,
        Err(err) => Err(err),
    };
    answer(
        result,
        |_| format!("/drills/scenarios/{id}"),
        "drills.scenario.saved",
        |message| scenario_view(&state, &viewer, &id, Some(message), Some(text), None),
    )
    .await
}

/// Fields: csrf, `title`, `offset` (minutes), `channel`, `audiences`
/// (comma-separated; empty for every team), `sender`, `content`, and an
/// optional expectation: `expectation`, `kind`, `score`, `deadline`
/// (minutes), `objective`. The inject gets the next free key.
async fn add_inject(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    use rampart_drills::scenario::{Expectation, Inject};
    let actor = viewer.act(&field(&form, "csrf"))?;
    let (_, mut scenario, _) = state.drills().scenario(actor.principal, &id).await?;
    let number = |name: &str| -> Result<Option<i64>, WebError> {
        let text = field(&form, name);
        if text.trim().is_empty() {
            return Ok(None);
        }
        text.trim().parse().map(Some).map_err(|_| WebError::invalid(name, "must be a whole number"))
    };
    let key = (1..).map(|n| format!("I{n:02}")).find(|k| scenario.inject(k).is_none()).unwrap_or_default();
    let expectation_title = field(&form, "expectation");
    let objective = field(&form, "objective");
    let expectations = if expectation_title.trim().is_empty() {
        Vec::new()
    } else {
        vec![Expectation {
            kind: field(&form, "kind"),
            title: expectation_title.trim().to_owned(),
            score: number("score")?.unwrap_or(10),
            deadline_minutes: number("deadline")?,
            scope: "any".into(),
            objective: (!objective.is_empty()).then_some(objective),
            challenge: None,
        }]
    };
    scenario.injects.push(Inject {
        key,
        title: field(&form, "title").trim().to_owned(),
        offset_minutes: number("offset")?.unwrap_or(0),
        channel: field(&form, "channel"),
        audiences: field(&form, "audiences").split(',').map(|a| a.trim().to_ascii_lowercase()).filter(|a| !a.is_empty()).collect(),
        sender: field(&form, "sender").trim().to_owned(),
        content: field(&form, "content"),
        depends_on: Vec::new(),
        expectations,
        attachments: Vec::new(),
    });
    scenario.injects.sort_by_key(|i| i.offset_minutes);
    answer(
        state.drills().save_scenario(&actor, Some(&id), "", scenario).await,
        |_| format!("/drills/scenarios/{id}"),
        "drills.scenario.saved",
        |message| scenario_view(&state, &viewer, &id, Some(message), None, None),
    )
    .await
}

/// Removes an inject no other inject depends on.
async fn remove_inject(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, key)): Path<(String, String)>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let (_, mut scenario, _) = state.drills().scenario(actor.principal, &id).await?;
    if scenario.inject(&key).is_none() {
        return Err(WebError::NotFound("inject").into());
    }
    scenario.injects.retain(|i| i.key != key);
    answer(
        state.drills().save_scenario(&actor, Some(&id), "", scenario).await,
        |_| format!("/drills/scenarios/{id}"),
        "drills.scenario.saved",
        |message| scenario_view(&state, &viewer, &id, Some(message), None, None),
    )
    .await
}

async fn export_scenario(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let json = state.drills().export_scenario(principal, &id).await?;
    Ok(download("application/json", &format!("scenario-{id}.json"), json.into_bytes()))
}

/// Fields: csrf, `scenario`, `title`, `speed`.
async fn create_exercise(State(state): State<AppState>, viewer: Viewer, Form(form): Fields) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let scenario = field(&form, "scenario");
    let speed: f64 = field(&form, "speed").trim().parse().map_err(|_| WebError::invalid("speed", "must be a number"))?;
    answer(
        state.drills().create_exercise(&actor, &scenario, &field(&form, "title"), speed, None).await,
        |id| format!("/drills/exercises/{id}"),
        "drills.console.created",
        |message| scenario_view(&state, &viewer, &scenario, Some(message), None, None),
    )
    .await
}

// ----- the director's console -------------------------------------------------

#[derive(Template)]
#[template(path = "drills_console.html")]
struct ConsolePage {
    c: Ctx,
    console: Console,
    state_label: String,
    roles: Vec<&'static str>,
    error: Option<String>,
}

async fn console_view(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    error: Option<String>,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let console = match state.drills().console(principal, id).await {
        Ok(console) => console,
        // Players have their own portal.
        Err(DrillsError::Forbidden) => return Ok(Redirect::to(&format!("/drills/exercises/{id}/play")).into_response()),
        Err(err) => return Err(err.into()),
    };
    let c = Ctx::new(state, viewer, "drills.console.title", "drills");
    let c = Ctx { flash: flash_text(&c.t, done), title: console.exercise.row.title.clone(), ..c };
    let state_label = c.t.get(&format!("drills.states.{}", console.exercise.row.state)).to_owned();
    let roles = ExerciseRole::ALL.iter().map(|r| r.as_str()).collect();
    let status = error.as_ref().map(|_| StatusCode::UNPROCESSABLE_ENTITY);
    render_status(&ConsolePage { c, console, state_label, roles, error }, status)
}

async fn console_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    console_view(&state, &viewer, &id, None, query.done.as_deref()).await
}

/// The answer to a form: on success, the page `to` makes of the result
/// with the flash `done`; a refusal that belongs on the form (bad input, a
/// state that forbids it) shows the form's page again with the reason;
/// anything else is an error page.
async fn answer<T, Fut>(
    result: Result<T, DrillsError>,
    to: impl FnOnce(T) -> String,
    done: &str,
    reshow: impl FnOnce(String) -> Fut,
) -> Result<Response, PageError>
where
    Fut: std::future::Future<Output = Result<Response, PageError>>,
{
    match result {
        Ok(value) => Ok(back(to(value), done)),
        Err(err) => match form_error(&err) {
            Some(message) => reshow(message).await,
            None => Err(err.into()),
        },
    }
}

/// Shows a console action's outcome: back to the console, or the console with the reason.
async fn console_outcome<T>(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    result: Result<T, DrillsError>,
    done: &str,
) -> Result<Response, PageError> {
    answer(result, |_| format!("/drills/exercises/{id}"), done, |message| console_view(state, viewer, id, Some(message), None)).await
}

/// Fields: csrf, `action` (start, pause, resume, finish, cancel), `reason`.
async fn clock(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, Form(form): Fields) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let action = field(&form, "action");
    let result = state.drills().transition(&actor, &id, &action, &field(&form, "reason")).await;
    console_outcome(&state, &viewer, &id, result, "drills.console.clock_changed").await
}

async fn speed(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, Form(form): Fields) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let speed: f64 = field(&form, "speed").trim().parse().map_err(|_| WebError::invalid("speed", "must be a number"))?;
    let result = state.drills().set_speed(&actor, &id, speed).await;
    console_outcome(&state, &viewer, &id, result, "drills.console.clock_changed").await
}

async fn comm_check(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let result = state.drills().comm_check(&actor, &id).await;
    console_outcome(&state, &viewer, &id, result, "drills.console.comm_check_sent").await
}

/// Fields: csrf, `name`, `country`, `audience`.
async fn add_team(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let country = field(&form, "country");
    let result = state.drills().add_team(&actor, &id, &field(&form, "name"), Some(&country), &field(&form, "audience")).await;
    console_outcome(&state, &viewer, &id, result, "drills.console.team_added").await
}

/// Fields: csrf, `email`, `role`, `team` (players).
async fn set_member(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let team = field(&form, "team");
    let result = state.drills().set_member(&actor, &id, &field(&form, "email"), &field(&form, "role"), Some(&team)).await;
    console_outcome(&state, &viewer, &id, result, "drills.console.member_set").await
}

async fn remove_member(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, user)): Path<(String, String)>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let result = state.drills().remove_member(&actor, &id, &user).await;
    console_outcome(&state, &viewer, &id, result, "drills.console.member_removed").await
}

/// Fields: csrf, `op` (fire, delay, cancel, edit), `minutes` (delay),
/// `offset`, `title`, `content` (edit).
async fn inject_action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, key)): Path<(String, String)>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let drills = state.drills();
    let number = |name: &str| field(&form, name).trim().parse::<i64>().map_err(|_| WebError::invalid(name, "must be a whole number"));
    let result = match field(&form, "op").as_str() {
        "fire" => drills.fire_now(&actor, &id, &key).await.map(|_| ()),
        "delay" => drills.edit_inject(&actor, &id, &key, InjectEdit::Delay { minutes: number("minutes")? }).await,
        "cancel" => drills.edit_inject(&actor, &id, &key, InjectEdit::Cancel).await,
        "edit" => {
            let (title, content) = (field(&form, "title"), field(&form, "content"));
            let edit = InjectEdit::Change { offset_minutes: number("offset")?, title: &title, content: &content };
            drills.edit_inject(&actor, &id, &key, edit).await
        }
        _ => return Err(WebError::invalid("op", "must be fire, delay, cancel or edit").into()),
    };
    console_outcome(&state, &viewer, &id, result, "drills.console.inject_changed").await
}

// ----- the player portal -------------------------------------------------------

#[derive(Template)]
#[template(path = "drills_play.html")]
struct PlayPage {
    c: Ctx,
    view: PlayerView,
    state_label: String,
    error: Option<String>,
}

async fn play_view(state: &AppState, viewer: &Viewer, id: &str, error: Option<String>, done: Option<&str>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let view = match state.drills().player_view(principal, id).await {
        Ok(view) => view,
        // Staff have the console.
        Err(DrillsError::Forbidden) => return Ok(Redirect::to(&format!("/drills/exercises/{id}")).into_response()),
        Err(err) => return Err(err.into()),
    };
    let c = Ctx::new(state, viewer, "drills.play.title", "drills");
    let c = Ctx { flash: flash_text(&c.t, done), ..c };
    let state_label = c.t.get(&format!("drills.states.{}", view.exercise.row.state)).to_owned();
    let status = error.as_ref().map(|_| StatusCode::UNPROCESSABLE_ENTITY);
    render_status(&PlayPage { c, view, state_label, error }, status)
}

async fn play_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    play_view(&state, &viewer, &id, None, query.done.as_deref()).await
}

async fn play_outcome<T>(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    result: Result<T, DrillsError>,
    done: &str,
) -> Result<Response, PageError> {
    answer(result, |_| format!("/drills/exercises/{id}/play"), done, |message| play_view(state, viewer, id, Some(message), None)).await
}

async fn acknowledge(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, key)): Path<(String, String)>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let result = state.drills().acknowledge(&actor, &id, &key).await;
    play_outcome(&state, &viewer, &id, result, "drills.play.acknowledged").await
}

/// Multipart fields: csrf, `body`, and optionally a `file`.
async fn respond(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, key)): Path<(String, String)>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let (csrf, file, fields) = read_upload(&mut multipart).await?;
    let actor = viewer.act(&csrf)?;
    let name = fields.get("filename").cloned().unwrap_or_default();
    let body = fields.get("body").cloned().unwrap_or_default();
    let result = state.drills().respond(&actor, &id, &key, &body, file.as_deref().map(|bytes| (name.as_str(), bytes))).await;
    play_outcome(&state, &viewer, &id, result, "drills.play.responded").await
}

async fn add_log(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, Form(form): Fields) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let result = state.drills().add_log(&actor, &id, &field(&form, "body")).await;
    play_outcome(&state, &viewer, &id, result, "drills.play.logged").await
}

async fn confirm_comm_check(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let result = state.drills().confirm_comm_check(&actor, &id).await;
    play_outcome(&state, &viewer, &id, result, "drills.play.comm_check_confirmed").await
}

/// Fields: csrf, `flag`. Too many wrong flags in a minute: 429.
async fn submit_flag(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, challenge)): Path<(String, String)>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    match state.drills().submit_flag(&actor, &id, &challenge, &field(&form, "flag")).await {
        Ok(FlagOutcome::Correct { first: true, .. }) => Ok(back(format!("/drills/exercises/{id}/play"), "drills.play.flag_first")),
        Ok(FlagOutcome::Correct { .. }) => Ok(back(format!("/drills/exercises/{id}/play"), "drills.play.flag_correct")),
        Ok(FlagOutcome::AlreadySolved) => Ok(back(format!("/drills/exercises/{id}/play"), "drills.play.flag_already")),
        Ok(FlagOutcome::Wrong { attempts_left: Some(0) }) => {
            Ok(back(format!("/drills/exercises/{id}/play"), "drills.play.flag_no_attempts"))
        }
        Ok(FlagOutcome::Wrong { .. }) => Ok(back(format!("/drills/exercises/{id}/play"), "drills.play.flag_wrong")),
        Err(DrillsError::RateLimited { retry_after }) => {
            let mut response = play_view(&state, &viewer, &id, Some(DrillsError::RateLimited { retry_after }.to_string()), None).await?;
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(err) => play_outcome::<()>(&state, &viewer, &id, Err(err), "").await,
    }
}

async fn unlock_hint(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, challenge, index)): Path<(String, String, usize)>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let result = state.drills().unlock_hint(&actor, &id, &challenge, index).await;
    play_outcome(&state, &viewer, &id, result, "drills.play.hint_unlocked").await
}

async fn challenge_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, sha)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let (name, bytes) = state.drills().challenge_file(principal, &id, &sha).await?;
    Ok(download("application/octet-stream", &name, bytes))
}

async fn response_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, response)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let (name, bytes) = state.drills().response_file(principal, &id, &response).await?;
    Ok(download("application/octet-stream", &name, bytes))
}

/// The portal's live stream: an event named `change` with the exercise's
/// revision whenever something the team may see changed. The page decides
/// whether to reload (it does not while a player is typing).
async fn play_events(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    state.drills().attend(principal, &id).await?;
    Ok(change_stream(state, id, false))
}

// ----- evaluation --------------------------------------------------------------

#[derive(Template)]
#[template(path = "drills_evaluate.html")]
struct EvaluatePage {
    c: Ctx,
    queue: Queue,
    /// Every team in the queue, for the filter: (id, name).
    teams: Vec<(String, String)>,
    team: String,
    open_only: bool,
    error: Option<String>,
}

async fn evaluate_view(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    error: Option<String>,
    query: &DoneQuery,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let mut queue = state.drills().evaluation_queue(principal, id).await?;
    let mut teams: Vec<(String, String)> = queue.items.iter().map(|i| (i.team.id.clone(), i.team.name.clone())).collect();
    teams.sort_by(|a, b| a.1.cmp(&b.1));
    teams.dedup();
    // With a hundred teams the whole queue is long: evaluators usually follow a few teams each.
    let team = query.team.clone().unwrap_or_default();
    let open_only = query.open.is_some();
    queue.items.retain(|i| (team.is_empty() || i.team.id == team) && (!open_only || i.evaluation.is_none()));
    let c = Ctx::new(state, viewer, "drills.evaluate.title", "drills");
    let c = Ctx { flash: flash_text(&c.t, query.done.as_deref()), ..c };
    let status = error.as_ref().map(|_| StatusCode::UNPROCESSABLE_ENTITY);
    render_status(&EvaluatePage { c, queue, teams, team, open_only, error }, status)
}

async fn evaluate_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    evaluate_view(&state, &viewer, &id, None, &query).await
}

/// Fields: csrf, `expectation`, `team`, `score`, `comment`.
async fn evaluate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let score: i64 = field(&form, "score").trim().parse().map_err(|_| WebError::invalid("score", "must be a whole number"))?;
    let result =
        state.drills().evaluate(&actor, &id, &field(&form, "expectation"), &field(&form, "team"), score, &field(&form, "comment")).await;
    let no_query = DoneQuery::default();
    answer(
        result,
        |()| format!("/drills/exercises/{id}/evaluate"),
        "drills.evaluate.saved",
        |message| evaluate_view(&state, &viewer, &id, Some(message), &no_query),
    )
    .await
}

// ----- the scoreboard ------------------------------------------------------------

#[derive(Template)]
#[template(path = "drills_scoreboard.html")]
struct ScoreboardPage {
    c: Ctx,
    board: Scoreboard,
    projector: bool,
}

async fn scoreboard_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let board = state.drills().scoreboard(principal, &id).await?;
    let c = Ctx::new(&state, &viewer, "drills.scoreboard.title", "drills");
    super::render(&ScoreboardPage { c, board, projector: query.projector.is_some() })
}

/// The scoreboard at most a second old: full JSON for `scoreboard.json`,
/// and a compact event for the streams (arrays instead of objects: a
/// thousand screens receive it every second).
async fn current_scoreboard(state: &AppState, id: &str) -> Result<std::sync::Arc<crate::LiveBoard>, WebError> {
    state
        .live_board(id, || async {
            let exercise = state.drills().reload(id).await?;
            let board = state.drills().scoreboard_of(&exercise).await?;
            let json = serde_json::to_string(&board).map_err(|err| WebError::Internal(err.to_string()))?;
            let compact = serde_json::json!({
                "clock": board.elapsed_text,
                "rows": board.standings.iter().map(|s| serde_json::json!([
                    s.rank, s.team, s.country, s.score, s.challenge_points, s.solves, s.expectation_points, s.hint_costs
                ])).collect::<Vec<_>>(),
                "solves": board.solves.iter().map(|e| serde_json::json!([e.elapsed_text, e.team, e.challenge, e.first])).collect::<Vec<_>>(),
            });
            let frame = axum::body::Bytes::from(format!("event: scoreboard\ndata: {compact}\n\n"));
            Ok(crate::LiveBoard { revision: board.revision, json, frame })
        })
        .await
}

async fn scoreboard_json(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    state.drills().attend(principal, &id).await?;
    let board = current_scoreboard(&state, &id).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], board.json.clone()).into_response())
}

/// The scoreboard's live stream: an event named `scoreboard` carrying the
/// whole scoreboard as JSON, at most once a second however fast flags come
/// in, and at once when a client connects.
async fn scoreboard_events(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    state.drills().attend(principal, &id).await?;
    Ok(change_stream(state, id, true))
}

/// An event stream for one exercise: after each change (coalesced to one
/// event a second), either the scoreboard (`scoreboard`, compact JSON) or
/// the bare revision (`change`). Changes made through this process arrive
/// at once; those made on another node behind the same database are
/// noticed by looking at the revision every five seconds, which also
/// sends a comment to keep proxies from closing an idle stream.
fn change_stream(state: AppState, id: String, with_board: bool) -> Response {
    static STREAMS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let spread = Duration::from_millis(STREAMS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 20 * 25);
    let receiver = state.drills().subscribe();
    let stream = futures_util::stream::unfold((state, id, receiver, None::<i64>), move |(state, id, mut receiver, seen)| async move {
        if let Some(seen) = seen {
            loop {
                tokio::select! {
                    received = receiver.recv() => match received {
                        Ok(changed) if changed == id => break,
                        Ok(_) => {}
                        // A lagging receiver missed something: look again.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    },
                    () = tokio::time::sleep(Duration::from_secs(5)) => {
                        if state.store().drill_revision(&id).await.ok().flatten().is_some_and(|now| now != seen) {
                            break;
                        }
                        let keep_alive = axum::body::Bytes::from_static(b": keep-alive\n\n");
                        return Some((Ok::<_, Infallible>(keep_alive), (state, id, receiver, Some(seen))));
                    }
                }
            }
            // Coalesce: whatever else happens in the next second rides on
            // this event; the messages of that second are skipped, not read.
            // Streams are spread over that second so a thousand of them do
            // not all write at the same instant.
            tokio::time::sleep(Duration::from_secs(1) + spread).await;
            receiver = receiver.resubscribe();
        }
        let (revision, frame) = if with_board {
            match current_scoreboard(&state, &id).await {
                Ok(board) => (board.revision, board.frame.clone()),
                Err(_) => (seen.unwrap_or(0), axum::body::Bytes::from_static(b"event: error\ndata: unavailable\n\n")),
            }
        } else {
            let revision = state.store().drill_revision(&id).await.ok().flatten().unwrap_or(0);
            (revision, axum::body::Bytes::from(format!("event: change\ndata: {revision}\n\n")))
        };
        Some((Ok(frame), (state, id, receiver, Some(revision))))
    });
    ([(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")], axum::body::Body::from_stream(stream))
        .into_response()
}

// ----- after action --------------------------------------------------------------

#[derive(Template)]
#[template(path = "drills_report.html")]
struct ReportPage {
    c: Ctx,
    report: Report,
    objectives: Vec<(String, String)>,
    may_evaluate: bool,
    error: Option<String>,
}

async fn report_view(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    error: Option<String>,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let report = state.drills().report(principal, id).await?;
    let may_evaluate = state.drills().evaluation_queue(principal, id).await.is_ok();
    let console = state.drills().console(principal, id).await?;
    let objectives = console.exercise.scenario.objectives.iter().map(|o| (o.key.clone(), o.title.clone())).collect();
    let c = Ctx::new(state, viewer, "drills.report.title", "drills");
    let c = Ctx { flash: flash_text(&c.t, done), ..c };
    let status = error.as_ref().map(|_| StatusCode::UNPROCESSABLE_ENTITY);
    render_status(&ReportPage { c, report, objectives, may_evaluate, error }, status)
}

async fn report_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    report_view(&state, &viewer, &id, None, query.done.as_deref()).await
}

async fn report_json(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let report = state.drills().report(principal, &id).await?;
    let json = serde_json::to_vec_pretty(&report).map_err(|err| WebError::Internal(err.to_string()))?;
    Ok(download("application/json", &format!("after-action-{id}.json"), json))
}

async fn report_csv(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let report = state.drills().report(principal, &id).await?;
    Ok(csv_download(&format!("after-action-{id}.csv"), report.to_csv()))
}

/// Fields: csrf, `kind`, `objective`, `observation`, `action`, `owner`, `due_on`.
async fn add_improvement(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Fields,
) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let input = ImprovementInput {
        objective: field(&form, "objective"),
        kind: field(&form, "kind"),
        observation: field(&form, "observation"),
        action: field(&form, "action"),
        owner: field(&form, "owner"),
        due_on: field(&form, "due_on"),
    };
    answer(
        state.drills().add_improvement(&actor, &id, &input).await,
        |_| format!("/drills/exercises/{id}/report"),
        "drills.report.added",
        |message| report_view(&state, &viewer, &id, Some(message), None),
    )
    .await
}

#[derive(Template)]
#[template(path = "drills_hotwash.html")]
struct HotwashPage {
    c: Ctx,
    id: String,
    title: String,
    open: bool,
    error: Option<String>,
}

async fn hotwash_view(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    error: Option<String>,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let exercise = state.drills().attend(principal, id).await?;
    let c = Ctx::new(state, viewer, "drills.hotwash.title", "drills");
    let c = Ctx { flash: flash_text(&c.t, done), ..c };
    let open = exercise.row.state == "finished" && !state.store().drill_hotwash_done(id, &principal.user_id).await?;
    let status = error.as_ref().map(|_| StatusCode::UNPROCESSABLE_ENTITY);
    render_status(&HotwashPage { c, id: id.to_owned(), title: exercise.row.title.clone(), open, error }, status)
}

async fn hotwash_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    hotwash_view(&state, &viewer, &id, None, query.done.as_deref()).await
}

/// Fields: csrf, `rating` (1–5), `went_well`, `to_improve`, `anonymous`.
async fn hotwash(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, Form(form): Fields) -> Result<Response, PageError> {
    let actor = viewer.act(&field(&form, "csrf"))?;
    let input = HotwashInput {
        rating: field(&form, "rating").trim().parse().unwrap_or(0),
        went_well: field(&form, "went_well"),
        to_improve: field(&form, "to_improve"),
        anonymous: !field(&form, "anonymous").is_empty(),
    };
    let result = state.drills().hotwash(&actor, &id, &input).await;
    answer(
        result,
        |()| format!("/drills/exercises/{id}/hotwash"),
        "drills.hotwash.thanks",
        |message| hotwash_view(&state, &viewer, &id, Some(message), None),
    )
    .await
}
