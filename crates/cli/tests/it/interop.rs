//! Rampart with peers' own tools, installed from the Python package index
//! by `scripts/pyenv` (the test script exports `RAMPART_TEST_PYTHON`):
//! the OASIS `taxii2-client` and `stix2-validator` against `rampart
//! serve`, and federation with medallion, the OASIS TAXII server. Without
//! that environment these tests say so and pass, as the PostgreSQL
//! variants do without `RAMPART_TEST_POSTGRES_URL`.

use crate::support::{Sandbox, Server, TAXII_MEDIA};
use std::path::PathBuf;
use std::process::Command;

fn python() -> Option<PathBuf> {
    match std::env::var_os("RAMPART_TEST_PYTHON") {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            eprintln!("RAMPART_TEST_PYTHON is not set (scripts/test sets it): skipping the interoperability test");
            None
        }
    }
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop").join(name)
}

fn run_python(python: &PathBuf, args: &[&str]) -> String {
    let output = Command::new(python).args(args).output().expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{args:?} failed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    stdout
}

#[test]
fn a_peer_cirt_reads_through_taxii2_client_within_its_tlp() {
    let Some(python) = python() else { return };
    let sandbox = Sandbox::migrated();
    sandbox.add_cirt("KE-CIRT", "KE");
    sandbox.add_cirt("GH-CIRT", "GH");
    sandbox.add_cirt("BR-CIRT", "BR");
    sandbox.add_user("manager@cirt.ke", "KE-CIRT", "cirt_manager");
    sandbox.add_user("analyst@cirt.ke", "KE-CIRT", "cirt_analyst");
    sandbox.add_user("analyst@cirt.gh", "GH-CIRT", "cirt_analyst");
    sandbox.add_user("analyst@cirt.br", "BR-CIRT", "cirt_analyst");
    let collection = sandbox.taxii_collection("manager@cirt.ke", "Shared with Ghana", &["GH-CIRT"], &[]);
    let tokens: Vec<String> =
        [("analyst@cirt.ke", "cirt_analyst"), ("analyst@cirt.gh", "cirt_analyst"), ("analyst@cirt.br", "cirt_analyst")]
            .iter()
            .map(|(email, role)| sandbox.token(email, role))
            .collect();
    let server = Server::start(&sandbox, &[]);
    let base = format!("http://127.0.0.1:{}", server.port);
    let script = script("taxii_client.py");
    let out = run_python(
        &python,
        &[
            script.to_str().expect("path"),
            &base,
            &collection,
            "analyst@cirt.ke",
            &tokens[0],
            "analyst@cirt.gh",
            &tokens[1],
            "analyst@cirt.br",
            &tokens[2],
        ],
    );
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|err| panic!("{err}: {out}"));
    assert_eq!(summary["added"], 10, "{summary}");
    assert_eq!(summary["partner_saw"], 7, "{summary}");
    assert_eq!(summary["valid"], true, "{summary}");
    drop(server);
    sandbox.run(&["audit", "verify"]).ok();
}

/// A running medallion; killed when dropped.
struct Medallion {
    child: std::process::Child,
    port: u16,
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const MEDALLION_USER: &str = "rampart";
const MEDALLION_PASSWORD: &str = "peer-secret-2026";
const MEDALLION_COLLECTION: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
/// Starts medallion with its memory backend and one empty collection.
fn medallion(python: &std::path::Path, sandbox: &Sandbox) -> Medallion {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let data = serde_json::json!({
        "/discovery": {
            "title": "medallion", "description": "a peer", "default": format!("http://127.0.0.1:{port}/api1/"),
            "api_roots": [format!("http://127.0.0.1:{port}/api1/")]
        },
        "api1": {
            "information": {"title": "peer", "versions": [TAXII_MEDIA], "max_content_length": 10_000_000},
            "status": [],
            "collections": [{
                "id": MEDALLION_COLLECTION, "title": "Regional", "can_read": true, "can_write": true,
                "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []
            }]
        }
    });
    std::fs::write(sandbox.path("medallion-data.json"), data.to_string()).expect("data");
    let config = serde_json::json!({
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": sandbox.path("medallion-data.json")},
        "users": {MEDALLION_USER: MEDALLION_PASSWORD},
        "taxii": {"max_page_size": 100}
    });
    std::fs::write(sandbox.path("medallion.json"), config.to_string()).expect("config");
    let log = std::fs::File::create(sandbox.path("medallion.log")).expect("log");
    let child = Command::new(python.parent().expect("bin").join("medallion"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), sandbox.path("medallion.json").to_str().expect("path")])
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start medallion");
    let peer = Medallion { child, port };
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "medallion did not listen: {}",
            std::fs::read_to_string(sandbox.path("medallion.log")).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    peer
}

fn basic() -> String {
    format!("Basic {}", data_encoding::BASE64.encode(format!("{MEDALLION_USER}:{MEDALLION_PASSWORD}").as_bytes()))
}

fn stix_indicator(n: u32, marking: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "indicator", "spec_version": "2.1", "id": format!("indicator--7d3a9c1e-5b2f-4e8a-9c6d-1f0e2a4b6{n:03}"),
        "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-02T00:00:00.000Z", "object_marking_refs": [marking],
        "pattern": format!("[domain-name:value = 'c2-{n}.example']"), "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z"
    })
}

const TLP1_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
const TLP1_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";

#[test]
fn rampart_federates_with_medallion_both_ways() {
    use crate::support::http;
    let Some(python) = python() else { return };
    let sandbox = Sandbox::migrated();
    sandbox.add_cirt("KE-CIRT", "KE");
    sandbox.add_user("manager@cirt.ke", "KE-CIRT", "cirt_manager");
    sandbox.add_user("analyst@cirt.ke", "KE-CIRT", "cirt_analyst");
    sandbox.add_user("federation@cirt.ke", "KE-CIRT", "cirt_analyst");
    let local = sandbox.taxii_collection("manager@cirt.ke", "Regional exchange", &[], &[]);
    let analyst = sandbox.token("analyst@cirt.ke", "cirt_analyst");
    let peer = medallion(&python, &sandbox);

    // The peer holds three indicators; Kenya shares one GREEN and one AMBER.
    let objects: Vec<serde_json::Value> = (1..=3).map(|n| stix_indicator(n, TLP1_GREEN)).collect();
    let path = format!("/api1/collections/{MEDALLION_COLLECTION}/objects/");
    let auth = basic();
    let answer = http(
        peer.port,
        "POST",
        &path,
        &[("Authorization", &auth), ("Accept", TAXII_MEDIA), ("Content-Type", TAXII_MEDIA)],
        Some(&serde_json::json!({ "objects": objects }).to_string()),
    );
    assert_eq!(answer.status, 202, "{}", answer.body);
    {
        let server = Server::start(&sandbox, &[]);
        let bearer = format!("Bearer {analyst}");
        let body = serde_json::json!({"objects": [stix_indicator(11, TLP1_GREEN), stix_indicator(12, TLP1_AMBER)]}).to_string();
        let answer = http(
            server.port,
            "POST",
            &format!("/taxii2/api/collections/{local}/objects/"),
            &[("Authorization", &bearer), ("Accept", TAXII_MEDIA), ("Content-Type", TAXII_MEDIA)],
            Some(&body),
        );
        assert_eq!(answer.status, 202, "{}", answer.body);
    }

    let config = sandbox.path("rampart.toml");
    std::fs::write(
        &config,
        format!(
            "[[intel.peers]]\nname = \"medallion\"\napi_root = \"http://127.0.0.1:{}/api1/\"\nremote_collection = \"{MEDALLION_COLLECTION}\"\n\
             local_collection = \"{local}\"\ndirection = \"both\"\naccount = \"federation@cirt.ke\"\nusername = \"{MEDALLION_USER}\"\n\
             password = \"{MEDALLION_PASSWORD}\"\n",
            peer.port
        ),
    )
    .expect("config");
    let config = config.to_str().expect("path").to_owned();
    let run = sandbox.run(&["--config", &config, "intel", "sync", "--json"]);
    run.ok();
    let report = &run.json()[0];
    assert_eq!((report["pulled"].as_u64(), report["pushed"].as_u64()), (Some(3), Some(1)), "{report}");

    // medallion now holds Kenya's GREEN indicator, not its AMBER one.
    let answer = http(peer.port, "GET", &path, &[("Authorization", &auth), ("Accept", TAXII_MEDIA)], None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let envelope: serde_json::Value = serde_json::from_str(&answer.body).expect("envelope");
    let mut ids: Vec<&str> = envelope["objects"].as_array().expect("objects").iter().filter_map(|o| o["id"].as_str()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        vec![
            "indicator--7d3a9c1e-5b2f-4e8a-9c6d-1f0e2a4b6001",
            "indicator--7d3a9c1e-5b2f-4e8a-9c6d-1f0e2a4b6002",
            "indicator--7d3a9c1e-5b2f-4e8a-9c6d-1f0e2a4b6003",
            "indicator--7d3a9c1e-5b2f-4e8a-9c6d-1f0e2a4b6011",
        ]
    );

    // A second run finds nothing new either way.
    let again = sandbox.run(&["--config", &config, "intel", "sync", "--json"]);
    again.ok();
    assert_eq!((again.json()[0]["pulled"].as_u64(), again.json()[0]["pushed"].as_u64()), (Some(0), Some(0)), "{}", again.stdout);

    // A wrong password is reported as medallion's refusal.
    std::fs::write(sandbox.path("wrong.toml"), std::fs::read_to_string(&config).expect("read").replace(MEDALLION_PASSWORD, "nope"))
        .expect("write");
    let refused = sandbox.run(&["--config", sandbox.path("wrong.toml").to_str().expect("path"), "intel", "sync"]);
    refused.expect_code(1);
    assert!(refused.stderr.contains("HTTP 401"), "{}", refused.stderr);
    sandbox.run(&["audit", "verify"]).ok();
}

/// A MISP event as a peer's MISP exports it: TLP:GREEN overall, one
/// attribute AMBER and one RED, and a type Rampart has no STIX form for.
const MISP_EVENT: &str = r#"{"Event": {
  "uuid": "5f9c2b1e-8d3a-4c6e-9b7f-2a1d0e3c4b5a", "info": "Phishing wave against banks", "date": "2026-11-20",
  "timestamp": "1795000000", "Tag": [{"name": "tlp:green"}, {"name": "rsit:fraud=\"phishing\""}],
  "Attribute": [
    {"uuid": "0b8c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4", "type": "domain", "category": "Network activity", "value": "login-bank.example", "to_ids": true, "timestamp": "1795000000"},
    {"uuid": "1c9d2e3f-4a5b-4c6d-9e7f-8091a2b3c4d5", "type": "ip-dst", "category": "Network activity", "value": "203.0.113.77", "to_ids": true, "timestamp": "1795000000", "Tag": [{"name": "tlp:amber"}]},
    {"uuid": "2d0e3f4a-5b6c-4d7e-8f80-91a2b3c4d5e6", "type": "sha256", "category": "Payload delivery", "value": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "to_ids": false, "timestamp": "1795000000"},
    {"uuid": "3e1f4a5b-6c7d-4e8f-9091-a2b3c4d5e6f7", "type": "url", "category": "Network activity", "value": "https://login-bank.example/verify", "to_ids": true, "timestamp": "1795000000", "Tag": [{"name": "tlp:red"}]},
    {"uuid": "4f2a5b6c-7d8e-4f90-a1b2-c3d4e5f6a7b8", "type": "yara", "category": "Payload installation", "value": "rule x { condition: true }", "to_ids": false, "timestamp": "1795000000"}
  ]}}"#;

#[test]
fn a_peer_cirt_consumes_a_collection_as_a_misp_feed_within_its_tlp() {
    let Some(python) = python() else { return };
    let sandbox = Sandbox::migrated();
    sandbox.add_cirt("KE-CIRT", "KE");
    sandbox.add_cirt("GH-CIRT", "GH");
    sandbox.add_cirt("BR-CIRT", "BR");
    sandbox.add_user("manager@cirt.ke", "KE-CIRT", "cirt_manager");
    sandbox.add_user("analyst@cirt.ke", "KE-CIRT", "cirt_analyst");
    sandbox.add_user("analyst@cirt.gh", "GH-CIRT", "cirt_analyst");
    sandbox.add_user("analyst@cirt.br", "BR-CIRT", "cirt_analyst");
    let collection = sandbox.taxii_collection("manager@cirt.ke", "Banking threats", &["GH-CIRT"], &[]);

    // The analyst imports the MISP event; the YARA rule is left out by name.
    std::fs::write(sandbox.path("event.json"), MISP_EVENT).expect("event");
    let import = sandbox.run(&["intel", "misp-import", "--as", "analyst@cirt.ke", "--collection", &collection, "event.json", "--json"]);
    import.ok();
    let result = &import.json()[0];
    assert_eq!(result["status"]["failure_count"], 0, "{result}");
    assert!(result["warnings"].to_string().contains("yara"), "{result}");
    // A broken event is refused by its path, and nothing is added.
    std::fs::write(sandbox.path("broken.json"), r#"{"Event": {"info": "x", "uuid": "not-a-uuid"}}"#).expect("write");
    let broken = sandbox.run(&["intel", "misp-import", "--as", "analyst@cirt.ke", "--collection", &collection, "broken.json"]);
    broken.expect_code(7);
    assert!(broken.stderr.contains("broken.json") && broken.stderr.contains("uuid"), "{}", broken.stderr);

    let partner = sandbox.token("analyst@cirt.gh", "cirt_analyst");
    let outsider = sandbox.token("analyst@cirt.br", "cirt_analyst");
    let server = Server::start(&sandbox, &[]);
    let base = format!("http://127.0.0.1:{}", server.port);
    let script = script("misp_feed.py");
    let out = run_python(&python, &[script.to_str().expect("path"), &base, &collection, &partner]);
    let got: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|err| panic!("{err}: {out}"));
    // Ghana reads the event back with its GREEN and AMBER attributes; the RED one never leaves.
    assert_eq!(
        got,
        serde_json::json!({"events": [{
            "info": "Phishing wave against banks",
            "tags": ["rsit:fraud=\"phishing\"", "tlp:amber"],
            "attributes": [
                "domain login-bank.example True tlp:green",
                "ip-dst 203.0.113.77 True tlp:amber",
                "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 False tlp:green",
            ],
        }]}),
    );
    // Brazil is no reader; without a token there is no feed at all.
    let outsider_answer = crate::support::http(
        server.port,
        "GET",
        &format!("/misp/feeds/{collection}/manifest.json"),
        &[("Authorization", &format!("Bearer {outsider}"))],
        None,
    );
    assert_eq!(outsider_answer.status, 404, "{}", outsider_answer.body);
    let anonymous = crate::support::http(server.port, "GET", &format!("/misp/feeds/{collection}/manifest.json"), &[], None);
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    drop(server);

    // The same feed written to a folder at TLP:GREEN at most, for a static web server.
    sandbox.run(&["intel", "misp-feed", "--as", "analyst@cirt.ke", "--collection", &collection, "--out", "feed"]).ok();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sandbox.path("feed/manifest.json")).expect("manifest")).expect("json");
    let uuid = "5f9c2b1e-8d3a-4c6e-9b7f-2a1d0e3c4b5a";
    assert_eq!(manifest[uuid]["info"], "Phishing wave against banks", "{manifest}");
    let event = std::fs::read_to_string(sandbox.path(&format!("feed/{uuid}.json"))).expect("event file");
    assert!(event.contains("login-bank.example") && !event.contains("203.0.113.77") && !event.contains("verify"), "{event}");
    assert_eq!(std::fs::read_to_string(sandbox.path("feed/hashes.csv")).expect("hashes").lines().count(), 2);
    sandbox.run(&["audit", "verify"]).ok();
}
