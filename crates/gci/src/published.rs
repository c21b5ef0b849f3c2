//! Published results of past editions (pillar scores per country) from
//! CSV, checked for consistency.
//!
//! Two shapes are read: long (`country, [year,] variable, value`, as
//! published datasets extracted from the reports are laid out) and wide
//! (`country, overall, <pillar>…`). Anything that cannot be right refuses
//! the whole file with every such row named: a value that is not a number,
//! a score outside its range, a country code no one knows, a variable no
//! pillar answers to, a row given twice, a year that is not the edition's.
//! What may be right but looks odd is imported with a warning naming the
//! row: a country missing pillars, pillars that do not add up to the
//! overall score within rounding. The overall score as published is what
//! ranks, so published ranks are reproduced even where the pillars are
//! incomplete.

use crate::GciError;
use crate::countries;
use crate::framework::Framework;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedRow {
    /// Alpha-3 code.
    pub country: String,
    pub overall: f64,
    /// Pillar id → points; a pillar the source lacks is absent.
    pub pillars: BTreeMap<String, f64>,
    /// 1-based line of the row that gave the overall score.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedImport {
    pub rows: Vec<PublishedRow>,
    pub warnings: Vec<String>,
}

/// The variable names sources use for each pillar, by pillar id.
fn pillar_for(variable: &str, framework: &Framework) -> Option<String> {
    let v = variable.trim().to_ascii_lowercase();
    let v = v.strip_prefix("gci_").unwrap_or(&v);
    let alias = match v {
        "legal" | "legal_measures" => "legal",
        "technical" | "technical_measures" => "technical",
        "organizational" | "organisational" | "organizational_measures" | "organisational_measures" => "organizational",
        "capacity" | "capacity_development" | "capacity_development_measures" => "capacity",
        "cooperation" | "cooperative_measures" | "cooperation_measures" => "cooperation",
        other => other,
    };
    framework.pillars().find(|p| p.id == alias).map(|p| p.id.clone())
}

fn is_overall(variable: &str) -> bool {
    matches!(variable.trim().to_ascii_lowercase().as_str(), "overall" | "gci_overall" | "score" | "gci_score" | "total")
}

/// Allowed gap between the overall score and the sum of the pillars: each
/// of five pillars and the overall score may be off by half a unit in the
/// last published place.
fn tolerance(framework: &Framework) -> f64 {
    let unit = 10f64.powi(-(framework.precision as i32));
    (framework.count(crate::framework::Level::Pillar) as f64 + 1.0) * unit / 2.0 + 1e-9
}

/// What a file says of one country so far: the overall score and its line,
/// the pillars, and the first line that named the country.
type Gathered = (Option<(f64, usize)>, BTreeMap<String, f64>, usize);

pub fn parse(text: &str, framework: &Framework) -> Result<PublishedImport, GciError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|err| GciError::Rows(vec![format!("line 1: {err}")]))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let country_col = find(&["cc_iso3c", "country", "iso3", "iso", "code", "alpha3", "alpha2", "country_code"])
        .ok_or_else(|| GciError::Rows(vec!["line 1: no country column (country, iso3, cc_iso3c…)".into()]))?;
    let year_col = find(&["ref_year", "year"]);
    let long = find(&["variable"]).zip(find(&["value"]));

    let mut errors = Vec::new();
    // country → (overall, overall line, pillars, first line)
    let mut entries: BTreeMap<String, Gathered> = BTreeMap::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let max_overall = framework.max_overall();

    let mut put = |errors: &mut Vec<String>, line: usize, code: &str, variable: &str, raw: &str| {
        let Some(participant) = countries::find(code) else {
            errors.push(format!("line {line}: country {code:?} is not a known ISO 3166 code"));
            return;
        };
        let target = if is_overall(variable) {
            None
        } else if let Some(pillar) = pillar_for(variable, framework) {
            Some(pillar)
        } else {
            errors.push(format!("line {line}: variable {variable:?} is neither the overall score nor a pillar of {}", framework.code));
            return;
        };
        let key = (participant.alpha3.clone(), target.clone().unwrap_or_else(|| "overall".into()));
        if let Some(first) = seen.insert(key.clone(), line) {
            errors.push(format!("line {line}: {} {} is already given on line {first}", key.0, key.1));
            return;
        }
        let value: f64 = match raw.trim().parse::<f64>() {
            Ok(value) if value.is_finite() => value,
            _ => {
                errors.push(format!("line {line}: {} {} value {raw:?} is not a number", key.0, key.1));
                return;
            }
        };
        let max = if target.is_some() { framework.pillar_max } else { max_overall };
        if !(0.0..=max).contains(&value) {
            errors.push(format!("line {line}: {} {} = {value} is outside 0–{max}", key.0, key.1));
            return;
        }
        let entry = entries.entry(participant.alpha3.clone()).or_insert((None, BTreeMap::new(), line));
        match target {
            None => entry.0 = Some((value, line)),
            Some(pillar) => {
                entry.1.insert(pillar, value);
            }
        }
    };

    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                errors.push(format!("line {line}: {err}"));
                continue;
            }
        };
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        if let Some(col) = year_col
            && !field(col).is_empty()
            && field(col) != framework.year.to_string()
        {
            errors.push(format!("line {line}: year {} is not the edition's year {}", field(col), framework.year));
            continue;
        }
        let code = field(country_col);
        if let Some((variable_col, value_col)) = long {
            put(&mut errors, line, code, field(variable_col), field(value_col));
        } else {
            for (col, header) in headers.iter().enumerate() {
                if col == country_col || Some(col) == year_col || header == "name" || header == "country_name" || header == "rank" {
                    continue;
                }
                if field(col).is_empty() {
                    continue;
                }
                put(&mut errors, line, code, header, field(col));
            }
        }
    }
    if !errors.is_empty() {
        return Err(GciError::Rows(errors));
    }

    let pillar_ids: Vec<String> = framework.pillars().map(|p| p.id.clone()).collect();
    let tolerance = tolerance(framework);
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    for (country, (overall, pillars, first_line)) in entries {
        let Some((overall, line)) = overall else {
            errors.push(format!("line {first_line}: {country} has pillar scores but no overall score"));
            continue;
        };
        let missing: Vec<&str> = pillar_ids.iter().filter(|id| !pillars.contains_key(*id)).map(String::as_str).collect();
        if !missing.is_empty() {
            warnings.push(format!("line {line}: {country} lacks {}", missing.join(", ")));
        }
        let sum: f64 = pillars.values().sum();
        // With pillars missing the sum can only fall short; above the
        // overall score it is wrong either way.
        let inconsistent = if missing.is_empty() { (sum - overall).abs() > tolerance } else { sum > overall + tolerance };
        if inconsistent {
            warnings.push(format!("line {line}: {country} pillars add up to {} but the overall score is {overall}", framework.round(sum)));
        }
        rows.push(PublishedRow { country, overall, pillars, line });
    }
    if !errors.is_empty() {
        return Err(GciError::Rows(errors));
    }
    if rows.is_empty() {
        return Err(GciError::Rows(vec!["the file holds no results".into()]));
    }
    Ok(PublishedImport { rows, warnings })
}
