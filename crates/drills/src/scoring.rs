//! Challenge values and the scoreboard.
//!
//! Dynamic values follow CTFd's formulas so that organisers who know CTFd
//! get the numbers they expect. With `n` the number of solves so far and
//! n′ = n − 1 (the first solver gets the full value):
//!
//! - linear: `ceil(initial − decay · n′)`;
//! - "logarithmic" (a parabola in fact): `ceil(((minimum − initial) / decay²) · n′² + initial)`;
//!
//! both floored at `minimum`. As in CTFd, every team that solved the
//! challenge holds its current value, so early solvers lose points when
//! others catch up. Ties are broken by who reached their score first.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::HashMap;

/// The value of a challenge after `solves` solves (0 and 1 give the full value).
pub fn challenge_value(scoring: &str, initial: i64, minimum: i64, decay: i64, solves: i64) -> i64 {
    let n = (solves - 1).max(0) as f64;
    let (initial_f, minimum_f, decay_f) = (initial as f64, minimum as f64, decay.max(1) as f64);
    let value = match scoring {
        "linear" => (initial_f - decay_f * n).ceil(),
        "logarithmic" => (((minimum_f - initial_f) / (decay_f * decay_f)) * n * n + initial_f).ceil(),
        _ => return initial,
    };
    (value as i64).max(minimum)
}

/// One scoring event of a team, for the scoreboard and its timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Award {
    pub team_id: String,
    pub points: i64,
    pub at: DateTime<Utc>,
    /// Hint costs lower the score but do not count as reaching it.
    pub counts_for_tie: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standing {
    pub rank: usize,
    pub team_id: String,
    pub team: String,
    pub country: Option<String>,
    pub score: i64,
    pub challenge_points: i64,
    pub expectation_points: i64,
    pub hint_costs: i64,
    pub solves: usize,
    /// When the team reached its current score; None before its first award.
    pub reached_at: Option<DateTime<Utc>>,
}

/// Orders standings: higher score first; at equal scores, whoever reached
/// theirs first; teams that never scored last, then by name for stability.
pub fn rank(standings: &mut [Standing]) {
    standings.sort_by(|a, b| {
        b.score.cmp(&a.score).then_with(|| match (a.reached_at, b.reached_at) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.team.cmp(&b.team),
        })
    });
    let mut previous: Option<(i64, Option<DateTime<Utc>>)> = None;
    let mut rank = 0;
    for (i, standing) in standings.iter_mut().enumerate() {
        // Only an exact tie (same score, same moment, or both unscored) shares a rank.
        if previous != Some((standing.score, standing.reached_at)) {
            rank = i + 1;
        }
        standing.rank = rank;
        previous = Some((standing.score, standing.reached_at));
    }
}

/// The latest award time per team among awards that count for ties.
pub fn reached_at(awards: &[Award]) -> HashMap<String, DateTime<Utc>> {
    let mut latest: HashMap<String, DateTime<Utc>> = HashMap::new();
    for award in awards.iter().filter(|a| a.counts_for_tie) {
        let entry = latest.entry(award.team_id.clone()).or_insert(award.at);
        if award.at > *entry {
            *entry = award.at;
        }
    }
    latest
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ctfd_linear_and_parabolic_decay() {
        // initial 500, minimum 100, decay 10 (linear: points lost per solve)
        assert_eq!(challenge_value("linear", 500, 100, 10, 0), 500);
        assert_eq!(challenge_value("linear", 500, 100, 10, 1), 500);
        assert_eq!(challenge_value("linear", 500, 100, 10, 2), 490);
        assert_eq!(challenge_value("linear", 500, 100, 10, 41), 100);
        assert_eq!(challenge_value("linear", 500, 100, 10, 1000), 100, "floored at the minimum");
        // parabolic: decay = number of solves at which the minimum is reached
        assert_eq!(challenge_value("logarithmic", 500, 100, 20, 1), 500);
        // n' = 1: (100-500)/400 * 1 + 500 = 499
        assert_eq!(challenge_value("logarithmic", 500, 100, 20, 2), 499);
        // n' = 10: -1 * 100 + 500 = 400
        assert_eq!(challenge_value("logarithmic", 500, 100, 20, 11), 400);
        assert_eq!(challenge_value("logarithmic", 500, 100, 20, 21), 100);
        assert_eq!(challenge_value("logarithmic", 500, 100, 20, 40), 100);
        // n' = 3 with decay 7: (-400/49)*9 + 500 = 426.53 → 427 (ceiling)
        assert_eq!(challenge_value("logarithmic", 500, 100, 7, 4), 427);
        assert_eq!(challenge_value("static", 300, 0, 0, 50), 300);
    }

    fn standing(team: &str, score: i64, reached: Option<u32>) -> Standing {
        Standing {
            rank: 0,
            team_id: team.into(),
            team: team.into(),
            country: None,
            score,
            challenge_points: score,
            expectation_points: 0,
            hint_costs: 0,
            solves: 0,
            reached_at: reached.map(|m| Utc.with_ymd_and_hms(2026, 1, 1, 10, m, 0).single().unwrap()),
        }
    }

    #[test]
    fn ties_go_to_whoever_reached_the_score_first() {
        let mut table = vec![
            standing("late", 300, Some(40)),
            standing("none", 0, None),
            standing("early", 300, Some(10)),
            standing("top", 500, Some(50)),
            standing("also-none", 0, None),
        ];
        rank(&mut table);
        let order: Vec<(&str, usize)> = table.iter().map(|s| (s.team.as_str(), s.rank)).collect();
        assert_eq!(order, vec![("top", 1), ("early", 2), ("late", 3), ("also-none", 4), ("none", 4)]);
    }
}
