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
const CONSTITUENTS: [(&str, &str, Option<&str>, &str, usize); 10] = [
    ("Savannah Telecom (demo)", "isp", Some("digital_infrastructure"), "KE", 0),
    ("Rift Valley Power (demo)", "critical_infrastructure", Some("energy"), "KE", 0),
    ("Harambee Bank (demo)", "critical_infrastructure", Some("banking"), "KE", 0),
    ("Ministry of ICT and Digital Economy (demo)", "ministry", Some("public_administration"), "KE", 0),
    ("Child Safety Hotline Kenya (demo)", "hotline", None, "KE", 0),
    ("Atlântico Net (demo)", "isp", Some("digital_infrastructure"), "BR", 2),
    ("Nile Grid Company (demo)", "critical_infrastructure", Some("energy"), "EG", 4),
    ("Linha Alerta Portugal (demo)", "hotline", None, "PT", 11),
    ("Polícia Judiciária cybercrime unit (demo)", "law_enforcement", None, "PT", 11),
    ("Egypt Child Online Hotline (demo)", "hotline", None, "EG", 4),
];

/// (role, local part, display name, organisation name, scope)
enum DemoScope {
    Org,
    Country(&'static str),
    Global,
}

const COORDINATOR: &str = "Global Cybersecurity Coordination Office (demo)";

const USERS: [(Role, &str, &str, &str, DemoScope); 22] = [
    (Role::PlatformAdmin, "admin", "Amina Diallo", COORDINATOR, DemoScope::Global),
    (Role::OrgAdmin, "orgadmin", "Peter Otieno", "KE-CIRT (demo)", DemoScope::Org),
    (Role::CirtManager, "manager", "Grace Wanjiru", "KE-CIRT (demo)", DemoScope::Org),
    (Role::CirtAnalyst, "analyst", "Daniel Kiprop", "KE-CIRT (demo)", DemoScope::Org),
    (Role::Constituent, "isp", "Fatuma Hassan", "Savannah Telecom (demo)", DemoScope::Org),
    (Role::GciFocalPoint, "focalpoint", "Joseph Mwangi", "Ministry of ICT and Digital Economy (demo)", DemoScope::Country("KE")),
    (Role::GciFocalPoint, "focalpoint-br", "Ana Souza", "BR-CIRT (demo)", DemoScope::Country("BR")),
    (Role::GciFocalPoint, "focalpoint-ee", "Mart Kask", "EE-CIRT (demo)", DemoScope::Country("EE")),
    (Role::GciReviewer, "reviewer", "Claire Dubois", COORDINATOR, DemoScope::Global),
    (Role::GciEditor, "editor", "Omar Haddad", COORDINATOR, DemoScope::Global),
    (Role::DrillOrganiser, "drills", "Lucía Fernández", COORDINATOR, DemoScope::Global),
    (Role::DrillEvaluator, "evaluator", "Mei Lin", COORDINATOR, DemoScope::Global),
    (Role::DrillPlayer, "player", "João Silva", "BR-CIRT (demo)", DemoScope::Org),
    (Role::DrillPlayer, "player-ke", "Wanjiku Mutua", "KE-CIRT (demo)", DemoScope::Org),
    (Role::DrillPlayer, "player-gh", "Kwame Asante", "GH-CIRT (demo)", DemoScope::Org),
    (Role::DrillPlayer, "player-eg", "Nour El-Sayed", "EG-CIRT (demo)", DemoScope::Org),
    (Role::DrillPlayer, "player-telco", "Brian Ochieng", "Savannah Telecom (demo)", DemoScope::Org),
    (Role::HotlineAnalyst, "hotline", "Esther Njeri", "Child Safety Hotline Kenya (demo)", DemoScope::Org),
    (Role::HotlineAnalyst, "hotline-pt", "Inês Rocha", "Linha Alerta Portugal (demo)", DemoScope::Org),
    (Role::StrategyEditor, "strategy", "Samuel Kamau", "Ministry of ICT and Digital Economy (demo)", DemoScope::Country("KE")),
    (Role::StrategyEditor, "coordinator", "Nadia Rahman", COORDINATOR, DemoScope::Global),
    (Role::Viewer, "viewer", "Kadri Tamm", "EE-CIRT (demo)", DemoScope::Org),
];

/// The accounts to list on the login page: (role, e-mail, password).
pub fn accounts() -> Vec<(String, String, String)> {
    USERS.iter().map(|(role, local, ..)| (role.as_str().to_owned(), format!("{local}@{DEMO_DOMAIN}"), DEMO_PASSWORD.to_owned())).collect()
}

/// The CIRT desk's part of the demo: a constituency registry for Kenya, a
/// report waiting in the queue and incidents in several states.
async fn seed_cirt(
    auth: &AuthService,
    org_ids: &std::collections::HashMap<String, String>,
    signer: Option<std::sync::Arc<rampart_cirt::signing::Signer>>,
) -> Result<(), DemoError> {
    use rampart_cirt::priority::Level;
    use rampart_cirt::workflow::Status;
    use rampart_cirt::{Channel, Desk, NewIncident, NewReport};
    use rampart_core::Tlp;
    // Demo documents name the demo domain as their publisher namespace.
    let desk = Desk::new(auth.store().clone(), auth.clock()).with_public_url(&format!("https://{DEMO_DOMAIN}")).with_signer(signer);
    let store = auth.store();
    let user = |email: &str| {
        let email = format!("{email}@{DEMO_DOMAIN}");
        async move {
            let row = store.user_by_email(&email).await?.ok_or(rampart_store::StoreError::NotFound { entity: "user" })?;
            Ok::<_, DemoError>(auth.principal_for(&row, rampart_auth::Via::Session, None).await?)
        }
    };
    let manager = user("manager").await?;
    let analyst = user("analyst").await?;
    let isp = user("isp").await?;
    fn as_actor(principal: &Principal) -> Actor<'_> {
        Actor { principal, ip: None }
    }
    let ke_cirt = org_ids["KE-CIRT (demo)"].clone();
    let telecom = org_ids["Savannah Telecom (demo)"].clone();
    let power = org_ids["Rift Valley Power (demo)"].clone();
    let bank = org_ids["Harambee Bank (demo)"].clone();
    // Documentation address ranges (RFC 5737, RFC 3849) and example domains.
    let registry = format!(
        "org_id,kind,value\n{telecom},network,198.51.100.0/24\n{telecom},network,2001:db8:100::/48\n{telecom},asn,AS64500\n\
         {telecom},domain,savannah-telecom.example\n{power},network,203.0.113.0/26\n{power},domain,riftpower.example\n\
         {bank},network,203.0.113.128/25\n{bank},asn,AS64511\n{bank},domain,harambee-bank.example\n"
    );
    desk.import_registry(&as_actor(&manager), &registry).await.map_err(|errors| DemoError::Seed(format!("{errors:?}")))?;
    let report = |subject: &str, body: &str| NewReport {
        subject: subject.to_owned(),
        body: body.to_owned(),
        reporter_email: Some("soc@savannah-telecom.example".to_owned()),
        tlp: Tlp::Amber,
        cirt_org_id: None,
        country: None,
    };
    desk.submit_report(
        Some(&as_actor(&isp)),
        Channel::Web,
        &report(
            "Customers receive SMS phishing for Harambee Bank",
            "Since 02:10 UTC our customers report SMS messages linking to hxxps://harambee-secure-login[.]example/verify \
             which collects online-banking passwords. The page is served from 198.51.100.77.",
        ),
    )
    .await?;
    let new = |title: &str, description: &str, kind: &str, impact: Level, urgency: Level, constituents: Vec<String>| NewIncident {
        owner_org_id: ke_cirt.clone(),
        title: title.to_owned(),
        description: description.to_owned(),
        rsit_class: String::new(),
        rsit_type: kind.to_owned(),
        tlp: Tlp::Amber,
        pap: Tlp::Amber,
        impact,
        urgency,
        constituents,
        observables: rampart_cirt::observables::extract(description),
    };
    let manager_actor = as_actor(&manager);
    let analyst_actor = as_actor(&analyst);
    let botnet = desk
        .create_incident(
            &manager_actor,
            &new(
                "Mirai-like botnet drones in Savannah Telecom's network",
                "Sinkhole data shows 37 hosts in 198.51.100.0/24 contacting the C2 at 192.0.2.45 over TCP/23.",
                "infected-system",
                Level::Medium,
                Level::High,
                vec![telecom.clone()],
            ),
        )
        .await?;
    desk.assign(&manager_actor, &botnet.id, Some(&analyst.user_id)).await?;
    desk.change_status(&analyst_actor, &botnet.id, Status::Triage, "").await?;
    desk.change_status(&analyst_actor, &botnet.id, Status::InProgress, "").await?;
    desk.add_note(&analyst_actor, &botnet.id, "Sent the host list to Savannah Telecom's abuse desk; they are contacting customers.", true)
        .await?;
    let scan = desk
        .create_incident(
            &manager_actor,
            &new(
                "Exposed industrial control interface at Rift Valley Power",
                "Internet scan found a Modbus/TCP service on 203.0.113.20:502 (CVE-2024-3400 unrelated; check firmware).",
                "vulnerable-system",
                Level::High,
                Level::High,
                vec![power],
            ),
        )
        .await?;
    desk.change_status(&manager_actor, &scan.id, Status::Triage, "").await?;
    desk.create_incident(
        &analyst_actor,
        &new(
            "DDoS against the bank's online services",
            "Volumetric UDP flood towards 203.0.113.130 from AS64496, peak 12 Gbit/s.",
            "ddos",
            Level::High,
            Level::Medium,
            vec![bank],
        ),
    )
    .await?;
    seed_advisories(&desk, &as_actor(&analyst), &as_actor(&manager)).await
}

/// Two advisories of KE-CIRT: one published for everyone, one draft.
async fn seed_advisories(desk: &rampart_cirt::Desk, analyst: &Actor<'_>, manager: &Actor<'_>) -> Result<(), DemoError> {
    use rampart_cirt::advisory::{self, General, NewProduct, NewRemediation, NewVulnerability};
    use rampart_core::Tlp;
    use serde_json::json;
    let general = General {
        title: "Remote command execution in Example Networks EX-200 home routers".into(),
        tlp: Tlp::Clear,
        summary: "The web interface of EX-200 routers before firmware 3.2.1 lets an unauthenticated attacker on the network run \
                  commands as root. Many home and small-office connections in Kenya use these routers; update them now."
            .into(),
        lang: "en".into(),
        references: vec![],
    };
    let published = desk.create_advisory(analyst, None, &general).await?;
    let mut affected = String::new();
    let mut fixed = String::new();
    desk.edit_advisory(analyst, &published.id, "cirt.advisory.product.add", |document| {
        affected = advisory::add_product(
            document,
            &NewProduct { vendor: "Example Networks".into(), product: "EX-200".into(), version: "3.1.4".into() },
        )?;
        fixed = advisory::add_product(
            document,
            &NewProduct { vendor: "Example Networks".into(), product: "EX-200".into(), version: "3.2.1".into() },
        )?;
        Ok(json!({"products": 2}))
    })
    .await?;
    let vulnerability = NewVulnerability {
        title: "OS command injection in the diagnostics page".into(),
        description: "The ping tool of the diagnostics page passes the host field to a shell without neutralising it.".into(),
        cve: Some("CVE-2026-40001".into()),
        cwe: Some("CWE-78".into()),
        cvss_v3: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
        cvss_v4: Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".into()),
        known_affected: vec![affected.clone()],
        fixed: vec![fixed.clone()],
        remediation: Some(NewRemediation {
            category: "vendor_fix".into(),
            details: "Install firmware 3.2.1 or later; until then, disable remote administration.".into(),
            url: Some("https://vendor.example/ex-200/firmware".into()),
        }),
        references: vec![],
    };
    desk.edit_advisory(analyst, &published.id, "cirt.advisory.vulnerability.add", |document| {
        advisory::add_vulnerability(document, &vulnerability)?;
        Ok(json!({"cve": "CVE-2026-40001"}))
    })
    .await?;
    desk.publish_advisory(manager, &published.id, "Initial public release.").await?;

    let draft = General {
        title: "Phishing campaign imitating the revenue authority".into(),
        tlp: Tlp::Green,
        summary: "Messages claiming a tax refund lead to a credential-harvesting site. Indicators are attached to the incident.".into(),
        lang: "en".into(),
        references: vec![],
    };
    desk.create_advisory(analyst, None, &draft).await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo seed: {0}")]
    Seed(String),
    #[error(transparent)]
    Desk(#[from] rampart_cirt::DeskError),
    #[error("this database already holds real users; --demo only seeds an empty or demo database")]
    NotADemoDatabase,
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Store(#[from] rampart_store::StoreError),
    #[error("demo GCI: {0}")]
    Gci(String),
    #[error("demo hotline: {0}")]
    Cop(String),
    #[error("demo strategy: {0}")]
    Strategy(String),
    #[error("demo threat intelligence: {0}")]
    Intel(String),
    #[error("demo drill: {0}")]
    Drills(String),
}

/// Seeds the demo world once; later runs find it and return false.
pub async fn seed(auth: &AuthService, signer: Option<std::sync::Arc<rampart_cirt::signing::Signer>>) -> Result<bool, DemoError> {
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
    seed_cirt(auth, &org_ids, signer).await?;
    seed_hotline(auth, &org_ids).await?;
    seed_gci(auth).await?;
    seed_strategy(auth, &org_ids).await?;
    seed_intel(auth, &org_ids).await?;
    seed_drills(auth).await?;
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

/// PDQ hashes of two of the PDQ project's public test images (a bridge
/// photograph and a variant), published with that project's reference
/// hashes: a harmless list to try matching on.
const DEMO_HASHES: [(&str, &str); 2] = [
    ("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", "pdq-test-image;bridge"),
    ("f8f8f0cee0f4a84f06370a2a068f67f0b36e26d596621e1d33e6339c4e9c9b22", "pdq-test-image;bridge;high-contrast"),
];

/// Hotline reports at each stage, a referral from Kenya to Portugal taken
/// down, and a harmless hash list. Addresses are in the documentation
/// ranges and reserved `.example` names: nothing here points anywhere.
async fn seed_hotline(auth: &AuthService, org_ids: &std::collections::HashMap<String, String>) -> Result<(), DemoError> {
    use rampart_cop::hotline::{Hotline, HotlineSettings, NewHotlineReport};
    let store = auth.store().clone();
    let hotline = Hotline::new(store.clone(), auth.clock(), HotlineSettings::default());
    let lists = rampart_cop::lists::HashLists::new(store.clone(), auth.clock());
    let principal = |email: &str| {
        let email = format!("{email}@{DEMO_DOMAIN}");
        let store = store.clone();
        async move {
            let row = store.user_by_email(&email).await?.ok_or(rampart_store::StoreError::NotFound { entity: "user" })?;
            Ok::<_, DemoError>(auth.principal_for(&row, rampart_auth::Via::Session, None).await?)
        }
    };
    let kenya = principal("hotline").await?;
    let portugal = principal("hotline-pt").await?;
    let ke = Actor { principal: &kenya, ip: None };
    let pt = Actor { principal: &portugal, ip: None };
    let report = |urls: &str, category: &str, language: &str| NewHotlineReport {
        urls: urls.to_owned(),
        category: category.to_owned(),
        description: "Seen while browsing; I did not save anything.".to_owned(),
        language: language.to_owned(),
        country: Some("KE".to_owned()),
        ..NewHotlineReport::default()
    };
    let cop_err = |err: rampart_cop::CopError| DemoError::Cop(err.to_string());
    hotline.submit(None, &report("http://images.abuse-demo.example/gallery/17", "child_sexual_abuse", "en")).await.map_err(cop_err)?;
    hotline.submit(None, &report("https://chat.grooming-demo.example/room/4", "grooming", "sw")).await.map_err(cop_err)?;
    hotline.submit(None, &report("hxxp://files.hosting-demo[.]example/a/b.html", "child_sexual_abuse", "ar")).await.map_err(cop_err)?;
    hotline.submit(None, &report("https://news.example/article", "other_harmful", "en")).await.map_err(cop_err)?;
    let page = hotline.queue(&kenya, Some("new"), &rampart_store::PageRequest::first(50)).await.map_err(cop_err)?;
    let by_host = |host: &str| page.items.iter().find(|i| i.host == host).map(|i| i.id.clone()).unwrap_or_default();
    let taken_down = by_host("files.hosting-demo.example");
    hotline.assess(&ke, &taken_down, "illegal_interpol", "Known series; INTERPOL baseline.").await.map_err(cop_err)?;
    hotline.trace(&ke, &taken_down, "192.0.2.44", Some("PT")).await.map_err(cop_err)?;
    let referral = hotline
        .refer(&ke, &taken_down, &org_ids["Linha Alerta Portugal (demo)"], "Please issue notice and takedown.")
        .await
        .map_err(cop_err)?;
    hotline.record_takedown(&pt, &referral.id, "notice_sent", "Notice sent to the hosting provider.").await.map_err(cop_err)?;
    hotline.record_takedown(&pt, &referral.id, "removed", "The provider removed the page.").await.map_err(cop_err)?;
    let referred = by_host("images.abuse-demo.example");
    hotline.assess(&ke, &referred, "illegal_national", "").await.map_err(cop_err)?;
    hotline.trace(&ke, &referred, "198.51.100.7", Some("PT")).await.map_err(cop_err)?;
    hotline.refer(&ke, &referred, &org_ids["Linha Alerta Portugal (demo)"], "").await.map_err(cop_err)?;
    hotline.assess(&ke, &by_host("news.example"), "not_illegal", "News report about online safety.").await.map_err(cop_err)?;

    let list = lists
        .create(
            &ke,
            &rampart_cop::lists::NewList {
                org_id: org_ids["Child Safety Hotline Kenya (demo)"].clone(),
                name: "PDQ test images (demo)".into(),
                source: "The PDQ project's public test images".into(),
                tlp: "GREEN".into(),
                description: "Harmless photographs, for trying out matching.".into(),
            },
        )
        .await
        .map_err(cop_err)?;
    let csv: String = std::iter::once("hash,type,tags".to_owned())
        .chain(DEMO_HASHES.iter().map(|(h, t)| format!("{h},pdq,{t}")))
        .collect::<Vec<_>>()
        .join("\n");
    lists.import(&ke, &list.id, &csv, false).await.map_err(cop_err)?;
    Ok(())
}

/// Synthetic pillar scores for every country, for the demo's published
/// results: made up from each country code (FNV-1a), so the map and tables
/// have something to show. They are not ITU data and say so in their name.
pub fn synthetic_results_csv() -> String {
    let mut lines = vec!["country,overall,legal,technical,organizational,capacity,cooperation".to_owned()];
    for country in rampart_gci::countries::all() {
        let mut hash = country.alpha2.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        let mut next = || {
            hash ^= hash << 13;
            hash ^= hash >> 7;
            hash ^= hash << 17;
            (hash % 10_000) as f64 / 10_000.0
        };
        // A country's general level, then each pillar around it.
        let level = 0.15 + 0.85 * next();
        let pillars: Vec<f64> = (0..5).map(|_| ((level + (next() - 0.5) * 0.3).clamp(0.0, 1.0) * 2000.0).round() / 100.0).collect();
        let overall: f64 = pillars.iter().sum();
        lines.push(format!("{},{overall:.2},{}", country.alpha2, pillars.iter().map(|p| format!("{p:.2}")).collect::<Vec<_>>().join(",")));
    }
    lines.join("\n")
}

/// The GCI's part of the demo: synthetic published results on the 2024
/// edition, and an open campaign for Kenya, Brazil and Estonia with Kenya
/// part-way through its answers.
async fn seed_gci(auth: &AuthService) -> Result<(), DemoError> {
    use rampart_gci::campaigns::{AnswerInput, Evidence, Gci};
    let store = auth.store().clone();
    let gci = Gci::new(store.clone(), auth.clock());
    let principal = |email: &str| {
        let email = format!("{email}@{DEMO_DOMAIN}");
        let store = store.clone();
        async move {
            let row = store.user_by_email(&email).await?.ok_or(rampart_store::StoreError::NotFound { entity: "user" })?;
            Ok::<_, DemoError>(auth.principal_for(&row, rampart_auth::Via::Session, None).await?)
        }
    };
    let gci_err = |err: rampart_gci::GciError| DemoError::Gci(err.to_string());
    let editor = principal("editor").await?;
    let focal = principal("focalpoint").await?;
    let editor = Actor { principal: &editor, ip: None };
    let focal = Actor { principal: &focal, ip: None };
    gci.import_published(&editor, "gci-2024", "GCI 2024 — synthetic demo results (not ITU data)", &synthetic_results_csv())
        .await
        .map_err(gci_err)?;
    let deadline = (auth.now() + chrono::Duration::days(60)).date_naive().to_string();
    let countries = ["KE", "BR", "EE"].map(str::to_owned);
    let campaign = gci.open_campaign(&editor, "gci-2024", "GCI 2026 round (demo)", &deadline, &countries).await.map_err(gci_err)?;
    let today = auth.now().date_naive().to_string();
    let link = |url: &str, name: &str| Evidence { kind: "link".into(), target: url.into(), name: name.into(), checked_on: today.clone() };
    let answers = [
        ("L1.1.a.q1", "in_place", link("https://ict.go.ke.example/computer-misuse-act", "Computer Misuse and Cybercrimes Act")),
        (
            "L1.1.b.q1",
            "partial",
            link("https://ict.go.ke.example/computer-misuse-act#s17", "Computer Misuse and Cybercrimes Act, section 17"),
        ),
        ("T1.1.a.q1", "in_place", link("https://cirt.ke.example/about", "National KE-CIRT/CC mandate")),
    ];
    for (question, value, evidence) in answers {
        let input = AnswerInput { value: value.into(), comment: String::new(), evidence: vec![evidence] };
        gci.save_answer(&focal, &campaign.id, "KE", question, &input).await.map_err(gci_err)?;
    }
    Ok(())
}

/// A TAXII collection of KE-CIRT shared with GH-CIRT, holding a phishing
/// campaign imported from a MISP event (one indicator TLP:AMBER, the rest
/// GREEN), so the collections page, TAXII and the MISP feed have content;
/// and KE-CIRT's indicator store gathered from its incidents and that
/// collection.
async fn seed_intel(auth: &AuthService, org_ids: &std::collections::HashMap<String, String>) -> Result<(), DemoError> {
    let err = |e: rampart_intel::IntelError| DemoError::Intel(e.to_string());
    let as_user = async |local: &str| -> Result<Principal, DemoError> {
        let row = auth
            .store()
            .user_by_email(&format!("{local}@{DEMO_DOMAIN}"))
            .await?
            .ok_or(rampart_store::StoreError::NotFound { entity: "user" })?;
        Ok(auth.principal_for(&row, rampart_auth::Via::Session, None).await?)
    };
    let manager = as_user("manager").await?;
    let analyst = as_user("analyst").await?;
    let taxii = rampart_intel::taxii::Taxii::new(auth.store().clone(), auth.clock());
    let ghana = org_ids["GH-CIRT (demo)"].clone();
    let collection = taxii
        .create_collection(
            &Actor { principal: &manager, ip: None },
            "KE-CIRT shared indicators",
            "Indicators KE-CIRT shares with GH-CIRT (demo)",
            &[ghana],
            &[],
        )
        .await
        .map_err(err)?;
    let now = auth.now();
    let event = serde_json::json!({"Event": {
    "uuid": "7c1e9a52-3b4d-4f6e-8a1b-2c3d4e5f6a7b", "info": "Phishing campaign against mobile-money customers (demo)",
    "date": now.format("%Y-%m-%d").to_string(), "timestamp": now.timestamp().to_string(),
    "Tag": [{"name": "tlp:green"}, {"name": "rsit:fraud=\"phishing\""}],
    "Attribute": [
        {"uuid": "8d2f0b63-4c5e-4a7f-9b2c-3d4e5f6a7b8c", "type": "domain", "value": "mpesa-verify.example", "to_ids": true, "comment": "Credential-harvesting site"},
        {"uuid": "9e3a1c74-5d6f-4b80-8c3d-4e5f6a7b8c9d", "type": "url", "value": "https://mpesa-verify.example/login", "to_ids": true},
        {"uuid": "af4b2d85-6e7a-4c91-9d4e-5f6a7b8c9dae", "type": "ip-dst", "value": "203.0.113.45", "to_ids": true, "Tag": [{"name": "tlp:amber"}], "comment": "Hosting; shared with GH-CIRT only"},
        {"uuid": "b05c3e96-7f8b-4da2-8e5f-6a7b8c9daebf", "type": "sha256", "value": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", "to_ids": false, "comment": "Phishing kit archive"}
    ]}});
    taxii.import_misp(&Actor { principal: &analyst, ip: None }, &collection.id, &event.to_string()).await.map_err(err)?;
    // The indicator store gathers KE-CIRT's incidents and the collection.
    let indicators = rampart_intel::indicators::Indicators::new(auth.store().clone(), auth.clock());
    let actor = Actor { principal: &analyst, ip: None };
    indicators.gather_incidents(&actor, &analyst.org_id).await.map_err(err)?;
    indicators.gather_collection(&actor, &taxii, &collection.id).await.map_err(err)?;
    Ok(())
}

/// The drill of the demo: the ransomware scenario ready to run at 10×
/// speed for four national CIRTs and a telecom operator, with an evaluator,
/// and a communication check already sent. The organiser starts it.
async fn seed_drills(auth: &AuthService) -> Result<(), DemoError> {
    let err = |e: rampart_drills::DrillsError| DemoError::Drills(e.to_string());
    let row = auth
        .store()
        .user_by_email(&format!("drills@{DEMO_DOMAIN}"))
        .await?
        .ok_or(rampart_store::StoreError::NotFound { entity: "user" })?;
    let organiser = auth.principal_for(&row, rampart_auth::Via::Session, None).await?;
    let actor = Actor { principal: &organiser, ip: None };
    let drills = rampart_drills::Drills::new(auth.store().clone(), auth.clock());
    let scenario = rampart_drills::scenario::demo().map_err(err)?;
    let scenario_id = drills.save_scenario(&actor, None, &organiser.org_id, scenario).await.map_err(err)?;
    let id = drills
        .create_exercise(&actor, &scenario_id, "Regional cyberdrill 2026: Operation Dark Relay (demo)", 10.0, None)
        .await
        .map_err(err)?;
    let teams = [
        ("Kenya: KE-CIRT", "KE", "national_cirt", "player-ke"),
        ("Ghana: GH-CIRT", "GH", "national_cirt", "player-gh"),
        ("Brazil: BR-CIRT", "BR", "national_cirt", "player"),
        ("Egypt: EG-CIRT", "EG", "national_cirt", "player-eg"),
        ("Savannah Telecom", "KE", "operator", "player-telco"),
    ];
    for (name, country, audience, player) in teams {
        let team = drills.add_team(&actor, &id, name, Some(country), audience).await.map_err(err)?;
        drills.set_member(&actor, &id, &format!("{player}@{DEMO_DOMAIN}"), "player", Some(&team)).await.map_err(err)?;
    }
    drills.set_member(&actor, &id, &format!("evaluator@{DEMO_DOMAIN}"), "evaluator", None).await.map_err(err)?;
    drills.comm_check(&actor, &id).await.map_err(err)?;
    Ok(())
}

/// The strategy module's part of the demo: Kenya in implementation with a
/// partial self-assessment and a plan under way (one action overdue), Ghana
/// and Estonia at other phases for the regional comparison, and an earlier
/// SIM3 assessment of GH-CIRT. Kenya's remaining elements are left for the
/// strategy owner to assess.
async fn seed_strategy(auth: &AuthService, org_ids: &std::collections::HashMap<String, String>) -> Result<(), DemoError> {
    use rampart_strategy::Strategy;
    use rampart_strategy::service::{ActionInput, AnswerInput, KpiInput};
    let store = auth.store().clone();
    let strategy = Strategy::new(store.clone(), auth.clock());
    let err = |e: rampart_strategy::StrategyError| DemoError::Strategy(e.to_string());
    let row =
        store.user_by_email(&format!("coordinator@{DEMO_DOMAIN}")).await?.ok_or(rampart_store::StoreError::NotFound { entity: "user" })?;
    let coordinator = auth.principal_for(&row, rampart_auth::Via::Session, None).await?;
    let actor = Actor { principal: &coordinator, ip: None };
    let today = auth.now().date_naive();
    let day = |offset: i64| (today + chrono::Duration::days(offset)).to_string();

    strategy
        .save_record(
            &actor,
            "KE",
            "National Cybersecurity Strategy 2025–2029 (demo)",
            "implementation",
            "Second national strategy; adopted by Cabinet.",
        )
        .await
        .map_err(err)?;
    for (phase, start, end, note) in [
        ("initiation", -700, Some(-620), "Steering committee appointed"),
        ("stocktaking", -620, Some(-500), "Survey of 60 public and private bodies"),
        ("production", -500, Some(-330), "Two rounds of public consultation"),
        ("implementation", -330, None, ""),
    ] {
        let end = end.map(day).unwrap_or_default();
        strategy.set_phase(&actor, "KE", phase, &day(start), &end, note).await.map_err(err)?;
    }
    strategy
        .add_document(
            &actor,
            "KE",
            "National Cybersecurity Strategy 2025–2029",
            "strategy",
            "https://ict.go.ke.example/ncs-2025.pdf",
            &day(-330),
        )
        .await
        .map_err(err)?;
    for (name, sector, role) in [
        ("Ministry of ICT and Digital Economy", "government", "Owner of the strategy; chairs the steering committee"),
        ("KE-CIRT/CC", "government", "Leads incident response and the sectoral CIRTs"),
        ("Kenya Bankers Association", "private", "Represents the banking sector"),
        ("Strathmore University", "academia", "Skills survey and curriculum"),
        ("Digital rights coalition", "civil_society", "Reviews the human-rights safeguards"),
    ] {
        strategy.add_stakeholder(&actor, "KE", name, sector, role).await.map_err(err)?;
    }
    let answer = |status: &str| AnswerInput { status: status.into(), ..AnswerInput::default() };
    let guide = rampart_strategy::data::guide().map_err(err)?;
    // Kenya has assessed the principles and the first four focus areas;
    // FA5 to FA7 are still to do.
    for (i, element) in guide.elements.iter().filter(|e| ["P", "FA1", "FA2", "FA3", "FA4"].contains(&e.area.as_str())).enumerate() {
        let status = ["in_place", "in_place", "partial", "in_place", "not_in_place"][i % 5];
        strategy.save_answer(&actor, "KE", &element.id, &answer(status)).await.map_err(err)?;
    }
    let objective = strategy.add_objective(&actor, "KE", "Strengthen national incident response", "FA3").await.map_err(err)?;
    let action = |title: &str, lead: &str, start: i64, end: i64, status: &str, budget: &str| ActionInput {
        objective_id: objective.id.clone(),
        title: title.into(),
        lead_org: lead.into(),
        supporting: String::new(),
        budget: budget.into(),
        currency: if budget.is_empty() { String::new() } else { "KES".into() },
        start_on: day(start),
        end_on: day(end),
        status: status.into(),
    };
    let soc = strategy
        .save_action(&actor, "KE", None, &action("Set up the financial-sector CIRT", "KE-CIRT/CC", -300, 120, "in_progress", "45000000"))
        .await
        .map_err(err)?;
    strategy
        .save_action(
            &actor,
            "KE",
            None,
            &action("National cyber exercise for critical sectors", "KE-CIRT/CC", -200, -20, "planned", "6000000"),
        )
        .await
        .map_err(err)?;
    let kpi = KpiInput {
        name: "Banks reporting incidents to the sector CIRT".into(),
        unit: "banks".into(),
        baseline: "0".into(),
        target: "38".into(),
    };
    let kpi = strategy.add_kpi(&actor, "KE", &soc.id, &kpi).await.map_err(err)?;
    for (offset, value) in [(-180, "6"), (-90, "14"), (-10, "21")] {
        strategy.record_kpi(&actor, "KE", &kpi.id, &day(offset), value, "").await.map_err(err)?;
    }

    // Other countries, for the comparison.
    for (cc, title, phase, share) in [
        ("GH", "National Cybersecurity Policy and Strategy (demo)", "production", 3),
        ("EE", "Cybersecurity Strategy (demo)", "monitoring", 5),
    ] {
        strategy.save_record(&actor, cc, title, phase, "").await.map_err(err)?;
        for (i, element) in guide.elements.iter().enumerate() {
            let status = if i % 6 < share { "in_place" } else { "partial" };
            strategy.save_answer(&actor, cc, &element.id, &answer(status)).await.map_err(err)?;
        }
    }
    if let Some(gh_cirt) = org_ids.get("GH-CIRT (demo)") {
        let model = rampart_strategy::data::sim3().map_err(err)?;
        let levels = model.parameters.iter().enumerate().map(|(i, p)| (p.id.clone(), [1, 2, 2, 3][i % 4])).collect();
        let targets = model.parameters.iter().map(|p| (p.id.clone(), 3)).collect();
        strategy.record_maturity(&actor, gh_cirt, &day(-60), &levels, &targets, "Peer-assisted self-assessment").await.map_err(err)?;
    }
    Ok(())
}

/// The demo's advisory signing key: kept beside a SQLite database so
/// signatures stay valid across restarts (made on first start), or made
/// afresh for a PostgreSQL demo. A real deployment configures its own key.
pub fn signing_key(database: &rampart_store::Location) -> Result<rampart_cirt::signing::Signer, DemoError> {
    use rampart_cirt::signing::Signer;
    let seed_error = |err: rampart_cirt::CirtError| DemoError::Seed(err.to_string());
    let rampart_store::Location::Sqlite(path) = database else {
        return Signer::generate("Rampart demo CSAF signing key").map_err(seed_error);
    };
    let file = path.parent().unwrap_or(std::path::Path::new(".")).join("csaf-demo-signing-key.asc");
    if let Ok(text) = std::fs::read_to_string(&file) {
        return Signer::from_armored(&text, None).map_err(seed_error);
    }
    let signer = Signer::generate("Rampart demo CSAF signing key").map_err(seed_error)?;
    let armored = signer.secret_armored().map_err(seed_error)?;
    write_private(&file, &armored).map_err(|err| DemoError::Seed(format!("{}: {err}", file.display())))?;
    Ok(signer)
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

/// The demo's sample feed: a Shadowserver telnet report for the demo
/// constituents' documentation ranges and some addresses outside them,
/// dated today, run through the pipeline on every start (the second start
/// stores nothing new: events are keyed by content). The pipeline is kept
/// for the push endpoint when the server runs no other.
pub async fn run_demo_feed(
    store: &rampart_store::Store,
    journal: &std::path::Path,
) -> Result<(rampart_feeds::Summary, rampart_feeds::Pipeline), DemoError> {
    use rampart_core::{Clock, SystemClock};
    use rampart_feeds::config::{FeedConfig, PipelineConfig};
    let clock: std::sync::Arc<dyn Clock> = std::sync::Arc::new(SystemClock);
    let today = clock.now().format("%Y-%m-%d").to_string();
    let mut text = String::from("timestamp,ip,protocol,port,hostname,tag,asn,geo,region,city,naics,sic,banner\n");
    for i in 0..240u32 {
        let (ip, asn) = match i % 4 {
            0 => (format!("198.51.100.{}", i % 250 + 1), 64500),
            1 => (format!("203.0.113.{}", i % 60 + 1), 64501),
            2 => (format!("203.0.113.{}", 128 + i % 120), 64511),
            _ => (format!("192.0.2.{}", i % 250 + 1), 64496),
        };
        let port = if i % 3 == 0 { 2323 } else { 23 };
        // A few repeats an hour later, for the deduplicator.
        let hour = if i % 17 == 0 { 9 } else { 8 };
        text.push_str(&format!("{today} 0{hour}:{:02}:00,{ip},tcp,{port},,telnet,{asn},KE,Nairobi,Nairobi,517311,0,login:\n", i % 60));
    }
    text.push_str(&format!("{today} 08:00:00,not-an-address,tcp,23,,telnet,64500,KE,,,0,0,\n"));
    let folder = journal.join("demo");
    std::fs::create_dir_all(&folder).map_err(|err| DemoError::Seed(format!("{}: {err}", folder.display())))?;
    let file = folder.join(format!("{today}-scan_telnet-ke-demo.csv"));
    std::fs::write(&file, text).map_err(|err| DemoError::Seed(format!("{}: {err}", file.display())))?;
    let mut config =
        PipelineConfig::single(FeedConfig::shadowserver("shadowserver-demo")).map_err(|err| DemoError::Seed(err.to_string()))?;
    config.cirt = store.org_by_name("KE-CIRT (demo)").await?.map(|o| o.id);
    let pipeline =
        rampart_feeds::Pipeline::open(config, store.clone(), clock, journal).await.map_err(|err| DemoError::Seed(err.to_string()))?;
    let summary = pipeline.ingest_file("shadowserver-demo", &file, None).await.map_err(|err| DemoError::Seed(err.to_string()))?;
    Ok((summary, pipeline))
}
