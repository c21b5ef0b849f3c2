//! `config check` and configuration errors (exit 3, naming the key).

use crate::support::Sandbox;
use serde_json::json;

#[test]
fn defaults_are_printed() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["config", "check", "--json"]);
    run.ok();
    assert_eq!(run.stderr, "");
    let expected = json!({
        "database": format!("sqlite:{}", sandbox.db_text()),
        "bind": "127.0.0.1:8080",
        "tls": false,
        "trust_proxy": false,
        "secure_cookies": false,
        "auth": {
            "max_failed_logins": 5,
            "lockout_minutes": 15,
            "session_idle_minutes": 120,
            "session_absolute_hours": 12,
            "login_attempts_per_minute": 10,
        },
        "log": {"format": "text", "level": "info"},
        "smtp": null,
    });
    assert_eq!(run.json(), expected);
    assert_eq!(run.json()["bind"], "127.0.0.1:8080");

    let text = sandbox.run(&["config", "check"]);
    text.ok();
    let body = text.stdout.strip_prefix("configuration OK\n").unwrap_or_else(|| panic!("{}", text.stdout));
    assert_eq!(serde_json::from_str::<serde_json::Value>(body).expect("JSON after the OK line"), expected);

    // Without --database the default path is shown; checking creates nothing.
    let default = sandbox.run_raw(&["config", "check", "--json"], &[]);
    default.ok();
    assert_eq!(default.json()["database"], "sqlite:./rampart-data/rampart.db");
    assert_eq!(std::fs::read_dir(sandbox.dir.path()).unwrap().count(), 0);
}

#[test]
fn file_then_environment_then_flags() {
    let sandbox = Sandbox::new();
    let file = sandbox.path("rampart.toml");
    std::fs::write(
        &file,
        "[database]\nurl = \"from-file.db\"\n[server]\nbind = \"127.0.0.1:9100\"\n[auth]\nlockout_minutes = 30\nmax_failed_logins = 3\n[log]\nlevel = \"debug\"\n",
    )
    .expect("write config");
    let file_text = file.to_str().expect("UTF-8");

    let from_file = sandbox.run_raw(&["--config", file_text, "config", "check", "--json"], &[]);
    from_file.ok();
    let config = from_file.json();
    assert_eq!(config["database"], "sqlite:from-file.db");
    assert_eq!(config["bind"], "127.0.0.1:9100");
    assert_eq!(config["auth"]["lockout_minutes"], 30);
    assert_eq!(config["auth"]["max_failed_logins"], 3);
    assert_eq!(config["log"]["level"], "debug");

    // RAMPART_CONFIG names the file too; RAMPART_* variables override it.
    let env = [
        ("RAMPART_CONFIG", file_text),
        ("RAMPART_SERVER_BIND", "0.0.0.0:9000"),
        ("RAMPART_AUTH_LOCKOUT_MINUTES", "45"),
        ("RAMPART_LOG_FORMAT", "json"),
        ("RAMPART_DATABASE_URL", "from-env.db"),
        ("RAMPART_SERVER_TRUST_PROXY", "yes"),
    ];
    let from_env = sandbox.run_raw(&["config", "check", "--json"], &env);
    from_env.ok();
    let config = from_env.json();
    assert_eq!(config["bind"], "0.0.0.0:9000");
    assert_eq!(config["auth"]["lockout_minutes"], 45);
    assert_eq!(config["auth"]["max_failed_logins"], 3, "the file's value where the environment is silent");
    assert_eq!(config["log"]["format"], "json");
    assert_eq!(config["database"], "sqlite:from-env.db");
    assert_eq!(config["trust_proxy"], true);

    // Flags override both.
    let flagged = sandbox.run_raw(&["--database", "from-flag.db", "--log-format", "text", "config", "check", "--json"], &env);
    flagged.ok();
    assert_eq!(flagged.json()["database"], "sqlite:from-flag.db");
    assert_eq!(flagged.json()["log"]["format"], "text");
}

#[test]
fn a_bad_bind_address_is_a_configuration_error() {
    let sandbox = Sandbox::new();
    let run = sandbox.run_env(&["config", "check"], &[("RAMPART_SERVER_BIND", "nonsense")]);
    run.expect_code(3);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "error: configuration: server.bind: `nonsense` is not an address:port like 127.0.0.1:8080\n");
    assert!(run.stderr.contains("server.bind"));

    // Configuration is checked before anything else: no database is created.
    let migrate = sandbox.run_env(&["migrate", "--create"], &[("RAMPART_SERVER_BIND", "nonsense")]);
    migrate.expect_code(3);
    assert!(!sandbox.db.exists());
    let serve = sandbox.run(&["serve", "--demo", "--bind", "localhost"]);
    serve.expect_code(3);
    assert_eq!(serve.stderr, "error: configuration: server.bind: `localhost` is not an address:port like 127.0.0.1:8080\n");
    assert!(!sandbox.db.exists());
}

#[test]
fn an_unknown_key_in_the_file_is_named() {
    let sandbox = Sandbox::new();
    let file = sandbox.path("bad.toml");
    std::fs::write(&file, "[server]\nbindd = \"x\"\n").expect("write config");
    let file_text = file.to_str().expect("UTF-8");
    let run = sandbox.run(&["--config", file_text, "config", "check"]);
    run.expect_code(3);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.starts_with(&format!("error: configuration: {file_text} line ")), "{}", run.stderr);
    assert!(run.stderr.contains("unknown field `bindd`"), "{}", run.stderr);
    assert!(run.stderr.contains("`bind`"), "the known keys are suggested: {}", run.stderr);

    let unknown_table = sandbox.path("table.toml");
    std::fs::write(&unknown_table, "[serverr]\nbind = \"127.0.0.1:1\"\n").expect("write config");
    let run = sandbox.run(&["--config", unknown_table.to_str().expect("UTF-8"), "config", "check"]);
    run.expect_code(3);
    assert!(run.stderr.contains("unknown field `serverr`"), "{}", run.stderr);

    let broken = sandbox.path("broken.toml");
    std::fs::write(&broken, "[server\n").expect("write config");
    let run = sandbox.run(&["--config", broken.to_str().expect("UTF-8"), "config", "check"]);
    run.expect_code(3);
    assert!(run.stderr.starts_with("error: configuration: "), "{}", run.stderr);
}

/// The line named is the line of the key (here the second).
#[test]
fn an_unknown_key_is_reported_at_its_line() {
    let sandbox = Sandbox::new();
    let file = sandbox.path("bad.toml");
    std::fs::write(&file, "[server]\nbindd = \"x\"\n").expect("write config");
    let file_text = file.to_str().expect("UTF-8");
    let run = sandbox.run(&["--config", file_text, "config", "check"]);
    run.expect_code(3);
    assert!(run.stderr.starts_with(&format!("error: configuration: {file_text} line 2: unknown field `bindd`")), "{}", run.stderr);
}

#[test]
fn a_missing_config_file_is_named() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["--config", "nowhere.toml", "config", "check"]);
    run.expect_code(3);
    assert!(run.stderr.starts_with("error: configuration: --config: nowhere.toml: "), "{}", run.stderr);
}

#[test]
fn out_of_range_and_malformed_values_name_their_key() {
    let sandbox = Sandbox::new();
    let cases: [(&str, &str, &str); 6] = [
        ("RAMPART_AUTH_LOCKOUT_MINUTES", "0", "error: configuration: auth.lockout_minutes: 0 is outside 1..=1440\n"),
        ("RAMPART_AUTH_MAX_FAILED_LOGINS", "101", "error: configuration: auth.max_failed_logins: 101 is outside 1..=100\n"),
        ("RAMPART_AUTH_LOCKOUT_MINUTES", "soon", "error: configuration: RAMPART_AUTH_LOCKOUT_MINUTES: `soon` is not a whole number\n"),
        (
            "RAMPART_SERVER_SECURE_COOKIES",
            "perhaps",
            "error: configuration: RAMPART_SERVER_SECURE_COOKIES: `perhaps` is not true or false\n",
        ),
        ("RAMPART_LOG_LEVEL", "loud", "error: configuration: log.level: `loud` is not one of error, warn, info, debug, trace\n"),
        (
            "RAMPART_DATABASE_URL",
            "mysql://db/rampart",
            "error: configuration: database.url: only SQLite paths and postgres:// URLs are supported\n",
        ),
    ];
    for (var, value, message) in cases {
        let run = sandbox.run_raw(&["config", "check"], &[(var, value)]);
        run.expect_code(3);
        assert_eq!(run.stderr, message, "{var}={value}");
        assert_eq!(run.stdout, "");
    }
    let lockout = sandbox.run_env(&["config", "check"], &[("RAMPART_AUTH_LOCKOUT_MINUTES", "0")]);
    lockout.expect_code(3);
    assert!(lockout.stderr.contains("auth.lockout_minutes"));

    let format = sandbox.run(&["--log-format", "xml", "config", "check"]);
    format.expect_code(3);
    assert_eq!(format.stderr, "error: configuration: log.format: `xml` is not text or json\n");

    let half_tls = sandbox.run_env(&["config", "check"], &[("RAMPART_SERVER_TLS_CERTIFICATE", "cert.pem")]);
    half_tls.expect_code(3);
    assert_eq!(half_tls.stderr, "error: configuration: server.tls_key: is required when server.tls_certificate is set\n");
}

#[test]
fn config_check_never_prints_a_database_password() {
    let sandbox = Sandbox::new();
    let run = sandbox.run_raw(&["--database", "postgres://u:s3cret@127.0.0.1:5432/test", "config", "check"], &[]);
    run.ok();
    assert!(!run.stdout.contains("s3cret"), "{}", run.stdout);
    assert!(run.stdout.contains("\"database\": \"postgres://u:***@127.0.0.1:5432/test\""), "{}", run.stdout);
}
