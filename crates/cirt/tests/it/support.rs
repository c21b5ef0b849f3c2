//! Test fixtures: a fresh migrated store per backend, a manual clock shared
//! by the auth service and the desk, and a small world of CIRTs,
//! constituents and users.

// These helpers are not `#[test]` functions, so clippy's allow-*-in-tests
// settings do not reach them; a failed set-up must stop the test all the same.
#![allow(clippy::expect_used, clippy::panic, reason = "test fixtures: failing loudly is the point")]

use chrono::{DateTime, Duration, TimeZone, Utc};
use rampart_auth::service::Actor;
use rampart_auth::{AuthConfig, AuthService, NewUserRequest, Principal, Scope, Via};
use rampart_cirt::observables::Observable;
use rampart_cirt::{CirtError, Desk, DeskError, Level, ListFilter, NewIncident, NewReport, Queue};
use rampart_core::{ManualClock, Role, Tlp};
use rampart_store::cirt::IncidentRow;
use rampart_store::{AuditFilter, AuditRecord, Location, NewOrg, OpenMode, Organisation, PageRequest, Store};
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery staple";

/// The first of March 2026: every test starts here.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).single().expect("valid time")
}

/// The stored form of `t0() + offset`.
pub fn at(offset: Duration) -> String {
    rampart_core::time::format(t0() + offset)
}

/// The organisations and people every test works with.
pub struct World {
    pub ke_cirt: Organisation,
    /// Savannah Telecom, an ISP in Kenya under KE-CIRT.
    pub isp: Organisation,
    /// Harambee Bank, critical infrastructure (banking) under KE-CIRT.
    pub bank: Organisation,
    pub br_cirt: Organisation,
    /// The platform operators' organisation, home of the platform admin.
    pub operators: Organisation,
    /// CIRT manager of KE-CIRT.
    pub manager: Principal,
    /// CIRT analyst of KE-CIRT.
    pub analyst: Principal,
    /// Constituent of Savannah Telecom.
    pub isp_user: Principal,
    /// Constituent of Harambee Bank.
    pub bank_user: Principal,
    /// CIRT analyst of BR-CIRT.
    pub br_analyst: Principal,
    /// Platform administrator (global grant), no CIRT role.
    pub admin: Principal,
}

/// What every test gets: the desk under test, the auth service that built
/// the world, their store and their clock.
pub struct Env {
    pub desk: Desk,
    pub auth: AuthService,
    pub store: Store,
    pub clock: ManualClock,
    pub w: World,
}

pub fn actor(principal: &Principal) -> Actor<'_> {
    Actor { principal, ip: None }
}

fn new_org(name: &str, kind: &str, sector: Option<&str>, country: Option<&str>, parent: Option<&Organisation>) -> NewOrg {
    NewOrg {
        name: name.into(),
        short_name: None,
        kind: kind.into(),
        sector: sector.map(str::to_owned),
        country: country.map(str::to_owned),
        parent_id: parent.map(|p| p.id.clone()),
        website: None,
        mfa_required: false,
    }
}

impl Env {
    async fn new(store: Store) -> Env {
        let clock = ManualClock::new(t0());
        let auth = AuthService::new(store.clone(), Arc::new(clock.clone()), AuthConfig::default());
        let desk = Desk::new(store.clone(), Arc::new(clock.clone()));
        let cli = Principal::cli("test");
        let cli = actor(&cli);
        let org = |new: NewOrg| {
            let auth = auth.clone();
            let cli = cli.clone();
            async move { auth.create_org(&cli, &new).await.expect("create org") }
        };
        let ke_cirt = org(new_org("KE-CIRT", "national_cirt", None, Some("KE"), None)).await;
        let isp = org(new_org("Savannah Telecom", "isp", None, Some("KE"), Some(&ke_cirt))).await;
        let bank = org(new_org("Harambee Bank", "critical_infrastructure", Some("banking"), Some("KE"), Some(&ke_cirt))).await;
        let br_cirt = org(new_org("BR-CIRT", "national_cirt", None, Some("BR"), None)).await;
        let operators = org(new_org("Rampart Operators", "international", None, None, None)).await;

        let env_auth = auth.clone();
        let user = |org: &Organisation, email: &'static str, role: Role, scope: Scope| {
            let auth = env_auth.clone();
            let cli = cli.clone();
            let org_id = org.id.clone();
            async move {
                let request = NewUserRequest {
                    org_id,
                    email: email.into(),
                    display_name: email.into(),
                    password: PASSWORD.into(),
                    language: "en".into(),
                    must_change_password: false,
                };
                let id = auth.create_user(&cli, &request).await.expect("create user");
                auth.grant_role(&cli, &id, role, scope).await.expect("grant role");
                let row = auth.store().user_get(&id).await.expect("user row");
                auth.principal_for(&row, Via::Session, None).await.expect("principal")
            }
        };
        let manager = user(&ke_cirt, "manager@ke-cirt.go.ke", Role::CirtManager, Scope::Org(ke_cirt.id.clone())).await;
        let analyst = user(&ke_cirt, "analyst@ke-cirt.go.ke", Role::CirtAnalyst, Scope::Org(ke_cirt.id.clone())).await;
        let isp_user = user(&isp, "soc@savannah.co.ke", Role::Constituent, Scope::Org(isp.id.clone())).await;
        let bank_user = user(&bank, "security@harambee.co.ke", Role::Constituent, Scope::Org(bank.id.clone())).await;
        let br_analyst = user(&br_cirt, "analyst@br-cirt.gov.br", Role::CirtAnalyst, Scope::Org(br_cirt.id.clone())).await;
        let admin = user(&operators, "admin@rampart.example", Role::PlatformAdmin, Scope::Global).await;
        let w = World { ke_cirt, isp, bank, br_cirt, operators, manager, analyst, isp_user, bank_user, br_analyst, admin };
        Env { desk, auth, store, clock, w }
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// A user of `org` holding `role` on `org`, as a principal.
    pub async fn extra_user(&self, org: &Organisation, email: &str, role: Role) -> Principal {
        let cli = Principal::cli("test");
        let cli = actor(&cli);
        let request = NewUserRequest {
            org_id: org.id.clone(),
            email: email.into(),
            display_name: email.into(),
            password: PASSWORD.into(),
            language: "en".into(),
            must_change_password: false,
        };
        let id = self.auth.create_user(&cli, &request).await.expect("create user");
        self.auth.grant_role(&cli, &id, role, Scope::Org(org.id.clone())).await.expect("grant role");
        let row = self.store.user_get(&id).await.expect("user row");
        self.auth.principal_for(&row, Via::Session, None).await.expect("principal")
    }

    /// A phishing incident of KE-CIRT concerning Savannah Telecom, TLP:AMBER,
    /// medium/medium; tests change what they need.
    pub fn incident(&self, title: &str) -> NewIncident {
        NewIncident {
            owner_org_id: self.w.ke_cirt.id.clone(),
            title: title.into(),
            description: "Reported by the constituent.".into(),
            rsit_class: String::new(),
            rsit_type: "phishing".into(),
            tlp: Tlp::Amber,
            pap: Tlp::Amber,
            impact: Level::Medium,
            urgency: Level::Medium,
            constituents: vec![self.w.isp.id.clone()],
            observables: Vec::new(),
        }
    }

    /// Creates [`Env::incident`] as the KE analyst, after `change`.
    pub async fn create(&self, title: &str, change: impl FnOnce(&mut NewIncident)) -> IncidentRow {
        let mut incident = self.incident(title);
        change(&mut incident);
        self.desk.create_incident(&actor(&self.w.analyst), &incident).await.expect("create incident")
    }

    /// Ids of a queue as `principal` sees it, sorted.
    pub async fn queue(&self, principal: &Principal, queue: Queue, filter: &ListFilter) -> Vec<String> {
        let page = self.desk.list(principal, queue, filter, &PageRequest::first(PageRequest::MAX_LIMIT)).await.expect("list");
        assert_eq!(page.next_cursor, None, "one page holds the test's incidents");
        let mut ids: Vec<String> = page.items.into_iter().map(|i| i.id).collect();
        ids.sort();
        ids
    }

    /// Every audit entry, oldest first.
    pub async fn audit_all(&self) -> Vec<AuditRecord> {
        let mut all = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let found = self.store.audit_list(&AuditFilter::default(), &page).await.expect("audit list");
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

    /// Checks the audit chain and returns its length.
    pub async fn audit_ok(&self) -> i64 {
        let report = self.store.audit_verify().await.expect("audit verify");
        assert_eq!(report.problem, None, "audit chain of {:?}", self.store.backend());
        report.entries
    }
}

/// A report as a constituent's web form sends it.
pub fn report(subject: &str, body: &str) -> NewReport {
    NewReport { subject: subject.into(), body: body.into(), reporter_email: None, tlp: Tlp::Amber, cirt_org_id: None, country: None }
}

pub fn obs(kind: rampart_cirt::observables::Kind, value: &str) -> Observable {
    Observable { kind, value: value.into() }
}

pub fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// The error must be `Invalid` naming `field`.
#[track_caller]
pub fn assert_invalid<T: Debug>(result: Result<T, DeskError>, field: &str) {
    match result {
        Err(DeskError::Rule(CirtError::Invalid { field: found, .. })) if found == field => {}
        other => panic!("expected Invalid {{ field: {field:?} }}, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_forbidden<T: Debug>(result: Result<T, DeskError>) {
    match result {
        Err(DeskError::Forbidden) => {}
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_not_found<T: Debug>(result: Result<T, DeskError>, entity: &str) {
    match result {
        Err(DeskError::NotFound(found)) if found == entity => {}
        other => panic!("expected NotFound({entity:?}), got {other:?}"),
    }
}

async fn run<F, Fut>(store: Store, body: &F)
where
    F: Fn(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    let env = Env::new(store.clone()).await;
    body(env).await;
    // Whatever the test did, the audit chain it left behind is intact.
    let report = store.audit_verify().await.expect("audit verify");
    assert_eq!(report.problem, None, "audit chain of {:?}", store.backend());
    assert!(report.entries > 0, "the test's changes were audited");
}

/// Runs `body` against a fresh SQLite file, and against a fresh PostgreSQL
/// schema too when `RAMPART_TEST_POSTGRES_URL` is set; each starts with an
/// empty migrated store, the world of [`World`] and a clock at [`t0`].
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
        // Dropped at the end of this block, or while unwinding from a failure.
        let schema = rampart_testkit::postgres::PgSchema::create(&base).await;
        let pg = Store::open(&Location::Postgres(schema.url.clone()), OpenMode::ExistingOnly).await.expect("open postgres");
        pg.migrate().await.expect("migrate postgres");
        run(pg.clone(), &body).await;
        pg.close().await;
    }
}
