//! The advisory desk: CIRT analysts write CSAF 2.0 advisories, managers
//! publish them as immutable releases, and readers (and the CSAF provider
//! layout) see only the current release, by its TLP label.

use crate::support::{Env, actor, assert_forbidden, assert_not_found, at, each_backend, sorted};
use chrono::Duration;
use rampart_auth::Principal;
use rampart_cirt::advisory::{self, General, NewProduct, NewRemediation, NewVulnerability, Reference};
use rampart_cirt::{CirtError, DeskError, csaf};
use rampart_core::{Role, Tlp};
use rampart_store::StoreError;
use rampart_store::advisories::{AdvisoryRow, ReleaseRow};
use serde_json::{Value, json};
use sha2::Digest as _;
use std::fmt::Debug;
use std::path::PathBuf;

const CVSS_V3: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const CVSS_V4: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
const XSS: &str = "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')";

fn general(title: &str, tlp: Tlp) -> General {
    General {
        title: title.into(),
        tlp,
        summary: "A script injected into the router's web interface runs in an administrator's browser.".into(),
        lang: "en".into(),
        references: vec![Reference { url: "https://vendor.example/psirt/2026-17".into(), summary: "Vendor advisory".into() }],
    }
}

fn product(version: &str) -> NewProduct {
    NewProduct { vendor: "Example Networks".into(), product: "EdgeRouter".into(), version: version.into() }
}

fn vulnerability(affected: &str, fixed: &str) -> NewVulnerability {
    NewVulnerability {
        title: "Stored cross-site scripting in the diagnostics page".into(),
        description: "The host name field of the diagnostics page is echoed without encoding.".into(),
        cve: Some("cve-2026-31337".into()),
        cwe: Some("79".into()),
        cvss_v3: Some(CVSS_V3.into()),
        cvss_v4: Some(CVSS_V4.into()),
        known_affected: vec![affected.into()],
        fixed: vec![fixed.into()],
        remediation: Some(NewRemediation {
            category: "vendor_fix".into(),
            details: "Update the firmware to 2.1.".into(),
            url: Some("https://vendor.example/firmware/2.1".into()),
        }),
        references: vec![],
    }
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("stored JSON")
}

/// The error must be a `Field` error at `path`; returns its message.
#[track_caller]
fn assert_field<T: Debug>(result: Result<T, DeskError>, path: &str) -> String {
    match result {
        Err(DeskError::Rule(CirtError::Field { path: found, message })) if found == path => message,
        other => panic!("expected Field {{ path: {path:?} }}, got {other:?}"),
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(bytes))
}

fn hex_sha512(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&sha2::Sha512::digest(bytes))
}

/// Adds the two router versions (2.0 affected, 2.1 fixed) and the XSS
/// vulnerability to a draft, as `author`, in two edits.
async fn fill(env: &Env, author: &Principal, id: &str) -> AdvisoryRow {
    env.desk
        .edit_advisory(&actor(author), id, "cirt.advisory.product", |document| {
            let first = advisory::add_product(document, &product("2.0"))?;
            let second = advisory::add_product(document, &product("2.1"))?;
            Ok(json!({"products": [first, second]}))
        })
        .await
        .expect("products added");
    env.desk
        .edit_advisory(&actor(author), id, "cirt.advisory.vulnerability", |document| {
            let index = advisory::add_vulnerability(document, &vulnerability("CSAFPID-0001", "CSAFPID-0002"))?;
            Ok(json!({"vulnerability": index}))
        })
        .await
        .expect("vulnerability added")
}

/// A complete advisory of KE-CIRT written by its analyst.
async fn written(env: &Env, title: &str, tlp: Tlp) -> AdvisoryRow {
    let row = env.desk.create_advisory(&actor(&env.w.analyst), None, &general(title, tlp)).await.expect("created");
    fill(env, &env.w.analyst, &row.id).await
}

async fn publish(env: &Env, id: &str, summary: &str) -> ReleaseRow {
    env.desk.publish_advisory(&actor(&env.w.manager), id, summary).await.expect("published")
}

/// Ids of the advisories `viewer` may list, sorted.
async fn listed(env: &Env, viewer: Option<&Principal>) -> Vec<String> {
    sorted(env.desk.advisories(viewer).await.expect("list").into_iter().map(|(row, _)| row.id).collect())
}

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/csaf2.0/csaf_2.0/examples/csaf")
}

fn corpus_file(name: &str) -> String {
    let path = corpus().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[tokio::test]
async fn an_analyst_writes_and_a_manager_publishes_numbered_releases() {
    each_backend(|env| async move {
        let w = &env.w;
        let row = env.desk.create_advisory(&actor(&w.analyst), None, &general("XSS in EdgeRouter", Tlp::Clear)).await.expect("created");
        assert_eq!(row.tracking_id, "KE-CIRT-2026-0001", "country stem, year of the clock, first number");
        assert_eq!((row.org_id.as_str(), row.title.as_str(), row.tlp.as_str()), (w.ke_cirt.id.as_str(), "XSS in EdgeRouter", "CLEAR"));
        assert_eq!(
            (row.created_by.as_str(), row.created_at.clone(), row.released_version.clone()),
            (w.analyst.user_id.as_str(), at(Duration::zero()), None)
        );
        let draft = parse(&row.document);
        assert_eq!(draft["document"]["category"], "csaf_security_advisory");
        assert_eq!(
            draft["document"]["publisher"],
            json!({"category": "coordinator", "name": "KE-CIRT", "namespace": "http://localhost:8080"})
        );
        assert_eq!(draft["document"]["tracking"]["status"], "draft");
        assert_eq!(draft["document"]["distribution"]["tlp"]["label"], "WHITE");
        assert_eq!(draft["document"]["notes"][0]["category"], "summary");
        assert_eq!(draft["document"]["references"][0]["url"], "https://vendor.example/psirt/2026-17");

        let row = fill(&env, &w.analyst, &row.id).await;
        let document = parse(&row.document);
        assert_eq!(
            advisory::products(&document),
            vec![
                ("CSAFPID-0001".to_owned(), "Example Networks EdgeRouter 2.0".to_owned()),
                ("CSAFPID-0002".to_owned(), "Example Networks EdgeRouter 2.1".to_owned())
            ]
        );
        assert_eq!(document["product_tree"]["branches"].as_array().map(Vec::len), Some(1), "one vendor branch for both versions");
        let vuln = &document["vulnerabilities"][0];
        assert_eq!(vuln["cve"], "CVE-2026-31337");
        assert_eq!(vuln["cwe"], json!({"id": "CWE-79", "name": XSS}));
        assert_eq!(vuln["scores"][0]["cvss_v3"]["version"], "3.1");
        assert_eq!(vuln["scores"][0]["cvss_v3"]["baseScore"], 9.8);
        assert_eq!(vuln["scores"][0]["cvss_v4"]["baseScore"], 9.3);
        assert_eq!(vuln["scores"][0]["cvss_v4"]["baseSeverity"], "CRITICAL");
        assert_eq!(vuln["product_status"], json!({"known_affected": ["CSAFPID-0001"], "fixed": ["CSAFPID-0002"]}));
        assert_eq!(vuln["remediations"][0]["category"], "vendor_fix");
        assert_eq!(vuln["remediations"][0]["url"], "https://vendor.example/firmware/2.1");
        let view = env.desk.advisory(Some(&w.analyst), &row.id).await.expect("author view");
        assert!(view.problems.is_empty(), "the finished draft is valid: {:#?}", view.problems);
        assert!(view.unpublished_changes && view.may_edit && !view.may_publish);
        assert_eq!((view.digest.max_score, view.digest.severity.as_deref()), (Some(9.8), Some("CRITICAL")));

        let second = env.desk.create_advisory(&actor(&w.analyst), None, &general("Second", Tlp::Green)).await.expect("second");
        assert_eq!(second.tracking_id, "KE-CIRT-2026-0002");

        // Analysts write; only managers publish.
        assert_forbidden(env.desk.publish_advisory(&actor(&w.analyst), &row.id, "Initial public release.").await);
        assert!(env.store.releases_of(&row.id).await.unwrap().is_empty());

        env.advance(Duration::hours(1));
        let release = publish(&env, &row.id, "Initial public release.").await;
        let expected = ReleaseRow {
            advisory_id: row.id.clone(),
            version: "1".into(),
            released_at: at(Duration::hours(1)),
            released_by: w.manager.email.clone(),
            tlp: "CLEAR".into(),
            year: 2026,
            file_name: "ke-cirt-2026-0001.json".into(),
            sha256: release.sha256.clone(),
            sha512: release.sha512.clone(),
            signature: None, // no signing key configured
        };
        assert_eq!(release, expected);
        let (stored, content) = env.store.release_content(&row.id, "1").await.expect("release stored");
        assert_eq!(stored, release);
        assert_eq!(release.sha256, hex_sha256(content.as_bytes()));
        assert_eq!(release.sha512, hex_sha512(content.as_bytes()));
        assert_eq!(release.sha256.len(), 64);
        let released = parse(&content);
        assert_eq!(csaf::check(&released), vec![]);
        let tracking = &released["document"]["tracking"];
        assert_eq!(tracking["status"], "final");
        assert_eq!(tracking["version"], "1");
        assert_eq!(tracking["initial_release_date"], at(Duration::hours(1)));
        assert_eq!(tracking["current_release_date"], at(Duration::hours(1)));
        assert_eq!(
            tracking["revision_history"],
            json!([{"number": "1", "date": at(Duration::hours(1)), "summary": "Initial public release."}])
        );
        let stored_row = env.store.advisory_get(&row.id).await.unwrap();
        assert_eq!((stored_row.released_version.as_deref(), stored_row.released_at.clone()), (Some("1"), Some(at(Duration::hours(1)))));
        let view = env.desk.advisory(Some(&w.manager), &row.id).await.unwrap();
        assert!(!view.unpublished_changes && view.may_publish);
        assert_eq!(view.document, released, "the working copy is the release");

        // An edit after publishing is an unpublished change until the next release.
        env.advance(Duration::hours(1));
        let edited =
            env.desk.set_advisory_general(&actor(&w.analyst), &row.id, &general("Stored XSS in EdgeRouter", Tlp::Clear)).await.unwrap();
        assert_eq!((edited.title.as_str(), edited.updated_at.clone()), ("Stored XSS in EdgeRouter", at(Duration::hours(2))));
        let view = env.desk.advisory(Some(&w.manager), &row.id).await.unwrap();
        assert!(view.unpublished_changes);
        assert_eq!(view.digest.title, "Stored XSS in EdgeRouter");
        assert_eq!(view.digest.status, "final");

        env.advance(Duration::days(1));
        let again = publish(&env, &row.id, "Title made precise.").await;
        assert_eq!(
            (again.version.as_str(), again.released_at.clone(), again.file_name.as_str()),
            ("2", at(Duration::hours(26)), "ke-cirt-2026-0001.json")
        );
        let (_, content) = env.store.release_content(&row.id, "2").await.unwrap();
        assert_eq!(again.sha256, hex_sha256(content.as_bytes()));
        let released = parse(&content);
        assert_eq!(csaf::check(&released), vec![]);
        let tracking = &released["document"]["tracking"];
        assert_eq!(released["document"]["title"], "Stored XSS in EdgeRouter");
        assert_eq!((tracking["version"].as_str(), tracking["status"].as_str()), (Some("2"), Some("final")));
        let numbers: Vec<&str> = tracking["revision_history"].as_array().unwrap().iter().filter_map(|e| e["number"].as_str()).collect();
        assert_eq!(numbers, ["1", "2"]);
        assert_eq!(tracking["revision_history"][1]["summary"], "Title made precise.");
        assert_eq!(tracking["initial_release_date"], at(Duration::hours(1)), "unchanged by later releases");
        assert_eq!(tracking["current_release_date"], at(Duration::hours(26)));
        let versions: Vec<String> = env.store.releases_of(&row.id).await.unwrap().into_iter().map(|r| r.version).collect();
        assert_eq!(versions, ["1", "2"]);
        let (first, first_content) = env.store.release_content(&row.id, "1").await.unwrap();
        assert_eq!(
            (first.sha256, parse(&first_content)["document"]["title"].clone()),
            (release.sha256, json!("XSS in EdgeRouter")),
            "release 1 is immutable"
        );
        let view = env.desk.advisory(Some(&w.analyst), &row.id).await.unwrap();
        assert!(!view.unpublished_changes);
        assert_eq!(view.releases.len(), 2);
        env.audit_ok().await;
    })
    .await;
}

#[tokio::test]
async fn an_invalid_draft_is_not_published() {
    each_backend(|env| async move {
        let w = &env.w;
        let row = env.desk.create_advisory(&actor(&w.analyst), None, &general("Empty", Tlp::Clear)).await.unwrap();
        let before = env.audit_ok().await;
        match env.desk.publish_advisory(&actor(&w.manager), &row.id, "Initial public release.").await {
            Err(DeskError::Document(problems)) => {
                assert!(problems.iter().any(|p| p.test.starts_with("6.1.27")), "{problems:#?}");
                assert!(problems.iter().any(|p| p.test == "6.1.27.11" && p.path == "/vulnerabilities"), "{problems:#?}");
                assert!(problems.iter().any(|p| p.test == "6.1.27.4" && p.path == "/product_tree"), "{problems:#?}");
            }
            other => panic!("expected Document problems, got {other:?}"),
        }
        // Products alone are not enough either.
        env.desk
            .edit_advisory(&actor(&w.analyst), &row.id, "cirt.advisory.product", |d| Ok(json!(advisory::add_product(d, &product("2.0"))?)))
            .await
            .unwrap();
        let before_second = env.audit_ok().await;
        assert_eq!(before_second, before + 1, "the edit is audited");
        match env.desk.publish_advisory(&actor(&w.manager), &row.id, "Initial public release.").await {
            Err(DeskError::Document(problems)) => {
                let tests: Vec<&str> = problems.iter().map(|p| p.test.as_str()).collect();
                assert!(tests.contains(&"6.1.27.11") && !tests.contains(&"6.1.27.4"), "{problems:#?}");
            }
            other => panic!("expected Document problems, got {other:?}"),
        }
        // A valid document still needs a revision summary.
        let row = fill_vulnerability_only(&env, &row.id).await;
        match env.desk.publish_advisory(&actor(&w.manager), &row.id, "  ").await {
            Err(DeskError::Document(problems)) => assert_eq!((problems[0].test.as_str(), problems[0].path.as_str()), ("input", "summary")),
            other => panic!("expected Document problems, got {other:?}"),
        }
        assert!(env.store.releases_of(&row.id).await.unwrap().is_empty());
        let stored = env.store.advisory_get(&row.id).await.unwrap();
        assert_eq!((stored.released_version, stored.released_at), (None, None));
        assert_eq!(parse(&stored.document)["document"]["tracking"]["status"], "draft");
        assert!(env.store.current_releases(&w.ke_cirt.id).await.unwrap().is_empty());
        assert!(env.audit("cirt.advisory.publish").await.is_empty());
        assert_eq!(env.audit_ok().await, before_second + 1, "only the vulnerability edit was audited");
        // Nobody outside sees the draft for the failed attempts.
        assert_not_found(env.desk.advisory(None, &row.id).await, "advisory");
    })
    .await;
}

async fn fill_vulnerability_only(env: &Env, id: &str) -> AdvisoryRow {
    env.desk
        .edit_advisory(&actor(&env.w.analyst), id, "cirt.advisory.vulnerability", |document| {
            let mut input = vulnerability("CSAFPID-0001", "CSAFPID-0001");
            input.fixed.clear();
            Ok(json!(advisory::add_vulnerability(document, &input)?))
        })
        .await
        .expect("vulnerability added")
}

#[tokio::test]
async fn readers_see_current_releases_by_tlp() {
    each_backend(|env| async move {
        let w = &env.w;
        let ke_viewer = env.extra_user(&w.ke_cirt, "viewer@ke-cirt.go.ke", Role::Viewer).await;
        let clear = written(&env, "Clear advisory", Tlp::Clear).await;
        let green = written(&env, "Green advisory", Tlp::Green).await;
        let amber = written(&env, "Amber advisory", Tlp::Amber).await;
        let red = written(&env, "Red advisory", Tlp::Red).await;
        let all = sorted(vec![clear.id.clone(), green.id.clone(), amber.id.clone(), red.id.clone()]);

        // Drafts: only the CIRT's writers know they exist.
        for row in [&clear, &green, &amber, &red] {
            for viewer in [Some(&w.isp_user), Some(&w.bank_user), Some(&w.br_analyst), Some(&w.admin), Some(&ke_viewer), None] {
                assert_not_found(env.desk.advisory(viewer, &row.id).await, "advisory");
            }
        }
        for viewer in [Some(&w.isp_user), Some(&w.bank_user), Some(&w.br_analyst), Some(&w.admin), Some(&ke_viewer), None] {
            assert_eq!(listed(&env, viewer).await, Vec::<String>::new(), "{:?}", viewer.map(|v| &v.email));
        }
        assert_eq!(listed(&env, Some(&w.analyst)).await, all);
        assert_eq!(listed(&env, Some(&w.manager)).await, all);
        assert!(env.desk.provider_releases(Some(&w.manager), &w.ke_cirt).await.unwrap().is_empty(), "nothing released yet");

        // Other CIRTs, constituents and the platform admin cannot write for KE-CIRT.
        for outsider in [&w.br_analyst, &w.isp_user, &w.admin, &ke_viewer] {
            assert_forbidden(env.desk.create_advisory(&actor(outsider), Some(&w.ke_cirt.id), &general("Spoof", Tlp::Clear)).await);
            assert_not_found(env.desk.set_advisory_general(&actor(outsider), &clear.id, &general("Spoof", Tlp::Clear)).await, "advisory");
            assert_not_found(env.desk.publish_advisory(&actor(outsider), &clear.id, "Spoofed.").await, "advisory");
        }

        for row in [&clear, &green, &amber, &red] {
            publish(&env, &row.id, "Initial public release.").await;
        }
        let matrix: Vec<(&str, Option<&Principal>, Vec<&AdvisoryRow>)> = vec![
            ("anonymous", None, vec![&clear]),
            ("isp_user", Some(&w.isp_user), vec![&clear, &green, &amber]),
            ("bank_user", Some(&w.bank_user), vec![&clear, &green, &amber]),
            ("ke_viewer", Some(&ke_viewer), vec![&clear, &green, &amber]),
            ("br_analyst", Some(&w.br_analyst), vec![&clear, &green]),
            ("admin", Some(&w.admin), vec![&clear, &green]),
            ("analyst", Some(&w.analyst), vec![&clear, &green, &amber, &red]),
            ("manager", Some(&w.manager), vec![&clear, &green, &amber, &red]),
        ];
        for (name, viewer, visible) in &matrix {
            for row in [&clear, &green, &amber, &red] {
                let seen = env.desk.advisory(*viewer, &row.id).await;
                if visible.iter().any(|v| v.id == row.id) {
                    let view = seen.unwrap_or_else(|err| panic!("{name} must see {}: {err}", row.title));
                    assert_eq!(view.digest.title, row.title, "{name}");
                } else {
                    assert_not_found(seen, "advisory");
                }
            }
            let expected = sorted(visible.iter().map(|r| r.id.clone()).collect());
            assert_eq!(listed(&env, *viewer).await, expected, "{name} lists");
            let mut files: Vec<String> =
                env.desk.provider_releases(*viewer, &w.ke_cirt).await.unwrap().into_iter().map(|(r, _)| r.file_name).collect();
            files.sort();
            let mut expected_files: Vec<String> = visible.iter().map(|r| advisory::file_name(&r.tracking_id)).collect();
            expected_files.sort();
            assert_eq!(files, expected_files, "{name} provider releases");
        }
        let reader = env.desk.advisory(Some(&w.isp_user), &amber.id).await.unwrap();
        assert!(!reader.may_edit && !reader.may_publish && !reader.unpublished_changes && reader.problems.is_empty());
        assert_eq!(reader.document["document"]["tracking"]["status"], "final");
        let released_by: Vec<&str> = reader.releases.iter().map(|r| r.released_by.as_str()).collect();
        assert_eq!(released_by, [""], "who published is not shown to readers");
        let author = env.desk.advisory(Some(&w.analyst), &amber.id).await.unwrap();
        assert_eq!(author.releases.iter().map(|r| r.released_by.as_str()).collect::<Vec<_>>(), [w.manager.email.as_str()]);

        // Readers get the release, not later edits of the working copy.
        env.advance(Duration::hours(1));
        env.desk.set_advisory_general(&actor(&w.analyst), &clear.id, &general("Renamed but unpublished", Tlp::Clear)).await.unwrap();
        for viewer in [None, Some(&w.isp_user), Some(&w.br_analyst)] {
            let view = env.desk.advisory(viewer, &clear.id).await.unwrap();
            assert_eq!(view.document["document"]["title"], "Clear advisory");
            assert_eq!(view.digest.title, "Clear advisory");
            assert!(!view.unpublished_changes);
            let (_, digest) = env.desk.advisories(viewer).await.unwrap().into_iter().find(|(r, _)| r.id == clear.id).unwrap();
            assert_eq!(digest.title, "Clear advisory");
        }
        let author_view = env.desk.advisory(Some(&w.analyst), &clear.id).await.unwrap();
        assert_eq!((author_view.digest.title.as_str(), author_view.unpublished_changes), ("Renamed but unpublished", true));

        // The provider layout: folder by label, year of the initial release, CSAF file name.
        let org = env.desk.provider_org(&w.ke_cirt.id).await.unwrap();
        assert_eq!(org.id, w.ke_cirt.id);
        assert_not_found(env.desk.provider_org("no-such-cirt").await, "provider");
        let clear_file = advisory::file_name(&clear.tracking_id);
        assert_eq!(clear_file, "ke-cirt-2026-0001.json");
        let white = advisory::tlp_folder(Tlp::Clear);
        assert_eq!(white, "white");
        let (release, content) = env.desk.provider_file(None, &org, white, 2026, &clear_file).await.expect("public file");
        let (_, stored) = env.store.release_content(&clear.id, "1").await.unwrap();
        assert_eq!(content, stored, "served byte for byte");
        assert_eq!(release.sha256, hex_sha256(content.as_bytes()));
        assert_eq!(parse(&content)["document"]["title"], "Clear advisory");
        assert_not_found(env.desk.provider_file(None, &org, "green", 2026, &clear_file).await, "advisory");
        assert_not_found(env.desk.provider_file(None, &org, white, 2025, &clear_file).await, "advisory");
        let amber_folder = advisory::tlp_folder(Tlp::Amber);
        let amber_file = advisory::file_name(&amber.tracking_id);
        assert_not_found(env.desk.provider_file(None, &org, amber_folder, 2026, &amber_file).await, "advisory");
        assert_not_found(env.desk.provider_file(Some(&w.br_analyst), &org, amber_folder, 2026, &amber_file).await, "advisory");
        let (release, content) =
            env.desk.provider_file(Some(&w.bank_user), &org, amber_folder, 2026, &amber_file).await.expect("constituent file");
        assert_eq!((release.tlp.as_str(), release.advisory_id.as_str()), ("AMBER", amber.id.as_str()));
        assert_eq!(parse(&content)["document"]["distribution"]["tlp"]["label"], "AMBER");
        let red_file = advisory::file_name(&red.tracking_id);
        assert_not_found(env.desk.provider_file(Some(&w.isp_user), &org, "red", 2026, &red_file).await, "advisory");
        assert!(env.desk.provider_file(Some(&w.manager), &org, "red", 2026, &red_file).await.is_ok());
        // Another CIRT's provider layout does not serve KE-CIRT's files.
        assert_not_found(env.desk.provider_file(None, &w.br_cirt, white, 2026, &clear_file).await, "advisory");
        env.audit_ok().await;
    })
    .await;
}

#[tokio::test]
async fn the_oasis_examples_import_unchanged() {
    each_backend(|env| async move {
        let w = &env.w;
        let analyst = actor(&w.analyst);
        let mut names: Vec<String> = std::fs::read_dir(corpus())
            .expect("corpus present")
            .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".json"))
            .collect();
        names.sort();
        assert_eq!(names.len(), 6, "{names:?}");
        let mut imported = Vec::new();
        for name in &names {
            let text = corpus_file(name);
            let original = parse(&text);
            let labelled = advisory::tlp_of(&original);
            let row = match labelled {
                Some(_) => env.desk.import_advisory(&analyst, None, &text, None).await.unwrap_or_else(|err| panic!("{name}: {err}")),
                None => {
                    // Without a label of its own the importer must choose one.
                    assert_field(env.desk.import_advisory(&analyst, None, &text, None).await, "/document/distribution/tlp/label");
                    env.desk.import_advisory(&analyst, None, &text, Some(Tlp::Amber)).await.unwrap_or_else(|err| panic!("{name}: {err}"))
                }
            };
            assert_eq!(row.tracking_id, original["document"]["tracking"]["id"].as_str().unwrap(), "{name}");
            assert_eq!(row.title, original["document"]["title"].as_str().unwrap(), "{name}");
            assert_eq!(row.tlp, labelled.unwrap_or(Tlp::Amber).as_str(), "{name}");
            assert_eq!(row.released_version, None, "{name}: imported as a draft");
            let view = env.desk.advisory(Some(&w.analyst), &row.id).await.unwrap();
            assert_eq!(view.document, original, "{name} round-trips");
            assert!(view.problems.is_empty(), "{name}: {:#?}", view.problems);
            assert!(view.unpublished_changes);
            imported.push(row);
        }
        let tlps: Vec<&str> = imported.iter().map(|r| r.tlp.as_str()).collect();
        assert_eq!(tlps, ["CLEAR", "AMBER", "CLEAR", "CLEAR", "CLEAR", "CLEAR"], "only Cisco's example has no label");
        assert_eq!(env.audit("cirt.advisory.import").await.len(), 6);
        let count = env.desk.advisories(Some(&w.analyst)).await.unwrap().len();
        assert_eq!(count, 6);

        // The same tracking id twice in one CIRT is a conflict; another CIRT may hold it.
        let bsi = corpus_file("bsi-2022-0001.json");
        match env.desk.import_advisory(&analyst, None, &bsi, None).await {
            Err(DeskError::Store(StoreError::Conflict { field, message })) => {
                assert_eq!(field, "tracking_id");
                assert!(message.contains("BSI-2022-0001"), "{message}");
            }
            other => panic!("expected a tracking id conflict, got {other:?}"),
        }
        assert_forbidden(env.desk.import_advisory(&actor(&w.br_analyst), Some(&w.ke_cirt.id), &bsi, None).await);
        assert_forbidden(env.desk.import_advisory(&actor(&w.isp_user), None, &bsi, None).await);
        let br = env.desk.import_advisory(&actor(&w.br_analyst), None, &bsi, None).await.expect("BR-CIRT imports its own copy");
        assert_eq!(br.org_id, w.br_cirt.id);

        // Bad inputs are refused by path and leave nothing behind.
        let message = assert_field(
            env.desk.import_advisory(&analyst, None, "{\n  \"document\": {\n    \"title\": oops\n  }\n}", None).await,
            "document",
        );
        assert!(message.starts_with("not JSON") && message.contains("(line 3, column 14)"), "{message}");
        assert_field(env.desk.import_advisory(&analyst, None, "[1, 2]", None).await, "document");
        let mut untracked = parse(&bsi);
        untracked["document"]["tracking"].as_object_mut().unwrap().remove("id");
        assert_field(env.desk.import_advisory(&analyst, None, &untracked.to_string(), Some(Tlp::Clear)).await, "/document/tracking/id");
        let mut blank = parse(&bsi);
        blank["document"]["tracking"]["id"] = json!("   ");
        assert_field(env.desk.import_advisory(&analyst, None, &blank.to_string(), None).await, "/document/tracking/id");
        let mut untitled = parse(&bsi);
        untitled["document"]["tracking"]["id"] = json!("KE-IMPORT-1");
        untitled["document"].as_object_mut().unwrap().remove("title");
        assert_field(env.desk.import_advisory(&analyst, None, &untitled.to_string(), None).await, "/document/title");
        let mut unlabelled = parse(&bsi);
        unlabelled["document"]["tracking"]["id"] = json!("KE-IMPORT-2");
        unlabelled["document"].as_object_mut().unwrap().remove("distribution");
        assert_field(env.desk.import_advisory(&analyst, None, &unlabelled.to_string(), None).await, "/document/distribution/tlp/label");
        assert_eq!(env.desk.advisories(Some(&w.analyst)).await.unwrap().len(), count, "nothing imported by the refusals");
        assert_eq!(env.audit("cirt.advisory.import").await.len(), 7, "six here, one at BR-CIRT");

        // An imported advisory is published as its next revision.
        let imported_bsi = &imported[0];
        env.advance(Duration::days(1));
        let release = publish(&env, &imported_bsi.id, "Republished by KE-CIRT.").await;
        assert_eq!((release.version.as_str(), release.year, release.file_name.as_str()), ("2", 2022, "bsi-2022-0001.json"));
        let (_, content) = env.store.release_content(&imported_bsi.id, "2").await.unwrap();
        let released = parse(&content);
        assert_eq!(released["document"]["tracking"]["initial_release_date"], "2022-03-17T13:03:42.105Z");
        assert_eq!(released["document"]["tracking"]["revision_history"].as_array().map(Vec::len), Some(2));
        assert!(env.desk.provider_file(None, &w.ke_cirt, "white", 2022, "bsi-2022-0001.json").await.is_ok());
        let cisco = &imported[1];
        let release = publish(&env, &cisco.id, "Republished by KE-CIRT.").await;
        assert_eq!(
            (release.version.as_str(), release.year, release.tlp.as_str()),
            ("4.0.0", 2018, "AMBER"),
            "semantic versions bump the major"
        );
        assert_not_found(env.desk.provider_file(None, &w.ke_cirt, "amber", 2018, "cisco-sa-20180328-smi2.json").await, "advisory");
        assert!(env.desk.provider_file(Some(&w.isp_user), &w.ke_cirt, "amber", 2018, "cisco-sa-20180328-smi2.json").await.is_ok());
        env.audit_ok().await;
    })
    .await;
}

#[tokio::test]
async fn stale_and_identity_changing_edits_are_refused() {
    each_backend(|env| async move {
        let w = &env.w;
        let created = written(&env, "Guarded", Tlp::Green).await;
        let stale = env.store.advisory_get(&created.id).await.unwrap();
        env.advance(Duration::minutes(1));
        let saved = env.desk.set_advisory_general(&actor(&w.manager), &created.id, &general("Guarded, edited", Tlp::Green)).await.unwrap();
        assert_eq!(saved.updated_at, at(Duration::minutes(1)));

        // A write based on the earlier read loses, whoever makes it.
        let mut tx = env.store.begin().await.unwrap();
        match tx.advisory_update(&stale.id, stale.revision, &stale.title, &stale.tlp, &stale.document, &at(Duration::minutes(2))).await {
            Err(StoreError::Conflict { field: "document", .. }) => {}
            other => panic!("expected a conflict, got {other:?}"),
        }
        drop(tx);
        assert_eq!(env.store.advisory_get(&created.id).await.unwrap(), saved);

        // The JSON editor cannot rename the advisory or drop its label.
        let mut renamed = parse(&stale.document);
        renamed["document"]["tracking"]["id"] = json!("KE-CIRT-2026-9999");
        assert_field(
            env.desk.replace_advisory_document(&actor(&w.analyst), &created.id, &renamed.to_string()).await,
            "/document/tracking/id",
        );
        let mut untracked = parse(&stale.document);
        untracked["document"]["tracking"].as_object_mut().unwrap().remove("id");
        assert_field(
            env.desk.replace_advisory_document(&actor(&w.analyst), &created.id, &untracked.to_string()).await,
            "/document/tracking/id",
        );
        let mut unlabelled = parse(&saved.document);
        unlabelled["document"].as_object_mut().unwrap().remove("distribution");
        assert_field(
            env.desk.replace_advisory_document(&actor(&w.analyst), &created.id, &unlabelled.to_string()).await,
            "/document/distribution/tlp/label",
        );
        let mut unknown = parse(&saved.document);
        unknown["document"]["distribution"]["tlp"]["label"] = json!("PURPLE");
        assert_field(
            env.desk.replace_advisory_document(&actor(&w.analyst), &created.id, &unknown.to_string()).await,
            "/document/distribution/tlp/label",
        );
        assert_field(env.desk.replace_advisory_document(&actor(&w.analyst), &created.id, "{\"document\": ").await, "document");
        assert_not_found(env.desk.replace_advisory_document(&actor(&w.br_analyst), &created.id, &saved.document).await, "advisory");
        assert_eq!(env.store.advisory_get(&created.id).await.unwrap(), saved, "every refusal left the working copy alone");
        assert!(env.audit("cirt.advisory.replace").await.is_empty());

        // A whole-document replacement keeps its id; title and label follow the document.
        env.advance(Duration::minutes(1));
        let mut replacement = parse(&saved.document);
        replacement["document"]["title"] = json!("Replaced in the JSON editor");
        replacement["document"]["distribution"]["tlp"]["label"] = json!("AMBER");
        let replaced = env.desk.replace_advisory_document(&actor(&w.analyst), &created.id, &replacement.to_string()).await.unwrap();
        assert_eq!(
            (replaced.title.as_str(), replaced.tlp.as_str(), replaced.tracking_id.as_str()),
            ("Replaced in the JSON editor", "AMBER", "KE-CIRT-2026-0001")
        );
        assert_eq!(parse(&env.store.advisory_get(&created.id).await.unwrap().document), replacement);
        assert_eq!(env.audit("cirt.advisory.replace").await.len(), 1);

        // AMBER+STRICT is AMBER in CSAF; the local label stays strict across edits.
        env.advance(Duration::minutes(1));
        let strict = env.desk.set_advisory_general(&actor(&w.analyst), &created.id, &general("Strict", Tlp::AmberStrict)).await.unwrap();
        assert_eq!(strict.tlp, "AMBER+STRICT");
        assert_eq!(parse(&strict.document)["document"]["distribution"]["tlp"]["label"], "AMBER");
        env.advance(Duration::minutes(1));
        let later = env
            .desk
            .edit_advisory(&actor(&w.analyst), &created.id, "cirt.advisory.product", |d| {
                Ok(json!(advisory::add_product(d, &product("3.0"))?))
            })
            .await
            .unwrap();
        assert_eq!(later.tlp, "AMBER+STRICT");
        let release = publish(&env, &created.id, "Initial release.").await;
        assert_eq!((release.tlp.as_str(), release.version.as_str()), ("AMBER+STRICT", "1"));
        assert_eq!(env.desk.provider_releases(Some(&w.isp_user), &w.ke_cirt).await.unwrap()[0].1, Tlp::AmberStrict);
        env.audit_ok().await;
    })
    .await;
}

#[tokio::test]
async fn every_change_is_audited() {
    each_backend(|env| async move {
        let w = &env.w;
        let row = written(&env, "Audited", Tlp::Clear).await;
        env.desk.set_advisory_general(&actor(&w.analyst), &row.id, &general("Audited, renamed", Tlp::Clear)).await.unwrap();
        let refused = env.audit_ok().await;
        assert_forbidden(env.desk.publish_advisory(&actor(&w.analyst), &row.id, "Too early.").await);
        assert_field(env.desk.create_advisory(&actor(&w.analyst), None, &general("  ", Tlp::Clear)).await, "title");
        assert_eq!(env.audit_ok().await, refused, "refusals change nothing");
        let release = publish(&env, &row.id, "Initial public release.").await;

        let create = env.audit("cirt.advisory.create").await;
        assert_eq!(create.len(), 1);
        let record = &create[0];
        assert_eq!((record.entity_type.as_str(), record.entity_id.as_deref()), ("advisory", Some(row.id.as_str())));
        assert_eq!((record.actor_id.as_deref(), record.actor_label.as_str()), (Some(w.analyst.user_id.as_str()), w.analyst.email.as_str()));
        assert_eq!(record.actor_org_id.as_deref(), Some(w.ke_cirt.id.as_str()));
        assert_eq!(parse(&record.summary), json!({"tracking_id": "KE-CIRT-2026-0001", "org": w.ke_cirt.id, "tlp": "CLEAR"}));

        let publish_records = env.audit("cirt.advisory.publish").await;
        assert_eq!(publish_records.len(), 1);
        let record = &publish_records[0];
        assert_eq!((record.actor_id.as_deref(), record.entity_id.as_deref()), (Some(w.manager.user_id.as_str()), Some(row.id.as_str())));
        assert_eq!(parse(&record.summary), json!({"tracking_id": "KE-CIRT-2026-0001", "version": "1", "sha256": release.sha256}));

        let general_records = env.audit("cirt.advisory.general").await;
        assert_eq!(general_records.len(), 1);
        assert_eq!(parse(&general_records[0].summary)["change"]["title"], "Audited, renamed");
        assert_eq!(env.audit("cirt.advisory.product").await.len(), 1);
        assert_eq!(env.audit("cirt.advisory.vulnerability").await.len(), 1);
        let actions: Vec<String> = env.audit_all().await.into_iter().filter(|r| r.entity_type == "advisory").map(|r| r.action).collect();
        assert_eq!(
            actions,
            [
                "cirt.advisory.create",
                "cirt.advisory.product",
                "cirt.advisory.vulnerability",
                "cirt.advisory.general",
                "cirt.advisory.publish"
            ]
        );
        env.audit_ok().await;
    })
    .await;
}

// Bugs found while writing these tests, kept as regression tests.

#[tokio::test]
async fn readers_list_rows_show_the_release_not_the_working_copy() {
    each_backend(|env| async move {
        let w = &env.w;
        let row = written(&env, "Published title", Tlp::Clear).await;
        publish(&env, &row.id, "Initial public release.").await;
        env.advance(Duration::hours(1));
        env.desk.set_advisory_general(&actor(&w.analyst), &row.id, &general("Unpublished title", Tlp::Red)).await.unwrap();
        for viewer in [None, Some(&w.isp_user)] {
            let (listed, digest) = env.desk.advisories(viewer).await.unwrap().into_iter().find(|(r, _)| r.id == row.id).expect("listed");
            assert_eq!(digest.title, "Published title");
            assert_eq!((listed.title.as_str(), listed.tlp.as_str()), ("Published title", "CLEAR"), "the web list shows these columns");
            assert!(!listed.document.contains("Unpublished title"), "the working copy must not reach readers");
        }
    })
    .await;
}

#[tokio::test]
async fn an_imported_tracking_id_does_not_block_numbering() {
    each_backend(|env| async move {
        let w = &env.w;
        let mut document = parse(&corpus_file("bsi-2022-0001.json"));
        document["document"]["tracking"]["id"] = json!("KE-CIRT-2026-0002");
        env.desk.import_advisory(&actor(&w.analyst), None, &document.to_string(), None).await.expect("imported");
        let first = env.desk.create_advisory(&actor(&w.analyst), None, &general("First", Tlp::Clear)).await.expect("created");
        let second = env.desk.create_advisory(&actor(&w.analyst), None, &general("Second", Tlp::Clear)).await.expect("created");
        assert_eq!(first.tracking_id, "KE-CIRT-2026-0003", "after the highest number in use");
        assert_eq!(second.tracking_id, "KE-CIRT-2026-0004");
        // Case does not hide a number, on either database.
        document["document"]["tracking"]["id"] = json!("ke-cirt-2026-0100");
        env.desk.import_advisory(&actor(&w.analyst), None, &document.to_string(), None).await.expect("imported");
        let third = env.desk.create_advisory(&actor(&w.analyst), None, &general("Third", Tlp::Clear)).await.expect("created");
        assert_eq!(third.tracking_id, "KE-CIRT-2026-0101");
    })
    .await;
}

#[tokio::test]
async fn a_stale_edit_is_refused_even_within_the_same_millisecond() {
    each_backend(|env| async move {
        let w = &env.w;
        let created = written(&env, "Guarded", Tlp::Green).await;
        let stale = env.store.advisory_get(&created.id).await.unwrap();
        // The clock does not move: only the revision tells the saves apart.
        env.desk.set_advisory_general(&actor(&w.manager), &created.id, &general("Edited", Tlp::Green)).await.unwrap();
        let mut tx = env.store.begin().await.unwrap();
        match tx.advisory_update(&stale.id, stale.revision, &stale.title, &stale.tlp, &stale.document, &stale.updated_at).await {
            Err(StoreError::Conflict { field: "document", .. }) => {}
            other => panic!("expected a conflict, got {other:?}"),
        }
        drop(tx);
        assert_eq!(env.store.advisory_get(&created.id).await.unwrap().title, "Edited");
    })
    .await;
}

#[tokio::test]
async fn with_a_signing_key_every_release_is_signed() {
    each_backend(|env| async move {
        let w = &env.w;
        let signer = std::sync::Arc::new(rampart_cirt::signing::Signer::generate("KE-CIRT <cirt@ke.example>").unwrap());
        let desk = rampart_cirt::Desk::new(env.store.clone(), std::sync::Arc::new(env.clock.clone())).with_signer(Some(signer.clone()));
        let row = written(&env, "Signed", Tlp::Clear).await;
        let release = desk.publish_advisory(&actor(&w.manager), &row.id, "Initial public release.").await.unwrap();
        let (stored, content) = env.store.release_content(&row.id, &release.version).await.unwrap();
        let signature = stored.signature.expect("signed");
        assert!(signer.verify(content.as_bytes(), &signature), "the signature covers the stored bytes");
        assert!(!signer.verify(format!("{content} ").as_bytes(), &signature));
    })
    .await;
}
