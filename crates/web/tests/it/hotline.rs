//! The hotline over HTTP: the public form (CSRF, rate limit, no account),
//! the status check, the partner and analyst API through a referral and
//! takedown, pages that never show reported media, uploads hashed and
//! dropped, hash-list imports that name bad rows, TLP on export, and the
//! guidance pages.

use crate::support::{World, body_json, body_text, post_multipart};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use rampart_core::Role;
use serde_json::json;
use std::path::PathBuf;

fn corpora() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
}

async fn world(postgres: bool) -> (World, String, String) {
    let mmdb = |name: &str| corpora().join("mmdb/test-data").join(name);
    let tracer =
        rampart_cop::trace::Tracer::open(Some(&mmdb("GeoIP2-Country-Test.mmdb")), Some(&mmdb("GeoLite2-ASN-Test.mmdb"))).expect("dbs");
    let config = rampart_web::WebConfig {
        login_attempts_per_minute: 1000,
        hotline: rampart_cop::hotline::HotlineSettings { retention_days: 30, tracer: std::sync::Arc::new(tracer) },
        ..Default::default()
    };
    let w = World::build(postgres, config).await;
    let ke = w.add_org("Child Safety Hotline Kenya", "hotline", "KE", None).await;
    let se = w.add_org("Hotline Sweden", "hotline", "SE", None).await;
    w.add_user(&ke, "hotline@ke.example", Role::HotlineAnalyst).await;
    w.add_user(&se, "hotline@se.example", Role::HotlineAnalyst).await;
    (w, ke, se)
}

#[tokio::test]
async fn the_public_form_needs_no_account_gives_a_receipt_and_is_rate_limited() {
    let (w, _, _) = world(false).await;
    let csrf = w.fresh_csrf().await;
    let cookie = format!("rampart_csrf={csrf}; rampart_lang=ar");
    let (_, response) = w.get_with_cookie("/", "").await;
    let home = body_text(response).await;
    assert!(home.contains("id=\"home-report-abuse\"") && home.contains("href=\"/guidance\""), "the public finds the form and guidance");
    let (status, response) = w.get_with_cookie("/hotline/report", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    let page = body_text(response).await;
    assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">") && page.contains("value=\"KE\""), "countries with a hotline are offered");
    assert!(!page.contains("value=\"BR\""), "a country without a hotline is not");

    let (status, _) = w
        .post_form(
            "/hotline/report",
            &cookie,
            &[("csrf", "forged"), ("urls", "http://a.example/"), ("category", "grooming"), ("country", "KE")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "CSRF is checked");
    let (status, response) = w
        .post_form(
            "/hotline/report",
            &cookie,
            &[("csrf", &csrf), ("urls", "not a url at all"), ("category", "grooming"), ("country", "KE")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_text(response).await.contains("id=\"form-error\""));
    let (status, response) = w
        .post_form(
            "/hotline/report",
            &cookie,
            &[("csrf", &csrf), ("urls", "http://a.example/1"), ("category", "grooming"), ("country", "KE"), ("description", "")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = body_text(response).await;
    let at = page.find("id=\"receipt-number\" dir=\"ltr\">").expect("receipt shown") + "id=\"receipt-number\" dir=\"ltr\">".len();
    let receipt = &page[at..at + 17];
    assert!(receipt.starts_with("HL-"), "{receipt}");
    let (status, response) = w.get_with_cookie(&format!("/hotline/status?receipt={receipt}"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body_text(response).await.contains("id=\"status-state\""));
    let (status, _) = w.get_with_cookie("/hotline/status?receipt=HL-AAAA-BBBB-CCCC", &cookie).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Five reports per address per ten minutes (one was refused above).
    let mut statuses = Vec::new();
    for i in 0..4 {
        let url = format!("http://b.example/{i}");
        let (status, _) =
            w.post_form("/hotline/report", &cookie, &[("csrf", &csrf), ("urls", &url), ("category", "grooming"), ("country", "KE")]).await;
        statuses.push(status);
    }
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}

#[tokio::test]
async fn partners_and_analysts_work_a_report_through_the_api_to_takedown() {
    let (w, ke, se) = world(true).await;
    let ke_token = w.token_for("hotline@ke.example").await;
    let se_token = w.token_for("hotline@se.example").await;
    let cirt_token = w.token_for("analyst@ke.example").await;

    // Sweden's hotline sends Kenya a report through the partner API.
    let body = json!({"urls": ["http://host.example.se/p/1"], "category": "child_sexual_abuse", "country": "KE", "partner_reference": "SE-2026-77"});
    let (status, receipt) = w.send_json("POST", "/api/v1/hotline/reports", Some(&se_token), body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(receipt["hotline"], "Child Safety Hotline Kenya");
    let (status, error) = w
        .send_json(
            "POST",
            "/api/v1/hotline/reports",
            Some(&se_token),
            json!({"urls": ["x"], "category": "grooming", "country": "KE", "colour": 1}),
        )
        .await;
    assert_eq!((status, error["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("colour")));
    let (status, _) = w.send_json("POST", "/api/v1/hotline/reports", Some(&cirt_token), body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = w.get_json("/api/v1/hotline/items", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = w.get_json("/api/v1/hotline/items", Some(&cirt_token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, items) = w.get_json("/api/v1/hotline/items?status=new", Some(&ke_token)).await;
    assert_eq!(status, StatusCode::OK);
    let id = items["items"][0]["id"].as_str().expect("an item").to_owned();
    let (status, _) = w.get_json(&format!("/api/v1/hotline/items/{id}"), Some(&se_token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the sender does not read the receiver's case");
    let (status, view) = w.get_json(&format!("/api/v1/hotline/items/{id}"), Some(&ke_token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["report"]["partner_reference"], "SE-2026-77");
    assert_eq!(view["report"]["channel"], "partner");

    let (status, item) =
        w.send_json("POST", &format!("/api/v1/hotline/items/{id}/assess"), Some(&ke_token), json!({"outcome": "illegal_interpol"})).await;
    assert_eq!((status, item["status"].as_str()), (StatusCode::OK, Some("assessed")));
    let (status, error) =
        w.send_json("POST", &format!("/api/v1/hotline/items/{id}/trace"), Some(&ke_token), json!({"ip": "999.1.1.1"})).await;
    assert_eq!((status, error["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("ip")));
    let (status, item) =
        w.send_json("POST", &format!("/api/v1/hotline/items/{id}/trace"), Some(&ke_token), json!({"ip": "89.160.20.112"})).await;
    assert_eq!((status, item["hosting_country"].as_str(), item["asn"].as_i64()), (StatusCode::OK, Some("SE"), Some(29518)));
    let (status, referral) =
        w.send_json("POST", &format!("/api/v1/hotline/items/{id}/refer"), Some(&ke_token), json!({"to_org_id": se})).await;
    assert_eq!(status, StatusCode::CREATED, "{referral}");
    let referral_id = referral["id"].as_str().expect("id").to_owned();

    let (status, received) = w.get_json("/api/v1/hotline/referrals", Some(&se_token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(received["items"][0]["url"], "http://host.example.se/p/1");
    let (status, view) = w.get_json(&format!("/api/v1/hotline/items/{id}"), Some(&se_token)).await;
    assert_eq!(status, StatusCode::OK, "a referral opens the item to its receiver");
    assert_eq!(view["report"]["reporter_email"], json!(null));
    for step in ["notice_sent", "removed"] {
        let (status, body) =
            w.send_json("POST", &format!("/api/v1/hotline/referrals/{referral_id}"), Some(&se_token), json!({"step": step})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _) =
        w.send_json("POST", &format!("/api/v1/hotline/referrals/{referral_id}"), Some(&ke_token), json!({"step": "confirmed"})).await;
    assert_eq!(status, StatusCode::OK);
    let receipt_number = receipt["receipt"].as_str().expect("receipt").to_owned();
    let (status, progress) = w.get_json(&format!("/api/v1/hotline/reports/status?receipt={receipt_number}"), Some(&se_token)).await;
    assert_eq!((status, progress["state"].as_str()), (StatusCode::OK, Some("removed")), "the partner follows its report to removal");
    let (status, _) = w.get_json(&format!("/api/v1/hotline/reports/status?receipt={receipt_number}"), Some(&cirt_token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, stats) = w.get_json("/api/v1/hotline/stats", Some(&ke_token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["overall"]["removed"], 1);
    assert_eq!(stats["hosting_countries"][0][0], "SE");
    let _ = ke;
}

#[tokio::test]
async fn item_pages_show_no_media_and_uploads_are_hashed_and_dropped() {
    let (w, ke, _) = world(false).await;
    let report = rampart_cop::hotline::NewHotlineReport {
        urls: "http://bad.example/photo.jpg".into(),
        category: "child_sexual_abuse".into(),
        description: "<img src=x onerror=alert(1)>".into(),
        country: Some("KE".into()),
        ..Default::default()
    };
    w.state.hotline().submit(None, &report).await.expect("submit");
    let analyst = w.sign_in("hotline@ke.example").await;
    let (_, response) = w.get_with_cookie("/", &analyst.cookie()).await;
    assert!(body_text(response).await.contains("id=\"module-hotline\""));
    let (status, response) = w.get_with_cookie("/hotline", &analyst.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let queue = body_text(response).await;
    let at = queue.find("/hotline/items/").expect("an item link") + "/hotline/items/".len();
    let id: String = queue[at..].chars().take_while(|c| *c != '"').collect();
    let (status, response) = w.get_with_cookie(&format!("/hotline/items/{id}"), &analyst.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let page = body_text(response).await;
    assert!(!page.contains("<img") && !page.contains("<video") && !page.contains("<iframe"), "no media, even from the reporter's text");
    assert!(
        page.contains("&#60;img src=x"),
        "the description is escaped: {}",
        &page[page.find("report-description").unwrap_or(0)..][..200]
    );
    assert!(!page.contains("href=\"http://bad.example"), "the address is text, not a link");
    // Each view is audited.
    let views = w
        .store
        .audit_list(
            &rampart_store::AuditFilter { action_prefix: Some("cop.item.view".into()), ..Default::default() },
            &rampart_store::PageRequest::first(10),
        )
        .await
        .expect("audit");
    assert_eq!(views.items.len(), 1);
    // Others: not found, or not allowed at all.
    let cirt = w.sign_in("analyst@ke.example").await;
    let (status, _) = w.get_with_cookie(&format!("/hotline/items/{id}"), &cirt.cookie()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.get_with_cookie("/hotline", &cirt.cookie()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An image is hashed and compared; nothing of it is stored.
    let photo = std::fs::read(corpora().join("pdq/data/bridge-mods/aaa-orig.jpg")).expect("image");
    let (status, _) =
        post_multipart(&w, &format!("/hotline/items/{id}/hash"), &analyst.cookie(), &[("csrf", &analyst.csrf)], Some(("a.jpg", &photo)))
            .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let item = w.store.hotline_item_get(&id).await.expect("item");
    assert_eq!(item.pdq.as_deref(), Some("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"));
    let (status, page) = post_multipart(
        &w,
        &format!("/hotline/items/{id}/hash"),
        &analyst.cookie(),
        &[("csrf", &analyst.csrf)],
        Some(("b.jpg", b"not an image")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"form-error\""));

    // Photographs larger than the default form limit are accepted (and this
    // one refused as an image, not as too large).
    let large = vec![0u8; 3 * 1024 * 1024];
    let (status, page) =
        post_multipart(&w, "/hotline/match", &analyst.cookie(), &[("csrf", &analyst.csrf)], Some(("big.jpg", &large))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("not a JPEG, PNG, WebP, GIF or BMP image"), "refused as an image, not for its size");

    // A hash list import names its bad rows and changes nothing.
    let (status, response) = w
        .post_form("/hotline/lists", &analyst.cookie(), &[("csrf", &analyst.csrf), ("org_id", &ke), ("name", "Series"), ("tlp", "AMBER")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let list_path = location.split('?').next().unwrap_or("").to_owned();
    let bad = b"hash,type,tags\nzz,md5,\nf8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,pdq,a\n";
    let (status, page) = post_multipart(
        &w,
        &format!("{list_path}/import"),
        &analyst.cookie(),
        &[("csrf", &analyst.csrf), ("format", "csv")],
        Some(("l.csv", bad)),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("line 2: hash"), "the bad row is named");
    let good = b"hash,type,tags\nf8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,pdq,a\n";
    let (status, _) = post_multipart(
        &w,
        &format!("{list_path}/import"),
        &analyst.cookie(),
        &[("csrf", &analyst.csrf), ("format", "csv")],
        Some(("l.csv", good)),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, response) = w.get_with_cookie(&format!("{list_path}/export?format=csv"), &analyst.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response.headers().get("x-tlp").and_then(|v| v.to_str().ok()), Some("TLP:AMBER"));
    assert!(body_text(response).await.ends_with(",pdq,a\n"));
    let other = w.sign_in("hotline@se.example").await;
    let (status, _) = w.get_with_cookie(&format!("{list_path}/export?format=csv"), &other.cookie()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "AMBER: not for another hotline");

    // Matching an uploaded rotated copy over the API.
    let token = w.token_for("hotline@ke.example").await;
    let rotated = std::fs::read(corpora().join("pdq/data/reg-test-input/dih/bridge-4-rotate-270.jpg")).expect("image");
    let request = Request::post("/api/v1/hash-lists/match-image")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(rotated))
        .expect("request");
    let (status, response) = w.call(request).await;
    assert_eq!(status, StatusCode::OK);
    let found = body_json(response).await;
    assert_eq!(found["hits"][0]["list_name"], "Series", "{found}");
}

#[tokio::test]
async fn guidance_pages_render_safely_and_admins_edit_them() {
    let (w, _, _) = world(false).await;
    let (status, response) = w.get_with_cookie("/guidance", "rampart_lang=fr").await;
    assert_eq!(status, StatusCode::OK);
    let index = body_text(response).await;
    for audience in rampart_cop::guidance::AUDIENCES {
        assert!(index.contains(&format!("href=\"/guidance/{audience}\"")), "{audience}");
    }
    let (status, response) = w.get_with_cookie("/guidance/teens-13-18", "rampart_lang=ar").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body_text(response).await.contains("<article class=\"guidance narrow\" lang=\"ar\" dir=\"rtl\">"));
    let (status, _) = w.get_with_cookie("/guidance/nobody", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let analyst = w.sign_in("hotline@ke.example").await;
    let (status, _) = w.get_with_cookie("/guidance/industry/edit", &analyst.cookie()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = w.sign_in("admin@example.org").await;
    let (status, _) = w.get_with_cookie("/guidance/industry/edit?lang=en", &admin.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let body = "## Safety by design\n\n<script>alert(1)</script>\n\nBuild [reporting](/hotline/report) in.";
    let (status, _) = w
        .post_form(
            "/guidance/industry/edit",
            &admin.cookie(),
            &[("csrf", &admin.csrf), ("lang", "en"), ("title", "For industry"), ("body", body)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, response) = w.get_with_cookie("/guidance/industry", "").await;
    let page = body_text(response).await;
    assert!(
        page.contains("<h2>Safety by design</h2>") && page.contains("<a href=\"/hotline/report\">reporting</a>"),
        "{}",
        &page[page.find("<article").unwrap_or(0)..]
    );
    assert!(!page.contains("<script>alert") && (page.contains("&lt;script&gt;") || page.contains("&#60;script")));
}
