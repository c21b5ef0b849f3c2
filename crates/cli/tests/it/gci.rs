//! The GCI's "done means", in a real headless Chromium against `rampart
//! serve --demo`: the editor drafts a small edition, freezes it and opens a
//! campaign for Kenya and Brazil; both focal points answer with evidence
//! and submit; the reviewer sends one of Kenya's answers back, Kenya
//! answers it, the reviewer accepts the rest and validates both; the
//! editor publishes; a signed-out visitor sees the table, the map and
//! Kenya's profile with its rank interval; and the editor's import of the
//! published GCI 2020 results reproduces the report's ranks.

use crate::support::{Sandbox, Server};
use fantoccini::{Client, Locator};
use rampart_testkit::browser::{browser, click, fill, select, sign_in, snap, start_driver, text_of};

const PASSWORD: &str = "rampart-demo-2026";

fn demo(local: &str) -> String {
    format!("{local}@demo.rampart.test")
}

/// One question per pillar, yes or no, so a campaign fits in a test.
const NODES: &str = "id,parent,level,weight,answer,source,name
legal,,pillar,20,,published,Legal measures
L1,legal,indicator,1,,placeholder,Cybercrime law
q1,L1,question,1,yes_no,placeholder,Is illegal access to computer systems a crime?
technical,,pillar,20,,published,Technical measures
T1,technical,indicator,1,,placeholder,National CIRT
q2,T1,question,1,yes_no,placeholder,Is there a national CIRT?
organizational,,pillar,20,,published,Organizational measures
O1,organizational,indicator,1,,placeholder,Strategy
q3,O1,question,1,yes_no,placeholder,Is there a national cybersecurity strategy?
capacity,,pillar,20,,published,Capacity development
C1,capacity,indicator,1,,placeholder,Awareness
q4,C1,question,1,yes_no,placeholder,Is there a national awareness campaign?
cooperation,,pillar,20,,published,Cooperation
K1,cooperation,indicator,1,,placeholder,Agreements
q5,K1,question,1,yes_no,placeholder,Has the country signed a multilateral agreement?
";

async fn tick(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}")).click().await.expect("click");
}

/// Date inputs take typed dates in the browser's locale; set the value directly.
async fn set_value(client: &Client, css: &str, value: &str) {
    let script = format!("document.querySelector('{css}').value = '{value}';");
    client.execute(&script, vec![]).await.unwrap_or_else(|err| panic!("{css}: {err}"));
}

async fn answer(client: &Client, q: &str, value: &str, link: Option<&str>) {
    tick(client, &format!("#answer-{q} input[name=value][value={value}]")).await;
    if let Some(link) = link {
        fill(client, &format!("#url-{q}"), link).await;
        fill(client, &format!("#ename-{q}"), "Official text").await;
    }
    click(client, &format!("#save-{q}")).await;
}

async fn sign_out_and_in(client: &Client, base: &str, local: &str) {
    client.delete_all_cookies().await.expect("sign out");
    sign_in(client, base, &demo(local), PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gci_campaign_runs_from_a_new_edition_to_public_results_in_chromium() {
    let sandbox = Sandbox::new();
    let server = Server::start(&sandbox, &["--demo"]);
    let base = format!("http://127.0.0.1:{}", server.port);
    let driver = start_driver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let client = browser(&driver, profile.path()).await;

    // The editor drafts an edition, edits it and freezes it.
    sign_in(&client, &base, &demo("editor"), PASSWORD).await;
    client.goto(&format!("{base}/gci/editions")).await.expect("editions");
    select(&client, "#e-from", "gci-2020").await;
    fill(&client, "#e-code", "gci-2027-pilot").await;
    fill(&client, "#e-name", "GCI 2027 pilot").await;
    fill(&client, "#e-year", "2027").await;
    click(&client, "#copy-submit").await;
    fill(&client, "#e-nodes", NODES).await;
    fill(&client, "#e-tiers", "1,Leading,75\n2,Advancing,50\n3,Starting,0").await;
    click(&client, "#edit-submit").await;
    click(&client, "#freeze-submit").await;
    assert_eq!(client.find_all(Locator::Css("#edition-nodes tbody tr")).await.expect("rows").len(), 15);

    // …and opens a campaign for Kenya and Brazil.
    client.goto(&format!("{base}/gci/campaigns")).await.expect("campaigns");
    select(&client, "#o-edition", "gci-2027-pilot").await;
    fill(&client, "#o-name", "GCI 2027 pilot round").await;
    set_value(&client, "#o-deadline", "2099-06-30").await;
    fill(&client, "#o-countries", "KE, BR").await;
    click(&client, "#open-submit").await;
    let board = client.current_url().await.expect("url");
    let campaign = board.path().trim_start_matches("/gci/campaigns/").to_owned();
    client.find(Locator::Css("#board-KE")).await.expect("Kenya on the board");
    client.find(Locator::Css("#board-BR")).await.expect("Brazil on the board");

    // Kenya's focal point answers with evidence and submits.
    sign_out_and_in(&client, &base, "focalpoint").await;
    client.goto(&format!("{base}/gci/campaigns/{campaign}/countries/KE")).await.expect("questionnaire");
    answer(&client, "q1", "yes", Some("https://ict.go.ke.example/computer-misuse-act.pdf")).await;
    answer(&client, "q2", "yes", Some("https://cirt.ke.example/about")).await;
    answer(&client, "q3", "no", None).await;
    answer(&client, "q4", "yes", Some("https://ict.go.ke.example/awareness-2026")).await;
    answer(&client, "q5", "yes", Some("https://treaties.ke.example/budapest")).await;
    click(&client, "#submit-answers").await;
    // Brazil's does the same.
    sign_out_and_in(&client, &base, "focalpoint-br").await;
    client.goto(&format!("{base}/gci/campaigns/{campaign}/countries/BR")).await.expect("questionnaire");
    answer(&client, "q1", "yes", Some("https://planalto.br.example/lei-12737")).await;
    answer(&client, "q2", "yes", Some("https://cert.br.example/")).await;
    answer(&client, "q3", "yes", Some("https://gsi.br.example/e-ciber")).await;
    answer(&client, "q4", "no", None).await;
    answer(&client, "q5", "no", None).await;
    click(&client, "#submit-answers").await;
    assert!(client.find(Locator::Css("#answer-q1")).await.is_err(), "a submitted questionnaire is closed to its country");

    // The reviewer sends one of Kenya's answers back and accepts the rest.
    sign_out_and_in(&client, &base, "reviewer").await;
    client.goto(&format!("{base}/gci/campaigns/{campaign}/countries/KE")).await.expect("questionnaire");
    tick(&client, "#review-q2 input[value=clarify]").await;
    fill(&client, "#rv-comment-q2", "Please link the CIRT's founding decree.").await;
    click(&client, "#review-submit-q2").await;
    for q in ["q1", "q3", "q4", "q5"] {
        click(&client, &format!("#review-submit-{q}")).await;
    }
    // Validation waits for the clarification.
    assert!(client.find(Locator::Css("#validate-country")).await.is_err(), "nothing to validate while q2 is sent back");
    assert!(text_of(&client, "#state-q2").await.len() > 1);

    // Kenya answers the request; the reviewer accepts and validates.
    sign_out_and_in(&client, &base, "focalpoint").await;
    client.goto(&format!("{base}/gci/campaigns/{campaign}/countries/KE")).await.expect("questionnaire");
    assert!(text_of(&client, "#review-comment-q2").await.contains("founding decree"));
    assert!(client.find(Locator::Css("#answer-q1")).await.is_err(), "only the answer sent back is open");
    answer(&client, "q2", "yes", Some("https://cirt.ke.example/decree-2012.pdf")).await;
    sign_out_and_in(&client, &base, "reviewer").await;
    client.goto(&format!("{base}/gci/campaigns/{campaign}/countries/KE")).await.expect("questionnaire");
    click(&client, "#review-submit-q2").await;
    click(&client, "#validate-country").await;
    assert!(text_of(&client, "#participant-status").await.to_lowercase().contains("valid"));
    client.goto(&format!("{base}/gci/campaigns/{campaign}/countries/BR")).await.expect("questionnaire");
    for q in ["q1", "q2", "q3", "q4", "q5"] {
        click(&client, &format!("#review-submit-{q}")).await;
    }
    click(&client, "#validate-country").await;

    // The editor publishes.
    sign_out_and_in(&client, &base, "editor").await;
    client.goto(&format!("{base}/gci/campaigns/{campaign}")).await.expect("board");
    snap(&client, "gci-board").await;
    click(&client, "#publish-submit").await;

    // The public: the table, the map, Kenya's profile with its interval.
    client.delete_all_cookies().await.expect("sign out");
    client.goto(&format!("{base}/gci")).await.expect("gci");
    let link =
        client.find(Locator::XPath("//table[@id='result-sets']//a[contains(., 'GCI 2027 pilot round')]")).await.expect("published set");
    let href = link.attr("href").await.expect("href").expect("link");
    client.goto(&format!("{base}{href}")).await.expect("results");
    let kenya = text_of(&client, "#gci-table tr[data-country=KE]").await;
    let brazil = text_of(&client, "#gci-table tr[data-country=BR]").await;
    assert!(kenya.contains("80"), "Kenya: four of five pillars: {kenya}");
    assert!(brazil.contains("60"), "Brazil: three of five: {brazil}");
    assert_eq!(text_of(&client, "#gci-table tr[data-country=KE] .rank").await, "1");
    assert_eq!(text_of(&client, "#gci-table tr[data-country=BR] .rank").await, "2");
    assert_eq!(text_of(&client, "#gci-table tr[data-country=KE] .tier").await, "1", "the editor's tiers");
    assert_eq!(text_of(&client, "#gci-table tr[data-country=BR] .tier").await, "2");
    client.find(Locator::Css("#gci-map svg")).await.expect("the world map");
    client.goto(&format!("{base}{href}/countries/KE")).await.expect("profile");
    assert!(text_of(&client, "#profile-score").await.contains("80"));
    assert!(!text_of(&client, "#profile-interval").await.is_empty(), "the rank interval");
    client.find(Locator::Css("#pillar-radar svg")).await.expect("the radar");
    snap(&client, "gci-profile").await;

    // The editor imports the published GCI 2020 results: the ranks are the report's.
    sign_in(&client, &base, &demo("editor"), PASSWORD).await;
    client.goto(&format!("{base}/gci/campaigns")).await.expect("campaigns");
    select(&client, "#i-edition", "gci-2020").await;
    fill(&client, "#i-name", "GCI 2020 as published").await;
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/gci/gci_2020_pillars_long.csv");
    let corpus = corpus.canonicalize().expect("the GCI 2020 corpus");
    client.find(Locator::Css("#i-file")).await.expect("file input").send_keys(&corpus.display().to_string()).await.expect("choose file");
    click(&client, "#import-submit").await;
    for (country, rank) in [("US", "1"), ("GB", "2"), ("SA", "2"), ("EE", "3"), ("KR", "4"), ("SG", "4"), ("ES", "4"), ("JP", "7")] {
        let shown = text_of(&client, &format!("#gci-table tr[data-country={country}] .rank")).await;
        assert_eq!(shown, rank, "{country}");
    }

    // The 2020 results beside the demo's 2024 ones.
    let imported = client.current_url().await.expect("url").path().trim_start_matches("/gci/results/").to_owned();
    client.goto(&format!("{base}/gci")).await.expect("gci");
    let synthetic =
        client.find(Locator::XPath("//table[@id='result-sets']//a[contains(., 'synthetic')]")).await.expect("the demo's 2024 set");
    let synthetic = synthetic.attr("href").await.expect("href").expect("link").trim_start_matches("/gci/results/").to_owned();
    client.goto(&format!("{base}/gci/compare?a={imported}&b={synthetic}")).await.expect("compare");
    assert!(client.find_all(Locator::Css("#compare-table tbody tr")).await.expect("rows").len() > 150);
    assert_eq!(text_of(&client, "#compare-table tr[data-country=US] .a").await, "100.0", "the 2020 leader at full marks");
    snap(&client, "gci-compare").await;
    client.close().await.expect("close browser");
}

/// `gci remind` against the demo world: the demo campaign's three
/// countries get a reminder at the 14-day stage through a real SMTP
/// server, once; the overdue stage follows after the deadline.
#[test]
fn deadline_reminders_reach_the_focal_points_once_per_stage() {
    let sandbox = Sandbox::new();
    drop(Server::start(&sandbox, &["--demo"]));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let smtp = runtime.block_on(rampart_testkit::smtp::SmtpServer::start());
    let port = smtp.port.to_string();
    let env = [
        ("RAMPART_SMTP_HOST", "127.0.0.1"),
        ("RAMPART_SMTP_PORT", port.as_str()),
        ("RAMPART_SMTP_FROM", "GCI team <gci@demo.rampart.test>"),
        ("RAMPART_SMTP_TLS", "none"),
        ("RAMPART_SERVER_PUBLIC_URL", "https://gci.example"),
    ];
    // The demo campaign is due 60 days after seeding.
    let today = rampart_core::Clock::now(&rampart_core::SystemClock).date_naive();
    let run = |day: chrono::NaiveDate| sandbox.run_env(&["gci", "remind", "--as-of", &day.to_string()], &env);
    let early = run(today + chrono::Duration::days(30));
    early.ok();
    assert!(early.stdout.contains("0 reminder(s) sent"), "{}", early.stdout);
    let first = run(today + chrono::Duration::days(50));
    first.ok();
    assert!(first.stdout.contains("3 reminder(s) sent, 0 failed"), "{}", first.stdout);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 3);
    let kenya = messages.iter().find(|m| m.to.iter().any(|t| t.contains("focalpoint@demo.rampart.test"))).expect("Kenya's focal point");
    // Long header lines are folded, long body lines quoted-printable.
    let kenya_text = kenya.data.replace("\r\n", "\n").replace("\n ", " ").replace("=\n", "").replace("=3D", "=");
    assert!(kenya_text.contains("Subject: Reminder: GCI 2026 round (demo) questionnaire for Kenya due in 10 days"), "{kenya_text}");
    assert!(kenya_text.contains("Answered: 3 of 83 questions."), "{kenya_text}");
    assert!(kenya_text.contains("https://gci.example/gci/campaigns/"), "{kenya_text}");
    let again = run(today + chrono::Duration::days(52));
    assert!(again.stdout.contains("0 reminder(s) sent"), "each stage once: {}", again.stdout);
    let late = run(today + chrono::Duration::days(61));
    assert!(late.stdout.contains("3 reminder(s) sent"), "{}", late.stdout);
    assert!(smtp.messages().iter().filter(|m| m.data.contains("Subject: Overdue:")).count() == 3);
    let audit = sandbox.run(&["audit", "verify"]);
    audit.ok();
}
