//! `rampart drill` and the demo drill: the demo world seeds a drill ready
//! to start; organisers import scenarios (JSON and MSEL) and export them
//! with flags hashed; a broken file is refused with its line and stores
//! nothing; the after-action report prints as JSON and CSV for staff only.

use crate::support::{Sandbox, Server};

const ORGANISER: &str = "drills@demo.rampart.test";

fn data(name: &str) -> String {
    format!("{}/../drills/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_demo_drill_and_the_drill_commands() {
    let sandbox = Sandbox::new();
    {
        let server = Server::start(&sandbox, &["--demo"]);
        assert_eq!(server.get("/healthz", &[]).status, 200);
    }
    let (exercise, teams, state) = sandbox.with_store(&sandbox.db, async |store| {
        let exercise = store.drill_exercises().await.expect("exercises").remove(0);
        let teams = store.drill_teams(&exercise.id).await.expect("teams");
        (exercise.id, teams, exercise.state)
    });
    assert_eq!(state, "scheduled", "ready for the organiser to start");
    assert_eq!(teams.len(), 5);
    assert!(teams.iter().all(|t| t.comm_check_sent_at.is_some()), "a communication check is out");

    // Import: MSEL and JSON; a broken sheet is named by line and changes nothing.
    let msel = sandbox.run(&["drill", "import", "--as", ORGANISER, &data("sample-msel.csv"), "--msel-title", "Bank phishing"]);
    msel.ok();
    let scenario = msel.stdout.trim().to_owned();
    let broken = sandbox.path("broken.csv");
    std::fs::write(&broken, "time,inject\n0:05,Start\nlater,Next\n").expect("write");
    let refused = sandbox.run(&["drill", "import", "--as", ORGANISER, broken.to_str().expect("path"), "--msel-title", "Broken"]);
    refused.expect_code(7);
    assert!(refused.stderr.contains("broken.csv: line 3, column 1 (time)"), "{}", refused.stderr);
    let scenarios = sandbox.with_store(&sandbox.db, async |store| store.drill_scenarios().await.expect("scenarios").len());
    assert_eq!(scenarios, 2, "the demo scenario and the sheet, not the broken one");
    let json = sandbox.run(&["drill", "import", "--as", ORGANISER, &data("ransomware-telecom.json")]);
    json.ok();
    let exported = sandbox.run(&["drill", "export", "--as", ORGANISER, json.stdout.trim()]);
    exported.ok();
    assert!(exported.stdout.contains("\"sha256\"") && !exported.stdout.contains("RAMPART{svc-backup}"), "flags leave hashed");
    let players_may_not =
        sandbox.run(&["drill", "import", "--as", "player-ke@demo.rampart.test", &data("sample-msel.csv"), "--msel-title", "x"]);
    players_may_not.expect_code(1);
    let export = sandbox.run(&["drill", "export", "--as", ORGANISER, &scenario]);
    export.ok();
    assert!(export.stdout.contains("Phishing wave reported"));

    // The report: JSON and CSV for the evaluator, refused to a player.
    let report = sandbox.run(&["drill", "report", "--as", "evaluator@demo.rampart.test", &exercise]);
    report.ok();
    let report = report.json();
    assert_eq!(report["teams"], 5);
    assert_eq!(report["objectives"].as_array().expect("objectives").len(), 4);
    let csv = sandbox.run(&["drill", "report", "--as", "evaluator@demo.rampart.test", &exercise, "--csv"]);
    csv.ok();
    assert!(csv.stdout.lines().any(|l| l.starts_with("team,Kenya: KE-CIRT,KE,")), "{}", csv.stdout);
    sandbox.run(&["drill", "report", "--as", "player-ke@demo.rampart.test", &exercise]).expect_code(1);
    sandbox.run(&["audit", "verify"]).ok();
}
