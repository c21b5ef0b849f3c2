//! An exercise's people on a fresh store: the ITU's drill organiser, an
//! evaluator and an observer, players of three national CIRTs and of a
//! telecom operator, and a stranger.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rampart_auth::service::Actor;
use rampart_auth::{AuthConfig, AuthService, NewUserRequest, Principal, Scope, Via};
use rampart_core::{ManualClock, Role};
use rampart_drills::Drills;
use rampart_drills::scenario;
use rampart_store::{AuditFilter, AuditRecord, NewOrg, PageRequest, Store};
use std::sync::Arc;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).single().expect("valid time")
}

pub fn actor(principal: &Principal) -> Actor<'_> {
    Actor { principal, ip: None }
}

pub struct Env {
    pub drills: Arc<Drills>,
    pub store: Store,
    pub clock: ManualClock,
    pub itu: String,
    pub organiser: Principal,
    pub evaluator: Principal,
    pub observer: Principal,
    pub ke1: Principal,
    pub ke2: Principal,
    pub gh1: Principal,
    pub telco1: Principal,
    pub stranger: Principal,
    /// Another organisation's organiser.
    pub outsider: Principal,
}

impl Env {
    pub async fn new(store: Store) -> Env {
        Self::with_limit(store, rampart_drills::service::WRONG_FLAGS_PER_MINUTE).await
    }

    pub async fn with_limit(store: Store, wrong_flags_per_minute: u32) -> Env {
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
        let ke = auth.create_org(&cli, &new_org("KE-CIRT", "national_cirt", Some("KE"))).await.expect("org");
        let gh = auth.create_org(&cli, &new_org("GH-CIRT", "national_cirt", Some("GH"))).await.expect("org");
        let telco = auth.create_org(&cli, &new_org("TelcoNet", "isp", Some("KE"))).await.expect("org");
        let afr = auth.create_org(&cli, &new_org("AfricaCERT", "international", None)).await.expect("org");
        let user = |org_id: String, email: &'static str, role: Role| {
            let auth = auth.clone();
            let cli = cli.clone();
            async move {
                let request = NewUserRequest {
                    org_id: org_id.clone(),
                    email: email.into(),
                    display_name: email.into(),
                    password: "correct horse battery staple".into(),
                    language: "en".into(),
                    must_change_password: false,
                };
                let id = auth.create_user(&cli, &request).await.expect("create user");
                auth.grant_role(&cli, &id, role, Scope::Org(org_id)).await.expect("grant role");
                let row = auth.store().user_get(&id).await.expect("user row");
                auth.principal_for(&row, Via::Session, None).await.expect("principal")
            }
        };
        Env {
            drills: Arc::new(Drills::with_wrong_flag_limit(store.clone(), Arc::new(clock.clone()), wrong_flags_per_minute)),
            organiser: user(itu.id.clone(), "drills@itu.example", Role::DrillOrganiser).await,
            evaluator: user(itu.id.clone(), "evaluator@itu.example", Role::DrillEvaluator).await,
            observer: user(itu.id.clone(), "observer@itu.example", Role::DrillEvaluator).await,
            ke1: user(ke.id.clone(), "amina@cirt.ke", Role::DrillPlayer).await,
            ke2: user(ke.id.clone(), "otieno@cirt.ke", Role::DrillPlayer).await,
            gh1: user(gh.id.clone(), "kofi@cirt.gh", Role::DrillPlayer).await,
            telco1: user(telco.id.clone(), "soc@telconet.example", Role::DrillPlayer).await,
            stranger: user(gh.id.clone(), "someone@cirt.gh", Role::DrillPlayer).await,
            outsider: user(afr.id.clone(), "drills@africacert.example", Role::DrillOrganiser).await,
            itu: itu.id,
            store,
            clock,
        }
    }

    /// The demo scenario saved, an exercise of it at `speed` with three
    /// teams (KE and GH national CIRTs, the operator), its people in place.
    pub async fn exercise(&self, speed: f64) -> String {
        let org = actor(&self.organiser);
        let scenario_id = self.drills.save_scenario(&org, None, &self.itu, scenario::demo().unwrap()).await.unwrap();
        let id = self.drills.create_exercise(&org, &scenario_id, "Regional drill 2026", speed, None).await.unwrap();
        self.drills.add_team(&org, &id, "Kenya", Some("ke"), "national_cirt").await.unwrap();
        self.drills.add_team(&org, &id, "Ghana", Some("GH"), "national_cirt").await.unwrap();
        self.drills.add_team(&org, &id, "TelcoNet", Some("KE"), "operator").await.unwrap();
        for (who, team) in [(&self.ke1, "Kenya"), (&self.ke2, "Kenya"), (&self.gh1, "Ghana"), (&self.telco1, "TelcoNet")] {
            self.drills.set_member(&org, &id, &who.email, "player", Some(team)).await.unwrap();
        }
        self.drills.set_member(&org, &id, &self.evaluator.email, "evaluator", None).await.unwrap();
        self.drills.set_member(&org, &id, &self.observer.email, "observer", None).await.unwrap();
        id
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub async fn audit(&self, action: &str) -> Vec<AuditRecord> {
        let filter = AuditFilter { action_prefix: Some(action.to_owned()), ..AuditFilter::default() };
        let found = self.store.audit_list(&filter, &PageRequest::first(PageRequest::MAX_LIMIT)).await.expect("audit").items;
        found.into_iter().filter(|r| r.action == action).collect()
    }
}
