//! After the exercise: the hot wash (lessons learned, optionally
//! anonymous), the improvement plan, and the after-action report in the
//! shape exercise planners use (HSEEP's AAR/IP): objectives and how far
//! each was met, a timeline, per-team figures, strengths, areas for
//! improvement and the improvement plan with owners and dates.

use crate::error::{DrillsError, invalid};
use crate::scoring::Standing;
use crate::service::{Drills, text};
use crate::timeline::{self, mean, minutes_between};
use chrono::NaiveDate;
use rampart_auth::access::ExerciseAct;
use rampart_auth::service::Actor;
use rampart_core::time;
use rampart_store::drills::{ExpectationRow, HotwashRow, ImprovementRow};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub exercise_id: String,
    pub title: String,
    pub scenario: String,
    pub state: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_text: String,
    pub speed: f64,
    pub teams: usize,
    pub pauses: usize,
    pub objectives: Vec<ObjectiveResult>,
    /// Every expectation of every team together, whatever its objective.
    pub overall: ObjectiveResult,
    pub team_figures: Vec<TeamFigures>,
    pub timeline: Vec<TimelineEntry>,
    pub strengths: Vec<ImprovementRow>,
    pub improvements: Vec<ImprovementRow>,
    pub hotwash: HotwashSummary,
    pub standings: Vec<Standing>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectiveResult {
    pub key: String,
    pub title: String,
    pub obtained: i64,
    pub expected: i64,
    /// 0 to 100.
    pub percent: Option<f64>,
    pub met: usize,
    pub assessed: usize,
    /// HSEEP's ratings: P (performed without challenges), S (with some
    /// challenges), M (with major challenges), U (unable to be performed).
    pub rating: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamFigures {
    pub team: String,
    pub country: Option<String>,
    pub injects: usize,
    pub acknowledged: usize,
    /// Mean exercise minutes from delivery to acknowledgement and to first response.
    pub minutes_to_acknowledge: Option<f64>,
    pub minutes_to_respond: Option<f64>,
    pub expectations_met: usize,
    pub expectations: usize,
    pub solves: usize,
    pub score: i64,
    pub rank: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub elapsed: f64,
    pub elapsed_text: String,
    pub kind: &'static str,
    pub team: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HotwashSummary {
    pub answers: usize,
    pub mean_rating: Option<f64>,
    pub went_well: Vec<String>,
    pub to_improve: Vec<String>,
}

/// Input for the hot wash.
#[derive(Debug, Clone, Default)]
pub struct HotwashInput {
    pub rating: i64,
    pub went_well: String,
    pub to_improve: String,
    pub anonymous: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ImprovementInput {
    pub objective: String,
    pub kind: String,
    pub observation: String,
    pub action: String,
    pub owner: String,
    pub due_on: String,
}

fn rating(percent: Option<f64>) -> &'static str {
    match percent {
        Some(p) if p >= 90.0 => "P",
        Some(p) if p >= 60.0 => "S",
        Some(p) if p > 0.0 => "M",
        _ => "U",
    }
}

impl Drills {
    /// One hot-wash answer per person with a part in the exercise, once it
    /// is finished. Anonymous answers keep neither the person nor the team,
    /// and their time only to the day.
    pub async fn hotwash(&self, actor: &Actor<'_>, id: &str, input: &HotwashInput) -> Result<(), DrillsError> {
        let (exercise, member) = self.open(actor.principal, id, ExerciseAct::Attend).await?;
        let member = member.ok_or(DrillsError::Forbidden)?;
        if exercise.row.state != "finished" {
            return Err(DrillsError::State("the hot wash opens when the exercise is finished".into()));
        }
        if !(1..=5).contains(&input.rating) {
            return Err(invalid("rating", "must be from 1 to 5"));
        }
        let now = self.now();
        let row = HotwashRow {
            id: self.fresh_id(),
            exercise_id: id.to_owned(),
            user_id: (!input.anonymous).then(|| member.user_id.clone()),
            team_id: if input.anonymous { None } else { member.team_id.clone() },
            rating: input.rating,
            went_well: text("went_well", &input.went_well, 5_000, false)?,
            to_improve: text("to_improve", &input.to_improve, 5_000, false)?,
            at: if input.anonymous { format!("{}T00:00:00.000Z", now.date_naive()) } else { time::format(now) },
        };
        let mut tx = self.store.begin().await?;
        if !tx.drill_hotwash_insert(&row, &member.user_id).await? {
            tx.rollback().await?;
            return Err(DrillsError::State("you have already answered the hot wash".into()));
        }
        // The audit entry says someone answered, never what, when anonymous.
        let summary = json!({"anonymous": input.anonymous});
        self.commit(tx, actor.entry("drills.hotwash.answer", "drill_exercise", Some(id), summary), None).await
    }

    pub async fn add_improvement(&self, actor: &Actor<'_>, id: &str, input: &ImprovementInput) -> Result<String, DrillsError> {
        let (exercise, _) = self.open(actor.principal, id, ExerciseAct::Evaluate).await?;
        let kind = input.kind.trim();
        if !matches!(kind, "strength" | "improvement") {
            return Err(invalid("kind", "must be strength or improvement"));
        }
        let objective = input.objective.trim();
        let objective = if objective.is_empty() {
            None
        } else if exercise.scenario.objectives.iter().any(|o| o.key == objective) {
            Some(objective.to_owned())
        } else {
            return Err(invalid("objective", format!("{objective:?} is not an objective of the scenario")));
        };
        let due_on = match input.due_on.trim() {
            "" => None,
            date => Some(
                NaiveDate::parse_from_str(date, "%Y-%m-%d")
                    .map_err(|_| invalid("due_on", format!("{date:?} is not a date (YYYY-MM-DD)")))?
                    .to_string(),
            ),
        };
        let is_improvement = kind == "improvement";
        let row = ImprovementRow {
            id: self.fresh_id(),
            exercise_id: id.to_owned(),
            objective,
            kind: kind.to_owned(),
            observation: text("observation", &input.observation, 5_000, true)?,
            action: text("action", &input.action, 5_000, is_improvement)?,
            owner: text("owner", &input.owner, 200, is_improvement)?,
            due_on,
            created_by: actor.principal.email.clone(),
            created_at: time::format(self.now()),
        };
        if is_improvement && row.due_on.is_none() {
            return Err(invalid("due_on", "an improvement needs a date"));
        }
        let mut tx = self.store.begin().await?;
        tx.drill_improvement_insert(&row).await?;
        let summary = json!({"kind": row.kind, "objective": row.objective, "owner": row.owner, "due_on": row.due_on});
        self.commit(tx, actor.entry("drills.improvement.create", "drill_exercise", Some(id), summary), None).await?;
        Ok(row.id)
    }

    pub async fn report(&self, principal: &rampart_auth::Principal, id: &str) -> Result<Report, DrillsError> {
        let (exercise, _) = self.open(principal, id, ExerciseAct::Observe).await?;
        let teams = self.store.drill_teams(id).await?;
        let names: HashMap<String, String> = teams.iter().map(|t| (t.id.clone(), t.name.clone())).collect();
        let injects = self.store.drill_injects(id).await?;
        let deliveries = self.store.drill_deliveries(id).await?;
        let responses = self.store.drill_responses(id).await?;
        let expectations = self.store.drill_expectations(id).await?;
        let evaluations = self.store.drill_evaluations(id).await?;
        let solves = self.store.drill_solves(id).await?;
        let pauses = self.store.drill_pauses(id).await?;
        let outcomes = self.outcomes(id).await?;
        let standings = self.standings(id).await?;

        // Obtained over expected, for every team that received each expectation's inject.
        let roll_up = |key: &str, title: &str, counts: &dyn Fn(&ExpectationRow) -> bool| {
            let (mut obtained, mut expected, mut met, mut assessed) = (0, 0, 0, 0);
            for expectation in expectations.iter().filter(|e| counts(e)) {
                for delivery in deliveries.iter().filter(|d| d.inject_key == expectation.inject_key) {
                    expected += expectation.expected_score;
                    assessed += 1;
                    if let Some(outcome) = outcomes.get(&(expectation.key.clone(), delivery.team_id.clone())) {
                        obtained += outcome.points;
                        met += usize::from(outcome.met);
                    }
                }
            }
            let percent = (expected > 0).then(|| (obtained as f64 * 1000.0 / expected as f64).round() / 10.0);
            ObjectiveResult {
                key: key.to_owned(),
                title: title.to_owned(),
                obtained,
                expected,
                percent,
                met,
                assessed,
                rating: rating(percent),
            }
        };
        let objectives: Vec<ObjectiveResult> = exercise
            .scenario
            .objectives
            .iter()
            .map(|o| roll_up(&o.key, &o.title, &|e| e.objective.as_deref() == Some(o.key.as_str())))
            .collect();
        let overall = roll_up("overall", "", &|_| true);

        let team_figures = teams
            .iter()
            .map(|team| {
                let mine: Vec<_> = deliveries.iter().filter(|d| d.team_id == team.id).collect();
                let to_ack: Vec<f64> =
                    mine.iter().filter_map(|d| d.acknowledged_elapsed.map(|a| minutes_between(d.delivered_elapsed, a))).collect();
                let to_respond: Vec<f64> = mine
                    .iter()
                    .filter_map(|d| {
                        responses
                            .iter()
                            .filter(|r| r.team_id == team.id && r.inject_key == d.inject_key)
                            .map(|r| r.elapsed)
                            .reduce(f64::min)
                            .map(|first| minutes_between(d.delivered_elapsed, first))
                    })
                    .collect();
                let theirs: Vec<_> = expectations.iter().filter(|e| mine.iter().any(|d| d.inject_key == e.inject_key)).collect();
                let standing = standings.iter().find(|s| s.team_id == team.id);
                TeamFigures {
                    team: team.name.clone(),
                    country: team.country.clone(),
                    injects: mine.len(),
                    acknowledged: mine.iter().filter(|d| d.acknowledged_at.is_some()).count(),
                    minutes_to_acknowledge: mean(&to_ack),
                    minutes_to_respond: mean(&to_respond),
                    expectations_met: theirs
                        .iter()
                        .filter(|e| outcomes.get(&(e.key.clone(), team.id.clone())).is_some_and(|o| o.met))
                        .count(),
                    expectations: theirs.len(),
                    solves: solves.iter().filter(|s| s.team_id == team.id).count(),
                    score: standing.map_or(0, |s| s.score),
                    rank: standing.map_or(0, |s| s.rank),
                }
            })
            .collect();

        let titles: HashMap<&str, &str> = injects.iter().map(|i| (i.key.as_str(), i.title.as_str())).collect();
        let mut entries = Vec::new();
        let entry = |elapsed: f64, kind: &'static str, team: Option<&String>, text: String| TimelineEntry {
            elapsed,
            elapsed_text: timeline::format_elapsed(elapsed),
            kind,
            team: team.and_then(|t| names.get(t)).cloned(),
            text,
        };
        for inject in injects.iter().filter(|i| i.delivered_elapsed.is_some()) {
            let at = inject.delivered_elapsed.unwrap_or_default();
            entries.push(entry(at, "inject", None, format!("{} {}", inject.key, inject.title)));
        }
        for response in &responses {
            let title = titles.get(response.inject_key.as_str()).copied().unwrap_or("");
            entries.push(entry(response.elapsed, "response", Some(&response.team_id), format!("{} {title}", response.inject_key)));
        }
        for evaluation in &evaluations {
            let title = expectations.iter().find(|e| e.key == evaluation.expectation_key).map_or("", |e| e.title.as_str());
            entries.push(entry(
                evaluation.elapsed,
                "evaluation",
                Some(&evaluation.team_id),
                format!("{title}: {} ({})", evaluation.score, evaluation.comment),
            ));
        }
        for solve in &solves {
            entries.push(entry(solve.elapsed, "solve", Some(&solve.team_id), solve.challenge_key.clone()));
        }
        for pause in &pauses {
            entries.push(entry(pause.paused_elapsed, "pause", None, format!("{} {}", pause.paused_by, pause.reason)));
        }
        entries.sort_by(|a, b| a.elapsed.total_cmp(&b.elapsed));

        let plan = self.store.drill_improvements(id).await?;
        let (strengths, improvements): (Vec<_>, Vec<_>) = plan.into_iter().partition(|i| i.kind == "strength");
        let hotwash = self.store.drill_hotwash(id).await?;
        let ratings: Vec<f64> = hotwash.iter().map(|h| h.rating as f64).collect();
        Ok(Report {
            exercise_id: id.to_owned(),
            title: exercise.row.title.clone(),
            scenario: exercise.scenario.title.clone(),
            state: exercise.row.state.clone(),
            started_at: exercise.row.started_at.clone(),
            ended_at: exercise.row.ended_at.clone(),
            duration_text: exercise.elapsed_text.clone(),
            speed: exercise.row.speed,
            teams: teams.len(),
            pauses: pauses.len(),
            objectives,
            overall,
            team_figures,
            timeline: entries,
            strengths,
            improvements,
            hotwash: HotwashSummary {
                answers: hotwash.len(),
                mean_rating: mean(&ratings),
                went_well: hotwash.iter().map(|h| h.went_well.clone()).filter(|t| !t.is_empty()).collect(),
                to_improve: hotwash.iter().map(|h| h.to_improve.clone()).filter(|t| !t.is_empty()).collect(),
            },
            standings,
        })
    }
}

impl Report {
    /// The report as CSV: one section per block, named in the first column,
    /// so a spreadsheet user can filter by section.
    pub fn to_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut row = |cells: &[String]| {
            let _ = writer.write_record(cells.iter().map(|c| rampart_core::spreadsheet::defuse(c)));
        };
        let s = |v: &str| v.to_owned();
        let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        row(&[s("section"), s("a"), s("b"), s("c"), s("d"), s("e"), s("f"), s("g")]);
        row(&[
            s("exercise"),
            self.title.clone(),
            self.scenario.clone(),
            self.state.clone(),
            self.duration_text.clone(),
            self.teams.to_string(),
            String::new(),
            String::new(),
        ]);
        row(&[s("objective"), s("key"), s("title"), s("obtained"), s("expected"), s("percent"), s("rating"), s("met/assessed")]);
        for o in self.objectives.iter().chain([&self.overall]) {
            row(&[
                s("objective"),
                o.key.clone(),
                o.title.clone(),
                o.obtained.to_string(),
                o.expected.to_string(),
                opt(o.percent),
                o.rating.to_owned(),
                format!("{}/{}", o.met, o.assessed),
            ]);
        }
        row(&[
            s("team"),
            s("team"),
            s("country"),
            s("minutes_to_acknowledge"),
            s("minutes_to_respond"),
            s("expectations_met"),
            s("score"),
            s("rank"),
        ]);
        for t in &self.team_figures {
            row(&[
                s("team"),
                t.team.clone(),
                t.country.clone().unwrap_or_default(),
                opt(t.minutes_to_acknowledge),
                opt(t.minutes_to_respond),
                format!("{}/{}", t.expectations_met, t.expectations),
                t.score.to_string(),
                t.rank.to_string(),
            ]);
        }
        row(&[s("plan"), s("kind"), s("objective"), s("observation"), s("action"), s("owner"), s("due_on"), String::new()]);
        for i in self.strengths.iter().chain(&self.improvements) {
            row(&[
                s("plan"),
                i.kind.clone(),
                i.objective.clone().unwrap_or_default(),
                i.observation.clone(),
                i.action.clone(),
                i.owner.clone(),
                i.due_on.clone().unwrap_or_default(),
                String::new(),
            ]);
        }
        row(&[s("timeline"), s("elapsed"), s("kind"), s("team"), s("text"), String::new(), String::new(), String::new()]);
        for e in &self.timeline {
            row(&[
                s("timeline"),
                e.elapsed_text.clone(),
                e.kind.to_owned(),
                e.team.clone().unwrap_or_default(),
                e.text.clone(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}
