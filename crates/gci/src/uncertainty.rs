//! Uncertainty and sensitivity analysis, as the JRC/OECD handbook on
//! composite indicators asks and no published index offers its readers:
//! Monte Carlo over the weights at every level (uniform ±spread or a
//! Dirichlet around the nominal weights) and over the aggregation
//! (arithmetic or geometric), leave-one-indicator-out, and diagnostics of
//! the index itself. Reproducible: the same seed gives the same result.
//!
//! Output per country: nominal rank, median rank, 5th–95th percentile rank
//! interval, probability of each tier. Per pillar: a first-order
//! variance-based sensitivity index of the average rank shift to that
//! pillar's weight (and to the aggregation choice), estimated by binning
//! the draws on the factor.

use crate::framework::{Framework, Level, round_to};
use crate::rank::dense_rank_into;
use crate::score::{Aggregation, Compiled, GEOMETRIC_OFFSET, ROOT};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Gamma};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "model")]
pub enum WeightModel {
    /// Each weight times a factor drawn uniformly from [1 − spread, 1 + spread].
    Uniform { spread: f64 },
    /// Each sibling group's weights drawn from a Dirichlet centred on the
    /// nominal weights; higher concentration stays closer to them.
    Dirichlet { concentration: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Settings {
    pub draws: usize,
    pub seed: u64,
    pub weights: WeightModel,
    /// Share of draws that aggregate geometrically (0 = arithmetic only).
    pub geometric_share: f64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { draws: 10_000, seed: 2020, weights: WeightModel::Uniform { spread: 0.25 }, geometric_share: 0.5 }
    }
}

/// The data the analysis runs on: each country's leaf values in [0, 1].
pub struct Input {
    pub compiled: Compiled,
    pub countries: Vec<String>,
    /// Row-major: countries × leaves.
    pub values: Vec<f64>,
    pub precision: u32,
    /// Overall scale (pillar max × pillars), for rounding and tiers.
    pub scale: f64,
    /// Tier minimums on the 0–100 scale, highest first, with tier numbers.
    pub tiers: Vec<(u8, f64)>,
}

impl Input {
    pub fn new(framework: &Framework, compiled: Compiled, countries: Vec<String>, values: Vec<f64>) -> Input {
        Input {
            scale: framework.max_overall(),
            precision: framework.precision,
            tiers: framework.tiers.iter().map(|t| (t.number, t.min)).collect(),
            compiled,
            countries,
            values,
        }
    }

    /// The input for a set of results: at indicator level when every
    /// country has every indicator's score (a campaign's results), else at
    /// pillar level over the countries with every pillar (an import). The
    /// second value lists the countries left out for missing pillars.
    pub fn from_entries(framework: &Framework, entries: &[crate::table::Entry]) -> (Input, Vec<String>) {
        let indicator_ids: Vec<String> = framework.nodes.iter().filter(|n| n.level == Level::Indicator).map(|n| n.id.clone()).collect();
        let with_indicators = !entries.is_empty() && entries.iter().all(|e| indicator_ids.iter().all(|id| e.indicators.contains_key(id)));
        let compiled = if with_indicators { Compiled::indicators_only(framework) } else { Compiled::pillars_only(framework) };
        let leaf_ids: Vec<String> = compiled.leaves.iter().map(|i| compiled.ids[*i].clone()).collect();
        let mut countries = Vec::new();
        let mut values = Vec::new();
        let mut excluded = Vec::new();
        for entry in entries {
            let row: Option<Vec<f64>> = if with_indicators {
                leaf_ids.iter().map(|id| entry.indicators.get(id).copied()).collect()
            } else {
                leaf_ids.iter().map(|id| entry.pillars.get(id).map(|v| v / framework.pillar_max)).collect()
            };
            match row {
                Some(row) => {
                    countries.push(entry.country.clone());
                    values.extend(row);
                }
                None => excluded.push(entry.country.clone()),
            }
        }
        (Input::new(framework, compiled, countries, values), excluded)
    }

    fn leaves(&self) -> usize {
        self.compiled.leaves.len()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountryResult {
    pub country: String,
    pub nominal_score: f64,
    pub nominal_rank: u32,
    pub median_rank: f64,
    pub p5_rank: u32,
    pub p95_rank: u32,
    /// (tier number, probability), for the edition's tiers.
    pub tiers: Vec<(u8, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sensitivity {
    /// A pillar id, or "aggregation".
    pub factor: String,
    pub first_order: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaveOneOut {
    pub node: String,
    pub mean_rank_shift: f64,
    pub max_rank_shift: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostics {
    pub pillars: Vec<String>,
    /// Share of countries at each pillar's maximum.
    pub ceiling: Vec<f64>,
    /// Pearson correlations between pillars, pillars × pillars.
    pub correlations: Vec<Vec<f64>>,
    /// Indicators on which at least 90% of countries score the same.
    pub flat_indicators: Vec<(String, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub settings: Settings,
    pub countries: Vec<CountryResult>,
    pub sensitivity: Vec<Sensitivity>,
    pub leave_one_out: Vec<LeaveOneOut>,
    pub diagnostics: Diagnostics,
    /// Mean absolute rank shift from nominal over all draws.
    pub mean_rank_shift: f64,
}

/// Runs the analysis. Cost is draws × countries × nodes; 10,000 draws
/// over 194 countries is the benchmark's case.
pub fn analyse(input: &Input, settings: Settings) -> Analysis {
    let compiled = &input.compiled;
    let n = input.countries.len();
    let leaves = input.leaves();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(settings.seed);

    // Nominal: arithmetic, nominal weights.
    let mut normalised = Vec::new();
    compiled.normalise(&compiled.weights, &mut normalised);
    let mut scratch = vec![0.0; compiled.len()];
    let mut nominal_scores = vec![0.0; n];
    let mut node_scores = vec![0.0; n * compiled.len()];
    for c in 0..n {
        nominal_scores[c] =
            compiled.evaluate(&input.values[c * leaves..(c + 1) * leaves], &normalised, Aggregation::Arithmetic, &mut scratch);
        node_scores[c * compiled.len()..(c + 1) * compiled.len()].copy_from_slice(&scratch);
    }
    let mut order = Vec::with_capacity(n);
    let mut keys = vec![0i64; n];
    let mut nominal_ranks = vec![0u32; n];
    to_keys(&nominal_scores, input, &mut keys);
    dense_rank_into(&keys, &mut order, &mut nominal_ranks);

    // Draws.
    let draws = settings.draws.max(1);
    let mut ranks = vec![0u32; n * draws]; // country-major
    let mut tier_counts = vec![0u32; n * input.tiers.len()];
    let pillar_count = compiled.pillars.len();
    let mut factors = vec![0.0; draws * (pillar_count + 1)];
    let mut shifts = vec![0.0; draws];
    let mut weights = compiled.weights.clone();
    let mut effective = vec![0.0; compiled.len()];
    let mut scores = vec![0.0; n];
    let mut draw_ranks = vec![0u32; n];
    let gammas = gamma_shapes(compiled, settings.weights);
    let geometric_plan = GeometricPlan::new(compiled);
    for d in 0..draws {
        draw_weights(compiled, settings.weights, &gammas, &mut rng, &mut weights);
        compiled.normalise(&weights, &mut normalised);
        let geometric = settings.geometric_share > 0.0 && rng.random::<f64>() < settings.geometric_share;
        for (p, pillar) in compiled.pillars.iter().enumerate() {
            factors[d * (pillar_count + 1) + p] = normalised[*pillar];
        }
        factors[d * (pillar_count + 1) + pillar_count] = if geometric { 1.0 } else { 0.0 };
        if geometric && let Some(plan) = &geometric_plan {
            plan.scores(compiled, &normalised, &input.values, leaves, &mut scores);
        } else if geometric {
            for (score, row) in scores.iter_mut().zip(input.values.chunks_exact(leaves.max(1))) {
                *score = compiled.evaluate(row, &normalised, Aggregation::Geometric, &mut scratch);
            }
        } else {
            // Arithmetic means compose: the overall score is a dot product
            // of the leaves with their path weights, far cheaper than a walk.
            for i in 0..compiled.len() {
                let parent = compiled.parents[i];
                effective[i] = normalised[i] * if parent == ROOT { 1.0 } else { effective[parent] };
            }
            let leaf_weights: Vec<f64> = compiled.leaves.iter().map(|i| effective[*i]).collect();
            for (score, row) in scores.iter_mut().zip(input.values.chunks_exact(leaves.max(1))) {
                *score = row.iter().zip(&leaf_weights).map(|(v, w)| v * w).sum();
            }
        }
        to_keys(&scores, input, &mut keys);
        dense_rank_into(&keys, &mut order, &mut draw_ranks);
        let mut shift = 0.0;
        for c in 0..n {
            ranks[c * draws + d] = draw_ranks[c];
            shift += (draw_ranks[c] as f64 - nominal_ranks[c] as f64).abs();
            if let Some(t) = tier_index(input, scores[c]) {
                tier_counts[c * input.tiers.len() + t] += 1;
            }
        }
        shifts[d] = if n > 0 { shift / n as f64 } else { 0.0 };
    }

    let countries = (0..n)
        .map(|c| {
            let row = &mut ranks[c * draws..(c + 1) * draws];
            row.sort_unstable();
            CountryResult {
                country: input.countries[c].clone(),
                nominal_score: round_to(nominal_scores[c] * input.scale, input.precision),
                nominal_rank: nominal_ranks[c],
                median_rank: if draws % 2 == 1 { row[draws / 2] as f64 } else { (row[draws / 2 - 1] + row[draws / 2]) as f64 / 2.0 },
                p5_rank: row[percentile_index(draws, 0.05)],
                p95_rank: row[percentile_index(draws, 0.95)],
                tiers: input
                    .tiers
                    .iter()
                    .enumerate()
                    .map(|(t, (number, _))| (*number, tier_counts[c * input.tiers.len() + t] as f64 / draws as f64))
                    .collect(),
            }
        })
        .collect();

    let mut sensitivity: Vec<Sensitivity> = compiled
        .pillars
        .iter()
        .enumerate()
        .map(|(p, pillar)| Sensitivity {
            factor: compiled.ids[*pillar].clone(),
            first_order: first_order(&factors, pillar_count + 1, p, &shifts),
        })
        .collect();
    if settings.geometric_share > 0.0 && settings.geometric_share < 1.0 {
        sensitivity.push(Sensitivity {
            factor: "aggregation".into(),
            first_order: first_order(&factors, pillar_count + 1, pillar_count, &shifts),
        });
    }

    Analysis {
        settings,
        countries,
        sensitivity,
        leave_one_out: leave_one_out(input, &nominal_ranks),
        diagnostics: diagnostics(input, &node_scores),
        mean_rank_shift: shifts.iter().sum::<f64>() / draws as f64,
    }
}

/// The geometric aggregation without walking the tree per country: each
/// leaf's weight within its indicator is computed once per draw, then a
/// country costs one pass over its leaves, a logarithm per indicator and
/// one exponential (the pillar's exponential and the overall score's
/// logarithm cancel).
struct GeometricPlan {
    /// Indicator position of each leaf.
    leaf_indicator: Vec<usize>,
    /// Node index of each indicator.
    indicators: Vec<usize>,
    /// Pillar position of each indicator.
    indicator_pillar: Vec<usize>,
}

impl GeometricPlan {
    /// `None` when some leaf has no indicator above it (pillar-level data).
    fn new(compiled: &Compiled) -> Option<GeometricPlan> {
        let indicators: Vec<usize> = (0..compiled.len()).filter(|i| compiled.levels[*i] == Level::Indicator).collect();
        let mut leaf_indicator = Vec::with_capacity(compiled.leaves.len());
        for leaf in &compiled.leaves {
            let mut node = *leaf;
            while compiled.levels[node] != Level::Indicator {
                node = compiled.parents[node];
                if node == ROOT {
                    return None;
                }
            }
            leaf_indicator.push(indicators.iter().position(|i| *i == node)?);
        }
        let indicator_pillar =
            indicators.iter().map(|i| compiled.pillars.iter().position(|p| *p == compiled.parents[*i])).collect::<Option<Vec<_>>>()?;
        Some(GeometricPlan { leaf_indicator, indicators, indicator_pillar })
    }

    fn scores(&self, compiled: &Compiled, normalised: &[f64], values: &[f64], leaves: usize, scores: &mut [f64]) {
        // Weight of each node within its indicator (1 at the indicator).
        let mut within = vec![1.0; compiled.len()];
        for i in 0..compiled.len() {
            let parent = compiled.parents[i];
            if matches!(compiled.levels[i], Level::Pillar | Level::Indicator) || parent == ROOT {
                continue;
            }
            within[i] = normalised[i] * within[parent];
        }
        let leaf_weights: Vec<f64> = compiled.leaves.iter().map(|i| within[*i]).collect();
        let indicator_weights: Vec<f64> = self.indicators.iter().map(|i| normalised[*i]).collect();
        let pillar_weights: Vec<f64> = compiled.pillars.iter().map(|p| normalised[*p]).collect();
        let mut indicator_values = vec![0.0; self.indicators.len()];
        let mut pillar_logs = vec![0.0; pillar_weights.len()];
        for (score, row) in scores.iter_mut().zip(values.chunks_exact(leaves.max(1))) {
            indicator_values.fill(0.0);
            for ((value, weight), k) in row.iter().zip(&leaf_weights).zip(&self.leaf_indicator) {
                indicator_values[*k] += value * weight;
            }
            pillar_logs.fill(0.0);
            for (k, value) in indicator_values.iter().enumerate() {
                pillar_logs[self.indicator_pillar[k]] += indicator_weights[k] * (value + GEOMETRIC_OFFSET).max(1e-12).ln();
            }
            let overall_log: f64 = pillar_logs.iter().zip(&pillar_weights).map(|(l, w)| l * w).sum();
            *score = overall_log.exp() - GEOMETRIC_OFFSET;
        }
    }
}

fn percentile_index(draws: usize, p: f64) -> usize {
    (((draws as f64) * p).ceil() as usize).saturating_sub(1).min(draws - 1)
}

/// Scores in [0, 1] → integer keys at the published precision on the
/// overall scale, so ties are decided as the report decides them.
fn to_keys(scores: &[f64], input: &Input, keys: &mut [i64]) {
    let factor = 10f64.powi(input.precision as i32);
    for (key, score) in keys.iter_mut().zip(scores) {
        *key = (score * input.scale * factor + 1e-9).round() as i64;
    }
}

fn tier_index(input: &Input, score: f64) -> Option<usize> {
    if input.tiers.is_empty() {
        return None;
    }
    let percent = round_to(score * 100.0, input.precision);
    Some(input.tiers.iter().position(|(_, min)| percent >= *min).unwrap_or(input.tiers.len() - 1))
}

/// Gamma shape per node for the Dirichlet model: concentration × siblings
/// × nominal share, so equal nominal weights all get `concentration`.
fn gamma_shapes(compiled: &Compiled, model: WeightModel) -> Vec<Option<Gamma<f64>>> {
    let WeightModel::Dirichlet { concentration } = model else { return Vec::new() };
    let mut normalised = Vec::new();
    compiled.normalise(&compiled.weights, &mut normalised);
    let siblings: Vec<usize> = compiled.parents.iter().map(|p| compiled.parents.iter().filter(|q| *q == p).count()).collect();
    normalised.iter().zip(siblings).map(|(share, count)| Gamma::new((concentration * count as f64 * share).max(1e-3), 1.0).ok()).collect()
}

fn draw_weights(compiled: &Compiled, model: WeightModel, gammas: &[Option<Gamma<f64>>], rng: &mut Xoshiro256PlusPlus, out: &mut [f64]) {
    match model {
        WeightModel::Uniform { spread } => {
            for (w, nominal) in out.iter_mut().zip(&compiled.weights) {
                *w = nominal * (1.0 + spread * (2.0 * rng.random::<f64>() - 1.0));
            }
        }
        WeightModel::Dirichlet { .. } => {
            for (i, w) in out.iter_mut().enumerate() {
                *w = match gammas.get(i).copied().flatten() {
                    Some(gamma) => gamma.sample(rng).max(1e-12),
                    None => compiled.weights[i],
                };
            }
        }
    }
}

/// First-order sensitivity index Var(E[Y | X]) / Var(Y), estimated by
/// sorting the draws on X and averaging Y in equal-count bins.
fn first_order(factors: &[f64], stride: usize, column: usize, y: &[f64]) -> f64 {
    let draws = y.len();
    if draws < 40 {
        return 0.0;
    }
    let mean = y.iter().sum::<f64>() / draws as f64;
    let variance = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / draws as f64;
    if variance <= 0.0 {
        return 0.0;
    }
    let mut order: Vec<usize> = (0..draws).collect();
    order.sort_by(|a, b| factors[a * stride + column].total_cmp(&factors[b * stride + column]));
    let bins = ((draws as f64).sqrt() as usize).clamp(2, 50);
    let mut between = 0.0;
    for b in 0..bins {
        let slice = &order[b * draws / bins..(b + 1) * draws / bins];
        if slice.is_empty() {
            continue;
        }
        let bin_mean = slice.iter().map(|d| y[*d]).sum::<f64>() / slice.len() as f64;
        between += slice.len() as f64 * (bin_mean - mean).powi(2);
    }
    (between / draws as f64 / variance).clamp(0.0, 1.0)
}

/// Drops each indicator in turn (or each pillar, when the data stop at
/// pillars) and measures how far ranks move.
fn leave_one_out(input: &Input, nominal: &[u32]) -> Vec<LeaveOneOut> {
    let compiled = &input.compiled;
    let n = input.countries.len();
    let leaves = input.leaves();
    let level = if compiled.levels.contains(&Level::Indicator) { Level::Indicator } else { Level::Pillar };
    let mut results = Vec::new();
    let mut normalised = Vec::new();
    let mut scratch = vec![0.0; compiled.len()];
    let mut scores = vec![0.0; n];
    let mut keys = vec![0i64; n];
    let mut order = Vec::new();
    let mut ranks = vec![0u32; n];
    for node in (0..compiled.len()).filter(|i| compiled.levels[*i] == level) {
        let mut weights = compiled.weights.clone();
        weights[node] = 0.0;
        // An indicator alone in its pillar takes the pillar with it.
        let parent = compiled.parents[node];
        if parent != ROOT && compiled.parents.iter().enumerate().all(|(i, p)| *p != parent || i == node) {
            weights[parent] = 0.0;
        }
        normalise_safe(compiled, &weights, &mut normalised);
        for (score, row) in scores.iter_mut().zip(input.values.chunks_exact(leaves.max(1))) {
            *score = compiled.evaluate(row, &normalised, Aggregation::Arithmetic, &mut scratch);
        }
        to_keys(&scores, input, &mut keys);
        dense_rank_into(&keys, &mut order, &mut ranks);
        let shifts: Vec<u32> = ranks.iter().zip(nominal).map(|(a, b)| a.abs_diff(*b)).collect();
        results.push(LeaveOneOut {
            node: compiled.ids[node].clone(),
            mean_rank_shift: if n > 0 { shifts.iter().sum::<u32>() as f64 / n as f64 } else { 0.0 },
            max_rank_shift: shifts.iter().copied().max().unwrap_or(0),
        });
    }
    results
}

fn normalise_safe(compiled: &Compiled, weights: &[f64], out: &mut Vec<f64>) {
    compiled.normalise(weights, out);
    for value in out.iter_mut() {
        if !value.is_finite() {
            *value = 0.0;
        }
    }
}

fn diagnostics(input: &Input, node_scores: &[f64]) -> Diagnostics {
    let compiled = &input.compiled;
    let n = input.countries.len();
    let width = compiled.len();
    let column = |node: usize| -> Vec<f64> { (0..n).map(|c| node_scores[c * width + node]).collect() };
    let pillars: Vec<String> = compiled.pillars.iter().map(|p| compiled.ids[*p].clone()).collect();
    let pillar_columns: Vec<Vec<f64>> = compiled.pillars.iter().map(|p| column(*p)).collect();
    let ceiling = pillar_columns
        .iter()
        .map(|col| if n == 0 { 0.0 } else { col.iter().filter(|v| **v >= 1.0 - 1e-9).count() as f64 / n as f64 })
        .collect();
    let correlations = pillar_columns.iter().map(|a| pillar_columns.iter().map(|b| pearson(a, b)).collect()).collect();
    let mut flat_indicators = Vec::new();
    for node in (0..width).filter(|i| compiled.levels[*i] == Level::Indicator) {
        let mut counts: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        for value in column(node) {
            *counts.entry((value * 1000.0).round() as i64).or_default() += 1;
        }
        let mode = counts.values().copied().max().unwrap_or(0);
        let share = if n == 0 { 0.0 } else { mode as f64 / n as f64 };
        if n > 0 && share >= 0.9 {
            flat_indicators.push((compiled.ids[node].clone(), share));
        }
    }
    Diagnostics { pillars, ceiling, correlations, flat_indicators }
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.len() < 2 {
        return 0.0;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    if va <= 0.0 || vb <= 0.0 { 0.0 } else { cov / (va * vb).sqrt() }
}
