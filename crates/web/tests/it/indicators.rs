//! The indicator store over HTTP: the page lists and filters, gathering
//! from incidents takes a CSRF-checked form, exports and the token feeds
//! carry only what the caller may see, and outsiders get nothing.

use crate::support::{World, body_text};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use rampart_auth::service::Actor;
use rampart_cirt::observables::Kind;
use rampart_core::{Role, Tlp};
use rampart_intel::indicators::Sighting;

async fn get(w: &World, path: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let (status, response) = w.call(request.body(Body::empty()).expect("request")).await;
    (status, body_text(response).await)
}

#[tokio::test]
async fn the_indicator_store_lists_gathers_and_exports_within_tlp() {
    let w = World::on_postgres_if_configured().await;
    let ghana = w.add_org("GH-CIRT", "national_cirt", "GH", None).await;
    w.add_user(&ghana, "analyst@gh.example", Role::CirtAnalyst).await;
    let analyst_row = w.store.user_by_email("analyst@ke.example").await.expect("query").expect("user");
    let analyst = w.state.auth().principal_for(&analyst_row, rampart_auth::Via::Cli, None).await.expect("principal");
    let now = w.state.auth().now();
    let sighting = |kind: Kind, value: &str, tlp: Tlp| Sighting {
        kind,
        value: value.into(),
        tlp,
        confidence: 80,
        seen_at: now,
        source: "manual".into(),
        expires_at: None,
        description: String::new(),
    };
    w.state
        .indicators()
        .record(
            &Actor { principal: &analyst, ip: None },
            &w.kenya_cirt,
            &[
                sighting(Kind::Ipv4, "203.0.113.50", Tlp::Amber),
                sighting(Kind::Domain, "evil-bank.example", Tlp::Green),
                sighting(Kind::Ipv4, "192.168.1.1", Tlp::Green),
            ],
        )
        .await
        .expect("record");

    // The page, filtered, with the warned address only on request.
    let session = w.sign_in("analyst@ke.example").await;
    let (status, response) = w.get_with_cookie("/intel/indicators", &session.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let page = body_text(response).await;
    assert!(page.contains("203.0.113.50") && page.contains("evil-bank.example") && !page.contains("192.168.1.1"), "{page}");
    let (_, response) = w.get_with_cookie("/intel/indicators?warned=1&kind=ipv4", &session.cookie()).await;
    let page = body_text(response).await;
    assert!(page.contains("192.168.1.1") && page.contains("private address") && !page.contains("evil-bank.example"));
    let (status, response) = w.get_with_cookie("/intel/indicators/export/ip.txt", &session.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body_text(response).await.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>(), ["203.0.113.50"]);

    // Gathering needs the form's CSRF token.
    let (status, _) = w.post_form("/intel/indicators/gather", &session.cookie(), &[("source", "incidents"), ("csrf", "wrong")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, response) =
        w.post_form("/intel/indicators/gather", &session.cookie(), &[("source", "incidents"), ("csrf", &session.csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/intel/indicators?done=intel.indicators.gathered");

    // Machine feeds with a token: Ghana gets the GREEN domain, not the AMBER address.
    let kenya = w.token_for("analyst@ke.example").await;
    let ghana_token = w.token_for("analyst@gh.example").await;
    let (status, csv) = get(&w, "/feeds/indicators/csv", Some(&kenya)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let (_, theirs) = get(&w, "/feeds/indicators/csv", Some(&ghana_token)).await;
    assert!(theirs.contains("evil-bank.example") && !theirs.contains("203.0.113.50"), "{theirs}");
    let (_, domains) = get(&w, "/feeds/indicators/domain.txt", Some(&ghana_token)).await;
    assert!(domains.lines().any(|l| l == "evil-bank.example"));
    let (status, stix) = get(&w, "/feeds/indicators/stix.json?max_tlp=GREEN", Some(&kenya)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(stix.contains("evil-bank.example") && !stix.contains("203.0.113.50"), "max_tlp narrows: {stix}");
    // The same view as a MISP feed: one event, its attributes within the reader's TLP.
    let (status, manifest) = get(&w, "/feeds/indicators/misp/manifest.json", Some(&ghana_token)).await;
    assert_eq!(status, StatusCode::OK);
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("manifest");
    let uuid = manifest.as_object().expect("object").keys().next().expect("one event").clone();
    let (_, event) = get(&w, &format!("/feeds/indicators/misp/{uuid}.json"), Some(&ghana_token)).await;
    let event: serde_json::Value = serde_json::from_str(&event).expect("event");
    let values: Vec<&str> =
        event["Event"]["Attribute"].as_array().expect("attributes").iter().filter_map(|a| a["value"].as_str()).collect();
    assert_eq!(values, ["evil-bank.example"]);
    let (_, hashes) = get(&w, "/feeds/indicators/misp/hashes.csv", Some(&ghana_token)).await;
    assert_eq!(hashes.lines().count(), 1);
    assert_eq!(get(&w, "/feeds/indicators/misp/nothing.json", Some(&ghana_token)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&w, "/feeds/indicators/csv", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&w, "/feeds/indicators/pdf", Some(&kenya)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&w, "/feeds/indicators/csv?max_tlp=PURPLE", Some(&kenya)).await.0, StatusCode::BAD_REQUEST);
    // An organisation administrator holds no intelligence role: no page, no feed.
    let org_admin = w.token_for("orgadmin@ke.example").await;
    assert_eq!(get(&w, "/feeds/indicators/csv", Some(&org_admin)).await.0, StatusCode::FORBIDDEN);
    let admin_session = w.sign_in("orgadmin@ke.example").await;
    assert_eq!(w.get_with_cookie("/intel/indicators", &admin_session.cookie()).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_writer_imports_a_misp_event_into_a_collection_from_the_page() {
    let w = World::on_postgres_if_configured().await;
    w.add_user(&w.kenya_cirt, "manager@ke.example", Role::CirtManager).await;
    let ghana = w.add_org("GH-CIRT", "national_cirt", "GH", None).await;
    w.add_user(&ghana, "analyst@gh.example", Role::CirtAnalyst).await;
    let manager = w.store.user_by_email("manager@ke.example").await.expect("query").expect("user");
    let manager = w.state.auth().principal_for(&manager, rampart_auth::Via::Cli, None).await.expect("principal");
    let collection = w
        .state
        .taxii()
        .create_collection(&Actor { principal: &manager, ip: None }, "Shared", "", std::slice::from_ref(&ghana), &[])
        .await
        .expect("collection");
    let event = r#"{"Event": {"uuid": "5f9c2b1e-8d3a-4c6e-9b7f-2a1d0e3c4b5a", "info": "Phishing", "date": "2026-11-20",
        "Tag": [{"name": "tlp:green"}],
        "Attribute": [{"uuid": "0b8c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4", "type": "domain", "value": "login-bank.example", "to_ids": true}]}}"#;
    let path = format!("/intel/collections/{}/misp", collection.id);
    let session = w.sign_in("analyst@ke.example").await;
    let (status, response) = w.post_form(&path, &session.cookie(), &[("event", event), ("csrf", &session.csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/intel/collections?done=intel.collections.imported");
    let analyst_row = w.store.user_by_email("analyst@ke.example").await.expect("query").expect("user");
    let analyst = w.state.auth().principal_for(&analyst_row, rampart_auth::Via::Cli, None).await.expect("principal");
    let page = w.state.taxii().objects(&analyst, &collection.id, &rampart_intel::taxii::Filter::default()).await.expect("objects");
    assert!(page.objects.iter().any(|o| o.object_type == "report") && page.objects.iter().any(|o| o.object_type == "indicator"));
    // A broken event is shown back with its place; nothing is added.
    let before = page.objects.len();
    let (status, response) =
        w.post_form(&path, &session.cookie(), &[("event", r#"{"Event": {"info": "x"}}"#), ("csrf", &session.csrf)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_text(response).await.contains("Event.uuid"));
    let after = w.state.taxii().objects(&analyst, &collection.id, &rampart_intel::taxii::Filter::default()).await.expect("objects");
    assert_eq!(after.objects.len(), before);
    // A reader who may not write is refused.
    let partner = w.sign_in("analyst@gh.example").await;
    let (status, _) = w.post_form(&path, &partner.cookie(), &[("event", event), ("csrf", &partner.csrf)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_analyst_opens_incidents_from_a_pasted_iodef_document() {
    let w = World::new().await;
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<IODEF-Document version="2.00" lang="en" xmlns="urn:ietf:params:xml:ns:iodef-2.0">
  <Incident purpose="reporting" restriction="green">
    <IncidentID name="csirt.gh.example">GH-2026-0099</IncidentID>
    <GenerationTime>2026-11-20T08:30:00Z</GenerationTime>
    <Description>Scanning from your network</Description>
    <Contact role="creator" type="organization"><ContactName>GH-CIRT</ContactName></Contact>
    <EventData><Flow><System category="source"><Node><Address category="ipv4-addr">198.51.100.77</Address></Node></System></Flow></EventData>
  </Incident>
</IODEF-Document>"#;
    let session = w.sign_in("analyst@ke.example").await;
    let fields = [("owner_org_id", w.kenya_cirt.as_str()), ("xml", xml), ("csrf", session.csrf.as_str())];
    let (status, response) = w.post_form("/cirt/incidents/iodef", &session.cookie(), &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let (status, response) = w.get_with_cookie(&location, &session.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let page = body_text(response).await;
    assert!(page.contains("Scanning from your network") && page.contains("198.51.100.77"), "{page}");
    // A document with a DTD is shown back with the reason, and opens nothing.
    let evil = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><IODEF-Document/>";
    let fields = [("owner_org_id", w.kenya_cirt.as_str()), ("xml", evil), ("csrf", session.csrf.as_str())];
    let (status, response) = w.post_form("/cirt/incidents/iodef", &session.cookie(), &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_text(response).await.contains("DTD"));
    // Brazil's analyst cannot open incidents for KE-CIRT.
    let brazil = w.sign_in("analyst@br.example").await;
    let fields = [("owner_org_id", w.kenya_cirt.as_str()), ("xml", xml), ("csrf", brazil.csrf.as_str())];
    let (status, _) = w.post_form("/cirt/incidents/iodef", &brazil.cookie(), &fields).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
