//! TAXII 2.1 over HTTP: discovery and API root, a collection shared with
//! one other CIRT, objects posted with a status, read back with filters,
//! pagination headers, versions, manifest and deletion; media types,
//! authentication and access refused the TAXII way.

use crate::support::{World, body_json};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use rampart_auth::service::Actor;
use rampart_core::Role;
use serde_json::{Value, json};

const MEDIA: &str = "application/taxii+json;version=2.1";

async fn call(
    w: &World,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    content_type: &str,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut request = Request::builder().method(method).uri(path).header("accept", MEDIA);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request.header("content-type", content_type).body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .expect("request");
    let (status, response) = w.call(request).await;
    let headers = response.headers().clone();
    if headers.get("content-type").is_some_and(|v| v.to_str().unwrap_or("") == MEDIA) {
        (status, headers, body_json(response).await)
    } else {
        (status, headers, Value::Null)
    }
}

fn indicator(n: u32, modified: &str) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": format!("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3c{n:03}"),
        "created": "2026-01-01T00:00:00.000Z", "modified": modified,
        "pattern": format!("[ipv4-addr:value = '198.51.100.{n}']"), "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"
    })
}

#[tokio::test]
async fn taxii_clients_share_objects_through_a_collection() {
    let w = World::on_postgres_if_configured().await;
    w.add_user(&w.kenya_cirt, "manager@ke.example", Role::CirtManager).await;
    let manager = w.store.user_by_email("manager@ke.example").await.expect("query").expect("user");
    let manager = w.state.auth().principal_for(&manager, rampart_auth::Via::Cli, None).await.expect("principal");
    let ghana = w.add_org("GH-CIRT", "national_cirt", "GH", None).await;
    w.add_user(&ghana, "analyst@gh.example", Role::CirtAnalyst).await;
    let collection = w
        .state
        .taxii()
        .create_collection(&Actor { principal: &manager, ip: None }, "KE-CIRT indicators", "", std::slice::from_ref(&ghana), &[])
        .await
        .expect("collection");
    let analyst = w.token_for("analyst@ke.example").await;
    let partner = w.token_for("analyst@gh.example").await;
    let outsider = w.token_for("analyst@br.example").await;
    let base = format!("/taxii2/api/collections/{}", collection.id);

    // Discovery and the API root need a token.
    let (status, headers, _) = call(&w, "GET", "/taxii2/", None, None, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.get("www-authenticate").is_some());
    let (status, _, discovery) = call(&w, "GET", "/taxii2/", Some(&analyst), None, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(discovery["api_roots"][0].as_str().unwrap().ends_with("/taxii2/api/"), "{discovery}");
    let (_, _, root) = call(&w, "GET", "/taxii2/api/", Some(&analyst), None, "").await;
    assert_eq!(root["versions"][0], MEDIA);

    // Collections: each caller sees what they may read or write.
    let (_, _, list) = call(&w, "GET", "/taxii2/api/collections/", Some(&analyst), None, "").await;
    assert_eq!((list["collections"][0]["can_read"].as_bool(), list["collections"][0]["can_write"].as_bool()), (Some(true), Some(true)));
    let (_, _, list) = call(&w, "GET", "/taxii2/api/collections/", Some(&partner), None, "").await;
    assert_eq!((list["collections"][0]["can_read"].as_bool(), list["collections"][0]["can_write"].as_bool()), (Some(true), Some(false)));
    let (status, _, _) = call(&w, "GET", &format!("{base}/"), Some(&outsider), None, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // POST an envelope: 202 with a status; the wrong media type is 415.
    let envelope = json!({"objects": [indicator(1, "2026-01-01T00:00:00.000Z"), indicator(1, "2026-02-01T00:00:00.000Z"), indicator(2, "2026-01-01T00:00:00.000Z"), indicator(3, "2026-01-01T00:00:00.000Z")]});
    let (status, _, _) = call(&w, "POST", &format!("{base}/objects/"), Some(&analyst), Some(envelope.clone()), "application/json").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _, _) = call(&w, "POST", &format!("{base}/objects/"), Some(&partner), Some(envelope.clone()), MEDIA).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "GH-CIRT may read, not write");
    let (status, _, posted) = call(&w, "POST", &format!("{base}/objects/"), Some(&analyst), Some(envelope), MEDIA).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{posted}");
    assert_eq!((posted["success_count"].as_u64(), posted["status"].as_str()), (Some(4), Some("complete")));
    let (status, _, kept) =
        call(&w, "GET", &format!("/taxii2/api/status/{}/", posted["id"].as_str().unwrap()), Some(&analyst), None, "").await;
    assert_eq!((status, kept["id"].clone()), (StatusCode::OK, posted["id"].clone()));

    // GET with a limit: pages, `more`, `next`, the date-added headers.
    let (status, headers, first) = call(&w, "GET", &format!("{base}/objects/?limit=2"), Some(&partner), None, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["objects"].as_array().map(Vec::len), Some(2));
    assert_eq!(first["more"], true);
    assert!(headers.get("x-taxii-date-added-first").is_some() && headers.get("x-taxii-date-added-last").is_some());
    let next = first["next"].as_str().unwrap();
    let (_, _, second) = call(&w, "GET", &format!("{base}/objects/?limit=2&next={next}"), Some(&partner), None, "").await;
    assert_eq!(
        (second["objects"].as_array().map(Vec::len), second["more"].as_bool()),
        (Some(1), Some(false)),
        "three objects, latest versions"
    );
    let id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3c001";
    let (_, _, typed) = call(&w, "GET", &format!("{base}/objects/?match[id]={id}&match[version]=all"), Some(&partner), None, "").await;
    assert_eq!(typed["objects"].as_array().map(Vec::len), Some(2));
    let (_, _, versions) = call(&w, "GET", &format!("{base}/objects/{id}/versions/"), Some(&partner), None, "").await;
    assert_eq!(versions["versions"], json!(["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"]));
    let (_, _, manifest) = call(&w, "GET", &format!("{base}/manifest/"), Some(&partner), None, "").await;
    assert_eq!(manifest["objects"][0]["media_type"], "application/stix+json;version=2.1");
    let (status, _, bad) = call(&w, "GET", &format!("{base}/objects/?limit=zero"), Some(&partner), None, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad["description"].as_str().unwrap().contains("limit"), "{bad}");

    // Accept negotiation: a client wanting only HTML is refused with 406.
    let request = Request::get(format!("{base}/objects/"))
        .header("accept", "text/html")
        .header("authorization", format!("Bearer {partner}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(w.call(request).await.0, StatusCode::NOT_ACCEPTABLE);

    // DELETE an object: gone for everyone.
    let (status, _, _) = call(&w, "DELETE", &format!("{base}/objects/{id}/"), Some(&analyst), None, "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&w, "GET", &format!("{base}/objects/{id}/"), Some(&partner), None, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn cirt_managers_create_collections_in_the_browser() {
    let w = World::new().await;
    w.add_user(&w.kenya_cirt, "manager@ke.example", Role::CirtManager).await;
    let ghana = w.add_org("GH-CIRT", "national_cirt", "GH", None).await;
    let manager = w.sign_in("manager@ke.example").await;
    let (status, response) = w.get_with_cookie("/intel/collections", &manager.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(crate::support::body_text(response).await.contains("id=\"collection-form\""));
    let (status, response) = w
        .post_form(
            "/intel/collections",
            &manager.cookie(),
            &[("csrf", &manager.csrf), ("title", "Phishing URLs"), ("reader", "no-such-org")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(crate::support::body_text(response).await.contains("readers: no organisation"));
    let (status, _) = w
        .post_form(
            "/intel/collections",
            &manager.cookie(),
            &[("csrf", &manager.csrf), ("title", "Phishing URLs"), ("reader", &ghana), ("writer", &ghana)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, response) = w.get_with_cookie("/intel/collections", &manager.cookie()).await;
    assert!(crate::support::body_text(response).await.contains("Phishing URLs"));
    // An analyst reads the list but creates nothing; another country's CIRT sees nothing.
    let analyst = w.sign_in("analyst@ke.example").await;
    let (_, response) = w.get_with_cookie("/intel/collections", &analyst.cookie()).await;
    let page = crate::support::body_text(response).await;
    assert!(page.contains("Phishing URLs") && !page.contains("collection-form"));
    let (status, _) = w.post_form("/intel/collections", &analyst.cookie(), &[("csrf", &analyst.csrf), ("title", "Mine")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let brazil = w.sign_in("analyst@br.example").await;
    let (_, response) = w.get_with_cookie("/intel/collections", &brazil.cookie()).await;
    assert!(!crate::support::body_text(response).await.contains("Phishing URLs"));

    // A sharing group made in the browser is offered in the access lists.
    let (status, _) =
        w.post_form("/intel/groups", &manager.cookie(), &[("csrf", &manager.csrf), ("name", "West Africa"), ("member", &ghana)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, response) = w.get_with_cookie("/intel/collections?done=intel.groups.created", &manager.cookie()).await;
    let page = crate::support::body_text(response).await;
    assert!(page.contains("Sharing group created.") && page.contains("id=\"sharing-groups\""), "the group is listed");
    assert!(page.contains("West Africa") && page.contains("GH-CIRT"), "with its members' names");
    assert!(page.contains("<option value=\"group:"), "and offered to collections");
    let (status, response) = w.post_form("/intel/groups", &manager.cookie(), &[("csrf", &manager.csrf), ("name", "West Africa")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(crate::support::body_text(response).await.contains("name: a sharing group named West Africa exists"));
    let (status, _) = w.post_form("/intel/groups", &analyst.cookie(), &[("csrf", &analyst.csrf), ("name", "Mine")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an analyst makes no group");
}

#[tokio::test]
async fn each_taxii_caller_is_rate_limited_on_their_own() {
    let config = rampart_web::WebConfig { login_attempts_per_minute: 1000, taxii_requests_per_minute: 3, ..Default::default() };
    let w = World::build(false, config).await;
    let analyst = w.token_for("analyst@ke.example").await;
    let other = w.token_for("analyst@br.example").await;
    for _ in 0..3 {
        assert_eq!(call(&w, "GET", "/taxii2/api/collections/", Some(&analyst), None, "").await.0, StatusCode::OK);
    }
    let (status, _, body) = call(&w, "GET", "/taxii2/api/collections/", Some(&analyst), None, "").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["http_status"], "429", "{body}");
    assert_eq!(
        call(&w, "GET", "/taxii2/api/collections/", Some(&other), None, "").await.0,
        StatusCode::OK,
        "another caller is not held back"
    );
}
