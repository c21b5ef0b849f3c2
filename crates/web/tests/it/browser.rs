//! End-to-end in a real headless Chromium driven over WebDriver: an
//! administrator signs in, sets up two-factor authentication, signs in again
//! with a recovery code, creates a user and grants a role, creates an API
//! token and calls the API with it over HTTP, switches to Arabic and sees
//! the page laid out right to left. Screenshots land in `docs/screenshots/`
//! for the README.

use crate::support::{PASSWORD, World};
use fantoccini::Locator;
use rampart_testkit::browser::{browser, click, fill, select, sign_in, snap, start_driver, text_of};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A plain HTTP/1.1 request over a socket: the token is used exactly as a
/// script would, against the real listening server.
async fn http_get(port: u16, path: &str, token: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let authorization = if token.is_empty() { String::new() } else { format!("Authorization: Bearer {token}\r\n") };
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{authorization}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
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

/// Whether GnuPG, in a throw-away home, verifies `signature` over
/// `document` with `public_key`: an independent OpenPGP implementation.
fn gpg_verifies(public_key: &str, document: &str, signature: &str) -> bool {
    let home = tempfile::tempdir().expect("gpg home");
    let write = |name: &str, text: &str| {
        let path = home.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let key = write("key.asc", public_key);
    let doc = write("doc.json", document);
    let sig = write("doc.json.asc", signature);
    let gpg = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new("gpg")
            .arg("--homedir")
            .arg(home.path())
            .args(["--batch", "--quiet"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("gpg runs (install gnupg)")
            .success()
    };
    assert!(gpg(&["--import".as_ref(), key.as_os_str()]), "the published key imports");
    gpg(&["--verify".as_ref(), sig.as_os_str(), doc.as_os_str()])
}

/// The CIRT desk end to end: an abuse desk elsewhere e-mails an X-ARF
/// report about a phishing site on an ISP's network; the analyst opens an
/// incident from it (RSIT-classified, observables extracted, the ISP found
/// through the constituency registry), takes it, works its playbook,
/// notifies the ISP (the mail with the CSV arrives at a real SMTP server)
/// and closes it within SLA; the ISP then sees the incident and the answer
/// but not the CIRT's internal notes, and another constituent sees nothing.
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
    world.add_user(&isp.id, "soc@isp.example", rampart_core::Role::Constituent).await;
    auth.add_contact(&actor, &isp.id, "incident reports", Some("SOC"), "abuse@isp.example", None).await.expect("contact");
    // Another constituent, which must see none of this.
    let bank = auth
        .create_org(
            &actor,
            &rampart_store::NewOrg {
                name: "Harambee Bank".into(),
                short_name: None,
                kind: "critical_infrastructure".into(),
                sector: Some("banking".into()),
                country: Some("KE".into()),
                parent_id: Some(world.kenya_cirt.clone()),
                website: None,
                mfa_required: false,
            },
        )
        .await
        .expect("bank");
    world.add_user(&bank.id, "security@bank.example", rampart_core::Role::Constituent).await;
    // The CIRT's manager registers the ISP's network.
    let manager_id = world.add_user(&world.kenya_cirt, "manager@ke.example", rampart_core::Role::CirtManager).await;
    let manager_row = world.store.user_get(&manager_id).await.expect("manager row");
    let manager = auth.principal_for(&manager_row, rampart_auth::Via::Session, None).await.expect("principal");
    world
        .state
        .desk()
        .add_network(&rampart_auth::service::Actor { principal: &manager, ip: None }, &isp.id, "198.51.100.0/24")
        .await
        .expect("network registered");
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

    // An abuse desk abroad reports by e-mail (X-ARF), as the mail intake receives it.
    let mail = "From: Abuse Team <abuse@hosting-abroad.example>\r\nTo: incident@ke-cirt.example\r\n\
Subject: [TLP:AMBER] Phishing site hosted at 198.51.100.77\r\nX-ARF: YES\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"xarf\"\r\n\r\n--xarf\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Customers of a Kenyan bank get SMS linking to hxxps://secure-login[.]example/verify served from 198.51.100.77 since 02:10 UTC.\r\n\
--xarf\r\nContent-Type: text/plain; charset=utf-8; name=\"report.txt\"\r\n\r\n\
Reported-From: abuse@hosting-abroad.example\r\nCategory: fraud\r\nReport-Type: phishing\r\nService: https\r\n\
Source-Type: ipv4\r\nSource: 198.51.100.77\r\n--xarf--\r\n";
    let received = world.state.desk().receive_email(&world.kenya_cirt, mail.as_bytes()).await.expect("mail received");
    assert_eq!(received.channel, "email");

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
    assert!(text_of(&client, "#constituents").await.contains("Savannah Telecom"), "the registry names the ISP for 198.51.100.77");

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
    let incident_url = client.current_url().await.expect("url").to_string();
    click(&client, "#sign-out").await;

    // The bank, another constituent of the same CIRT, sees none of it.
    sign_in(&client, &base, "security@bank.example", PASSWORD).await;
    client.goto(&format!("{base}/cirt")).await.expect("our incidents");
    assert!(client.find_all(Locator::Css("#incidents-table a")).await.expect("query").is_empty(), "no incidents of others listed");
    client.goto(&incident_url).await.expect("direct address");
    let body = text_of(&client, "body").await;
    assert!(body.contains("not found") && !body.contains("secure-login"), "{body}");

    client.close().await.expect("close browser");
    server.abort();
}

/// Advisories end to end: an analyst writes one in the browser (products, a
/// vulnerability with CVE, CWE and CVSS 3.1 and 4.0 vectors) and sees the
/// CSAF checks turn green; only the manager may publish; then anyone,
/// without signing in, finds it in the CSAF provider layout, and the served
/// document passes the CSAF checks and matches its hash file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advisory_is_written_published_and_served_in_the_provider_layout_in_chromium() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let base = format!("http://127.0.0.1:{port}");
    let signer = rampart_cirt::signing::Signer::generate("KE-CIRT test signing key").expect("key");
    let config = rampart_web::WebConfig {
        login_attempts_per_minute: 1000,
        public_url: Some(base.clone()),
        signer: Some(std::sync::Arc::new(signer)),
        ..Default::default()
    };
    let world = World::build(false, config).await;
    world.add_user(&world.kenya_cirt, "manager@ke.example", rampart_core::Role::CirtManager).await;
    let server = tokio::spawn(rampart_web::serve(world.state.clone(), listener, None, std::future::pending()));
    let driver = start_driver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let client = browser(&driver, profile.path()).await;

    // The analyst writes the advisory.
    sign_in(&client, &base, "analyst@ke.example", PASSWORD).await;
    client.goto(&format!("{base}/advisories")).await.expect("advisories");
    click(&client, "#new-advisory").await;
    fill(&client, "#title", "Remote code execution in Example Router").await;
    select(&client, "#tlp", "CLEAR").await;
    fill(&client, "#summary", "An attacker on the network can run code on Example Router 2.0; update to 2.1.").await;
    fill(&client, "#references", "https://vendor.example/psirt/2026-01 Vendor advisory").await;
    click(&client, "#create-advisory").await;
    let year = world.state.auth().now().format("%Y").to_string();
    assert_eq!(text_of(&client, "#advisory-tracking-id").await, format!("KE-CIRT-{year}-0001"));
    assert!(text_of(&client, "#csaf-problems").await.contains("6.1.27"), "a draft without vulnerabilities is not yet valid");
    for version in ["2.0", "2.1"] {
        fill(&client, "#p-vendor", "Example").await;
        fill(&client, "#p-product", "Router").await;
        fill(&client, "#p-version", version).await;
        click(&client, "#add-product").await;
    }
    assert!(text_of(&client, "#products").await.contains("Example Router 2.1"));
    fill(&client, "#v-title", "Command injection in the diagnostics page").await;
    fill(&client, "#v-description", "The ping tool passes its input to a shell.").await;
    fill(&client, "#v-cve", "CVE-2026-12345").await;
    fill(&client, "#v-cwe", "78").await;
    fill(&client, "#v-cvss3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").await;
    fill(&client, "#v-cvss4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").await;
    client.find(Locator::Css(".affected-product[value='CSAFPID-0001']")).await.expect("affected").click().await.expect("tick");
    client.find(Locator::Css(".fixed-product[value='CSAFPID-0002']")).await.expect("fixed").click().await.expect("tick");
    select(&client, "#v-remediation-category", "vendor_fix").await;
    fill(&client, "#v-remediation-details", "Update to 2.1.").await;
    click(&client, "#add-vulnerability").await;
    let vulnerability = text_of(&client, "#vulnerability-0").await;
    assert!(vulnerability.contains("CVE-2026-12345") && vulnerability.contains("OS Command Injection"), "{vulnerability}");
    assert!(vulnerability.contains("9.8") && vulnerability.contains("9.3"), "CVSS 3.1 and 4.0 scores computed: {vulnerability}");
    assert!(text_of(&client, "#csaf-valid").await.contains("Valid"), "passes the schema and every mandatory test");
    assert!(client.find_all(Locator::Css("#publish-form")).await.expect("query").is_empty(), "analysts do not publish");
    let advisory_url = client.current_url().await.expect("url").to_string();
    let advisory_url = advisory_url.split('?').next().unwrap_or("").to_owned();
    // Not public yet.
    click(&client, "#sign-out").await;
    let (status, _) = http_get(port, "/.well-known/csaf/provider-metadata.json", "").await;
    assert_eq!(status, 404, "no provider before anything is published");

    // The manager publishes it.
    sign_in(&client, &base, "manager@ke.example", PASSWORD).await;
    client.goto(&advisory_url).await.expect("advisory");
    fill(&client, "#publish-summary", "Initial public release.").await;
    click(&client, "#publish-advisory").await;
    let status = text_of(&client, "#advisory-status").await;
    assert!(status.contains("final") && status.contains('1'), "{status}");
    assert!(text_of(&client, "#revision-history").await.contains("Initial public release."));
    snap(&client, "advisory").await;
    click(&client, "#sign-out").await;

    // Anyone reads it: on the home page, its own page, and the provider
    // layout a CSAF tool walks.
    client.goto(&format!("{base}/")).await.expect("home");
    assert!(text_of(&client, "#latest-advisories").await.contains("Remote code execution in Example Router"));
    client.goto(&advisory_url).await.expect("public page");
    assert!(text_of(&client, "#advisory-title").await.contains("Example Router"));
    let (status, metadata) = http_get(port, "/.well-known/csaf/provider-metadata.json", "").await;
    assert_eq!(status, 200, "{metadata}");
    let metadata: serde_json::Value = serde_json::from_str(&metadata).expect("metadata JSON");
    assert_eq!(rampart_cirt::provider::check_metadata(&metadata), Vec::<String>::new(), "valid provider metadata");
    assert_eq!(metadata["role"], "csaf_trusted_provider", "every document is signed");
    let directory = metadata["distributions"][0]["directory_url"].as_str().expect("directory").to_owned();
    let directory_path = directory.strip_prefix(&base).expect("absolute URL on this server").to_owned();
    let (_, index) = http_get(port, &format!("{directory_path}/white/index.txt"), "").await;
    assert_eq!(index, format!("{year}/ke-cirt-{year}-0001.json\n"));
    let file = index.trim();
    let (status, document) = http_get(port, &format!("{directory_path}/white/{file}"), "").await;
    assert_eq!(status, 200);
    let parsed: serde_json::Value = serde_json::from_str(&document).expect("CSAF JSON");
    assert_eq!(rampart_cirt::csaf::check(&parsed), vec![], "the served document passes the CSAF checks");
    let (_, hash) = http_get(port, &format!("{directory_path}/white/{file}.sha256"), "").await;
    use sha2::Digest;
    let expected = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(document.as_bytes()));
    assert_eq!(hash, format!("{expected}  ke-cirt-{year}-0001.json\n"));
    // The signature verifies with GnuPG against the published key; a changed byte does not.
    let key_url = metadata["public_openpgp_keys"][0]["url"].as_str().expect("key URL").to_owned();
    let (status, public_key) = http_get(port, key_url.strip_prefix(&base).expect("on this server"), "").await;
    assert_eq!(status, 200);
    let (status, signature) = http_get(port, &format!("{directory_path}/white/{file}.asc"), "").await;
    assert_eq!(status, 200);
    assert!(gpg_verifies(&public_key, &document, &signature), "GnuPG accepts the signature");
    assert!(
        !gpg_verifies(&public_key, &document.replacen("Example Router", "Example Rooter", 1), &signature),
        "and refuses a changed document"
    );
    let feed_url = metadata["distributions"][0]["rolie"]["feeds"][0]["url"].as_str().expect("ROLIE feed").to_owned();
    let (_, feed) = http_get(port, feed_url.strip_prefix(&base).expect("on this server"), "").await;
    assert!(feed.contains(&format!("{directory}/white/{file}")), "{feed}");
    let (status, _) = http_get(port, &format!("{directory_path}/amber/index.txt"), "").await;
    assert_eq!(status, 401, "protected labels ask for credentials");
    let (_, atom) = http_get(port, "/advisories/feed.atom", "").await;
    assert!(atom.contains("Remote code execution in Example Router"), "{atom}");

    client.close().await.expect("close browser");
    server.abort();
}

fn corpora() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
}

/// A hotline built for the browser tests: Kenya's and Sweden's hotlines,
/// an analyst each, and the MaxMind test databases for tracing.
async fn hotline_world(listener_port: u16) -> (World, String, String) {
    let mmdb = |name: &str| corpora().join("mmdb/test-data").join(name);
    let tracer = rampart_cop::trace::Tracer::open(Some(&mmdb("GeoIP2-Country-Test.mmdb")), Some(&mmdb("GeoLite2-ASN-Test.mmdb")))
        .expect("test databases");
    let config = rampart_web::WebConfig {
        login_attempts_per_minute: 1000,
        public_url: Some(format!("http://127.0.0.1:{listener_port}")),
        hotline: rampart_cop::hotline::HotlineSettings { retention_days: 30, tracer: std::sync::Arc::new(tracer) },
        ..Default::default()
    };
    let world = World::build(false, config).await;
    let ke = world.add_org("Child Safety Hotline Kenya", "hotline", "KE", None).await;
    let se = world.add_org("Hotline Sweden", "hotline", "SE", None).await;
    world.add_user(&ke, "hotline@ke.example", rampart_core::Role::HotlineAnalyst).await;
    world.add_user(&se, "hotline@se.example", rampart_core::Role::HotlineAnalyst).await;
    (world, ke, se)
}

/// Child online protection end to end: a member of the public reports an
/// address in Arabic and gets a receipt; Kenya's hotline analyst assesses
/// it without any image on the page, traces it (MaxMind test database) to
/// Sweden and refers it to Sweden's hotline, which records notice and
/// takedown; the reporter's receipt then shows the content removed; an
/// uploaded photograph is matched against a hash list (a rotated copy of
/// a listed image) and never stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_report_is_assessed_traced_referred_and_taken_down_in_chromium() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let base = format!("http://127.0.0.1:{port}");
    let (world, ke, _se) = hotline_world(port).await;
    let server = tokio::spawn(rampart_web::serve(world.state.clone(), listener, None, std::future::pending()));
    let driver = start_driver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let client = browser(&driver, profile.path()).await;

    // The public, in Arabic, without an account.
    client.goto(&format!("{base}/hotline/report")).await.expect("report form");
    client.find(Locator::Css("#lang-select")).await.expect("picker").select_by_value("ar").await.expect("choose Arabic");
    for _ in 0..50 {
        if client.find(Locator::Css("html")).await.expect("html").attr("dir").await.ok().flatten().as_deref() == Some("rtl") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(client.find(Locator::Css("html")).await.expect("html").attr("lang").await.expect("lang").as_deref(), Some("ar"));
    let arabic_title = text_of(&client, "h1").await;
    assert!(arabic_title.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)), "the form is in Arabic: {arabic_title}");
    fill(&client, "#h-urls", "hxxp://host.example.se/gallery/9").await;
    select(&client, "#h-category", "child_sexual_abuse").await;
    select(&client, "#h-country", "KE").await;
    fill(&client, "#h-description", "رأيت هذا الرابط في منتدى.").await;
    snap(&client, "hotline-report-ar").await;
    click(&client, "#submit-hotline").await;
    let receipt = text_of(&client, "#receipt-number").await;
    assert!(receipt.starts_with("HL-"), "{receipt}");
    click(&client, "#status-link").await;
    assert!(!text_of(&client, "#status-state").await.is_empty());
    let received_state = text_of(&client, "#status-state").await;

    // Kenya's analyst assesses, traces and refers; no image anywhere.
    sign_in(&client, &base, "hotline@ke.example", PASSWORD).await;
    client.goto(&format!("{base}/hotline")).await.expect("queue");
    assert!(text_of(&client, "#hotline-items").await.contains("http://host.example.se/gallery/9"));
    click(&client, ".item-link").await;
    assert_eq!(client.find_all(Locator::Css("img, video, iframe, object, embed")).await.expect("query").len(), 0, "no media on the page");
    assert!(
        client.find_all(Locator::Css("a[href^='http://host.example.se']")).await.expect("query").is_empty(),
        "the address is not a link"
    );
    assert!(text_of(&client, "#report-description").await.contains("منتدى"));
    select(&client, "#a-outcome", "illegal_national").await;
    fill(&client, "#a-note", "Child sexual abuse material under national law.").await;
    click(&client, "#assess-submit").await;
    fill(&client, "#t-ip", "89.160.20.112").await;
    click(&client, "#trace-submit").await;
    let hosting = text_of(&client, "#hosting-facts").await;
    assert!(hosting.contains("Sweden") && hosting.contains("29518") && hosting.contains("Bredband2"), "{hosting}");
    select(
        &client,
        "#r-to",
        &world
            .store
            .org_list(
                &rampart_store::orgs::OrgFilter { country: Some("SE".into()), kind: Some("hotline".into()), name_contains: None },
                &rampart_store::PageRequest::first(5),
            )
            .await
            .expect("orgs")
            .items[0]
            .id,
    )
    .await;
    click(&client, "#refer-submit").await;
    assert!(text_of(&client, "#referrals-h").await.len() > 3);
    let item_url = client.current_url().await.expect("url").to_string();
    let item_url = item_url.split('?').next().unwrap_or("").to_owned();
    snap(&client, "hotline-item").await;
    click(&client, "#sign-out").await;

    // Sweden's hotline records notice and takedown from its queue.
    sign_in(&client, &base, "hotline@se.example", PASSWORD).await;
    client.goto(&format!("{base}/hotline")).await.expect("queue");
    assert!(text_of(&client, "#referrals-received").await.contains("host.example.se"));
    click(&client, "#referrals-received .step-notice_sent").await;
    click(&client, "#referrals-received .step-removed").await;
    assert!(text_of(&client, "#referrals-received .referral-status").await.contains("removed"));
    client.goto(&item_url).await.expect("item as referred hotline");
    assert!(client.find_all(Locator::Css("#report-description")).await.expect("query").is_empty(), "the reporter's words stay with Kenya");
    click(&client, "#sign-out").await;

    // The reporter's receipt now says the content is gone.
    client.goto(&format!("{base}/hotline/status?receipt={receipt}")).await.expect("status");
    let removed_state = text_of(&client, "#status-state").await;
    assert_ne!(removed_state, received_state);

    // Matching: Kenya lists a known image; a rotated copy uploaded is found.
    let ke_analyst = world.store.user_by_email("hotline@ke.example").await.expect("lookup").expect("user");
    let principal = world.state.auth().principal_for(&ke_analyst, rampart_auth::Via::Session, None).await.expect("principal");
    let actor = rampart_auth::service::Actor { principal: &principal, ip: None };
    let list = world
        .state
        .hash_lists()
        .create(
            &actor,
            &rampart_cop::lists::NewList {
                org_id: ke.clone(),
                name: "Known series".into(),
                source: "test".into(),
                tlp: "AMBER".into(),
                description: String::new(),
            },
        )
        .await
        .expect("list");
    let csv = "hash,type,tags\nf8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,pdq,series-a\n";
    world.state.hash_lists().import(&actor, &list.id, csv, false).await.expect("import");
    sign_in(&client, &base, "hotline@ke.example", PASSWORD).await;
    client.goto(&format!("{base}/hotline/match")).await.expect("match page");
    let rotated = corpora().join("pdq/data/reg-test-input/dih/bridge-2-rotate-90.jpg").canonicalize().expect("corpus image");
    client.find(Locator::Css("#m-file")).await.expect("file input").send_keys(&rotated.to_string_lossy()).await.expect("choose file");
    click(&client, "#match-submit").await;
    let results = text_of(&client, "#match-results").await;
    assert!(results.contains("Known series") && results.contains("series-a"), "{results}");
    snap(&client, "hotline-match").await;
    client.goto(&format!("{base}/hotline/stats")).await.expect("stats");
    assert_eq!(text_of(&client, "#stat-removed").await, "1");
    assert!(client.find(Locator::Css("#hosting-map path[data-country='SE'][fill='#08519c']")).await.is_ok(), "Sweden is shaded on the map");
    snap(&client, "hotline-stats").await;

    client.close().await.expect("close browser");
    server.abort();
}
