//! Ranks with ties. Scores are compared at the published precision, so
//! two countries the report shows with the same score share a rank, as
//! they do in the GCI 2020 tables.

use crate::framework::{RankMethod, round_to};

/// Ranks `scores` (higher is better). Returns one rank per score, in input
/// order. Scores are rounded to `precision` decimals before comparing.
pub fn rank(scores: &[f64], precision: u32, method: RankMethod) -> Vec<f64> {
    let keys: Vec<i64> = scores.iter().map(|s| (round_to(*s, precision) * 10f64.powi(precision as i32)).round() as i64).collect();
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| keys[*b].cmp(&keys[*a]));
    let mut ranks = vec![0.0; scores.len()];
    let mut start = 0;
    let mut dense = 0.0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && keys[order[end]] == keys[order[start]] {
            end += 1;
        }
        dense += 1.0;
        let rank = match method {
            RankMethod::Dense => dense,
            RankMethod::Standard => (start + 1) as f64,
            RankMethod::Fractional => (start + 1 + end) as f64 / 2.0,
        };
        for index in &order[start..end] {
            ranks[*index] = rank;
        }
        start = end;
    }
    ranks
}

/// Ranks for integer keys already scaled, without rounding; the Monte Carlo
/// loop uses it with a reusable order buffer.
pub(crate) fn dense_rank_into(keys: &[i64], order: &mut Vec<usize>, ranks: &mut [u32]) {
    order.clear();
    order.extend(0..keys.len());
    order.sort_unstable_by(|a, b| keys[*b].cmp(&keys[*a]));
    let mut dense = 0;
    let mut previous = None;
    for index in order.iter() {
        if previous != Some(keys[*index]) {
            dense += 1;
            previous = Some(keys[*index]);
        }
        ranks[*index] = dense;
    }
}

/// Formats a rank: whole ranks without decimals, fractional with one.
pub fn format_rank(rank: f64) -> String {
    if rank.fract() == 0.0 { format!("{rank:.0}") } else { format!("{rank:.1}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_at_the_published_precision() {
        let scores = [100.0, 99.541, 99.538, 99.48, 98.52, 98.52, 98.52, 98.06];
        assert_eq!(rank(&scores, 2, RankMethod::Dense), vec![1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0, 5.0]);
        assert_eq!(rank(&scores, 2, RankMethod::Standard), vec![1.0, 2.0, 2.0, 4.0, 5.0, 5.0, 5.0, 8.0]);
        assert_eq!(rank(&scores, 2, RankMethod::Fractional), vec![1.0, 2.5, 2.5, 4.0, 6.0, 6.0, 6.0, 8.0]);
        // At three decimals the first tie breaks.
        assert_eq!(rank(&scores, 3, RankMethod::Dense)[..3], [1.0, 2.0, 3.0]);
        assert!(rank(&[], 2, RankMethod::Dense).is_empty());
    }

    #[test]
    fn dense_rank_into_matches_rank() {
        let keys = [5, 9, 9, 1, 5];
        let mut order = Vec::new();
        let mut ranks = [0; 5];
        dense_rank_into(&keys, &mut order, &mut ranks);
        assert_eq!(ranks, [2, 1, 1, 3, 2]);
        assert_eq!(format_rank(2.0), "2");
        assert_eq!(format_rank(2.5), "2.5");
    }
}
