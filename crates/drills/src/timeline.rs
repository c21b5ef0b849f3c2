//! The exercise clock and inject scheduling, as pure functions of real time.
//!
//! Exercise time is kept as seconds elapsed since the start. While running,
//! `elapsed = anchor_elapsed + (now − anchor_at) × speed`; a pause freezes
//! it at `anchor_elapsed`, and a resume or a change of speed sets a new
//! anchor. So pausing, resuming and speeding up never move an inject that
//! was already due, and a server restart loses nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

pub const STATES: [&str; 5] = ["scheduled", "running", "paused", "finished", "cancelled"];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExerciseClock {
    pub running: bool,
    pub speed: f64,
    pub anchor_at: Option<DateTime<Utc>>,
    pub anchor_elapsed: f64,
}

impl ExerciseClock {
    /// Exercise seconds elapsed at real time `now`.
    pub fn elapsed(&self, now: DateTime<Utc>) -> f64 {
        match (self.running, self.anchor_at) {
            (true, Some(anchor)) => {
                let real = (now - anchor).num_milliseconds().max(0) as f64 / 1000.0;
                self.anchor_elapsed + real * self.speed
            }
            _ => self.anchor_elapsed,
        }
    }

    /// The real time at which exercise time reaches `elapsed`, while running.
    pub fn real_time_of(&self, elapsed: f64) -> Option<DateTime<Utc>> {
        let anchor = self.anchor_at.filter(|_| self.running && self.speed > 0.0)?;
        let real_ms = ((elapsed - self.anchor_elapsed).max(0.0) / self.speed * 1000.0) as i64;
        Some(anchor + chrono::Duration::milliseconds(real_ms))
    }
}

/// `H:MM:SS` of exercise time, for timelines and the player's clock.
pub fn format_elapsed(seconds: f64) -> String {
    let total = seconds.max(0.0) as i64;
    format!("{}:{:02}:{:02}", total / 3600, (total / 60) % 60, total % 60)
}

/// What the scheduler needs of an inject.
#[derive(Debug, Clone)]
pub struct PendingInject {
    pub key: String,
    pub offset_seconds: i64,
    pub audiences: Vec<String>,
    /// (inject key, "delivered" | "responded")
    pub depends_on: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct TeamTarget {
    pub id: String,
    pub audience: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Due {
    pub inject: String,
    pub team_id: String,
}

/// Does an inject for `audiences` reach a team of `audience`? An inject
/// with no audiences reaches every team.
pub fn reaches(audiences: &[String], audience: &str) -> bool {
    audiences.is_empty() || audiences.iter().any(|a| a == audience)
}

/// The deliveries due at exercise time `elapsed`: for each pending inject
/// whose offset has passed, each target team that has not had it and for
/// which its dependencies hold. Dependencies are checked per team, so one
/// team's slow answer does not hold the others back. A delivery this call
/// makes counts for later injects in the same call, so a chain with equal
/// offsets goes out in one tick.
pub fn due(
    elapsed: f64,
    injects: &[PendingInject],
    teams: &[TeamTarget],
    delivered: &HashSet<(String, String)>,
    responded: &HashSet<(String, String)>,
) -> Vec<Due> {
    let mut delivered = delivered.clone();
    let mut out = Vec::new();
    let mut order: Vec<&PendingInject> = injects.iter().filter(|i| i.offset_seconds as f64 <= elapsed).collect();
    order.sort_by_key(|i| i.offset_seconds);
    // Repeat until nothing changes: a dependency may come later in offset order.
    let mut changed = true;
    let mut rounds = 0;
    while changed && rounds <= injects.len() {
        changed = false;
        rounds += 1;
        for inject in &order {
            for team in teams.iter().filter(|t| reaches(&inject.audiences, &t.audience)) {
                let key = (inject.key.clone(), team.id.clone());
                if delivered.contains(&key) {
                    continue;
                }
                let ready = inject.depends_on.iter().all(|(other, when)| {
                    let pair = (other.clone(), team.id.clone());
                    if when == "responded" { responded.contains(&pair) } else { delivered.contains(&pair) }
                });
                if ready {
                    delivered.insert(key);
                    out.push(Due { inject: inject.key.clone(), team_id: team.id.clone() });
                    changed = true;
                }
            }
        }
    }
    out
}

/// Minutes between two exercise times, for the report's figures.
pub fn minutes_between(from: f64, to: f64) -> f64 {
    ((to - from) / 60.0 * 10.0).round() / 10.0
}

/// The mean of some figures, or None when there are none.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| (values.iter().sum::<f64>() / values.len() as f64 * 10.0).round() / 10.0)
}

/// Teams grouped by audience, for the director's view.
pub fn by_audience(teams: &[TeamTarget]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for team in teams {
        *counts.entry(team.audience.clone()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().unwrap()
    }

    #[test]
    fn the_clock_runs_at_its_speed_and_stops_when_paused() {
        let running = ExerciseClock { running: true, speed: 10.0, anchor_at: Some(t0()), anchor_elapsed: 60.0 };
        assert_eq!(running.elapsed(t0() + Duration::seconds(30)), 360.0);
        assert_eq!(running.real_time_of(660.0), Some(t0() + Duration::seconds(60)));
        let paused = ExerciseClock { running: false, ..running };
        assert_eq!(paused.elapsed(t0() + Duration::hours(5)), 60.0);
        assert_eq!(format_elapsed(3725.9), "1:02:05");
    }

    fn inject(key: &str, minutes: i64, audiences: &[&str], deps: &[(&str, &str)]) -> PendingInject {
        PendingInject {
            key: key.into(),
            offset_seconds: minutes * 60,
            audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
            depends_on: deps.iter().map(|(k, w)| ((*k).to_owned(), (*w).to_owned())).collect(),
        }
    }

    #[test]
    fn due_injects_respect_offsets_audiences_and_per_team_dependencies() {
        let teams = vec![
            TeamTarget { id: "ke".into(), audience: "national_cirt".into() },
            TeamTarget { id: "gh".into(), audience: "national_cirt".into() },
            TeamTarget { id: "telco".into(), audience: "operator".into() },
        ];
        let injects = vec![
            inject("I1", 0, &[], &[]),
            inject("I2", 10, &["national_cirt"], &[]),
            inject("I3", 10, &["national_cirt"], &[("I2", "delivered")]),
            inject("I4", 20, &[], &[("I1", "responded")]),
        ];
        let none = HashSet::new();
        let first = due(0.0, &injects, &teams, &none, &none);
        assert_eq!(first.len(), 3, "I1 to everyone at the start");
        let at_ten: HashSet<Due> = due(600.0, &injects, &teams, &none, &none).into_iter().collect();
        assert!(at_ten.contains(&Due { inject: "I3".into(), team_id: "gh".into() }), "a chain with equal offsets goes out together");
        assert!(!at_ten.iter().any(|d| d.inject != "I1" && d.team_id == "telco"), "I2 and I3 are not for operators");
        let delivered: HashSet<(String, String)> = at_ten.iter().map(|d| (d.inject.clone(), d.team_id.clone())).collect();
        let responded: HashSet<(String, String)> = [("I1".to_owned(), "ke".to_owned())].into_iter().collect();
        let later = due(1200.0, &injects, &teams, &delivered, &responded);
        assert_eq!(later, vec![Due { inject: "I4".into(), team_id: "ke".into() }], "only the team that answered I1 gets I4");
    }
}
