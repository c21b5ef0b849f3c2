//! The action plan's rules: objectives hold actions; an action has a lead,
//! supporting organisations, a budget, a start and an end, a status and
//! KPIs with targets and measured values over time. An action not done by
//! its end date is overdue. A KPI's progress is how far its latest value
//! has moved from the baseline towards the target, so a KPI whose target
//! is lower than its baseline (days to patch, say) works the same way.

use chrono::NaiveDate;
use rampart_store::strategy::{ActionRow, KpiRow, KpiValueRow, PlanRows};
use serde::Serialize;
use std::collections::BTreeMap;

pub const ACTION_STATUSES: [&str; 4] = ["planned", "in_progress", "done", "cancelled"];

pub fn is_open(action: &ActionRow) -> bool {
    !matches!(action.status.as_str(), "done" | "cancelled")
}

/// Not done by its end date.
pub fn is_overdue(action: &ActionRow, today: NaiveDate) -> bool {
    is_open(action) && NaiveDate::parse_from_str(&action.end_on, "%Y-%m-%d").is_ok_and(|end| end < today)
}

#[derive(Debug, Clone, Serialize)]
pub struct KpiState {
    pub kpi: KpiRow,
    pub values: Vec<KpiValueRow>,
    pub latest: Option<f64>,
    /// 0 at the baseline, 1 at the target; beyond either end is clamped.
    pub progress: Option<f64>,
}

pub fn kpi_state(kpi: &KpiRow, values: &[KpiValueRow]) -> KpiState {
    let mut mine: Vec<KpiValueRow> = values.iter().filter(|v| v.kpi_id == kpi.id).cloned().collect();
    mine.sort_by(|a, b| a.measured_on.cmp(&b.measured_on));
    let latest = mine.last().map(|v| v.value);
    let span = kpi.target - kpi.baseline;
    let progress = latest.map(|value| if span.abs() < f64::EPSILON { 1.0 } else { ((value - kpi.baseline) / span).clamp(0.0, 1.0) });
    KpiState { kpi: kpi.clone(), values: mine, latest, progress }
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionState {
    pub action: ActionRow,
    pub overdue: bool,
    pub kpis: Vec<KpiState>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectiveState {
    pub id: String,
    pub title: String,
    pub area: String,
    pub actions: Vec<ActionState>,
}

/// The monitoring and evaluation summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub actions: usize,
    pub by_status: BTreeMap<String, usize>,
    pub overdue: usize,
    /// currency → total budget of the actions not cancelled
    pub budget: BTreeMap<String, i64>,
    pub kpis: usize,
    pub kpis_measured: usize,
    pub kpis_met: usize,
    /// Mean progress of the measured KPIs.
    pub mean_progress: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub objectives: Vec<ObjectiveState>,
    pub summary: Summary,
    /// The earliest start and latest end, for the timeline.
    pub span: Option<(NaiveDate, NaiveDate)>,
}

impl Plan {
    pub fn actions(&self) -> impl Iterator<Item = (&ObjectiveState, &ActionState)> {
        self.objectives.iter().flat_map(|o| o.actions.iter().map(move |a| (o, a)))
    }
}

pub fn build(rows: &PlanRows, today: NaiveDate) -> Plan {
    let mut summary = Summary::default();
    let mut progress = Vec::new();
    let mut span: Option<(NaiveDate, NaiveDate)> = None;
    let mut objectives = Vec::new();
    for objective in &rows.objectives {
        let mut actions = Vec::new();
        for action in rows.actions.iter().filter(|a| a.objective_id == objective.id) {
            let kpis: Vec<KpiState> = rows.kpis.iter().filter(|k| k.action_id == action.id).map(|k| kpi_state(k, &rows.values)).collect();
            let overdue = is_overdue(action, today);
            summary.actions += 1;
            *summary.by_status.entry(action.status.clone()).or_default() += 1;
            summary.overdue += usize::from(overdue);
            if action.status != "cancelled"
                && let Some(budget) = action.budget
            {
                *summary.budget.entry(action.currency.clone()).or_default() += budget;
            }
            for kpi in &kpis {
                summary.kpis += 1;
                if let Some(p) = kpi.progress {
                    summary.kpis_measured += 1;
                    summary.kpis_met += usize::from(p >= 1.0);
                    progress.push(p);
                }
            }
            let dates = (NaiveDate::parse_from_str(&action.start_on, "%Y-%m-%d"), NaiveDate::parse_from_str(&action.end_on, "%Y-%m-%d"));
            if let (Ok(start), Ok(end)) = dates {
                span = Some(span.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
            }
            actions.push(ActionState { action: action.clone(), overdue, kpis });
        }
        objectives.push(ObjectiveState { id: objective.id.clone(), title: objective.title.clone(), area: objective.area.clone(), actions });
    }
    summary.mean_progress = (!progress.is_empty()).then(|| progress.iter().sum::<f64>() / progress.len() as f64);
    Plan { objectives, summary, span }
}

/// The plan as CSV, one row per action, for a ministry's own reporting.
pub fn to_csv(plan: &Plan) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "objective",
        "area",
        "action",
        "lead",
        "supporting",
        "budget",
        "currency",
        "start",
        "end",
        "status",
        "overdue",
        "origin",
        "kpi",
        "unit",
        "baseline",
        "target",
        "latest",
        "progress",
    ];
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(header);
    for (objective, state) in plan.actions() {
        let a = &state.action;
        let common = [
            objective.title.clone(),
            objective.area.clone(),
            a.title.clone(),
            a.lead_org.clone(),
            a.supporting.lines().map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("; "),
            a.budget.map(|b| b.to_string()).unwrap_or_default(),
            a.currency.clone(),
            a.start_on.clone(),
            a.end_on.clone(),
            a.status.clone(),
            if state.overdue { "yes" } else { "no" }.to_owned(),
            a.origin.clone(),
        ];
        if state.kpis.is_empty() {
            let _ = writer.write_record(common.iter().cloned().chain(std::iter::repeat_n(String::new(), 6)));
        }
        for kpi in &state.kpis {
            let extra = [
                kpi.kpi.name.clone(),
                kpi.kpi.unit.clone(),
                kpi.kpi.baseline.to_string(),
                kpi.kpi.target.to_string(),
                kpi.latest.map(|v| v.to_string()).unwrap_or_default(),
                kpi.progress.map(|p| format!("{:.0}%", p * 100.0)).unwrap_or_default(),
            ];
            let _ = writer.write_record(common.iter().cloned().chain(extra));
        }
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}
