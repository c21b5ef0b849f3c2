//! Cyberdrill rows (migration 0014): scenarios, exercises and their clock,
//! teams and members, injects and deliveries, responses and evaluations,
//! challenges with attempts, solves and hints, the hot wash and the
//! improvement plan. The rules live in `rampart-drills`.

use crate::{Store, StoreError, WriteTx};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct ScenarioRow {
    pub id: String,
    pub owner_org_id: String,
    pub title: String,
    pub body: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct ExerciseRow {
    pub id: String,
    pub scenario_id: String,
    pub owner_org_id: String,
    pub title: String,
    pub state: String,
    pub speed: f64,
    pub scenario: String,
    pub scheduled_for: Option<String>,
    pub started_at: Option<String>,
    pub anchor_at: Option<String>,
    pub anchor_elapsed: f64,
    pub ended_at: Option<String>,
    pub revision: i64,
    pub created_by: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct PauseRow {
    pub exercise_id: String,
    pub paused_at: String,
    pub paused_elapsed: f64,
    pub resumed_at: Option<String>,
    pub paused_by: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct TeamRow {
    pub id: String,
    pub exercise_id: String,
    pub name: String,
    pub country: Option<String>,
    pub audience: String,
    pub comm_check_sent_at: Option<String>,
    pub comm_check_confirmed_at: Option<String>,
    pub comm_check_confirmed_by: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    pub exercise_id: String,
    pub user_id: String,
    pub role: String,
    pub team_id: Option<String>,
    pub email: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct InjectRow {
    pub exercise_id: String,
    pub key: String,
    pub title: String,
    pub offset_seconds: i64,
    pub channel: String,
    pub audiences: String,
    pub sender: String,
    pub content: String,
    pub depends_on: String,
    pub files: String,
    pub status: String,
    pub delivered_at: Option<String>,
    pub delivered_elapsed: Option<f64>,
    pub position: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub exercise_id: String,
    pub inject_key: String,
    pub team_id: String,
    pub delivered_at: String,
    pub delivered_elapsed: f64,
    pub acknowledged_at: Option<String>,
    pub acknowledged_elapsed: Option<f64>,
    pub acknowledged_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct ExpectationRow {
    pub exercise_id: String,
    pub key: String,
    pub inject_key: String,
    pub kind: String,
    pub title: String,
    pub expected_score: i64,
    pub deadline_seconds: Option<i64>,
    pub scope: String,
    pub objective: Option<String>,
    pub challenge_key: Option<String>,
}

/// A response without its file's bytes.
#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct ResponseRow {
    pub id: String,
    pub exercise_id: String,
    pub inject_key: String,
    pub team_id: String,
    pub user_id: String,
    pub body: String,
    pub file_name: Option<String>,
    pub file_sha256: Option<String>,
    pub at: String,
    pub elapsed: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct EvaluationRow {
    pub exercise_id: String,
    pub expectation_key: String,
    pub team_id: String,
    pub score: i64,
    pub comment: String,
    pub evaluator: String,
    pub response_id: Option<String>,
    pub at: String,
    pub elapsed: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct ChallengeRow {
    pub exercise_id: String,
    pub key: String,
    pub title: String,
    pub category: String,
    pub description: String,
    pub scoring: String,
    pub initial: i64,
    pub minimum: i64,
    pub decay: i64,
    pub flags: String,
    pub max_attempts: i64,
    pub hints: String,
    pub prerequisites: String,
    pub files: String,
    pub position: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: String,
    pub exercise_id: String,
    pub challenge_key: String,
    pub team_id: String,
    pub user_id: String,
    pub correct: i64,
    pub submitted: Option<String>,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct SolveRow {
    pub exercise_id: String,
    pub challenge_key: String,
    pub team_id: String,
    pub user_id: String,
    pub at: String,
    pub elapsed: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct HintUnlockRow {
    pub exercise_id: String,
    pub challenge_key: String,
    pub hint_index: i64,
    pub team_id: String,
    pub user_id: String,
    pub cost: i64,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct TeamLogRow {
    pub id: String,
    pub exercise_id: String,
    pub team_id: String,
    pub user_id: String,
    pub body: String,
    pub at: String,
    pub elapsed: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct HotwashRow {
    pub id: String,
    pub exercise_id: String,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub rating: i64,
    pub went_well: String,
    pub to_improve: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct ImprovementRow {
    pub id: String,
    pub exercise_id: String,
    pub objective: Option<String>,
    pub kind: String,
    pub observation: String,
    pub action: String,
    pub owner: String,
    pub due_on: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

const SCENARIO: &str = "id, owner_org_id, title, body, created_by, created_at, updated_at";
const EXERCISE: &str = "id, scenario_id, owner_org_id, title, state, speed, scenario, scheduled_for, started_at, anchor_at, \
    anchor_elapsed, ended_at, revision, created_by, created_at";
const PAUSE: &str = "exercise_id, paused_at, paused_elapsed, resumed_at, paused_by, reason";
const TEAM: &str = "id, exercise_id, name, country, audience, comm_check_sent_at, comm_check_confirmed_at, comm_check_confirmed_by, \
    created_at";
const INJECT: &str = "exercise_id, key, title, offset_seconds, channel, audiences, sender, content, depends_on, files, status, \
    delivered_at, delivered_elapsed, position";
const DELIVERY: &str =
    "exercise_id, inject_key, team_id, delivered_at, delivered_elapsed, acknowledged_at, acknowledged_elapsed, acknowledged_by";
const EXPECTATION: &str = "exercise_id, key, inject_key, kind, title, expected_score, deadline_seconds, scope, objective, challenge_key";
const RESPONSE: &str = "id, exercise_id, inject_key, team_id, user_id, body, file_name, file_sha256, at, elapsed";
const EVALUATION: &str = "exercise_id, expectation_key, team_id, score, comment, evaluator, response_id, at, elapsed";
const CHALLENGE: &str = "exercise_id, key, title, category, description, scoring, initial, minimum, decay, flags, max_attempts, \
    hints, prerequisites, files, position";
const ATTEMPT: &str = "id, exercise_id, challenge_key, team_id, user_id, correct, submitted, at";
const SOLVE: &str = "exercise_id, challenge_key, team_id, user_id, at, elapsed";
const HINT: &str = "exercise_id, challenge_key, hint_index, team_id, user_id, cost, at";
const LOG: &str = "id, exercise_id, team_id, user_id, body, at, elapsed";
const HOTWASH: &str = "id, exercise_id, user_id, team_id, rating, went_well, to_improve, at";
const IMPROVEMENT: &str = "id, exercise_id, objective, kind, observation, action, owner, due_on, created_by, created_at";

macro_rules! rows {
    ($store:expr, $ty:ty, $sql:expr $(, $bind:expr)*) => {{
        let sql: String = $sql;
        sqlx::query_as::<_, $ty>(sqlx::AssertSqlSafe(sql))$(.bind($bind.to_owned()))*.fetch_all($store.reader()).await.map_err(StoreError::from)
    }};
}

macro_rules! exec {
    ($tx:expr, $sql:expr $(, $bind:expr)*) => {{
        let sql: String = $sql;
        sqlx::query(sqlx::AssertSqlSafe(sql))$(.bind($bind))*.execute($tx.conn()).await.map_err(StoreError::from)
    }};
}

fn marks(from: usize, count: usize) -> String {
    (from..from + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    pub async fn drill_scenarios(&self) -> Result<Vec<ScenarioRow>, StoreError> {
        rows!(self, ScenarioRow, format!("SELECT {SCENARIO} FROM drill_scenarios ORDER BY updated_at DESC, id"))
    }

    pub async fn drill_scenario(&self, id: &str) -> Result<Option<ScenarioRow>, StoreError> {
        Ok(rows!(self, ScenarioRow, format!("SELECT {SCENARIO} FROM drill_scenarios WHERE id = $1"), id)?.pop())
    }

    pub async fn drill_exercises(&self) -> Result<Vec<ExerciseRow>, StoreError> {
        rows!(self, ExerciseRow, format!("SELECT {EXERCISE} FROM drill_exercises ORDER BY created_at DESC, id"))
    }

    /// Exercises that are running or paused, for the scheduler.
    pub async fn drill_exercises_live(&self) -> Result<Vec<ExerciseRow>, StoreError> {
        rows!(self, ExerciseRow, format!("SELECT {EXERCISE} FROM drill_exercises WHERE state = 'running' ORDER BY id"))
    }

    pub async fn drill_exercise(&self, id: &str) -> Result<Option<ExerciseRow>, StoreError> {
        Ok(rows!(self, ExerciseRow, format!("SELECT {EXERCISE} FROM drill_exercises WHERE id = $1"), id)?.pop())
    }

    /// The exercise's change counter alone: cheap enough to poll for live updates.
    pub async fn drill_revision(&self, id: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT revision FROM drill_exercises WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?)
    }

    pub async fn drill_pauses(&self, exercise: &str) -> Result<Vec<PauseRow>, StoreError> {
        rows!(self, PauseRow, format!("SELECT {PAUSE} FROM drill_pauses WHERE exercise_id = $1 ORDER BY paused_at"), exercise)
    }

    pub async fn drill_teams(&self, exercise: &str) -> Result<Vec<TeamRow>, StoreError> {
        rows!(self, TeamRow, format!("SELECT {TEAM} FROM drill_teams WHERE exercise_id = $1 ORDER BY name"), exercise)
    }

    pub async fn drill_members(&self, exercise: &str) -> Result<Vec<MemberRow>, StoreError> {
        rows!(
            self,
            MemberRow,
            "SELECT m.exercise_id, m.user_id, m.role, m.team_id, u.email, u.display_name FROM drill_members m \
             JOIN users u ON u.id = m.user_id WHERE m.exercise_id = $1 ORDER BY m.role, u.display_name"
                .to_owned(),
            exercise
        )
    }

    pub async fn drill_member(&self, exercise: &str, user: &str) -> Result<Option<MemberRow>, StoreError> {
        Ok(rows!(
            self,
            MemberRow,
            "SELECT m.exercise_id, m.user_id, m.role, m.team_id, u.email, u.display_name FROM drill_members m \
             JOIN users u ON u.id = m.user_id WHERE m.exercise_id = $1 AND m.user_id = $2"
                .to_owned(),
            exercise,
            user
        )?
        .pop())
    }

    /// The exercises a user takes part in, with their role.
    pub async fn drill_memberships(&self, user: &str) -> Result<Vec<MemberRow>, StoreError> {
        rows!(
            self,
            MemberRow,
            "SELECT m.exercise_id, m.user_id, m.role, m.team_id, u.email, u.display_name FROM drill_members m \
             JOIN users u ON u.id = m.user_id WHERE m.user_id = $1"
                .to_owned(),
            user
        )
    }

    pub async fn drill_injects(&self, exercise: &str) -> Result<Vec<InjectRow>, StoreError> {
        rows!(
            self,
            InjectRow,
            format!("SELECT {INJECT} FROM drill_injects WHERE exercise_id = $1 ORDER BY offset_seconds, position"),
            exercise
        )
    }

    pub async fn drill_deliveries(&self, exercise: &str) -> Result<Vec<DeliveryRow>, StoreError> {
        rows!(
            self,
            DeliveryRow,
            format!("SELECT {DELIVERY} FROM drill_deliveries WHERE exercise_id = $1 ORDER BY delivered_elapsed, inject_key, team_id"),
            exercise
        )
    }

    /// Has `team` received `inject`?
    pub async fn drill_delivered(&self, exercise: &str, inject: &str, team: &str) -> Result<bool, StoreError> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT team_id FROM drill_deliveries WHERE exercise_id = $1 AND inject_key = $2 AND team_id = $3")
                .bind(exercise.to_owned())
                .bind(inject.to_owned())
                .bind(team.to_owned())
                .fetch_optional(self.reader())
                .await?;
        Ok(found.is_some())
    }

    pub async fn drill_expectations(&self, exercise: &str) -> Result<Vec<ExpectationRow>, StoreError> {
        rows!(self, ExpectationRow, format!("SELECT {EXPECTATION} FROM drill_expectations WHERE exercise_id = $1 ORDER BY key"), exercise)
    }

    pub async fn drill_responses(&self, exercise: &str) -> Result<Vec<ResponseRow>, StoreError> {
        rows!(self, ResponseRow, format!("SELECT {RESPONSE} FROM drill_responses WHERE exercise_id = $1 ORDER BY at, id"), exercise)
    }

    /// A response's attached file: (name, bytes).
    pub async fn drill_response_file(&self, exercise: &str, response: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let row: Option<(Option<String>, Option<Vec<u8>>)> =
            sqlx::query_as("SELECT file_name, file_content FROM drill_responses WHERE exercise_id = $1 AND id = $2")
                .bind(exercise.to_owned())
                .bind(response.to_owned())
                .fetch_optional(self.reader())
                .await?;
        Ok(row.and_then(|(name, content)| Some((name?, content?))))
    }

    pub async fn drill_evaluations(&self, exercise: &str) -> Result<Vec<EvaluationRow>, StoreError> {
        rows!(self, EvaluationRow, format!("SELECT {EVALUATION} FROM drill_evaluations WHERE exercise_id = $1 ORDER BY at"), exercise)
    }

    pub async fn drill_team(&self, exercise: &str, team: &str) -> Result<Option<TeamRow>, StoreError> {
        Ok(rows!(self, TeamRow, format!("SELECT {TEAM} FROM drill_teams WHERE exercise_id = $1 AND id = $2"), exercise, team)?.pop())
    }

    pub async fn drill_challenge(&self, exercise: &str, key: &str) -> Result<Option<ChallengeRow>, StoreError> {
        Ok(rows!(
            self,
            ChallengeRow,
            format!("SELECT {CHALLENGE} FROM drill_challenges WHERE exercise_id = $1 AND key = $2"),
            exercise,
            key
        )?
        .pop())
    }

    /// The challenges one team has solved.
    pub async fn drill_solves_of(&self, exercise: &str, team: &str) -> Result<Vec<SolveRow>, StoreError> {
        rows!(
            self,
            SolveRow,
            format!("SELECT {SOLVE} FROM drill_solves WHERE exercise_id = $1 AND team_id = $2 ORDER BY at"),
            exercise,
            team
        )
    }

    pub async fn drill_challenges(&self, exercise: &str) -> Result<Vec<ChallengeRow>, StoreError> {
        rows!(self, ChallengeRow, format!("SELECT {CHALLENGE} FROM drill_challenges WHERE exercise_id = $1 ORDER BY position"), exercise)
    }

    pub async fn drill_file(&self, exercise: &str, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as("SELECT name, content FROM drill_files WHERE exercise_id = $1 AND sha256 = $2")
            .bind(exercise.to_owned())
            .bind(sha256.to_owned())
            .fetch_optional(self.reader())
            .await?)
    }

    pub async fn drill_attempts(&self, exercise: &str) -> Result<Vec<AttemptRow>, StoreError> {
        rows!(self, AttemptRow, format!("SELECT {ATTEMPT} FROM drill_attempts WHERE exercise_id = $1 ORDER BY at, id"), exercise)
    }

    /// Attempts used per (challenge, team).
    pub async fn drill_attempt_counts(&self, exercise: &str) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT challenge_key, team_id, attempts FROM drill_attempt_counts WHERE exercise_id = $1")
            .bind(exercise.to_owned())
            .fetch_all(self.reader())
            .await?)
    }

    pub async fn drill_solves(&self, exercise: &str) -> Result<Vec<SolveRow>, StoreError> {
        rows!(self, SolveRow, format!("SELECT {SOLVE} FROM drill_solves WHERE exercise_id = $1 ORDER BY at, team_id"), exercise)
    }

    pub async fn drill_hint_unlocks(&self, exercise: &str) -> Result<Vec<HintUnlockRow>, StoreError> {
        rows!(self, HintUnlockRow, format!("SELECT {HINT} FROM drill_hint_unlocks WHERE exercise_id = $1 ORDER BY at"), exercise)
    }

    pub async fn drill_team_log(&self, exercise: &str, team: &str) -> Result<Vec<TeamLogRow>, StoreError> {
        rows!(
            self,
            TeamLogRow,
            format!("SELECT {LOG} FROM drill_team_log WHERE exercise_id = $1 AND team_id = $2 ORDER BY at, id"),
            exercise,
            team
        )
    }

    pub async fn drill_hotwash(&self, exercise: &str) -> Result<Vec<HotwashRow>, StoreError> {
        rows!(self, HotwashRow, format!("SELECT {HOTWASH} FROM drill_hotwash WHERE exercise_id = $1 ORDER BY at, id"), exercise)
    }

    pub async fn drill_hotwash_done(&self, exercise: &str, user: &str) -> Result<bool, StoreError> {
        let found: Option<String> = sqlx::query_scalar("SELECT user_id FROM drill_hotwash_done WHERE exercise_id = $1 AND user_id = $2")
            .bind(exercise.to_owned())
            .bind(user.to_owned())
            .fetch_optional(self.reader())
            .await?;
        Ok(found.is_some())
    }

    pub async fn drill_improvements(&self, exercise: &str) -> Result<Vec<ImprovementRow>, StoreError> {
        rows!(
            self,
            ImprovementRow,
            format!("SELECT {IMPROVEMENT} FROM drill_improvements WHERE exercise_id = $1 ORDER BY kind, created_at, id"),
            exercise
        )
    }
}

impl WriteTx {
    pub async fn drill_scenario_upsert(&mut self, row: &ScenarioRow) -> Result<(), StoreError> {
        exec!(
            self,
            format!(
                "INSERT INTO drill_scenarios ({SCENARIO}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET title = excluded.title, \
                 body = excluded.body, updated_at = excluded.updated_at",
                marks(1, 7)
            ),
            row.id.clone(),
            row.owner_org_id.clone(),
            row.title.clone(),
            row.body.clone(),
            row.created_by.clone(),
            row.created_at.clone(),
            row.updated_at.clone()
        )?;
        Ok(())
    }

    pub async fn drill_exercise_insert(&mut self, row: &ExerciseRow) -> Result<(), StoreError> {
        exec!(
            self,
            format!("INSERT INTO drill_exercises ({EXERCISE}) VALUES ({})", marks(1, 15)),
            row.id.clone(),
            row.scenario_id.clone(),
            row.owner_org_id.clone(),
            row.title.clone(),
            row.state.clone(),
            row.speed,
            row.scenario.clone(),
            row.scheduled_for.clone(),
            row.started_at.clone(),
            row.anchor_at.clone(),
            row.anchor_elapsed,
            row.ended_at.clone(),
            row.revision,
            row.created_by.clone(),
            row.created_at.clone()
        )?;
        Ok(())
    }

    /// Saves the state and clock of an exercise and bumps its revision.
    pub async fn drill_exercise_clock(&mut self, row: &ExerciseRow) -> Result<(), StoreError> {
        exec!(
            self,
            "UPDATE drill_exercises SET state = $2, speed = $3, started_at = $4, anchor_at = $5, anchor_elapsed = $6, \
             ended_at = $7, revision = revision + 1 WHERE id = $1"
                .to_owned(),
            row.id.clone(),
            row.state.clone(),
            row.speed,
            row.started_at.clone(),
            row.anchor_at.clone(),
            row.anchor_elapsed,
            row.ended_at.clone()
        )?;
        Ok(())
    }

    /// Tells live views something changed.
    pub async fn drill_bump(&mut self, exercise: &str) -> Result<(), StoreError> {
        exec!(self, "UPDATE drill_exercises SET revision = revision + 1 WHERE id = $1".to_owned(), exercise.to_owned())?;
        Ok(())
    }

    pub async fn drill_pause_insert(&mut self, row: &PauseRow) -> Result<(), StoreError> {
        exec!(
            self,
            format!("INSERT INTO drill_pauses ({PAUSE}) VALUES ({})", marks(1, 6)),
            row.exercise_id.clone(),
            row.paused_at.clone(),
            row.paused_elapsed,
            row.resumed_at.clone(),
            row.paused_by.clone(),
            row.reason.clone()
        )?;
        Ok(())
    }

    pub async fn drill_pause_close(&mut self, exercise: &str, resumed_at: &str) -> Result<(), StoreError> {
        exec!(
            self,
            "UPDATE drill_pauses SET resumed_at = $2 WHERE exercise_id = $1 AND resumed_at IS NULL".to_owned(),
            exercise.to_owned(),
            resumed_at.to_owned()
        )?;
        Ok(())
    }

    pub async fn drill_team_insert(&mut self, row: &TeamRow) -> Result<(), StoreError> {
        exec!(
            self,
            format!("INSERT INTO drill_teams ({TEAM}) VALUES ({})", marks(1, 9)),
            row.id.clone(),
            row.exercise_id.clone(),
            row.name.clone(),
            row.country.clone(),
            row.audience.clone(),
            row.comm_check_sent_at.clone(),
            row.comm_check_confirmed_at.clone(),
            row.comm_check_confirmed_by.clone(),
            row.created_at.clone()
        )?;
        Ok(())
    }

    /// Starts a communication check for every team of the exercise.
    pub async fn drill_comm_check_send(&mut self, exercise: &str, at: &str) -> Result<(), StoreError> {
        exec!(
            self,
            "UPDATE drill_teams SET comm_check_sent_at = $2, comm_check_confirmed_at = NULL, comm_check_confirmed_by = NULL \
             WHERE exercise_id = $1"
                .to_owned(),
            exercise.to_owned(),
            at.to_owned()
        )?;
        Ok(())
    }

    pub async fn drill_comm_check_confirm(&mut self, exercise: &str, team: &str, at: &str, by: &str) -> Result<bool, StoreError> {
        let done = exec!(
            self,
            "UPDATE drill_teams SET comm_check_confirmed_at = $3, comm_check_confirmed_by = $4 WHERE exercise_id = $1 AND id = $2 \
             AND comm_check_sent_at IS NOT NULL AND comm_check_confirmed_at IS NULL"
                .to_owned(),
            exercise.to_owned(),
            team.to_owned(),
            at.to_owned(),
            by.to_owned()
        )?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn drill_member_upsert(&mut self, exercise: &str, user: &str, role: &str, team: Option<&str>) -> Result<(), StoreError> {
        exec!(
            self,
            "INSERT INTO drill_members (exercise_id, user_id, role, team_id) VALUES ($1, $2, $3, $4) ON CONFLICT (exercise_id, user_id) \
             DO UPDATE SET role = excluded.role, team_id = excluded.team_id"
                .to_owned(),
            exercise.to_owned(),
            user.to_owned(),
            role.to_owned(),
            team.map(str::to_owned)
        )?;
        Ok(())
    }

    pub async fn drill_member_remove(&mut self, exercise: &str, user: &str) -> Result<bool, StoreError> {
        let done = exec!(
            self,
            "DELETE FROM drill_members WHERE exercise_id = $1 AND user_id = $2".to_owned(),
            exercise.to_owned(),
            user.to_owned()
        )?;
        Ok(done.rows_affected() > 0)
    }

    /// Creates or edits an inject; its delivery is recorded by
    /// [`WriteTx::drill_inject_delivered`] alone. (Binding an optional
    /// float is avoided: sqlx's Any driver declares a NULL double as float4
    /// on PostgreSQL, which then rejects a later float8 in the same statement.)
    pub async fn drill_inject_upsert(&mut self, row: &InjectRow) -> Result<(), StoreError> {
        exec!(
            self,
            "INSERT INTO drill_injects (exercise_id, key, title, offset_seconds, channel, audiences, sender, content, depends_on, \
             files, status, delivered_at, delivered_elapsed, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, $12) \
             ON CONFLICT (exercise_id, key) DO UPDATE SET title = excluded.title, offset_seconds = excluded.offset_seconds, \
             channel = excluded.channel, audiences = excluded.audiences, sender = excluded.sender, content = excluded.content, \
             depends_on = excluded.depends_on, status = excluded.status"
                .to_owned(),
            row.exercise_id.clone(),
            row.key.clone(),
            row.title.clone(),
            row.offset_seconds,
            row.channel.clone(),
            row.audiences.clone(),
            row.sender.clone(),
            row.content.clone(),
            row.depends_on.clone(),
            row.files.clone(),
            row.status.clone(),
            row.position
        )?;
        Ok(())
    }

    pub async fn drill_inject_delivered(&mut self, exercise: &str, key: &str, at: &str, elapsed: f64) -> Result<(), StoreError> {
        exec!(
            self,
            "UPDATE drill_injects SET status = 'delivered', delivered_at = $3, delivered_elapsed = $4 WHERE exercise_id = $1 AND key = $2"
                .to_owned(),
            exercise.to_owned(),
            key.to_owned(),
            at.to_owned(),
            elapsed
        )?;
        Ok(())
    }

    /// Records a delivery, not yet acknowledged; false when the team already had the inject.
    pub async fn drill_delivery_insert(
        &mut self,
        exercise: &str,
        inject: &str,
        team: &str,
        at: &str,
        elapsed: f64,
    ) -> Result<bool, StoreError> {
        let done = exec!(
            self,
            format!(
                "INSERT INTO drill_deliveries ({DELIVERY}) VALUES ($1, $2, $3, $4, $5, NULL, NULL, NULL) \
                 ON CONFLICT (exercise_id, inject_key, team_id) DO NOTHING"
            ),
            exercise.to_owned(),
            inject.to_owned(),
            team.to_owned(),
            at.to_owned(),
            elapsed
        )?;
        Ok(done.rows_affected() > 0)
    }

    /// The first acknowledgement counts; false when there was nothing to acknowledge.
    pub async fn drill_delivery_ack(
        &mut self,
        exercise: &str,
        inject: &str,
        team: &str,
        at: &str,
        elapsed: f64,
        by: &str,
    ) -> Result<bool, StoreError> {
        let done = exec!(
            self,
            "UPDATE drill_deliveries SET acknowledged_at = $4, acknowledged_elapsed = $5, acknowledged_by = $6 WHERE exercise_id = $1 \
             AND inject_key = $2 AND team_id = $3 AND acknowledged_at IS NULL"
                .to_owned(),
            exercise.to_owned(),
            inject.to_owned(),
            team.to_owned(),
            at.to_owned(),
            elapsed,
            by.to_owned()
        )?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn drill_expectation_insert(&mut self, row: &ExpectationRow) -> Result<(), StoreError> {
        exec!(
            self,
            format!("INSERT INTO drill_expectations ({EXPECTATION}) VALUES ({})", marks(1, 10)),
            row.exercise_id.clone(),
            row.key.clone(),
            row.inject_key.clone(),
            row.kind.clone(),
            row.title.clone(),
            row.expected_score,
            row.deadline_seconds,
            row.scope.clone(),
            row.objective.clone(),
            row.challenge_key.clone()
        )?;
        Ok(())
    }

    pub async fn drill_response_insert(&mut self, row: &ResponseRow, file: Option<&[u8]>) -> Result<(), StoreError> {
        exec!(
            self,
            format!("INSERT INTO drill_responses ({RESPONSE}, file_content) VALUES ({})", marks(1, 11)),
            row.id.clone(),
            row.exercise_id.clone(),
            row.inject_key.clone(),
            row.team_id.clone(),
            row.user_id.clone(),
            row.body.clone(),
            row.file_name.clone(),
            row.file_sha256.clone(),
            row.at.clone(),
            row.elapsed,
            file.map(<[u8]>::to_vec)
        )?;
        Ok(())
    }

    pub async fn drill_evaluation_upsert(&mut self, row: &EvaluationRow) -> Result<(), StoreError> {
        exec!(
            self,
            format!(
                "INSERT INTO drill_evaluations ({EVALUATION}) VALUES ({}) ON CONFLICT (exercise_id, expectation_key, team_id) DO UPDATE \
                 SET score = excluded.score, comment = excluded.comment, evaluator = excluded.evaluator, \
                 response_id = excluded.response_id, at = excluded.at, elapsed = excluded.elapsed",
                marks(1, 9)
            ),
            row.exercise_id.clone(),
            row.expectation_key.clone(),
            row.team_id.clone(),
            row.score,
            row.comment.clone(),
            row.evaluator.clone(),
            row.response_id.clone(),
            row.at.clone(),
            row.elapsed
        )?;
        Ok(())
    }

    pub async fn drill_challenge_insert(&mut self, row: &ChallengeRow) -> Result<(), StoreError> {
        exec!(
            self,
            format!("INSERT INTO drill_challenges ({CHALLENGE}) VALUES ({})", marks(1, 15)),
            row.exercise_id.clone(),
            row.key.clone(),
            row.title.clone(),
            row.category.clone(),
            row.description.clone(),
            row.scoring.clone(),
            row.initial,
            row.minimum,
            row.decay,
            row.flags.clone(),
            row.max_attempts,
            row.hints.clone(),
            row.prerequisites.clone(),
            row.files.clone(),
            row.position
        )?;
        Ok(())
    }

    pub async fn drill_file_insert(&mut self, exercise: &str, sha256: &str, name: &str, content: &[u8]) -> Result<(), StoreError> {
        exec!(
            self,
            "INSERT INTO drill_files (exercise_id, sha256, name, content) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (exercise_id, sha256) DO NOTHING"
                .to_owned(),
            exercise.to_owned(),
            sha256.to_owned(),
            name.to_owned(),
            content.to_vec()
        )?;
        Ok(())
    }

    /// Takes one attempt of a team at a challenge and returns how many are
    /// used with it; None when `max` (> 0) are used up. A conditional
    /// UPDATE, so racing submissions cannot both take the last attempt on
    /// either database.
    pub async fn drill_attempt_take(&mut self, exercise: &str, challenge: &str, team: &str, max: i64) -> Result<Option<i64>, StoreError> {
        exec!(
            self,
            "INSERT INTO drill_attempt_counts (exercise_id, challenge_key, team_id, attempts) VALUES ($1, $2, $3, 0) \
             ON CONFLICT (exercise_id, challenge_key, team_id) DO NOTHING"
                .to_owned(),
            exercise.to_owned(),
            challenge.to_owned(),
            team.to_owned()
        )?;
        let done = exec!(
            self,
            "UPDATE drill_attempt_counts SET attempts = attempts + 1 WHERE exercise_id = $1 AND challenge_key = $2 AND team_id = $3 \
             AND ($4 <= 0 OR attempts < $4)"
                .to_owned(),
            exercise.to_owned(),
            challenge.to_owned(),
            team.to_owned(),
            max
        )?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let used: i64 =
            sqlx::query_scalar("SELECT attempts FROM drill_attempt_counts WHERE exercise_id = $1 AND challenge_key = $2 AND team_id = $3")
                .bind(exercise.to_owned())
                .bind(challenge.to_owned())
                .bind(team.to_owned())
                .fetch_one(self.conn())
                .await?;
        Ok(Some(used))
    }

    pub async fn drill_attempt_insert(&mut self, row: &AttemptRow) -> Result<(), StoreError> {
        exec!(
            self,
            format!("INSERT INTO drill_attempts ({ATTEMPT}) VALUES ({})", marks(1, 8)),
            row.id.clone(),
            row.exercise_id.clone(),
            row.challenge_key.clone(),
            row.team_id.clone(),
            row.user_id.clone(),
            row.correct,
            row.submitted.clone(),
            row.at.clone()
        )?;
        Ok(())
    }

    /// Records a solve; false when the team had already solved it.
    pub async fn drill_solve_insert(&mut self, row: &SolveRow) -> Result<bool, StoreError> {
        let done = exec!(
            self,
            format!(
                "INSERT INTO drill_solves ({SOLVE}) VALUES ({}) ON CONFLICT (exercise_id, challenge_key, team_id) DO NOTHING",
                marks(1, 6)
            ),
            row.exercise_id.clone(),
            row.challenge_key.clone(),
            row.team_id.clone(),
            row.user_id.clone(),
            row.at.clone(),
            row.elapsed
        )?;
        Ok(done.rows_affected() > 0)
    }

    /// Solves of a challenge so far, read in the transaction that added one.
    pub async fn drill_solve_count(&mut self, exercise: &str, challenge: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM drill_solves WHERE exercise_id = $1 AND challenge_key = $2")
            .bind(exercise.to_owned())
            .bind(challenge.to_owned())
            .fetch_one(self.conn())
            .await?)
    }

    /// Unlocks a hint for a team; false when it was already unlocked.
    pub async fn drill_hint_unlock(&mut self, row: &HintUnlockRow) -> Result<bool, StoreError> {
        let done = exec!(
            self,
            format!(
                "INSERT INTO drill_hint_unlocks ({HINT}) VALUES ({}) ON CONFLICT (exercise_id, challenge_key, hint_index, team_id) \
                 DO NOTHING",
                marks(1, 7)
            ),
            row.exercise_id.clone(),
            row.challenge_key.clone(),
            row.hint_index,
            row.team_id.clone(),
            row.user_id.clone(),
            row.cost,
            row.at.clone()
        )?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn drill_team_log_insert(&mut self, row: &TeamLogRow) -> Result<(), StoreError> {
        exec!(
            self,
            format!("INSERT INTO drill_team_log ({LOG}) VALUES ({})", marks(1, 7)),
            row.id.clone(),
            row.exercise_id.clone(),
            row.team_id.clone(),
            row.user_id.clone(),
            row.body.clone(),
            row.at.clone(),
            row.elapsed
        )?;
        Ok(())
    }

    /// Records a hot-wash answer and that `user` answered; false (and
    /// nothing stored) when they already had.
    pub async fn drill_hotwash_insert(&mut self, row: &HotwashRow, user: &str) -> Result<bool, StoreError> {
        let done = exec!(
            self,
            "INSERT INTO drill_hotwash_done (exercise_id, user_id) VALUES ($1, $2) ON CONFLICT (exercise_id, user_id) DO NOTHING"
                .to_owned(),
            row.exercise_id.clone(),
            user.to_owned()
        )?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        exec!(
            self,
            format!("INSERT INTO drill_hotwash ({HOTWASH}) VALUES ({})", marks(1, 8)),
            row.id.clone(),
            row.exercise_id.clone(),
            row.user_id.clone(),
            row.team_id.clone(),
            row.rating,
            row.went_well.clone(),
            row.to_improve.clone(),
            row.at.clone()
        )?;
        Ok(true)
    }

    pub async fn drill_improvement_insert(&mut self, row: &ImprovementRow) -> Result<(), StoreError> {
        exec!(
            self,
            format!("INSERT INTO drill_improvements ({IMPROVEMENT}) VALUES ({})", marks(1, 10)),
            row.id.clone(),
            row.exercise_id.clone(),
            row.objective.clone(),
            row.kind.clone(),
            row.observation.clone(),
            row.action.clone(),
            row.owner.clone(),
            row.due_on.clone(),
            row.created_by.clone(),
            row.created_at.clone()
        )?;
        Ok(())
    }
}
