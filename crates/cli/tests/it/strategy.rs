//! The strategy module's "done means", in a real headless Chromium against
//! `rampart serve --demo`: the Kenyan strategy owner assesses two more
//! good practices (a bad evidence link is refused and named), sees the gaps
//! with their effect on Kenya's GCI pillar scores and tier, turns them into
//! actions in one step and gives one a KPI with a measured value; the
//! plan's CSV carries it. The KE-CIRT manager records a SIM3 assessment
//! with a target profile, sends its gaps to the national plan and sets a
//! service of the catalogue; the coordinating body's strategy editor then
//! compares the African countries, Kenya's CIRT maturity included.

use crate::support::{Sandbox, Server};
use fantoccini::{Client, Locator};
use rampart_testkit::browser::{browser, click, fill, select, sign_in, snap, start_driver, text_of};

const PASSWORD: &str = "rampart-demo-2026";

fn demo(local: &str) -> String {
    format!("{local}@demo.rampart.test")
}

/// The id of the element matching `xpath`, to address the forms inside it.
async fn id_of(client: &Client, xpath: &str) -> String {
    let element = client.find(Locator::XPath(xpath)).await.unwrap_or_else(|err| panic!("{xpath}: {err}"));
    element.attr("id").await.expect("attribute").unwrap_or_else(|| panic!("{xpath} has no id"))
}

async fn tick(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}")).click().await.expect("click");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strategy_owner_and_a_cirt_manager_walk_the_strategy_tools_in_chromium() {
    let sandbox = Sandbox::new();
    let server = Server::start(&sandbox, &["--demo"]);
    let base = format!("http://127.0.0.1:{}", server.port);
    let driver = start_driver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let client = browser(&driver, profile.path()).await;
    let guide = rampart_strategy::data::guide().expect("guide");
    let title = |id: &str| guide.element(id).expect("element").title.clone();

    // The owner's country page: the lifecycle with its timeline.
    sign_in(&client, &base, &demo("strategy"), PASSWORD).await;
    client.goto(&format!("{base}/strategy/KE")).await.expect("country page");
    assert_eq!(text_of(&client, "#strategy-phase").await, "Implementation");
    client.find(Locator::Css("#phase-timeline svg")).await.expect("the lifecycle timeline");
    snap(&client, "strategy-country").await;

    // The self-assessment: FA5 onwards is still to do in the demo.
    click(&client, "#to-assessment").await;
    tick(&client, "#form-FA5-1 input[value=not_in_place]").await;
    select(&client, "#pr-FA5-1", "high").await;
    fill(&client, "#ev-FA5-1", "javascript:alert(1)").await;
    click(&client, "#save-FA5-1").await;
    let error = text_of(&client, "#form-error").await;
    assert!(error.contains("evidence[0]"), "the bad link is named: {error}");
    tick(&client, "#form-FA5-1 input[value=not_in_place]").await;
    fill(&client, "#ev-FA5-1", "https://ict.go.ke.example/skills-survey-2026.pdf").await;
    fill(&client, "#cm-FA5-1", "No national skills programme yet.").await;
    click(&client, "#save-FA5-1").await;
    assert_eq!(text_of(&client, "#status-FA5-1").await, "Not in place");
    tick(&client, "#form-FA6-2 input[value=partial]").await;
    click(&client, "#save-FA6-2").await;
    assert_eq!(text_of(&client, "#status-FA6-2").await, "Partially in place");

    // The gap report: both gaps, each raising the pillar its GCI indicators
    // sit in, with the tier before and after.
    click(&client, "#to-gaps").await;
    let fa51 = text_of(&client, "#gap-FA5-1").await;
    assert!(fa51.contains(&title("FA5.1")) && fa51.contains('+') && fa51.contains("Tier"), "{fa51}");
    client.find(Locator::Css("#gap-FA5-1 .delta-up")).await.expect("closing FA5.1 raises a pillar");
    client.find(Locator::Css("#gap-FA6-2 .delta-up")).await.expect("closing FA6.2 raises a pillar");
    let baseline = text_of(&client, "#gap-baseline").await;
    assert!(baseline.contains("GCI 2026 round (demo)"), "the baseline is Kenya's campaign: {baseline}");
    snap(&client, "strategy-gaps").await;
    tick(&client, "#pick-FA5-1").await;
    tick(&client, "#pick-FA6-2").await;
    click(&client, "#gaps-to-actions").await;

    // The plan: the two new actions, a KPI and a measured value.
    let action = id_of(&client, &format!("//div[contains(@class,'action')][.//h3[contains(., \"{}\")]]", title("FA5.1"))).await;
    let action = action.trim_start_matches("action-").to_owned();
    id_of(&client, &format!("//div[contains(@class,'action')][.//h3[contains(., \"{}\")]]", title("FA6.2"))).await;
    tick(&client, &format!("#action-{action} details summary")).await;
    fill(&client, &format!("#kn-{action}"), "Graduates of the national skills programme").await;
    fill(&client, &format!("#ku-{action}"), "people").await;
    fill(&client, &format!("#kb-{action}"), "0").await;
    fill(&client, &format!("#kt-{action}"), "400").await;
    click(&client, &format!("#kpi-submit-{action}")).await;
    let kpi = id_of(&client, "//tr[starts-with(@id,'kpi-')][td[contains(., 'Graduates of the national skills programme')]]").await;
    fill(&client, &format!("#measure-{} input[name=value]", kpi.trim_start_matches("kpi-")), "100").await;
    click(&client, &format!("#measure-{} button", kpi.trim_start_matches("kpi-"))).await;
    assert_eq!(text_of(&client, &format!("#{kpi} .progress-text")).await, "25%");
    assert_eq!(text_of(&client, "#me-overdue").await, "1", "the demo's overdue exercise");
    client.find(Locator::Css("#plan-timeline svg")).await.expect("the plan timeline");
    snap(&client, "strategy-plan").await;

    // The plan as CSV, fetched as a script would with the owner's session.
    let login = server.login(&demo("strategy"), PASSWORD);
    let cookie = format!("rampart_session={}", login.cookie("rampart_session").expect("session"));
    let csv = server.get("/strategy/KE/plan.csv", &[("Cookie", &cookie)]);
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.body.contains("Graduates of the national skills programme,people,0,400,100,25%"), "{}", csv.body);
    assert!(csv.body.contains("gap:FA6.2"), "{}", csv.body);
    // Another country's owner would be refused; a CIRT manager reads no plan.
    let manager = server.login(&demo("manager"), PASSWORD);
    let manager_cookie = format!("rampart_session={}", manager.cookie("rampart_session").expect("session"));
    assert_eq!(server.get("/strategy/KE/plan.csv", &[("Cookie", &manager_cookie)]).status, 403);

    // The KE-CIRT manager records a SIM3 assessment with a target profile.
    client.delete_all_cookies().await.expect("sign out");
    sign_in(&client, &base, &demo("manager"), PASSWORD).await;
    client.goto(&format!("{base}/maturity")).await.expect("maturity index");
    click(&client, "#cirt-table a").await;
    assert!(text_of(&client, "#cirt-name").await.contains("KE-CIRT"));
    for (parameter, level, target) in [("O-1", "3", "4"), ("O-2", "3", ""), ("H-3", "2", ""), ("T-4", "2", "3"), ("P-13", "1", "3")] {
        select(&client, &format!("#level-{parameter}"), level).await;
        if !target.is_empty() {
            select(&client, &format!("#target-{parameter}"), target).await;
        }
    }
    click(&client, "#sim3-submit").await;
    client.find(Locator::Css("#sim3-radar svg")).await.expect("the radar of the profile");
    let gaps = text_of(&client, "#sim3-gaps").await;
    assert!(gaps.contains("P-13") && gaps.contains("T-4") && gaps.contains("O-1"), "{gaps}");
    click(&client, "#sim3-to-plan").await;
    select(&client, "#svc-form-2-1 select", "advanced").await;
    fill(&client, "#svc-form-2-1 input[name=audience]", "Government and critical infrastructure").await;
    click(&client, "#svc-form-2-1 button").await;
    assert_eq!(text_of(&client, "#svc-level-2-1").await, "Advanced");
    snap(&client, "maturity").await;

    // The coordinating body compares the African countries.
    client.delete_all_cookies().await.expect("sign out");
    sign_in(&client, &base, &demo("coordinator"), PASSWORD).await;
    client.goto(&format!("{base}/strategy?region=africa")).await.expect("comparison");
    let kenya = text_of(&client, "#row-KE").await;
    assert!(kenya.contains("Implementation") && kenya.contains("/ 4"), "Kenya with its CIRT maturity: {kenya}");
    assert!(text_of(&client, "#row-GH").await.contains("Production"));
    assert!(client.find(Locator::Css("#row-EE")).await.is_err(), "Estonia is not in the Africa region");
    snap(&client, "strategy-compare").await;
    client.goto(&format!("{base}/strategy/KE/plan")).await.expect("plan");
    assert!(text_of(&client, "main").await.contains("P-13"), "the SIM3 gaps are in Kenya's plan");
    client.close().await.expect("close browser");
}
