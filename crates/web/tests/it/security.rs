//! Security behaviour through the real router: response headers, the CSRF
//! token on forms and API writes from the browser, the same-origin check,
//! login rate limiting and lockout, the metrics endpoint and the admin pages.

use crate::support::{PASSWORD, World, body_json, body_text, set_cookie_value, set_cookies};
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use rampart_web::WebConfig;
use serde_json::json;

fn header_of<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn location(response: &Response<Body>) -> Option<&str> {
    header_of(response, "location")
}

async fn get(w: &World, path: &str) -> (StatusCode, Response<Body>) {
    w.call(Request::get(path).body(Body::empty()).expect("request")).await
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let w = World::new().await;
    let cases = [
        ("/", StatusCode::OK),
        ("/login", StatusCode::OK),
        ("/api/v1/openapi.json", StatusCode::OK),
        ("/healthz", StatusCode::OK),
        ("/static/app.css", StatusCode::OK),
        ("/api/v1/me", StatusCode::UNAUTHORIZED),
        ("/api/v1/no-such-route", StatusCode::NOT_FOUND),
        ("/admin/users", StatusCode::SEE_OTHER),
    ];
    for (path, expected) in cases {
        let (status, response) = get(&w, path).await;
        assert_eq!(status, expected, "{path}");
        let csp = header_of(&response, "content-security-policy").unwrap_or_else(|| panic!("{path} has no CSP"));
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{path}: {csp}");
        for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'"] {
            assert!(csp.contains(directive), "{path}: {directive} missing from {csp}");
        }
        assert_eq!(header_of(&response, "x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(header_of(&response, "x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(header_of(&response, "referrer-policy"), Some("same-origin"), "{path}");
        assert_eq!(header_of(&response, "strict-transport-security"), None, "{path}: no HSTS without TLS");
    }
    // Pages and API answers are not cached; the stylesheet may be.
    let (_, page) = get(&w, "/login").await;
    assert_eq!(header_of(&page, "cache-control"), Some("no-store"));
    let (_, api) = get(&w, "/api/v1/openapi.json").await;
    assert_eq!(header_of(&api, "cache-control"), Some("no-store"));

    let tls = World::build(false, WebConfig { hsts: true, login_attempts_per_minute: 1000, ..Default::default() }).await;
    for path in ["/", "/login", "/api/v1/openapi.json", "/healthz"] {
        let (_, response) = get(&tls, path).await;
        assert_eq!(header_of(&response, "strict-transport-security"), Some("max-age=31536000; includeSubDomains"), "{path}");
        assert!(header_of(&response, "content-security-policy").is_some_and(|csp| csp.contains("frame-ancestors 'none'")), "{path}");
    }
}

#[tokio::test]
async fn the_login_form_needs_its_csrf_token_and_a_same_origin_post() {
    let w = World::new().await;
    let (status, response) = get(&w, "/login").await;
    assert_eq!(status, StatusCode::OK);
    let cookie = set_cookies(&response).into_iter().find(|c| c.starts_with("rampart_csrf=")).expect("GET /login sets rampart_csrf");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    let csrf = set_cookie_value(&response, "rampart_csrf").expect("csrf");
    assert!(csrf.len() >= 32, "a long random token: {csrf}");
    let page = body_text(response).await;
    assert!(page.contains(&format!("name=\"csrf\" value=\"{csrf}\"")), "the form carries the token");
    // A browser that has the cookie keeps its token.
    let (_, again) = w.get_with_cookie("/login", &format!("rampart_csrf={csrf}")).await;
    assert_eq!(set_cookie_value(&again, "rampart_csrf"), None);
    let (_, other) = get(&w, "/login").await;
    assert_ne!(set_cookie_value(&other, "rampart_csrf"), Some(csrf.clone()), "each new visitor gets a new token");

    let cookie = format!("rampart_csrf={csrf}");
    let email = "analyst@ke.example";
    let stolen = set_cookie_value(&other, "rampart_csrf").expect("csrf");
    let refused: [(&str, Option<&str>); 4] = [
        ("no csrf field", None),
        ("an empty csrf field", Some("")),
        ("a wrong csrf field", Some("0123456789abcdef0123456789abcdef0123")),
        ("another visitor's token", Some(&stolen)),
    ];
    for (what, token) in refused {
        let mut fields = vec![("email", email), ("password", PASSWORD)];
        if let Some(token) = token {
            fields.push(("csrf", token));
        }
        let (status, response) = w.post_form("/login", &cookie, &fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        assert_eq!(set_cookie_value(&response, "rampart_session"), None, "{what} signs nobody in");
    }
    // The right token without the cookie is no good either.
    let (status, _) = w.post_form("/login", "", &[("email", email), ("password", PASSWORD), ("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let user = w.store.user_by_email(email).await.expect("query").expect("user");
    assert_eq!(user.failed_logins, 0, "refused forms are not login attempts");

    // A cross-site POST is refused before anything else, even a perfect one.
    let body = serde_urlencoded::to_string([("email", email), ("password", PASSWORD), ("csrf", &csrf)]).expect("form");
    let cross_site = Request::post("/login")
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.clone()))
        .expect("request");
    let (status, response) = w.call(cross_site).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(set_cookie_value(&response, "rampart_session"), None);
    assert_eq!(body_text(response).await, "cross-origin request refused");
    let lookalike = Request::post("/login")
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "https://localhost.evil.example")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.clone()))
        .expect("request");
    assert_eq!(w.call(lookalike).await.0, StatusCode::FORBIDDEN);

    // The same form from our own origin signs in.
    let same_site = Request::post("/login")
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://localhost")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    let (status, response) = w.call(same_site).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&response), Some("/"));
    let session_cookie =
        set_cookies(&response).into_iter().find(|c| c.starts_with("rampart_session=")).expect("login sets rampart_session");
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(!session_cookie.contains("Secure"), "not Secure unless configured: {session_cookie}");
    let session = set_cookie_value(&response, "rampart_session").expect("session");
    assert!(session.len() >= 32);

    // The signed-in home page greets the user.
    let (status, home) = w.get_with_cookie("/", &format!("rampart_session={session}; rampart_csrf={csrf}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body_text(home).await.contains("Welcome, analyst"));
}

#[tokio::test]
async fn a_browser_session_reaches_the_api_and_writes_with_the_csrf_header() {
    let w = World::new().await;
    let browser = w.sign_in("analyst@ke.example").await;

    let (status, response) = w.get_with_cookie("/api/v1/me", &browser.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let me = body_json(response).await;
    assert_eq!(me["user_id"], w.analyst_id.as_str());
    assert_eq!(me["via"], "session");

    let post_token = |csrf_header: Option<String>, cookie: String| {
        let mut builder = Request::post("/api/v1/tokens").header(header::CONTENT_TYPE, "application/json").header(header::COOKIE, cookie);
        if let Some(value) = csrf_header {
            builder = builder.header("x-csrf-token", value);
        }
        builder.body(Body::from(json!({"name": "from the browser", "roles": ["cirt_analyst"]}).to_string())).expect("request")
    };
    for (what, csrf_header, cookie) in [
        ("no header", None, browser.cookie()),
        ("a wrong header", Some("0123456789abcdef0123456789abcdef0123".to_owned()), browser.cookie()),
        ("no csrf cookie", Some(browser.csrf.clone()), format!("rampart_session={}", browser.session)),
    ] {
        let (status, response) = w.call(post_token(csrf_header, cookie)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        let body = body_json(response).await;
        assert_eq!(body["error"]["code"], "invalid", "{what}");
        assert_eq!(body["error"]["field"], "x-csrf-token", "{what}");
    }
    assert!(w.store.tokens_of(&w.analyst_id).await.expect("tokens").is_empty(), "nothing was created");

    let (status, response) = w.call(post_token(Some(browser.csrf.clone()), browser.cookie())).await;
    assert_eq!(status, StatusCode::CREATED);
    let created = body_json(response).await;
    let token = created["token"].as_str().expect("token");
    let (status, me) = w.get_json("/api/v1/me", Some(token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user_id"], w.analyst_id.as_str());

    // Signing out ends the session for the API too.
    let (status, response) = w.post_form("/logout", &browser.cookie(), &[("csrf", &browser.csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(set_cookies(&response).iter().any(|c| c.starts_with("rampart_session=;") && c.contains("Max-Age=0")));
    let (status, _) = w.get_with_cookie("/api/v1/me", &browser.cookie()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_user_without_roles_signs_in_but_reads_nothing() {
    let w = World::new().await;
    let browser = w.sign_in("nobody@ke.example").await;
    let (status, response) = w.get_with_cookie("/api/v1/me", &browser.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let me = body_json(response).await;
    assert_eq!(me["user_id"], w.roleless_id.as_str());
    assert_eq!(me["grants"], json!([]));
    for path in ["/api/v1/countries", "/api/v1/organisations", "/api/v1/users", "/api/v1/audit"] {
        let (status, response) = w.get_with_cookie(path, &browser.cookie()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(body_json(response).await["error"]["code"], "forbidden", "{path}");
    }
    for path in ["/countries", "/orgs", "/admin/users", "/admin/audit"] {
        let (status, _) = w.get_with_cookie(path, &browser.cookie()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, home) = w.get_with_cookie("/", &browser.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body_text(home).await.contains("You hold no role yet"));
}

async fn attempt(w: &World, csrf: &str, password: &str) -> (StatusCode, Option<String>, String) {
    let (status, response) = w
        .post_form("/login", &format!("rampart_csrf={csrf}"), &[("email", "analyst@ke.example"), ("password", password), ("csrf", csrf)])
        .await;
    let session = set_cookie_value(&response, "rampart_session");
    (status, session, body_text(response).await)
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_address() {
    let w = World::build(false, WebConfig { login_attempts_per_minute: 3, ..Default::default() }).await;
    let csrf = w.fresh_csrf().await;
    for n in 1..=3 {
        let (status, session, page) = attempt(&w, &csrf, "wrong password here").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {n}");
        assert_eq!(session, None);
        assert!(page.contains("Wrong e-mail or password."), "attempt {n}");
    }
    let (status, session, page) = attempt(&w, &csrf, "wrong password here").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(session, None);
    assert!(page.contains("Too many attempts from your address"), "{page}");
    // Even the right password waits.
    let (status, session, _) = attempt(&w, &csrf, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(session, None);
    // Rate-limited attempts never reached the account.
    let user = w.store.user_by_email("analyst@ke.example").await.expect("query").expect("user");
    assert_eq!(user.failed_logins, 3);
}

#[tokio::test]
async fn an_account_locks_after_five_wrong_passwords() {
    let w = World::new().await;
    let csrf = w.fresh_csrf().await;
    for n in 1..=4 {
        let (status, _, page) = attempt(&w, &csrf, "wrong password here").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {n}");
        assert!(page.contains("Wrong e-mail or password."), "attempt {n}");
    }
    let (status, _, page) = attempt(&w, &csrf, "wrong password here").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("Too many failed attempts. Try again after"), "{page}");
    let (status, session, page) = attempt(&w, &csrf, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the right password does not open a locked account");
    assert_eq!(session, None);
    assert!(page.contains("Too many failed attempts. Try again after"), "{page}");
    assert!(!page.contains("{until}"), "the time is filled in");
    // Other accounts are unaffected.
    let other = w.sign_in("orgadmin@ke.example").await;
    assert!(!other.session.is_empty());
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let w = World::new().await;
    let (status, response) = get(&w, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body_text(response).await, "ok");
    let (status, response) = get(&w, "/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body_text(response).await, "ready");

    // In-process requests have no peer address, so they are not loopback.
    let (status, response) = get(&w, "/metrics").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(response).await["error"]["code"], "unauthenticated");
    let analyst = w.token_for("analyst@ke.example").await;
    let (status, _) = w.get_json("/metrics", Some(&analyst)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = w.token_for("admin@example.org").await;
    let (status, response) = w
        .call(Request::get("/metrics").header(header::AUTHORIZATION, format!("Bearer {admin}")).body(Body::empty()).expect("request"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(header_of(&response, "content-type").is_some_and(|t| t.starts_with("text/plain")));
    let text = body_text(response).await;
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/healthz\""), "requests are counted by route template");
    assert!(text.contains("rampart_db_pool_connections"));
}

#[tokio::test]
async fn admin_pages_need_a_session_and_the_right_role() {
    let w = World::new().await;
    for path in ["/admin/users", "/admin/audit", "/profile"] {
        let (status, response) = get(&w, path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), Some("/login"), "{path}");
    }
    let analyst = w.sign_in("analyst@ke.example").await;
    for path in ["/admin/users", "/admin/audit", &format!("/admin/users/{}", w.org_admin_id), "/admin/orgs/new"] {
        let (status, _) = w.get_with_cookie(path, &analyst.cookie()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} for an analyst");
    }
    let (status, _) = w.get_with_cookie("/orgs", &analyst.cookie()).await;
    assert_eq!(status, StatusCode::OK, "the analyst reads the directory");

    let org_admin = w.sign_in("orgadmin@ke.example").await;
    let (status, page) = w.get_with_cookie("/admin/users", &org_admin.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let page = body_text(page).await;
    assert!(page.contains("analyst@ke.example") && !page.contains("analyst@br.example"), "an org admin sees their own people");
    let (status, _) = w.get_with_cookie(&format!("/admin/users/{}", w.brazil_analyst_id), &org_admin.cookie()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.get_with_cookie("/admin/audit", &org_admin.cookie()).await;
    assert_eq!(status, StatusCode::OK);

    let admin = w.sign_in("admin@example.org").await;
    for path in ["/admin/users", "/admin/audit", "/admin/orgs/new"] {
        let (status, _) = w.get_with_cookie(path, &admin.cookie()).await;
        assert_eq!(status, StatusCode::OK, "{path} for the platform administrator");
    }
    // An admin form POST without the CSRF field is refused.
    let (status, _) =
        w.post_form("/admin/orgs", &admin.cookie(), &[("name", "Forged"), ("kind", "isp"), ("country", "KE"), ("csrf", "wrong")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.store.org_count().await.expect("count"), 3);
}
