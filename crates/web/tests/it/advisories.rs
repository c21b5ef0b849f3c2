//! CSAF 2.0 advisories through the real router: writing and publishing over
//! the REST API, what publishing refuses, importing a document unchanged,
//! who reads which release (the API, the CSAF provider layout and the HTML
//! pages), CSRF on the editor's forms, and the OpenAPI document.
//!
//! The scenarios that touch the store run on SQLite and, when
//! `RAMPART_TEST_POSTGRES_URL` is set, on PostgreSQL.

use crate::support::{World, body_json, body_text};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use rampart_core::Role;
use serde_json::{Value, json};
use sha2::Digest;

const XSS_V3: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N";
const RCE_V4: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
/// What `rampart serve` answers as when no public URL is configured.
const BASE: &str = "http://localhost:8080";

fn not_found(entity: &str) -> Value {
    json!({"error": {"code": "not_found", "message": format!("{entity} not found"), "field": null}})
}

fn forbidden() -> Value {
    json!({"error": {"code": "forbidden", "message": "you do not have permission to do this", "field": null}})
}

fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(bytes))
}

fn sha512_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&sha2::Sha512::digest(bytes))
}

/// A new organisation (none of them a CIRT) of `country`, under `parent`.
async fn add_org(w: &World, name: &str, country: &str, parent: Option<&str>) -> String {
    w.add_org(name, "isp", country, parent).await
}

/// A user of `org_id` holding `role` over it; returns an API token of theirs.
async fn add_user(w: &World, org_id: &str, email: &str, role: Role) -> String {
    w.add_user(org_id, email, role).await;
    w.token_for(email).await
}

/// A KE-CIRT manager (AdvisoryWrite + AdvisoryPublish); their token.
async fn ke_manager(w: &World) -> String {
    add_user(w, &w.kenya_cirt.clone(), "manager@ke.example", Role::CirtManager).await
}

/// Starts a KE-CIRT draft as `token`; its summary as the API returns it.
async fn create(w: &World, token: &str, title: &str, tlp: &str) -> Value {
    let body = json!({"title": title, "tlp": tlp, "summary": format!("{title}: what to do about it.")});
    let (status, created) = w.send_json("POST", "/api/v1/advisories", Some(token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

/// A draft that passes every CSAF check: one product, one vulnerability.
async fn publishable(w: &World, token: &str, title: &str, tlp: &str) -> Value {
    let created = create(w, token, title, tlp).await;
    let path = format!("/api/v1/advisories/{}", id_of(&created));
    let (status, product) = w
        .send_json("POST", &format!("{path}/products"), Some(token), json!({"vendor": "Example", "product": "Portal", "version": "4.2"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{product}");
    let vulnerability = json!({"title": format!("{title} flaw"), "description": "Input is echoed.", "cvss_v3": XSS_V3, "known_affected": [product["product_id"]]});
    let (status, body) = w.send_json("POST", &format!("{path}/vulnerabilities"), Some(token), vulnerability).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    created
}

/// Publishes an advisory as `manager`; the release.
async fn publish(w: &World, manager: &str, id: &str, summary: &str) -> Value {
    let (status, release) =
        w.send_json("POST", &format!("/api/v1/advisories/{id}/publish"), Some(manager), json!({"summary": summary})).await;
    assert_eq!(status, StatusCode::CREATED, "{release}");
    release
}

/// A GET with an optional `Authorization` value: status, headers and the
/// exact bytes of the body.
async fn fetch(w: &World, path: &str, authorization: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut builder = Request::get(path);
    if let Some(value) = authorization {
        builder = builder.header(header::AUTHORIZATION, value);
    }
    let (status, response) = w.call(builder.body(Body::empty()).expect("request")).await;
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    (status, headers, bytes)
}

async fn fetch_text(w: &World, path: &str, authorization: Option<&str>) -> (StatusCode, String) {
    let (status, _, bytes) = fetch(w, path, authorization).await;
    (status, String::from_utf8(bytes).expect("UTF-8"))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// HTTP Basic as a CSAF downloader sends it: any user name, the token as password.
fn basic(user: &str, token: &str) -> String {
    format!("Basic {}", data_encoding::BASE64.encode(format!("{user}:{token}").as_bytes()))
}

fn content_type(headers: &HeaderMap) -> &str {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The `test` of every problem in a list of CSAF problems.
fn problem_tests(problems: &Value) -> Vec<String> {
    problems.as_array().expect("problems").iter().map(|p| p["test"].as_str().expect("test").to_owned()).collect()
}

// ----- 1. writing and publishing ------------------------------------------------------

async fn an_advisory_is_written_and_published_in_versions(w: &World) {
    let analyst = w.token_for("analyst@ke.example").await;
    let manager = ke_manager(w).await;

    let created = create(w, &analyst, "Stored XSS in Example Portal", "GREEN").await;
    let id = id_of(&created);
    let year = created["updated_at"].as_str().expect("updated_at")[..4].to_owned();
    let tracking_id = format!("KE-CIRT-{year}-0001");
    assert_eq!(created["tracking_id"], tracking_id.as_str(), "{created}");
    assert_eq!(created["org_id"], w.kenya_cirt.as_str());
    assert_eq!(
        (created["title"].as_str(), created["tlp"].as_str(), created["status"].as_str(), created["version"].as_str()),
        (Some("Stored XSS in Example Portal"), Some("GREEN"), Some("draft"), Some("1"))
    );
    assert_eq!(created["released_version"], Value::Null);
    let path = format!("/api/v1/advisories/{id}");

    // Two product versions, numbered in the tree.
    for (version, expected) in [("4.2", "CSAFPID-0001"), ("4.3", "CSAFPID-0002")] {
        let (status, product) = w
            .send_json(
                "POST",
                &format!("{path}/products"),
                Some(&analyst),
                json!({"vendor": "Example", "product": "Portal", "version": version}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{product}");
        assert_eq!(product, json!({"product_id": expected}));
    }
    // The same version twice is refused.
    let (status, body) = w
        .send_json("POST", &format!("{path}/products"), Some(&analyst), json!({"vendor": "Example", "product": "Portal", "version": "4.2"}))
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("version")), "{body}");

    // A vulnerability with both CVSS versions and a CWE by number.
    let vulnerability = json!({
        "title": "XSS in search", "description": "Search echoes its input.", "cve": "cve-2026-1111", "cwe": "79",
        "cvss_v3": XSS_V3, "cvss_v4": RCE_V4, "known_affected": ["CSAFPID-0001"], "fixed": ["CSAFPID-0002"],
        "remediation": {"category": "vendor_fix", "details": "Upgrade to 4.3.", "url": "https://example.com/portal/4.3"},
    });
    let (status, added) = w.send_json("POST", &format!("{path}/vulnerabilities"), Some(&analyst), vulnerability).await;
    assert_eq!((status, added), (StatusCode::CREATED, json!({"index": 0})));

    let (status, view) = w.get_json(&path, Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["problems"], json!([]), "{view}");
    assert_eq!((view["may_edit"].as_bool(), view["may_publish"].as_bool()), (Some(true), Some(false)));
    assert_eq!(view["unpublished_changes"], true);
    assert_eq!(view["releases"], json!([]));
    let vuln = &view["document"]["vulnerabilities"][0];
    assert_eq!(vuln["cve"], "CVE-2026-1111", "upper-cased");
    assert_eq!(vuln["cwe"]["id"], "CWE-79");
    assert!(vuln["cwe"]["name"].as_str().is_some_and(|n| n.contains("Cross-site Scripting")), "{vuln}");
    assert_eq!(vuln["product_status"], json!({"known_affected": ["CSAFPID-0001"], "fixed": ["CSAFPID-0002"]}));
    let score = &vuln["scores"][0];
    assert_eq!(score["products"], json!(["CSAFPID-0001"]));
    assert_eq!(
        (score["cvss_v3"]["vectorString"].as_str(), score["cvss_v3"]["baseScore"].as_f64(), score["cvss_v3"]["baseSeverity"].as_str()),
        (Some(XSS_V3), Some(6.1), Some("MEDIUM"))
    );
    assert_eq!(
        (score["cvss_v4"]["vectorString"].as_str(), score["cvss_v4"]["baseScore"].as_f64(), score["cvss_v4"]["baseSeverity"].as_str()),
        (Some(RCE_V4), Some(9.3), Some("CRITICAL"))
    );
    assert_eq!(view["digest"]["max_score"], 9.3);
    assert_eq!(view["digest"]["cves"], json!(["CVE-2026-1111"]));

    // The manager may publish; the analyst may not, and nothing is published.
    let (_, as_manager) = w.get_json(&path, Some(&manager)).await;
    assert_eq!(as_manager["may_publish"], true);
    let (status, body) = w.send_json("POST", &format!("{path}/publish"), Some(&analyst), json!({"summary": "Initial release."})).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden()));
    let (_, view) = w.get_json(&path, Some(&analyst)).await;
    assert_eq!(view["releases"], json!([]));
    assert_eq!(view["document"]["document"]["tracking"]["status"], "draft");

    let release = publish(w, &manager, &id, "Initial release.").await;
    let file_name = format!("ke-cirt-{year}-0001.json");
    assert_eq!(release["advisory_id"], id.as_str());
    assert_eq!(release["version"], "1", "{release}");
    assert_eq!(release["tlp"], "GREEN");
    assert_eq!(release["file_name"], file_name.as_str());
    assert_eq!(release["year"].as_i64().map(|y| y.to_string()), Some(year.clone()));
    assert_eq!(release["released_by"], "manager@ke.example", "the author's own view names who published");
    let sha256 = release["sha256"].as_str().expect("sha256").to_owned();
    assert_eq!(sha256.len(), 64);
    assert!(sha256.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{sha256}");
    assert_eq!(release["sha512"].as_str().map(str::len), Some(128));

    // The release, byte for byte.
    let (status, headers, first_bytes) = fetch(w, &format!("{path}/releases/1"), Some(&bearer(&analyst))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type(&headers).starts_with("application/json"), "{headers:?}");
    assert_eq!(sha256_hex(&first_bytes), sha256);
    assert_eq!(sha512_hex(&first_bytes), release["sha512"].as_str().unwrap_or(""));
    let released: Value = serde_json::from_slice(&first_bytes).expect("JSON");
    let tracking = &released["document"]["tracking"];
    assert_eq!((tracking["status"].as_str(), tracking["version"].as_str()), (Some("final"), Some("1")));
    assert_eq!(tracking["revision_history"].as_array().map(Vec::len), Some(1), "the draft's entry is replaced: {tracking}");
    assert_eq!(tracking["revision_history"][0]["summary"], "Initial release.");
    assert_eq!(tracking["current_release_date"], release["released_at"]);
    assert_eq!(tracking["initial_release_date"], release["released_at"]);
    assert_eq!(rampart_cirt::csaf::check(&released).len(), 0, "what is published is valid CSAF");

    let (_, view) = w.get_json(&path, Some(&analyst)).await;
    assert_eq!(view["unpublished_changes"], false, "{view}");
    assert_eq!(view["releases"].as_array().map(Vec::len), Some(1));
    assert_eq!(view["document"], released, "the working copy is now the release");

    // Edit the working copy, then publish it as version 2.
    let (status, edited) = w
        .send_json(
            "PUT",
            &format!("{path}/general"),
            Some(&analyst),
            json!({"title": "Stored XSS in Example Portal search", "tlp": "GREEN", "summary": "Upgrade the portal to 4.3."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["title"], "Stored XSS in Example Portal search");
    assert_eq!(edited["released_version"], "1");
    let (_, view) = w.get_json(&path, Some(&analyst)).await;
    assert_eq!(view["unpublished_changes"], true);
    assert_eq!(view["problems"], json!([]), "{view}");
    let second = publish(w, &manager, &id, "Title names the search.").await;
    assert_eq!(second["version"], "2", "{second}");
    assert_eq!(second["file_name"], file_name.as_str(), "the file keeps its name");
    assert_ne!(second["sha256"], sha256.as_str());

    let (status, _, second_bytes) = fetch(w, &format!("{path}/releases/2"), Some(&bearer(&analyst))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sha256_hex(&second_bytes), second["sha256"].as_str().unwrap_or(""));
    let released: Value = serde_json::from_slice(&second_bytes).expect("JSON");
    assert_eq!(released["document"]["title"], "Stored XSS in Example Portal search");
    let history: Vec<&str> = released["document"]["tracking"]["revision_history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|r| r["number"].as_str())
        .collect();
    assert_eq!(history, ["1", "2"]);
    assert_eq!(released["document"]["tracking"]["initial_release_date"], release["released_at"], "the first release date stays");
    // Version 1 is still served exactly as published.
    let (status, _, again) = fetch(w, &format!("{path}/releases/1"), Some(&bearer(&analyst))).await;
    assert_eq!((status, sha256_hex(&again)), (StatusCode::OK, sha256.clone()));
    let (status, body) = w.get_json(&format!("{path}/releases/3"), Some(&analyst)).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found("advisory release")));

    let (status, list) = w.get_json("/api/v1/advisories", Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(
        (items[0]["tracking_id"].as_str(), items[0]["released_version"].as_str(), items[0]["status"].as_str()),
        (Some(tracking_id.as_str()), Some("2"), Some("final"))
    );

    // The next draft takes the next number.
    let next = create(w, &analyst, "Another", "CLEAR").await;
    assert_eq!(next["tracking_id"], format!("KE-CIRT-{year}-0002"));
}

#[tokio::test]
async fn an_advisory_is_written_and_published_in_versions_on_sqlite() {
    an_advisory_is_written_and_published_in_versions(&World::new().await).await;
}

#[tokio::test]
async fn an_advisory_is_written_and_published_in_versions_on_postgres_when_configured() {
    an_advisory_is_written_and_published_in_versions(&World::on_postgres_if_configured().await).await;
}

// ----- 2. what is refused ---------------------------------------------------------------

async fn invalid_advisories_and_input_are_refused(w: &World) {
    let analyst = w.token_for("analyst@ke.example").await;
    let manager = ke_manager(w).await;
    let created = create(w, &analyst, "Nothing yet", "CLEAR").await;
    let id = id_of(&created);
    let path = format!("/api/v1/advisories/{id}");

    // A draft without vulnerabilities is no security advisory (6.1.27.x).
    let (status, body) = w.send_json("POST", &format!("{path}/publish"), Some(&manager), json!({"summary": "First."})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_document", "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.starts_with("the document is not valid CSAF 2.0")), "{body}");
    let tests = problem_tests(&body["error"]["problems"]);
    assert!(!tests.is_empty());
    assert!(tests.iter().any(|t| t.starts_with("6.1.27")), "{tests:?}");
    for problem in body["error"]["problems"].as_array().expect("problems") {
        assert!(problem["path"].is_string() && problem["message"].as_str().is_some_and(|m| !m.is_empty()), "{problem}");
    }
    // The same problems are shown to the authors beforehand.
    let (_, view) = w.get_json(&path, Some(&analyst)).await;
    assert!(problem_tests(&view["problems"]).iter().any(|t| t.starts_with("6.1.27")), "{view}");
    // Nothing was published.
    assert_eq!(view["releases"], json!([]));
    assert_eq!(view["document"]["document"]["tracking"]["status"], "draft");
    let (status, _) = w.get_json(&format!("{path}/releases/1"), Some(&analyst)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, product) = w
        .send_json("POST", &format!("{path}/products"), Some(&analyst), json!({"vendor": "Example", "product": "Router", "version": "1.0"}))
        .await;
    assert_eq!((status, product["product_id"].as_str()), (StatusCode::CREATED, Some("CSAFPID-0001")));

    // Bad vulnerability input names its field and changes nothing.
    let vulnerabilities = format!("{path}/vulnerabilities");
    let valid = json!({"title": "Overflow", "description": "A long name overflows.", "known_affected": ["CSAFPID-0001"]});
    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let cases = [
        ("cvss_v3", with("cvss_v3", json!("CVSS:3.1/AV:N"))),
        ("cvss_v3", with("cvss_v3", json!(RCE_V4))),
        ("cvss_v4", with("cvss_v4", json!(XSS_V3))),
        ("known_affected", with("known_affected", json!(["CSAFPID-0009"]))),
        ("known_affected", with("known_affected", json!([]))),
        ("fixed", with("fixed", json!(["CSAFPID-0001"]))),
        ("cve", with("cve", json!("CVE-26-1"))),
        ("cwe", with("cwe", json!("CWE-99999999"))),
        ("title", with("title", json!("  "))),
        ("description", with("description", json!(""))),
        ("remediation.category", with("remediation", json!({"category": "pray", "details": "x"}))),
        ("known_affected", json!({"title": "Overflow", "description": "A long name overflows."})),
    ];
    for (field, body) in cases {
        let (status, answer) = w.send_json("POST", &vulnerabilities, Some(&analyst), body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {answer}");
        assert_eq!(answer["error"]["code"], "invalid", "{body} → {answer}");
        assert_eq!(answer["error"]["field"], field, "{body} → {answer}");
    }
    // Malformed JSON is the body's fault, wherever it is sent.
    let malformed = [
        ("POST", "/api/v1/advisories".to_owned()),
        ("POST", vulnerabilities.clone()),
        ("POST", format!("{path}/products")),
        ("PUT", format!("{path}/general")),
        ("POST", format!("{path}/publish")),
    ];
    for (method, uri) in &malformed {
        let request = Request::builder()
            .method(*method)
            .uri(uri)
            .header(header::AUTHORIZATION, bearer(&analyst))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"title": "x", "#))
            .expect("request");
        let (status, response) = w.call(request).await;
        let answer = body_json(response).await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("body")),
            "{method} {uri}: {answer}"
        );
    }
    let (_, view) = w.get_json(&path, Some(&analyst)).await;
    assert_eq!(view["document"].get("vulnerabilities"), None, "no refused vulnerability was added: {view}");
    assert_eq!(view["document"]["document"]["title"], "Nothing yet");

    // Creation and general data are validated too.
    let (status, body) =
        w.send_json("POST", "/api/v1/advisories", Some(&analyst), json!({"title": " ", "tlp": "CLEAR", "summary": "s"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("title")), "{body}");
    let (status, body) = w.send_json("POST", "/api/v1/advisories", Some(&analyst), json!({"title": "t", "tlp": "CLEAR"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("summary")), "{body}");
    let (status, body) = w
        .send_json(
            "PUT",
            &format!("{path}/general"),
            Some(&analyst),
            json!({"title": "t", "tlp": "CLEAR", "summary": "s", "references": [{"url": "javascript:alert(1)", "summary": "x"}]}),
        )
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("references[0].url")), "{body}");

    // A valid vulnerability makes it publishable; an empty revision summary does not.
    let (status, _) = w.send_json("POST", &vulnerabilities, Some(&analyst), with("cvss_v3", json!(XSS_V3))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = w.send_json("POST", &format!("{path}/publish"), Some(&manager), json!({"summary": "  "})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_document")), "{body}");
    assert_eq!(problem_tests(&body["error"]["problems"]), ["input"]);
    let (status, body) = w.send_json("POST", &format!("{path}/publish"), Some(&manager), json!({})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("summary")), "{body}");
    // A product a vulnerability uses cannot be removed.
    let request = Request::delete(format!("{path}/products/CSAFPID-0001"))
        .header(header::AUTHORIZATION, bearer(&analyst))
        .body(Body::empty())
        .expect("request");
    let (status, response) = w.call(request).await;
    assert_eq!((status, body_json(response).await["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("product_id")));
    // An unused product is removed once; positions of vulnerabilities are checked.
    let (status, product) = w
        .send_json("POST", &format!("{path}/products"), Some(&analyst), json!({"vendor": "Example", "product": "Router", "version": "2.0"}))
        .await;
    assert_eq!((status, product["product_id"].as_str()), (StatusCode::CREATED, Some("CSAFPID-0002")));
    let delete = |uri: String| {
        let token = analyst.clone();
        async move {
            let request = Request::delete(uri).header(header::AUTHORIZATION, bearer(&token)).body(Body::empty()).expect("request");
            let (status, response) = w.call(request).await;
            (status, body_json(response).await)
        }
    };
    let (status, _) = delete(format!("{path}/products/CSAFPID-0002")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = delete(format!("{path}/products/CSAFPID-0002")).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("product_id")), "{body}");
    let (status, body) = delete(format!("{path}/vulnerabilities/7")).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("vulnerability")), "{body}");
    let (status, body) = delete(format!("{path}/vulnerabilities/first")).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("index")), "{body}");
    let (_, view) = w.get_json(&path, Some(&analyst)).await;
    let products: Vec<&str> = view["document"]["product_tree"]["branches"][0]["branches"][0]["branches"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|b| b["product"]["product_id"].as_str())
        .collect();
    assert_eq!(products, ["CSAFPID-0001"], "{view}");
    assert_eq!(view["document"]["vulnerabilities"].as_array().map(Vec::len), Some(1));

    let release = publish(w, &manager, &id, "First.").await;
    assert_eq!(release["version"], "1");
}

#[tokio::test]
async fn invalid_advisories_and_input_are_refused_on_sqlite() {
    invalid_advisories_and_input_are_refused(&World::new().await).await;
}

#[tokio::test]
async fn invalid_advisories_and_input_are_refused_on_postgres_when_configured() {
    invalid_advisories_and_input_are_refused(&World::on_postgres_if_configured().await).await;
}

// ----- 3. import --------------------------------------------------------------------------

fn rhsa() -> String {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/csaf2.0/csaf_2.0/examples/csaf/rhsa-2019_1862.json");
    std::fs::read_to_string(path).expect("corpus")
}

async fn import(w: &World, token: &str, query: &str, body: String) -> (StatusCode, Value) {
    let request = Request::post(format!("/api/v1/advisories/import{query}"))
        .header(header::AUTHORIZATION, bearer(token))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request");
    let (status, response) = w.call(request).await;
    (status, body_json(response).await)
}

async fn a_csaf_document_is_imported_unchanged(w: &World) {
    let analyst = w.token_for("analyst@ke.example").await;
    let original = rhsa();
    let parsed: Value = serde_json::from_str(&original).expect("JSON");

    let (status, imported) = import(w, &analyst, "", original.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!(imported["tracking_id"], "RHSA-2019:1862");
    assert_eq!(imported["tlp"], "CLEAR", "CSAF's WHITE is TLP:CLEAR");
    assert_eq!(imported["title"], parsed["document"]["title"]);
    assert_eq!(imported["org_id"], w.kenya_cirt.as_str());
    assert_eq!(imported["released_version"], Value::Null, "imported as a draft");
    let id = id_of(&imported);
    let (status, document) = w.get_json(&format!("/api/v1/advisories/{id}/document"), Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document, parsed, "round trip");
    let (_, view) = w.get_json(&format!("/api/v1/advisories/{id}"), Some(&analyst)).await;
    assert_eq!(view["document"], parsed);

    // The JSON editor's replacement keeps the tracking id and a TLP label.
    let document_path = format!("/api/v1/advisories/{id}/document");
    let mut renamed = parsed.clone();
    renamed["document"]["tracking"]["id"] = json!("RHSA-2019:9999");
    let (status, body) = w.send_json("PUT", &document_path, Some(&analyst), renamed).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/document/tracking/id")), "{body}");
    let mut unlabelled = parsed.clone();
    unlabelled["document"]["distribution"].as_object_mut().expect("distribution").remove("tlp");
    let (status, body) = w.send_json("PUT", &document_path, Some(&analyst), unlabelled).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("/document/distribution/tlp/label")),
        "{body}"
    );
    let (status, body) = w.send_json("PUT", &document_path, Some(&analyst), json!(["not", "an", "object"])).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("document")), "{body}");
    let (_, unchanged) = w.get_json(&document_path, Some(&analyst)).await;
    assert_eq!(unchanged, parsed, "refused replacements change nothing");
    let mut edited = parsed.clone();
    edited["document"]["title"] = json!("Retitled notice");
    edited["document"]["distribution"]["tlp"]["label"] = json!("GREEN");
    let (status, summary) = w.send_json("PUT", &document_path, Some(&analyst), edited.clone()).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!((summary["title"].as_str(), summary["tlp"].as_str()), (Some("Retitled notice"), Some("GREEN")));
    let (_, document) = w.get_json(&document_path, Some(&analyst)).await;
    assert_eq!(document, edited);
    let (status, _) = w.send_json("PUT", &document_path, Some(&analyst), parsed.clone()).await;
    assert_eq!(status, StatusCode::OK);

    // The same tracking id again conflicts; nothing is added.
    let (status, body) = import(w, &analyst, "", original.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(body["error"]["field"], "tracking_id");
    // A TLP that is no TLP is refused before anything else.
    let (status, body) = import(w, &analyst, "?tlp=BOGUS", original.clone()).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("tlp")), "{body}");

    // A document without a label needs ?tlp=; the document's own label wins.
    let mut unlabelled = parsed.clone();
    unlabelled["document"]["tracking"]["id"] = json!("RHSA-2019:1862-COPY");
    unlabelled["document"]["distribution"].as_object_mut().expect("distribution").remove("tlp");
    let (status, body) = import(w, &analyst, "", unlabelled.to_string()).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("/document/distribution/tlp/label")),
        "{body}"
    );
    let (status, body) = import(w, &analyst, "?tlp=AMBER", unlabelled.to_string()).await;
    assert_eq!((status, body["tlp"].as_str()), (StatusCode::CREATED, Some("AMBER")), "{body}");
    let mut labelled = parsed.clone();
    labelled["document"]["tracking"]["id"] = json!("RHSA-2019:1862-LABELLED");
    let (status, body) = import(w, &analyst, "?tlp=RED", labelled.to_string()).await;
    assert_eq!((status, body["tlp"].as_str()), (StatusCode::CREATED, Some("CLEAR")), "{body}");

    // Not JSON, or no tracking id: named.
    let (status, body) = import(w, &analyst, "", "{\"document\": ".into()).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("document")), "{body}");
    let mut anonymous = parsed.clone();
    anonymous["document"]["tracking"].as_object_mut().expect("tracking").remove("id");
    let (status, body) = import(w, &analyst, "", anonymous.to_string()).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/document/tracking/id")), "{body}");

    // Only writers of the CIRT import for it.
    let brazil = w.token_for("analyst@br.example").await;
    let (status, body) = import(w, &brazil, &format!("?org_id={}", w.kenya_cirt), labelled.to_string()).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden()));
    let org_admin = w.token_for("orgadmin@ke.example").await;
    let (status, _) = import(w, &org_admin, "", labelled.to_string()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, list) = w.get_json("/api/v1/advisories", Some(&analyst)).await;
    let mut ids: Vec<&str> = list["items"].as_array().expect("items").iter().filter_map(|i| i["tracking_id"].as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["RHSA-2019:1862", "RHSA-2019:1862-COPY", "RHSA-2019:1862-LABELLED"]);
}

#[tokio::test]
async fn a_csaf_document_is_imported_unchanged_on_sqlite() {
    a_csaf_document_is_imported_unchanged(&World::new().await).await;
}

#[tokio::test]
async fn a_csaf_document_is_imported_unchanged_on_postgres_when_configured() {
    a_csaf_document_is_imported_unchanged(&World::on_postgres_if_configured().await).await;
}

// ----- 4. who reads what: the API and the provider layout --------------------------------------

/// Published KE-CIRT advisories of every label: id, tracking id, title and release.
struct Published {
    clear: Value,
    green: Value,
    amber: Value,
    red: Value,
}

fn release_of(advisory: &Value) -> &Value {
    &advisory["release"]
}

async fn publish_one_of_each(w: &World, analyst: &str, manager: &str) -> Published {
    let mut out = Vec::new();
    for (title, tlp) in [("Clear advisory", "CLEAR"), ("Green advisory", "GREEN"), ("Amber advisory", "AMBER"), ("Red advisory", "RED")] {
        let created = publishable(w, analyst, title, tlp).await;
        let release = publish(w, manager, &id_of(&created), "Initial release.").await;
        assert_eq!(release["tlp"], tlp);
        out.push(json!({"id": created["id"], "tracking_id": created["tracking_id"], "title": title, "release": release}));
    }
    let [clear, green, amber, red]: [Value; 4] = out.try_into().expect("four");
    Published { clear, green, amber, red }
}

/// `2026/ke-cirt-2026-0001.json`
fn layout_path(release: &Value) -> String {
    format!("{}/{}", release["year"], release["file_name"].as_str().expect("file_name"))
}

async fn readers_see_what_tlp_allows(w: &World) {
    let analyst = w.token_for("analyst@ke.example").await;
    let manager = ke_manager(w).await;
    let brazil = w.token_for("analyst@br.example").await;
    let org_admin = w.token_for("orgadmin@ke.example").await;
    // A constituent of KE-CIRT (child organisation) and an organisation of
    // Kenya that is not (KE-CIRT is national, so both share AMBER).
    let isp = add_org(w, "Safaricom Test", "KE", Some(&w.kenya_cirt)).await;
    let isp_viewer = add_user(w, &isp, "noc@isp.ke.example", Role::Viewer).await;
    let bank = add_org(w, "Bank of Nairobi Test", "KE", None).await;
    let bank_viewer = add_user(w, &bank, "soc@bank.ke.example", Role::Viewer).await;
    let br_isp = add_org(w, "Provedor Test", "BR", Some(&w.brazil_cirt)).await;
    let br_isp_viewer = add_user(w, &br_isp, "noc@isp.br.example", Role::Viewer).await;

    // Before anything is published there is no provider to point at.
    let (status, _) = fetch_text(w, "/.well-known/csaf/provider-metadata.json", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = fetch_text(w, "/.well-known/security.txt", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Another CIRT cannot tell a draft exists.
    let draft = create(w, &analyst, "Secret draft", "CLEAR").await;
    let draft_path = format!("/api/v1/advisories/{}", id_of(&draft));
    for path in [draft_path.clone(), format!("{draft_path}/document"), format!("{draft_path}/releases/1")] {
        let (status, body) = w.get_json(&path, Some(&brazil)).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found("advisory")), "GET {path}");
    }
    let (status, body) =
        w.send_json("POST", &format!("{draft_path}/products"), Some(&brazil), json!({"vendor": "a", "product": "b", "version": "c"})).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found("advisory")));
    let (status, body) =
        w.send_json("PUT", &format!("{draft_path}/general"), Some(&brazil), json!({"title": "Mine", "tlp": "CLEAR", "summary": "s"})).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found("advisory")));
    // Nor may a constituent or the KE organisation administrator edit it.
    for token in [&isp_viewer, &org_admin] {
        let (status, body) = w.get_json(&draft_path, Some(token)).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found("advisory")));
    }

    let p = publish_one_of_each(w, &analyst, &manager).await;
    let kenya = &w.kenya_cirt;

    // The API: each reader gets exactly the releases TLP lets them read.
    let everyone = [p.clear.clone(), p.green.clone(), p.amber.clone(), p.red.clone()];
    let readers: [(&str, &str, [bool; 4]); 7] = [
        ("KE analyst", analyst.as_str(), [true; 4]),
        ("KE org admin", org_admin.as_str(), [true, true, true, false]),
        ("KE constituent", isp_viewer.as_str(), [true, true, true, false]),
        ("KE bank (national CIRT)", bank_viewer.as_str(), [true, true, true, false]),
        ("BR analyst", brazil.as_str(), [true, true, false, false]),
        ("BR constituent", br_isp_viewer.as_str(), [true, true, false, false]),
        ("a made-up token", "rmp_not-a-real-token", [false; 4]),
    ];
    for (who, token, may) in &readers {
        for (advisory, may) in everyone.iter().zip(may) {
            let path = format!("/api/v1/advisories/{}", advisory["id"].as_str().expect("id"));
            let (status, view) = w.get_json(&path, Some(token)).await;
            let expected = match (*token, *may) {
                ("rmp_not-a-real-token", _) => StatusCode::UNAUTHORIZED,
                (_, true) => StatusCode::OK,
                (_, false) => StatusCode::NOT_FOUND,
            };
            assert_eq!(status, expected, "{who} reads {}: {view}", advisory["title"]);
            let (status, _, bytes) = fetch(w, &format!("{path}/releases/1"), Some(&bearer(token))).await;
            assert_eq!(status, expected, "{who} reads release 1 of {}", advisory["title"]);
            if *may && status == StatusCode::OK {
                assert_eq!(sha256_hex(&bytes), release_of(advisory)["sha256"].as_str().unwrap_or(""), "{who}");
                if *token != analyst {
                    assert_eq!(view["may_edit"], false, "{who}");
                    assert_eq!(view["problems"], json!([]), "{who}");
                    assert!(view["releases"].as_array().expect("releases").iter().all(|r| r["released_by"] == ""), "{who}: {view}");
                }
            }
        }
        if *token == "rmp_not-a-real-token" {
            continue;
        }
        let (status, list) = w.get_json("/api/v1/advisories", Some(token)).await;
        assert_eq!(status, StatusCode::OK);
        let mut listed: Vec<&str> = list["items"].as_array().expect("items").iter().filter_map(|i| i["title"].as_str()).collect();
        listed.sort_unstable();
        let mut expected: Vec<&str> = everyone.iter().zip(may).filter(|(_, m)| **m).filter_map(|(a, _)| a["title"].as_str()).collect();
        if *token == analyst {
            expected.push("Secret draft");
        }
        expected.sort_unstable();
        assert_eq!(listed, expected, "{who}");
    }
    let (status, body) = w.get_json(&draft_path, Some(&brazil)).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found("advisory")), "still a draft");
    // A member of KE-CIRT without any role (no token; a session) reads CLEAR only.
    let nobody = w.sign_in("nobody@ke.example").await;
    for (advisory, expected) in
        [(&p.clear, StatusCode::OK), (&p.green, StatusCode::NOT_FOUND), (&p.amber, StatusCode::NOT_FOUND), (&p.red, StatusCode::NOT_FOUND)]
    {
        let (status, _) =
            w.get_with_cookie(&format!("/api/v1/advisories/{}", advisory["id"].as_str().expect("id")), &nobody.cookie()).await;
        assert_eq!(status, expected, "a member without a role reads {}", advisory["title"]);
    }
    let (status, response) = w.get_with_cookie(&format!("/csaf/{kenya}/green/index.txt"), &nobody.cookie()).await;
    assert_eq!((status, body_text(response).await.as_str()), (StatusCode::OK, ""), "signed in, but GREEN needs a role");

    // The provider metadata: anonymous readers are offered the WHITE feed only.
    let (status, headers, bytes) = fetch(w, "/.well-known/csaf/provider-metadata.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type(&headers).starts_with("application/json"));
    let metadata: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(rampart_cirt::provider::check_metadata(&metadata), Vec::<String>::new(), "{metadata}");
    assert_eq!(metadata["canonical_url"], format!("{BASE}/.well-known/csaf/provider-metadata.json"));
    assert_eq!(metadata["role"], "csaf_provider");
    assert_eq!(metadata["publisher"]["name"], "KE-CIRT");
    assert_eq!(metadata["distributions"][0]["directory_url"], format!("{BASE}/csaf/{kenya}"));
    assert_eq!(
        metadata["distributions"][0]["rolie"]["feeds"],
        json!([{"summary": "TLP:WHITE advisories", "tlp_label": "WHITE", "url": format!("{BASE}/csaf/{kenya}/white/csaf-feed-tlp-white.json")}])
    );
    assert_eq!(metadata["last_updated"], release_of(&p.clear)["released_at"], "the newest release an anonymous reader may see");
    // A reader's own metadata lists the feeds they may read.
    let org_metadata = format!("/csaf/{kenya}/provider-metadata.json");
    for (token, labels) in [
        (&brazil, vec!["WHITE", "GREEN"]),
        (&isp_viewer, vec!["WHITE", "GREEN", "AMBER"]),
        (&analyst, vec!["WHITE", "GREEN", "AMBER", "RED"]),
    ] {
        let (status, metadata) = w.get_json(&org_metadata, Some(token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(rampart_cirt::provider::check_metadata(&metadata), Vec::<String>::new(), "{metadata}");
        assert_eq!(metadata["canonical_url"], format!("{BASE}{org_metadata}"));
        let feeds: Vec<&str> = metadata["distributions"][0]["rolie"]["feeds"]
            .as_array()
            .expect("feeds")
            .iter()
            .filter_map(|f| f["tlp_label"].as_str())
            .collect();
        assert_eq!(feeds, labels);
    }
    // BR-CIRT has published nothing: a valid provider with no feed.
    let (status, metadata) = w.get_json(&format!("/csaf/{}/provider-metadata.json", w.brazil_cirt), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rampart_cirt::provider::check_metadata(&metadata), Vec::<String>::new(), "{metadata}");
    assert_eq!(metadata["distributions"][0].get("rolie"), None);

    // The folders: WHITE is public, the others ask for credentials.
    let clear_path = layout_path(release_of(&p.clear));
    let green_path = layout_path(release_of(&p.green));
    let (status, index) = fetch_text(w, &format!("/csaf/{kenya}/white/index.txt"), None).await;
    assert_eq!((status, index), (StatusCode::OK, format!("{clear_path}\n")));
    for folder in ["green", "amber", "red"] {
        for file in ["index.txt", "changes.csv", &format!("csaf-feed-tlp-{folder}.json")] {
            let (status, headers, _) = fetch(w, &format!("/csaf/{kenya}/{folder}/{file}"), None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{folder}/{file}");
            assert_eq!(headers.get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()), Some("Basic realm=\"rampart-csaf\""));
        }
    }
    let (status, _) = fetch_text(w, &format!("/csaf/{kenya}/green/{green_path}"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the document itself too");
    let green_index = format!("/csaf/{kenya}/green/index.txt");
    let (status, index) = fetch_text(w, &green_index, Some(&bearer(&brazil))).await;
    assert_eq!((status, index.as_str()), (StatusCode::OK, format!("{green_path}\n").as_str()));
    for user in ["analyst@br.example", "anyone", ""] {
        let (status, by_basic) = fetch_text(w, &green_index, Some(&basic(user, &brazil))).await;
        assert_eq!((status, by_basic), (StatusCode::OK, index.clone()), "Basic as {user:?}");
    }
    // Folders the reader may not read are empty, not forbidden.
    let (status, amber) = fetch_text(w, &format!("/csaf/{kenya}/amber/index.txt"), Some(&bearer(&brazil))).await;
    assert_eq!((status, amber.as_str()), (StatusCode::OK, ""));
    let (status, _) = fetch_text(w, &format!("/csaf/{kenya}/amber/{}", layout_path(release_of(&p.amber))), Some(&bearer(&brazil))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, amber) = fetch_text(w, &format!("/csaf/{kenya}/amber/index.txt"), Some(&bearer(&bank_viewer))).await;
    assert_eq!((status, amber), (StatusCode::OK, format!("{}\n", layout_path(release_of(&p.amber)))));
    let (status, red) = fetch_text(w, &format!("/csaf/{kenya}/red/index.txt"), Some(&basic("x", &isp_viewer))).await;
    assert_eq!((status, red.as_str()), (StatusCode::OK, ""));
    let (status, red) = fetch_text(w, &format!("/csaf/{kenya}/red/index.txt"), Some(&bearer(&analyst))).await;
    assert_eq!((status, red), (StatusCode::OK, format!("{}\n", layout_path(release_of(&p.red)))));
    // The documents sit in the folder of their label only.
    let (status, _) = fetch_text(w, &format!("/csaf/{kenya}/green/{clear_path}"), Some(&bearer(&analyst))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The files and their hashes, for every readable folder.
    for (advisory, folder, token) in [(&p.clear, "white", None), (&p.green, "green", Some(bearer(&brazil)))] {
        let release = release_of(advisory);
        let file_name = release["file_name"].as_str().expect("file_name");
        let path = format!("/csaf/{kenya}/{folder}/{}", layout_path(release));
        let (status, headers, bytes) = fetch(w, &path, token.as_deref()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(content_type(&headers).starts_with("application/json"));
        let (_, _, from_api) =
            fetch(w, &format!("/api/v1/advisories/{}/releases/1", advisory["id"].as_str().expect("id")), Some(&bearer(&analyst))).await;
        assert_eq!(bytes, from_api, "the layout serves the release byte for byte");
        let (status, sha256) = fetch_text(w, &format!("{path}.sha256"), token.as_deref()).await;
        assert_eq!((status, sha256), (StatusCode::OK, format!("{}  {file_name}\n", sha256_hex(&bytes))));
        let (status, sha512) = fetch_text(w, &format!("{path}.sha512"), token.as_deref()).await;
        assert_eq!((status, sha512), (StatusCode::OK, format!("{}  {file_name}\n", sha512_hex(&bytes))));
        let (status, _) = fetch_text(w, &format!("{path}.asc"), token.as_deref()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "no signing key is configured");

        let (status, changes) = fetch_text(w, &format!("/csaf/{kenya}/{folder}/changes.csv"), token.as_deref()).await;
        assert_eq!(
            (status, changes),
            (StatusCode::OK, format!("\"{}\",\"{}\"\n", layout_path(release), release["released_at"].as_str().expect("released_at")))
        );

        let (status, headers, feed) = fetch(w, &format!("/csaf/{kenya}/{folder}/csaf-feed-tlp-{folder}.json"), token.as_deref()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type(&headers).starts_with("application/json"));
        let feed: Value = serde_json::from_slice(&feed).expect("JSON");
        let entries = feed["feed"]["entry"].as_array().expect("entries");
        assert_eq!(entries.len(), 1, "{feed}");
        let src = entries[0]["content"]["src"].as_str().expect("src");
        assert_eq!(src, format!("{BASE}{path}"));
        assert_eq!(entries[0]["id"], advisory["tracking_id"]);
        assert_eq!(entries[0]["title"], advisory["title"]);
        assert_eq!(entries[0]["content"]["type"], "application/json");
        let links: Vec<&str> = entries[0]["link"].as_array().expect("links").iter().filter_map(|l| l["href"].as_str()).collect();
        assert_eq!(links, [src.to_owned(), format!("{src}.sha256"), format!("{src}.sha512")]);
        let (status, _, by_src) = fetch(w, src.strip_prefix(BASE).expect("under the base"), token.as_deref()).await;
        assert_eq!((status, by_src), (StatusCode::OK, bytes));
    }
    // Only the feed of the folder's own label exists.
    let (status, _) = fetch_text(w, &format!("/csaf/{kenya}/white/csaf-feed-tlp-green.json"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // security.txt points CSAF tools at the provider metadata.
    let (status, text) = fetch_text(w, "/.well-known/security.txt", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.lines().any(|l| l == format!("CSAF: {BASE}/.well-known/csaf/provider-metadata.json")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("Expires: ")), "{text}");

    // Unknown providers and folders.
    for path in [
        "/csaf/no-such-cirt/provider-metadata.json".to_owned(),
        "/csaf/no-such-cirt/white/index.txt".to_owned(),
        format!("/csaf/no-such-cirt/white/{clear_path}"),
        format!("/csaf/{kenya}/purple/index.txt"),
        format!("/csaf/{kenya}/purple/{clear_path}"),
        format!("/csaf/{kenya}/white/nothing.txt"),
        format!("/csaf/{kenya}/white/1999/{}", release_of(&p.clear)["file_name"].as_str().unwrap_or("")),
        format!("/csaf/{kenya}/white/notayear/{}", release_of(&p.clear)["file_name"].as_str().unwrap_or("")),
    ] {
        let (status, _) = fetch_text(w, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = fetch_text(w, &format!("/csaf/{kenya}/purple/index.txt"), Some(&bearer(&analyst))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn readers_see_what_tlp_allows_on_sqlite() {
    readers_see_what_tlp_allows(&World::new().await).await;
}

#[tokio::test]
async fn readers_see_what_tlp_allows_on_postgres_when_configured() {
    readers_see_what_tlp_allows(&World::on_postgres_if_configured().await).await;
}

// ----- 5. the pages ---------------------------------------------------------------------------

async fn the_pages_show_published_advisories_and_need_csrf(w: &World) {
    let analyst = w.token_for("analyst@ke.example").await;
    let manager_token = ke_manager(w).await;
    let clear = publishable(w, &analyst, "Public router advisory", "CLEAR").await;
    publish(w, &manager_token, &id_of(&clear), "Initial release.").await;
    let green = publishable(w, &analyst, "Community router advisory", "GREEN").await;
    publish(w, &manager_token, &id_of(&green), "Initial release.").await;
    let draft = publishable(w, &analyst, "Unfinished router advisory", "CLEAR").await;
    let tracking = |v: &Value| v["tracking_id"].as_str().expect("tracking_id").to_owned();

    // The list, for anyone.
    let (status, html) = fetch_text(w, "/advisories", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&tracking(&clear)) && html.contains("Public router advisory"), "{html}");
    assert!(!html.contains(&tracking(&green)) && !html.contains("Community router advisory"), "GREEN is not public");
    assert!(!html.contains(&tracking(&draft)) && !html.contains("Unfinished router advisory"), "drafts are not public");
    // Signed in with a role, GREEN shows too; the authors see their draft.
    let brazil = w.sign_in("analyst@br.example").await;
    let (_, response) = w.get_with_cookie("/advisories", &brazil.cookie()).await;
    let html = body_text(response).await;
    assert!(html.contains(&tracking(&clear)) && html.contains(&tracking(&green)) && !html.contains(&tracking(&draft)), "{html}");
    let author = w.sign_in("analyst@ke.example").await;
    let (_, response) = w.get_with_cookie("/advisories", &author.cookie()).await;
    assert!(body_text(response).await.contains(&tracking(&draft)));

    // The pages and downloads of each.
    let (status, html) = fetch_text(w, &format!("/advisories/{}", id_of(&clear)), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Public router advisory") && html.contains(&tracking(&clear)));
    assert!(!html.contains("manager@ke.example") && !html.contains("analyst@ke.example"), "staff stay anonymous");
    for id in [id_of(&draft), id_of(&green)] {
        for path in [format!("/advisories/{id}"), format!("/advisories/{id}/csaf.json")] {
            let (status, html) = fetch_text(w, &path, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(!html.contains("router advisory"), "{path}: {html}");
        }
    }
    let (status, headers, bytes) = fetch(w, &format!("/advisories/{}/csaf.json", id_of(&clear)), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type(&headers).starts_with("application/json"));
    let file = format!("attachment; filename=\"{}\"", rampart_cirt::advisory::file_name(&tracking(&clear)));
    assert_eq!(headers.get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()), Some(file.as_str()));
    let (_, _, release) = fetch(w, &format!("/api/v1/advisories/{}/releases/1", id_of(&clear)), Some(&bearer(&analyst))).await;
    assert_eq!(serde_json::from_slice::<Value>(&bytes).expect("JSON"), serde_json::from_slice::<Value>(&release).expect("JSON"));

    // The Atom feed: the public release, no staff addresses.
    let (status, headers, bytes) = fetch(w, "/advisories/feed.atom", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type(&headers).starts_with("application/atom+xml"), "{headers:?}");
    let atom = String::from_utf8(bytes).expect("UTF-8");
    assert!(atom.starts_with("<?xml"), "{atom}");
    assert!(atom.contains(&format!("<title>{}: Public router advisory</title>", tracking(&clear))), "{atom}");
    assert!(atom.contains(&format!("href=\"{BASE}/advisories/{}\"", id_of(&clear))), "{atom}");
    assert!(!atom.contains("Community router advisory") && !atom.contains("Unfinished router advisory"), "{atom}");
    assert!(!atom.contains('@'), "no e-mail address in the public feed: {atom}");
    assert_eq!(atom.matches("<entry>").count(), 1);

    // The editor's forms need the session's CSRF token.
    let manager = w.sign_in("manager@ke.example").await;
    let publish_path = format!("/advisories/{}/publish", id_of(&draft));
    let attempts = [
        ("a wrong token", manager.cookie(), vec![("csrf", "not-the-token"), ("summary", "Initial release.")]),
        ("an empty token", manager.cookie(), vec![("csrf", ""), ("summary", "Initial release.")]),
        ("no token", manager.cookie(), vec![("summary", "Initial release.")]),
        ("another visitor's token", manager.cookie(), vec![("csrf", brazil.csrf.as_str()), ("summary", "Initial release.")]),
        ("no cookies at all", String::new(), vec![("csrf", ""), ("summary", "Initial release.")]),
    ];
    for (what, cookie, fields) in &attempts {
        let (status, _) = w.post_form(&publish_path, cookie, fields).await;
        assert!(!status.is_success() && !status.is_redirection(), "{what}: {status}");
    }
    let (status, _) = w.post_form(&publish_path, &manager.cookie(), &[("csrf", "not-the-token"), ("summary", "x")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // A matching token without a session is sent to sign in.
    let (status, response) = w
        .post_form(&publish_path, &format!("rampart_csrf={}", manager.csrf), &[("csrf", &manager.csrf), ("summary", "Initial release.")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()), Some("/login"));
    let (_, view) = w.get_json(&format!("/api/v1/advisories/{}", id_of(&draft)), Some(&analyst)).await;
    assert_eq!(view["releases"], json!([]), "nothing was published");
    assert_eq!(view["document"]["document"]["tracking"]["status"], "draft");
    // Other edits too.
    let (status, _) = w
        .post_form(
            &format!("/advisories/{}/general", id_of(&draft)),
            &author.cookie(),
            &[("csrf", "nope"), ("title", "Hijacked"), ("tlp", "CLEAR"), ("summary", "s")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, view) = w.get_json(&format!("/api/v1/advisories/{}", id_of(&draft)), Some(&analyst)).await;
    assert_eq!(view["document"]["document"]["title"], "Unfinished router advisory");
    // An analyst with the right token is still no publisher.
    let (status, _) = w.post_form(&publish_path, &author.cookie(), &[("csrf", &author.csrf), ("summary", "Initial release.")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The manager with the right token publishes.
    let (status, response) =
        w.post_form(&publish_path, &manager.cookie(), &[("csrf", &manager.csrf), ("summary", "Initial release.")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()),
        Some(format!("/advisories/{}?done=cirt.advisories.published", id_of(&draft)).as_str())
    );
    let (_, view) = w.get_json(&format!("/api/v1/advisories/{}", id_of(&draft)), Some(&analyst)).await;
    assert_eq!(view["releases"].as_array().map(Vec::len), Some(1));
    let (status, html) = fetch_text(w, &format!("/advisories/{}", id_of(&draft)), None).await;
    assert_eq!(status, StatusCode::OK, "published CLEAR: public now");
    assert!(html.contains("Unfinished router advisory"));
}

#[tokio::test]
async fn the_pages_show_published_advisories_and_need_csrf_on_sqlite() {
    the_pages_show_published_advisories_and_need_csrf(&World::new().await).await;
}

#[tokio::test]
async fn the_pages_show_published_advisories_and_need_csrf_on_postgres_when_configured() {
    the_pages_show_published_advisories_and_need_csrf(&World::on_postgres_if_configured().await).await;
}

// ----- 6. OpenAPI --------------------------------------------------------------------------------

#[tokio::test]
async fn the_openapi_document_describes_the_advisory_operations() {
    let w = World::new().await;
    let (status, doc) = w.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc, rampart_web::api::openapi_document());
    let operations = [
        ("/api/v1/advisories", "get", "listAdvisories", "200"),
        ("/api/v1/advisories", "post", "createAdvisory", "201"),
        ("/api/v1/advisories/import", "post", "importAdvisory", "201"),
        ("/api/v1/advisories/{id}", "get", "getAdvisory", "200"),
        ("/api/v1/advisories/{id}/document", "get", "getAdvisoryDocument", "200"),
        ("/api/v1/advisories/{id}/document", "put", "replaceAdvisoryDocument", "200"),
        ("/api/v1/advisories/{id}/general", "put", "setAdvisoryGeneral", "200"),
        ("/api/v1/advisories/{id}/products", "post", "addAdvisoryProduct", "201"),
        ("/api/v1/advisories/{id}/products/{product_id}", "delete", "removeAdvisoryProduct", "204"),
        ("/api/v1/advisories/{id}/vulnerabilities", "post", "addAdvisoryVulnerability", "201"),
        ("/api/v1/advisories/{id}/vulnerabilities/{index}", "delete", "removeAdvisoryVulnerability", "204"),
        ("/api/v1/advisories/{id}/publish", "post", "publishAdvisory", "201"),
        ("/api/v1/advisories/{id}/releases/{version}", "get", "getAdvisoryRelease", "200"),
    ];
    for (path, method, operation_id, success) in operations {
        let operation = &doc["paths"][path][method];
        assert_eq!(operation["operationId"], operation_id, "{method} {path}");
        assert!(operation["responses"][success].is_object(), "{method} {path} documents {success}");
    }
    let schemas = &doc["components"]["schemas"];
    for name in ["AdvisoryGeneral", "AdvisoryProduct", "AdvisoryVulnerability", "AdvisorySummary", "Advisory", "AdvisoryRelease"] {
        assert!(schemas[name].is_object(), "schema {name}");
    }
    assert_eq!(
        doc["paths"]["/api/v1/advisories/{id}/publish"]["post"]["requestBody"]["content"]["application/json"]["schema"]["required"],
        json!(["summary"])
    );
    let advisory_paths = doc["paths"].as_object().expect("paths").keys().filter(|p| p.starts_with("/api/v1/advisories")).count();
    assert_eq!(advisory_paths, 11, "no undocumented advisory path, none extra");
}

// ----- bugs found while writing these tests, fixed, kept as regression tests ----------

#[tokio::test]
async fn creating_an_advisory_names_the_invalid_field() {
    let w = World::new().await;
    let analyst = w.token_for("analyst@ke.example").await;
    let draft = create(&w, &analyst, "Reference", "CLEAR").await;
    // The same body on the general endpoint names the field…
    let (status, body) = w
        .send_json(
            "PUT",
            &format!("/api/v1/advisories/{}/general", id_of(&draft)),
            Some(&analyst),
            json!({"title": "t", "tlp": "PURPLE", "summary": "s"}),
        )
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("tlp")), "{body}");
    // …and so must creation.
    for (field, body) in [
        ("tlp", json!({"title": "t", "tlp": "PURPLE", "summary": "s"})),
        ("title", json!({"title": 5, "tlp": "CLEAR", "summary": "s"})),
        ("org_id", json!({"title": "t", "tlp": "CLEAR", "summary": "s", "org_id": 7})),
    ] {
        let (status, answer) = w.send_json("POST", "/api/v1/advisories", Some(&analyst), body.clone()).await;
        assert_eq!((status, answer["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{body} → {answer}");
    }
}

#[tokio::test]
async fn a_wrong_token_on_the_provider_layout_gets_401() {
    let w = World::new().await;
    let analyst = w.token_for("analyst@ke.example").await;
    let manager = ke_manager(&w).await;
    let clear = publishable(&w, &analyst, "Public", "CLEAR").await;
    let release = publish(&w, &manager, &id_of(&clear), "Initial release.").await;
    let kenya = &w.kenya_cirt;
    let paths = [
        "/.well-known/csaf/provider-metadata.json".to_owned(),
        format!("/csaf/{kenya}/provider-metadata.json"),
        format!("/csaf/{kenya}/white/index.txt"),
        format!("/csaf/{kenya}/white/{}", layout_path(&release)),
        format!("/csaf/{kenya}/green/index.txt"),
    ];
    for path in &paths {
        for credential in [bearer("rmp_not-a-real-token"), basic("anyone", "rmp_not-a-real-token")] {
            let (status, headers, _) = fetch(&w, path, Some(&credential)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} with {credential}");
            assert!(headers.contains_key(header::WWW_AUTHENTICATE), "{path}");
        }
    }
}

#[tokio::test]
async fn two_advisories_never_share_a_file_in_the_provider_layout() {
    let w = World::new().await;
    let analyst = w.token_for("analyst@ke.example").await;
    let manager = ke_manager(&w).await;
    let original = rhsa();
    let (status, first) = import(&w, &analyst, "", original.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    publish(&w, &manager, &id_of(&first), "Republished.").await;
    // Either the second document is refused (import or publication)…
    let (status, second) = import(&w, &analyst, "", original.replace("RHSA-2019:1862", "rhsa-2019:1862")).await;
    if status == StatusCode::CONFLICT {
        return;
    }
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let (status, _) =
        w.send_json("POST", &format!("/api/v1/advisories/{}/publish", id_of(&second)), Some(&manager), json!({"summary": "Again."})).await;
    if status == StatusCode::CONFLICT || status == StatusCode::UNPROCESSABLE_ENTITY {
        return;
    }
    // …or every listed file is its own advisory's.
    let kenya = &w.kenya_cirt;
    let (_, index) = fetch_text(&w, &format!("/csaf/{kenya}/white/index.txt"), None).await;
    let lines: Vec<&str> = index.lines().collect();
    let unique: std::collections::HashSet<&str> = lines.iter().copied().collect();
    assert_eq!(lines.len(), unique.len(), "index.txt lists a path twice: {index}");
    let (_, _, feed) = fetch(&w, &format!("/csaf/{kenya}/white/csaf-feed-tlp-white.json"), None).await;
    let feed: Value = serde_json::from_slice(&feed).expect("JSON");
    for entry in feed["feed"]["entry"].as_array().expect("entries") {
        let src = entry["content"]["src"].as_str().expect("src");
        let (_, _, bytes) = fetch(&w, src.strip_prefix(BASE).expect("under the base"), None).await;
        let served: Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(served["document"]["tracking"]["id"], entry["id"], "{src} serves another advisory");
    }
}
