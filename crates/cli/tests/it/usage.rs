//! Command-line surface: help, version, usage errors, and `migrate`.

use crate::support::Sandbox;

#[test]
fn every_subcommand_has_help() {
    let sandbox = Sandbox::new();
    let cases: [(&[&str], &str, &str); 9] = [
        (&["serve"], "Run the web UI and API", "Usage: rampart serve [OPTIONS]"),
        (&["migrate"], "Apply database migrations", "Usage: rampart migrate [OPTIONS]"),
        (
            &["user", "create"],
            "Create a user. The password comes from --password or RAMPART_NEW_PASSWORD;",
            "Usage: rampart user create [OPTIONS] --email <EMAIL> --name <NAME> --org <ORG>",
        ),
        (&["user", "list"], "List users", "Usage: rampart user list [OPTIONS]"),
        (&["org", "create"], "Create an organisation", "Usage: rampart org create [OPTIONS] --name <NAME> --kind <KIND>"),
        (&["country", "list"], "List ITU member states", "Usage: rampart country list [OPTIONS]"),
        (&["audit", "verify"], "Walk the hash chain;", "Usage: rampart audit verify [OPTIONS]"),
        (&["backup"], "Back up the database:", "Usage: rampart backup [OPTIONS] <TARGET>"),
        (&["config", "check"], "Validate the configuration and print the values in force", "Usage: rampart config check [OPTIONS]"),
    ];
    for (command, about, usage) in cases {
        let mut args = command.to_vec();
        args.push("--help");
        let run = sandbox.run_raw(&args, &[]);
        run.ok();
        assert!(run.stdout.starts_with(about), "{args:?}: {}", run.stdout);
        assert!(run.stdout.lines().any(|line| line == usage), "{args:?}: no `{usage}` in\n{}", run.stdout);
        assert!(run.stdout.contains("--database <DATABASE>"), "{args:?}: global options are listed");
        assert_eq!(run.stderr, "", "{args:?}");
    }
    // Asking for help touches no database.
    assert_eq!(std::fs::read_dir(sandbox.dir.path()).unwrap().count(), 0);
}

#[test]
fn top_level_help_lists_the_commands_and_version_prints() {
    let sandbox = Sandbox::new();
    let help = sandbox.run_raw(&["--help"], &[]);
    help.ok();
    assert!(help.stdout.starts_with("Rampart: the open platform for national cybersecurity.\n"), "{}", help.stdout);
    for command in ["serve", "migrate", "user", "org", "country", "audit", "backup", "config"] {
        assert!(
            help.stdout.lines().any(|line| line.trim_start().starts_with(&format!("{command} "))),
            "{command} missing:\n{}",
            help.stdout
        );
    }
    let version = sandbox.run_raw(&["--version"], &[]);
    version.ok();
    assert_eq!(version.stdout, format!("rampart {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_2() {
    let sandbox = Sandbox::new();
    let unknown = sandbox.run_raw(&["frobnicate"], &[]);
    unknown.expect_code(2);
    assert_eq!(unknown.stdout, "");
    assert!(unknown.stderr.starts_with("error: unrecognized subcommand 'frobnicate'\n"), "{}", unknown.stderr);

    let nothing = sandbox.run_raw(&[], &[]);
    nothing.expect_code(2);
    assert!(nothing.stderr.contains("Usage: rampart [OPTIONS] <COMMAND>"), "{}", nothing.stderr);

    let missing = sandbox.run(&["org", "create", "--name", "x"]);
    missing.expect_code(2);
    assert!(
        missing.stderr.starts_with("error: the following required arguments were not provided:\n  --kind <KIND>\n"),
        "{}",
        missing.stderr
    );

    let unknown_flag = sandbox.run(&["migrate", "--creat"]);
    unknown_flag.expect_code(2);
    assert!(unknown_flag.stderr.contains("unexpected argument '--creat'"), "{}", unknown_flag.stderr);

    let conflicting = sandbox.run(&["user", "grant", "a@ke.example", "viewer", "--country", "KE", "--global"]);
    conflicting.expect_code(2);
    assert!(conflicting.stderr.contains("cannot be used with"), "{}", conflicting.stderr);

    // None of these got as far as creating a database.
    assert_eq!(std::fs::read_dir(sandbox.dir.path()).unwrap().count(), 0);
}

#[test]
fn migrate_refuses_a_missing_database_without_create() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["migrate"]);
    run.expect_code(4);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, format!("error: database file {} does not exist (pass --create to make a new one)\n", sandbox.db.display()));
    assert!(run.stderr.contains("--create"));
    assert!(!sandbox.db.exists(), "no database file was created");
    assert_eq!(std::fs::read_dir(sandbox.dir.path()).unwrap().count(), 0, "nothing at all was created");
}

#[test]
fn migrate_with_create_applies_everything_once() {
    let sandbox = Sandbox::new();
    let first = sandbox.run(&["migrate", "--create"]);
    first.ok();
    assert_eq!(first.stderr, "");
    let suffix = format!(" migration(s) applied to sqlite:{}\n", sandbox.db.display());
    let count: u64 = first
        .stdout
        .strip_suffix(&suffix)
        .unwrap_or_else(|| panic!("unexpected output: {}", first.stdout))
        .parse()
        .unwrap_or_else(|_| panic!("no count in: {}", first.stdout));
    assert!(count >= 1, "{}", first.stdout);
    assert!(sandbox.db.is_file());
    // The number reported is the number recorded as applied.
    let recorded = sandbox.execute_sql(&sandbox.db, "UPDATE _sqlx_migrations SET success = success");
    assert_eq!(count, recorded);

    let again = sandbox.run(&["migrate"]);
    again.ok();
    assert_eq!(again.stdout, format!("0{suffix}"));
    let with_create = sandbox.run(&["migrate", "--create"]);
    with_create.ok();
    assert_eq!(with_create.stdout, format!("0{suffix}"));
}

#[test]
fn migrate_create_makes_missing_parent_directories_relative_to_the_working_directory() {
    let sandbox = Sandbox::new();
    let run = sandbox.run_raw(&["--database", "nested/deeper/r.db", "migrate", "--create"], &[]);
    run.ok();
    assert!(run.stdout.ends_with(" migration(s) applied to sqlite:nested/deeper/r.db\n"), "{}", run.stdout);
    assert!(sandbox.path("nested/deeper/r.db").is_file());
}

#[test]
fn data_commands_refuse_a_missing_database() {
    let sandbox = Sandbox::new();
    let commands: [&[&str]; 6] = [
        &["user", "list"],
        &["org", "list"],
        &["org", "create", "--name", "KE-CIRT", "--kind", "national_cirt", "--country", "KE"],
        &["user", "disable", "a@ke.example"],
        &["audit", "verify"],
        &["backup", "copy.db"],
    ];
    for args in commands {
        let run = sandbox.run(args);
        run.expect_code(4);
        assert_eq!(run.stderr, format!("error: database file {} does not exist (pass --create to make a new one)\n", sandbox.db.display()));
    }
    assert_eq!(std::fs::read_dir(sandbox.dir.path()).unwrap().count(), 0);
}

#[test]
fn openapi_prints_the_api_document() {
    let sandbox = crate::support::Sandbox::new();
    let run = sandbox.run(&["openapi"]);
    run.ok();
    let document = run.json();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/api/v1/incidents"]["get"]["operationId"] == "listIncidents");
    assert!(!sandbox.db.exists(), "printing the document touches no database");
}
