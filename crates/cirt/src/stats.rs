//! Figures for the CIRT dashboard and the yearly report: incidents by
//! status and priority, RSIT class, sector, week, and the constituents most
//! affected. Counting is done here, from facts the store returns, so the
//! rules are the same on both databases and easy to test.

use chrono::{DateTime, Datelike, Utc};
use rampart_core::time;
use rampart_store::cirt::IncidentFacts;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub total: usize,
    pub open: usize,
    /// Open incidents by priority, in the order critical, high, medium, low.
    pub open_by_priority: Vec<(String, usize)>,
    pub by_status: Vec<(String, usize)>,
    pub by_class: Vec<(String, usize)>,
    pub by_sector: Vec<(String, usize)>,
    /// ISO week (`2026-W09`) → incidents opened.
    pub by_week: Vec<(String, usize)>,
    /// Organisation id → incidents concerning it, most first (at most ten).
    pub top_constituents: Vec<(String, usize)>,
}

fn sorted_desc(map: HashMap<String, usize>) -> Vec<(String, usize)> {
    let mut items: Vec<_> = map.into_iter().collect();
    items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    items
}

pub fn iso_week(at: DateTime<Utc>) -> String {
    let week = at.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// Counts incidents and the constituents they concern.
pub fn figures(facts: &[IncidentFacts], constituents: &[(String, String, Option<String>)]) -> Figures {
    let mut figures = Figures { total: facts.len(), ..Figures::default() };
    let mut by_status = HashMap::new();
    let mut by_class = HashMap::new();
    let mut open_by_priority: HashMap<String, usize> = HashMap::new();
    let mut by_week = BTreeMap::new();
    for fact in facts {
        *by_status.entry(fact.status.clone()).or_default() += 1;
        *by_class.entry(fact.rsit_class.clone()).or_default() += 1;
        if !matches!(fact.status.as_str(), "resolved" | "closed") {
            figures.open += 1;
            *open_by_priority.entry(fact.priority.clone()).or_default() += 1;
        }
        if let Some(at) = time::parse(&fact.created_at) {
            *by_week.entry(iso_week(at)).or_insert(0) += 1;
        }
    }
    figures.open_by_priority =
        ["critical", "high", "medium", "low"].iter().map(|p| ((*p).to_owned(), open_by_priority.get(*p).copied().unwrap_or(0))).collect();
    figures.by_status = sorted_desc(by_status);
    figures.by_class = sorted_desc(by_class);
    figures.by_week = by_week.into_iter().collect();
    let mut by_sector = HashMap::new();
    let mut by_org = HashMap::new();
    for (_, org_id, sector) in constituents {
        *by_sector.entry(sector.clone().unwrap_or_else(|| "none".into())).or_default() += 1;
        *by_org.entry(org_id.clone()).or_default() += 1;
    }
    figures.by_sector = sorted_desc(by_sector);
    figures.top_constituents = sorted_desc(by_org).into_iter().take(10).collect();
    figures
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(id: &str, created_at: &str, status: &str, priority: &str, class: &str) -> IncidentFacts {
        IncidentFacts {
            id: id.into(),
            created_at: created_at.into(),
            status: status.into(),
            priority: priority.into(),
            rsit_class: class.into(),
        }
    }

    #[test]
    fn counts_by_every_axis() {
        let facts = [
            fact("a", "2026-03-02T10:00:00.000Z", "new", "critical", "fraud"),
            fact("b", "2026-03-03T10:00:00.000Z", "closed", "low", "fraud"),
            fact("c", "2026-03-10T10:00:00.000Z", "in_progress", "high", "malicious-code"),
        ];
        let constituents = [
            ("a".to_owned(), "isp".to_owned(), Some("digital_infrastructure".to_owned())),
            ("b".to_owned(), "isp".to_owned(), Some("digital_infrastructure".to_owned())),
            ("c".to_owned(), "bank".to_owned(), Some("banking".to_owned())),
            ("c".to_owned(), "ministry".to_owned(), None),
        ];
        let f = figures(&facts, &constituents);
        assert_eq!((f.total, f.open), (3, 2));
        assert_eq!(f.open_by_priority, [("critical".into(), 1), ("high".into(), 1), ("medium".into(), 0), ("low".into(), 0)]);
        assert_eq!(f.by_class, [("fraud".into(), 2), ("malicious-code".into(), 1)]);
        assert_eq!(f.by_week, [("2026-W10".into(), 2), ("2026-W11".into(), 1)]);
        assert_eq!(f.by_sector[0], ("digital_infrastructure".into(), 2));
        assert_eq!(f.top_constituents[0], ("isp".into(), 2));
        assert_eq!(figures(&[], &[]).total, 0);
    }
}
