//! SIM3 self-assessments: a level 0–4 for each parameter, a target profile,
//! averages per category and the gaps between the two, largest first.

use crate::StrategyError;
use crate::data::{SIM3_CATEGORIES, Sim3};
use crate::error::invalid;
use serde::Serialize;
use std::collections::BTreeMap;

/// Levels and targets, parameter id → 0..=4.
pub type Profile = BTreeMap<String, u8>;

/// Checks a profile against the model: known parameters, levels 0–4, and
/// (when `complete`) every parameter present.
pub fn check(model: &Sim3, field: &str, profile: &Profile, complete: bool) -> Result<(), StrategyError> {
    for (id, level) in profile {
        if model.parameter(id).is_none() {
            return Err(invalid(format!("{field}.{id}"), "is not a SIM3 parameter"));
        }
        if *level > 4 {
            return Err(invalid(format!("{field}.{id}"), format!("level {level} is not 0 to 4")));
        }
    }
    if complete && let Some(missing) = model.parameters.iter().find(|p| !profile.contains_key(&p.id)) {
        return Err(invalid(format!("{field}.{}", missing.id), "has no level"));
    }
    Ok(())
}

/// Mean level per category, in the model's order: (category, name, mean).
pub fn category_means(model: &Sim3, profile: &Profile) -> Vec<(String, String, f64)> {
    SIM3_CATEGORIES
        .iter()
        .map(|(id, name)| {
            let levels: Vec<f64> =
                model.parameters.iter().filter(|p| p.category == *id).filter_map(|p| profile.get(&p.id)).map(|l| f64::from(*l)).collect();
            let mean = if levels.is_empty() { 0.0 } else { levels.iter().sum::<f64>() / levels.len() as f64 };
            ((*id).to_owned(), (*name).to_owned(), mean)
        })
        .collect()
}

/// Mean level over every parameter.
pub fn overall(profile: &Profile) -> f64 {
    if profile.is_empty() { 0.0 } else { profile.values().map(|l| f64::from(*l)).sum::<f64>() / profile.len() as f64 }
}

#[derive(Debug, Clone, Serialize)]
pub struct MaturityGap {
    pub parameter: String,
    pub name: String,
    pub level: u8,
    pub target: u8,
}

/// Parameters below their target, the largest shortfall first, then in the model's order.
pub fn gaps(model: &Sim3, levels: &Profile, targets: &Profile) -> Vec<MaturityGap> {
    let mut gaps: Vec<(usize, MaturityGap)> = model
        .parameters
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let level = levels.get(&p.id).copied().unwrap_or(0);
            let target = targets.get(&p.id).copied()?;
            (target > level).then(|| (i, MaturityGap { parameter: p.id.clone(), name: p.name.clone(), level, target }))
        })
        .collect();
    gaps.sort_by(|(ia, a), (ib, b)| (b.target - b.level).cmp(&(a.target - a.level)).then(ia.cmp(ib)));
    gaps.into_iter().map(|(_, g)| g).collect()
}
