//! The player portal: a team's inbox, responses, team log, challenges,
//! flags and hints.
//!
//! Flag submission is correct under concurrency: the attempt limit is taken
//! by a conditional UPDATE and the solve by a primary key, inside one
//! transaction, so racing submissions neither exceed the limit nor score
//! twice. Wrong answers are rate-limited per player and exercise.

use crate::error::{DrillsError, invalid};
use crate::flags::{self, FlagSpec};
use crate::scenario::Hint;
use crate::scoring;
use crate::service::{Drills, Exercise, sha256_hex, text};
use crate::timeline;
use rampart_auth::Principal;
use rampart_auth::access::{ExerciseAct, ExerciseRole};
use rampart_auth::service::Actor;
use rampart_core::time;
use rampart_store::drills::{
    AttemptRow, ChallengeRow, DeliveryRow, HintUnlockRow, InjectRow, MemberRow, ResponseRow, SolveRow, TeamLogRow, TeamRow,
};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};

const MAX_RESPONSE_FILE: usize = 10 * 1024 * 1024;

/// What the frequent player requests need of the exercise.
struct Light {
    state: String,
    elapsed: f64,
}

/// What one player sees.
#[derive(Debug, Clone, Serialize)]
pub struct PlayerView {
    pub exercise: Exercise,
    pub team: TeamRow,
    pub inbox: Vec<InboxItem>,
    pub log: Vec<TeamLogRow>,
    pub challenges: Vec<ChallengeView>,
    pub score: i64,
    pub rank: Option<usize>,
    pub teams: usize,
    pub comm_check_pending: bool,
    pub hotwash_open: bool,
    pub hotwash_done: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct InboxItem {
    pub inject: InjectRow,
    pub delivery: DeliveryRow,
    pub delivered_text: String,
    pub responses: Vec<ResponseRow>,
    /// What the team is expected to do, without the scores.
    pub expectations: Vec<String>,
    pub files: Vec<FileView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChallengeView {
    pub key: String,
    pub title: String,
    pub category: String,
    pub description: String,
    pub value: i64,
    pub solves: usize,
    pub solved: bool,
    pub first_solve: bool,
    /// None when unlimited.
    pub attempts_left: Option<i64>,
    pub locked_by: Vec<String>,
    pub hints: Vec<HintView>,
    pub files: Vec<FileView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HintView {
    pub index: usize,
    pub cost: i64,
    /// The text once the team unlocked it.
    pub text: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct FileView {
    pub name: String,
    pub sha256: String,
    pub size: usize,
}

/// The answer to a flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FlagOutcome {
    Correct { points: i64, first: bool },
    Wrong { attempts_left: Option<i64> },
    AlreadySolved,
}

impl Drills {
    /// The player's exercise, team and membership; only players play.
    async fn player(&self, principal: &Principal, id: &str) -> Result<(Exercise, MemberRow, TeamRow), DrillsError> {
        let (exercise, member) = self.open(principal, id, ExerciseAct::Play).await?;
        let (member, team) = self.team_of(id, member).await?;
        Ok((exercise, member, team))
    }

    /// As [`Self::player`] without the scenario: the exercise row and its
    /// elapsed time, for flags, hints, answers and acknowledgements.
    async fn player_light(&self, principal: &Principal, id: &str) -> Result<(Light, MemberRow, TeamRow), DrillsError> {
        let (row, elapsed) = self.load_row(id).await?;
        let member = self.part(id, principal).await?;
        let part = member.as_ref().and_then(|m| ExerciseRole::parse(&m.role));
        let owner = rampart_auth::access::Target::Org { id: &row.owner_org_id, country: None };
        if !rampart_auth::access::may_in_exercise(principal, owner, part, ExerciseAct::Play) {
            return Err(if part.is_none() { DrillsError::NotFound("exercise") } else { DrillsError::Forbidden });
        }
        let (member, team) = self.team_of(id, member).await?;
        Ok((Light { state: row.state, elapsed }, member, team))
    }

    async fn team_of(&self, id: &str, member: Option<MemberRow>) -> Result<(MemberRow, TeamRow), DrillsError> {
        let member = member.ok_or(DrillsError::Forbidden)?;
        let team_id = member.team_id.clone().ok_or_else(|| DrillsError::State("you are not in a team".into()))?;
        let team = self.store.drill_team(id, &team_id).await?.ok_or(DrillsError::NotFound("team"))?;
        Ok((member, team))
    }

    fn under_way(state: &str) -> Result<(), DrillsError> {
        match state {
            "running" => Ok(()),
            "paused" => Err(DrillsError::State("the exercise is paused".into())),
            "scheduled" => Err(DrillsError::State("the exercise has not started".into())),
            _ => Err(DrillsError::State("the exercise is over".into())),
        }
    }

    pub async fn player_view(&self, principal: &Principal, id: &str) -> Result<PlayerView, DrillsError> {
        let (exercise, member, team) = self.player(principal, id).await?;
        let injects: HashMap<String, InjectRow> = self.store.drill_injects(id).await?.into_iter().map(|i| (i.key.clone(), i)).collect();
        let expectations = self.store.drill_expectations(id).await?;
        let responses = self.store.drill_responses(id).await?;
        let mut inbox: Vec<InboxItem> = self
            .store
            .drill_deliveries(id)
            .await?
            .into_iter()
            .filter(|d| d.team_id == team.id)
            .filter_map(|delivery| {
                let inject = injects.get(&delivery.inject_key)?.clone();
                Some(InboxItem {
                    delivered_text: timeline::format_elapsed(delivery.delivered_elapsed),
                    responses: responses.iter().filter(|r| r.team_id == team.id && r.inject_key == inject.key).cloned().collect(),
                    expectations: expectations
                        .iter()
                        .filter(|e| e.inject_key == inject.key && e.kind != "manual")
                        .map(|e| e.title.clone())
                        .collect(),
                    files: serde_json::from_str(&inject.files).unwrap_or_default(),
                    inject,
                    delivery,
                })
            })
            .collect();
        // Newest first: at 3 a.m. the latest inject is what matters.
        inbox.sort_by(|a, b| {
            b.delivery
                .delivered_elapsed
                .total_cmp(&a.delivery.delivered_elapsed)
                .then(b.inject.offset_seconds.cmp(&a.inject.offset_seconds))
        });
        let board = self.standings(id).await?;
        let standing = board.iter().find(|s| s.team_id == team.id);
        Ok(PlayerView {
            challenges: self.challenge_views(id, &team.id).await?,
            log: self.store.drill_team_log(id, &team.id).await?,
            score: standing.map_or(0, |s| s.score),
            rank: standing.map(|s| s.rank),
            teams: board.len(),
            comm_check_pending: team.comm_check_sent_at.is_some() && team.comm_check_confirmed_at.is_none(),
            hotwash_open: exercise.row.state == "finished",
            hotwash_done: self.store.drill_hotwash_done(id, &member.user_id).await?,
            inbox,
            team,
            exercise,
        })
    }

    async fn challenge_views(&self, id: &str, team: &str) -> Result<Vec<ChallengeView>, DrillsError> {
        let solves = self.store.drill_solves(id).await?;
        let unlocks = self.store.drill_hint_unlocks(id).await?;
        let counts: HashMap<(String, String), i64> =
            self.store.drill_attempt_counts(id).await?.into_iter().map(|(c, t, n)| ((c, t), n)).collect();
        let solved_by_team: HashSet<&str> = solves.iter().filter(|s| s.team_id == team).map(|s| s.challenge_key.as_str()).collect();
        let mut views = Vec::new();
        for challenge in self.store.drill_challenges(id).await? {
            let of_this: Vec<&SolveRow> = solves.iter().filter(|s| s.challenge_key == challenge.key).collect();
            let prerequisites: Vec<String> = serde_json::from_str(&challenge.prerequisites).unwrap_or_default();
            let locked_by: Vec<String> = prerequisites.into_iter().filter(|p| !solved_by_team.contains(p.as_str())).collect();
            let hints: Vec<Hint> = serde_json::from_str(&challenge.hints).unwrap_or_default();
            let used = counts.get(&(challenge.key.clone(), team.to_owned())).copied().unwrap_or(0);
            views.push(ChallengeView {
                value: scoring::challenge_value(
                    &challenge.scoring,
                    challenge.initial,
                    challenge.minimum,
                    challenge.decay,
                    of_this.len() as i64,
                ),
                solves: of_this.len(),
                solved: solved_by_team.contains(challenge.key.as_str()),
                first_solve: of_this.first().is_some_and(|s| s.team_id == team),
                attempts_left: (challenge.max_attempts > 0).then(|| (challenge.max_attempts - used).max(0)),
                hints: hints
                    .into_iter()
                    .enumerate()
                    .map(|(index, hint)| HintView {
                        index,
                        cost: hint.cost,
                        text: unlocks
                            .iter()
                            .any(|u| u.challenge_key == challenge.key && u.team_id == team && u.hint_index == index as i64)
                            .then_some(hint.text),
                    })
                    .collect(),
                files: serde_json::from_str(&challenge.files).unwrap_or_default(),
                // A locked challenge shows its title only.
                description: if locked_by.is_empty() { challenge.description.clone() } else { String::new() },
                locked_by,
                key: challenge.key,
                title: challenge.title,
                category: challenge.category,
            });
        }
        Ok(views)
    }

    /// A file of a challenge or an inject. Staff read every file; a player
    /// only those of injects their team has received and of challenges
    /// their team has unlocked, so nothing of what is still to come leaks.
    pub async fn challenge_file(&self, principal: &Principal, id: &str, sha256: &str) -> Result<(String, Vec<u8>), DrillsError> {
        if self.open(principal, id, ExerciseAct::Observe).await.is_err() {
            let (_, _, team) = self.player_light(principal, id).await?;
            let listed = |files: &str| serde_json::from_str::<Vec<FileView>>(files).unwrap_or_default().iter().any(|f| f.sha256 == sha256);
            let mut allowed = false;
            for inject in self.store.drill_injects(id).await?.iter().filter(|i| listed(&i.files)) {
                allowed |= self.store.drill_delivered(id, &inject.key, &team.id).await?;
            }
            if !allowed {
                let solved: Vec<String> = self.store.drill_solves_of(id, &team.id).await?.into_iter().map(|s| s.challenge_key).collect();
                allowed =
                    self.store.drill_challenges(id).await?.iter().filter(|c| listed(&c.files)).any(|c| {
                        serde_json::from_str::<Vec<String>>(&c.prerequisites).unwrap_or_default().iter().all(|p| solved.contains(p))
                    });
            }
            if !allowed {
                return Err(DrillsError::NotFound("file"));
            }
        }
        self.store.drill_file(id, sha256).await?.ok_or(DrillsError::NotFound("file"))
    }

    pub async fn acknowledge(&self, actor: &Actor<'_>, id: &str, inject: &str) -> Result<bool, DrillsError> {
        let (exercise, _, team) = self.player_light(actor.principal, id).await?;
        let mut tx = self.store.begin().await?;
        let done = tx.drill_delivery_ack(id, inject, &team.id, &time::format(self.now()), exercise.elapsed, &actor.principal.email).await?;
        if !done {
            tx.rollback().await?;
            return Ok(false);
        }
        let summary = json!({"inject": inject, "team": team.name, "elapsed": exercise.elapsed.round()});
        self.commit(tx, actor.entry("drills.inject.acknowledge", "drill_exercise", Some(id), summary), Some(id)).await?;
        Ok(true)
    }

    /// A player's answer to an inject their team received, with an optional file.
    pub async fn respond(
        &self,
        actor: &Actor<'_>,
        id: &str,
        inject: &str,
        body: &str,
        file: Option<(&str, &[u8])>,
    ) -> Result<String, DrillsError> {
        let (exercise, member, team) = self.player_light(actor.principal, id).await?;
        Self::under_way(&exercise.state)?;
        if !self.store.drill_delivered(id, inject, &team.id).await? {
            return Err(DrillsError::NotFound("inject"));
        }
        let body = text("body", body, 20_000, file.is_none())?;
        let file = match file {
            Some((name, bytes)) => {
                let name = text("file", name, 200, true)?;
                if name.contains(['/', '\\']) || bytes.is_empty() || bytes.len() > MAX_RESPONSE_FILE {
                    return Err(invalid("file", "a file of at most 10 MiB with a plain name"));
                }
                Some((name, bytes))
            }
            None => None,
        };
        let response_id = self.fresh_id();
        let row = ResponseRow {
            id: response_id.clone(),
            exercise_id: id.to_owned(),
            inject_key: inject.to_owned(),
            team_id: team.id.clone(),
            user_id: member.user_id.clone(),
            body,
            file_name: file.as_ref().map(|(n, _)| n.clone()),
            file_sha256: file.as_ref().map(|(_, b)| sha256_hex(b)),
            at: time::format(self.now()),
            elapsed: exercise.elapsed,
        };
        let mut tx = self.store.begin().await?;
        tx.drill_response_insert(&row, file.map(|(_, b)| b)).await?;
        // Answering also acknowledges.
        tx.drill_delivery_ack(id, inject, &team.id, &row.at, exercise.elapsed, &actor.principal.email).await?;
        let summary = json!({"inject": inject, "team": team.name, "file": row.file_name, "sha256": row.file_sha256});
        self.commit(tx, actor.entry("drills.response.create", "drill_response", Some(&response_id), summary), Some(id)).await?;
        // A response may release injects that wait on it.
        self.deliver_due(id).await?;
        Ok(response_id)
    }

    /// A response's file, for its team and the exercise's staff.
    pub async fn response_file(&self, principal: &Principal, id: &str, response: &str) -> Result<(String, Vec<u8>), DrillsError> {
        let responses = self.store.drill_responses(id).await?;
        let row = responses.iter().find(|r| r.id == response).ok_or(DrillsError::NotFound("response"))?;
        if self.open(principal, id, ExerciseAct::Observe).await.is_err() {
            let (_, _, team) = self.player(principal, id).await?;
            if team.id != row.team_id {
                return Err(DrillsError::NotFound("response"));
            }
        }
        self.store.drill_response_file(id, response).await?.ok_or(DrillsError::NotFound("file"))
    }

    pub async fn add_log(&self, actor: &Actor<'_>, id: &str, body: &str) -> Result<(), DrillsError> {
        let (exercise, member, team) = self.player_light(actor.principal, id).await?;
        let body = text("body", body, 5_000, true)?;
        let row = TeamLogRow {
            id: self.fresh_id(),
            exercise_id: id.to_owned(),
            team_id: team.id.clone(),
            user_id: member.user_id,
            body,
            at: time::format(self.now()),
            elapsed: exercise.elapsed,
        };
        let mut tx = self.store.begin().await?;
        tx.drill_team_log_insert(&row).await?;
        self.commit(tx, actor.entry("drills.log.create", "drill_exercise", Some(id), json!({"team": team.name})), Some(id)).await
    }

    pub async fn confirm_comm_check(&self, actor: &Actor<'_>, id: &str) -> Result<(), DrillsError> {
        let (_, _, team) = self.player_light(actor.principal, id).await?;
        let mut tx = self.store.begin().await?;
        if !tx.drill_comm_check_confirm(id, &team.id, &time::format(self.now()), &actor.principal.email).await? {
            tx.rollback().await?;
            return Err(DrillsError::State("there is no communication check to confirm".into()));
        }
        self.commit(tx, actor.entry("drills.commcheck.confirm", "drill_exercise", Some(id), json!({"team": team.name})), Some(id)).await
    }

    async fn challenge(&self, id: &str, key: &str) -> Result<ChallengeRow, DrillsError> {
        self.store.drill_challenge(id, key).await?.ok_or(DrillsError::NotFound("challenge"))
    }

    /// Checks a flag for the player's team. Wrong answers count against the
    /// attempt limit and the per-minute limit; an answer to a solved
    /// challenge counts against neither.
    pub async fn submit_flag(&self, actor: &Actor<'_>, id: &str, key: &str, submission: &str) -> Result<FlagOutcome, DrillsError> {
        let (exercise, member, team) = self.player_light(actor.principal, id).await?;
        Self::under_way(&exercise.state)?;
        let challenge = self.challenge(id, key).await?;
        let solved: Vec<String> = self.store.drill_solves_of(id, &team.id).await?.into_iter().map(|s| s.challenge_key).collect();
        if solved.iter().any(|c| c == key) {
            return Ok(FlagOutcome::AlreadySolved);
        }
        let prerequisites: Vec<String> = serde_json::from_str(&challenge.prerequisites).unwrap_or_default();
        if prerequisites.iter().any(|p| !solved.contains(p)) {
            return Err(DrillsError::State("solve the challenges this one builds on first".into()));
        }
        let flag_specs: Vec<FlagSpec> =
            serde_json::from_str(&challenge.flags).map_err(|err| DrillsError::State(format!("stored flags are unreadable: {err}")))?;
        let correct = flags::any_matches(&flag_specs, submission);
        let now = self.now();
        if !correct && !self.wrong_flags.check(&format!("{id}/{}", member.user_id), now) {
            return Err(DrillsError::RateLimited { retry_after: 60 });
        }
        let mut tx = self.store.begin().await?;
        // Nothing below reads through the pool while the transaction holds
        // its connection: under a burst, every pooled connection could be
        // a transaction waiting on this one.
        let Some(used) = tx.drill_attempt_take(id, key, &team.id, challenge.max_attempts).await? else {
            tx.rollback().await?;
            return Ok(FlagOutcome::Wrong { attempts_left: Some(0) });
        };
        let at = time::format(now);
        tx.drill_attempt_insert(&AttemptRow {
            id: self.fresh_id(),
            exercise_id: id.to_owned(),
            challenge_key: key.to_owned(),
            team_id: team.id.clone(),
            user_id: member.user_id.clone(),
            correct: i64::from(correct),
            // A right answer is never kept; a wrong one helps organisers spot a broken flag.
            submitted: (!correct).then(|| submission.trim().chars().take(flags::MAX_SUBMISSION).collect()),
            at: at.clone(),
        })
        .await?;
        let outcome = if correct {
            let row = SolveRow {
                exercise_id: id.to_owned(),
                challenge_key: key.to_owned(),
                team_id: team.id.clone(),
                user_id: member.user_id.clone(),
                at: at.clone(),
                elapsed: exercise.elapsed,
            };
            if tx.drill_solve_insert(&row).await? {
                let count = tx.drill_solve_count(id, key).await?;
                let points = scoring::challenge_value(&challenge.scoring, challenge.initial, challenge.minimum, challenge.decay, count);
                FlagOutcome::Correct { points, first: count == 1 }
            } else {
                // A teammate's submission won the race; nothing is scored twice.
                tx.rollback().await?;
                return Ok(FlagOutcome::AlreadySolved);
            }
        } else {
            FlagOutcome::Wrong { attempts_left: (challenge.max_attempts > 0).then(|| (challenge.max_attempts - used).max(0)) }
        };
        let summary = json!({"challenge": key, "team": team.name, "correct": correct});
        self.commit(tx, actor.entry("drills.flag.submit", "drill_exercise", Some(id), summary), Some(id)).await?;
        Ok(outcome)
    }

    /// Unlocks a hint for the player's team at its cost; returns its text.
    pub async fn unlock_hint(&self, actor: &Actor<'_>, id: &str, key: &str, index: usize) -> Result<String, DrillsError> {
        let (exercise, member, team) = self.player_light(actor.principal, id).await?;
        Self::under_way(&exercise.state)?;
        let challenge = self.challenge(id, key).await?;
        let hints: Vec<Hint> = serde_json::from_str(&challenge.hints).unwrap_or_default();
        let hint = hints.get(index).ok_or(DrillsError::NotFound("hint"))?;
        let mut tx = self.store.begin().await?;
        let row = HintUnlockRow {
            exercise_id: id.to_owned(),
            challenge_key: key.to_owned(),
            hint_index: index as i64,
            team_id: team.id.clone(),
            user_id: member.user_id,
            cost: hint.cost,
            at: time::format(self.now()),
        };
        if tx.drill_hint_unlock(&row).await? {
            let summary = json!({"challenge": key, "hint": index, "team": team.name, "cost": hint.cost});
            self.commit(tx, actor.entry("drills.hint.unlock", "drill_exercise", Some(id), summary), Some(id)).await?;
        } else {
            tx.rollback().await?;
        }
        Ok(hint.text.clone())
    }
}
