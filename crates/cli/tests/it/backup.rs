//! `backup`: an online copy for SQLite, the pg_dump command for PostgreSQL.

use crate::support::Sandbox;

#[test]
fn sqlite_backup_is_a_verifiable_copy() {
    let sandbox = Sandbox::migrated();
    sandbox.run(&["org", "create", "--name", "KE-CIRT", "--kind", "national_cirt", "--country", "KE"]).ok();
    let original = sandbox.run(&["audit", "verify"]);
    original.ok();

    let copy = sandbox.path("copy.db");
    let copy_text = copy.to_str().expect("UTF-8");
    let run = sandbox.run(&["backup", copy_text]);
    run.ok();
    assert_eq!(run.stdout, format!("backed up to {copy_text}\n"));
    assert_eq!(run.stderr, "");
    assert!(copy.is_file());

    // The copy stands alone: same chain, same head, same data.
    let verify = sandbox.run_raw(&["audit", "verify", "--database", copy_text], &[]);
    verify.ok();
    assert_eq!(verify.stdout, original.stdout);
    assert!(verify.stdout.starts_with("OK: 1 entries, head "), "{}", verify.stdout);
    let orgs = sandbox.run_raw(&["--database", copy_text, "org", "list", "--json"], &[]);
    orgs.ok();
    let orgs = orgs.json();
    assert_eq!(orgs.as_array().expect("array").len(), 1);
    assert_eq!(orgs[0]["name"], "KE-CIRT");

    // Changes after the backup do not reach the copy.
    sandbox.run(&["org", "create", "--name", "GH-CIRT", "--kind", "national_cirt", "--country", "GH"]).ok();
    let later = sandbox.run_raw(&["--database", copy_text, "org", "list", "--json"], &[]);
    assert_eq!(later.json().as_array().expect("array").len(), 1);
}

#[test]
fn backup_never_overwrites() {
    let sandbox = Sandbox::migrated();
    let target = sandbox.path("existing.db");
    std::fs::write(&target, b"precious").expect("write");
    let target_text = target.to_str().expect("UTF-8");
    let run = sandbox.run(&["backup", target_text]);
    assert_ne!(run.code, 0);
    run.expect_code(7);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, format!("error: target: {target_text} already exists\n"));
    assert_eq!(std::fs::read(&target).expect("read"), b"precious", "the existing file is untouched");
}

#[test]
fn backup_target_is_relative_to_the_working_directory() {
    let sandbox = Sandbox::migrated();
    let run = sandbox.run(&["backup", "relative.db"]);
    run.ok();
    assert_eq!(run.stdout, "backed up to relative.db\n");
    assert!(sandbox.path("relative.db").is_file());
    sandbox.run_raw(&["--database", "relative.db", "audit", "verify"], &[]).ok();
}

#[test]
fn backup_of_a_missing_database_fails_without_writing() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["backup", "copy.db"]);
    run.expect_code(4);
    assert!(run.stderr.contains(&sandbox.db_text()) && run.stderr.contains("--create"), "{}", run.stderr);
    assert!(!sandbox.path("copy.db").exists());
    assert!(!sandbox.db.exists());
}

#[test]
fn postgres_backup_prints_the_pg_dump_command() {
    let sandbox = Sandbox::new();
    let run = sandbox.run_raw(&["--database", "postgres://postgres@127.0.0.1:5432/test", "backup", "x.dump"], &[]);
    run.ok();
    assert_eq!(
        run.stdout,
        "PostgreSQL is backed up with its own tools, for example:\n  pg_dump --format=custom --file=x.dump 'postgres://postgres@127.0.0.1:5432/test'\n(the password is hidden here; give it to pg_dump through PGPASSWORD or ~/.pgpass)\n"
    );
    assert_eq!(run.stderr, "");
    // Nothing was written and no server contacted.
    assert!(!sandbox.path("x.dump").exists());
}

#[test]
fn postgres_backup_never_prints_the_password() {
    let sandbox = Sandbox::new();
    let run = sandbox.run_raw(&["--database", "postgres://u:s3cret@127.0.0.1:5432/test", "backup", "x.dump"], &[]);
    run.ok();
    assert!(!run.stdout.contains("s3cret"), "{}", run.stdout);
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "PostgreSQL is backed up with its own tools, for example:\n  pg_dump --format=custom --file=x.dump 'postgres://u:***@127.0.0.1:5432/test'\n(the password is hidden here; give it to pg_dump through PGPASSWORD or ~/.pgpass)\n"
    );
    // The same from the environment.
    let from_env = sandbox.run_raw(&["backup", "y.dump"], &[("RAMPART_DATABASE_URL", "postgresql://u:s3cret@db.internal/rampart")]);
    from_env.ok();
    assert!(!from_env.stdout.contains("s3cret"), "{}", from_env.stdout);
    assert!(from_env.stdout.contains("--file=y.dump 'postgresql://u:***@db.internal/rampart'"), "{}", from_env.stdout);
}
