//! The GCI over HTTP: a past edition imported through the API reproduces
//! the published ranks with intervals; a campaign from answers to
//! publication through the API; nothing public before publication; pages
//! and exports for the public; bad input named.

use crate::support::{World, body_text};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use rampart_auth::service::Actor;
use rampart_auth::{Principal, Scope};
use rampart_core::Role;
use serde_json::json;

fn corpus_2020() -> String {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/gci/gci_2020_pillars_long.csv");
    std::fs::read_to_string(path).expect("corpus")
}

async fn grant(w: &World, email: &str, role: Role, scope: Scope) {
    let user = w.store.user_by_email(email).await.expect("query").expect("user");
    let cli = Principal::cli("test");
    w.state.auth().grant_role(&Actor { principal: &cli, ip: None }, &user.id, role, scope).await.expect("grant");
}

async fn get_page(w: &World, path: &str) -> (StatusCode, String) {
    let (status, response) = w.call(Request::get(path).body(Body::empty()).expect("request")).await;
    (status, body_text(response).await)
}

#[tokio::test]
async fn the_gci_cycle_over_the_api_and_the_public_pages() {
    let w = World::on_postgres_if_configured().await;
    let itu = w.add_org("ITU", "international", "CH", None).await;
    let ke = w.add_org("Ministry of ICT Kenya", "ministry", "KE", None).await;
    w.add_user(&itu, "editor@itu.example", Role::Viewer).await;
    w.add_user(&itu, "reviewer@itu.example", Role::Viewer).await;
    w.add_user(&ke, "focal@ict.go.ke", Role::Viewer).await;
    grant(&w, "editor@itu.example", Role::GciEditor, Scope::Global).await;
    grant(&w, "reviewer@itu.example", Role::GciReviewer, Scope::Global).await;
    grant(&w, "focal@ict.go.ke", Role::GciFocalPoint, Scope::Country("KE".into())).await;
    let editor = w.token_for("editor@itu.example").await;
    let reviewer = w.token_for("reviewer@itu.example").await;
    let focal = w.token_for("focal@ict.go.ke").await;

    // Importing the published GCI 2020 reproduces its ranks, with intervals.
    let (status, body) = w
        .send_json(
            "POST",
            "/api/v1/gci/results",
            Some(&focal),
            json!({"edition": "gci-2020", "name": "x", "csv": "country,overall\nKE,50\n"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = w
        .send_json(
            "POST",
            "/api/v1/gci/results",
            Some(&editor),
            json!({"edition": "gci-2020", "name": "bad", "csv": "country,overall\nXX,50\nKE,150\n"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("line 2") && message.contains("line 3"), "{message}");
    let (status, body) = w
        .send_json("POST", "/api/v1/gci/results", Some(&editor), json!({"edition": "gci-2020", "name": "GCI 2020", "csv": corpus_2020()}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["warnings"].as_array().map(Vec::len), Some(4));
    let imported = body["id"].as_str().expect("id").to_owned();
    let (status, results) = w.get_json(&format!("/api/v1/gci/results/{imported}"), Some(&focal)).await;
    assert_eq!(status, StatusCode::OK);
    let row = |code: &str| results["rows"].as_array().and_then(|rows| rows.iter().find(|r| r["alpha3"] == code).cloned()).expect(code);
    assert_eq!(
        (row("USA")["rank"].as_f64(), row("GBR")["rank"].as_f64(), row("SAU")["rank"].as_f64(), row("EST")["rank"].as_f64()),
        (Some(1.0), Some(2.0), Some(2.0), Some(3.0))
    );
    assert_eq!(row("USA")["p5_rank"], 1);
    assert!(row("KEN")["p95_rank"].as_u64() >= row("KEN")["p5_rank"].as_u64());
    let (status, standard) = w.get_json(&format!("/api/v1/gci/results/{imported}?ranking=standard"), Some(&focal)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        standard["rows"].as_array().and_then(|r| r.iter().find(|r| r["alpha3"] == "EST")).map(|r| r["rank"].clone()),
        Some(json!(4.0))
    );
    let (status, body) =
        w.get_json(&format!("/api/v1/gci/results/{imported}/analysis?draws=500&seed=3&model=dirichlet"), Some(&focal)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["countries"].as_array().map(Vec::len), Some(188));
    assert_eq!(body["excluded"].as_array().map(Vec::len), Some(3));
    let (status, body) = w.get_json(&format!("/api/v1/gci/results/{imported}/analysis?draws=999999"), Some(&focal)).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("draws")));

    // The public sees the table, the map, profiles and exports.
    let (status, page) = get_page(&w, &format!("/gci/results/{imported}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"gci-map\"") && page.contains("data-country=\"US\""), "the map and the table");
    let (status, page) = get_page(&w, &format!("/gci/results/{imported}/countries/EE")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"profile-rank\">3<") && page.contains("id=\"pillar-radar\""), "Estonia is third");
    let (status, csv) = get_page(&w, &format!("/gci/results/{imported}/export.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.starts_with("alpha3,alpha2,name,region,overall,legal"), "{}", &csv[..80.min(csv.len())]);
    assert!(csv.contains("\nGBR,GB,United Kingdom of Great Britain and Northern Ireland,europe,99.54,"), "{}", &csv[..300.min(csv.len())]);

    // A campaign: open, answer with evidence, submit, review, validate, publish.
    let (status, campaign) = w
        .send_json(
            "POST",
            "/api/v1/gci/campaigns",
            Some(&editor),
            json!({"edition": "gci-2024", "name": "GCI 2026", "deadline": "2099-12-31", "countries": ["KE", "GH"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{campaign}");
    let id = campaign["id"].as_str().expect("id").to_owned();
    let answer = |value: &str| json!({"value": value, "evidence": [{"kind": "link", "target": "https://example.go.ke/act", "name": "Act", "checked_on": "2026-01-10"}]});
    let path = |q: &str| format!("/api/v1/gci/campaigns/{id}/countries/KE/answers/{q}");
    let (status, body) = w.send_json("PUT", &path("L1.1.a.q1"), Some(&focal), answer("in_place")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = w.send_json("PUT", &path("L1.1.b.q1"), Some(&focal), answer("sometimes")).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("value")));
    let (status, _) =
        w.send_json("PUT", &format!("/api/v1/gci/campaigns/{id}/countries/GH/answers/L1.1.a.q1"), Some(&focal), answer("in_place")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "Kenya's focal point cannot answer for Ghana");
    w.send_json("PUT", &path("T1.1.a.q1"), Some(&focal), answer("partial")).await;
    let (status, _) = w.send_json("POST", &format!("/api/v1/gci/campaigns/{id}/countries/KE/submit"), Some(&focal), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let review = |q: &str| format!("/api/v1/gci/campaigns/{id}/countries/KE/review/{q}");
    let (status, body) = w.send_json("POST", &review("L1.1.a.q1"), Some(&reviewer), json!({"decision": "clarify"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("comment")));
    w.send_json("POST", &review("L1.1.a.q1"), Some(&reviewer), json!({"decision": "clarify", "comment": "Which section?"})).await;
    let (status, _) = w.send_json("POST", &review("T1.1.a.q1"), Some(&reviewer), json!({"decision": "accept"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = w.send_json("POST", &format!("/api/v1/gci/campaigns/{id}/countries/KE/validate"), Some(&reviewer), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "one answer is waiting for clarification");
    let (status, _) = w.send_json("PUT", &path("L1.1.a.q1"), Some(&focal), answer("in_place")).await;
    assert_eq!(status, StatusCode::OK);
    w.send_json("POST", &review("L1.1.a.q1"), Some(&reviewer), json!({"decision": "accept"})).await;
    let (status, _) = w.send_json("POST", &format!("/api/v1/gci/campaigns/{id}/countries/KE/validate"), Some(&reviewer), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, board) = w.get_json(&format!("/api/v1/gci/campaigns/{id}/board"), Some(&editor)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(board["items"].as_array().map(Vec::len), Some(2));

    // Nothing of the campaign is public before publication.
    let (_, list) = w.get_json("/api/v1/gci/results", Some(&focal)).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    let (status, _) = w.send_json("POST", &format!("/api/v1/gci/campaigns/{id}/publish"), Some(&reviewer), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, published) = w.send_json("POST", &format!("/api/v1/gci/campaigns/{id}/publish"), Some(&editor), json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let set = published["id"].as_str().expect("id");
    let (status, page) = get_page(&w, &format!("/gci/results/{set}/countries/KE")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"profile-tier\"") && page.contains("id=\"strongest\""), "a tier and indicator strengths");
    assert!(!page.contains("id=\"profile-rank\""), "GCI 2024 publishes tiers, not ranks");
    // Pages that need an account say so.
    let (status, _) = get_page(&w, "/gci/campaigns").await;
    assert!(status == StatusCode::SEE_OTHER || status == StatusCode::UNAUTHORIZED, "{status}");
}
