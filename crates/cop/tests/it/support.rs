//! Fixtures for the hotline tests: a fresh migrated store per backend, a
//! manual clock, and a small world of hotlines and people.

#![allow(clippy::expect_used, clippy::panic, reason = "test fixtures: failing loudly is the point")]

use chrono::{DateTime, TimeZone, Utc};
use rampart_auth::service::Actor;
use rampart_auth::{AuthConfig, AuthService, NewUserRequest, Principal, Scope, Via};
use rampart_cop::guidance::Guidance;
use rampart_cop::hotline::{Hotline, HotlineSettings, NewHotlineReport};
use rampart_cop::lists::HashLists;
use rampart_cop::trace::Tracer;
use rampart_core::{ManualClock, Role};
use rampart_store::{AuditFilter, AuditRecord, Location, NewOrg, OpenMode, Organisation, PageRequest, Store};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).single().expect("valid time")
}

pub fn corpora() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
}

pub fn mmdb(name: &str) -> PathBuf {
    corpora().join("mmdb/test-data").join(name)
}

pub struct World {
    /// Kenya's hotline, which receives the public's reports for KE.
    pub ke_hotline: Organisation,
    /// Sweden's hotline and police, where the test content is hosted.
    pub se_hotline: Organisation,
    pub se_police: Organisation,
    pub ke_cirt: Organisation,
    pub ke_analyst: Principal,
    pub se_analyst: Principal,
    pub cirt_analyst: Principal,
    pub admin: Principal,
    /// A platform's trust-and-safety team that may match hashes only.
    pub platform: Organisation,
    pub matcher: Principal,
}

pub struct Env {
    pub hotline: Hotline,
    pub lists: HashLists,
    pub guidance: Guidance,
    pub store: Store,
    pub clock: ManualClock,
    pub w: World,
}

pub fn actor(principal: &Principal) -> Actor<'_> {
    Actor { principal, ip: None }
}

fn new_org(name: &str, kind: &str, country: Option<&str>) -> NewOrg {
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

impl Env {
    async fn new(store: Store) -> Env {
        let clock = ManualClock::new(t0());
        let auth = AuthService::new(store.clone(), Arc::new(clock.clone()), AuthConfig::default());
        let tracer = Tracer::open(Some(&mmdb("GeoIP2-Country-Test.mmdb")), Some(&mmdb("GeoLite2-ASN-Test.mmdb"))).expect("test databases");
        let settings = HotlineSettings { retention_days: 90, tracer: Arc::new(tracer) };
        let hotline = Hotline::new(store.clone(), Arc::new(clock.clone()), settings);
        let lists = HashLists::new(store.clone(), Arc::new(clock.clone()));
        let guidance = Guidance::new(store.clone(), Arc::new(clock.clone()));
        let cli = Principal::cli("test");
        let cli = actor(&cli);
        let org = |new: NewOrg| {
            let auth = auth.clone();
            let cli = cli.clone();
            async move { auth.create_org(&cli, &new).await.expect("create org") }
        };
        let ke_hotline = org(new_org("Child Safety Hotline Kenya", "hotline", Some("KE"))).await;
        let se_hotline = org(new_org("Hotline Sweden", "hotline", Some("SE"))).await;
        let se_police = org(new_org("Swedish Police Cybercrime", "law_enforcement", Some("SE"))).await;
        let ke_cirt = org(new_org("KE-CIRT", "national_cirt", Some("KE"))).await;
        let platform = org(new_org("Video Platform Trust & Safety", "other", Some("IE"))).await;
        let operators = org(new_org("Operators", "international", None)).await;
        let user = |org: &Organisation, email: &'static str, role: Role, scope: Scope| {
            let auth = auth.clone();
            let cli = cli.clone();
            let org_id = org.id.clone();
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
        let ke_analyst = user(&ke_hotline, "analyst@hotline.ke", Role::HotlineAnalyst, Scope::Org(ke_hotline.id.clone())).await;
        let se_analyst = user(&se_hotline, "analyst@hotline.se", Role::HotlineAnalyst, Scope::Org(se_hotline.id.clone())).await;
        let cirt_analyst = user(&ke_cirt, "analyst@cirt.ke", Role::CirtAnalyst, Scope::Org(ke_cirt.id.clone())).await;
        let admin = user(&operators, "admin@rampart.example", Role::PlatformAdmin, Scope::Global).await;
        let matcher = user(&platform, "safety@platform.example", Role::HotlineAnalyst, Scope::Org(platform.id.clone())).await;
        let w = World { ke_hotline, se_hotline, se_police, ke_cirt, ke_analyst, se_analyst, cirt_analyst, admin, platform, matcher };
        Env { hotline, lists, guidance, store, clock, w }
    }

    /// Every audit entry with this action.
    pub async fn audit(&self, action: &str) -> Vec<AuditRecord> {
        let filter = AuditFilter { action_prefix: Some(action.to_owned()), ..AuditFilter::default() };
        let found = self.store.audit_list(&filter, &PageRequest::first(PageRequest::MAX_LIMIT)).await.expect("audit").items;
        found.into_iter().filter(|r| r.action == action).collect()
    }

    pub async fn report_count(&self) -> usize {
        self.audit("cop.report.receive").await.len()
    }
}

/// A public report to Kenya's hotline.
pub fn public_report(urls: &str, category: &str, language: &str) -> NewHotlineReport {
    NewHotlineReport {
        urls: urls.into(),
        category: category.into(),
        description: "Saw it on a forum.".into(),
        reporter_name: Some("A. Parent".into()),
        reporter_email: Some("parent@example.org".into()),
        language: language.into(),
        country: Some("KE".into()),
        ..NewHotlineReport::default()
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
