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

const IODEF: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<IODEF-Document version="2.00" lang="en" xmlns="urn:ietf:params:xml:ns:iodef-2.0">
  <Incident purpose="mitigation" restriction="green">
    <IncidentID name="csirt.gh.example">GH-2026-0042</IncidentID>
    <GenerationTime>2026-11-20T08:30:00Z</GenerationTime>
    <Description>Botnet C2 in your constituency</Description>
    <Contact role="creator" type="organization"><ContactName>GH-CIRT</ContactName></Contact>
    <EventData><Flow><System category="source"><Node><Address category="ipv4-addr">198.51.100.23</Address></Node></System></Flow></EventData>
  </Incident>
</IODEF-Document>
"#;

#[test]
fn an_iodef_report_becomes_an_incident_and_goes_back_out_as_iodef() {
    let sandbox = Sandbox::migrated();
    sandbox.run(&["org", "create", "--name", "KE-CIRT", "--kind", "national_cirt", "--country", "KE"]).ok();
    sandbox
        .run(&[
            "user",
            "create",
            "--email",
            "analyst@cirt.ke",
            "--name",
            "Analyst",
            "--org",
            "KE-CIRT",
            "--password",
            "a long enough password",
            "--role",
            "cirt_analyst",
        ])
        .ok();
    std::fs::write(sandbox.path("gh.xml"), IODEF).unwrap();
    let run = sandbox.run(&["cirt", "iodef-import", "--cirt", "KE-CIRT", "--as", "analyst@cirt.ke", "gh.xml", "--json"]);
    run.ok();
    let incident = &run.json()[0];
    assert_eq!((incident["title"].as_str(), incident["tlp"].as_str()), (Some("Botnet C2 in your constituency"), Some("GREEN")));
    let id = incident["id"].as_str().unwrap();
    let out = sandbox.run(&["cirt", "iodef-export", "--as", "analyst@cirt.ke", id, "--public-url", "https://cirt.ke.example"]);
    out.ok();
    let reference = incident["reference"].as_str().unwrap();
    assert!(out.stdout.contains(&format!("<IncidentID name=\"cirt.ke.example\">{reference}</IncidentID>")), "{}", out.stdout);
    assert!(out.stdout.contains("<Address category=\"ipv4-addr\">198.51.100.23</Address>") && out.stdout.contains("restriction=\"green\""));

    // A hostile document is refused with its file and place; nothing is opened.
    std::fs::write(sandbox.path("evil.xml"), "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><IODEF-Document/>").unwrap();
    let refused = sandbox.run(&["cirt", "iodef-import", "--cirt", "KE-CIRT", "--as", "analyst@cirt.ke", "evil.xml"]);
    refused.expect_code(7);
    assert!(refused.stderr.contains("evil.xml") && refused.stderr.contains("DTD"), "{}", refused.stderr);
    sandbox.run(&["audit", "verify"]).ok();
}
