//! `org`, `user` and `country`: administration from the command line.

use crate::support::Sandbox;
use serde_json::Value;

const PASSWORD: &str = "a long enough password";

/// A migrated sandbox holding the organisation KE-CIRT; returns its id.
fn with_kenya() -> (Sandbox, String) {
    let sandbox = Sandbox::migrated();
    let run = sandbox.run(&["org", "create", "--name", "KE-CIRT", "--kind", "national_cirt", "--country", "KE", "--json"]);
    run.ok();
    let id = run.json()["id"].as_str().expect("id").to_owned();
    (sandbox, id)
}

fn users(sandbox: &Sandbox) -> Vec<Value> {
    let run = sandbox.run(&["user", "list", "--json"]);
    run.ok();
    run.json().as_array().expect("array").clone()
}

fn user<'a>(list: &'a [Value], email: &str) -> &'a Value {
    list.iter().find(|u| u["email"] == email).unwrap_or_else(|| panic!("{email} not listed in {list:?}"))
}

fn roles(user: &Value) -> Vec<&str> {
    let mut roles: Vec<&str> = user["roles"].as_array().expect("roles").iter().map(|r| r.as_str().expect("role")).collect();
    roles.sort_unstable();
    roles
}

fn audit_ok_with(sandbox: &Sandbox, entries: u32) {
    let run = sandbox.run(&["audit", "verify"]);
    run.ok();
    assert!(run.stdout.starts_with(&format!("OK: {entries} entries, head ")), "{}", run.stdout);
}

#[test]
fn org_create_prints_the_organisation_and_lists_it() {
    let sandbox = Sandbox::migrated();
    let run = sandbox.run(&["org", "create", "--name", "KE-CIRT", "--kind", "national_cirt", "--country", "KE", "--json"]);
    run.ok();
    assert_eq!(run.stderr, "");
    let org = run.json();
    let id = org["id"].as_str().expect("id");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(org["name"], "KE-CIRT");
    assert_eq!(org["kind"], "national_cirt");
    assert_eq!(org["country"], "KE");
    assert_eq!(org["parent_id"], Value::Null);
    assert_eq!(org["mfa_required"], false);

    // A constituent under it, found by name; the country is normalised.
    let child = sandbox.run(&["org", "create", "--name", "Savannah Telecom", "--kind", "isp", "--country", "ke", "--parent", "KE-CIRT"]);
    child.ok();
    let child_line = child.stdout.strip_prefix("created organisation Savannah Telecom (").expect("text output");
    let child_id = child_line.strip_suffix(")\n").expect("one line");
    // An international organisation needs no country.
    sandbox.run(&["org", "create", "--name", "Coordination Office", "--kind", "international"]).ok();

    let list = sandbox.run(&["org", "list", "--json"]);
    list.ok();
    let all = list.json();
    let all = all.as_array().expect("array");
    assert_eq!(all.len(), 3, "{all:?}");
    let kenya = all.iter().find(|o| o["id"] == id).expect("KE-CIRT listed");
    assert_eq!(kenya["name"], "KE-CIRT");
    assert_eq!(kenya["country"], "KE");
    let telecom = all.iter().find(|o| o["id"] == child_id).expect("constituent listed");
    assert_eq!(telecom["country"], "KE");
    assert_eq!(telecom["parent_id"], id);

    let kenyan = sandbox.run(&["org", "list", "--country", "ke", "--json"]);
    kenyan.ok();
    assert_eq!(kenyan.json().as_array().expect("array").len(), 2);
    let ghana = sandbox.run(&["org", "list", "--country", "GH", "--json"]);
    ghana.ok();
    assert_eq!(ghana.json(), serde_json::json!([]));

    let text = sandbox.run(&["org", "list", "--country", "KE"]);
    text.ok();
    let lines = text.stdout_lines();
    assert_eq!(lines.len(), 3, "{}", text.stdout);
    assert!(lines.contains(&format!("{id}  KE   national_cirt            KE-CIRT").as_str()), "{}", text.stdout);
    assert_eq!(lines[2], "2 organisations");
    audit_ok_with(&sandbox, 3);
}

#[test]
fn org_create_rejects_bad_input_naming_the_field() {
    let (sandbox, _) = with_kenya();
    let cases: [(&[&str], &str); 5] = [
        (&["--name", "Nope", "--kind", "galactic", "--country", "KE"], "error: kind: unknown kind `galactic`\n"),
        (&["--name", "Nope", "--kind", "isp", "--country", "XX"], "error: country: unknown country `XX`\n"),
        (&["--name", "Nope", "--kind", "isp"], "error: country: required unless the organisation is international\n"),
        (&["--name", "Nope", "--kind", "isp", "--country", "KE", "--sector", "piracy"], "error: sector: unknown sector `piracy`\n"),
        (&["--name", "KE-CIRT", "--kind", "isp", "--country", "KE"], "error: name: already exists\n"),
    ];
    for (args, message) in cases {
        let mut all = vec!["org", "create"];
        all.extend_from_slice(args);
        let run = sandbox.run(&all);
        run.expect_code(7);
        assert_eq!(run.stderr, message, "{args:?}");
        assert_eq!(run.stdout, "");
    }
    let orphan = sandbox.run(&["org", "create", "--name", "Orphan", "--kind", "isp", "--country", "KE", "--parent", "Nowhere"]);
    orphan.expect_code(6);
    assert_eq!(orphan.stderr, "error: no organisation with id or name `Nowhere`\n");

    // Nothing was created and nothing audited by the failures.
    let list = sandbox.run(&["org", "list", "--json"]);
    assert_eq!(list.json().as_array().expect("array").len(), 1);
    audit_ok_with(&sandbox, 1);
}

#[test]
fn user_create_with_password_and_role() {
    let (sandbox, org_id) = with_kenya();
    let run = sandbox.run(&[
        "user",
        "create",
        "--email",
        "a@ke.example",
        "--name",
        "A",
        "--org",
        "KE-CIRT",
        "--password",
        PASSWORD,
        "--role",
        "cirt_analyst",
        "--json",
    ]);
    run.ok();
    assert_eq!(run.stderr, "");
    let created = run.json();
    let id = created["id"].as_str().expect("id");
    assert_eq!(created["generated_password"], Value::Null, "a given password is never echoed");
    assert!(!run.stdout.contains(PASSWORD));

    let list = users(&sandbox);
    assert_eq!(list.len(), 1);
    let a = user(&list, "a@ke.example");
    assert_eq!(a["id"], id);
    assert_eq!(a["display_name"], "A");
    assert_eq!(a["org_id"], org_id.as_str());
    assert_eq!(a["disabled"], false);
    assert_eq!(a["totp_enabled"], false);
    assert_eq!(roles(a), ["cirt_analyst"]);

    // The organisation may also be given by id, and the e-mail is stored in lower case.
    let by_id = sandbox.run(&["user", "create", "--email", "Mixed@KE.example", "--name", "M", "--org", &org_id, "--password", PASSWORD]);
    by_id.ok();
    let list = users(&sandbox);
    assert_eq!(user(&list, "mixed@ke.example")["org_id"], org_id.as_str());
    let filtered = sandbox.run(&["user", "list", "--org", "KE-CIRT", "--json"]);
    filtered.ok();
    assert_eq!(filtered.json().as_array().expect("array").len(), 2);
    // user create (1) + grant (1) + user create (1) after the organisation.
    audit_ok_with(&sandbox, 4);
}

#[test]
fn user_create_without_password_prints_a_generated_one() {
    let (sandbox, _) = with_kenya();
    let run = sandbox.run(&["user", "create", "--email", "b@ke.example", "--name", "B", "--org", "KE-CIRT"]);
    run.ok();
    let lines = run.stdout_lines();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    let id = lines[0].strip_prefix("created user ").expect("first line names the user");
    assert_eq!(id.len(), 36);
    let password = lines[1].strip_prefix("initial password (shown once; must be changed at first sign-in): ").expect("password line");
    assert_eq!(password.chars().count(), 20, "{password}");
    assert!(password.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{password}");

    // Another user gets another password; with --json it is in the object.
    let json = sandbox.run(&["user", "create", "--email", "c@ke.example", "--name", "C", "--org", "KE-CIRT", "--json"]);
    json.ok();
    let generated = json.json()["generated_password"].as_str().expect("generated password in JSON").to_owned();
    assert_eq!(generated.chars().count(), 20);
    assert_ne!(generated, password);

    // RAMPART_NEW_PASSWORD is a password given, not generated: nothing printed.
    let from_env = sandbox.run_env(
        &["user", "create", "--email", "d@ke.example", "--name", "D", "--org", "KE-CIRT"],
        &[("RAMPART_NEW_PASSWORD", "from the environment")],
    );
    from_env.ok();
    let id = from_env.stdout.strip_prefix("created user ").and_then(|rest| rest.strip_suffix('\n')).expect("one line");
    assert_eq!(id.len(), 36, "{}", from_env.stdout);
    assert!(!from_env.stdout.contains("from the environment"));
    assert_eq!(users(&sandbox).len(), 3);
}

#[test]
fn user_create_rejects_bad_input() {
    let (sandbox, _) = with_kenya();
    sandbox.run(&["user", "create", "--email", "a@ke.example", "--name", "A", "--org", "KE-CIRT", "--password", PASSWORD]).ok();
    let cases: [(&[&str], i32, &str); 7] = [
        (&["--email", "a@ke.example", "--name", "Again", "--org", "KE-CIRT", "--password", PASSWORD], 7, "error: email: already exists\n"),
        (&["--email", "A@KE.EXAMPLE", "--name", "Again", "--org", "KE-CIRT", "--password", PASSWORD], 7, "error: email: already exists\n"),
        (
            &["--email", "s@ke.example", "--name", "S", "--org", "KE-CIRT", "--password", "short"],
            7,
            "error: password: must be at least 12 characters\n",
        ),
        (
            &["--email", "s@ke.example", "--name", "S", "--org", "KE-CIRT", "--password", "my s@ke.example pass"],
            7,
            "error: password: must not contain the e-mail address\n",
        ),
        (
            &["--email", "not-an-address", "--name", "S", "--org", "KE-CIRT", "--password", PASSWORD],
            7,
            "error: email: is not an e-mail address\n",
        ),
        (
            &["--email", "s@ke.example", "--name", "S", "--org", "Nowhere", "--password", PASSWORD],
            6,
            "error: no organisation with id or name `Nowhere`\n",
        ),
        (&["--email", "s@ke.example", "--name", "S", "--org", "KE-CIRT", "--password", PASSWORD, "--role", "chief"], 7, ""),
    ];
    for (args, code, message) in cases {
        let mut all = vec!["user", "create"];
        all.extend_from_slice(args);
        let run = sandbox.run(&all);
        run.expect_code(code);
        if message.is_empty() {
            assert!(run.stderr.starts_with("error: role: unknown `chief`; known roles: platform_admin, "), "{}", run.stderr);
            assert!(run.stderr.contains("cirt_analyst"), "{}", run.stderr);
        } else {
            assert_eq!(run.stderr, message, "{args:?}");
        }
        assert_eq!(run.stdout, "", "{args:?}");
    }
    // None of the failures left a user behind.
    let list = users(&sandbox);
    assert_eq!(list.len(), 1, "{list:?}");
    audit_ok_with(&sandbox, 2);
}

#[test]
fn grant_and_revoke_roles() {
    let (sandbox, _) = with_kenya();
    sandbox
        .run(&[
            "user",
            "create",
            "--email",
            "a@ke.example",
            "--name",
            "A",
            "--org",
            "KE-CIRT",
            "--password",
            PASSWORD,
            "--role",
            "cirt_analyst",
        ])
        .ok();

    let grant = sandbox.run(&["user", "grant", "a@ke.example", "gci_reviewer", "--country", "KE"]);
    grant.ok();
    assert_eq!(grant.stdout, "granted gci_reviewer to a@ke.example\n");
    assert_eq!(roles(user(&users(&sandbox), "a@ke.example")), ["cirt_analyst", "gci_reviewer"]);

    // The same role in another scope is another grant, revoked separately.
    sandbox.run(&["user", "grant", "a@ke.example", "gci_reviewer", "--global"]).ok();
    assert_eq!(roles(user(&users(&sandbox), "a@ke.example")), ["cirt_analyst", "gci_reviewer", "gci_reviewer"]);
    let twice = sandbox.run(&["user", "grant", "a@ke.example", "gci_reviewer", "--country", "KE"]);
    twice.expect_code(7);
    assert_eq!(twice.stderr, "error: role: already exists\n");

    let revoke = sandbox.run(&["user", "revoke", "a@ke.example", "gci_reviewer", "--country", "ke"]);
    revoke.ok();
    assert_eq!(revoke.stdout, "revoked gci_reviewer from a@ke.example\n");
    assert_eq!(roles(user(&users(&sandbox), "a@ke.example")), ["cirt_analyst", "gci_reviewer"]);
    let again = sandbox.run(&["user", "revoke", "a@ke.example", "gci_reviewer", "--country", "KE"]);
    again.expect_code(6);
    assert_eq!(again.stderr, "error: a@ke.example does not hold gci_reviewer in that scope\n");
    sandbox.run(&["user", "revoke", "a@ke.example", "gci_reviewer", "--global"]).ok();
    // Without a scope the user's own organisation is meant.
    sandbox.run(&["user", "revoke", "a@ke.example", "cirt_analyst"]).ok();
    assert!(roles(user(&users(&sandbox), "a@ke.example")).is_empty());

    let bad_country = sandbox.run(&["user", "grant", "a@ke.example", "gci_reviewer", "--country", "XX"]);
    bad_country.expect_code(7);
    assert_eq!(bad_country.stderr, "error: scope: unknown country code `XX`\n");
    let bad_role = sandbox.run(&["user", "grant", "a@ke.example", "overlord"]);
    bad_role.expect_code(7);
    assert!(bad_role.stderr.starts_with("error: role: unknown `overlord`; known roles: "), "{}", bad_role.stderr);
    let nobody = sandbox.run(&["user", "grant", "nobody@ke.example", "viewer"]);
    nobody.expect_code(6);
    assert_eq!(nobody.stderr, "error: no user with e-mail `nobody@ke.example`\n");
    let no_org = sandbox.run(&["user", "grant", "a@ke.example", "viewer", "--org", "Nowhere"]);
    no_org.expect_code(6);
    assert_eq!(no_org.stderr, "error: no organisation with id or name `Nowhere`\n");
    // org (1), user (1), grant (1), grants (2), revokes (3).
    audit_ok_with(&sandbox, 8);
}

#[test]
fn disable_enable_and_reset_password() {
    let (sandbox, _) = with_kenya();
    sandbox
        .run(&["user", "create", "--email", "a@ke.example", "--name", "A", "--org", "KE-CIRT", "--password", PASSWORD, "--role", "viewer"])
        .ok();

    let disable = sandbox.run(&["user", "disable", "a@ke.example"]);
    disable.ok();
    assert_eq!(disable.stdout, "disabled a@ke.example\n");
    assert_eq!(user(&users(&sandbox), "a@ke.example")["disabled"], true);
    let text = sandbox.run(&["user", "list"]);
    text.ok();
    assert_eq!(text.stdout, format!("{:<40} {:<28} {}{}\n1 users\n", "a@ke.example", "A", "viewer", " (disabled)"));

    let enable = sandbox.run(&["user", "enable", "a@ke.example"]);
    enable.ok();
    assert_eq!(enable.stdout, "enabled a@ke.example\n");
    assert_eq!(user(&users(&sandbox), "a@ke.example")["disabled"], false);
    let text = sandbox.run(&["user", "list"]);
    assert_eq!(text.stdout, format!("{:<40} {:<28} {}\n1 users\n", "a@ke.example", "A", "viewer"));

    let reset = sandbox.run(&["user", "reset-password", "a@ke.example", "--password", "another long password"]);
    reset.ok();
    assert_eq!(reset.stdout, "password reset for a@ke.example; it must be changed at next sign-in\n");
    let short = sandbox.run(&["user", "reset-password", "a@ke.example", "--password", "tiny"]);
    short.expect_code(7);
    assert_eq!(short.stderr, "error: password: must be at least 12 characters\n");
    let generated = sandbox.run(&["user", "reset-password", "a@ke.example"]);
    generated.ok();
    let password = generated
        .stdout
        .strip_prefix("new password for a@ke.example (shown once; must be changed at next sign-in): ")
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("{}", generated.stdout));
    assert_eq!(password.chars().count(), 20);

    for command in ["disable", "enable", "reset-password"] {
        let run = sandbox.run(&["user", command, "ghost@ke.example"]);
        run.expect_code(6);
        assert_eq!(run.stderr, "error: no user with e-mail `ghost@ke.example`\n", "{command}");
    }
}

#[test]
fn country_list() {
    let sandbox = Sandbox::new();
    let json = sandbox.run_raw(&["country", "list", "--json"], &[]);
    json.ok();
    let all = json.json();
    let all = all.as_array().expect("array");
    assert_eq!(all.len(), 194);
    let kenya = all.iter().find(|c| c["alpha2"] == "KE").expect("Kenya");
    assert_eq!(kenya["alpha3"], "KEN");
    assert_eq!(kenya["region"], "africa");
    let mut codes: Vec<&str> = all.iter().map(|c| c["alpha2"].as_str().expect("alpha2")).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), 194, "codes are unique");

    let text = sandbox.run_raw(&["country", "list"], &[]);
    text.ok();
    assert_eq!(text.stdout_lines().last(), Some(&"194 countries"));
    assert_eq!(text.stdout_lines().len(), 195);

    let cis = sandbox.run_raw(&["country", "list", "--region", "cis"], &[]);
    cis.ok();
    let lines = cis.stdout_lines();
    assert_eq!(lines.last(), Some(&"9 countries"));
    assert_eq!(lines.len(), 10);
    assert!(lines.iter().any(|l| l.starts_with("KZ  KAZ  398  cis ")), "{}", cis.stdout);
    assert!(lines[..9].iter().all(|l| l.contains("  cis ")), "{}", cis.stdout);

    let cis_json = sandbox.run_raw(&["country", "list", "--region", "cis", "--json"], &[]);
    assert!(cis_json.json().as_array().expect("array").iter().all(|c| c["region"] == "cis"));

    let mars = sandbox.run_raw(&["country", "list", "--region", "mars"], &[]);
    mars.expect_code(7);
    assert_eq!(mars.stdout, "");
    assert_eq!(mars.stderr, "error: region: unknown value `mars`\n");

    // Reference data needs no database: none was made.
    assert_eq!(std::fs::read_dir(sandbox.dir.path()).unwrap().count(), 0);
}
