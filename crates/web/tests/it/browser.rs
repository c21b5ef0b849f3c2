//! End-to-end in a real headless Chromium driven over WebDriver: an
//! administrator signs in, sets up two-factor authentication, signs in again
//! with a recovery code, creates a user and grants a role, creates an API
//! token and calls the API with it over HTTP, switches to Arabic and sees
//! the page laid out right to left. Screenshots land in `docs/screenshots/`
//! for the README.

use crate::support::{PASSWORD, World};
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Driver {
    process: tokio::process::Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.start_kill();
    }
}

async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr").port()
}

async fn start_driver() -> Driver {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "the browser tests need Debian's chromium and chromium-driver: apt-get install chromium chromium-driver (.ci/run does this)"
    );
    let port = free_port().await;
    let process = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Driver { process, port };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900", "--lang=en-GB", format!("--user-data-dir={}", profile.display())
            ]
        }),
    );
    ClientBuilder::rustls()
        .expect("tls connector")
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("start a Chromium session")
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn snap(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn fill(client: &Client, css: &str, text: &str) {
    let element = client.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}"));
    element.clear().await.expect("clear");
    element.send_keys(text).await.expect("type");
}

/// Clicks something that submits a form or follows a link, and waits until
/// the browser has left the page, so the next step never races the
/// navigation.
async fn click(client: &Client, css: &str) {
    let old_page = client.find(Locator::Css("html")).await.expect("page");
    client.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}")).click().await.expect("click");
    for _ in 0..100 {
        if old_page.tag_name().await.is_err() {
            // The old document is gone; wait for the new one to finish loading.
            client.wait().for_element(Locator::Css("footer")).await.expect("new page loaded");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("clicking {css} did not leave the page");
}

async fn text_of(client: &Client, css: &str) -> String {
    client.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}")).text().await.expect("text")
}

/// A plain HTTP/1.1 request over a socket: the token is used exactly as a
/// script would, against the real listening server.
async fn http_get(port: u16, path: &str, token: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

async fn sign_in(client: &Client, base: &str, email: &str, password: &str) {
    client.goto(&format!("{base}/login")).await.expect("login page");
    fill(client, "#email", email).await;
    fill(client, "#password", password).await;
    click(client, "#sign-in").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_works_through_the_platform_in_chromium() {
    let world = World::new().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let base = format!("http://127.0.0.1:{port}");
    let server = tokio::spawn(rampart_web::serve(world.state.clone(), listener, None, std::future::pending()));
    let driver = start_driver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let client = browser(&driver, profile.path()).await;

    // The public landing page, then signing in with a wrong password.
    client.goto(&base).await.expect("home");
    snap(&client, "landing").await;
    sign_in(&client, &base, "admin@example.org", "not the password").await;
    assert!(text_of(&client, "#login-error").await.contains("Wrong e-mail or password"));
    snap(&client, "login").await;

    // Signing in for real.
    sign_in(&client, &base, "admin@example.org", PASSWORD).await;
    assert!(text_of(&client, "h1").await.contains("Welcome"), "signed in and welcomed");
    snap(&client, "home").await;

    // Two-factor set-up: the test plays the phone, computing the code from
    // the key shown on the page.
    client.goto(&format!("{base}/profile/two-factor")).await.expect("2fa page");
    click(&client, "#start-2fa").await;
    let secret = text_of(&client, "#totp-secret").await;
    snap(&client, "two-factor-setup").await;
    let code = rampart_auth::totp::code_at(&secret, world.state.auth().now()).expect("code");
    fill(&client, "#totp-code", &code).await;
    click(&client, "#confirm-2fa").await;
    let codes =
        client.wait().for_element(Locator::Css("#recovery-codes")).await.expect("codes").find_all(Locator::Css("li")).await.expect("items");
    assert_eq!(codes.len(), 10, "ten recovery codes are shown once");
    let recovery = codes[0].text().await.expect("code text");
    click(&client, "#codes-saved").await;
    assert!(text_of(&client, "#tfa-status").await.contains("on"), "profile shows two-factor on");

    // Signing out and in again now needs the second factor; a recovery code
    // (the TOTP step just used cannot be replayed) gets us in.
    click(&client, "#sign-out").await;
    sign_in(&client, &base, "admin@example.org", PASSWORD).await;
    assert!(client.current_url().await.expect("url").path().ends_with("/login/second-factor"));
    fill(&client, "#code", "000000").await;
    click(&client, "#verify").await;
    assert!(text_of(&client, ".error-message").await.contains("not valid"));
    fill(&client, "#code", &recovery).await;
    click(&client, "#verify").await;
    assert!(text_of(&client, "h1").await.contains("Welcome"), "signed in with a recovery code");

    // Creating a user in the Kenyan CIRT and granting a role.
    client.goto(&format!("{base}/admin/users")).await.expect("users page");
    client.find(Locator::Css("#new-org")).await.expect("org select").select_by_value(&world.kenya_cirt).await.expect("choose org");
    fill(&client, "#new-email", "new.analyst@ke.example").await;
    fill(&client, "#new-name", "New Analyst").await;
    fill(&client, "#new-password", "a long enough first password").await;
    snap(&client, "admin-users").await;
    click(&client, "#create-user").await;
    assert_eq!(text_of(&client, "#user-email").await, "new.analyst@ke.example");
    client.find(Locator::Css("#grant-role")).await.expect("role select").select_by_value("cirt_analyst").await.expect("choose role");
    click(&client, "#grant-role-button").await;
    assert!(text_of(&client, "#grants-table").await.contains("CIRT analyst"));
    snap(&client, "admin-user").await;
    let created = world.store.user_by_email("new.analyst@ke.example").await.expect("query").expect("user stored");
    assert_eq!(world.store.grants_of(&created.id).await.expect("grants").len(), 1);

    // An API token, shown once, used by a "script" over HTTP.
    client.goto(&format!("{base}/profile")).await.expect("profile");
    fill(&client, "#token-name", "nightly export").await;
    click(&client, "#create-token").await;
    let token = text_of(&client, "#new-token").await;
    assert!(token.starts_with("rmp_"), "token shown: {token}");
    let (status, body) = http_get(port, "/api/v1/users?limit=2", &token).await;
    assert_eq!(status, 200, "{body}");
    let users: serde_json::Value = serde_json::from_str(body.trim()).expect("json");
    assert_eq!(users["items"].as_array().map(Vec::len), Some(2));
    assert!(users["next_cursor"].is_string(), "more than two users: paged");
    let (status, _) = http_get(port, "/api/v1/users", "rmp_not-a-real-token").await;
    assert_eq!(status, 401);

    // The audit log shows what just happened.
    client.goto(&format!("{base}/admin/audit")).await.expect("audit");
    assert!(text_of(&client, "#chain-status").await.contains("untouched"));
    assert!(text_of(&client, "#audit-table").await.contains("platform.token.create"));
    snap(&client, "audit").await;

    // Arabic, right to left, remembered for the user.
    client.find(Locator::Css("#lang-select")).await.expect("picker").select_by_value("ar").await.expect("choose Arabic");
    // The picker submits itself with JavaScript; without it the button would.
    let mut right_to_left = false;
    for _ in 0..50 {
        if let Ok(html) = client.find(Locator::Css("html")).await
            && html.attr("dir").await.ok().flatten().as_deref() == Some("rtl")
        {
            right_to_left = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(right_to_left, "the page turns right to left");
    let html = client.find(Locator::Css("html")).await.expect("html");
    assert_eq!(html.attr("lang").await.expect("lang").as_deref(), Some("ar"));
    snap(&client, "arabic").await;
    let admin = world.store.user_get(&world.admin_id).await.expect("admin");
    assert_eq!(admin.language, "ar", "language remembered per user");

    client.close().await.expect("close browser");
    server.abort();
}

async fn select(client: &Client, css: &str, value: &str) {
    client.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}")).select_by_value(value).await.expect("select");
}

/// The CIRT desk end to end: a constituent reports phishing; an analyst
/// opens an incident from the report, takes it, works its playbook, answers
/// the constituent and closes it within SLA; the constituent then sees the
/// incident and the answer, but not the CIRT's internal notes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_works_a_reported_phishing_case_to_closure_in_chromium() {
    let world = World::new().await;
    // A constituent of the Kenyan CIRT with its own user.
    let cli = rampart_auth::Principal::cli("test");
    let actor = rampart_auth::service::Actor { principal: &cli, ip: None };
    let auth = world.state.auth();
    let isp = auth
        .create_org(
            &actor,
            &rampart_store::NewOrg {
                name: "Savannah Telecom".into(),
                short_name: None,
                kind: "isp".into(),
                sector: Some("digital_infrastructure".into()),
                country: Some("KE".into()),
                parent_id: Some(world.kenya_cirt.clone()),
                website: None,
                mfa_required: false,
            },
        )
        .await
        .expect("isp");
    let isp_user = auth
        .create_user(
            &actor,
            &rampart_auth::NewUserRequest {
                org_id: isp.id.clone(),
                email: "soc@isp.example".into(),
                display_name: "ISP SOC".into(),
                password: PASSWORD.into(),
                language: "en".into(),
                must_change_password: false,
            },
        )
        .await
        .expect("isp user");
    auth.grant_role(&actor, &isp_user, rampart_core::Role::Constituent, rampart_auth::Scope::Org(isp.id.clone())).await.expect("grant");
    auth.add_contact(&actor, &isp.id, "incident reports", Some("SOC"), "abuse@isp.example", None).await.expect("contact");
    // Notices go to a real SMTP server on loopback.
    let smtp = rampart_testkit::smtp::SmtpServer::start().await;
    let mailer =
        rampart_cirt::notify::SmtpMailer::new("127.0.0.1", smtp.port, rampart_cirt::notify::TlsMode::Opportunistic, None).expect("mailer");
    let notifier = rampart_cirt::notify::Notifier::new(
        world.store.clone(),
        auth.clock(),
        std::sync::Arc::new(mailer),
        "KE-CIRT <cirt@ke-cirt.example>",
    )
    .expect("notifier");
    let _ = world.state.clone().with_notifier(std::sync::Arc::new(notifier));

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let base = format!("http://127.0.0.1:{port}");
    let server = tokio::spawn(rampart_web::serve(world.state.clone(), listener, None, std::future::pending()));
    let driver = start_driver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let client = browser(&driver, profile.path()).await;

    // The constituent reports.
    sign_in(&client, &base, "soc@isp.example", PASSWORD).await;
    client.goto(&format!("{base}/report")).await.expect("report form");
    fill(&client, "#r-subject", "SMS phishing against our customers").await;
    fill(
        &client,
        "#r-body",
        "Customers get SMS linking to hxxps://secure-login[.]example/verify served from 198.51.100.77 since 02:10 UTC.",
    )
    .await;
    click(&client, "#submit-report").await;
    let receipt = text_of(&client, "#report-receipt").await;
    assert!(receipt.contains("REP-"), "{receipt}");
    click(&client, "#sign-out").await;

    // The analyst opens an incident from it.
    sign_in(&client, &base, "analyst@ke.example", PASSWORD).await;
    client.goto(&format!("{base}/cirt/reports")).await.expect("reports");
    click(&client, "#reports-table a").await;
    let observed = text_of(&client, "#report-observables").await;
    assert!(observed.contains("https://secure-login.example/verify") && observed.contains("198.51.100.77"), "{observed}");
    select(&client, "#p-type", "phishing").await;
    select(&client, "#p-impact", "high").await;
    select(&client, "#p-urgency", "high").await;
    click(&client, "#promote-report").await;
    assert!(text_of(&client, "#incident-reference").await.starts_with("INC-"));
    assert_eq!(text_of(&client, "#incident-priority").await, "Critical");
    assert!(text_of(&client, "#observables").await.contains("198.51.100.77"));
    assert!(text_of(&client, "#constituents").await.contains("Savannah Telecom"), "the reporter is an affected constituent");

    // Take it and work the playbook.
    click(&client, "#take-incident").await;
    assert_eq!(text_of(&client, "#incident-assignee").await, "analyst");
    select(&client, "#next-status", "triage").await;
    click(&client, "#change-status").await;
    let tasks = client.find_all(Locator::Css("#tasks li")).await.expect("tasks").len();
    assert!(tasks >= 5, "the phishing playbook has its tasks: {tasks}");
    for _ in 0..tasks {
        // Each tick reloads the page; always tick the first open task.
        let open = client.find_all(Locator::Css("#tasks li:not(.done) .task-toggle")).await.expect("open tasks");
        if open.is_empty() {
            break;
        }
        click(&client, "#tasks li:not(.done) .task-toggle").await;
    }
    assert!(client.find_all(Locator::Css("#tasks li:not(.done)")).await.expect("tasks").is_empty(), "every task done");
    fill(&client, "#note-text", "Internal: registrar contacted through the trusted channel.").await;
    click(&client, "#add-note").await;
    fill(&client, "#note-text", "We have requested the takedown of the phishing site; please warn your customers.").await;
    client.find(Locator::Css("#note-response")).await.expect("checkbox").click().await.expect("tick");
    click(&client, "#add-note").await;
    // Notify the ISP: the mail with the affected observables arrives.
    click(&client, "#notify-constituents").await;
    let mut delivered = Vec::new();
    for _ in 0..100 {
        delivered = smtp.messages();
        if !delivered.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(delivered.len(), 1, "the notice reached the SMTP server");
    assert_eq!(delivered[0].to, ["abuse@isp.example"]);
    let reference = text_of(&client, "#incident-reference").await;
    assert!(delivered[0].data.contains(&format!("Subject: [TLP:AMBER] {reference}")), "{}", delivered[0].data);
    let csv = rampart_testkit::smtp::part_body(&delivered[0].data, "filename=\"events.csv\"").expect("CSV attachment");
    assert!(csv.contains("198.51.100.77"), "{csv}");
    client.goto(client.current_url().await.expect("url").as_ref()).await.expect("reload");
    assert!(text_of(&client, "#notices").await.contains("sent"), "delivery status shown");
    for status in ["in_progress", "resolved", "closed"] {
        select(&client, "#next-status", status).await;
        click(&client, "#change-status").await;
    }
    assert_eq!(text_of(&client, "#incident-status").await, "Closed");
    let timers = text_of(&client, "#timers").await;
    assert_eq!(timers.matches(": met").count(), 3, "all three service levels met: {timers}");
    snap(&client, "cirt-incident").await;
    client.goto(&format!("{base}/cirt?queue=all")).await.expect("queue");
    snap(&client, "cirt-queue").await;
    client.goto(&format!("{base}/cirt/dashboard")).await.expect("dashboard");
    assert_eq!(text_of(&client, "#open-count").await, "0", "the one incident is closed");
    let charts = client.find_all(Locator::Css("svg.chart")).await.expect("charts");
    assert_eq!(charts.len(), 5, "five server-drawn charts");
    assert!(text_of(&client, "#top-constituents").await.contains("Savannah Telecom"));
    snap(&client, "cirt-dashboard").await;
    click(&client, "#sign-out").await;

    // The constituent sees its incident and the answer, not the internal note.
    sign_in(&client, &base, "soc@isp.example", PASSWORD).await;
    client.goto(&format!("{base}/cirt")).await.expect("our incidents");
    click(&client, "#incidents-table a").await;
    let timeline = text_of(&client, "#timeline").await;
    assert!(timeline.contains("requested the takedown"), "{timeline}");
    assert!(!timeline.contains("Internal:"), "internal notes stay inside the CIRT: {timeline}");
    assert!(client.find_all(Locator::Css("#tasks")).await.expect("query").is_empty(), "no task list for constituents");

    client.close().await.expect("close browser");
    server.abort();
}
