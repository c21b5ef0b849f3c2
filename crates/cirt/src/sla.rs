//! Service-level timers: time to triage, to first response and to
//! resolution, with targets per priority. They run on the time given by the
//! caller (the injected clock); the resolution timer pauses while the
//! incident waits for the constituent, since that wait is not the CIRT's.

use crate::priority::Priority;
use crate::workflow::Status;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    pub triage: Duration,
    pub first_response: Duration,
    pub resolution: Duration,
}

/// Targets per priority, critical first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    pub targets: [Targets; 4],
    /// Share of the target after which a running timer is "at risk".
    pub at_risk_percent: i64,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        let t = |triage: i64, response: i64, resolution: i64| Targets {
            triage: Duration::minutes(triage),
            first_response: Duration::minutes(response),
            resolution: Duration::minutes(resolution),
        };
        SlaPolicy {
            targets: [
                t(15, 60, 24 * 60),
                t(60, 4 * 60, 3 * 24 * 60),
                t(4 * 60, 24 * 60, 7 * 24 * 60),
                t(24 * 60, 3 * 24 * 60, 30 * 24 * 60),
            ],
            at_risk_percent: 75,
        }
    }
}

impl SlaPolicy {
    pub fn for_priority(&self, priority: Priority) -> Targets {
        let index = Priority::ALL.iter().position(|p| *p == priority).unwrap_or(3);
        self.targets[index]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    Triage,
    FirstResponse,
    Resolution,
}

impl TimerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Triage => "triage",
            TimerKind::FirstResponse => "first_response",
            TimerKind::Resolution => "resolution",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerState {
    Running,
    AtRisk,
    Breached,
    Met,
    MetLate,
}

impl TimerState {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerState::Running => "running",
            TimerState::AtRisk => "at_risk",
            TimerState::Breached => "breached",
            TimerState::Met => "met",
            TimerState::MetLate => "met_late",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timer {
    pub kind: TimerKind,
    pub target_minutes: i64,
    pub due_at: DateTime<Utc>,
    pub met_at: Option<DateTime<Utc>>,
    pub state: TimerState,
}

/// One entry of an incident's status history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub at: DateTime<Utc>,
    pub to: Status,
}

fn state(
    start: DateTime<Utc>,
    target: Duration,
    due: DateTime<Utc>,
    met: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    at_risk_percent: i64,
) -> TimerState {
    match met {
        Some(at) if at <= due => TimerState::Met,
        Some(_) => TimerState::MetLate,
        None if now > due => TimerState::Breached,
        None => {
            let elapsed = (now - start) - (due - start - target);
            if elapsed.num_seconds() * 100 >= target.num_seconds() * at_risk_percent { TimerState::AtRisk } else { TimerState::Running }
        }
    }
}

/// Computes the three timers of an incident.
///
/// `history` is the status history in time order (without the initial
/// `new`); `first_response_at` is the first constituent-facing action (a
/// notice or a reply), which the caller knows from the timeline.
pub fn timers(
    policy: &SlaPolicy,
    priority: Priority,
    created_at: DateTime<Utc>,
    history: &[StatusChange],
    first_response_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<Timer> {
    let targets = policy.for_priority(priority);
    let triaged_at = history.iter().find(|c| c.to != Status::New).map(|c| c.at);

    // Resolution: met by the latest move to resolved/closed if the incident
    // is still resolved or closed now; paused while waiting for the constituent.
    let mut paused = Duration::zero();
    let mut waiting_since: Option<DateTime<Utc>> = None;
    let mut resolved_at: Option<DateTime<Utc>> = None;
    for change in history {
        if let Some(since) = waiting_since.take() {
            paused += change.at - since;
        }
        match change.to {
            Status::WaitingForConstituent => waiting_since = Some(change.at),
            Status::Resolved | Status::Closed => {
                if resolved_at.is_none() {
                    resolved_at = Some(change.at);
                }
            }
            _ => resolved_at = None,
        }
    }
    if let Some(since) = waiting_since {
        paused += now - since;
    }
    let resolution_due = created_at + targets.resolution + paused;

    let triage_due = created_at + targets.triage;
    let response_due = created_at + targets.first_response;
    vec![
        Timer {
            kind: TimerKind::Triage,
            target_minutes: targets.triage.num_minutes(),
            due_at: triage_due,
            met_at: triaged_at,
            state: state(created_at, targets.triage, triage_due, triaged_at, now, policy.at_risk_percent),
        },
        Timer {
            kind: TimerKind::FirstResponse,
            target_minutes: targets.first_response.num_minutes(),
            due_at: response_due,
            met_at: first_response_at,
            state: state(created_at, targets.first_response, response_due, first_response_at, now, policy.at_risk_percent),
        },
        Timer {
            kind: TimerKind::Resolution,
            target_minutes: targets.resolution.num_minutes(),
            due_at: resolution_due,
            met_at: resolved_at,
            state: state(created_at, targets.resolution, resolution_due, resolved_at, now, policy.at_risk_percent),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 3, 0, 0).single().unwrap() + Duration::minutes(minutes)
    }

    fn states(timers: &[Timer]) -> Vec<TimerState> {
        timers.iter().map(|t| t.state).collect()
    }

    #[test]
    fn a_critical_incident_through_its_life() {
        let policy = SlaPolicy::default();
        let created = t(0);
        // Ten minutes in, nothing done: triage (15 min) is at risk? 10/15 = 66% → running.
        assert_eq!(states(&timers(&policy, Priority::Critical, created, &[], None, t(10))), [TimerState::Running; 3]);
        // Twelve minutes: 80% of triage target → at risk.
        assert_eq!(timers(&policy, Priority::Critical, created, &[], None, t(12))[0].state, TimerState::AtRisk);
        // Triaged at 14, responded at 50, resolved at 600.
        let history = [StatusChange { at: t(14), to: Status::Triage }, StatusChange { at: t(20), to: Status::InProgress }];
        let now = timers(&policy, Priority::Critical, created, &history, Some(t(50)), t(70));
        assert_eq!(states(&now), [TimerState::Met, TimerState::Met, TimerState::Running]);
        let done = [history[0], history[1], StatusChange { at: t(600), to: Status::Resolved }];
        let after = timers(&policy, Priority::Critical, created, &done, Some(t(50)), t(2000));
        assert_eq!(states(&after), [TimerState::Met, TimerState::Met, TimerState::Met]);
    }

    #[test]
    fn breaches_and_late_completion() {
        let policy = SlaPolicy::default();
        let late_triage = [StatusChange { at: t(30), to: Status::Triage }];
        let timers_now = timers(&policy, Priority::Critical, t(0), &late_triage, None, t(90));
        assert_eq!(states(&timers_now), [TimerState::MetLate, TimerState::Breached, TimerState::Running]);
    }

    #[test]
    fn waiting_for_the_constituent_pauses_resolution_and_reopening_restarts_it() {
        let policy = SlaPolicy::default();
        let history = [
            StatusChange { at: t(10), to: Status::InProgress },
            StatusChange { at: t(60), to: Status::WaitingForConstituent },
            StatusChange { at: t(60 + 48 * 60), to: Status::InProgress },
        ];
        let result = timers(&policy, Priority::Critical, t(0), &history, Some(t(30)), t(60 + 48 * 60 + 10));
        let resolution = &result[2];
        assert_eq!(resolution.due_at, t(24 * 60 + 48 * 60), "two days of waiting added to the 24 h target");
        assert_eq!(resolution.state, TimerState::Running);
        let reopened = [
            StatusChange { at: t(10), to: Status::InProgress },
            StatusChange { at: t(100), to: Status::Resolved },
            StatusChange { at: t(200), to: Status::InProgress },
        ];
        let result = timers(&policy, Priority::Critical, t(0), &reopened, Some(t(30)), t(300));
        assert_eq!(result[2].met_at, None, "a reopened incident is not resolved");
    }
}
