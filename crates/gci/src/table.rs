//! A results table: each country's scores at the published precision, its
//! global and regional ranks and its tier.

use crate::countries;
use crate::framework::{Framework, RankMethod};
use crate::rank::rank;
use rampart_core::country::ItuRegion;
use serde::Serialize;
use std::collections::BTreeMap;

/// One country's unrounded scores, from a campaign or an import.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Entry {
    /// Alpha-3 code.
    pub country: String,
    pub overall: f64,
    pub pillars: BTreeMap<String, f64>,
    /// Indicator id → share in [0, 1]; empty for imported results.
    #[serde(default)]
    pub indicators: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub alpha3: String,
    pub alpha2: String,
    pub name: String,
    pub region: ItuRegion,
    /// At the published precision.
    pub overall: f64,
    pub pillars: BTreeMap<String, f64>,
    pub indicators: BTreeMap<String, f64>,
    pub rank: f64,
    pub regional_rank: f64,
    pub tier: Option<u8>,
}

/// Ranks `entries` globally and within each ITU region. Rows come sorted
/// by rank, then by name.
pub fn build(framework: &Framework, entries: &[Entry], method: RankMethod) -> Vec<Row> {
    let known: Vec<(&Entry, countries::Participant)> =
        entries.iter().filter_map(|entry| countries::find(&entry.country).map(|p| (entry, p))).collect();
    let scores: Vec<f64> = known.iter().map(|(entry, _)| entry.overall).collect();
    let global = rank(&scores, framework.precision, method);
    let mut regional = vec![0.0; known.len()];
    for region in ItuRegion::ALL {
        let members: Vec<usize> = (0..known.len()).filter(|i| known[*i].1.region == region).collect();
        let ranks = rank(&members.iter().map(|i| scores[*i]).collect::<Vec<_>>(), framework.precision, method);
        for (member, r) in members.iter().zip(ranks) {
            regional[*member] = r;
        }
    }
    let mut rows: Vec<Row> = known
        .iter()
        .enumerate()
        .map(|(i, (entry, participant))| Row {
            alpha3: participant.alpha3.clone(),
            alpha2: participant.alpha2.clone(),
            name: participant.name.clone(),
            region: participant.region,
            overall: framework.round(entry.overall),
            pillars: entry.pillars.iter().map(|(k, v)| (k.clone(), framework.round(*v))).collect(),
            indicators: entry.indicators.clone(),
            rank: global[i],
            regional_rank: regional[i],
            tier: framework.tier_of(entry.overall).map(|t| t.number),
        })
        .collect();
    rows.sort_by(|a, b| a.rank.total_cmp(&b.rank).then_with(|| a.name.cmp(&b.name)));
    rows
}

/// The table as CSV, one row per country.
pub fn to_csv(framework: &Framework, rows: &[Row]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let pillars: Vec<String> = framework.pillars().map(|p| p.id.clone()).collect();
    let mut header = vec!["alpha3".to_owned(), "alpha2".into(), "name".into(), "region".into(), "overall".into()];
    header.extend(pillars.iter().cloned());
    header.extend(["rank".into(), "regional_rank".into(), "tier".into()]);
    let _ = writer.write_record(&header);
    let places = framework.precision as usize;
    for row in rows {
        let mut record = vec![
            row.alpha3.clone(),
            row.alpha2.clone(),
            row.name.clone(),
            row.region.as_str().to_owned(),
            format!("{:.places$}", row.overall),
        ];
        record.extend(pillars.iter().map(|p| row.pillars.get(p).map(|v| format!("{v:.places$}")).unwrap_or_default()));
        record.push(crate::rank::format_rank(row.rank));
        record.push(crate::rank::format_rank(row.regional_rank));
        record.push(row.tier.map(|t| t.to_string()).unwrap_or_default());
        let _ = writer.write_record(&record);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}
