//! `serve`: the real server on an ephemeral port, spoken to in raw HTTP/1.1.

use crate::support::{Sandbox, Server};
use std::time::Duration;

const DEMO_ADMIN: &str = "admin@demo.rampart.test";
/// From crates/cli/src/demo.rs.
const DEMO_PASSWORD: &str = "rampart-demo-2026";
const PASSWORD: &str = "a long enough password";

fn count(sandbox: &Sandbox, what: &str) -> usize {
    let run = sandbox.run(&[what, "list", "--json"]);
    run.ok();
    run.json().as_array().expect("array").len()
}

#[test]
fn demo_serves_health_and_the_login_page_and_seeds_once() {
    let sandbox = Sandbox::new();
    {
        let server = Server::start(&sandbox, &["--demo"]);
        assert_eq!(
            server.next_line(),
            format!("Demo mode: sign in as {DEMO_ADMIN} with password {DEMO_PASSWORD} (every demo account is listed on the sign-in page).")
        );
        let health = server.get("/healthz", &[]);
        assert_eq!(health.status, 200);
        assert_eq!(health.body, "ok");

        let login = server.get("/login", &[]);
        assert_eq!(login.status, 200, "{}", login.body);
        assert!(login.header("content-type").is_some_and(|v| v.starts_with("text/html")), "{:?}", login.headers);
        assert!(login.body.contains(&format!("<code>{DEMO_ADMIN}</code>")), "{}", login.body);
        assert!(login.body.contains(&format!("<code>{DEMO_PASSWORD}</code>")));
        for local in ["orgadmin", "analyst", "viewer", "hotline"] {
            assert!(login.body.contains(&format!("{local}@demo.rampart.test")), "{local} listed");
        }
        assert!(login.cookie("rampart_csrf").is_some_and(|token| token.len() >= 32), "{:?}", login.headers);

        let signed_in = server.login(DEMO_ADMIN, DEMO_PASSWORD);
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        assert_eq!(signed_in.header("location"), Some("/"));
        assert!(signed_in.cookie("rampart_session").is_some_and(|token| !token.is_empty()), "{:?}", signed_in.headers);
    }
    assert!(sandbox.db.is_file(), "--demo created the database");
    assert_eq!(count(&sandbox, "user"), 22);
    assert_eq!(count(&sandbox, "org"), 23);

    // A second demo run on the same database finds the world already seeded.
    {
        let server = Server::start(&sandbox, &["--demo"]);
        assert_eq!(server.get("/healthz", &[]).status, 200);
        let signed_in = server.login(DEMO_ADMIN, DEMO_PASSWORD);
        assert_eq!(signed_in.status, 303, "{}\n{}", signed_in.body, server.log());
    }
    assert_eq!(count(&sandbox, "user"), 22, "seeding is idempotent");
    assert_eq!(count(&sandbox, "org"), 23);
    let verify = sandbox.run(&["audit", "verify"]);
    verify.ok();

    // The demo's hash list, stored in the database, matches a rotated copy
    // of one of its photographs in bulk.
    let rotated = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/pdq/data/reg-test-input/dih/bridge-3-rotate-180.jpg");
    let matched = sandbox.run(&["cop", "match", "--stored", "PDQ test images (demo)", rotated.to_str().expect("UTF-8")]);
    matched.ok();
    assert!(matched.stdout.starts_with("input,hash,type,distance,tags\n"), "{}", matched.stdout);
    assert!(matched.stdout.contains("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,pdq,"), "{}", matched.stdout);
    let missing = sandbox.run(&["cop", "match", "--stored", "no such list", rotated.to_str().expect("UTF-8")]);
    assert!(missing.stderr.contains("no stored hash list `no such list`"), "{}", missing.stderr);
    let purge = sandbox.run(&["cop", "purge", "--json"]);
    purge.ok();
    assert_eq!(purge.json()["purged"], 0, "the demo's reports are younger than the retention period");
}

#[test]
fn demo_passwords_work_only_in_demo_mode() {
    let sandbox = Sandbox::new();
    drop(Server::start(&sandbox, &["--demo"]));

    let server = Server::start(&sandbox, &[]);
    while let Ok(line) = server.lines.recv_timeout(Duration::from_millis(500)) {
        assert!(!line.contains("Demo mode"), "no demo banner outside demo mode: {line}");
    }
    assert_eq!(server.get("/healthz", &[]).status, 200);
    let login = server.get("/login", &[]);
    assert_eq!(login.status, 200);
    assert!(!login.body.contains(DEMO_ADMIN), "demo accounts are not advertised outside demo mode");
    assert!(!login.body.contains(DEMO_PASSWORD));

    let refused = server.login(DEMO_ADMIN, DEMO_PASSWORD);
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.cookie("rampart_session"), None);
    assert!(refused.body.contains("id=\"login-error\""), "{}", refused.body);
}

#[test]
fn login_without_the_csrf_cookie_is_refused() {
    let sandbox = Sandbox::new();
    let server = Server::start(&sandbox, &["--demo"]);
    let form = server.get("/login", &[]);
    let token = form.cookie("rampart_csrf").expect("csrf cookie");
    let body = format!("email=admin%40demo.rampart.test&password={DEMO_PASSWORD}&csrf={token}");
    let refused = server.post_form("/login", &[], &body);
    assert_ne!(refused.status, 303, "a form without the matching cookie does not sign in");
    assert!((400..500).contains(&refused.status), "{} {}", refused.status, refused.body);
    assert_eq!(refused.cookie("rampart_session"), None);
}

#[test]
fn users_made_with_the_cli_sign_in_on_a_plain_server() {
    let sandbox = Sandbox::migrated();
    sandbox.run(&["org", "create", "--name", "KE-CIRT", "--kind", "national_cirt", "--country", "KE"]).ok();
    sandbox.run(&["user", "create", "--email", "a@ke.example", "--name", "A", "--org", "KE-CIRT", "--password", PASSWORD]).ok();
    let generated = sandbox.run(&["user", "create", "--email", "b@ke.example", "--name", "B", "--org", "KE-CIRT"]);
    generated.ok();
    let generated_password = generated.stdout.lines().nth(1).and_then(|line| line.rsplit(": ").next()).expect("password line").to_owned();
    sandbox.run(&["user", "create", "--email", "c@ke.example", "--name", "C", "--org", "KE-CIRT", "--password", PASSWORD]).ok();
    sandbox.run(&["user", "disable", "c@ke.example"]).ok();
    sandbox.run(&["user", "create", "--email", "d@ke.example", "--name", "D", "--org", "KE-CIRT", "--password", PASSWORD]).ok();
    sandbox.run(&["user", "reset-password", "d@ke.example", "--password", "another long password"]).ok();

    let server = Server::start(&sandbox, &[]);
    let a = server.login("a@ke.example", PASSWORD);
    assert_eq!(a.status, 303, "{}", a.body);
    assert!(a.cookie("rampart_session").is_some());
    assert_eq!(server.login("a@ke.example", "not the password at all").status, 401);
    assert_eq!(server.login("b@ke.example", &generated_password).status, 303, "the printed password is the real one");
    assert_eq!(server.login("c@ke.example", PASSWORD).status, 403, "a disabled user cannot sign in");
    assert_eq!(server.login("d@ke.example", PASSWORD).status, 401, "the old password no longer works");
    assert_eq!(server.login("d@ke.example", "another long password").status, 303);
}

#[test]
fn serve_refuses_a_missing_database_unless_asked_to_create_it() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["serve", "--bind", "127.0.0.1:0"]);
    run.expect_code(4);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, format!("error: database file {} does not exist (pass --create to make a new one)\n", sandbox.db.display()));
    assert!(!sandbox.db.exists());

    let server = Server::start(&sandbox, &["--create"]);
    assert_eq!(server.get("/healthz", &[]).status, 200);
    let readiness = server.get("/readyz", &[]);
    assert_eq!((readiness.status, readiness.body.as_str()), (200, "ready"));
    assert!(sandbox.db.is_file());
    let login = server.get("/login", &[]);
    assert_eq!(login.status, 200);
    assert!(!login.body.contains("demo.rampart.test"), "--create seeds nothing");
    drop(server);
    assert_eq!(count(&sandbox, "user"), 0);
}

#[test]
fn demo_refuses_a_database_with_real_users() {
    let sandbox = Sandbox::migrated();
    sandbox.run(&["org", "create", "--name", "KE-CIRT", "--kind", "national_cirt", "--country", "KE"]).ok();
    sandbox.run(&["user", "create", "--email", "a@ke.example", "--name", "A", "--org", "KE-CIRT", "--password", PASSWORD]).ok();
    let run = sandbox.run(&["serve", "--demo", "--bind", "127.0.0.1:0"]);
    run.expect_code(7);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.ends_with("error: this database already holds real users; --demo only seeds an empty or demo database\n"),
        "{}",
        run.stderr
    );
    assert_eq!(count(&sandbox, "user"), 1);
}

#[test]
fn a_taken_port_is_reported() {
    let sandbox = Sandbox::migrated();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let run = sandbox.run(&["serve", "--bind", &address]);
    run.expect_code(1);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains(&format!("error: cannot listen on {address}: ")), "{}", run.stderr);
}
