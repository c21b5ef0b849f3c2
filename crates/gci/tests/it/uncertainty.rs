use crate::support::corpus_2020;
use rampart_gci::framework;
use rampart_gci::published;
use rampart_gci::score::Compiled;
use rampart_gci::uncertainty::{Input, Settings, WeightModel, analyse};

fn imported_input() -> Input {
    let framework = framework::shipped("gci-2020").unwrap();
    let import = published::parse(&corpus_2020(), &framework).unwrap();
    let compiled = Compiled::pillars_only(&framework);
    let pillar_ids = compiled.ids.clone();
    let complete: Vec<_> = import.rows.iter().filter(|r| r.pillars.len() == pillar_ids.len()).collect();
    let values = complete.iter().flat_map(|r| pillar_ids.iter().map(|p| r.pillars[p] / framework.pillar_max)).collect();
    Input::new(&framework, compiled, complete.iter().map(|r| r.country.clone()).collect(), values)
}

#[test]
fn monte_carlo_is_reproducible_and_brackets_the_nominal_rank() {
    let input = imported_input();
    assert_eq!(input.countries.len(), 188);
    let settings = Settings { draws: 2000, seed: 7, ..Settings::default() };
    let first = analyse(&input, settings);
    let again = analyse(&input, settings);
    assert_eq!(first, again, "the same seed gives the same analysis");
    let other = analyse(&input, Settings { seed: 8, ..settings });
    assert_ne!(first.countries, other.countries);

    let usa = first.countries.iter().find(|c| c.country == "USA").unwrap();
    assert_eq!(usa.nominal_rank, 1);
    assert_eq!(usa.p5_rank, 1, "a full score stays first under any weights");
    for country in &first.countries {
        assert!(country.p5_rank as f64 <= country.median_rank && country.median_rank <= country.p95_rank as f64, "{country:?}");
    }
    // A mid-table country moves under weight uncertainty.
    assert!(first.countries.iter().any(|c| c.p95_rank > c.p5_rank + 5));
    // Sensitivity: one index per pillar and one for the aggregation; all in [0, 1].
    assert_eq!(first.sensitivity.len(), 6);
    assert!(first.sensitivity.iter().all(|s| (0.0..=1.0).contains(&s.first_order)));
    // Leave-one-pillar-out (the data stop at pillars) moves ranks.
    assert_eq!(first.leave_one_out.len(), 5);
    assert!(first.leave_one_out.iter().all(|l| l.mean_rank_shift > 0.0));
    // The ceiling effect the report shows: many countries at the full 20 in Legal.
    let legal = first.diagnostics.pillars.iter().position(|p| p == "legal").unwrap();
    assert!(first.diagnostics.ceiling[legal] > 0.2, "{:?}", first.diagnostics.ceiling);
    assert!((first.diagnostics.correlations[legal][legal] - 1.0).abs() < 1e-9);
    assert!(first.diagnostics.correlations[0][1] > 0.5, "pillars correlate");
}

#[test]
fn arithmetic_only_with_no_spread_keeps_every_rank() {
    let input = imported_input();
    let analysis = analyse(&input, Settings { draws: 50, seed: 1, weights: WeightModel::Uniform { spread: 0.0 }, geometric_share: 0.0 });
    assert!(analysis.countries.iter().all(|c| c.p5_rank == c.nominal_rank && c.p95_rank == c.nominal_rank));
    assert_eq!(analysis.mean_rank_shift, 0.0);
    let dirichlet =
        analyse(&input, Settings { draws: 500, seed: 1, weights: WeightModel::Dirichlet { concentration: 20.0 }, geometric_share: 0.0 });
    assert!(dirichlet.mean_rank_shift > 0.0);
}

#[test]
fn tier_probabilities_add_up() {
    let framework = framework::shipped("gci-2024").unwrap();
    let compiled = Compiled::new(&framework);
    let leaves = compiled.leaves.len();
    // Three synthetic countries: all in place, half, nothing.
    let mut values = vec![1.0; leaves];
    values.extend(vec![0.5; leaves]);
    values.extend(vec![0.0; leaves]);
    let input = Input::new(&framework, compiled, vec!["AAA".into(), "BBB".into(), "CCC".into()], values);
    let analysis = analyse(&input, Settings { draws: 300, ..Settings::default() });
    for country in &analysis.countries {
        let total: f64 = country.tiers.iter().map(|(_, p)| p).sum();
        assert!((total - 1.0).abs() < 1e-9, "{country:?}");
    }
    assert_eq!(analysis.countries[0].tiers[0], (1, 1.0), "all in place is tier 1 under any weights");
    assert_eq!(analysis.countries[2].tiers[4], (5, 1.0));
    // A country at 50 is tier 4 whatever the weights, since every answer is the same.
    assert_eq!(analysis.countries[1].tiers[3], (4, 1.0));
    // Every indicator is answered the same way by two of three countries at most: none flat at 90%.
    assert!(analysis.diagnostics.flat_indicators.is_empty());
}

#[test]
fn the_fast_geometric_path_equals_the_tree_walk() {
    use rampart_gci::score::Aggregation;
    let framework = framework::shipped("gci-2024").unwrap();
    let compiled = Compiled::new(&framework);
    let leaves = compiled.leaves.len();
    let values: Vec<f64> = (0..leaves).map(|i| [0.0, 0.5, 1.0][i % 3]).collect();
    let mut normalised = Vec::new();
    compiled.normalise(&compiled.weights, &mut normalised);
    let mut scratch = vec![0.0; compiled.len()];
    let walked = compiled.evaluate(&values, &normalised, Aggregation::Geometric, &mut scratch);
    // Geometric-only analysis with no spread: every draw is the nominal geometric score.
    let input = Input::new(&framework, compiled, vec!["AAA".into()], values);
    let analysis = analyse(&input, Settings { draws: 3, seed: 1, weights: WeightModel::Uniform { spread: 0.0 }, geometric_share: 1.0 });
    let tier = framework.tier_of(walked * 100.0).unwrap().number;
    assert_eq!(analysis.countries[0].tiers.iter().find(|(n, _)| *n == tier).map(|(_, p)| *p), Some(1.0), "walked score {walked}");
    assert!(walked > 0.3 && walked < 0.6, "{walked}");
}
