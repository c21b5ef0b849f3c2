//! `cirt ingest-mail`: e-mailed reports from files and a maildir.

use crate::support::Sandbox;

const REPORT: &str = "From: soc@isp.example\r\nSubject: Scanning from 203.0.113.9\r\n\r\nAll night, from 203.0.113.9.\r\n";

#[test]
fn a_maildir_is_taken_and_bad_mail_is_left_where_it_was() {
    let sandbox = Sandbox::migrated();
    sandbox.run(&["org", "create", "--name", "KE-CIRT", "--kind", "national_cirt", "--country", "KE"]).ok();
    let maildir = sandbox.path("Maildir");
    std::fs::create_dir_all(maildir.join("new")).unwrap();
    std::fs::create_dir_all(maildir.join("cur")).unwrap();
    std::fs::write(maildir.join("new/1.eml"), REPORT).unwrap();
    std::fs::write(maildir.join("new/2.eml"), "Subject: no sender\r\n\r\nbody\r\n").unwrap();

    let run = sandbox.run(&["cirt", "ingest-mail", "--cirt", "KE-CIRT", "--maildir", maildir.to_str().unwrap(), "--json"]);
    run.expect_code(7);
    let report = run.json();
    assert_eq!(report["taken"].as_array().map(Vec::len), Some(1), "{report}");
    assert!(report["taken"][0]["reference"].as_str().unwrap().starts_with("REP-"));
    assert!(report["failed"][0]["error"].as_str().unwrap().contains("from"), "{report}");
    assert!(maildir.join("cur/1.eml:2,S").exists(), "taken mail moves to cur/");
    assert!(maildir.join("new/2.eml").exists(), "bad mail stays in new/");

    // A single file, then the same maildir again: nothing new to take.
    let file = sandbox.path("single.eml");
    std::fs::write(&file, REPORT).unwrap();
    sandbox.run(&["cirt", "ingest-mail", "--cirt", "KE-CIRT", file.to_str().unwrap()]).ok();
    let count: i64 = sandbox.with_store(&sandbox.db, async |store| {
        store.report_list(&Default::default(), &rampart_store::PageRequest::first(50)).await.unwrap().items.len() as i64
    });
    assert_eq!(count, 2);
    sandbox.run(&["cirt", "ingest-mail", "--cirt", "Nobody", file.to_str().unwrap()]).expect_code(6);
    sandbox.run(&["cirt", "ingest-mail", "--cirt", "KE-CIRT"]).expect_code(7);
}
