//! The CIRT desk through the real router: the incident lifecycle over the
//! REST API, confidentiality between CIRTs, what constituents see and may
//! do, the constituency registry, and the desk's pages and public report
//! form.

use crate::support::{World, body_json, body_text};
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use rampart_core::Role;
use serde_json::{Value, json};

/// A real-looking id that names nothing.
fn unknown_id(w: &World) -> String {
    rampart_core::new_id(w.state.auth().now()).to_string()
}

fn not_found(entity: &str) -> Value {
    json!({"error": {"code": "not_found", "message": format!("{entity} not found"), "field": null}})
}

fn forbidden() -> Value {
    json!({"error": {"code": "forbidden", "message": "you do not have permission to do this", "field": null}})
}

/// An ISP in Kenya whose CIRT is KE-CIRT.
async fn add_isp(w: &World, name: &str) -> String {
    w.add_org(name, "isp", "KE", Some(&w.kenya_cirt)).await
}

/// Opens an incident of KE-CIRT as `token`; `extra` overrides the defaults.
async fn open_incident(w: &World, token: &str, extra: Value) -> Value {
    let mut body = json!({"owner_org_id": w.kenya_cirt, "title": "Phishing against bank customers", "rsit_type": "phishing"});
    for (key, value) in extra.as_object().expect("object") {
        body[key] = value.clone();
    }
    let (status, created) = w.send_json("POST", "/api/v1/incidents", Some(token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

/// A GET with a browser session's cookies; the JSON answer.
async fn get_json_with_cookie(w: &World, path: &str, cookie: &str) -> (StatusCode, Value) {
    let (status, response) = w.get_with_cookie(path, cookie).await;
    (status, body_json(response).await)
}

/// A raw body (CSV) sent with a bearer token.
async fn send_text(w: &World, method: &str, path: &str, token: &str, content_type: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_owned()))
        .expect("request");
    let (status, response) = w.call(request).await;
    (status, body_json(response).await)
}

fn references(list: &Value) -> Vec<String> {
    list["items"].as_array().expect("items").iter().map(|i| i["reference"].as_str().expect("reference").to_owned()).collect()
}

fn location(response: &Response<Body>) -> Option<&str> {
    response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn an_analyst_works_an_incident_through_the_api() {
    let w = World::new().await;
    let analyst = w.token_for("analyst@ke.example").await;

    // Opened: numbered, prioritised from impact × urgency, new and unassigned.
    let incident = open_incident(&w, &analyst, json!({"impact": "high", "urgency": "high", "tlp": "AMBER"})).await;
    let id = id_of(&incident);
    let year = &incident["created_at"].as_str().expect("created_at")[..4];
    assert_eq!(incident["reference"], format!("INC-{year}-000001"));
    assert_eq!(incident["priority"], "critical");
    assert_eq!(incident["status"], "new");
    assert_eq!((incident["rsit_class"].as_str(), incident["rsit_type"].as_str()), (Some("fraud"), Some("phishing")));
    assert_eq!(incident["owner_org_id"], w.kenya_cirt.as_str());
    assert_eq!(incident["assignee_id"], Value::Null);
    assert_eq!(incident["first_response_at"], Value::Null);
    // Defaults are medium × medium; other cells of the matrix.
    let other = open_incident(&w, &analyst, json!({"title": "Scan from a customer network", "rsit_type": "scanner"})).await;
    assert_eq!(other["reference"], format!("INC-{year}-000002"));
    assert_eq!(other["priority"], "medium");
    let low = open_incident(&w, &analyst, json!({"title": "Odd mail", "impact": "low", "urgency": "medium"})).await;
    assert_eq!(low["priority"], "low");
    let (status, body) = w
        .send_json(
            "POST",
            "/api/v1/incidents",
            Some(&analyst),
            json!({"owner_org_id": w.kenya_cirt, "title": "x", "rsit_type": "phishing", "impact": "huge"}),
        )
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("impact")));

    // The workflow: new → triage; triage cannot jump to waiting for the constituent.
    let status_path = format!("/api/v1/incidents/{id}/status");
    let (status, moved) = w.send_json("POST", &status_path, Some(&analyst), json!({"status": "triage"})).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["status"], "triage");
    let (status, body) = w.send_json("POST", &status_path, Some(&analyst), json!({"status": "waiting_for_constituent"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({"error": {"code": "conflict", "message": "cannot move an incident from triage to waiting_for_constituent", "field": "status"}})
    );
    let (status, body) = w.send_json("POST", &status_path, Some(&analyst), json!({"status": "finished"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("status")));
    let (status, view) = w.get_json(&format!("/api/v1/incidents/{id}"), Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["status"], "triage", "refused moves change nothing");

    // Nothing is mine until I take it.
    let (status, mine) = w.get_json("/api/v1/incidents?queue=mine", Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(references(&mine), Vec::<String>::new());
    let (status, taken) =
        w.send_json("POST", &format!("/api/v1/incidents/{id}/assignee"), Some(&analyst), json!({"assignee_id": w.analyst_id})).await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    assert_eq!(taken["assignee_id"], w.analyst_id.as_str());
    let (status, mine) = w.get_json("/api/v1/incidents?queue=mine", Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(references(&mine), [incident["reference"].as_str().expect("reference")]);
    let (_, unassigned) = w.get_json("/api/v1/incidents?queue=unassigned", Some(&analyst)).await;
    let unassigned = references(&unassigned);
    assert!(!unassigned.contains(&incident["reference"].as_str().expect("reference").to_owned()), "{unassigned:?}");
    assert_eq!(unassigned.len(), 2, "{unassigned:?}");

    // An internal note is not a response; a response note is.
    let notes = format!("/api/v1/incidents/{id}/notes");
    let (status, noted) = w.send_json("POST", &notes, Some(&analyst), json!({"text": "Looks like the kit from last week"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(noted["first_response_at"], Value::Null);
    let (status, noted) =
        w.send_json("POST", &notes, Some(&analyst), json!({"text": "We are taking the site down.", "response": true})).await;
    assert_eq!(status, StatusCode::CREATED);
    let first_response = noted["first_response_at"].as_str().expect("first response recorded").to_owned();
    let (status, body) = w.send_json("POST", &notes, Some(&analyst), json!({"text": "   ", "response": true})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("text")));
    let (status, view) = w.get_json(&format!("/api/v1/incidents/{id}"), Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["first_response_at"], first_response.as_str());
    let timers = view["timers"].as_array().expect("timers");
    assert_eq!(timers.len(), 3, "{timers:?}");
    let kinds: Vec<&str> = timers.iter().map(|t| t["kind"].as_str().expect("kind")).collect();
    assert_eq!(kinds, ["triage", "first_response", "resolution"]);
    assert_eq!((timers[0]["state"].as_str(), timers[1]["state"].as_str()), (Some("met"), Some("met")), "{timers:?}");
    assert_eq!(timers[2]["state"], "running");
    assert_eq!(timers[2]["met_at"], Value::Null);
    assert!(!view["tasks"].as_array().expect("tasks").is_empty(), "the phishing playbook gives the handlers tasks");

    // Observables are validated per kind.
    let observables = format!("/api/v1/incidents/{id}/observables");
    let (status, body) = w.send_json("POST", &observables, Some(&analyst), json!({"kind": "ipv4", "value": "198.51.100.300"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid");
    assert_eq!(body["error"]["field"], "value");
    let (status, body) = w.send_json("POST", &observables, Some(&analyst), json!({"kind": "mac", "value": "00:11:22:33:44:55"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("kind")));
    let (status, _) = w.send_json("POST", &observables, Some(&analyst), json!({"kind": "ipv4", "value": "198.51.100.30"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, view) = w.get_json(&format!("/api/v1/incidents/{id}"), Some(&analyst)).await;
    let values: Vec<&str> = view["observables"].as_array().expect("observables").iter().filter_map(|o| o["value"].as_str()).collect();
    assert_eq!(values, ["198.51.100.30"], "only the valid address was added");

    // The queue as CSV.
    let request = Request::get("/api/v1/incidents?format=csv")
        .header(header::AUTHORIZATION, format!("Bearer {analyst}"))
        .body(Body::empty())
        .expect("request");
    let (status, response) = w.call(request).await;
    assert_eq!(status, StatusCode::OK);
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let csv = body_text(response).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "reference,title,status,priority,impact,urgency,rsit_class,rsit_type,tlp,pap,assignee_id,created_at,id");
    assert_eq!(lines.len(), 4, "a header and three open incidents: {csv}");
    let row = lines.iter().find(|l| l.starts_with(incident["reference"].as_str().expect("reference"))).expect("the incident's row");
    assert!(
        row.starts_with(&format!(
            "{},Phishing against bank customers,triage,critical,high,high,fraud,phishing,AMBER,AMBER,{}",
            incident["reference"].as_str().unwrap_or(""),
            w.analyst_id
        )),
        "{row}"
    );
}

#[tokio::test]
async fn incidents_stay_inside_their_cirt() {
    let w = World::new().await;
    let analyst = w.token_for("analyst@ke.example").await;
    // KE-CIRT is named as a constituent too, so only TLP keeps roleless members out.
    let incident = open_incident(&w, &analyst, json!({"tlp": "AMBER", "constituents": [w.kenya_cirt]})).await;
    let id = id_of(&incident);
    let path = format!("/api/v1/incidents/{id}");
    let (status, nothing_here) = w.get_json(&format!("/api/v1/incidents/{}", unknown_id(&w)), Some(&analyst)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(nothing_here, not_found("incident"));

    // Another country's analyst cannot tell it exists, nor work it, by id or reference.
    let brazil = w.token_for("analyst@br.example").await;
    let (status, body) = w.get_json(&path, Some(&brazil)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, nothing_here, "the same answer as for an id that names nothing");
    let (status, body) =
        w.get_json(&format!("/api/v1/incidents/{}", incident["reference"].as_str().expect("reference")), Some(&brazil)).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, nothing_here.clone()));
    let (status, body) = w.send_json("POST", &format!("{path}/status"), Some(&brazil), json!({"status": "triage"})).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, nothing_here.clone()));
    let (status, body) = w.send_json("POST", &format!("{path}/notes"), Some(&brazil), json!({"text": "hello"})).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, nothing_here.clone()));
    let (status, list) = w.get_json("/api/v1/incidents?queue=all", Some(&brazil)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(references(&list), Vec::<String>::new());
    let (_, view) = w.get_json(&path, Some(&analyst)).await;
    assert_eq!((view["status"].as_str(), view["timeline"].as_array().map(Vec::len)), (Some("new"), Some(1)), "nothing happened");

    // A member of KE-CIRT without any role gets no token; signed in, the API
    // answers the list as for a constituent (an empty one, TLP:AMBER needs a
    // role) and the incident not at all.
    assert_eq!(w.token_for("nobody@ke.example").await, "");
    let nobody = w.sign_in("nobody@ke.example").await;
    let (status, list) = get_json_with_cookie(&w, "/api/v1/incidents?queue=all", &nobody.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!({"items": [], "next_cursor": null}));
    let (status, body) = get_json_with_cookie(&w, &path, &nobody.cookie()).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, nothing_here.clone()));
    let (status, _) = w.get_with_cookie("/cirt", &nobody.cookie()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the queue page refuses them outright");
    // Not even a TLP:CLEAR case: belonging to a constituent is not a role.
    let clear = open_incident(&w, &analyst, json!({"tlp": "CLEAR", "constituents": [w.kenya_cirt]})).await;
    let (status, body) = get_json_with_cookie(&w, &format!("/api/v1/incidents/{}", id_of(&clear)), &nobody.cookie()).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, nothing_here.clone()));

    // The incident as IODEF: for the CIRT, not for another country's analyst.
    let session = w.sign_in("analyst@ke.example").await;
    let (status, response) = w.get_with_cookie(&format!("/cirt/incidents/{id}/iodef.xml"), &session.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap_or("").starts_with("application/xml"));
    let xml = crate::support::body_text(response).await;
    let parsed = rampart_cirt::iodef::parse(&xml).expect("our IODEF reads back");
    assert_eq!((parsed[0].id.as_str(), parsed[0].tlp), (incident["reference"].as_str().unwrap_or(""), rampart_core::Tlp::Amber));
    let brazil_session = w.sign_in("analyst@br.example").await;
    let (status, _) = w.get_with_cookie(&format!("/cirt/incidents/{id}/iodef.xml"), &brazil_session.cookie()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Platform administrators get no TLP exception.
    let admin = w.token_for("admin@example.org").await;
    let (status, body) = w.get_json(&path, Some(&admin)).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, nothing_here.clone()));
    let (status, list) = w.get_json("/api/v1/incidents?queue=all", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(references(&list), Vec::<String>::new());
}

#[tokio::test]
async fn constituents_read_their_incidents_within_tlp_and_report_to_their_cirt() {
    let w = World::new().await;
    let analyst = w.token_for("analyst@ke.example").await;
    let isp = add_isp(&w, "Savannah Telecom").await;
    w.add_user(&isp, "soc@isp.example", Role::Constituent).await;
    let constituent = w.token_for("soc@isp.example").await;
    assert!(!constituent.is_empty());

    let amber = open_incident(&w, &analyst, json!({"tlp": "AMBER", "constituents": [isp]})).await;
    let amber_id = id_of(&amber);
    let red = open_incident(&w, &analyst, json!({"title": "Named-recipient case", "tlp": "RED", "constituents": [isp]})).await;
    let red_id = id_of(&red);
    let (status, _) = w
        .send_json("POST", &format!("/api/v1/incidents/{amber_id}/notes"), Some(&analyst), json!({"text": "internal: the insider theory"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = w
        .send_json(
            "POST",
            &format!("/api/v1/incidents/{amber_id}/notes"),
            Some(&analyst),
            json!({"text": "Please reset the affected accounts.", "response": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) =
        w.send_json("POST", &format!("/api/v1/incidents/{amber_id}/assignee"), Some(&analyst), json!({"assignee_id": w.analyst_id})).await;
    assert_eq!(status, StatusCode::OK);

    // The handlers see everything.
    let (status, full) = w.get_json(&format!("/api/v1/incidents/{amber_id}"), Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!full["tasks"].as_array().expect("tasks").is_empty());
    let bodies = |view: &Value| -> Vec<String> {
        view["timeline"].as_array().expect("timeline").iter().map(|e| e["body"].as_str().expect("body").to_owned()).collect()
    };
    assert!(bodies(&full).contains(&"internal: the insider theory".to_owned()));

    // The constituent sees the AMBER incident, without the CIRT's work.
    let (status, seen) = w.get_json(&format!("/api/v1/incidents/{amber_id}"), Some(&constituent)).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["reference"], amber["reference"]);
    assert_eq!(seen["tasks"], json!([]));
    assert_eq!(seen["links"], json!([]));
    assert_eq!(seen["attachments"], json!([]));
    let kinds: Vec<&str> = seen["timeline"].as_array().expect("timeline").iter().map(|e| e["kind"].as_str().expect("kind")).collect();
    assert_eq!(kinds, ["created", "note"], "no internal note, no assignment");
    assert_eq!(bodies(&seen), [amber["title"].as_str().expect("title"), "Please reset the affected accounts."]);
    assert_eq!(seen["constituents"][0]["id"], isp.as_str());
    assert_eq!(seen["timers"].as_array().map(Vec::len), Some(3));

    // TLP:RED is for named people only: the constituent is told it does not exist.
    let (status, body) = w.get_json(&format!("/api/v1/incidents/{red_id}"), Some(&constituent)).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found("incident")));
    let (status, list) = w.get_json("/api/v1/incidents", Some(&constituent)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(references(&list), [amber["reference"].as_str().expect("reference")]);

    // Reading is not working: visible → 403, invisible → 404.
    let (status, body) =
        w.send_json("POST", &format!("/api/v1/incidents/{amber_id}/status"), Some(&constituent), json!({"status": "triage"})).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden()));
    let (status, body) =
        w.send_json("POST", &format!("/api/v1/incidents/{red_id}/status"), Some(&constituent), json!({"status": "triage"})).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found("incident")));
    let (status, body) = w
        .send_json("POST", &format!("/api/v1/incidents/{amber_id}/notes"), Some(&constituent), json!({"text": "from us", "response": true}))
        .await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden()));
    let (status, body) = w
        .send_json(
            "POST",
            "/api/v1/incidents",
            Some(&constituent),
            json!({"owner_org_id": w.kenya_cirt, "title": "ours", "rsit_type": "phishing"}),
        )
        .await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden()));
    let (_, view) = w.get_json(&format!("/api/v1/incidents/{amber_id}"), Some(&analyst)).await;
    assert_eq!(view["status"], "new");

    // Reports go to the constituent's CIRT; each sees only what it may.
    let (status, report) = w
        .send_json(
            "POST",
            "/api/v1/reports",
            Some(&constituent),
            json!({"subject": "Phishing wave", "body": "Mails link to hxxp://bank-login[.]example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["owner_org_id"], w.kenya_cirt.as_str());
    assert_eq!(report["reporter_org_id"], isp.as_str());
    assert_eq!((report["channel"].as_str(), report["status"].as_str(), report["tlp"].as_str()), (Some("api"), Some("new"), Some("AMBER")));
    assert!(report["reference"].as_str().is_some_and(|r| r.starts_with("REP-")), "{report}");
    let (status, own) = w
        .send_json("POST", "/api/v1/reports", Some(&analyst), json!({"subject": "Seen on our sensors", "body": "Scans from 203.0.113.9"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(own["owner_org_id"], w.kenya_cirt.as_str());

    let (status, list) = w.get_json("/api/v1/reports", Some(&constituent)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(references(&list), [report["reference"].as_str().expect("reference")]);
    let (status, list) = w.get_json("/api/v1/reports", Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(references(&list).len(), 2);
    let (status, body) = w.get_json(&format!("/api/v1/reports/{}", id_of(&own)), Some(&constituent)).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found("report")));
    let (status, body) = w.get_json(&format!("/api/v1/reports/{}", id_of(&report)), Some(&constituent)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["subject"], "Phishing wave");
    let brazil = w.token_for("analyst@br.example").await;
    let (status, body) = w.get_json(&format!("/api/v1/reports/{}", id_of(&report)), Some(&brazil)).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found("report")));
}

#[tokio::test]
async fn cirt_managers_keep_the_constituency_registry() {
    let w = World::new().await;
    let isp = add_isp(&w, "Savannah Telecom").await;
    w.add_user(&w.kenya_cirt, "manager@ke.example", Role::CirtManager).await;
    w.add_user(&isp, "soc@isp.example", Role::Constituent).await;
    let constituent = w.token_for("soc@isp.example").await;
    let manager = w.token_for("manager@ke.example").await;
    let analyst = w.token_for("analyst@ke.example").await;
    let entries = format!("/api/v1/constituency/{isp}/entries");

    let (status, added) = w.send_json("POST", &entries, Some(&manager), json!({"kind": "network", "value": "198.51.100.0/24"})).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added, json!({"kind": "network", "value": "198.51.100.0/24"}));
    let (status, body) = w.send_json("POST", &entries, Some(&manager), json!({"kind": "network", "value": "198.51.100.0/24"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("network")));
    let (status, body) = w.send_json("POST", &entries, Some(&manager), json!({"kind": "phone", "value": "+254"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("kind")));

    // Analysts look up but do not edit.
    for token in [&manager, &analyst] {
        let (status, found) = w.get_json("/api/v1/constituency/lookup?q=198.51.100.9", Some(token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(found["items"], json!([{"org_id": isp, "by": "network", "entry": "198.51.100.0/24"}]));
    }
    let (status, body) = w.send_json("POST", &entries, Some(&analyst), json!({"kind": "domain", "value": "savannah.example"})).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden()));
    w.add_user(&w.brazil_cirt, "manager@br.example", Role::CirtManager).await;
    let brazil_manager = w.token_for("manager@br.example").await;
    let (status, body) = w.send_json("POST", &entries, Some(&brazil_manager), json!({"kind": "domain", "value": "savannah.example"})).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden()), "another country's manager");

    // Import is all or nothing, and names the bad line.
    let csv = format!("org_id,kind,value\n{isp},domain,savannah.example\n{isp},network,not-a-network\n");
    let (status, body) = send_text(&w, "POST", "/api/v1/constituency/import", &manager, "text/csv", &csv).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid");
    assert_eq!(body["error"]["field"], "line 3");
    assert_eq!(body["error"]["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["error"]["rows"][0]["line"], 3);
    let (_, found) = w.get_json("/api/v1/constituency/lookup?q=savannah.example", Some(&manager)).await;
    assert_eq!(found["items"], json!([]), "the good row was not imported either");
    // Only those who manage some constituency may import, even an empty file.
    let good = format!("org_id,kind,value\n{isp},domain,savannah.example\n");
    let admin = w.token_for("admin@example.org").await;
    let imports_audited = async || {
        let (status, audit) = w.get_json("/api/v1/audit?action=cirt.constituency.import", Some(&admin)).await;
        assert_eq!(status, StatusCode::OK);
        audit["items"].as_array().expect("items").len()
    };
    assert_eq!(imports_audited().await, 0, "refused files are not recorded");
    for token in [&analyst, &constituent] {
        for csv in [good.as_str(), "org_id,kind,value\n"] {
            let (status, body) = send_text(&w, "POST", "/api/v1/constituency/import", token, "text/csv", csv).await;
            assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden()), "{csv}");
        }
    }
    let session = w.sign_in("analyst@ke.example").await;
    let (status, _) = w.post_form("/cirt/constituency/import", &session.cookie(), &[("csrf", &session.csrf), ("csv", &good)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(imports_audited().await, 0);
    let (status, body) = send_text(&w, "POST", "/api/v1/constituency/import", &manager, "text/csv", &good).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"added": 1})));
    assert_eq!(imports_audited().await, 1);
    let (_, found) = w.get_json("/api/v1/constituency/lookup?q=www.savannah.example", Some(&analyst)).await;
    assert_eq!(found["items"], json!([{"org_id": isp, "by": "domain", "entry": "savannah.example"}]));

    // Removal, by the value as a person writes it.
    let remove = format!("{entries}?kind=network&value=198.51.100.0%2F24");
    let (status, _) = w.send_json("DELETE", &remove, Some(&analyst), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = w.send_json("DELETE", &remove, Some(&manager), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, found) = w.get_json("/api/v1/constituency/lookup?q=198.51.100.9", Some(&manager)).await;
    assert_eq!(found["items"], json!([]));
    let (status, body) = w.send_json("DELETE", &remove, Some(&manager), json!({})).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found("registry entry")));
}

#[tokio::test]
async fn the_public_report_form_checks_csrf_and_limits_each_address() {
    let w = World::new().await;
    let (status, response) = w.call(Request::get("/report").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    let page = body_text(response).await;
    assert!(page.contains("<select id=\"r-country\" name=\"country\" required>"), "{page}");
    assert!(page.contains("<option value=\"KE\">Kenya</option>") && page.contains("<option value=\"BR\">Brazil</option>"), "{page}");

    let csrf = w.fresh_csrf().await;
    let cookie = format!("rampart_csrf={csrf}");
    let report = |n: usize| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("country".to_owned(), "KE".to_owned()),
            ("subject".to_owned(), format!("Suspicious mail {n}")),
            ("body".to_owned(), "A mail asked for my bank password.".to_owned()),
        ]
    };
    let post = async |fields: Vec<(String, String)>| {
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, response) = w.post_form("/report", &cookie, &refs).await;
        (status, body_text(response).await)
    };

    let (status, page) = post(report(1)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"report-receipt\"") && page.contains("REP-"), "{page}");

    // Without the form's token, or with another one: refused, not counted.
    let (status, _) = post(report(0)[1..].to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut wrong = report(0);
    wrong[0].1 = "x".repeat(csrf.len());
    let (status, page) = post(wrong).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("the form expired"), "{page}");
    assert!(!page.contains("REP-"));

    // Five reports per address per ten minutes. In-process requests have no
    // peer address, so they all share one bucket.
    for n in 2..=5 {
        let (status, page) = post(report(n)).await;
        assert_eq!(status, StatusCode::OK, "report {n}");
        assert!(page.contains("REP-"), "report {n}");
    }
    let (status, page) = post(report(6)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!page.contains("REP-"), "{page}");
    assert!(page.contains("Suspicious mail 6"), "the form keeps what was typed");

    // Another address has its own allowance.
    let body = serde_urlencoded::to_string(report(7)).expect("form");
    let mut request = Request::post("/report")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &cookie)
        .body(Body::from(body))
        .expect("request");
    request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([203, 0, 113, 5], 40000))));
    let (status, response) = w.call(request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body_text(response).await.contains("REP-"));

    // KE-CIRT received exactly the six accepted reports.
    let analyst = w.token_for("analyst@ke.example").await;
    let (status, list) = w.get_json("/api/v1/reports?status=all", Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 6, "{list}");
    assert!(items.iter().all(|r| r["channel"] == "public" && r["reporter_org_id"].is_null()));
    let mut subjects: Vec<&str> = items.iter().filter_map(|r| r["subject"].as_str()).collect();
    subjects.sort_unstable();
    assert_eq!(
        subjects,
        ["Suspicious mail 1", "Suspicious mail 2", "Suspicious mail 3", "Suspicious mail 4", "Suspicious mail 5", "Suspicious mail 7"]
    );
}

#[tokio::test]
async fn the_desk_pages_need_a_valid_form_and_the_right_cirt() {
    let w = World::new().await;
    let analyst_token = w.token_for("analyst@ke.example").await;
    let incident = open_incident(&w, &analyst_token, json!({})).await;
    let id = id_of(&incident);
    let reference = incident["reference"].as_str().expect("reference").to_owned();

    let analyst = w.sign_in("analyst@ke.example").await;
    let (status, response) = w.get_with_cookie("/cirt", &analyst.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body_text(response).await.contains(&reference), "the queue lists the incident");
    let (status, response) = w.get_with_cookie(&format!("/cirt/incidents/{id}"), &analyst.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body_text(response).await.contains(&reference));

    // A wrong CSRF token changes nothing; the right one moves the incident.
    let status_path = format!("/cirt/incidents/{id}/status");
    let (status, _) = w.post_form(&status_path, &analyst.cookie(), &[("csrf", "not-the-token"), ("status", "triage")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, view) = w.get_json(&format!("/api/v1/incidents/{id}"), Some(&analyst_token)).await;
    assert_eq!(view["status"], "new");
    let (status, response) = w.post_form(&status_path, &analyst.cookie(), &[("csrf", &analyst.csrf), ("status", "triage")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&response), Some(format!("/cirt/incidents/{id}?done=cirt.incident.status_changed").as_str()));
    let (_, view) = w.get_json(&format!("/api/v1/incidents/{id}"), Some(&analyst_token)).await;
    assert_eq!(view["status"], "triage");
    // An illegal move shows the page again with the conflict.
    let (status, response) =
        w.post_form(&status_path, &analyst.cookie(), &[("csrf", &analyst.csrf), ("status", "waiting_for_constituent")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body_text(response).await.contains("cannot move an incident from triage to waiting_for_constituent"));

    // Another CIRT's analyst: not found, by page and by form.
    let brazil = w.sign_in("analyst@br.example").await;
    let (status, response) = w.get_with_cookie(&format!("/cirt/incidents/{id}"), &brazil.cookie()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body_text(response).await.contains(&reference));
    let (status, _) = w.post_form(&status_path, &brazil.cookie(), &[("csrf", &brazil.csrf), ("status", "in_progress")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, response) = w.get_with_cookie("/cirt?queue=all", &brazil.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body_text(response).await.contains(&reference));
    let (_, view) = w.get_json(&format!("/api/v1/incidents/{id}"), Some(&analyst_token)).await;
    assert_eq!(view["status"], "triage");

    // Signed out: the pages send people to the login form.
    let (status, response) = w.call(Request::get("/cirt").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&response), Some("/login"));
}

#[tokio::test]
async fn the_cvss_calculator_builds_vectors_from_the_picked_metrics() {
    let w = World::new().await;
    let analyst = w.sign_in("analyst@ke.example").await;
    let page = |path: String| {
        let cookie = analyst.cookie();
        let w = &w;
        async move {
            let (status, response) = w.get_with_cookie(&path, &cookie).await;
            (status, body_text(response).await)
        }
    };
    let v4 = "version=4.0&v4_AV=N&v4_AC=L&v4_AT=N&v4_PR=N&v4_UI=N&v4_VC=H&v4_VI=H&v4_VA=H&v4_SC=N&v4_SI=N&v4_SA=N";
    let (status, html) = page(format!("/cirt/cvss?{v4}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"), "the vector is built");
    assert!(html.contains("9.3 (CVSS 4.0)") && html.contains("CRITICAL"), "and scored");
    // A pasted v3.1 vector fills the v3.1 picker.
    let (_, html) = page("/cirt/cvss?vector=CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N".into()).await;
    assert!(html.contains("1.8 (CVSS 3.1)"), "scored");
    assert!(html.contains(r#"<option value="L" selected>Local (L)</option>"#), "AV:L picked");
    assert!(html.contains(r#"<option value="R" selected>Required (R)</option>"#), "UI:R picked");
    // A value outside the metric's range falls back to its first value, never into the vector.
    let (_, html) = page("/cirt/cvss?version=3.1&v3_AV=Z".into()).await;
    assert!(html.contains("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), "{html}");
    let (status, html) = page("/cirt/cvss?vector=CVSS:3.1/AV:N".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("base metric(s) missing"), "the error names what is missing");
}

#[tokio::test]
async fn the_home_page_offers_the_cirt_desk_to_those_who_work_it() {
    let w = World::new().await;
    for (email, expected) in [("analyst@ke.example", true), ("nobody@ke.example", false), ("admin@example.org", false)] {
        let session = w.sign_in(email).await;
        let (status, response) = w.get_with_cookie("/", &session.cookie()).await;
        assert_eq!(status, StatusCode::OK);
        let html = body_text(response).await;
        assert_eq!(html.contains(r#"id="module-cirt""#), expected, "{email}");
    }
}
