//! A fresh, populated Rampart behind the real router, for API tests
//! (driven in-process with `tower::ServiceExt::oneshot`) and browser tests
//! (a real TCP listener on 127.0.0.1).

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use rampart_auth::service::{Actor, NewUserRequest};
use rampart_auth::{AuthConfig, AuthService, Principal, Scope};
use rampart_core::{Clock, Role, SystemClock};
use rampart_store::{Location, NewOrg, OpenMode, Store};
use rampart_testkit::postgres::PgSchema;
use rampart_web::{AppState, WebConfig};
use std::sync::Arc;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct World {
    pub state: AppState,
    pub router: axum::Router,
    pub store: Store,
    pub kenya_cirt: String,
    pub brazil_cirt: String,
    pub admin_id: String,
    pub org_admin_id: String,
    pub analyst_id: String,
    pub roleless_id: String,
    pub brazil_analyst_id: String,
    /// The PostgreSQL schema of this world, dropped with it.
    _pg_schema: Option<rampart_testkit::postgres::PgSchema>,
    _dir: tempfile::TempDir,
}

fn org(name: &str, kind: &str, country: Option<&str>) -> NewOrg {
    NewOrg {
        name: name.into(),
        short_name: None,
        kind: kind.into(),
        sector: None,
        country: country.map(str::to_owned),
        parent_id: None,
        website: None,
        mfa_required: false,
    }
}

/// Opens SQLite, or PostgreSQL in a fresh schema when
/// `RAMPART_TEST_POSTGRES_URL` is set and `postgres` is true.
async fn open(dir: &tempfile::TempDir, postgres: bool) -> (Store, Option<PgSchema>) {
    if postgres && let Some(base) = rampart_testkit::postgres::server() {
        let schema = PgSchema::create(&base).await;
        let store = Store::open(&Location::Postgres(schema.url.clone()), OpenMode::ExistingOnly).await.expect("open postgres");
        store.migrate().await.expect("migrate");
        return (store, Some(schema));
    }
    let store = Store::open(&Location::Sqlite(dir.path().join("web.db")), OpenMode::Create).await.expect("open sqlite");
    store.migrate().await.expect("migrate");
    (store, None)
}

impl World {
    pub async fn new() -> World {
        World::build(false, WebConfig { login_attempts_per_minute: 1000, ..Default::default() }).await
    }

    pub async fn on_postgres_if_configured() -> World {
        World::build(true, WebConfig { login_attempts_per_minute: 1000, ..Default::default() }).await
    }

    pub async fn build(postgres: bool, config: WebConfig) -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, pg_schema) = open(&dir, postgres).await;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let auth = AuthService::new(store.clone(), clock, AuthConfig::default());
        let cli = Principal::cli("test");
        let actor = Actor { principal: &cli, ip: None };
        let coordinator = auth.create_org(&actor, &org("Coordinator", "international", None)).await.expect("org");
        let kenya = auth.create_org(&actor, &org("KE-CIRT", "national_cirt", Some("KE"))).await.expect("org");
        let brazil = auth.create_org(&actor, &org("BR-CIRT", "national_cirt", Some("BR"))).await.expect("org");
        let make_user = async |email: &str, org_id: &str, role: Option<(Role, Scope)>| -> String {
            let id = auth
                .create_user(
                    &actor,
                    &NewUserRequest {
                        org_id: org_id.into(),
                        email: email.into(),
                        display_name: email.split('@').next().unwrap_or("x").into(),
                        password: PASSWORD.into(),
                        language: "en".into(),
                        must_change_password: false,
                    },
                )
                .await
                .expect("user");
            if let Some((role, scope)) = role {
                auth.grant_role(&actor, &id, role, scope).await.expect("grant");
            }
            id
        };
        let admin_id = make_user("admin@example.org", &coordinator.id, Some((Role::PlatformAdmin, Scope::Global))).await;
        let org_admin_id = make_user("orgadmin@ke.example", &kenya.id, Some((Role::OrgAdmin, Scope::Org(kenya.id.clone())))).await;
        let analyst_id = make_user("analyst@ke.example", &kenya.id, Some((Role::CirtAnalyst, Scope::Org(kenya.id.clone())))).await;
        let roleless_id = make_user("nobody@ke.example", &kenya.id, None).await;
        let brazil_analyst_id = make_user("analyst@br.example", &brazil.id, Some((Role::CirtAnalyst, Scope::Org(brazil.id.clone())))).await;
        let state = AppState::new(auth, config);
        let router = rampart_web::router(state.clone());
        World {
            state,
            router,
            store,
            kenya_cirt: kenya.id,
            brazil_cirt: brazil.id,
            admin_id,
            org_admin_id,
            analyst_id,
            roleless_id,
            brazil_analyst_id,
            _pg_schema: pg_schema,
            _dir: dir,
        }
    }

    /// A new organisation of kind `kind` in `country`, under `parent`; its id.
    pub async fn add_org(&self, name: &str, kind: &str, country: &str, parent: Option<&str>) -> String {
        let cli = Principal::cli("test");
        let actor = Actor { principal: &cli, ip: None };
        let new = NewOrg { country: Some(country.into()), parent_id: parent.map(str::to_owned), ..org(name, kind, None) };
        self.state.auth().create_org(&actor, &new).await.expect("org").id
    }

    /// A user of `org_id` holding `role` over that organisation; their id.
    pub async fn add_user(&self, org_id: &str, email: &str, role: Role) -> String {
        let cli = Principal::cli("test");
        let actor = Actor { principal: &cli, ip: None };
        let auth = self.state.auth();
        let request = NewUserRequest {
            org_id: org_id.into(),
            email: email.into(),
            display_name: email.split('@').next().unwrap_or("x").into(),
            password: PASSWORD.into(),
            language: "en".into(),
            must_change_password: false,
        };
        let id = auth.create_user(&actor, &request).await.expect("user");
        auth.grant_role(&actor, &id, role, Scope::Org(org_id.into())).await.expect("grant");
        id
    }

    /// A personal API token for the user with every role they hold.
    pub async fn token_for(&self, email: &str) -> String {
        let user = self.store.user_by_email(email).await.expect("query").expect("user exists");
        let auth = self.state.auth();
        let principal = auth.principal_for(&user, rampart_auth::Via::Session, None).await.expect("principal");
        let roles: Vec<Role> = principal.grants.iter().map(|g| g.role).collect();
        let roles = if roles.is_empty() { vec![Role::Viewer] } else { roles };
        let actor = Actor { principal: &principal, ip: None };
        match auth.create_token(&actor, "test", &roles, Some(30)).await {
            Ok((token, _)) => token,
            // A user without roles cannot make a token: they get none.
            Err(_) => String::new(),
        }
    }

    pub async fn call(&self, request: Request<Body>) -> (StatusCode, Response<Body>) {
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        (response.status(), response)
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (StatusCode, serde_json::Value) {
        let mut builder = Request::get(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let (status, response) = self.call(builder.body(Body::empty()).expect("request")).await;
        (status, body_json(response).await)
    }

    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        let mut builder = Request::builder().method(method).uri(path).header("content-type", "application/json");
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let (status, response) = self.call(builder.body(Body::from(body.to_string())).expect("request")).await;
        (status, body_json(response).await)
    }
}

pub async fn body_text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

pub async fn body_json(response: Response<Body>) -> serde_json::Value {
    let text = body_text(response).await;
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}

/// The `Set-Cookie` values of a response.
pub fn set_cookies(response: &Response<Body>) -> Vec<String> {
    response.headers().get_all(axum::http::header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
}

/// The value a response sets for the cookie `name`, if it sets one.
pub fn set_cookie_value(response: &Response<Body>, name: &str) -> Option<String> {
    set_cookies(response).iter().find_map(|cookie| {
        let (pair, _) = cookie.split_once(';').unwrap_or((cookie, ""));
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim().to_owned())
    })
}

/// A browser's cookies after signing in through the login form.
pub struct Session {
    pub session: String,
    pub csrf: String,
}

impl Session {
    /// The `Cookie` header a browser would send.
    pub fn cookie(&self) -> String {
        format!("rampart_session={}; rampart_csrf={}", self.session, self.csrf)
    }
}

impl World {
    /// The CSRF token a fresh visitor gets from GET /login, as the cookie sets it.
    pub async fn fresh_csrf(&self) -> String {
        let (status, response) = self.call(Request::get("/login").body(Body::empty()).expect("request")).await;
        assert_eq!(status, StatusCode::OK);
        set_cookie_value(&response, "rampart_csrf").expect("GET /login sets rampart_csrf")
    }

    /// A form POST (`application/x-www-form-urlencoded`) with a `Cookie` header.
    pub async fn post_form(&self, path: &str, cookie: &str, fields: &[(&str, &str)]) -> (StatusCode, Response<Body>) {
        let body = serde_urlencoded::to_string(fields).expect("form");
        let request = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookie)
            .body(Body::from(body))
            .expect("request");
        self.call(request).await
    }

    /// A GET with a `Cookie` header.
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> (StatusCode, Response<Body>) {
        self.call(Request::get(path).header("cookie", cookie).body(Body::empty()).expect("request")).await
    }

    /// Signs in through the login form with support::PASSWORD.
    pub async fn sign_in(&self, email: &str) -> Session {
        let csrf = self.fresh_csrf().await;
        let (status, response) =
            self.post_form("/login", &format!("rampart_csrf={csrf}"), &[("email", email), ("password", PASSWORD), ("csrf", &csrf)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "signing in as {email}");
        let session = set_cookie_value(&response, "rampart_session").expect("login sets rampart_session");
        Session { session, csrf }
    }
}

/// A `multipart/form-data` body with text fields and at most one file (field `file`).
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----rampart-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    if let Some((filename, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A browser upload with a `Cookie` header; returns the status and body text.
pub async fn post_multipart(
    w: &World,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> (StatusCode, String) {
    let (content_type, body) = multipart(fields, file);
    let request =
        Request::post(path).header("content-type", content_type).header("cookie", cookie).body(Body::from(body)).expect("request");
    let (status, response) = w.call(request).await;
    (status, body_text(response).await)
}
