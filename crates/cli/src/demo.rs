//! The demo world seeded by `serve --demo`: a dozen countries across the
//! six ITU regions with a national CIRT each, constituents, an
//! international coordinator and one user per role. Module issues add their
//! sections here. Demo accounts live in a reserved domain whose passwords
//! work only in demo mode (see `rampart_auth::service::DEMO_DOMAIN`).

use rampart_auth::service::{Actor, DEMO_DOMAIN, NewUserRequest};
use rampart_auth::{AuthError, AuthService, Principal, Scope};
use rampart_core::Role;
use rampart_store::NewOrg;
use serde_json::json;

pub const DEMO_PASSWORD: &str = "rampart-demo-2026";
const SEEDED_KEY: &str = "demo.seeded";

/// (country, national CIRT name)
const CIRTS: [(&str, &str); 12] = [
    ("KE", "KE-CIRT (demo)"),
    ("GH", "GH-CIRT (demo)"),
    ("BR", "BR-CIRT (demo)"),
    ("JM", "JM-CIRT (demo)"),
    ("EG", "EG-CIRT (demo)"),
    ("OM", "OM-CIRT (demo)"),
    ("MY", "MY-CIRT (demo)"),
    ("FJ", "FJ-CIRT (demo)"),
    ("KZ", "KZ-CIRT (demo)"),
    ("UZ", "UZ-CIRT (demo)"),
    ("EE", "EE-CIRT (demo)"),
    ("PT", "PT-CIRT (demo)"),
];

/// (name, kind, sector, country, parent CIRT index)
const CONSTITUENTS: [(&str, &str, Option<&str>, &str, usize); 7] = [
    ("Savannah Telecom (demo)", "isp", Some("digital_infrastructure"), "KE", 0),
    ("Rift Valley Power (demo)", "critical_infrastructure", Some("energy"), "KE", 0),
    ("Harambee Bank (demo)", "critical_infrastructure", Some("banking"), "KE", 0),
    ("Ministry of ICT and Digital Economy (demo)", "ministry", Some("public_administration"), "KE", 0),
    ("Child Safety Hotline Kenya (demo)", "hotline", None, "KE", 0),
    ("Atlântico Net (demo)", "isp", Some("digital_infrastructure"), "BR", 2),
    ("Nile Grid Company (demo)", "critical_infrastructure", Some("energy"), "EG", 4),
];

/// (role, local part, display name, organisation name, scope)
enum DemoScope {
    Org,
    Country(&'static str),
    Global,
}

const COORDINATOR: &str = "Global Cybersecurity Coordination Office (demo)";

const USERS: [(Role, &str, &str, &str, DemoScope); 14] = [
    (Role::PlatformAdmin, "admin", "Amina Diallo", COORDINATOR, DemoScope::Global),
    (Role::OrgAdmin, "orgadmin", "Peter Otieno", "KE-CIRT (demo)", DemoScope::Org),
    (Role::CirtManager, "manager", "Grace Wanjiru", "KE-CIRT (demo)", DemoScope::Org),
    (Role::CirtAnalyst, "analyst", "Daniel Kiprop", "KE-CIRT (demo)", DemoScope::Org),
    (Role::Constituent, "isp", "Fatuma Hassan", "Savannah Telecom (demo)", DemoScope::Org),
    (Role::GciFocalPoint, "focalpoint", "Joseph Mwangi", "Ministry of ICT and Digital Economy (demo)", DemoScope::Country("KE")),
    (Role::GciReviewer, "reviewer", "Claire Dubois", COORDINATOR, DemoScope::Global),
    (Role::GciEditor, "editor", "Omar Haddad", COORDINATOR, DemoScope::Global),
    (Role::DrillOrganiser, "drills", "Lucía Fernández", COORDINATOR, DemoScope::Global),
    (Role::DrillEvaluator, "evaluator", "Mei Lin", COORDINATOR, DemoScope::Global),
    (Role::DrillPlayer, "player", "João Silva", "BR-CIRT (demo)", DemoScope::Org),
    (Role::HotlineAnalyst, "hotline", "Esther Njeri", "Child Safety Hotline Kenya (demo)", DemoScope::Org),
    (Role::StrategyEditor, "strategy", "Samuel Kamau", "Ministry of ICT and Digital Economy (demo)", DemoScope::Country("KE")),
    (Role::Viewer, "viewer", "Kadri Tamm", "EE-CIRT (demo)", DemoScope::Org),
];

/// The accounts to list on the login page: (role, e-mail, password).
pub fn accounts() -> Vec<(String, String, String)> {
    USERS.iter().map(|(role, local, ..)| (role.as_str().to_owned(), format!("{local}@{DEMO_DOMAIN}"), DEMO_PASSWORD.to_owned())).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("this database already holds real users; --demo only seeds an empty or demo database")]
    NotADemoDatabase,
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Store(#[from] rampart_store::StoreError),
}

/// Seeds the demo world once; later runs find it and return false.
pub async fn seed(auth: &AuthService) -> Result<bool, DemoError> {
    let store = auth.store();
    if store.setting_get(SEEDED_KEY).await?.is_some() {
        return Ok(false);
    }
    if store.user_count().await? > 0 {
        return Err(DemoError::NotADemoDatabase);
    }
    let operator = Principal::cli("demo-seed");
    let actor = Actor { principal: &operator, ip: None };
    let org = |name: &str, kind: &str, sector: Option<&str>, country: Option<&str>, parent: Option<String>| NewOrg {
        name: name.to_owned(),
        short_name: None,
        kind: kind.to_owned(),
        sector: sector.map(str::to_owned),
        country: country.map(str::to_owned),
        parent_id: parent,
        website: None,
        mfa_required: false,
    };
    let mut org_ids = std::collections::HashMap::new();
    let coordinator = auth.create_org(&actor, &org(COORDINATOR, "international", None, None, None)).await?;
    org_ids.insert(COORDINATOR.to_owned(), coordinator.id.clone());
    let mut cirt_ids = Vec::new();
    for (country, name) in CIRTS {
        let created = auth.create_org(&actor, &org(name, "national_cirt", None, Some(country), None)).await?;
        cirt_ids.push(created.id.clone());
        org_ids.insert(name.to_owned(), created.id);
    }
    for (name, kind, sector, country, parent) in CONSTITUENTS {
        let created = auth.create_org(&actor, &org(name, kind, sector, Some(country), cirt_ids.get(parent).cloned())).await?;
        org_ids.insert(name.to_owned(), created.id);
    }
    let now = auth.now();
    {
        let mut tx = store.begin().await?;
        for (country, name) in CIRTS {
            let id = &org_ids[name];
            let local = country.to_ascii_lowercase();
            tx.contact_insert(
                id,
                "incident reports",
                Some("Duty officer"),
                &format!("incident@cirt.{local}.example"),
                Some("+000 000 0000"),
                now,
            )
            .await?;
            tx.contact_insert(id, "general", None, &format!("info@cirt.{local}.example"), None, now).await?;
        }
        tx.setting_put("demo.contacts", "seeded", now).await?;
        tx.audit(
            rampart_store::AuditEntry {
                actor_id: None,
                actor_label: "cli:demo-seed".into(),
                actor_org_id: None,
                action: "platform.demo.contacts".into(),
                entity_type: "organisation".into(),
                entity_id: None,
                source_ip: None,
                summary: json!({"contacts": CIRTS.len() * 2}),
            },
            now,
        )
        .await?;
        tx.commit().await?;
    }
    for (role, local, name, org_name, scope) in &USERS {
        let org_id = org_ids[*org_name].clone();
        let email = format!("{local}@{DEMO_DOMAIN}");
        let language = if *local == "reviewer" {
            "fr"
        } else if *local == "editor" {
            "ar"
        } else {
            "en"
        };
        let user_id = auth
            .create_user(
                &actor,
                &NewUserRequest {
                    org_id: org_id.clone(),
                    email,
                    display_name: (*name).to_owned(),
                    password: DEMO_PASSWORD.to_owned(),
                    language: language.to_owned(),
                    must_change_password: false,
                },
            )
            .await?;
        let scope = match scope {
            DemoScope::Org => Scope::Org(org_id),
            DemoScope::Country(cc) => Scope::Country((*cc).to_owned()),
            DemoScope::Global => Scope::Global,
        };
        auth.grant_role(&actor, &user_id, *role, scope).await?;
    }
    let mut tx = store.begin().await?;
    tx.setting_put(SEEDED_KEY, &rampart_core::time::format(now), now).await?;
    tx.audit(
        rampart_store::AuditEntry {
            actor_id: None,
            actor_label: "cli:demo-seed".into(),
            actor_org_id: None,
            action: "platform.demo.seeded".into(),
            entity_type: "setting".into(),
            entity_id: Some(SEEDED_KEY.into()),
            source_ip: None,
            summary: json!({"organisations": 1 + CIRTS.len() + CONSTITUENTS.len(), "users": USERS.len()}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
