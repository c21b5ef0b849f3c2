//! The people of a country's strategy work, on a fresh store.

#![allow(clippy::expect_used, reason = "test fixtures: failing loudly is the point")]

use chrono::{DateTime, TimeZone, Utc};
use rampart_auth::service::Actor;
use rampart_auth::{AuthConfig, AuthService, NewUserRequest, Principal, Scope, Via};
use rampart_core::{ManualClock, Role};
use rampart_gci::campaigns::Gci;
use rampart_store::{AuditFilter, AuditRecord, NewOrg, PageRequest, Store};
use rampart_strategy::Strategy;
use std::sync::Arc;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).single().expect("valid time")
}

pub struct Env {
    pub strategy: Strategy,
    pub gci: Gci,
    pub store: Store,
    pub clock: ManualClock,
    pub ke_cirt: String,
    pub gh_cirt: String,
    /// Strategy editor for Kenya.
    pub owner: Principal,
    /// Strategy editor for Ghana.
    pub gh_owner: Principal,
    /// CIRT manager of KE-CIRT.
    pub manager: Principal,
    /// Strategy editor everywhere: a coordinating body.
    pub coordinator: Principal,
    pub gci_editor: Principal,
    pub ke_focal: Principal,
}

pub fn actor(principal: &Principal) -> Actor<'_> {
    Actor { principal, ip: None }
}

impl Env {
    pub async fn new(store: Store) -> Env {
        let clock = ManualClock::new(t0());
        let auth = AuthService::new(store.clone(), Arc::new(clock.clone()), AuthConfig::default());
        let cli = Principal::cli("test");
        let cli = actor(&cli);
        let new_org = |name: &str, kind: &str, country: Option<&str>| NewOrg {
            name: name.into(),
            short_name: None,
            kind: kind.into(),
            sector: None,
            country: country.map(str::to_owned),
            parent_id: None,
            website: None,
            mfa_required: false,
        };
        let itu = auth.create_org(&cli, &new_org("ITU", "international", None)).await.expect("org");
        let ke = auth.create_org(&cli, &new_org("Ministry of ICT Kenya", "ministry", Some("KE"))).await.expect("org");
        let ke_cirt = auth.create_org(&cli, &new_org("KE-CIRT", "national_cirt", Some("KE"))).await.expect("org");
        let gh = auth.create_org(&cli, &new_org("Ministry of Communications Ghana", "ministry", Some("GH"))).await.expect("org");
        let gh_cirt = auth.create_org(&cli, &new_org("GH-CIRT", "national_cirt", Some("GH"))).await.expect("org");
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
        let owner = user(ke.id.clone(), "owner@ict.go.ke", Role::StrategyEditor, Scope::Country("KE".into())).await;
        let gh_owner = user(gh.id.clone(), "owner@moc.gov.gh", Role::StrategyEditor, Scope::Country("GH".into())).await;
        let manager = user(ke_cirt.id.clone(), "manager@cirt.ke", Role::CirtManager, Scope::Org(ke_cirt.id.clone())).await;
        let coordinator = user(itu.id.clone(), "strategy@itu.example", Role::StrategyEditor, Scope::Global).await;
        let gci_editor = user(itu.id.clone(), "editor@itu.example", Role::GciEditor, Scope::Global).await;
        let ke_focal = user(ke.id.clone(), "focal@ict.go.ke", Role::GciFocalPoint, Scope::Country("KE".into())).await;
        Env {
            strategy: Strategy::new(store.clone(), Arc::new(clock.clone())),
            gci: Gci::new(store.clone(), Arc::new(clock.clone())),
            store,
            clock,
            ke_cirt: ke_cirt.id,
            gh_cirt: gh_cirt.id,
            owner,
            gh_owner,
            manager,
            coordinator,
            gci_editor,
            ke_focal,
        }
    }

    pub async fn audit(&self, action: &str) -> Vec<AuditRecord> {
        let filter = AuditFilter { action_prefix: Some(action.to_owned()), ..AuditFilter::default() };
        let found = self.store.audit_list(&filter, &PageRequest::first(PageRequest::MAX_LIMIT)).await.expect("audit").items;
        found.into_iter().filter(|r| r.action == action).collect()
    }
}
