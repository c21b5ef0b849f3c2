//! Drills over the store: scenarios, exercises and their clock, teams and
//! members, inject delivery. Playing, evaluation, the scoreboard and the
//! after-action report are in the sibling modules, on the same type.
//!
//! Who may do what is decided by `rampart_auth::access::may_in_exercise`
//! (the owner's drill organisers, and each person's part in the exercise).
//! Every change is audited and bumps the exercise's revision, which live
//! views watch.

use crate::error::{DrillsError, invalid};
use crate::scenario::{self, Scenario};
use crate::timeline::{self, ExerciseClock};
use chrono::{DateTime, Utc};
use rampart_auth::Principal;
use rampart_auth::access::{ExerciseAct, ExerciseRole, Target, may_in_exercise};
use rampart_auth::ratelimit::RateLimiter;
use rampart_auth::service::Actor;
use rampart_core::{Clock, Permission, new_id, time};
use rampart_store::drills::{ChallengeRow, ExerciseRow, ExpectationRow, InjectRow, MemberRow, PauseRow, ScenarioRow, TeamRow};
use rampart_store::{AuditEntry, Store, WriteTx};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Wrong flags a player may submit per minute before being answered 429.
pub const WRONG_FLAGS_PER_MINUTE: u32 = 10;
const MAX_SPEED: f64 = 100.0;

pub struct Drills {
    pub(crate) store: Store,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) wrong_flags: RateLimiter,
    /// Exercise ids, sent after every committed change, for live views.
    changes: broadcast::Sender<String>,
}

/// An exercise with what every view needs to know about it.
#[derive(Debug, Clone, Serialize)]
pub struct Exercise {
    pub row: ExerciseRow,
    pub scenario: Scenario,
    pub elapsed: f64,
    pub elapsed_text: String,
    pub duration_seconds: i64,
}

impl Exercise {
    pub fn id(&self) -> &str {
        &self.row.id
    }

    pub fn clock(&self) -> ExerciseClock {
        clock_of(&self.row)
    }

    pub fn owner(&self) -> Target<'_> {
        Target::Org { id: &self.row.owner_org_id, country: None }
    }
}

pub(crate) fn clock_of(row: &ExerciseRow) -> ExerciseClock {
    ExerciseClock {
        running: row.state == "running",
        speed: row.speed,
        anchor_at: row.anchor_at.as_deref().and_then(time::parse),
        anchor_elapsed: row.anchor_elapsed,
    }
}

/// The director's console.
#[derive(Debug, Clone, Serialize)]
pub struct Console {
    pub exercise: Exercise,
    pub teams: Vec<TeamStatus>,
    pub injects: Vec<InjectStatus>,
    pub pauses: Vec<PauseRow>,
    pub members: Vec<MemberRow>,
    pub may_run: bool,
    pub may_organise: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamStatus {
    pub team: TeamRow,
    pub players: usize,
    pub delivered: usize,
    pub acknowledged: usize,
    pub responses: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct InjectStatus {
    pub inject: InjectRow,
    pub offset_text: String,
    pub audiences: Vec<String>,
    pub targets: usize,
    pub delivered: usize,
    /// The real time it falls due at the current speed, while running.
    pub due_at: Option<String>,
}

/// A summary line for lists.
#[derive(Debug, Clone, Serialize)]
pub struct ExerciseSummary {
    pub row: ExerciseRow,
    pub part: Option<String>,
    pub elapsed_text: String,
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

pub(crate) fn text(field: &str, value: &str, max: usize, required: bool) -> Result<String, DrillsError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(invalid(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    Ok(value.to_owned())
}

impl Drills {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Drills {
        Self::with_wrong_flag_limit(store, clock, WRONG_FLAGS_PER_MINUTE)
    }

    pub fn with_wrong_flag_limit(store: Store, clock: Arc<dyn Clock>, per_minute: u32) -> Drills {
        let (changes, _) = broadcast::channel(1024);
        Drills { store, clock, wrong_flags: RateLimiter::new(per_minute, chrono::Duration::minutes(1)), changes }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn fresh_id(&self) -> String {
        new_id(self.now()).to_string()
    }

    /// Exercise ids, one per committed change; lagging receivers skip ahead.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.changes.subscribe()
    }

    pub(crate) async fn commit(&self, mut tx: WriteTx, entry: AuditEntry, exercise: Option<&str>) -> Result<(), DrillsError> {
        if let Some(id) = exercise {
            tx.drill_bump(id).await?;
        }
        tx.audit(entry, self.now()).await?;
        tx.commit().await?;
        if let Some(id) = exercise {
            // Nobody listening is fine.
            let _ = self.changes.send(id.to_owned());
        }
        Ok(())
    }

    // ----- scenarios ---------------------------------------------------------

    /// Drill organisers anywhere read the whole scenario library; they edit
    /// their own organisation's scenarios.
    pub async fn scenarios(&self, principal: &Principal) -> Result<Vec<ScenarioRow>, DrillsError> {
        if !principal.has(Permission::DrillOrganise) {
            return Err(DrillsError::Forbidden);
        }
        Ok(self.store.drill_scenarios().await?)
    }

    pub async fn scenario(&self, principal: &Principal, id: &str) -> Result<(ScenarioRow, Scenario, bool), DrillsError> {
        if !principal.has(Permission::DrillOrganise) {
            return Err(DrillsError::Forbidden);
        }
        let row = self.store.drill_scenario(id).await?.ok_or(DrillsError::NotFound("scenario"))?;
        let scenario: Scenario =
            serde_json::from_str(&row.body).map_err(|err| DrillsError::State(format!("stored scenario is unreadable: {err}")))?;
        let may_edit = principal.allows(Permission::DrillOrganise, Target::Org { id: &row.owner_org_id, country: None });
        Ok((row, scenario, may_edit))
    }

    /// Saves a scenario for `owner_org` (new when `id` is None), hashing its
    /// static flags first; returns its id.
    pub async fn save_scenario(
        &self,
        actor: &Actor<'_>,
        id: Option<&str>,
        owner_org: &str,
        mut scenario: Scenario,
    ) -> Result<String, DrillsError> {
        let owner_org = match id {
            Some(id) => self.store.drill_scenario(id).await?.ok_or(DrillsError::NotFound("scenario"))?.owner_org_id,
            None => owner_org.to_owned(),
        };
        if !actor.principal.allows(Permission::DrillOrganise, Target::Org { id: &owner_org, country: None }) {
            return Err(DrillsError::Forbidden);
        }
        scenario.validate()?;
        scenario.seal()?;
        let now = time::format(self.now());
        let created = id.is_none();
        let id = id.map(str::to_owned).unwrap_or_else(|| self.fresh_id());
        let row = ScenarioRow {
            id: id.clone(),
            owner_org_id: owner_org,
            title: scenario.title.clone(),
            body: serde_json::to_string(&scenario).map_err(|err| invalid("scenario", err.to_string()))?,
            created_by: actor.principal.email.clone(),
            created_at: now.clone(),
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        tx.drill_scenario_upsert(&row).await?;
        let action = if created { "drills.scenario.create" } else { "drills.scenario.update" };
        let summary = json!({"title": scenario.title, "injects": scenario.injects.len(), "challenges": scenario.challenges.len()});
        self.commit(tx, actor.entry(action, "drill_scenario", Some(&id), summary), None).await?;
        Ok(id)
    }

    pub async fn import_scenario_json(&self, actor: &Actor<'_>, owner_org: &str, text: &str) -> Result<String, DrillsError> {
        let scenario = Scenario::from_json(text)?;
        self.save_scenario(actor, None, owner_org, scenario).await
    }

    pub async fn import_msel(&self, actor: &Actor<'_>, owner_org: &str, title: &str, csv: &str) -> Result<String, DrillsError> {
        let scenario = scenario::from_msel(title, csv)?;
        self.save_scenario(actor, None, owner_org, scenario).await
    }

    /// The scenario as JSON, flags sealed: safe to pass to another organiser.
    pub async fn export_scenario(&self, principal: &Principal, id: &str) -> Result<String, DrillsError> {
        let (_, scenario, _) = self.scenario(principal, id).await?;
        Ok(scenario.to_json())
    }

    // ----- exercises ---------------------------------------------------------

    pub(crate) async fn load(&self, id: &str) -> Result<Exercise, DrillsError> {
        let row = self.store.drill_exercise(id).await?.ok_or(DrillsError::NotFound("exercise"))?;
        let scenario: Scenario =
            serde_json::from_str(&row.scenario).map_err(|err| DrillsError::State(format!("stored scenario is unreadable: {err}")))?;
        let elapsed = clock_of(&row).elapsed(self.now());
        let duration_seconds = scenario.duration_minutes * 60;
        Ok(Exercise { elapsed_text: timeline::format_elapsed(elapsed), row, scenario, elapsed, duration_seconds })
    }

    /// The exercise row and its elapsed time, without reading the scenario:
    /// for the requests players send many times a minute.
    pub(crate) async fn load_row(&self, id: &str) -> Result<(ExerciseRow, f64), DrillsError> {
        let row = self.store.drill_exercise(id).await?.ok_or(DrillsError::NotFound("exercise"))?;
        let elapsed = clock_of(&row).elapsed(self.now());
        Ok((row, elapsed))
    }

    pub(crate) async fn part(&self, exercise: &str, principal: &Principal) -> Result<Option<MemberRow>, DrillsError> {
        if principal.user_id.is_empty() {
            return Ok(None);
        }
        Ok(self.store.drill_member(exercise, &principal.user_id).await?)
    }

    /// Loads an exercise for someone who must be allowed `act` in it.
    pub(crate) async fn open(
        &self,
        principal: &Principal,
        id: &str,
        act: ExerciseAct,
    ) -> Result<(Exercise, Option<MemberRow>), DrillsError> {
        let exercise = self.load(id).await?;
        let member = self.part(id, principal).await?;
        let part = member.as_ref().and_then(|m| ExerciseRole::parse(&m.role));
        if !may_in_exercise(principal, exercise.owner(), part, act) {
            // Someone with no part at all is not told the exercise exists.
            return Err(if part.is_none() && !principal.has(Permission::DrillOrganise) {
                DrillsError::NotFound("exercise")
            } else {
                DrillsError::Forbidden
            });
        }
        Ok((exercise, member))
    }

    /// The exercises someone may see: all of their organisation's as an
    /// organiser, and those they take part in.
    pub async fn exercises(&self, principal: &Principal) -> Result<Vec<ExerciseSummary>, DrillsError> {
        let parts: HashMap<String, String> = if principal.user_id.is_empty() {
            HashMap::new()
        } else {
            self.store.drill_memberships(&principal.user_id).await?.into_iter().map(|m| (m.exercise_id, m.role)).collect()
        };
        let now = self.now();
        Ok(self
            .store
            .drill_exercises()
            .await?
            .into_iter()
            .filter(|row| {
                parts.contains_key(&row.id)
                    || principal.allows(Permission::DrillOrganise, Target::Org { id: &row.owner_org_id, country: None })
            })
            .map(|row| ExerciseSummary {
                part: parts.get(&row.id).cloned(),
                elapsed_text: timeline::format_elapsed(clock_of(&row).elapsed(now)),
                row,
            })
            .collect())
    }

    /// Makes an exercise of a scenario: its injects, expectations,
    /// challenges and files are copied, so later edits to the scenario do
    /// not change an exercise under way.
    pub async fn create_exercise(
        &self,
        actor: &Actor<'_>,
        scenario_id: &str,
        title: &str,
        speed: f64,
        scheduled_for: Option<DateTime<Utc>>,
    ) -> Result<String, DrillsError> {
        let (row, scenario, _) = self.scenario(actor.principal, scenario_id).await?;
        // Exercises belong to the organiser's own organisation, whoever wrote the scenario.
        let owner = actor.principal.org_id.clone();
        if !actor.principal.allows(Permission::DrillOrganise, Target::Org { id: &owner, country: None }) {
            return Err(DrillsError::Forbidden);
        }
        let title = text("title", if title.trim().is_empty() { &scenario.title } else { title }, 200, true)?;
        check_speed(speed)?;
        let now = time::format(self.now());
        let id = self.fresh_id();
        let mut tx = self.store.begin().await?;
        tx.drill_exercise_insert(&ExerciseRow {
            id: id.clone(),
            scenario_id: row.id.clone(),
            owner_org_id: owner,
            title: title.clone(),
            state: "scheduled".into(),
            speed,
            scenario: row.body.clone(),
            scheduled_for: scheduled_for.map(time::format),
            started_at: None,
            anchor_at: None,
            anchor_elapsed: 0.0,
            ended_at: None,
            revision: 0,
            created_by: actor.principal.email.clone(),
            created_at: now,
        })
        .await?;
        for (position, inject) in scenario.injects.iter().enumerate() {
            let mut files = Vec::new();
            for file in &inject.attachments {
                let bytes = data_encoding::BASE64
                    .decode(file.content_base64.as_bytes())
                    .map_err(|err| invalid(format!("injects.{}.attachments", inject.key), err.to_string()))?;
                let sha = sha256_hex(&bytes);
                tx.drill_file_insert(&id, &sha, &file.name, &bytes).await?;
                files.push(json!({"name": file.name, "sha256": sha, "size": bytes.len()}));
            }
            tx.drill_inject_upsert(&InjectRow {
                exercise_id: id.clone(),
                key: inject.key.clone(),
                title: inject.title.clone(),
                offset_seconds: inject.offset_minutes * 60,
                channel: inject.channel.clone(),
                audiences: json!(inject.audiences).to_string(),
                sender: inject.sender.clone(),
                content: inject.content.clone(),
                depends_on: json!(inject.depends_on).to_string(),
                files: json!(files).to_string(),
                status: "pending".into(),
                delivered_at: None,
                delivered_elapsed: None,
                position: position as i64,
            })
            .await?;
            for (n, expectation) in inject.expectations.iter().enumerate() {
                tx.drill_expectation_insert(&ExpectationRow {
                    exercise_id: id.clone(),
                    key: format!("{}.{}", inject.key, n + 1),
                    inject_key: inject.key.clone(),
                    kind: expectation.kind.clone(),
                    title: expectation.title.clone(),
                    expected_score: expectation.score,
                    deadline_seconds: expectation.deadline_minutes.map(|m| m * 60),
                    scope: expectation.scope.clone(),
                    objective: expectation.objective.clone(),
                    challenge_key: expectation.challenge.clone(),
                })
                .await?;
            }
        }
        for (position, challenge) in scenario.challenges.iter().enumerate() {
            let mut files = Vec::new();
            for file in &challenge.files {
                let bytes = data_encoding::BASE64
                    .decode(file.content_base64.as_bytes())
                    .map_err(|err| invalid(format!("challenges.{}.files", challenge.key), err.to_string()))?;
                let sha = sha256_hex(&bytes);
                tx.drill_file_insert(&id, &sha, &file.name, &bytes).await?;
                files.push(json!({"name": file.name, "sha256": sha, "size": bytes.len()}));
            }
            tx.drill_challenge_insert(&ChallengeRow {
                exercise_id: id.clone(),
                key: challenge.key.clone(),
                title: challenge.title.clone(),
                category: challenge.category.clone(),
                description: challenge.description.clone(),
                scoring: challenge.scoring.clone(),
                initial: challenge.value,
                minimum: if challenge.scoring == "static" { challenge.value } else { challenge.minimum },
                decay: challenge.decay,
                flags: json!(challenge.flags).to_string(),
                max_attempts: challenge.max_attempts,
                hints: json!(challenge.hints).to_string(),
                prerequisites: json!(challenge.prerequisites).to_string(),
                files: json!(files).to_string(),
                position: position as i64,
            })
            .await?;
        }
        let summary = json!({"title": title, "scenario": scenario_id, "speed": speed});
        self.commit(tx, actor.entry("drills.exercise.create", "drill_exercise", Some(&id), summary), Some(&id)).await?;
        Ok(id)
    }

    pub async fn add_team(
        &self,
        actor: &Actor<'_>,
        exercise: &str,
        name: &str,
        country: Option<&str>,
        audience: &str,
    ) -> Result<String, DrillsError> {
        let (exercise, _) = self.open(actor.principal, exercise, ExerciseAct::Organise).await?;
        if matches!(exercise.row.state.as_str(), "finished" | "cancelled") {
            return Err(DrillsError::State("the exercise is over".into()));
        }
        let name = text("name", name, 120, true)?;
        let audience = audience.trim().to_ascii_lowercase();
        scenario::audience_label("audience", &audience)?;
        let country = match country.map(str::trim).filter(|c| !c.is_empty()) {
            Some(cc) => Some(
                rampart_core::country::find(&cc.to_ascii_uppercase())
                    .ok_or_else(|| invalid("country", format!("{cc:?} is not a country code")))?
                    .alpha2
                    .clone(),
            ),
            None => None,
        };
        let id = self.fresh_id();
        let mut tx = self.store.begin().await?;
        tx.drill_team_insert(&TeamRow {
            id: id.clone(),
            exercise_id: exercise.id().to_owned(),
            name: name.clone(),
            country: country.clone(),
            audience: audience.clone(),
            comm_check_sent_at: None,
            comm_check_confirmed_at: None,
            comm_check_confirmed_by: None,
            created_at: time::format(self.now()),
        })
        .await
        .map_err(|err| match err {
            rampart_store::StoreError::Conflict { .. } => invalid("name", "another team of this exercise has that name"),
            other => other.into(),
        })?;
        let summary = json!({"exercise": exercise.id(), "name": name, "country": country, "audience": audience});
        self.commit(tx, actor.entry("drills.team.create", "drill_team", Some(&id), summary), Some(exercise.id())).await?;
        Ok(id)
    }

    /// Gives a user (by e-mail) a part in the exercise; players join a team.
    pub async fn set_member(
        &self,
        actor: &Actor<'_>,
        exercise: &str,
        email: &str,
        role: &str,
        team: Option<&str>,
    ) -> Result<(), DrillsError> {
        let (exercise, _) = self.open(actor.principal, exercise, ExerciseAct::Organise).await?;
        let part = ExerciseRole::parse(role).ok_or_else(|| invalid("role", format!("{role:?} is not a part in an exercise")))?;
        let user = self.store.user_by_email(email.trim()).await?.ok_or_else(|| invalid("email", "no user has this address"))?;
        let team = team.map(str::trim).filter(|t| !t.is_empty());
        let team = match (part, team) {
            (ExerciseRole::Player, Some(team)) => {
                let teams = self.store.drill_teams(exercise.id()).await?;
                Some(teams.into_iter().find(|t| t.id == team || t.name == team).ok_or_else(|| invalid("team", "no such team"))?.id)
            }
            (ExerciseRole::Player, None) => return Err(invalid("team", "a player belongs to a team")),
            (_, _) => None,
        };
        let mut tx = self.store.begin().await?;
        tx.drill_member_upsert(exercise.id(), &user.id, part.as_str(), team.as_deref()).await?;
        let summary = json!({"exercise": exercise.id(), "user": user.email, "role": part.as_str(), "team": team});
        self.commit(tx, actor.entry("drills.member.set", "drill_exercise", Some(exercise.id()), summary), Some(exercise.id())).await
    }

    pub async fn remove_member(&self, actor: &Actor<'_>, exercise: &str, user_id: &str) -> Result<(), DrillsError> {
        let (exercise, _) = self.open(actor.principal, exercise, ExerciseAct::Organise).await?;
        let mut tx = self.store.begin().await?;
        if !tx.drill_member_remove(exercise.id(), user_id).await? {
            tx.rollback().await?;
            return Err(DrillsError::NotFound("member"));
        }
        let summary = json!({"exercise": exercise.id(), "user": user_id});
        self.commit(tx, actor.entry("drills.member.remove", "drill_exercise", Some(exercise.id()), summary), Some(exercise.id())).await
    }

    pub async fn console(&self, principal: &Principal, id: &str) -> Result<Console, DrillsError> {
        let (exercise, member) = self.open(principal, id, ExerciseAct::Observe).await?;
        let part = member.as_ref().and_then(|m| ExerciseRole::parse(&m.role));
        let teams = self.store.drill_teams(id).await?;
        let members = self.store.drill_members(id).await?;
        let deliveries = self.store.drill_deliveries(id).await?;
        let responses = self.store.drill_responses(id).await?;
        let clock = exercise.clock();
        let team_status = teams
            .iter()
            .map(|team| TeamStatus {
                team: team.clone(),
                players: members.iter().filter(|m| m.team_id.as_deref() == Some(&team.id)).count(),
                delivered: deliveries.iter().filter(|d| d.team_id == team.id).count(),
                acknowledged: deliveries.iter().filter(|d| d.team_id == team.id && d.acknowledged_at.is_some()).count(),
                responses: responses.iter().filter(|r| r.team_id == team.id).count(),
            })
            .collect();
        let injects = self
            .store
            .drill_injects(id)
            .await?
            .into_iter()
            .map(|inject| {
                let audiences: Vec<String> = serde_json::from_str(&inject.audiences).unwrap_or_default();
                let targets = teams.iter().filter(|t| timeline::reaches(&audiences, &t.audience)).count();
                let delivered = deliveries.iter().filter(|d| d.inject_key == inject.key).count();
                let due_at =
                    (inject.status == "pending").then(|| clock.real_time_of(inject.offset_seconds as f64)).flatten().map(time::format);
                InjectStatus {
                    offset_text: timeline::format_elapsed(inject.offset_seconds as f64),
                    audiences,
                    targets,
                    delivered,
                    due_at,
                    inject,
                }
            })
            .collect();
        Ok(Console {
            may_run: may_in_exercise(principal, exercise.owner(), part, ExerciseAct::Run),
            may_organise: may_in_exercise(principal, exercise.owner(), part, ExerciseAct::Organise),
            pauses: self.store.drill_pauses(id).await?,
            teams: team_status,
            injects,
            members,
            exercise,
        })
    }

    // ----- the clock ---------------------------------------------------------

    /// start, pause, resume, finish or cancel.
    pub async fn transition(&self, actor: &Actor<'_>, id: &str, action: &str, reason: &str) -> Result<(), DrillsError> {
        let (exercise, _) = self.open(actor.principal, id, ExerciseAct::Run).await?;
        let now = self.now();
        let at = time::format(now);
        let mut row = exercise.row.clone();
        let elapsed = exercise.elapsed;
        let allowed = matches!(
            (action, row.state.as_str()),
            ("start", "scheduled")
                | ("pause", "running")
                | ("resume", "paused")
                | ("finish", "running" | "paused")
                | ("cancel", "scheduled" | "running" | "paused")
        );
        if !allowed {
            return Err(DrillsError::State(format!("cannot {action} an exercise that is {}", row.state)));
        }
        let reason = text("reason", reason, 500, false)?;
        let mut tx = self.store.begin().await?;
        match (action, row.state.as_str()) {
            ("start", "scheduled") => {
                row.state = "running".into();
                row.started_at = Some(at.clone());
                row.anchor_at = Some(at.clone());
                row.anchor_elapsed = 0.0;
            }
            ("pause", "running") => {
                row.state = "paused".into();
                row.anchor_elapsed = elapsed;
                row.anchor_at = None;
                tx.drill_pause_insert(&PauseRow {
                    exercise_id: row.id.clone(),
                    paused_at: at.clone(),
                    paused_elapsed: elapsed,
                    resumed_at: None,
                    paused_by: actor.principal.email.clone(),
                    reason: reason.clone(),
                })
                .await?;
            }
            ("resume", "paused") => {
                row.state = "running".into();
                row.anchor_at = Some(at.clone());
                tx.drill_pause_close(&row.id, &at).await?;
            }
            ("finish", "running" | "paused") => {
                row.state = "finished".into();
                row.anchor_elapsed = elapsed;
                row.anchor_at = None;
                row.ended_at = Some(at.clone());
                tx.drill_pause_close(&row.id, &at).await?;
            }
            ("cancel", "scheduled" | "running" | "paused") => {
                row.state = "cancelled".into();
                row.anchor_elapsed = elapsed;
                row.anchor_at = None;
                row.ended_at = Some(at.clone());
                tx.drill_pause_close(&row.id, &at).await?;
            }
            _ => {}
        }
        tx.drill_exercise_clock(&row).await?;
        let summary = json!({"from": exercise.row.state, "to": row.state, "elapsed": elapsed.round(), "reason": reason});
        self.commit(tx, actor.entry(&format!("drills.exercise.{action}"), "drill_exercise", Some(id), summary), Some(id)).await?;
        if row.state == "running" {
            self.deliver_due(id).await?;
        }
        Ok(())
    }

    /// Changes the speed; exercise time so far is kept.
    pub async fn set_speed(&self, actor: &Actor<'_>, id: &str, speed: f64) -> Result<(), DrillsError> {
        check_speed(speed)?;
        let (exercise, _) = self.open(actor.principal, id, ExerciseAct::Run).await?;
        let mut row = exercise.row.clone();
        if row.state == "running" {
            row.anchor_elapsed = exercise.elapsed;
            row.anchor_at = Some(time::format(self.now()));
        }
        row.speed = speed;
        let mut tx = self.store.begin().await?;
        tx.drill_exercise_clock(&row).await?;
        let summary = json!({"from": exercise.row.speed, "to": speed});
        self.commit(tx, actor.entry("drills.exercise.speed", "drill_exercise", Some(id), summary), Some(id)).await
    }

    // ----- injects -----------------------------------------------------------

    /// Delivers whatever is due in every running exercise; the server calls
    /// this every second. Returns the number of deliveries made.
    pub async fn tick(&self) -> Result<usize, DrillsError> {
        let mut made = 0;
        for row in self.store.drill_exercises_live().await? {
            made += self.deliver_due(&row.id).await?;
        }
        Ok(made)
    }

    /// Delivers the injects due now in one exercise.
    pub async fn deliver_due(&self, id: &str) -> Result<usize, DrillsError> {
        let exercise = self.load(id).await?;
        if exercise.row.state != "running" {
            return Ok(0);
        }
        let injects = self.store.drill_injects(id).await?;
        let pending: Vec<timeline::PendingInject> = injects
            .iter()
            .filter(|i| i.status == "pending")
            .map(|i| timeline::PendingInject {
                key: i.key.clone(),
                offset_seconds: i.offset_seconds,
                audiences: serde_json::from_str(&i.audiences).unwrap_or_default(),
                depends_on: serde_json::from_str::<Vec<scenario::Dependency>>(&i.depends_on)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| (d.inject, d.when))
                    .collect(),
            })
            .collect();
        if !pending.iter().any(|i| i.offset_seconds as f64 <= exercise.elapsed) {
            return Ok(0);
        }
        let teams: Vec<timeline::TeamTarget> =
            self.store.drill_teams(id).await?.into_iter().map(|t| timeline::TeamTarget { id: t.id, audience: t.audience }).collect();
        let delivered: HashSet<(String, String)> =
            self.store.drill_deliveries(id).await?.into_iter().map(|d| (d.inject_key, d.team_id)).collect();
        let responded: HashSet<(String, String)> =
            self.store.drill_responses(id).await?.into_iter().map(|r| (r.inject_key, r.team_id)).collect();
        let due = timeline::due(exercise.elapsed, &pending, &teams, &delivered, &responded);
        if due.is_empty() {
            return Ok(0);
        }
        let now = time::format(self.now());
        let mut tx = self.store.begin().await?;
        let mut made = 0;
        for item in &due {
            if tx.drill_delivery_insert(id, &item.inject, &item.team_id, &now, exercise.elapsed).await? {
                made += 1;
            }
        }
        // An inject is delivered once every team it targets has it.
        let mut now_delivered = delivered.clone();
        now_delivered.extend(due.iter().map(|d| (d.inject.clone(), d.team_id.clone())));
        let mut finished = Vec::new();
        for inject in injects.iter().filter(|i| i.status == "pending") {
            let audiences: Vec<String> = serde_json::from_str(&inject.audiences).unwrap_or_default();
            let all = teams
                .iter()
                .filter(|t| timeline::reaches(&audiences, &t.audience))
                .all(|t| now_delivered.contains(&(inject.key.clone(), t.id.clone())));
            if all && inject.offset_seconds as f64 <= exercise.elapsed {
                tx.drill_inject_delivered(id, &inject.key, &now, exercise.elapsed).await?;
                finished.push(inject.key.clone());
            }
        }
        let entry = AuditEntry {
            actor_id: None,
            actor_label: "system:drill-clock".into(),
            actor_org_id: None,
            action: "drills.inject.deliver".into(),
            entity_type: "drill_exercise".into(),
            entity_id: Some(id.to_owned()),
            source_ip: None,
            summary: json!({"deliveries": made, "injects": finished, "elapsed": exercise.elapsed.round()}),
        };
        self.commit(tx, entry, Some(id)).await?;
        Ok(made)
    }

    /// Fires an inject now to every team it targets, whatever its offset and dependencies.
    pub async fn fire_now(&self, actor: &Actor<'_>, id: &str, key: &str) -> Result<usize, DrillsError> {
        let (exercise, _) = self.open(actor.principal, id, ExerciseAct::Run).await?;
        if !matches!(exercise.row.state.as_str(), "running" | "paused") {
            return Err(DrillsError::State("injects are fired while the exercise is under way".into()));
        }
        let inject = self.inject(id, key).await?;
        if inject.status == "cancelled" {
            return Err(DrillsError::State("the inject was cancelled".into()));
        }
        let audiences: Vec<String> = serde_json::from_str(&inject.audiences).unwrap_or_default();
        let now = time::format(self.now());
        let mut tx = self.store.begin().await?;
        let mut made = 0;
        for team in self.store.drill_teams(id).await?.into_iter().filter(|t| timeline::reaches(&audiences, &t.audience)) {
            if tx.drill_delivery_insert(id, key, &team.id, &now, exercise.elapsed).await? {
                made += 1;
            }
        }
        tx.drill_inject_delivered(id, key, &now, exercise.elapsed).await?;
        let summary = json!({"inject": key, "deliveries": made, "elapsed": exercise.elapsed.round()});
        self.commit(tx, actor.entry("drills.inject.fire", "drill_exercise", Some(id), summary), Some(id)).await?;
        Ok(made)
    }

    async fn inject(&self, id: &str, key: &str) -> Result<InjectRow, DrillsError> {
        self.store.drill_injects(id).await?.into_iter().find(|i| i.key == key).ok_or(DrillsError::NotFound("inject"))
    }

    /// Edits a pending inject live: its offset (in exercise minutes), title and content; or cancels it.
    pub async fn edit_inject(&self, actor: &Actor<'_>, id: &str, key: &str, edit: InjectEdit<'_>) -> Result<(), DrillsError> {
        let (exercise, _) = self.open(actor.principal, id, ExerciseAct::Run).await?;
        let mut inject = self.inject(id, key).await?;
        if inject.status != "pending" {
            return Err(DrillsError::State(format!("inject {key} is already {}", inject.status)));
        }
        let before = json!({"offset_seconds": inject.offset_seconds, "title": inject.title});
        let action = match edit {
            InjectEdit::Delay { minutes } => {
                if !(-24 * 60..=24 * 60).contains(&minutes) || minutes == 0 {
                    return Err(invalid("minutes", "must be a non-zero number of minutes within a day"));
                }
                inject.offset_seconds = (inject.offset_seconds + minutes * 60).max(0);
                "drills.inject.delay"
            }
            InjectEdit::Change { offset_minutes, title, content } => {
                if !(0..=exercise.scenario.duration_minutes * 2).contains(&offset_minutes) {
                    return Err(invalid("offset_minutes", "must be within the exercise"));
                }
                inject.offset_seconds = offset_minutes * 60;
                inject.title = text("title", title, 300, true)?;
                inject.content = text("content", content, 20_000, false)?;
                "drills.inject.update"
            }
            InjectEdit::Cancel => {
                inject.status = "cancelled".into();
                "drills.inject.cancel"
            }
        };
        let mut tx = self.store.begin().await?;
        tx.drill_inject_upsert(&inject).await?;
        let summary = json!({"inject": key, "before": before, "after": {"offset_seconds": inject.offset_seconds, "title": inject.title, "status": inject.status}});
        self.commit(tx, actor.entry(action, "drill_exercise", Some(id), summary), Some(id)).await?;
        self.deliver_due(id).await?;
        Ok(())
    }

    /// Asks every team to confirm it is reachable.
    pub async fn comm_check(&self, actor: &Actor<'_>, id: &str) -> Result<(), DrillsError> {
        let (exercise, _) = self.open(actor.principal, id, ExerciseAct::Run).await?;
        if matches!(exercise.row.state.as_str(), "finished" | "cancelled") {
            return Err(DrillsError::State("the exercise is over".into()));
        }
        let mut tx = self.store.begin().await?;
        tx.drill_comm_check_send(id, &time::format(self.now())).await?;
        self.commit(tx, actor.entry("drills.commcheck.send", "drill_exercise", Some(id), json!({})), Some(id)).await
    }
}

/// A live change to a pending inject.
#[derive(Debug, Clone, Copy)]
pub enum InjectEdit<'a> {
    Delay { minutes: i64 },
    Change { offset_minutes: i64, title: &'a str, content: &'a str },
    Cancel,
}

fn check_speed(speed: f64) -> Result<(), DrillsError> {
    if speed.is_finite() && (0.1..=MAX_SPEED).contains(&speed) {
        Ok(())
    } else {
        Err(invalid("speed", format!("must be between 0.1 and {MAX_SPEED}")))
    }
}
