//! The Global Cybersecurity Index in the browser: public results (tables,
//! map, country profiles, rank intervals, printable report, CSV and JSON),
//! and for the people who make it, campaigns (the progress board, the
//! questionnaire with evidence, review and validation, publication),
//! editions (copy, edit, freeze) and the import of past results.

use super::{Ctx, csv_download, flash_text, read_upload, render, render_status};
use crate::AppState;
use crate::error::{PageError, WebError};
use crate::i18n::Tr;
use crate::viewer::Viewer;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rampart_core::Permission;
use rampart_core::country::ItuRegion;
use rampart_gci::campaigns::{self, AnswerInput, Decision, Evidence, Results, ReviewInput};
use rampart_gci::framework::{Framework, Level, RankMethod};
use rampart_gci::rank::format_rank;
use rampart_gci::table::Row;
use rampart_gci::uncertainty::{self, Analysis, Input, Settings};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Evidence uploads and result imports.
const UPLOAD_LIMIT: usize = 24 * 1024 * 1024;

/// Draws for the analysis shown with published results.
const PAGE_DRAWS: usize = 4000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/gci", get(index))
        .route("/gci/results/{id}", get(results_page))
        .route("/gci/results/{id}/report", get(report_page))
        .route("/gci/results/{id}/export.csv", get(export_csv))
        .route("/gci/results/{id}/export.json", get(export_json))
        .route("/gci/results/{id}/countries/{cc}", get(profile_page))
        .route("/gci/compare", get(compare_page))
        .route("/gci/campaigns", get(campaigns_page).post(open_campaign))
        .route("/gci/import", post(import_results).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)))
        .route("/gci/campaigns/{id}", get(board_page))
        .route("/gci/campaigns/{id}/publish", post(publish))
        .route("/gci/campaigns/{id}/countries/{cc}", get(questionnaire_page))
        .route("/gci/campaigns/{id}/countries/{cc}/answers/{q}", post(save_answer).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)))
        .route("/gci/campaigns/{id}/countries/{cc}/submit", post(submit))
        .route("/gci/campaigns/{id}/countries/{cc}/review/{q}", post(review))
        .route("/gci/campaigns/{id}/countries/{cc}/validate", post(validate))
        .route("/gci/evidence/{file}", get(evidence_file))
        .route("/gci/editions", get(editions_page).post(copy_edition))
        .route("/gci/editions/{code}", get(edition_page).post(edit_edition))
        .route("/gci/editions/{code}/nodes.csv", get(edition_csv))
        .route("/gci/editions/{code}/freeze", post(freeze_edition))
}

fn country_name(code: &str) -> String {
    rampart_gci::countries::find(code).map(|c| c.name).unwrap_or_else(|| code.to_owned())
}

fn region_label(t: &Tr, region: ItuRegion) -> String {
    t.get(&format!("platform.regions.{}", region.as_str())).to_owned()
}

fn pillar_label(t: &Tr, framework: &Framework, id: &str) -> String {
    let key = format!("gci.pillars.{id}");
    let text = t.get(&key);
    if text != key { text.to_owned() } else { framework.node(id).map(|n| n.name.clone()).unwrap_or_else(|| id.to_owned()) }
}

fn fmt(value: f64, framework: &Framework) -> String {
    let places = framework.precision as usize;
    format!("{value:.places$}")
}

fn is_gci_staff(viewer: &Viewer) -> bool {
    viewer.principal.as_ref().is_some_and(|p| p.has(Permission::GciEdit) || p.has(Permission::GciReview) || p.has(Permission::GciAnswer))
}

// ----- public results --------------------------------------------------------

struct SetLine {
    id: String,
    name: String,
    edition: String,
    countries: usize,
    published: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "gci_index.html")]
struct IndexPage {
    c: Ctx,
    sets: Vec<SetLine>,
    staff: bool,
    editor: bool,
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

async fn index(State(state): State<AppState>, viewer: Viewer, Query(query): Query<DoneQuery>) -> Result<Response, PageError> {
    let c = Ctx::new(&state, &viewer, "gci.index.title", "gci");
    let c = Ctx { flash: flash_text(&c.t, query.done.as_deref()), ..c };
    let names: HashMap<String, String> = state.gci().editions().await?.into_iter().map(|e| (e.code, e.name)).collect();
    let mut sets = Vec::new();
    for set in state.gci().result_sets(viewer.principal.as_ref()).await? {
        let countries = serde_json::from_str::<Vec<serde_json::Value>>(&set.entries).map(|v| v.len()).unwrap_or(0);
        let edition = names.get(&set.edition_code).cloned().unwrap_or_else(|| set.edition_code.clone());
        sets.push(SetLine {
            kind: c.t.get(&format!("gci.index.kind_{}", set.kind)).to_owned(),
            published: set
                .published_at
                .clone()
                .map(|p| p.chars().take(10).collect())
                .unwrap_or_else(|| c.t.get("gci.index.unpublished").to_owned()),
            id: set.id,
            name: set.name,
            edition,
            countries,
        });
    }
    let editor = viewer.principal.as_ref().is_some_and(|p| p.has(Permission::GciEdit));
    render(&IndexPage { staff: is_gci_staff(&viewer), editor, sets, c })
}

fn analysis_for(state: &AppState, results: &Results) -> (Arc<Analysis>, Vec<String>) {
    let (input, excluded) = Input::from_entries(&results.framework, &results.entries);
    let analysis = state
        .gci_analysis(&results.set.id, || uncertainty::analyse(&input, Settings { draws: PAGE_DRAWS, seed: 2020, ..Settings::default() }));
    (analysis, excluded)
}

struct TableRow {
    alpha2: String,
    name: String,
    region: String,
    overall: String,
    pillars: Vec<String>,
    rank: String,
    regional_rank: String,
    interval: String,
    median: String,
    tier: Option<u8>,
}

#[derive(Deserialize, Default)]
struct ResultsQuery {
    sort: Option<String>,
    region: Option<String>,
    method: Option<String>,
    map: Option<String>,
}

#[derive(Template)]
#[template(path = "gci_results.html")]
struct ResultsPage {
    c: Ctx,
    id: String,
    name: String,
    edition: String,
    report: bool,
    ranks: bool,
    tiers: bool,
    pillars: Vec<(String, String)>,
    rows: Vec<TableRow>,
    regions: Vec<(String, String)>,
    region: String,
    sort: String,
    method: String,
    map_kind: String,
    map: String,
    warnings: Vec<String>,
    excluded: Vec<String>,
    /// (pillar, share at maximum %, sensitivity index)
    diagnostics: Vec<(String, String, String)>,
    aggregation_sensitivity: Option<String>,
    flat: Vec<String>,
    methods: Vec<(String, String)>,
    interval_note: String,
    /// (region, countries, average overall)
    regional: Vec<(String, usize, String)>,
}

async fn results_view(state: &AppState, viewer: &Viewer, id: &str, query: ResultsQuery, report: bool) -> Result<Response, PageError> {
    let method = query.method.as_deref().and_then(RankMethod::parse);
    let results = state.gci().results(viewer.principal.as_ref(), id, method).await?;
    let c = Ctx::new(state, viewer, "gci.results.title", "gci");
    let framework = &results.framework;
    let (analysis, excluded) = analysis_for(state, &results);
    let intervals: HashMap<&str, &uncertainty::CountryResult> = analysis.countries.iter().map(|r| (r.country.as_str(), r)).collect();
    let pillar_ids: Vec<String> = framework.pillars().map(|p| p.id.clone()).collect();
    let region = query.region.clone().filter(|r| ItuRegion::parse(r).is_ok()).unwrap_or_default();
    let sort = query.sort.clone().unwrap_or_else(|| "rank".into());
    let mut chosen: Vec<&Row> = results.rows.iter().filter(|r| region.is_empty() || r.region.as_str() == region).collect();
    match sort.as_str() {
        "name" => chosen.sort_by(|a, b| a.name.cmp(&b.name)),
        "region" => chosen.sort_by(|a, b| a.region.cmp(&b.region).then(a.regional_rank.total_cmp(&b.regional_rank))),
        pillar if pillar_ids.iter().any(|p| p == pillar) => {
            chosen.sort_by(|a, b| b.pillars.get(pillar).unwrap_or(&-1.0).total_cmp(a.pillars.get(pillar).unwrap_or(&-1.0)))
        }
        _ => {}
    }
    let rows = chosen
        .iter()
        .map(|r| {
            let interval = intervals.get(r.alpha3.as_str());
            TableRow {
                alpha2: r.alpha2.clone(),
                name: r.name.clone(),
                region: region_label(&c.t, r.region),
                overall: fmt(r.overall, framework),
                pillars: pillar_ids.iter().map(|p| r.pillars.get(p).map(|v| fmt(*v, framework)).unwrap_or_else(|| "—".into())).collect(),
                rank: format_rank(r.rank),
                regional_rank: format_rank(r.regional_rank),
                interval: interval.map(|i| format!("{}–{}", i.p5_rank, i.p95_rank)).unwrap_or_else(|| "—".into()),
                median: interval.map(|i| format_rank(i.median_rank)).unwrap_or_else(|| "—".into()),
                tier: r.tier,
            }
        })
        .collect();
    let map_kind = if query.map.as_deref() == Some("score") || framework.tiers.is_empty() { "score" } else { "tier" }.to_owned();
    let map = world_map(&c.t, framework, &results.rows, &map_kind);
    let sensitivity: HashMap<&str, f64> = analysis.sensitivity.iter().map(|s| (s.factor.as_str(), s.first_order)).collect();
    let diagnostics = analysis
        .diagnostics
        .pillars
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                pillar_label(&c.t, framework, p),
                format!("{:.0}%", analysis.diagnostics.ceiling[i] * 100.0),
                sensitivity.get(p.as_str()).map(|s| format!("{s:.2}")).unwrap_or_else(|| "—".into()),
            )
        })
        .collect();
    let regional = ItuRegion::ALL
        .iter()
        .filter_map(|r| {
            let members: Vec<f64> = results.rows.iter().filter(|row| row.region == *r).map(|row| row.overall).collect();
            (!members.is_empty())
                .then(|| (region_label(&c.t, *r), members.len(), fmt(members.iter().sum::<f64>() / members.len() as f64, framework)))
        })
        .collect();
    let page = ResultsPage {
        id: id.to_owned(),
        name: results.set.name.clone(),
        edition: framework.name.clone(),
        report,
        ranks: framework.publishes_ranks,
        tiers: !framework.tiers.is_empty(),
        pillars: pillar_ids.iter().map(|p| (p.clone(), pillar_label(&c.t, framework, p))).collect(),
        rows,
        regions: ItuRegion::ALL.iter().map(|r| (r.as_str().to_owned(), region_label(&c.t, *r))).collect(),
        region,
        sort,
        method: method.unwrap_or(framework.ranking).as_str().to_owned(),
        map_kind,
        map,
        warnings: results.warnings.clone(),
        excluded: excluded.iter().map(|c| country_name(c)).collect(),
        diagnostics,
        regional,
        aggregation_sensitivity: sensitivity.get("aggregation").map(|s| format!("{s:.2}")),
        flat: analysis.diagnostics.flat_indicators.iter().map(|(id, share)| format!("{id} ({:.0}%)", share * 100.0)).collect(),
        methods: ["dense", "standard", "fractional"]
            .iter()
            .map(|m| (m.to_string(), c.t.get(&format!("gci.ranking.{m}")).to_owned()))
            .collect(),
        interval_note: c.t.fill(
            "gci.results.interval_note",
            &[("draws", &analysis.settings.draws.to_string()), ("shift", &format!("{:.1}", analysis.mean_rank_shift))],
        ),
        c,
    };
    render(&page)
}

/// The world map: by tier where the edition has tiers, else by score in
/// five equal bands of the overall scale.
fn world_map(t: &Tr, framework: &Framework, rows: &[Row], kind: &str) -> String {
    let max = framework.max_overall();
    let band = |score: f64| ((score / max * 5.0).floor() as usize + 1).clamp(1, 5);
    let by_tier = kind == "tier" && !framework.tiers.is_empty();
    let tier_count = framework.tiers.len().max(1);
    // Tier 1 darkest.
    let tier_step = |tier: u8| (tier_count + 1).saturating_sub(tier as usize).clamp(1, 5);
    let countries: Vec<(String, usize, String)> = rows
        .iter()
        .map(|r| {
            let step = if by_tier { r.tier.map(tier_step).unwrap_or(0) } else { band(r.overall) };
            let text = match r.tier.filter(|_| by_tier) {
                Some(tier) => format!("{} {tier} ({})", t.get("gci.results.tier"), fmt(r.overall, framework)),
                None => fmt(r.overall, framework),
            };
            (r.alpha2.clone(), step, text)
        })
        .collect();
    let legend: Vec<(usize, String)> = if by_tier {
        framework
            .tiers
            .iter()
            .map(|tier| (tier_step(tier.number), format!("{} {} — {}", t.get("gci.results.tier"), tier.number, tier.name)))
            .collect()
    } else {
        (1..=5).rev().map(|step| (step, format!("{:.0}–{:.0}", max * (step - 1) as f64 / 5.0, max * step as f64 / 5.0))).collect()
    };
    crate::map::classed_map(t.get("gci.results.map"), &countries, &legend, &country_name)
}

async fn results_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<ResultsQuery>,
) -> Result<Response, PageError> {
    results_view(&state, &viewer, &id, query, false).await
}

async fn report_page(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    results_view(&state, &viewer, &id, ResultsQuery::default(), true).await
}

async fn export_csv(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let results = state.gci().results(viewer.principal.as_ref(), &id, None).await?;
    Ok(csv_download(&format!("{}.csv", results.framework.code), rampart_gci::table::to_csv(&results.framework, &results.rows)))
}

async fn export_json(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, PageError> {
    let results = state.gci().results(viewer.principal.as_ref(), &id, None).await?;
    let (analysis, _) = analysis_for(&state, &results);
    Ok(axum::Json(crate::api::gci::results_json(&results, &analysis)).into_response())
}

// ----- comparing two result sets ------------------------------------------------

#[derive(Deserialize, Default)]
struct CompareQuery {
    a: Option<String>,
    b: Option<String>,
}

struct CompareLine {
    alpha2: String,
    name: String,
    region: String,
    a: String,
    b: String,
    change: String,
    up: bool,
    down: bool,
    rank_a: String,
    rank_b: String,
    tier_a: String,
    tier_b: String,
}

#[derive(Template)]
#[template(path = "gci_compare.html")]
struct ComparePage {
    c: Ctx,
    sets: Vec<(String, String)>,
    a: String,
    b: String,
    a_name: String,
    b_name: String,
    rows: Vec<CompareLine>,
    only_a: usize,
    only_b: usize,
    note: String,
}

/// Two result sets side by side: every country in both, with each set's
/// score as a share of its maximum (editions differ in scale), the change,
/// ranks and tiers.
async fn compare_page(State(state): State<AppState>, viewer: Viewer, Query(query): Query<CompareQuery>) -> Result<Response, PageError> {
    let c = Ctx::new(&state, &viewer, "gci.compare.title", "gci");
    let listed = state.gci().result_sets(viewer.principal.as_ref()).await?;
    let sets: Vec<(String, String)> = listed.iter().map(|s| (s.id.clone(), s.name.clone())).collect();
    let a = query.a.filter(|id| sets.iter().any(|(s, _)| s == id)).or_else(|| sets.get(1).map(|s| s.0.clone())).unwrap_or_default();
    let b = query.b.filter(|id| sets.iter().any(|(s, _)| s == id)).or_else(|| sets.first().map(|s| s.0.clone())).unwrap_or_default();
    let mut rows = Vec::new();
    let (mut only_a, mut only_b, mut a_name, mut b_name) = (0, 0, String::new(), String::new());
    if !a.is_empty() && !b.is_empty() {
        let ra = state.gci().results(viewer.principal.as_ref(), &a, None).await?;
        let rb = state.gci().results(viewer.principal.as_ref(), &b, None).await?;
        a_name = ra.set.name.clone();
        b_name = rb.set.name.clone();
        let (max_a, max_b) = (ra.framework.max_overall(), rb.framework.max_overall());
        let share = |v: f64, max: f64| if max > 0.0 { v / max * 100.0 } else { 0.0 };
        only_a = ra.rows.iter().filter(|r| !rb.rows.iter().any(|x| x.alpha2 == r.alpha2)).count();
        only_b = rb.rows.iter().filter(|r| !ra.rows.iter().any(|x| x.alpha2 == r.alpha2)).count();
        let tier = |t: Option<u8>| t.map(|t| t.to_string()).unwrap_or_else(|| "—".into());
        let rank = |r: f64, shown: bool| if shown { format_rank(r) } else { "—".into() };
        for row_b in &rb.rows {
            let Some(row_a) = ra.rows.iter().find(|r| r.alpha2 == row_b.alpha2) else { continue };
            let (sa, sb) = (share(row_a.overall, max_a), share(row_b.overall, max_b));
            let change = sb - sa;
            rows.push(CompareLine {
                alpha2: row_b.alpha2.clone(),
                name: row_b.name.clone(),
                region: region_label(&c.t, row_b.region),
                a: format!("{sa:.1}"),
                b: format!("{sb:.1}"),
                change: format!("{change:+.1}"),
                up: change > 0.05,
                down: change < -0.05,
                rank_a: rank(row_a.rank, ra.framework.publishes_ranks),
                rank_b: rank(row_b.rank, rb.framework.publishes_ranks),
                tier_a: tier(row_a.tier),
                tier_b: tier(row_b.tier),
            });
        }
    }
    let note = c.t.get("gci.compare.note").to_owned();
    render(&ComparePage { c, sets, a, b, a_name, b_name, rows, only_a, only_b, note })
}

#[derive(Template)]
#[template(path = "gci_profile.html")]
struct ProfilePage {
    c: Ctx,
    id: String,
    set_name: String,
    name: String,
    alpha2: String,
    region: String,
    overall: String,
    max: String,
    rank: Option<String>,
    regional_rank: Option<String>,
    interval: Option<String>,
    tier: Option<(u8, String)>,
    tier_probabilities: Vec<(String, String)>,
    bars: String,
    radar: String,
    strongest: Vec<(String, String)>,
    weakest: Vec<(String, String)>,
    /// (pillar, previous, now, change)
    trend: Vec<(String, String, String, String)>,
    trend_title: Option<String>,
}

async fn profile_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, cc)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let results = state.gci().results(viewer.principal.as_ref(), &id, None).await?;
    let framework = &results.framework;
    let wanted = rampart_gci::countries::find(&cc).ok_or(WebError::NotFound("country"))?;
    let row = results.rows.iter().find(|r| r.alpha3 == wanted.alpha3).ok_or(WebError::NotFound("country"))?;
    let c = Ctx::new(&state, &viewer, "gci.profile.title", "gci");
    let (analysis, _) = analysis_for(&state, &results);
    let interval = analysis.countries.iter().find(|r| r.country == row.alpha3);
    let neighbours: Vec<&Row> = results.rows.iter().filter(|r| r.region == row.region).collect();
    let pillar_ids: Vec<String> = framework.pillars().map(|p| p.id.clone()).collect();
    let regional_average = |pillar: &str| {
        let values: Vec<f64> = neighbours.iter().filter_map(|r| r.pillars.get(pillar).copied()).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    let region = region_label(&c.t, row.region);
    let bars_data: Vec<(String, f64, f64, Option<f64>)> = pillar_ids
        .iter()
        .map(|p| (pillar_label(&c.t, framework, p), row.pillars.get(p).copied().unwrap_or(0.0), framework.pillar_max, regional_average(p)))
        .collect();
    let bars =
        crate::svg::score_bars(&c.t.fill("gci.profile.bars_title", &[("region", &region)]), &bars_data, framework.precision as usize);
    let axes: Vec<(String, f64)> = bars_data.iter().map(|(label, value, max, _)| (label.clone(), value / max)).collect();
    let averages: Vec<f64> = bars_data.iter().map(|(_, _, max, avg)| avg.unwrap_or(0.0) / max).collect();
    let average_label = c.t.fill("gci.profile.regional_average", &[("region", &region)]);
    let radar = crate::svg::radar_chart(c.t.get("gci.profile.radar_title"), &axes, Some((&average_label, &averages)), &row.name);
    let mut indicators: Vec<(String, f64)> = row
        .indicators
        .iter()
        .map(|(id, share)| (framework.node(id).map(|n| format!("{id} {}", n.name)).unwrap_or_else(|| id.clone()), *share))
        .collect();
    indicators.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let pct = |v: f64| format!("{:.0}%", v * 100.0);
    let strongest = indicators.iter().take(3).map(|(n, v)| (n.clone(), pct(*v))).collect();
    let weakest = indicators.iter().rev().take(3).map(|(n, v)| (n.clone(), pct(*v))).collect();
    let mut trend = Vec::new();
    let mut trend_edition = None;
    if let Some(previous) = state.gci().previous_results(&results.set).await?
        && let Some(before) = previous.rows.iter().find(|r| r.alpha3 == row.alpha3)
    {
        trend_edition = Some(previous.framework.name.clone());
        // Editions differ in scale; compare shares of each maximum.
        let share_now = row.overall / framework.max_overall() * 100.0;
        let share_before = before.overall / previous.framework.max_overall() * 100.0;
        trend.push((
            c.t.get("gci.profile.overall").to_owned(),
            format!("{share_before:.1}%"),
            format!("{share_now:.1}%"),
            format!("{:+.1}", share_now - share_before),
        ));
        for p in &pillar_ids {
            if let (Some(now), Some(then)) = (row.pillars.get(p), before.pillars.get(p)) {
                let (now, then) = (now / framework.pillar_max * 100.0, then / previous.framework.pillar_max * 100.0);
                trend.push((pillar_label(&c.t, framework, p), format!("{then:.1}%"), format!("{now:.1}%"), format!("{:+.1}", now - then)));
            }
        }
    }
    let tier = row.tier.and_then(|n| framework.tiers.iter().find(|t| t.number == n)).map(|t| (t.number, t.name.clone()));
    let tier_probabilities = interval
        .map(|i| {
            i.tiers
                .iter()
                .filter(|(_, p)| *p > 0.0)
                .map(|(n, p)| (format!("{} {n}", c.t.get("gci.results.tier")), format!("{:.0}%", p * 100.0)))
                .collect()
        })
        .unwrap_or_default();
    let page = ProfilePage {
        id: id.clone(),
        set_name: results.set.name.clone(),
        name: row.name.clone(),
        alpha2: row.alpha2.clone(),
        overall: fmt(row.overall, framework),
        max: format!("{}", framework.max_overall()),
        rank: framework.publishes_ranks.then(|| format_rank(row.rank)),
        regional_rank: framework.publishes_ranks.then(|| format_rank(row.regional_rank)),
        interval: interval
            .map(|i| format!("{}–{} ({} {})", i.p5_rank, i.p95_rank, c.t.get("gci.results.median"), format_rank(i.median_rank))),
        tier,
        tier_probabilities,
        bars,
        radar,
        strongest,
        weakest,
        trend,
        trend_title: trend_edition.map(|e| c.t.fill("gci.profile.trend", &[("edition", &e)])),
        region,
        c,
    };
    render(&page)
}

// ----- campaigns ---------------------------------------------------------------

struct CampaignLine {
    id: String,
    name: String,
    edition: String,
    deadline: String,
    status: String,
}

#[derive(Template)]
#[template(path = "gci_campaigns.html")]
struct CampaignsPage {
    c: Ctx,
    campaigns: Vec<CampaignLine>,
    editor: bool,
    /// Frozen editions a campaign can open: (code, name)
    editions: Vec<(String, String)>,
    countries: Vec<(String, String)>,
    error: Option<String>,
}

async fn campaigns_view(state: &AppState, viewer: &Viewer, flash: Option<&str>, error: Option<WebError>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !is_gci_staff(viewer) {
        return Err(WebError::Forbidden.into());
    }
    let c = Ctx::new(state, viewer, "gci.campaigns.title", "gci_campaigns");
    let c = Ctx { flash: flash_text(&c.t, flash), ..c };
    let campaigns = state
        .gci()
        .campaigns(principal)
        .await?
        .into_iter()
        .map(|row| CampaignLine {
            status: c.t.get(&format!("gci.campaign_status.{}", row.status)).to_owned(),
            id: row.id,
            name: row.name,
            edition: row.edition_code,
            deadline: row.deadline,
        })
        .collect();
    let editions = state.gci().editions().await?.into_iter().filter(|e| e.frozen).map(|e| (e.code, e.name)).collect();
    let countries = rampart_gci::countries::all().into_iter().map(|c| (c.alpha2, c.name)).collect();
    let status = error.as_ref().map(|e| e.status());
    let page = CampaignsPage {
        editor: principal.has(Permission::GciEdit),
        campaigns,
        editions,
        countries,
        error: error.map(|e| e.to_string()),
        c,
    };
    render_status(&page, status)
}

async fn campaigns_page(State(state): State<AppState>, viewer: Viewer, Query(query): Query<DoneQuery>) -> Result<Response, PageError> {
    campaigns_view(&state, &viewer, query.done.as_deref(), None).await
}

#[derive(Deserialize)]
struct OpenForm {
    csrf: String,
    edition: String,
    name: String,
    deadline: String,
    /// Codes separated by commas, spaces or new lines.
    #[serde(default)]
    countries: String,
}

async fn open_campaign(State(state): State<AppState>, viewer: Viewer, Form(form): Form<OpenForm>) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let countries: Vec<String> =
        form.countries.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    match state.gci().open_campaign(&actor, &form.edition, &form.name, &form.deadline, &countries).await {
        Ok(campaign) => Ok(Redirect::to(&format!("/gci/campaigns/{}?done=gci.campaigns.opened", campaign.id)).into_response()),
        Err(err) => campaigns_view(&state, &viewer, None, Some(err.into())).await,
    }
}

async fn import_results(State(state): State<AppState>, viewer: Viewer, mut multipart: Multipart) -> Result<Response, PageError> {
    let (csrf, file, fields) = read_upload(&mut multipart).await?;
    let actor = viewer.act(&csrf)?;
    let result = async {
        let bytes = file.ok_or_else(|| WebError::invalid("file", "choose a CSV file"))?;
        let text = String::from_utf8(bytes).map_err(|_| WebError::invalid("file", "is not UTF-8 text"))?;
        let edition = fields.get("edition").cloned().unwrap_or_default();
        let name = fields.get("name").cloned().unwrap_or_default();
        Ok::<_, WebError>(state.gci().import_published(&actor, &edition, &name, &text).await?)
    }
    .await;
    match result {
        Ok((set, _)) => Ok(Redirect::to(&format!("/gci/results/{}", set.id)).into_response()),
        Err(err) => campaigns_view(&state, &viewer, None, Some(err)).await,
    }
}

struct BoardLine {
    country: String,
    name: String,
    status_key: String,
    status: String,
    answered: usize,
    questions: usize,
    clarifications: usize,
    due: String,
}

#[derive(Template)]
#[template(path = "gci_board.html")]
struct BoardPage {
    c: Ctx,
    id: String,
    name: String,
    edition: String,
    deadline: String,
    status: String,
    published: bool,
    editor: bool,
    /// (region, counts per status in STATUSES order, lines)
    regions: Vec<(String, Vec<usize>, Vec<BoardLine>)>,
    statuses: Vec<String>,
    totals: Vec<usize>,
    validated: usize,
    error: Option<String>,
}

async fn board_view(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<&str>,
    error: Option<WebError>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let (campaign, framework) = state.gci().campaign(id).await?;
    let board = state.gci().board(principal, id).await?;
    if board.is_empty() && !principal.has(Permission::GciEdit) {
        return Err(WebError::NotFound("campaign").into());
    }
    let c = Ctx::new(state, viewer, "gci.board.title", "gci_campaigns");
    let c = Ctx { flash: flash_text(&c.t, flash), ..c };
    let status_index = |s: &str| campaigns::STATUSES.iter().position(|x| *x == s).unwrap_or(0);
    let mut regions: BTreeMap<String, (Vec<usize>, Vec<BoardLine>)> = BTreeMap::new();
    let mut totals = vec![0; campaigns::STATUSES.len()];
    for row in board {
        let region = if row.region.is_empty() { "—".to_owned() } else { c.t.get(&format!("platform.regions.{}", row.region)).to_owned() };
        let entry = regions.entry(region).or_insert_with(|| (vec![0; campaigns::STATUSES.len()], Vec::new()));
        entry.0[status_index(&row.participant.status)] += 1;
        totals[status_index(&row.participant.status)] += 1;
        let due = match row.due_in_days {
            Some(days) if days < 0 => c.t.fill("gci.board.overdue", &[("days", &(-days).to_string())]),
            Some(days) if days <= 14 => c.t.fill("gci.board.due_soon", &[("days", &days.to_string())]),
            _ => String::new(),
        };
        entry.1.push(BoardLine {
            status: c.t.get(&format!("gci.participant_status.{}", row.participant.status)).to_owned(),
            status_key: row.participant.status.clone(),
            country: row.participant.country,
            name: row.name,
            answered: row.answered,
            questions: row.questions,
            clarifications: row.clarifications,
            due,
        });
    }
    let validated = totals[4];
    let status = error.as_ref().map(|e| e.status());
    let page = BoardPage {
        id: id.to_owned(),
        name: campaign.name.clone(),
        edition: framework.name.clone(),
        deadline: campaign.deadline.clone(),
        status: c.t.get(&format!("gci.campaign_status.{}", campaign.status)).to_owned(),
        published: campaign.status == "published",
        editor: principal.has(Permission::GciEdit),
        regions: regions.into_iter().map(|(name, (counts, lines))| (name, counts, lines)).collect(),
        statuses: campaigns::STATUSES.iter().map(|s| c.t.get(&format!("gci.participant_status.{s}")).to_owned()).collect(),
        totals,
        validated,
        error: error.map(|e| e.to_string()),
        c,
    };
    render_status(&page, status)
}

async fn board_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    board_view(&state, &viewer, &id, query.done.as_deref(), None).await
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn publish(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    match state.gci().publish(&actor, &id).await {
        Ok(set) => Ok(Redirect::to(&format!("/gci/results/{}", set.id)).into_response()),
        Err(err) => board_view(&state, &viewer, &id, None, Some(err.into())).await,
    }
}

// ----- the questionnaire -------------------------------------------------------------

struct EvidenceLine {
    index: usize,
    href: String,
    name: String,
    checked_on: String,
    file: bool,
}

struct HistoryLine {
    version: i64,
    value: String,
    state: String,
    author: String,
    at: String,
    note: String,
}

struct QuestionView {
    id: String,
    text: String,
    /// (value, label)
    options: Vec<(String, String)>,
    number: bool,
    value: String,
    value_label: String,
    comment: String,
    state_key: String,
    state: String,
    review_comment: String,
    evidence: Vec<EvidenceLine>,
    history: Vec<HistoryLine>,
    editable: bool,
    reviewable: bool,
}

struct IndicatorView {
    id: String,
    name: String,
    questions: Vec<QuestionView>,
}

struct PillarView {
    name: String,
    indicators: Vec<IndicatorView>,
}

#[derive(Template)]
#[template(path = "gci_questionnaire.html")]
struct QuestionnairePage {
    c: Ctx,
    id: String,
    campaign: String,
    country: String,
    country_name: String,
    status_key: String,
    status: String,
    pillars: Vec<PillarView>,
    answered: usize,
    total: usize,
    may_submit: bool,
    may_validate: bool,
    focal: bool,
    reviewer: bool,
    today: String,
    error: Option<String>,
}

fn value_label(t: &Tr, value: &str) -> String {
    let key = format!("gci.answers.{value}");
    let text = t.get(&key);
    if text != key { text.to_owned() } else { value.to_owned() }
}

async fn questionnaire_view(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    cc: &str,
    flash: Option<&str>,
    error: Option<WebError>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let (q, framework) = state.gci().questionnaire(principal, id, cc).await?;
    let country = q.participant.country.clone();
    let c = Ctx::new(state, viewer, "gci.questionnaire.title", "gci_campaigns");
    let c = Ctx { flash: flash_text(&c.t, flash), ..c };
    let focal = campaigns::may_answer(principal, &country) && q.campaign.status == "open";
    let reviewer = campaigns::may_review(principal, &country) && q.campaign.status == "open";
    let open_for_answers = matches!(q.participant.status.as_str(), "not_started" | "in_progress");
    let in_review = matches!(q.participant.status.as_str(), "submitted" | "in_review");
    let files: HashMap<&str, &str> = q.files.iter().map(|f| (f.id.as_str(), f.filename.as_str())).collect();
    let by_question: HashMap<&str, &campaigns::QuestionState> = q.questions.iter().map(|s| (s.question_id.as_str(), s)).collect();
    let mut pillars = Vec::new();
    for pillar in framework.pillars() {
        let mut indicators = Vec::new();
        for indicator in framework.children(&pillar.id).filter(|n| n.level == Level::Indicator) {
            let questions = framework
                .questions()
                .filter(|question| framework.ancestor(&question.id, Level::Indicator).is_some_and(|i| i.id == indicator.id))
                .map(|question| {
                    let found = by_question.get(question.id.as_str());
                    let current = found.and_then(|s| s.current.as_ref());
                    let state_key = current.map(|a| a.state.clone()).unwrap_or_else(|| "unanswered".into());
                    let answer_type = question.answer.clone();
                    QuestionView {
                        id: question.id.clone(),
                        text: question.name.clone(),
                        options: answer_type
                            .as_ref()
                            .map(|a| a.values().into_iter().map(|v| (v.clone(), value_label(&c.t, &v))).collect())
                            .unwrap_or_default(),
                        number: matches!(answer_type, Some(rampart_gci::framework::AnswerType::Number { .. })),
                        value: current.map(|a| a.value.clone()).unwrap_or_default(),
                        value_label: current.map(|a| value_label(&c.t, &a.value)).unwrap_or_default(),
                        comment: current.map(|a| a.comment.clone()).unwrap_or_default(),
                        state: c.t.get(&format!("gci.answer_state.{state_key}")).to_owned(),
                        review_comment: current.map(|a| a.review_comment.clone()).unwrap_or_default(),
                        evidence: found
                            .map(|s| {
                                s.evidence
                                    .iter()
                                    .enumerate()
                                    .map(|(index, e)| EvidenceLine {
                                        index,
                                        href: if e.kind == "file" { format!("/gci/evidence/{}", e.target) } else { e.target.clone() },
                                        name: if e.name.is_empty() {
                                            files.get(e.target.as_str()).map(|n| (*n).to_owned()).unwrap_or_else(|| e.target.clone())
                                        } else {
                                            e.name.clone()
                                        },
                                        checked_on: e.checked_on.clone(),
                                        file: e.kind == "file",
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        history: found
                            .map(|s| {
                                s.history
                                    .iter()
                                    .rev()
                                    .map(|a| HistoryLine {
                                        version: a.version,
                                        value: value_label(&c.t, &a.value),
                                        state: c.t.get(&format!("gci.answer_state.{}", a.state)).to_owned(),
                                        author: a.author_label.clone(),
                                        at: a.at.clone(),
                                        note: if a.review_comment.is_empty() { a.comment.clone() } else { a.review_comment.clone() },
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        editable: focal && (open_for_answers || (in_review && state_key == "clarify")),
                        reviewable: reviewer && in_review && current.is_some() && state_key != "clarify",
                        state_key,
                    }
                })
                .collect();
            indicators.push(IndicatorView { id: indicator.id.clone(), name: indicator.name.clone(), questions });
        }
        pillars.push(PillarView { name: pillar_label(&c.t, &framework, &pillar.id), indicators });
    }
    let answered = q.questions.iter().filter(|s| s.current.is_some()).count();
    let all_reviewed = q.questions.iter().filter_map(|s| s.current.as_ref()).all(|a| matches!(a.state.as_str(), "accepted" | "changed"));
    let status = error.as_ref().map(|e| e.status());
    let page = QuestionnairePage {
        id: id.to_owned(),
        campaign: q.campaign.name.clone(),
        country_name: country_name(&country),
        status: c.t.get(&format!("gci.participant_status.{}", q.participant.status)).to_owned(),
        status_key: q.participant.status.clone(),
        may_submit: focal && open_for_answers && answered > 0,
        may_validate: reviewer && in_review && all_reviewed,
        focal,
        reviewer,
        total: q.questions.len(),
        answered,
        pillars,
        country,
        today: rampart_core::time::format(state.auth().clock().now()).chars().take(10).collect(),
        error: error.map(|e| e.to_string()),
        c,
    };
    render_status(&page, status)
}

async fn questionnaire_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, cc)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    questionnaire_view(&state, &viewer, &id, &cc, query.done.as_deref(), None).await
}

/// After an action on a questionnaire: back to it with a flash (at the
/// question), or the page again with the error.
async fn after_questionnaire(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    cc: &str,
    result: Result<(), WebError>,
    done: &str,
    anchor: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/gci/campaigns/{id}/countries/{cc}?done={done}{anchor}")).into_response()),
        Err(err @ (WebError::Invalid { .. } | WebError::Conflict { .. })) => {
            questionnaire_view(state, viewer, id, cc, None, Some(err)).await
        }
        Err(err) => Err(err.into()),
    }
}

async fn save_answer(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, cc, question)): Path<(String, String, String)>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let (csrf, file, fields) = read_upload(&mut multipart).await?;
    let actor = viewer.act(&csrf)?;
    let result = async {
        let (q, _) = state.gci().questionnaire(actor.principal, &id, &cc).await?;
        let mut evidence: Vec<Evidence> =
            q.questions.iter().find(|s| s.question_id == question).map(|s| s.evidence.clone()).unwrap_or_default();
        // Evidence ticked for removal goes; the rest is kept.
        let removed: Vec<usize> = fields.keys().filter_map(|k| k.strip_prefix("remove_")).filter_map(|i| i.parse().ok()).collect();
        evidence = evidence.into_iter().enumerate().filter(|(i, _)| !removed.contains(i)).map(|(_, e)| e).collect();
        let checked_on = fields.get("checked_on").cloned().unwrap_or_default();
        let link = fields.get("evidence_url").map(|s| s.trim().to_owned()).unwrap_or_default();
        if !link.is_empty() {
            let name = fields.get("evidence_name").cloned().unwrap_or_default();
            evidence.push(Evidence { kind: "link".into(), target: link, name, checked_on: checked_on.clone() });
        }
        if let Some(bytes) = file {
            let filename = fields.get("filename").cloned().unwrap_or_default();
            let stored = state.gci().upload_evidence(&actor, &id, &cc, &filename, &bytes).await?;
            evidence.push(Evidence { kind: "file".into(), target: stored.id, name: stored.filename, checked_on });
        }
        let input = AnswerInput {
            value: fields.get("value").cloned().unwrap_or_default(),
            comment: fields.get("comment").cloned().unwrap_or_default(),
            evidence,
        };
        state.gci().save_answer(&actor, &id, &cc, &question, &input).await?;
        Ok::<(), WebError>(())
    }
    .await;
    after_questionnaire(&state, &viewer, &id, &cc, result, "gci.questionnaire.saved", &format!("#q-{question}")).await
}

async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, cc)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.gci().submit(&actor, &id, &cc).await.map(|_| ()).map_err(WebError::from);
    after_questionnaire(&state, &viewer, &id, &cc, result, "gci.questionnaire.submitted", "").await
}

#[derive(Deserialize)]
struct ReviewForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    value: String,
}

async fn review(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, cc, question)): Path<(String, String, String)>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = async {
        let decision = Decision::parse(&form.decision)?;
        let value = (decision == Decision::Change).then_some(form.value.as_str());
        state.gci().review(&actor, &id, &cc, &ReviewInput::new(&question, decision, &form.comment, value)).await?;
        Ok::<(), WebError>(())
    }
    .await;
    after_questionnaire(&state, &viewer, &id, &cc, result, "gci.questionnaire.reviewed", &format!("#q-{question}")).await
}

async fn validate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, cc)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = state.gci().validate(&actor, &id, &cc).await.map(|_| ()).map_err(WebError::from);
    after_questionnaire(&state, &viewer, &id, &cc, result, "gci.questionnaire.validated", "").await
}

async fn evidence_file(State(state): State<AppState>, viewer: Viewer, Path(file): Path<String>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    let (row, bytes) = state.gci().evidence_file(principal, &file).await?;
    // Served as a download, never rendered: the file is the country's, not ours.
    let filename: String = row.filename.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        bytes,
    )
        .into_response())
}

// ----- editions -----------------------------------------------------------------------

struct EditionLine {
    code: String,
    name: String,
    year: i64,
    frozen: bool,
    shape: String,
    based_on: String,
}

#[derive(Template)]
#[template(path = "gci_editions.html")]
struct EditionsPage {
    c: Ctx,
    editions: Vec<EditionLine>,
    editor: bool,
    error: Option<String>,
}

fn shape_text(framework: &Framework) -> String {
    [Level::Pillar, Level::Indicator, Level::SubIndicator, Level::MicroIndicator, Level::Question]
        .iter()
        .filter(|l| framework.count(**l) > 0)
        .map(|l| format!("{} {}", framework.count(*l), l.as_str().replace('_', "-")))
        .collect::<Vec<_>>()
        .join(" · ")
}

async fn editions_view(state: &AppState, viewer: &Viewer, flash: Option<&str>, error: Option<WebError>) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !is_gci_staff(viewer) {
        return Err(WebError::Forbidden.into());
    }
    let c = Ctx::new(state, viewer, "gci.editions.title", "gci_editions");
    let c = Ctx { flash: flash_text(&c.t, flash), ..c };
    let mut editions = Vec::new();
    for row in state.gci().editions().await? {
        let (_, framework) = state.gci().edition(&row.code).await?;
        editions.push(EditionLine {
            shape: shape_text(&framework),
            code: row.code,
            name: row.name,
            year: row.year,
            frozen: row.frozen,
            based_on: row.based_on.unwrap_or_default(),
        });
    }
    let status = error.as_ref().map(|e| e.status());
    render_status(&EditionsPage { editor: principal.has(Permission::GciEdit), editions, error: error.map(|e| e.to_string()), c }, status)
}

async fn editions_page(State(state): State<AppState>, viewer: Viewer, Query(query): Query<DoneQuery>) -> Result<Response, PageError> {
    editions_view(&state, &viewer, query.done.as_deref(), None).await
}

#[derive(Deserialize)]
struct CopyForm {
    csrf: String,
    from: String,
    code: String,
    name: String,
    year: String,
}

async fn copy_edition(State(state): State<AppState>, viewer: Viewer, Form(form): Form<CopyForm>) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let result = async {
        let year: i32 = form.year.trim().parse().map_err(|_| WebError::invalid("year", "must be a year"))?;
        Ok::<_, WebError>(state.gci().copy_edition(&actor, &form.from, &form.code, &form.name, year).await?)
    }
    .await;
    match result {
        Ok(row) => Ok(Redirect::to(&format!("/gci/editions/{}?done=gci.editions.copied", row.code)).into_response()),
        Err(err) => editions_view(&state, &viewer, None, Some(err)).await,
    }
}

struct NodeLine {
    id: String,
    depth: usize,
    level: String,
    weight: String,
    answer: String,
    name: String,
    published: bool,
}

#[derive(Template)]
#[template(path = "gci_edition.html")]
struct EditionPage {
    c: Ctx,
    code: String,
    name: String,
    year: i64,
    frozen: bool,
    editor: bool,
    shape: String,
    tiers: Vec<(u8, String, String)>,
    nodes: Vec<NodeLine>,
    csv: String,
    error: Option<String>,
}

async fn edition_view(
    state: &AppState,
    viewer: &Viewer,
    code: &str,
    flash: Option<&str>,
    error: Option<(WebError, String)>,
) -> Result<Response, PageError> {
    let principal = viewer.require()?;
    if !is_gci_staff(viewer) {
        return Err(WebError::Forbidden.into());
    }
    let (row, framework) = state.gci().edition(code).await?;
    let c = Ctx::new(state, viewer, "gci.editions.title", "gci_editions");
    let c = Ctx { flash: flash_text(&c.t, flash), ..c };
    let depth = |level: Level| match level {
        Level::Pillar => 0,
        Level::Indicator => 1,
        Level::SubIndicator => 2,
        Level::MicroIndicator => 3,
        Level::Question => 4,
    };
    let nodes = framework
        .nodes
        .iter()
        .map(|n| NodeLine {
            id: n.id.clone(),
            depth: depth(n.level),
            level: n.level.as_str().replace('_', "-"),
            weight: format!("{}", n.weight),
            answer: n.answer.as_ref().map(|a| a.values().join(" / ")).unwrap_or_default(),
            name: n.name.clone(),
            published: n.published,
        })
        .collect();
    let status = error.as_ref().map(|(e, _)| e.status());
    let (error, csv) = match error {
        Some((err, csv)) => (Some(err.to_string()), if csv.is_empty() { framework.nodes_csv() } else { csv }),
        None => (None, framework.nodes_csv()),
    };
    let page = EditionPage {
        code: row.code.clone(),
        name: row.name.clone(),
        year: row.year,
        frozen: row.frozen,
        editor: principal.has(Permission::GciEdit),
        shape: shape_text(&framework),
        tiers: framework.tiers.iter().map(|t| (t.number, t.name.clone(), format!("{}", t.min))).collect(),
        nodes,
        csv,
        error,
        c,
    };
    render_status(&page, status)
}

async fn edition_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    edition_view(&state, &viewer, &code, query.done.as_deref(), None).await
}

#[derive(Deserialize)]
struct EditForm {
    csrf: String,
    nodes: String,
    #[serde(default)]
    tiers: String,
}

async fn edit_edition(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(form): Form<EditForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    let tiers = match rampart_gci::framework::parse_tiers(&form.tiers) {
        Ok(tiers) => tiers,
        Err(err) => return edition_view(&state, &viewer, &code, None, Some((err.into(), form.nodes))).await,
    };
    match state.gci().edit_edition(&actor, &code, &form.nodes, Some(tiers)).await {
        Ok(_) => Ok(Redirect::to(&format!("/gci/editions/{code}?done=gci.editions.saved")).into_response()),
        Err(err) => edition_view(&state, &viewer, &code, None, Some((err.into(), form.nodes))).await,
    }
}

async fn freeze_edition(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let actor = viewer.act(&form.csrf)?;
    match state.gci().freeze_edition(&actor, &code).await {
        Ok(()) => Ok(Redirect::to(&format!("/gci/editions/{code}?done=gci.editions.frozen")).into_response()),
        Err(err) => edition_view(&state, &viewer, &code, None, Some((err.into(), String::new()))).await,
    }
}

async fn edition_csv(State(state): State<AppState>, viewer: Viewer, Path(code): Path<String>) -> Result<Response, PageError> {
    viewer.require()?;
    if !is_gci_staff(&viewer) {
        return Err(WebError::Forbidden.into());
    }
    let (_, framework) = state.gci().edition(&code).await?;
    Ok(csv_download(&format!("{code}-nodes.csv"), framework.nodes_csv()))
}
