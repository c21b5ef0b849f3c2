//! Fixtures for the GCI tests: the published-results corpus, a fresh
//! migrated store per backend, a manual clock and the people of a campaign.

#![allow(clippy::expect_used, clippy::panic, reason = "test fixtures: failing loudly is the point")]

use chrono::{DateTime, TimeZone, Utc};
use rampart_auth::service::Actor;
use rampart_auth::{AuthConfig, AuthService, NewUserRequest, Principal, Scope, Via};
use rampart_core::{ManualClock, Role};
use rampart_gci::campaigns::Gci;
use rampart_store::{AuditFilter, AuditRecord, Location, NewOrg, OpenMode, PageRequest, Store};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

pub fn corpus_2020() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/gci/gci_2020_pillars_long.csv");
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).single().expect("valid time")
}

pub struct Env {
    pub gci: Gci,
    pub store: Store,
    #[allow(dead_code, reason = "kept for tests that move time")]
    pub clock: ManualClock,
    pub editor: Principal,
    pub reviewer: Principal,
    /// Reviews Ghana only.
    pub gh_reviewer: Principal,
    pub ke_focal: Principal,
    pub ke_deputy: Principal,
    pub gh_focal: Principal,
}

pub fn actor(principal: &Principal) -> Actor<'_> {
    Actor { principal, ip: None }
}

impl Env {
    async fn new(store: Store) -> Env {
        let clock = ManualClock::new(t0());
        let auth = AuthService::new(store.clone(), Arc::new(clock.clone()), AuthConfig::default());
        let gci = Gci::new(store.clone(), Arc::new(clock.clone()));
        let cli = Principal::cli("test");
        let cli = actor(&cli);
        let new_org = |name: &str, country: Option<&str>| NewOrg {
            name: name.into(),
            short_name: None,
            kind: "ministry".into(),
            sector: None,
            country: country.map(str::to_owned),
            parent_id: None,
            website: None,
            mfa_required: false,
        };
        let itu = auth.create_org(&cli, &NewOrg { kind: "international".into(), ..new_org("ITU", None) }).await.expect("org");
        let ke = auth.create_org(&cli, &new_org("Ministry of ICT Kenya", Some("KE"))).await.expect("org");
        let gh = auth.create_org(&cli, &new_org("Ministry of Communications Ghana", Some("GH"))).await.expect("org");
        let user = |org_id: String, email: &'static str, role: Role, scope: Scope| {
            let auth = auth.clone();
            let cli = cli.clone();
            async move {
                let request = NewUserRequest {
                    org_id,
                    email: email.into(),
                    display_name: email.into(),
                    password: "correct horse battery staple".into(),
                    language: "en".into(),
                    must_change_password: false,
                };
                let id = auth.create_user(&cli, &request).await.expect("create user");
                auth.grant_role(&cli, &id, role, scope).await.expect("grant role");
                let row = auth.store().user_get(&id).await.expect("user row");
                auth.principal_for(&row, Via::Session, None).await.expect("principal")
            }
        };
        let editor = user(itu.id.clone(), "editor@itu.example", Role::GciEditor, Scope::Global).await;
        let reviewer = user(itu.id.clone(), "reviewer@itu.example", Role::GciReviewer, Scope::Global).await;
        let gh_reviewer = user(itu.id.clone(), "gh-reviewer@itu.example", Role::GciReviewer, Scope::Country("GH".into())).await;
        let ke_focal = user(ke.id.clone(), "focal@ict.go.ke", Role::GciFocalPoint, Scope::Country("KE".into())).await;
        let ke_deputy = user(ke.id.clone(), "deputy@ict.go.ke", Role::GciFocalPoint, Scope::Country("KE".into())).await;
        let gh_focal = user(gh.id.clone(), "focal@moc.gov.gh", Role::GciFocalPoint, Scope::Country("GH".into())).await;
        Env { gci, store, clock, editor, reviewer, gh_reviewer, ke_focal, ke_deputy, gh_focal }
    }

    pub async fn audit(&self, action: &str) -> Vec<AuditRecord> {
        let filter = AuditFilter { action_prefix: Some(action.to_owned()), ..AuditFilter::default() };
        let found = self.store.audit_list(&filter, &PageRequest::first(PageRequest::MAX_LIMIT)).await.expect("audit").items;
        found.into_iter().filter(|r| r.action == action).collect()
    }
}

async fn run<F, Fut>(store: Store, body: &F)
where
    F: Fn(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    body(Env::new(store.clone()).await).await;
    let report = store.audit_verify().await.expect("audit verify");
    assert_eq!(report.problem, None, "audit chain of {:?}", store.backend());
}

/// Runs `body` on a fresh SQLite file, and on a fresh PostgreSQL schema
/// when `RAMPART_TEST_POSTGRES_URL` is set.
pub async fn each_backend<F, Fut>(body: F)
where
    F: Fn(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Store::open(&Location::Sqlite(dir.path().join("rampart.db")), OpenMode::Create).await.expect("open sqlite");
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
