//! The gap report: which good practices a country lacks, in priority
//! order, and what closing each would do to its GCI pillar scores and tier.
//!
//! The GCI effect is computed by the GCI's own scoring engine. The baseline
//! answers are the country's current answers in its latest GCI campaign;
//! a question the campaign has no answer for is estimated from the
//! self-assessment (the mean of the elements mapped to its indicator,
//! rounded to the nearest answer). Closing a gap sets every question under
//! the element's GCI indicators to its best answer, so the effect is an
//! upper bound: what full marks on what the element measures would add.

use crate::data::{Element, Guide, Priority};
use rampart_gci::framework::{Framework, Level};
use rampart_gci::score::{Compiled, CountryScore, score_answers_with};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    InPlace,
    Partial,
    NotInPlace,
    NotApplicable,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::InPlace, Status::Partial, Status::NotInPlace, Status::NotApplicable];

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::InPlace => "in_place",
            Status::Partial => "partial",
            Status::NotInPlace => "not_in_place",
            Status::NotApplicable => "not_applicable",
        }
    }

    /// How much of the practice is there, for estimating GCI answers; none
    /// for an element that does not apply.
    pub fn score(self) -> Option<f64> {
        match self {
            Status::InPlace => Some(1.0),
            Status::Partial => Some(0.5),
            Status::NotInPlace => Some(0.0),
            Status::NotApplicable => None,
        }
    }

    pub fn is_gap(self) -> bool {
        matches!(self, Status::Partial | Status::NotInPlace)
    }
}

/// A country's current answer to one element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: Status,
    pub priority: Priority,
}

/// Where the baseline GCI answers came from.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub edition: String,
    /// The campaign whose answers were used, if any: (id, name).
    pub campaign: Option<(String, String)>,
    /// Questions answered in the campaign, and estimated from the self-assessment.
    pub answered: usize,
    pub estimated: usize,
    pub questions: usize,
}

/// Scores before and after a change, at the edition's published precision.
#[derive(Debug, Clone, Serialize)]
pub struct Effect {
    pub overall_before: f64,
    pub overall_after: f64,
    /// pillar id → (before, after)
    pub pillars: BTreeMap<String, (f64, f64)>,
    pub tier_before: Option<u8>,
    pub tier_after: Option<u8>,
}

impl Effect {
    pub fn overall_delta(&self) -> f64 {
        self.overall_after - self.overall_before
    }

    pub fn moves_tier(&self) -> bool {
        self.tier_before != self.tier_after
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    pub element: Element,
    pub status: Status,
    pub priority: Priority,
    pub effect: Effect,
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaSummary {
    pub area: String,
    pub elements: usize,
    pub in_place: usize,
    pub partial: usize,
    pub not_in_place: usize,
    pub not_applicable: usize,
}

impl AreaSummary {
    /// Share of the applicable elements in place, counting a partial one as half.
    pub fn share(&self) -> Option<f64> {
        let applicable = self.in_place + self.partial + self.not_in_place;
        (applicable > 0).then(|| (self.in_place as f64 + self.partial as f64 * 0.5) / applicable as f64)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GapReport {
    pub baseline: Baseline,
    pub current: Effect,
    pub gaps: Vec<Gap>,
    /// Every gap closed at once.
    pub all_closed: Effect,
    pub areas: Vec<AreaSummary>,
    /// Elements not yet answered, in the guide's order.
    pub unanswered: Vec<String>,
}

/// Per-area counts of a country's answers, and the share in place overall.
pub fn summarise(guide: &Guide, answers: &HashMap<String, Answer>) -> (Vec<AreaSummary>, Option<f64>) {
    let mut areas = Vec::new();
    let mut total = AreaSummary { area: String::new(), elements: 0, in_place: 0, partial: 0, not_in_place: 0, not_applicable: 0 };
    for area in &guide.areas {
        let mut summary = AreaSummary { area: area.id.clone(), elements: 0, in_place: 0, partial: 0, not_in_place: 0, not_applicable: 0 };
        for element in guide.elements.iter().filter(|e| e.area == area.id) {
            summary.elements += 1;
            total.elements += 1;
            let (mine, all) = match answers.get(&element.id).map(|a| a.status) {
                Some(Status::InPlace) => (&mut summary.in_place, &mut total.in_place),
                Some(Status::Partial) => (&mut summary.partial, &mut total.partial),
                Some(Status::NotInPlace) => (&mut summary.not_in_place, &mut total.not_in_place),
                Some(Status::NotApplicable) => (&mut summary.not_applicable, &mut total.not_applicable),
                None => continue,
            };
            *mine += 1;
            *all += 1;
        }
        areas.push(summary);
    }
    (areas, total.share())
}

/// The GCI questions under each indicator.
fn questions_by_indicator(framework: &Framework) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for question in framework.questions() {
        if let Some(indicator) = framework.ancestor(&question.id, Level::Indicator) {
            map.entry(indicator.id.clone()).or_default().push(question.id.clone());
        }
    }
    map
}

fn best_answers(framework: &Framework) -> HashMap<String, String> {
    framework.questions().filter_map(|q| q.answer.as_ref().map(|kind| (q.id.clone(), kind.nearest(1.0)))).collect()
}

/// Builds the gap report. `gci_answers` are the country's current answers
/// in `campaign` (question id → value), empty when it has none.
pub fn report(
    guide: &Guide,
    answers: &HashMap<String, Answer>,
    framework: &Framework,
    campaign: Option<(String, String)>,
    gci_answers: &HashMap<String, String>,
) -> GapReport {
    let by_indicator = questions_by_indicator(framework);
    let best = best_answers(framework);
    // Estimated answers for the questions the campaign left open.
    let mut baseline: HashMap<String, String> = HashMap::new();
    let mut estimated = 0;
    for (indicator, questions) in &by_indicator {
        let scores: Vec<f64> = guide
            .elements
            .iter()
            .filter(|e| e.gci.iter().any(|i| i == indicator))
            .filter_map(|e| answers.get(&e.id).and_then(|a| a.status.score()))
            .collect();
        for question in questions {
            if let Some(value) = gci_answers.get(question) {
                // An answer the edition cannot score is left out, as unanswered.
                let scorable = framework.node(question).and_then(|n| n.answer.as_ref()).is_some_and(|kind| kind.score(value).is_ok());
                if scorable {
                    baseline.insert(question.clone(), value.clone());
                }
                continue;
            }
            if scores.is_empty() {
                continue;
            }
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            if let Some(kind) = framework.node(question).and_then(|n| n.answer.as_ref()) {
                baseline.insert(question.clone(), kind.nearest(mean));
                estimated += 1;
            }
        }
    }
    let compiled = Compiled::new(framework);
    let score = |answers: &HashMap<String, String>| -> CountryScore {
        // Every value here came from the edition's own answer types.
        score_answers_with(framework, &compiled, "", answers).unwrap_or_else(|_| CountryScore {
            country: String::new(),
            overall: 0.0,
            pillars: BTreeMap::new(),
            indicators: BTreeMap::new(),
        })
    };
    let before = score(&baseline);
    let effect_of = |after: &CountryScore| -> Effect {
        let round = |v: f64| framework.round(v);
        Effect {
            overall_before: round(before.overall),
            overall_after: round(after.overall),
            pillars: before
                .pillars
                .iter()
                .map(|(id, b)| (id.clone(), (round(*b), round(after.pillars.get(id).copied().unwrap_or(*b)))))
                .collect(),
            tier_before: framework.tier_of(round(before.overall)).map(|t| t.number),
            tier_after: framework.tier_of(round(after.overall)).map(|t| t.number),
        }
    };
    let closing = |elements: &[&Element]| -> HashMap<String, String> {
        let mut answers = baseline.clone();
        for element in elements {
            for indicator in &element.gci {
                for question in by_indicator.get(indicator).into_iter().flatten() {
                    if let Some(value) = best.get(question) {
                        answers.insert(question.clone(), value.clone());
                    }
                }
            }
        }
        answers
    };
    let mut gaps = Vec::new();
    let mut unanswered = Vec::new();
    for element in &guide.elements {
        match answers.get(&element.id) {
            None => unanswered.push(element.id.clone()),
            Some(answer) if answer.status.is_gap() => gaps.push(Gap {
                element: element.clone(),
                status: answer.status,
                priority: answer.priority,
                effect: effect_of(&score(&closing(&[element]))),
            }),
            Some(_) => {}
        }
    }
    let order = |e: &Element| guide.elements.iter().position(|x| x.id == e.id).unwrap_or(usize::MAX);
    // Priority first, then the larger GCI effect, then what is missing
    // before what is partial, then the guide's order.
    gaps.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then(b.effect.overall_delta().total_cmp(&a.effect.overall_delta()))
            .then((a.status == Status::Partial).cmp(&(b.status == Status::Partial)))
            .then(order(&a.element).cmp(&order(&b.element)))
    });
    let all: Vec<&Element> = gaps.iter().map(|g| &g.element).collect();
    let all_closed = effect_of(&score(&closing(&all)));
    let current = effect_of(&before);
    let (areas, _) = summarise(guide, answers);
    GapReport {
        baseline: Baseline {
            edition: framework.code.clone(),
            campaign,
            answered: baseline.len() - estimated,
            estimated,
            questions: framework.questions().count(),
        },
        current,
        gaps,
        all_closed,
        areas,
        unanswered,
    }
}
