//! Evaluation and the scoreboard.
//!
//! Evaluators score each expectation per team; `text` and `document`
//! expectations wait for a response (from every player when the scope is
//! `all`), `manual` ones are scored on what evaluators observed, and
//! `challenge` ones score themselves when the team solves the challenge in
//! time. A team's score is its evaluated points plus the current value of
//! the challenges it solved, less the hints it unlocked; a challenge
//! expectation adds no points of its own (the challenge already does) but
//! counts towards its objective.

use crate::error::{DrillsError, invalid};
use crate::scoring::{self, Award, Standing};
use crate::service::{Drills, Exercise, text};
use crate::timeline;
use chrono::{DateTime, Utc};
use rampart_auth::Principal;
use rampart_auth::access::ExerciseAct;
use rampart_auth::service::Actor;
use rampart_core::time;
use rampart_store::drills::{DeliveryRow, EvaluationRow, ExpectationRow, InjectRow, ResponseRow, TeamRow};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub expectation: ExpectationRow,
    pub inject: InjectRow,
    pub team: TeamRow,
    pub delivered_text: String,
    pub responses: Vec<ResponseRow>,
    /// Players of the team who answered, and how many there are.
    pub answered: usize,
    pub players: usize,
    /// True when a response is needed and not all are in yet.
    pub waiting: bool,
    /// The response came after the deadline (or none came before it passed).
    pub late: bool,
    pub evaluation: Option<EvaluationRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Queue {
    pub exercise: Exercise,
    pub items: Vec<QueueItem>,
    pub pending: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scoreboard {
    pub exercise_id: String,
    pub title: String,
    pub state: String,
    pub elapsed_text: String,
    pub revision: i64,
    pub standings: Vec<Standing>,
    /// The latest solves, newest first.
    pub solves: Vec<SolveEvent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SolveEvent {
    pub team: String,
    pub challenge: String,
    pub elapsed_text: String,
    pub first: bool,
}

/// Expectation met, for the report: (points obtained, met).
pub(crate) struct Outcome {
    pub points: i64,
    pub met: bool,
}

impl Drills {
    pub async fn evaluation_queue(&self, principal: &Principal, id: &str) -> Result<Queue, DrillsError> {
        let (exercise, _) = self.open(principal, id, ExerciseAct::Evaluate).await?;
        let teams: HashMap<String, TeamRow> = self.store.drill_teams(id).await?.into_iter().map(|t| (t.id.clone(), t)).collect();
        let injects: HashMap<String, InjectRow> = self.store.drill_injects(id).await?.into_iter().map(|i| (i.key.clone(), i)).collect();
        let members = self.store.drill_members(id).await?;
        let responses = self.store.drill_responses(id).await?;
        let evaluations = self.store.drill_evaluations(id).await?;
        let deliveries = self.store.drill_deliveries(id).await?;
        let mut items = Vec::new();
        for expectation in self.store.drill_expectations(id).await?.into_iter().filter(|e| e.kind != "challenge") {
            let Some(inject) = injects.get(&expectation.inject_key) else { continue };
            for delivery in deliveries.iter().filter(|d| d.inject_key == expectation.inject_key) {
                let Some(team) = teams.get(&delivery.team_id) else { continue };
                let theirs: Vec<ResponseRow> =
                    responses.iter().filter(|r| r.team_id == team.id && r.inject_key == inject.key).cloned().collect();
                let players = members.iter().filter(|m| m.team_id.as_deref() == Some(&team.id)).count();
                let mut answered: Vec<&str> = theirs.iter().map(|r| r.user_id.as_str()).collect();
                answered.sort_unstable();
                answered.dedup();
                let needs_response = expectation.kind != "manual";
                let enough = if expectation.scope == "all" { answered.len() >= players.max(1) } else { !answered.is_empty() };
                let deadline = expectation.deadline_seconds.map(|s| delivery.delivered_elapsed + s as f64);
                let late = deadline.is_some_and(|d| match theirs.first() {
                    Some(first) => first.elapsed > d,
                    None => exercise.elapsed > d,
                });
                items.push(QueueItem {
                    delivered_text: timeline::format_elapsed(delivery.delivered_elapsed),
                    evaluation: evaluations.iter().find(|e| e.expectation_key == expectation.key && e.team_id == team.id).cloned(),
                    waiting: needs_response && !enough,
                    answered: answered.len(),
                    players,
                    late,
                    responses: theirs,
                    expectation: expectation.clone(),
                    inject: inject.clone(),
                    team: team.clone(),
                });
            }
        }
        // Unscored and ready first, oldest delivery first: that is the evaluator's work list.
        items.sort_by(|a, b| {
            (a.evaluation.is_some(), a.waiting, &a.delivered_text, &a.team.name).cmp(&(
                b.evaluation.is_some(),
                b.waiting,
                &b.delivered_text,
                &b.team.name,
            ))
        });
        let pending = items.iter().filter(|i| i.evaluation.is_none() && !i.waiting).count();
        Ok(Queue { exercise, items, pending })
    }

    /// Scores one expectation for one team (0 to its expected score); a
    /// second evaluation replaces the first and both are in the audit log.
    pub async fn evaluate(
        &self,
        actor: &Actor<'_>,
        id: &str,
        expectation: &str,
        team: &str,
        score: i64,
        comment: &str,
    ) -> Result<(), DrillsError> {
        let (exercise, _) = self.open(actor.principal, id, ExerciseAct::Evaluate).await?;
        let expectation = self
            .store
            .drill_expectations(id)
            .await?
            .into_iter()
            .find(|e| e.key == expectation)
            .ok_or(DrillsError::NotFound("expectation"))?;
        if expectation.kind == "challenge" {
            return Err(invalid("expectation", "challenge expectations score themselves"));
        }
        if !(0..=expectation.expected_score).contains(&score) {
            return Err(invalid("score", format!("must be between 0 and {}", expectation.expected_score)));
        }
        let delivered =
            self.store.drill_deliveries(id).await?.into_iter().any(|d| d.inject_key == expectation.inject_key && d.team_id == team);
        if !delivered {
            return Err(DrillsError::State("the team has not received this inject".into()));
        }
        let response_id = self
            .store
            .drill_responses(id)
            .await?
            .into_iter()
            .rfind(|r| r.team_id == team && r.inject_key == expectation.inject_key)
            .map(|r| r.id);
        if expectation.kind != "manual" && response_id.is_none() {
            return Err(DrillsError::State("the team has not responded yet".into()));
        }
        let row = EvaluationRow {
            exercise_id: id.to_owned(),
            expectation_key: expectation.key.clone(),
            team_id: team.to_owned(),
            score,
            comment: text("comment", comment, 5_000, false)?,
            evaluator: actor.principal.email.clone(),
            response_id,
            at: time::format(self.now()),
            elapsed: exercise.elapsed,
        };
        let mut tx = self.store.begin().await?;
        tx.drill_evaluation_upsert(&row).await?;
        let summary = json!({"expectation": expectation.key, "team": team, "score": score, "of": expectation.expected_score});
        self.commit(tx, actor.entry("drills.evaluation.save", "drill_exercise", Some(id), summary), Some(id)).await
    }

    /// What each team obtained for each expectation: evaluated scores, and
    /// challenge expectations met by a solve before the deadline.
    pub(crate) async fn outcomes(&self, id: &str) -> Result<HashMap<(String, String), Outcome>, DrillsError> {
        let expectations = self.store.drill_expectations(id).await?;
        let deliveries: Vec<DeliveryRow> = self.store.drill_deliveries(id).await?;
        let solves = self.store.drill_solves(id).await?;
        let mut out = HashMap::new();
        for evaluation in self.store.drill_evaluations(id).await? {
            let Some(expectation) = expectations.iter().find(|e| e.key == evaluation.expectation_key) else { continue };
            out.insert(
                (evaluation.expectation_key.clone(), evaluation.team_id.clone()),
                Outcome { points: evaluation.score, met: evaluation.score >= expectation.expected_score },
            );
        }
        for expectation in expectations.iter().filter(|e| e.kind == "challenge") {
            let Some(challenge) = &expectation.challenge_key else { continue };
            for delivery in deliveries.iter().filter(|d| d.inject_key == expectation.inject_key) {
                let solve = solves.iter().find(|s| &s.challenge_key == challenge && s.team_id == delivery.team_id);
                let in_time =
                    solve.is_some_and(|s| expectation.deadline_seconds.is_none_or(|d| s.elapsed <= delivery.delivered_elapsed + d as f64));
                if in_time {
                    out.insert(
                        (expectation.key.clone(), delivery.team_id.clone()),
                        Outcome { points: expectation.expected_score, met: true },
                    );
                }
            }
        }
        Ok(out)
    }

    /// Every team's standing, ranked.
    pub(crate) async fn standings(&self, id: &str) -> Result<Vec<Standing>, DrillsError> {
        let teams = self.store.drill_teams(id).await?;
        let challenges = self.store.drill_challenges(id).await?;
        let solves = self.store.drill_solves(id).await?;
        let unlocks = self.store.drill_hint_unlocks(id).await?;
        let evaluations = self.store.drill_evaluations(id).await?;
        let mut solve_counts: HashMap<&str, i64> = HashMap::new();
        for solve in &solves {
            *solve_counts.entry(solve.challenge_key.as_str()).or_insert(0) += 1;
        }
        let values: HashMap<&str, i64> = challenges
            .iter()
            .map(|c| {
                let count = solve_counts.get(c.key.as_str()).copied().unwrap_or(0);
                (c.key.as_str(), scoring::challenge_value(&c.scoring, c.initial, c.minimum, c.decay, count))
            })
            .collect();
        let parse = |text: &str| time::parse(text).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut awards: Vec<Award> = Vec::new();
        awards.extend(solves.iter().map(|s| Award { team_id: s.team_id.clone(), points: 0, at: parse(&s.at), counts_for_tie: true }));
        awards.extend(evaluations.iter().filter(|e| e.score > 0).map(|e| Award {
            team_id: e.team_id.clone(),
            points: e.score,
            at: parse(&e.at),
            counts_for_tie: true,
        }));
        let reached = scoring::reached_at(&awards);
        let mut standings: Vec<Standing> = teams
            .into_iter()
            .map(|team| {
                let mine: Vec<_> = solves.iter().filter(|s| s.team_id == team.id).collect();
                let challenge_points: i64 = mine.iter().map(|s| values.get(s.challenge_key.as_str()).copied().unwrap_or(0)).sum();
                let expectation_points: i64 = evaluations.iter().filter(|e| e.team_id == team.id).map(|e| e.score).sum();
                let hint_costs: i64 = unlocks.iter().filter(|u| u.team_id == team.id).map(|u| u.cost).sum();
                Standing {
                    rank: 0,
                    score: challenge_points + expectation_points - hint_costs,
                    challenge_points,
                    expectation_points,
                    hint_costs,
                    solves: mine.len(),
                    reached_at: reached.get(&team.id).copied(),
                    team_id: team.id,
                    team: team.name,
                    country: team.country,
                }
            })
            .collect();
        scoring::rank(&mut standings);
        Ok(standings)
    }

    /// The scoreboard, for players, staff and the projector.
    pub async fn scoreboard(&self, principal: &Principal, id: &str) -> Result<Scoreboard, DrillsError> {
        let (exercise, _) = self.open(principal, id, ExerciseAct::Attend).await?;
        self.scoreboard_of(&exercise).await
    }

    /// The scoreboard without an access check, for callers that made one.
    pub async fn scoreboard_of(&self, exercise: &Exercise) -> Result<Scoreboard, DrillsError> {
        let id = exercise.id();
        let teams: HashMap<String, String> = self.store.drill_teams(id).await?.into_iter().map(|t| (t.id, t.name)).collect();
        let titles: HashMap<String, String> = self.store.drill_challenges(id).await?.into_iter().map(|c| (c.key, c.title)).collect();
        let solves = self.store.drill_solves(id).await?;
        let mut firsts: HashMap<&str, &str> = HashMap::new();
        for solve in &solves {
            firsts.entry(solve.challenge_key.as_str()).or_insert(solve.team_id.as_str());
        }
        let mut events: Vec<SolveEvent> = solves
            .iter()
            .map(|s| SolveEvent {
                team: teams.get(&s.team_id).cloned().unwrap_or_default(),
                challenge: titles.get(&s.challenge_key).cloned().unwrap_or_else(|| s.challenge_key.clone()),
                elapsed_text: timeline::format_elapsed(s.elapsed),
                first: firsts.get(s.challenge_key.as_str()) == Some(&s.team_id.as_str()),
            })
            .collect();
        events.reverse();
        events.truncate(20);
        Ok(Scoreboard {
            exercise_id: id.to_owned(),
            title: exercise.row.title.clone(),
            state: exercise.row.state.clone(),
            elapsed_text: exercise.elapsed_text.clone(),
            revision: self.store.drill_revision(id).await?.unwrap_or(0),
            standings: self.standings(id).await?,
            solves: events,
        })
    }

    /// Checks that someone may watch the scoreboard, returning the exercise.
    pub async fn attend(&self, principal: &Principal, id: &str) -> Result<Exercise, DrillsError> {
        Ok(self.open(principal, id, ExerciseAct::Attend).await?.0)
    }

    /// Reloads an exercise for a live view that already checked access.
    pub async fn reload(&self, id: &str) -> Result<Exercise, DrillsError> {
        self.load(id).await
    }
}
