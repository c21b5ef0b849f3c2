//! Two Rampart instances federate over loopback. A regional hub keeps an
//! exchange collection for Kenya; Kenya's national instance pulls it into
//! a local collection and pushes its own shared collection back, once from
//! `rampart intel sync` and then on the schedule `serve` keeps. Only what
//! the peer's TLP ceiling allows leaves Kenya, nothing pulled is offered
//! back, and a second run fetches and sends nothing new.

use crate::support::{HttpResponse, Sandbox, Server, TAXII_MEDIA, http};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
const CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";

fn indicator(n: u32, modified: &str, marking: &str) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": format!("indicator--4f1c3e0a-2b7d-4c8e-9a6f-0d5e7b3c1{n:03}"),
        "created": "2026-11-01T00:00:00.000Z", "modified": modified, "object_marking_refs": [marking],
        "pattern": format!("[ipv4-addr:value = '203.0.113.{n}']"), "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z"
    })
}

fn post(port: u16, token: &str, collection: &str, objects: &[Value]) {
    let body = json!({ "objects": objects }).to_string();
    let auth = format!("Bearer {token}");
    let headers = [("Authorization", auth.as_str()), ("Accept", TAXII_MEDIA), ("Content-Type", TAXII_MEDIA)];
    let answer = http(port, "POST", &format!("/taxii2/api/collections/{collection}/objects/"), &headers, Some(&body));
    assert_eq!(answer.status, 202, "{}", answer.body);
    let status: Value = serde_json::from_str(&answer.body).expect("status");
    assert_eq!(status["success_count"], objects.len(), "{status}");
}

/// Every version in a collection, as `id@version`, sorted.
fn versions(port: u16, token: &str, collection: &str) -> Vec<String> {
    let auth = format!("Bearer {token}");
    let answer: HttpResponse = http(
        port,
        "GET",
        &format!("/taxii2/api/collections/{collection}/objects/?match[version]=all&limit=1000"),
        &[("Authorization", auth.as_str()), ("Accept", TAXII_MEDIA)],
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let envelope: Value = serde_json::from_str(&answer.body).expect("envelope");
    let mut found: Vec<String> = envelope["objects"]
        .as_array()
        .map(|objects| {
            objects.iter().map(|o| format!("{}@{}", o["id"].as_str().unwrap_or(""), o["modified"].as_str().unwrap_or(""))).collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

fn label(n: u32, modified: &str) -> String {
    format!("indicator--4f1c3e0a-2b7d-4c8e-9a6f-0d5e7b3c1{n:03}@{modified}")
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(30), "{what} did not happen within 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn two_instances_exchange_objects_both_ways_within_the_tlp_ceiling() {
    // The regional hub: KE-CIRT is a member with an account for Kenya's instance.
    let hub = Sandbox::migrated();
    hub.add_cirt("EA-Hub", "TZ");
    hub.add_cirt("KE-CIRT", "KE");
    hub.add_user("manager@hub.example", "EA-Hub", "cirt_manager");
    hub.add_user("kenya-peer@hub.example", "KE-CIRT", "cirt_analyst");
    let exchange = hub.taxii_collection("manager@hub.example", "Kenya exchange", &["KE-CIRT"], &["KE-CIRT"]);
    let hub_manager = hub.token("manager@hub.example", "cirt_manager");
    let kenya_at_hub = hub.token("kenya-peer@hub.example", "cirt_analyst");

    // Kenya: an analyst, and the account whose rights the exchange uses.
    let kenya = Sandbox::migrated();
    kenya.add_cirt("KE-CIRT", "KE");
    kenya.add_user("manager@cirt.ke", "KE-CIRT", "cirt_manager");
    kenya.add_user("analyst@cirt.ke", "KE-CIRT", "cirt_analyst");
    kenya.add_user("federation@cirt.ke", "KE-CIRT", "cirt_analyst");
    let shared = kenya.taxii_collection("manager@cirt.ke", "Regional exchange", &[], &[]);
    let analyst = kenya.token("analyst@cirt.ke", "cirt_analyst");

    // The hub publishes two versions of one indicator and another one.
    let hub_server = Server::start(&hub, &[]);
    post(
        hub_server.port,
        &hub_manager,
        &exchange,
        &[
            indicator(1, "2026-11-02T00:00:00.000Z", GREEN),
            indicator(1, "2026-11-03T00:00:00.000Z", GREEN),
            indicator(2, "2026-11-02T00:00:00.000Z", CLEAR),
        ],
    );
    // Kenya shares one indicator at each TLP.
    {
        let kenya_server = Server::start(&kenya, &[]);
        post(
            kenya_server.port,
            &analyst,
            &shared,
            &[
                indicator(11, "2026-11-04T00:00:00.000Z", CLEAR),
                indicator(12, "2026-11-04T00:00:00.000Z", GREEN),
                indicator(13, "2026-11-04T00:00:00.000Z", AMBER),
                indicator(14, "2026-11-04T00:00:00.000Z", RED),
            ],
        );
    }

    let config = kenya.path("kenya.toml");
    std::fs::write(
        &config,
        format!(
            "[[intel.peers]]\nname = \"ea-hub\"\napi_root = \"http://127.0.0.1:{}/taxii2/api/\"\nremote_collection = \"{exchange}\"\n\
             local_collection = \"{shared}\"\ndirection = \"both\"\naccount = \"federation@cirt.ke\"\ntoken = \"{kenya_at_hub}\"\n\
             max_tlp = \"GREEN\"\ninterval_seconds = 1\n",
            hub_server.port
        ),
    )
    .expect("config");
    let config = config.to_str().expect("path").to_owned();

    // One exchange from the command line: three versions come in; CLEAR
    // and GREEN go out, AMBER and RED stay, and nothing pulled goes back.
    let run = kenya.run(&["--config", &config, "intel", "sync", "--json"]);
    run.ok();
    let report = &run.json()[0];
    assert_eq!((report["pulled"].as_u64(), report["pushed"].as_u64()), (Some(3), Some(2)), "{report}");
    assert_eq!(report["failures"], json!([]), "{report}");
    assert_eq!(
        versions(hub_server.port, &hub_manager, &exchange),
        vec![
            label(1, "2026-11-02T00:00:00.000Z"),
            label(1, "2026-11-03T00:00:00.000Z"),
            label(2, "2026-11-02T00:00:00.000Z"),
            label(11, "2026-11-04T00:00:00.000Z"),
            label(12, "2026-11-04T00:00:00.000Z"),
        ]
    );

    // Nothing new: nothing is fetched or sent again.
    let again = kenya.run(&["--config", &config, "intel", "sync", "--json"]);
    again.ok();
    assert_eq!((again.json()[0]["pulled"].as_u64(), again.json()[0]["pushed"].as_u64()), (Some(0), Some(0)), "{}", again.stdout);

    // A configuration that would let AMBER+STRICT out is refused by name.
    let strict = kenya.path("strict.toml");
    std::fs::write(&strict, std::fs::read_to_string(&config).expect("config").replace("\"GREEN\"", "\"AMBER+STRICT\"")).expect("write");
    let refused = kenya.run(&["--config", strict.to_str().expect("path"), "intel", "peers"]);
    refused.expect_code(3);
    assert!(refused.stderr.contains("intel.peers[0].max_tlp"), "{}", refused.stderr);

    // Served with the schedule: each side's new object reaches the other.
    let kenya_server = Server::start(&kenya, &["--config", &config]);
    post(hub_server.port, &hub_manager, &exchange, &[indicator(3, "2026-11-05T00:00:00.000Z", GREEN)]);
    post(kenya_server.port, &analyst, &shared, &[indicator(15, "2026-11-05T00:00:00.000Z", GREEN)]);
    wait_for("the hub's new indicator reaching Kenya", || {
        versions(kenya_server.port, &analyst, &shared).contains(&label(3, "2026-11-05T00:00:00.000Z"))
    });
    wait_for("Kenya's new indicator reaching the hub", || {
        versions(hub_server.port, &hub_manager, &exchange).contains(&label(15, "2026-11-05T00:00:00.000Z"))
    });
    let kenya_side = versions(kenya_server.port, &analyst, &shared);
    // TLP:RED is never served over TAXII, even to its own CIRT.
    assert_eq!(kenya_side.len(), 3 + 3 + 2, "{kenya_side:?}");
    let hub_side = versions(hub_server.port, &hub_manager, &exchange);
    assert_eq!(hub_side.len(), 3 + 2 + 2, "{hub_side:?}");
    drop(kenya_server);

    let peers = kenya.run(&["--config", &config, "intel", "peers", "--json"]);
    peers.ok();
    let state = &peers.json()[0]["state"];
    assert_eq!((state["pulled_total"].as_i64(), state["pushed_total"].as_i64()), (Some(4), Some(3)), "{state}");
    assert_eq!(state["last_error"], Value::Null, "{state}");
    kenya.run(&["audit", "verify"]).ok();
    drop(hub_server);
    hub.run(&["audit", "verify"]).ok();
}

#[test]
fn an_unreachable_peer_is_reported_and_recorded() {
    let kenya = Sandbox::migrated();
    kenya.add_cirt("KE-CIRT", "KE");
    kenya.add_user("manager@cirt.ke", "KE-CIRT", "cirt_manager");
    kenya.add_user("federation@cirt.ke", "KE-CIRT", "cirt_analyst");
    let shared = kenya.taxii_collection("manager@cirt.ke", "Regional exchange", &[], &[]);
    // A port nothing listens on: bind one, note it, let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let config = kenya.path("kenya.toml");
    std::fs::write(
        &config,
        format!(
            "[[intel.peers]]\nname = \"gone\"\napi_root = \"http://127.0.0.1:{port}/taxii2/api/\"\nremote_collection = \"x\"\n\
             local_collection = \"{shared}\"\ndirection = \"pull\"\naccount = \"federation@cirt.ke\"\n"
        ),
    )
    .expect("config");
    let config = config.to_str().expect("path");
    let run = kenya.run(&["--config", config, "intel", "sync"]);
    run.expect_code(1);
    assert!(run.stderr.contains("gone: http://127.0.0.1:") && run.stderr.contains("cannot reach the peer"), "{}", run.stderr);
    let peers = kenya.run(&["--config", config, "intel", "peers", "--json"]);
    assert!(peers.json()[0]["state"]["last_error"].as_str().unwrap_or("").contains("cannot reach the peer"), "{}", peers.stdout);

    // A peer over plain HTTP anywhere but loopback is refused before any request.
    std::fs::write(kenya.path("bad.toml"), std::fs::read_to_string(config).expect("read").replace("127.0.0.1", "192.0.2.1"))
        .expect("write");
    let refused = kenya.run(&["--config", kenya.path("bad.toml").to_str().expect("path"), "intel", "peers"]);
    refused.expect_code(3);
    assert!(refused.stderr.contains("intel.peers[0].api_root") && refused.stderr.contains("https"), "{}", refused.stderr);
}
