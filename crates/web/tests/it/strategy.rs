//! Strategy over HTTP: the API (answers, gap report, gaps to actions,
//! maturity) with bad input named, and the access layer on every route:
//! another country's owner, a signed-out visitor, a missing CSRF token.

use crate::support::{World, body_text};
use axum::http::StatusCode;
use rampart_auth::service::Actor;
use rampart_auth::{Principal, Scope};
use rampart_core::Role;
use serde_json::json;

async fn grant(w: &World, email: &str, role: Role, scope: Scope) {
    let user = w.store.user_by_email(email).await.expect("query").expect("user");
    let cli = Principal::cli("test");
    w.state.auth().grant_role(&Actor { principal: &cli, ip: None }, &user.id, role, scope).await.expect("grant");
}

#[tokio::test]
async fn the_strategy_api_and_pages_check_access_and_name_bad_input() {
    let w = World::on_postgres_if_configured().await;
    let ke = w.add_org("Ministry of ICT Kenya", "ministry", "KE", None).await;
    let gh = w.add_org("Ministry of Communications Ghana", "ministry", "GH", None).await;
    w.add_user(&ke, "owner@ict.go.ke", Role::Viewer).await;
    w.add_user(&gh, "owner@moc.gov.gh", Role::Viewer).await;
    grant(&w, "owner@ict.go.ke", Role::StrategyEditor, Scope::Country("KE".into())).await;
    grant(&w, "owner@moc.gov.gh", Role::StrategyEditor, Scope::Country("GH".into())).await;
    let owner = w.token_for("owner@ict.go.ke").await;
    let ghana = w.token_for("owner@moc.gov.gh").await;

    // Answers through the API; bad input named; another country refused.
    let (status, body) = w.send_json("PUT", "/api/v1/strategy/KE/assessment/FA1.1", Some(&owner), json!({"status": "not_in_place"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 1);
    let (status, body) = w.send_json("PUT", "/api/v1/strategy/KE/assessment/FA3.1", Some(&owner), json!({"status": "sort of"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("status")), "{body}");
    let (status, body) =
        w.send_json("PUT", "/api/v1/strategy/KE/assessment/FA3.1", Some(&owner), json!({"status": "partial", "colour": "red"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused: {body}");
    let (status, _) = w.send_json("PUT", "/api/v1/strategy/KE/assessment/FA3.1", Some(&ghana), json!({"status": "partial"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = w.get_json("/api/v1/strategy/KE/gaps", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = w.get_json("/api/v1/strategy/KE/plan", Some(&ghana)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The gap report, and the gap into the plan.
    let (status, report) = w.get_json("/api/v1/strategy/KE/gaps", Some(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["gaps"][0]["element"]["id"], "FA1.1");
    let effect = &report["gaps"][0]["effect"];
    assert!(effect["overall_after"].as_f64() > effect["overall_before"].as_f64(), "{effect}");
    let (status, body) = w.send_json("POST", "/api/v1/strategy/KE/gaps/actions", Some(&owner), json!({"elements": ["FA2.1"]})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("elements")), "{body}");
    let (status, body) = w.send_json("POST", "/api/v1/strategy/KE/gaps/actions", Some(&owner), json!({"elements": ["FA1.1"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, plan) = w.get_json("/api/v1/strategy/KE/plan", Some(&owner)).await;
    assert_eq!(plan["objectives"][0]["actions"][0]["action"]["origin"], "gap:FA1.1");

    // Maturity: a CIRT of Kenya, assessed by Kenya's owner, not Ghana's.
    let levels: serde_json::Map<String, serde_json::Value> =
        rampart_strategy::data::sim3().expect("sim3").parameters.iter().map(|p| (p.id.clone(), json!(2))).collect();
    let path = format!("/api/v1/maturity/{}/assessments", w.kenya_cirt);
    let today = w.state.auth().now().date_naive().to_string();
    let (status, _) = w.send_json("POST", &path, Some(&ghana), json!({"assessed_on": today, "levels": levels})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut bad = levels.clone();
    bad.insert("T-2".into(), json!(7));
    let (status, body) = w.send_json("POST", &path, Some(&owner), json!({"assessed_on": today, "levels": bad})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("levels.T-2")), "{body}");
    let (status, body) =
        w.send_json("POST", &path, Some(&owner), json!({"assessed_on": today, "levels": levels, "targets": {"P-1": 3}})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, compare) = w.get_json("/api/v1/strategy?region=africa", Some(&owner)).await;
    assert_eq!(compare["items"].as_array().map(Vec::len), Some(1), "the Kenyan owner compares Kenya only: {compare}");
    assert_eq!(compare["items"][0]["maturity"], 2.0);

    // Pages: signed out goes to sign in; Ghana's owner is refused; a form
    // without its CSRF token changes nothing.
    let (status, response) = w.call(axum::http::Request::get("/strategy/KE").body(axum::body::Body::empty()).expect("request")).await;
    assert!(status.is_redirection(), "{status}");
    assert!(response.headers().get("location").and_then(|l| l.to_str().ok()).is_some_and(|l| l.starts_with("/login")));
    let gh_session = w.sign_in("owner@moc.gov.gh").await;
    for page in ["/strategy/KE", "/strategy/KE/assessment", "/strategy/KE/gaps", "/strategy/KE/plan", "/strategy/KE/plan.csv"] {
        let (status, _) = w.get_with_cookie(page, &gh_session.cookie()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    }
    let ke_session = w.sign_in("owner@ict.go.ke").await;
    let (status, _) = w.post_form("/strategy/KE", &ke_session.cookie(), &[("title", "x"), ("phase", "production")]).await;
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::UNPROCESSABLE_ENTITY, "{status}");
    let (status, response) = w
        .post_form("/strategy/KE", &ke_session.cookie(), &[("csrf", &ke_session.csrf), ("title", "Kenya NCS"), ("phase", "dreaming")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_text(response).await.contains("phase"), "the bad field is named on the page");
    let (_, overview) = w.get_json("/api/v1/strategy/KE", Some(&owner)).await;
    assert!(overview["record"].is_null(), "nothing was stored: {overview}");
    let (status, response) = w.get_with_cookie("/strategy/KE/plan.csv", &ke_session.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body_text(response).await.contains("gap:FA1.1"));
}
