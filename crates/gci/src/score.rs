//! Scores: question → (micro-, sub-) indicator → pillar → overall, by
//! weighted means. The tree is compiled once into flat arrays (parents
//! before children) so the nominal score and every Monte Carlo draw walk
//! it the same way, without maps or allocation per country.

use crate::framework::{Framework, Level};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// How children combine into their parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Weighted arithmetic mean: full compensation between children.
    Arithmetic,
    /// Weighted geometric mean above the indicator level (indicators into
    /// pillars, pillars into the overall score): a weak indicator pulls its
    /// pillar down more than a strong one lifts it. Questions always combine
    /// arithmetically: yes/no answers are 0 or 1, and a geometric mean of
    /// them would be zero whenever one answer is "no".
    Geometric,
}

/// Added before taking logarithms so a zero indicator does not make its
/// whole pillar zero; subtracted again after.
pub(crate) const GEOMETRIC_OFFSET: f64 = 0.01;

/// The framework as flat arrays. Index 0.. in the framework's node order.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub ids: Vec<String>,
    pub levels: Vec<Level>,
    /// Parent index; `usize::MAX` for pillars.
    pub parents: Vec<usize>,
    pub weights: Vec<f64>,
    /// Node index of each leaf (question), in leaf order.
    pub leaves: Vec<usize>,
    /// Leaf order position of each node that is a leaf.
    pub leaf_of: Vec<Option<usize>>,
    pub pillars: Vec<usize>,
}

pub const ROOT: usize = usize::MAX;

impl Compiled {
    pub fn new(framework: &Framework) -> Compiled {
        let index: HashMap<&str, usize> = framework.nodes.iter().enumerate().map(|(i, node)| (node.id.as_str(), i)).collect();
        let mut compiled = Compiled {
            ids: Vec::new(),
            levels: Vec::new(),
            parents: Vec::new(),
            weights: Vec::new(),
            leaves: Vec::new(),
            leaf_of: Vec::new(),
            pillars: Vec::new(),
        };
        for (i, node) in framework.nodes.iter().enumerate() {
            compiled.ids.push(node.id.clone());
            compiled.levels.push(node.level);
            compiled.parents.push(node.parent.as_deref().and_then(|p| index.get(p).copied()).unwrap_or(ROOT));
            compiled.weights.push(node.weight);
            if node.level == Level::Question {
                compiled.leaf_of.push(Some(compiled.leaves.len()));
                compiled.leaves.push(i);
            } else {
                compiled.leaf_of.push(None);
            }
            if node.level == Level::Pillar {
                compiled.pillars.push(i);
            }
        }
        compiled
    }

    /// A tree whose leaves are the pillars themselves, for published results
    /// that give only pillar scores.
    pub fn pillars_only(framework: &Framework) -> Compiled {
        let pillars: Vec<&crate::framework::Node> = framework.pillars().collect();
        Compiled {
            ids: pillars.iter().map(|p| p.id.clone()).collect(),
            levels: vec![Level::Pillar; pillars.len()],
            parents: vec![ROOT; pillars.len()],
            weights: pillars.iter().map(|p| p.weight).collect(),
            leaves: (0..pillars.len()).collect(),
            leaf_of: (0..pillars.len()).map(Some).collect(),
            pillars: (0..pillars.len()).collect(),
        }
    }

    /// The tree cut at indicators: pillars with their indicators as
    /// leaves, for results that keep indicator scores but not answers.
    pub fn indicators_only(framework: &Framework) -> Compiled {
        let kept: Vec<&crate::framework::Node> =
            framework.nodes.iter().filter(|n| matches!(n.level, Level::Pillar | Level::Indicator)).collect();
        let index: HashMap<&str, usize> = kept.iter().enumerate().map(|(i, node)| (node.id.as_str(), i)).collect();
        let mut compiled = Compiled {
            ids: kept.iter().map(|n| n.id.clone()).collect(),
            levels: kept.iter().map(|n| n.level).collect(),
            parents: kept.iter().map(|n| n.parent.as_deref().and_then(|p| index.get(p).copied()).unwrap_or(ROOT)).collect(),
            weights: kept.iter().map(|n| n.weight).collect(),
            leaves: Vec::new(),
            leaf_of: Vec::new(),
            pillars: Vec::new(),
        };
        for (i, level) in compiled.levels.iter().enumerate() {
            if *level == Level::Indicator {
                compiled.leaf_of.push(Some(compiled.leaves.len()));
                compiled.leaves.push(i);
            } else {
                compiled.leaf_of.push(None);
                compiled.pillars.push(i);
            }
        }
        compiled
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Each node's weight divided by the sum of its siblings' weights.
    pub fn normalise(&self, weights: &[f64], out: &mut Vec<f64>) {
        let mut sums = vec![0.0; self.len() + 1];
        for (i, parent) in self.parents.iter().enumerate() {
            sums[if *parent == ROOT { self.len() } else { *parent }] += weights[i];
        }
        out.clear();
        out.extend(
            self.parents.iter().enumerate().map(|(i, parent)| weights[i] / sums[if *parent == ROOT { self.len() } else { *parent }]),
        );
    }

    /// Evaluates every node for one country: `values[leaf]` in [0, 1] in
    /// leaf order, `normalised` from [`Compiled::normalise`]. Fills
    /// `scratch` with each node's score in [0, 1] and returns the overall
    /// score in [0, 1].
    pub fn evaluate(&self, values: &[f64], normalised: &[f64], aggregation: Aggregation, scratch: &mut [f64]) -> f64 {
        scratch.fill(0.0);
        let geometric = aggregation == Aggregation::Geometric;
        let mut overall = 0.0;
        // Children come after their parents, so walking backwards finishes
        // every child before its parent is read.
        for i in (0..self.len()).rev() {
            let value = match self.leaf_of[i] {
                Some(leaf) => values[leaf],
                None if geometric && self.above_indicator_children(i) => (scratch[i]).exp() - GEOMETRIC_OFFSET,
                None => scratch[i],
            };
            scratch[i] = value;
            let parent = self.parents[i];
            let into_geometric = geometric && matches!(self.levels[i], Level::Indicator | Level::Pillar);
            let contribution =
                if into_geometric { normalised[i] * (value + GEOMETRIC_OFFSET).max(1e-12).ln() } else { normalised[i] * value };
            if parent == ROOT {
                overall += contribution;
            } else {
                scratch[parent] += contribution;
            }
        }
        if geometric { overall.exp() - GEOMETRIC_OFFSET } else { overall }
    }

    /// Whether node `i` combines its children geometrically (pillars do,
    /// combining indicators).
    fn above_indicator_children(&self, i: usize) -> bool {
        self.levels[i] == Level::Pillar
    }
}

/// One country's scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountryScore {
    pub country: String,
    /// On the edition's overall scale (pillar_max × pillars), unrounded.
    pub overall: f64,
    /// Pillar id → points on the pillar scale, unrounded.
    pub pillars: BTreeMap<String, f64>,
    /// Indicator id → share of its maximum in [0, 1].
    pub indicators: BTreeMap<String, f64>,
}

/// An answer the edition cannot score, named by question.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerError {
    pub question: String,
    pub message: String,
}

/// Scores one country's answers (question id → value). Unanswered
/// questions score 0, as an unanswered GCI question does.
pub fn score_answers(framework: &Framework, country: &str, answers: &HashMap<String, String>) -> Result<CountryScore, AnswerError> {
    score_answers_with(framework, &Compiled::new(framework), country, answers)
}

/// [`score_answers`] with the tree compiled once, for scoring many countries.
pub fn score_answers_with(
    framework: &Framework,
    compiled: &Compiled,
    country: &str,
    answers: &HashMap<String, String>,
) -> Result<CountryScore, AnswerError> {
    let mut values = vec![0.0; compiled.leaves.len()];
    for (leaf, node_index) in compiled.leaves.iter().enumerate() {
        let node = &framework.nodes[*node_index];
        if let (Some(answer), Some(kind)) = (answers.get(&node.id), &node.answer) {
            values[leaf] = kind.score(answer).map_err(|message| AnswerError { question: node.id.clone(), message })?;
        }
    }
    Ok(score_values(framework, compiled, country, &values))
}

pub fn score_values(framework: &Framework, compiled: &Compiled, country: &str, values: &[f64]) -> CountryScore {
    let mut normalised = Vec::new();
    compiled.normalise(&compiled.weights, &mut normalised);
    let mut scratch = vec![0.0; compiled.len()];
    let overall = compiled.evaluate(values, &normalised, Aggregation::Arithmetic, &mut scratch);
    let pillar_count = compiled.pillars.len() as f64;
    let mut pillars = BTreeMap::new();
    let mut indicators = BTreeMap::new();
    for (i, level) in compiled.levels.iter().enumerate() {
        match level {
            Level::Pillar => {
                pillars.insert(compiled.ids[i].clone(), scratch[i] * framework.pillar_max);
            }
            Level::Indicator => {
                indicators.insert(compiled.ids[i].clone(), scratch[i]);
            }
            _ => {}
        }
    }
    CountryScore { country: country.to_owned(), overall: overall * framework.pillar_max * pillar_count, pillars, indicators }
}
