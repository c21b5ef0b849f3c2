//! Test fixtures: a fresh migrated store per backend, a manual clock, and
//! shorthands for the set-up every test repeats.

// These helpers are not `#[test]` functions, so clippy's allow-*-in-tests
// settings do not reach them; a failed set-up must stop the test all the same.
#![allow(clippy::expect_used, clippy::panic, reason = "test fixtures: failing loudly is the point")]

use chrono::{DateTime, Duration, TimeZone, Utc};
use rampart_auth::service::Actor;
use rampart_auth::{AuthConfig, AuthError, AuthService, LoginOutcome, NewUserRequest, Principal, Scope, totp};
use rampart_core::{Clock, ManualClock, Role};
use rampart_store::{AuditFilter, AuditRecord, Location, NewOrg, OpenMode, Organisation, PageRequest, RoleGrantRow, Store};
use std::future::Future;
use std::sync::Arc;

/// Long enough for the policy and containing no test e-mail address.
pub const PASSWORD: &str = "correct horse battery staple";
pub const WRONG_PASSWORD: &str = "incorrect horse battery staple";
/// Where the test logins come from, as recorded in sessions and the audit log.
pub const IP: &str = "198.51.100.7";
pub const USER_AGENT: &str = "rampart-auth-it";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).single().expect("valid time")
}

/// What every test gets: the service under test, its store and its clock.
#[derive(Clone)]
pub struct Env {
    pub auth: AuthService,
    pub store: Store,
    pub clock: ManualClock,
    cli: Principal,
}

pub fn actor(principal: &Principal) -> Actor<'_> {
    Actor { principal, ip: Some("127.0.0.1".into()) }
}

pub fn new_user(org_id: &str, email: &str) -> NewUserRequest {
    NewUserRequest {
        org_id: org_id.to_owned(),
        email: email.to_owned(),
        display_name: "Test User".into(),
        password: PASSWORD.into(),
        language: "en".into(),
        must_change_password: false,
    }
}

impl Env {
    fn new(store: Store) -> Env {
        let clock = ManualClock::new(t0());
        let auth = AuthService::new(store.clone(), Arc::new(clock.clone()), AuthConfig::default());
        Env { auth, store, clock, cli: Principal::cli("test") }
    }

    /// Another service over the same store and clock, with other settings.
    pub fn service(&self, config: AuthConfig) -> AuthService {
        AuthService::new(self.store.clone(), Arc::new(self.clock.clone()), config)
    }

    /// The command line: platform administrator, used to bootstrap data.
    pub fn cli(&self) -> Actor<'_> {
        actor(&self.cli)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub async fn org(&self, name: &str, country: &str) -> Organisation {
        let org = NewOrg {
            name: name.into(),
            short_name: None,
            kind: "national_cirt".into(),
            sector: None,
            country: Some(country.into()),
            parent_id: None,
            website: None,
            mfa_required: false,
        };
        self.auth.create_org(&self.cli(), &org).await.expect("create org")
    }

    /// A user with [`PASSWORD`], created by the command line.
    pub async fn user(&self, org_id: &str, email: &str) -> String {
        self.auth.create_user(&self.cli(), &new_user(org_id, email)).await.expect("create user")
    }

    pub async fn grant(&self, user_id: &str, role: Role, scope: Scope) -> RoleGrantRow {
        self.auth.grant_role(&self.cli(), user_id, role, scope).await.expect("grant role")
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<LoginOutcome, AuthError> {
        self.auth.login(email, password, Some(IP), Some(USER_AGENT)).await
    }

    /// Signs in with [`PASSWORD`], expecting no second factor.
    pub async fn sign_in(&self, email: &str) -> String {
        signed_in(self.login(email, PASSWORD).await)
    }

    /// The principal of a fully signed-in session.
    pub async fn principal(&self, session_token: &str) -> Principal {
        let (principal, mfa_verified) = self.auth.session_principal(session_token).await.expect("session lookup").expect("a live session");
        assert!(mfa_verified, "session of {} is waiting for its second factor", principal.email);
        principal
    }

    /// Is the session alive, and if so has it passed the second factor?
    pub async fn session(&self, session_token: &str) -> Option<bool> {
        self.auth.session_principal(session_token).await.expect("session lookup").map(|(_, verified)| verified)
    }

    /// Every audit entry, oldest first.
    pub async fn audit_all(&self) -> Vec<AuditRecord> {
        self.audit_filtered(&AuditFilter::default()).await
    }

    pub async fn audit_filtered(&self, filter: &AuditFilter) -> Vec<AuditRecord> {
        let mut all = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let found = self.store.audit_list(filter, &page).await.expect("audit list");
            all.extend(found.items);
            match found.next_cursor {
                Some(cursor) => page = PageRequest::with_cursor(PageRequest::MAX_LIMIT, Some(&cursor)).expect("our own cursor"),
                None => break,
            }
        }
        all.reverse();
        all
    }

    /// Audit entries with exactly this action, oldest first.
    pub async fn audit(&self, action: &str) -> Vec<AuditRecord> {
        self.audit_all().await.into_iter().filter(|record| record.action == action).collect()
    }

    pub async fn audit_len(&self) -> i64 {
        self.store.audit_verify().await.expect("audit verify").entries
    }

    /// Turns TOTP on for the user behind `principal`; returns the secret and
    /// the recovery codes. The clock is then moved to the next TOTP step, so
    /// the code used here is not a replay of the next one.
    pub async fn enable_totp(&self, principal: &Principal) -> (String, Vec<String>) {
        let (secret, _uri) = self.auth.begin_totp_setup(&actor(principal)).await.expect("begin totp");
        let code = totp::code_at(&secret, self.now()).expect("code");
        let codes = self.auth.confirm_totp(&actor(principal), &code).await.expect("confirm totp");
        self.advance(Duration::seconds(30));
        (secret, codes)
    }

    pub fn code(&self, secret: &str) -> String {
        totp::code_at(secret, self.now()).expect("code")
    }

    pub async fn second_factor(&self, session_token: &str, code: &str) -> Result<String, AuthError> {
        self.auth.complete_second_factor(session_token, code, Some(IP), Some(USER_AGENT)).await
    }
}

/// A six-digit code that the authenticator would not show for `at` or
/// either neighbouring step (the window `verify` accepts).
pub fn wrong_code(secret: &str, at: DateTime<Utc>) -> String {
    let valid: Vec<String> =
        [-30, 0, 30].iter().map(|offset| totp::code_at(secret, at + Duration::seconds(*offset)).expect("code")).collect();
    (0..1_000_000).map(|n| format!("{n:06}")).find(|code| !valid.contains(code)).expect("some code is wrong")
}

pub fn describe(outcome: &Result<LoginOutcome, AuthError>) -> String {
    match outcome {
        Ok(LoginOutcome::SignedIn { .. }) => "Ok(SignedIn)".into(),
        Ok(LoginOutcome::SecondFactorRequired { .. }) => "Ok(SecondFactorRequired)".into(),
        Err(err) => format!("Err({err:?})"),
    }
}

pub fn signed_in(outcome: Result<LoginOutcome, AuthError>) -> String {
    match outcome {
        Ok(LoginOutcome::SignedIn { session_token }) => session_token,
        other => panic!("expected SignedIn, got {}", describe(&other)),
    }
}

pub fn second_factor_required(outcome: Result<LoginOutcome, AuthError>) -> String {
    match outcome {
        Ok(LoginOutcome::SecondFactorRequired { session_token }) => session_token,
        other => panic!("expected SecondFactorRequired, got {}", describe(&other)),
    }
}

async fn run<F, Fut>(store: Store, body: &F)
where
    F: Fn(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    body(Env::new(store.clone())).await;
    // Whatever the test did, the audit chain it left behind is intact.
    let report = store.audit_verify().await.expect("audit verify");
    assert_eq!(report.problem, None, "audit chain of {:?}", store.backend());
    assert!(report.entries > 0, "the test's changes were audited");
}

/// Runs `body` against a fresh SQLite file, and against a fresh PostgreSQL
/// schema too when `RAMPART_TEST_POSTGRES_URL` is set; each starts with an
/// empty migrated store and a clock at [`t0`].
pub async fn each_backend<F, Fut>(body: F)
where
    F: Fn(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rampart.db");
    let sqlite = Store::open(&Location::Sqlite(path), OpenMode::Create).await.expect("open sqlite");
    sqlite.migrate().await.expect("migrate sqlite");
    run(sqlite.clone(), &body).await;
    sqlite.close().await;

    if let Some(base) = rampart_testkit::postgres::server() {
        let schema = rampart_testkit::postgres::PgSchema::create(&base).await;
        let pg = Store::open(&Location::Postgres(schema.url.clone()), OpenMode::ExistingOnly).await.expect("open postgres");
        pg.migrate().await.expect("migrate postgres");
        run(pg.clone(), &body).await;
        pg.close().await;
    }
}
