//! The REST API under `/api/v1`, driven in-process through the real router:
//! the OpenAPI document against the route catalogue, authentication on every
//! operation, role and scope checks, paging, validation and the audit trail.

use crate::support::{World, body_json, body_text};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use std::collections::HashSet;

/// A real-looking id that names nothing.
fn unknown_id(w: &World) -> String {
    rampart_core::new_id(w.state.auth().now()).to_string()
}

/// Every `$ref` string anywhere in `value`.
fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "$ref" {
                    out.push(inner.as_str().expect("$ref is a string").to_owned());
                } else {
                    collect_refs(inner, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}

/// `/api/v1/users/{id}/roles/{grant_id}` with every parameter replaced by `id`.
fn fill_path(template: &str, id: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').expect("closing brace") + open;
        out.push_str(&rest[..open]);
        out.push_str(id);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

async fn request(w: &World, method: &str, uri: &str, authorization: Option<String>, body: Option<Value>) -> (StatusCode, Value) {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(value) = authorization {
        builder = builder.header(header::AUTHORIZATION, value);
    }
    let body = match body {
        Some(json) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let (status, response) = w.call(builder.body(body).expect("request")).await;
    (status, body_json(response).await)
}

fn error_field(body: &Value) -> &Value {
    &body["error"]["field"]
}

#[tokio::test]
async fn openapi_document_matches_the_catalogue_and_every_operation_requires_authentication() {
    let w = World::new().await;
    let (status, doc) = w.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc, rampart_web::api::openapi_document());
    assert_eq!(doc["openapi"], "3.1.0");

    // Every reference resolves to a schema.
    let schemas = doc["components"]["schemas"].as_object().expect("components.schemas");
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 20, "the document uses references: {refs:?}");
    for reference in &refs {
        let name = reference.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {reference}"));
        assert!(schemas.contains_key(name), "$ref {reference} names no schema");
    }

    // Exactly the catalogue's routes, each with a unique id and a 401.
    let catalogue = rampart_web::api::catalogue();
    let mut operation_ids = HashSet::new();
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(operation_ids.insert(id.to_owned()), "operationId {id} is used twice");
            assert_eq!(
                operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error",
                "{method} {path} documents its 401"
            );
            operations.push((method.clone(), path.clone()));
        }
    }
    assert_eq!(operations.len(), catalogue.len());
    for route in &catalogue {
        let operation = &doc["paths"][format!("/api/v1{}", route.path)][route.method];
        assert_eq!(operation["operationId"], route.operation_id, "{} {} is documented", route.method, route.path);
        assert!(operation["responses"][route.success_status.to_string()].is_object(), "{} {}", route.method, route.path);
    }

    // Nobody gets anything without a valid credential: not anonymously, not
    // with a made-up token, on every documented operation.
    let id = unknown_id(&w);
    let credentials = [None, Some("Bearer rmp_not-a-real-token".to_owned()), Some("Bearer not-even-a-prefix".to_owned())];
    for (method, path) in &operations {
        let uri = fill_path(path, &id);
        for credential in &credentials {
            let body = (method == "post").then(|| json!({}));
            let (status, body) = request(&w, &method.to_uppercase(), &uri, credential.clone(), body).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri} with {credential:?}");
            assert_eq!(
                body,
                json!({"error": {"code": "unauthenticated", "message": "authentication required", "field": null}}),
                "{method} {uri}"
            );
        }
    }
    // The 401 tells clients how to authenticate.
    let (_, response) = w.call(Request::get("/api/v1/me").body(Body::empty()).expect("request")).await;
    assert_eq!(response.headers().get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()), Some("Bearer realm=\"rampart\""));
}

#[tokio::test]
async fn an_analyst_is_refused_administrator_routes() {
    let w = World::new().await;
    let analyst = w.token_for("analyst@ke.example").await;
    let forbidden = json!({"error": {"code": "forbidden", "message": "you do not have permission to do this", "field": null}});
    for path in ["/api/v1/users", "/api/v1/audit", "/api/v1/audit/verify"] {
        let (status, body) = w.get_json(path, Some(&analyst)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "GET {path}");
        assert_eq!(body, forbidden, "GET {path}");
    }
    let before = w.store.org_count().await.expect("count");
    let (status, body) = w
        .send_json("POST", "/api/v1/organisations", Some(&analyst), json!({"name": "Rogue CIRT", "kind": "national_cirt", "country": "KE"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, forbidden);
    assert_eq!(w.store.org_count().await.expect("count"), before);
    let (status, body) = w
        .send_json(
            "POST",
            "/api/v1/users",
            Some(&analyst),
            json!({"org_id": w.kenya_cirt, "email": "new@ke.example", "display_name": "New", "password": "a long enough passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, forbidden);
    // The same analyst may read the directory.
    let (status, _) = w.get_json("/api/v1/organisations", Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn countries_list_filter_export_and_lookup() {
    let w = World::new().await;
    let token = w.token_for("analyst@ke.example").await;

    let (status, all) = w.get_json("/api/v1/countries", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let items = all["items"].as_array().expect("items");
    assert_eq!(items.len(), 194);
    assert_eq!(all["next_cursor"], Value::Null);
    let kenya = items.iter().find(|c| c["alpha2"] == "KE").expect("Kenya is listed");
    assert_eq!(kenya, &json!({"alpha2": "KE", "alpha3": "KEN", "numeric": "404", "name": "Kenya", "region": "africa"}));

    let (status, cis) = w.get_json("/api/v1/countries?region=cis", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let cis = cis["items"].as_array().expect("items");
    assert_eq!(cis.len(), 9);
    assert!(cis.iter().all(|c| c["region"] == "cis"));

    let (status, found) = w.get_json("/api/v1/countries?q=kenya", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));

    let (status, response) = w
        .call(
            Request::get("/api/v1/countries?format=csv")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(content_type.starts_with("text/csv"), "content type {content_type}");
    let csv = body_text(response).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.first(), Some(&"alpha2,alpha3,numeric,name,region"));
    assert_eq!(lines.len(), 195);
    assert!(lines.contains(&"KE,KEN,404,Kenya,africa"));

    let (status, body) = w.get_json("/api/v1/countries?region=mars", Some(&token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "invalid");
    assert_eq!(error_field(&body), "region");
    let (status, body) = w.get_json("/api/v1/countries?format=xml", Some(&token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&body), "format");

    for code in ["KEN", "KE", "ke", "404"] {
        let (status, country) = w.get_json(&format!("/api/v1/countries/{code}"), Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{code}");
        assert_eq!(country["alpha2"], "KE", "{code}");
    }
    let (status, body) = w.get_json("/api/v1/countries/ZZ", Some(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": {"code": "not_found", "message": "country not found", "field": null}}));
}

/// Walks the directory one organisation at a time.
async fn organisations_page_by_cursor(w: &World) {
    let token = w.token_for("analyst@ke.example").await;
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/api/v1/organisations?limit=1".to_owned(),
            Some(cursor) => format!("/api/v1/organisations?limit=1&cursor={cursor}"),
        };
        let (status, page) = w.get_json(&path, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        let items = page["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{path}");
        names.push(items[0]["name"].as_str().expect("name").to_owned());
        assert!(names.len() <= 3, "paging does not end: {names:?}");
        match &page["next_cursor"] {
            Value::Null => break,
            Value::String(next) => cursor = Some(next.clone()),
            other => panic!("next_cursor {other}"),
        }
    }
    assert_eq!(names, ["BR-CIRT", "Coordinator", "KE-CIRT"]);

    let (status, page) = w.get_json("/api/v1/organisations", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(page["next_cursor"], Value::Null);

    let (status, page) = w.get_json("/api/v1/organisations?country=KEN", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], w.kenya_cirt.as_str());
    let (status, page) = w.get_json("/api/v1/organisations?kind=national_cirt", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));

    let (status, org) = w.get_json(&format!("/api/v1/organisations/{}", w.brazil_cirt), Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((org["name"].as_str(), org["country"].as_str()), (Some("BR-CIRT"), Some("BR")));
    let (status, _) = w.get_json(&format!("/api/v1/organisations/{}", unknown_id(w)), Some(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = w.get_json("/api/v1/organisations?limit=1&cursor=!!!", Some(&token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid");
    assert_eq!(error_field(&body), "cursor");
    for bad in ["0", "501"] {
        let (status, body) = w.get_json(&format!("/api/v1/organisations?limit={bad}"), Some(&token)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "limit {bad}: {body}");
        assert_eq!(error_field(&body), "limit", "limit {bad}");
    }
    let (status, body) = w.get_json("/api/v1/organisations?country=XX", Some(&token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&body), "country");
}

#[tokio::test]
async fn organisations_page_by_cursor_on_sqlite() {
    organisations_page_by_cursor(&World::new().await).await;
}

#[tokio::test]
async fn organisations_page_by_cursor_on_postgres_when_configured() {
    organisations_page_by_cursor(&World::on_postgres_if_configured().await).await;
}

/// A cursor that decodes but was never handed out ("YWJj" is base64url for
/// "abc") is bad input, like one that does not decode.
#[tokio::test]
async fn a_forged_cursor_is_invalid_input_not_a_server_error() {
    let w = World::new().await;
    let admin = w.token_for("admin@example.org").await;
    let mut answers = Vec::new();
    for path in ["/api/v1/organisations?cursor=YWJj", "/api/v1/audit?cursor=YWJj"] {
        let (status, body) = w.get_json(path, Some(&admin)).await;
        answers.push((path, status.as_u16(), body["error"]["field"].clone()));
    }
    assert_eq!(answers, [("/api/v1/organisations?cursor=YWJj", 422, json!("cursor")), ("/api/v1/audit?cursor=YWJj", 422, json!("cursor"))]);
}

#[tokio::test]
async fn a_non_numeric_limit_is_a_json_error_naming_the_field() {
    let w = World::new().await;
    let token = w.token_for("analyst@ke.example").await;
    let (status, body) = w.get_json("/api/v1/organisations?limit=ten", Some(&token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_field(&body), "limit");
}

/// Creating organisations: success, conflicts and validation, with nothing
/// written by a refused request.
async fn organisations_are_created_and_validated(w: &World) {
    let admin = w.token_for("admin@example.org").await;
    let (status, created) = w
        .send_json("POST", "/api/v1/organisations", Some(&admin), json!({"name": "UG-CIRT", "kind": "national_cirt", "country": "uga"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (created["name"].as_str(), created["kind"].as_str(), created["country"].as_str()),
        (Some("UG-CIRT"), Some("national_cirt"), Some("UG"))
    );
    let id = created["id"].as_str().expect("id");
    let (status, fetched) = w.get_json(&format!("/api/v1/organisations/{id}"), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, created);
    assert_eq!(w.store.org_count().await.expect("count"), 4);

    let refused = [
        (json!({"name": "UG-CIRT", "kind": "national_cirt", "country": "UG"}), StatusCode::CONFLICT, "conflict", "name"),
        (json!({"name": "KE-CIRT", "kind": "regulator", "country": "KE"}), StatusCode::CONFLICT, "conflict", "name"),
        (
            json!({"name": "Atlantis CIRT", "kind": "national_cirt", "country": "XX"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "country",
        ),
        (json!({"name": "No Country CIRT", "kind": "national_cirt"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "country"),
        (json!({"name": "Bakery", "kind": "bakery", "country": "KE"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "kind"),
        (json!({"name": "Kindless", "country": "KE"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "kind"),
        (json!({"kind": "national_cirt", "country": "KE"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "name"),
        (json!({"name": "  ", "kind": "national_cirt", "country": "KE"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "name"),
        (
            json!({"name": "Sectorless", "kind": "sector_cirt", "country": "KE", "sector": "bakeries"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "sector",
        ),
        (
            json!({"name": "Orphan", "kind": "isp", "country": "KE", "parent_id": unknown_id(w)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "parent_id",
        ),
    ];
    for (body, expected_status, code, field) in refused {
        let (status, answer) = w.send_json("POST", "/api/v1/organisations", Some(&admin), body.clone()).await;
        assert_eq!(status, expected_status, "{body} → {answer}");
        assert_eq!(answer["error"]["code"], code, "{body}");
        assert_eq!(error_field(&answer), field, "{body}");
    }

    // A body that is not JSON at all.
    let (status, response) = w
        .call(
            Request::post("/api/v1/organisations")
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"name\": \"Broken\", \"kind\": "))
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let answer = body_json(response).await;
    assert_eq!(answer["error"]["code"], "invalid");
    assert_eq!(error_field(&answer), "body");

    assert_eq!(w.store.org_count().await.expect("count"), 4, "no refused request wrote anything");
    let (_, list) = w.get_json("/api/v1/organisations", Some(&admin)).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn organisations_are_created_and_validated_on_sqlite() {
    organisations_are_created_and_validated(&World::new().await).await;
}

#[tokio::test]
async fn organisations_are_created_and_validated_on_postgres_when_configured() {
    organisations_are_created_and_validated(&World::on_postgres_if_configured().await).await;
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_named() {
    let w = World::new().await;
    let admin = w.token_for("admin@example.org").await;
    let (status, answer) =
        w.send_json("POST", "/api/v1/organisations", Some(&admin), json!({"name": 42, "kind": "national_cirt", "country": "KE"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&answer), "name", "{answer}");
}

#[tokio::test]
async fn users_are_listed_and_managed_within_scope() {
    let w = World::new().await;
    let admin = w.token_for("admin@example.org").await;
    let org_admin = w.token_for("orgadmin@ke.example").await;
    let analyst = w.token_for("analyst@ke.example").await;

    let emails = |page: &Value| -> Vec<String> {
        page["items"].as_array().expect("items").iter().map(|u| u["email"].as_str().expect("email").to_owned()).collect()
    };
    let (status, page) = w.get_json("/api/v1/users", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        emails(&page),
        ["admin@example.org", "analyst@br.example", "analyst@ke.example", "nobody@ke.example", "orgadmin@ke.example"]
    );
    let (status, page) = w.get_json("/api/v1/users", Some(&org_admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(emails(&page), ["analyst@ke.example", "nobody@ke.example", "orgadmin@ke.example"]);
    assert!(page["items"].as_array().expect("items").iter().all(|u| u["org_id"] == w.kenya_cirt.as_str()));
    let (status, body) = w.get_json(&format!("/api/v1/users?org_id={}", w.brazil_cirt), Some(&org_admin)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, page) = w.get_json(&format!("/api/v1/users?org_id={}", w.brazil_cirt), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(emails(&page), ["analyst@br.example"]);

    // Outside an administrator's scope a user does not exist.
    let (status, body) = w.get_json(&format!("/api/v1/users/{}", w.brazil_analyst_id), Some(&org_admin)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": {"code": "not_found", "message": "user not found", "field": null}}));
    let (status, unknown) = w.get_json(&format!("/api/v1/users/{}", unknown_id(&w)), Some(&org_admin)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(unknown, body, "a hidden user and a missing one look the same");
    let (status, user) = w.get_json(&format!("/api/v1/users/{}", w.analyst_id), Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["email"], "analyst@ke.example");
    assert_eq!(user["roles"].as_array().map(Vec::len), Some(1));
    assert_eq!(user["roles"][0]["role"], "cirt_analyst");
    assert!(user.get("password_hash").is_none() && !user.to_string().contains("argon2"), "no password hash in {user}");
    let (status, _) = w.get_json(&format!("/api/v1/users/{}", w.org_admin_id), Some(&analyst)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an analyst does not see colleagues");
    let (status, user) = w.get_json(&format!("/api/v1/users/{}", w.analyst_id), Some(&org_admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["id"], w.analyst_id.as_str());

    // Creating users: only in the administrator's own organisation.
    let new_user = |org_id: &str, email: &str, password: &str| json!({"org_id": org_id, "email": email, "display_name": "New Colleague", "password": password});
    let before = w.store.user_count().await.expect("count");
    let (status, body) = w
        .send_json("POST", "/api/v1/users", Some(&org_admin), new_user(&w.brazil_cirt, "intruder@br.example", "a long enough passphrase"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    let (status, body) =
        w.send_json("POST", "/api/v1/users", Some(&org_admin), new_user(&w.kenya_cirt, "short@ke.example", "too short")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&body), "password");
    let (status, body) =
        w.send_json("POST", "/api/v1/users", Some(&org_admin), new_user(&w.kenya_cirt, "not-an-email", "a long enough passphrase")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&body), "email");
    let (status, body) = w
        .send_json("POST", "/api/v1/users", Some(&org_admin), new_user(&w.kenya_cirt, "analyst@ke.example", "a long enough passphrase"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_field(&body), "email");
    assert_eq!(w.store.user_count().await.expect("count"), before, "refused requests wrote nothing");
    let (status, created) =
        w.send_json("POST", "/api/v1/users", Some(&org_admin), new_user(&w.kenya_cirt, "New@KE.example", "a long enough passphrase")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["email"], "new@ke.example");
    assert_eq!(created["org_id"], w.kenya_cirt.as_str());
    assert_eq!(created["roles"], json!([]));
    let new_id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(w.store.user_count().await.expect("count"), before + 1);

    // Roles: an org admin cannot make a platform administrator.
    let (status, body) = w
        .send_json("POST", &format!("/api/v1/users/{new_id}/roles"), Some(&org_admin), json!({"role": "platform_admin", "scope": "global"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = w
        .send_json(
            "POST",
            &format!("/api/v1/users/{}/roles", w.brazil_analyst_id),
            Some(&org_admin),
            json!({"role": "viewer", "scope": "org"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) =
        w.send_json("POST", &format!("/api/v1/users/{new_id}/roles"), Some(&org_admin), json!({"role": "wizard", "scope": "org"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&body), "role");
    let (status, grant) =
        w.send_json("POST", &format!("/api/v1/users/{new_id}/roles"), Some(&org_admin), json!({"role": "viewer", "scope": "org"})).await;
    assert_eq!(status, StatusCode::CREATED, "{grant}");
    assert_eq!((grant["role"].as_str(), grant["scope_org_id"].as_str()), (Some("viewer"), Some(w.kenya_cirt.as_str())));

    // A platform administrator grants a country-scoped role and takes it back.
    let (status, grant) = w
        .send_json(
            "POST",
            &format!("/api/v1/users/{}/roles", w.analyst_id),
            Some(&admin),
            json!({"role": "gci_reviewer", "scope": "country", "country": "ke"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{grant}");
    assert_eq!((grant["role"].as_str(), grant["scope_country"].as_str()), (Some("gci_reviewer"), Some("KE")));
    assert_eq!(grant["scope_org_id"], Value::Null);
    let grant_id = grant["id"].as_str().expect("id").to_owned();
    let (_, user) = w.get_json(&format!("/api/v1/users/{}", w.analyst_id), Some(&admin)).await;
    assert!(user["roles"].as_array().expect("roles").iter().any(|g| g["id"] == grant_id.as_str()));
    // Not through another user's path.
    let (status, _) =
        request(&w, "DELETE", &format!("/api/v1/users/{new_id}/roles/{grant_id}"), Some(format!("Bearer {admin}")), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Not by the org admin: country scope is platform business.
    let (status, _) =
        request(&w, "DELETE", &format!("/api/v1/users/{}/roles/{grant_id}", w.analyst_id), Some(format!("Bearer {org_admin}")), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) =
        request(&w, "DELETE", &format!("/api/v1/users/{}/roles/{grant_id}", w.analyst_id), Some(format!("Bearer {admin}")), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, user) = w.get_json(&format!("/api/v1/users/{}", w.analyst_id), Some(&admin)).await;
    assert_eq!(user["roles"].as_array().map(Vec::len), Some(1));
    assert_eq!(user["roles"][0]["role"], "cirt_analyst");
    let (status, _) =
        request(&w, "DELETE", &format!("/api/v1/users/{}/roles/{grant_id}", w.analyst_id), Some(format!("Bearer {admin}")), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a revoked grant is gone");
}

#[tokio::test]
async fn tokens_are_created_used_and_revoked() {
    let w = World::new().await;
    let analyst = w.token_for("analyst@ke.example").await;
    let (status, created) = w
        .send_json("POST", "/api/v1/tokens", Some(&analyst), json!({"name": "feed reader", "roles": ["cirt_analyst"], "valid_days": 7}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("rmp_"));
    let details = &created["details"];
    assert_eq!(details["name"], "feed reader");
    assert_eq!(details["roles"], json!(["cirt_analyst"]));
    assert_eq!(details["revoked_at"], Value::Null);
    assert!(token.starts_with(details["prefix"].as_str().expect("prefix")));
    assert!(!details.to_string().contains(&token), "the secret is shown once, outside the details");
    let token_id = details["id"].as_str().expect("id").to_owned();

    let (status, me) = w.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user_id"], w.analyst_id.as_str());
    assert_eq!(me["email"], "analyst@ke.example");
    assert_eq!(me["via"], json!({"token": {"token_id": token_id}}));
    assert_eq!(me["grants"].as_array().map(Vec::len), Some(1));

    // The same token as the password of HTTP Basic, for TAXII clients.
    let basic = format!("Basic {}", data_encoding::BASE64.encode(format!("x:{token}").as_bytes()));
    let (status, me) = request(&w, "GET", "/api/v1/me", Some(basic.clone()), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user_id"], w.analyst_id.as_str());
    let wrong_basic = format!("Basic {}", data_encoding::BASE64.encode(b"x:rmp_wrong"));
    let (status, _) = request(&w, "GET", "/api/v1/me", Some(wrong_basic), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, listed) = w.get_json("/api/v1/tokens", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = listed["items"].as_array().expect("items").iter().filter_map(|t| t["id"].as_str()).collect();
    assert!(ids.contains(&token_id.as_str()));
    assert!(!listed.to_string().contains(&token), "listing never shows secrets");

    // Only roles the caller holds, and only real ones.
    for roles in [json!(["platform_admin"]), json!(["org_admin"]), json!(["wizard"]), json!([])] {
        let (status, body) = w.send_json("POST", "/api/v1/tokens", Some(&analyst), json!({"name": "escalate", "roles": roles})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{roles}: {body}");
        assert_eq!(error_field(&body), "roles", "{roles}");
    }
    let (status, body) =
        w.send_json("POST", "/api/v1/tokens", Some(&analyst), json!({"name": "forever", "roles": ["cirt_analyst"], "valid_days": 0})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&body), "valid_days");

    // Someone else cannot revoke it, nor learn that it exists.
    let brazil = w.token_for("analyst@br.example").await;
    let (status, _) = request(&w, "DELETE", &format!("/api/v1/tokens/{token_id}"), Some(format!("Bearer {brazil}")), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = request(&w, "DELETE", &format!("/api/v1/tokens/{token_id}"), Some(format!("Bearer {analyst}")), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = w.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (status, _) = request(&w, "GET", "/api/v1/me", Some(basic), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The token that revoked it still works.
    let (status, _) = w.get_json("/api/v1/me", Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_audit_trail_records_api_changes_and_is_scoped() {
    let w = World::new().await;
    let admin = w.token_for("admin@example.org").await;
    let org_admin = w.token_for("orgadmin@ke.example").await;
    let (status, created) = w
        .send_json(
            "POST",
            "/api/v1/users",
            Some(&org_admin),
            json!({"org_id": w.kenya_cirt, "email": "audited@ke.example", "display_name": "Audited", "password": "a long enough passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let new_id = created["id"].as_str().expect("id").to_owned();
    let (status, _) =
        w.send_json("POST", "/api/v1/organisations", Some(&admin), json!({"name": "Regional Hub", "kind": "international"})).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, report) = w.get_json("/api/v1/audit/verify", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["problem"], Value::Null, "{report}");
    // 3 organisations, 5 users and 4 grants at set-up, 2 tokens, and the two
    // changes above.
    assert_eq!(report["entries"], 16, "{report}");

    let (status, page) = w.get_json("/api/v1/audit?action=platform.user.create&limit=500", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 6, "five set-up users and one from the API");
    assert!(items.iter().all(|e| e["action"] == "platform.user.create"));
    let newest = &items[0];
    assert_eq!(newest["entity_id"], new_id.as_str(), "newest first");
    assert_eq!(newest["actor_id"], w.org_admin_id.as_str());
    assert_eq!(newest["actor_org_id"], w.kenya_cirt.as_str());
    assert!(newest["actor_label"].as_str().expect("label").starts_with("orgadmin@ke.example (token "));
    let seqs: Vec<i64> = items.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|pair| pair[0] > pair[1]), "newest first: {seqs:?}");

    let (status, page) = w.get_json(&format!("/api/v1/audit?entity_id={new_id}"), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));

    // Paging the audit log by cursor.
    let (status, first) = w.get_json("/api/v1/audit?limit=2", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    let cursor = first["next_cursor"].as_str().expect("more than two entries").to_owned();
    let (status, second) = w.get_json(&format!("/api/v1/audit?limit=2&cursor={cursor}"), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["items"].as_array().map(Vec::len), Some(2));
    assert!(second["items"][0]["seq"].as_i64() < first["items"][1]["seq"].as_i64());

    // The platform administrator sees everyone's entries; the org admin
    // only those of KE-CIRT's people.
    let (_, everything) = w.get_json("/api/v1/audit?limit=500", Some(&admin)).await;
    let everything = everything["items"].as_array().expect("items").clone();
    assert!(everything.iter().any(|e| e["actor_org_id"] != w.kenya_cirt.as_str()));
    let (status, scoped) = w.get_json("/api/v1/audit?limit=500", Some(&org_admin)).await;
    assert_eq!(status, StatusCode::OK);
    let scoped = scoped["items"].as_array().expect("items");
    assert!(!scoped.is_empty());
    assert!(scoped.iter().all(|e| e["actor_org_id"] == w.kenya_cirt.as_str()), "{scoped:?}");
    let expected = everything.iter().filter(|e| e["actor_org_id"] == w.kenya_cirt.as_str()).count();
    assert_eq!(scoped.len(), expected);
    let (status, _) = w.get_json("/api/v1/audit/verify", Some(&org_admin)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn incident_attachments_upload_and_download_only_as_files() {
    let w = World::new().await;
    let analyst = w.token_for("analyst@ke.example").await;
    let (status, incident) = w
        .send_json(
            "POST",
            "/api/v1/incidents",
            Some(&analyst),
            serde_json::json!({"owner_org_id": w.kenya_cirt, "title": "Evidence test", "rsit_type": "phishing"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{incident}");
    let id = incident["id"].as_str().expect("id").to_owned();
    let page = b"<html><script>alert(1)</script></html>".to_vec();
    let (status, response) = w
        .call(
            Request::post(format!("/api/v1/incidents/{id}/attachments?filename=phish%20kit.html"))
                .header(header::AUTHORIZATION, format!("Bearer {analyst}"))
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .body(Body::from(page.clone()))
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let row = body_json(response).await;
    assert_eq!(row["filename"], "phish kit.html");
    let attachment = row["id"].as_str().expect("id").to_owned();

    let (status, response) = w
        .call(
            Request::get(format!("/api/v1/incidents/{id}/attachments/{attachment}"))
                .header(header::AUTHORIZATION, format!("Bearer {analyst}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream", "never rendered as HTML");
    assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment; filename=\"phish kit.html\""));
    assert_eq!(headers["x-content-sha256"], row["sha256"].as_str().unwrap());
    assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("sandbox"));
    assert_eq!(body_text(response).await.into_bytes(), page);

    // Another CIRT cannot read it, and oversized uploads are refused.
    let brazil = w.token_for("analyst@br.example").await;
    let (status, _) = w.get_json(&format!("/api/v1/incidents/{id}/attachments/{attachment}"), Some(&brazil)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w
        .call(
            Request::post(format!("/api/v1/incidents/{id}/attachments?filename=big.bin"))
                .header(header::AUTHORIZATION, format!("Bearer {analyst}"))
                .body(Body::from(vec![0_u8; 11 * 1024 * 1024]))
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn bulk_actions_apply_to_each_incident_on_its_own() {
    let w = World::new().await;
    let analyst = w.token_for("analyst@ke.example").await;
    let mut ids = Vec::new();
    for title in ["One", "Two"] {
        let (status, incident) = w
            .send_json(
                "POST",
                "/api/v1/incidents",
                Some(&analyst),
                json!({"owner_org_id": w.kenya_cirt, "title": title, "rsit_type": "spam"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        ids.push(incident["id"].as_str().expect("id").to_owned());
    }
    let (status, body) =
        w.send_json("POST", "/api/v1/incidents/bulk", Some(&analyst), json!({"ids": ids, "action": "status", "status": "triage"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"].as_array().map(|r| r.iter().filter(|x| x["ok"] == true).count()), Some(2));
    let (_, body) = w
        .send_json("POST", "/api/v1/incidents/bulk", Some(&analyst), json!({"ids": [ids[0], "no-such-incident"], "action": "assign_me"}))
        .await;
    assert_eq!(body["results"][0]["ok"], true);
    assert_eq!(body["results"][1]["ok"], false);
    assert_eq!(body["results"][1]["error"], "incident not found");
    let (status, body) = w.send_json("POST", "/api/v1/incidents/bulk", Some(&analyst), json!({"ids": ids, "action": "delete"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "action");
    let brazil = w.token_for("analyst@br.example").await;
    let (_, body) = w.send_json("POST", "/api/v1/incidents/bulk", Some(&brazil), json!({"ids": ids, "action": "assign_me"})).await;
    assert!(body["results"].as_array().expect("results").iter().all(|r| r["ok"] == false), "another CIRT changes nothing: {body}");
}

#[tokio::test]
async fn csaf_documents_are_validated_and_cvss_vectors_scored() {
    let w = World::new().await;
    let analyst = w.token_for("analyst@ke.example").await;
    let corpus = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/csaf2.0/csaf_2.0");
    let advisory: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("examples/csaf/bsi-2022-0001.json")).expect("corpus")).expect("json");
    let (status, body) = w.send_json("POST", "/api/v1/csaf/validate", Some(&analyst), advisory.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["valid"], true, "{body}");
    let mut broken = advisory;
    broken["product_tree"]["full_product_names"] = json!([]);
    broken["product_tree"]["branches"] = json!([]);
    let (_, body) = w.send_json("POST", "/api/v1/csaf/validate", Some(&analyst), broken).await;
    assert_eq!(body["valid"], false);
    assert!(body["problems"].as_array().expect("problems").iter().any(|p| p["test"] == "6.1.1" || p["test"] == "schema"), "{body}");

    let (status, body) = w.get_json("/api/v1/cvss?vector=CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Some(&analyst)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((body["base_score"].as_f64(), body["severity"].as_str()), (Some(9.8), Some("CRITICAL")));
    let (status, body) = w.get_json("/api/v1/cvss?vector=nonsense", Some(&analyst)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "vector");
    let nobody_admin = w.token_for("admin@example.org").await;
    let (status, _) = w.get_json("/api/v1/cvss?vector=CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Some(&nobody_admin)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn contacts_carry_an_openpgp_key_that_is_checked() {
    let w = World::on_postgres_if_configured().await;
    let org_admin = w.token_for("orgadmin@ke.example").await;
    let base = format!("/api/v1/organisations/{}/contacts", w.kenya_cirt);
    let (status, contact) =
        w.send_json("POST", &base, Some(&org_admin), json!({"role": "incident reports", "email": "soc@ke.example"})).await;
    assert_eq!(status, StatusCode::CREATED, "{contact}");
    let key_path = format!("{base}/{}/openpgp-key", contact["id"].as_str().expect("id"));

    // A key made by GnuPG, with its encryption subkey.
    let home = tempfile::tempdir().expect("gpg home");
    let gpg = |args: &[&str]| {
        let output = std::process::Command::new("gpg")
            .arg("--homedir")
            .arg(home.path())
            .args(["--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .output()
            .expect("gpg runs (install gnupg)");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    gpg(&["--quick-gen-key", "KE SOC <soc@ke.example>", "default", "default", "never"]);
    let key = gpg(&["--armor", "--export", "soc@ke.example"]);

    let (status, body) =
        w.send_json("PUT", &key_path, Some(&org_admin), json!({"key": "-----BEGIN PGP PUBLIC KEY BLOCK-----\nnonsense"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("openpgp_key")), "{body}");
    let brazil = w.token_for("analyst@br.example").await;
    let (status, _) = w.send_json("PUT", &key_path, Some(&brazil), json!({"key": key})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another country's CIRT may not set it");
    let (status, body) = w.send_json("PUT", &key_path, Some(&org_admin), json!({"key": key})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_ids"], json!(["KE SOC <soc@ke.example>"]));
    assert_eq!(body["fingerprint"].as_str().map(str::len), Some(40));
    let (_, contacts) = w.get_json(&base, Some(&org_admin)).await;
    assert!(contacts["items"][0]["openpgp_key"].as_str().is_some_and(|k| k.contains("BEGIN PGP PUBLIC KEY BLOCK")), "{contacts}");

    let request = Request::delete(&key_path).header("authorization", format!("Bearer {org_admin}")).body(Body::empty()).expect("request");
    let (status, _) = w.call(request).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, contacts) = w.get_json(&base, Some(&org_admin)).await;
    assert_eq!(contacts["items"][0]["openpgp_key"], serde_json::Value::Null);
}

/// A KE-CIRT manager, made for the advisory tests; their token.
async fn ke_manager(w: &World) -> String {
    w.add_user(&w.kenya_cirt, "manager@ke.example", rampart_core::Role::CirtManager).await;
    w.token_for("manager@ke.example").await
}

#[tokio::test]
async fn advisories_are_written_published_and_read_through_the_api() {
    let w = World::on_postgres_if_configured().await;
    let analyst = w.token_for("analyst@ke.example").await;
    let manager = ke_manager(&w).await;
    let brazil = w.token_for("analyst@br.example").await;
    let (status, created) = w
        .send_json(
            "POST",
            "/api/v1/advisories",
            Some(&analyst),
            json!({"title": "Stored XSS in Example Portal", "tlp": "GREEN", "summary": "Patch the portal."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(created["tracking_id"].as_str().is_some_and(|t| t.starts_with("KE-CIRT-") && t.ends_with("-0001")), "{created}");
    let path = format!("/api/v1/advisories/{id}");

    // Not yet a security advisory: publishing lists every problem.
    let (status, body) = w.send_json("POST", &format!("{path}/publish"), Some(&manager), json!({"summary": "First."})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_document")), "{body}");
    let problems = body["error"]["problems"].as_array().expect("problems");
    assert!(problems.iter().any(|p| p["test"].as_str().is_some_and(|t| t.starts_with("6.1.27"))), "{body}");

    let (status, product) = w
        .send_json("POST", &format!("{path}/products"), Some(&analyst), json!({"vendor": "Example", "product": "Portal", "version": "4.2"}))
        .await;
    assert_eq!((status, product["product_id"].as_str()), (StatusCode::CREATED, Some("CSAFPID-0001")));
    let vulnerability = json!({"title": "XSS in search", "description": "Search echoes input.", "cve": "CVE-2026-1111", "cwe": "79",
        "cvss_v3": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "known_affected": ["CSAFPID-0001"]});
    let (status, body) = w
        .send_json(
            "POST",
            &format!("{path}/vulnerabilities"),
            Some(&analyst),
            json!({"title": "x", "description": "y", "known_affected": ["CSAFPID-0009"]}),
        )
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("known_affected")), "{body}");
    let (status, body) = w
        .send_json(
            "POST",
            &format!("{path}/vulnerabilities"),
            Some(&analyst),
            json!({"title": "x", "description": "y", "cvss_v3": "CVSS:3.1/AV:N", "known_affected": ["CSAFPID-0001"]}),
        )
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("cvss_v3")), "{body}");
    let (status, _) = w.send_json("POST", &format!("{path}/vulnerabilities"), Some(&analyst), vulnerability).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, view) = w.get_json(&path, Some(&analyst)).await;
    assert_eq!(view["problems"], json!([]), "{view}");
    assert_eq!((view["may_edit"].as_bool(), view["may_publish"].as_bool()), (Some(true), Some(false)));
    assert_eq!(view["document"]["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"], 6.1);

    // Only managers publish; other CIRTs cannot even see the draft.
    let (status, _) = w.send_json("POST", &format!("{path}/publish"), Some(&analyst), json!({"summary": "First."})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = w.get_json(&path, Some(&brazil)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, release) = w.send_json("POST", &format!("{path}/publish"), Some(&manager), json!({"summary": "Initial release."})).await;
    assert_eq!((status, release["version"].as_str()), (StatusCode::CREATED, Some("1")), "{release}");

    // Published GREEN: the community reads the release, byte for byte.
    let (status, seen) = w.get_json(&path, Some(&brazil)).await;
    assert_eq!((status, seen["may_edit"].as_bool()), (StatusCode::OK, Some(false)));
    assert_eq!(seen["releases"][0]["released_by"], "", "readers do not learn who published");
    let request = Request::get(format!("{path}/releases/1"))
        .header("authorization", format!("Bearer {brazil}"))
        .body(Body::empty())
        .expect("request");
    let (status, response) = w.call(request).await;
    assert_eq!(status, StatusCode::OK);
    let bytes = body_text(response).await;
    use sha2::Digest;
    assert_eq!(data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(bytes.as_bytes())), release["sha256"].as_str().unwrap_or(""));

    // In the provider layout the GREEN folder asks for credentials and lists
    // the document to a signed-in member of the community.
    let green = format!("/csaf/{}/green/index.txt", w.kenya_cirt);
    let (status, response) = w.call(Request::get(&green).body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    let basic = data_encoding::BASE64.encode(format!("token:{brazil}").as_bytes());
    let request = Request::get(&green).header("authorization", format!("Basic {basic}")).body(Body::empty()).expect("request");
    let (status, response) = w.call(request).await;
    assert_eq!(status, StatusCode::OK);
    let listed = body_text(response).await;
    assert!(listed.ends_with(&format!("{}\n", release["file_name"].as_str().unwrap_or("?"))), "{listed}");
    let (status, metadata) = w.get_json(&format!("/csaf/{}/provider-metadata.json", w.kenya_cirt), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(metadata["distributions"][0].get("rolie").is_none(), "anonymous readers are offered no GREEN feed: {metadata}");

    // Import keeps a document unchanged; the same tracking id twice conflicts.
    let corpus = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/csaf2.0/csaf_2.0/examples/csaf/rhsa-2019_1862.json");
    let original = std::fs::read_to_string(corpus).expect("corpus");
    let import = |token: &str| {
        Request::post("/api/v1/advisories/import")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(original.clone()))
            .expect("request")
    };
    let (status, response) = w.call(import(&analyst)).await;
    assert_eq!(status, StatusCode::CREATED);
    let imported = body_json(response).await;
    let (_, document) = w.get_json(&format!("/api/v1/advisories/{}/document", imported["id"].as_str().expect("id")), Some(&analyst)).await;
    assert_eq!(document, serde_json::from_str::<Value>(&original).expect("json"), "round trip");
    let (status, _) = w.call(import(&analyst)).await;
    assert_eq!(status, StatusCode::CONFLICT);
}
