//! The incident desk service: reports in, incidents worked, registry kept.
//! Every operation checks permission through `rampart_auth::access`, writes
//! in one transaction, appends to the incident's timeline and to the audit
//! chain.

use crate::constituency::{self, Match, Query};
use crate::observables::{self, Kind, Observable};
use crate::priority::{Level, Priority, PriorityMatrix};
use crate::rsit;
use crate::sla::{self, SlaPolicy, StatusChange, Timer};
use crate::workflow::Status;
use crate::{CirtError, playbook};
use chrono::{DateTime, Datelike, Utc};
use rampart_auth::access::{Shareable, Target, can_see_case};
use rampart_auth::service::Actor;
use rampart_auth::{AuthError, Principal};
use rampart_core::{Clock, OrgKind, Permission, Tlp, new_id, time};
use rampart_store::cirt::{EventRow, IncidentFilter, IncidentRow, NetworkRow, ObservableRow, ReportFilter, ReportRow, TaskRow};
use rampart_store::{AuditEntry, Organisation, Page, PageRequest, Store, StoreError, WriteTx};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error(transparent)]
    Rule(#[from] CirtError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A CSAF document that may not be published, with every problem found.
    #[error("the document has {} problem(s); the first: {}", .0.len(), .0.first().map(|p| format!("{} {}: {}", p.test, p.path, p.message)).unwrap_or_default())]
    Document(Vec<crate::csaf::Problem>),
}

impl From<AuthError> for DeskError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Store(store) => DeskError::Store(store),
            AuthError::Invalid { field, message } => DeskError::Rule(CirtError::Invalid { field, message }),
            _ => DeskError::Forbidden,
        }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> DeskError {
    DeskError::Rule(CirtError::Invalid { field, message: message.into() })
}

/// Where a report came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Public,
    Api,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Public => "public",
            Channel::Api => "api",
            Channel::Email => "email",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewReport {
    pub subject: String,
    pub body: String,
    pub reporter_email: Option<String>,
    pub tlp: Tlp,
    /// The CIRT to report to; defaults to the reporter's national CIRT.
    pub cirt_org_id: Option<String>,
    /// For public reports: the country whose national CIRT receives it.
    pub country: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewIncident {
    pub owner_org_id: String,
    pub title: String,
    pub description: String,
    pub rsit_class: String,
    pub rsit_type: String,
    pub tlp: Tlp,
    pub pap: Tlp,
    pub impact: Level,
    pub urgency: Level,
    pub constituents: Vec<String>,
    pub observables: Vec<Observable>,
}

/// An incident with everything its page shows.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    #[serde(flatten)]
    pub incident: IncidentRow,
    pub constituents: Vec<Organisation>,
    pub observables: Vec<ObservableRow>,
    pub tasks: Vec<TaskRow>,
    pub timeline: Vec<EventRow>,
    pub links: Vec<String>,
    pub timers: Vec<Timer>,
    /// Evidence files (handlers only).
    pub attachments: Vec<rampart_store::cirt::AttachmentRow>,
}

/// The queues analysts work from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Queue {
    /// Everything open.
    Open,
    Mine,
    Unassigned,
    /// Open incidents with a timer at risk or breached.
    SlaAtRisk,
    All,
}

impl Queue {
    pub fn parse(text: &str) -> Result<Queue, DeskError> {
        Ok(match text {
            "" | "open" => Queue::Open,
            "mine" => Queue::Mine,
            "unassigned" => Queue::Unassigned,
            "sla_at_risk" => Queue::SlaAtRisk,
            "all" => Queue::All,
            other => return Err(invalid("queue", format!("`{other}` is not open, mine, unassigned, sla_at_risk or all"))),
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<String>,
    pub priority: Option<String>,
    pub rsit_class: Option<String>,
    pub constituent_org_id: Option<String>,
    pub text: Option<String>,
}

#[derive(Clone)]
pub struct Desk {
    store: Store,
    clock: Arc<dyn Clock>,
    matrix: PriorityMatrix,
    sla: SlaPolicy,
    /// Where this Rampart is reached from outside: the CSAF publisher
    /// namespace and the base of the provider layout's links.
    public_url: String,
    /// Signs published advisories, when the operator configured a key.
    signer: Option<Arc<crate::signing::Signer>>,
}

fn timeline_actor(principal: &Principal) -> (Option<&str>, &str) {
    ((!principal.user_id.is_empty()).then_some(principal.user_id.as_str()), principal.email.as_str())
}

pub(crate) fn audit_entry(actor: &Actor<'_>, action: &str, entity_type: &str, entity_id: &str, summary: serde_json::Value) -> AuditEntry {
    let principal = actor.principal;
    AuditEntry {
        actor_id: (!principal.user_id.is_empty()).then(|| principal.user_id.clone()),
        actor_label: principal.email.clone(),
        actor_org_id: (!principal.org_id.is_empty()).then(|| principal.org_id.clone()),
        action: action.to_owned(),
        entity_type: entity_type.to_owned(),
        entity_id: Some(entity_id.to_owned()),
        source_ip: actor.ip.clone(),
        summary,
    }
}

impl Desk {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Desk {
        Desk {
            store,
            clock,
            matrix: PriorityMatrix::default(),
            sla: SlaPolicy::default(),
            public_url: "http://localhost:8080".into(),
            signer: None,
        }
    }

    pub fn with_public_url(mut self, url: &str) -> Desk {
        self.public_url = url.trim_end_matches('/').to_owned();
        self
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn with_signer(mut self, signer: Option<Arc<crate::signing::Signer>>) -> Desk {
        self.signer = signer;
        self
    }

    pub fn signer(&self) -> Option<&crate::signing::Signer> {
        self.signer.as_deref()
    }

    pub fn with_policy(mut self, matrix: PriorityMatrix, sla: SlaPolicy) -> Desk {
        self.matrix = matrix;
        self.sla = sla;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn matrix(&self) -> &PriorityMatrix {
        &self.matrix
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) async fn org(&self, id: &str) -> Result<Organisation, DeskError> {
        match self.store.org_get(id).await {
            Ok(org) => Ok(org),
            Err(StoreError::NotFound { .. }) => Err(DeskError::NotFound("organisation")),
            Err(err) => Err(err.into()),
        }
    }

    fn require(principal: &Principal, permission: Permission, org: &Organisation) -> Result<(), DeskError> {
        if principal.allows(permission, Target::Org { id: &org.id, country: org.country.as_deref() }) {
            Ok(())
        } else {
            Err(DeskError::Forbidden)
        }
    }

    // ----- constituency -------------------------------------------------

    /// Organisations whose registry entries this principal may edit are
    /// those in the constituency of a CIRT they manage: the CIRT's own
    /// children, or, for a national CIRT, every organisation of its country.
    async fn require_registry_manager(&self, principal: &Principal, org: &Organisation) -> Result<(), DeskError> {
        if self.in_constituency_of(principal, Permission::ConstituencyManage, org).await? { Ok(()) } else { Err(DeskError::Forbidden) }
    }

    /// Whether `org` is in the constituency of a CIRT for which the
    /// principal holds `permission`: the organisation itself, a child of
    /// it, or any organisation of a national CIRT's country.
    async fn in_constituency_of(&self, principal: &Principal, permission: Permission, org: &Organisation) -> Result<bool, DeskError> {
        if principal.allows(permission, Target::Org { id: &org.id, country: org.country.as_deref() }) {
            return Ok(true);
        }
        if let Some(parent) = &org.parent_id {
            let parent = self.org(parent).await?;
            if principal.allows(permission, Target::Org { id: &parent.id, country: parent.country.as_deref() }) {
                return Ok(true);
            }
        }
        let Ok(own) = self.org(&principal.org_id).await else { return Ok(false) };
        Ok(own.kind == OrgKind::NationalCirt.as_str()
            && own.country.is_some()
            && own.country == org.country
            && principal.allows(permission, Target::Org { id: &own.id, country: own.country.as_deref() }))
    }

    /// Whether the principal may read this organisation's registry entries.
    pub async fn may_read_registry(&self, principal: &Principal, org: &Organisation) -> Result<bool, DeskError> {
        Ok(self.in_constituency_of(principal, Permission::ConstituencyRead, org).await?
            || self.in_constituency_of(principal, Permission::ConstituencyManage, org).await?)
    }

    async fn audited(&self, mut tx: WriteTx, entry: AuditEntry) -> Result<(), DeskError> {
        tx.audit(entry, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_network(&self, actor: &Actor<'_>, org_id: &str, text: &str) -> Result<NetworkRow, DeskError> {
        let org = self.org(org_id).await?;
        self.require_registry_manager(actor.principal, &org).await?;
        let keys = constituency::network_keys(text)?;
        let mut tx = self.store.begin().await?;
        let row = tx.network_add(&org.id, &keys, self.now()).await.map_err(|err| match err {
            StoreError::Conflict { .. } => invalid("network", format!("{} is already registered for this organisation", keys.network)),
            other => other.into(),
        })?;
        self.audited(tx, audit_entry(actor, "cirt.constituency.network_add", "organisation", &org.id, json!({"network": keys.network})))
            .await?;
        Ok(row)
    }

    pub async fn add_asn(&self, actor: &Actor<'_>, org_id: &str, text: &str) -> Result<i64, DeskError> {
        let org = self.org(org_id).await?;
        self.require_registry_manager(actor.principal, &org).await?;
        let asn = constituency::parse_asn(text)?;
        let mut tx = self.store.begin().await?;
        tx.asn_add(&org.id, asn, self.now()).await.map_err(|err| match err {
            StoreError::Conflict { .. } => invalid("asn", format!("AS{asn} is already registered for this organisation")),
            other => other.into(),
        })?;
        self.audited(tx, audit_entry(actor, "cirt.constituency.asn_add", "organisation", &org.id, json!({"asn": asn}))).await?;
        Ok(asn)
    }

    pub async fn add_domain(&self, actor: &Actor<'_>, org_id: &str, text: &str) -> Result<String, DeskError> {
        let org = self.org(org_id).await?;
        self.require_registry_manager(actor.principal, &org).await?;
        let domain = constituency::parse_domain(text)?;
        let mut tx = self.store.begin().await?;
        tx.domain_add(&org.id, &domain, self.now()).await.map_err(|err| match err {
            StoreError::Conflict { .. } => invalid("domain", format!("{domain} is already registered for this organisation")),
            other => other.into(),
        })?;
        self.audited(tx, audit_entry(actor, "cirt.constituency.domain_add", "organisation", &org.id, json!({"domain": domain}))).await?;
        Ok(domain)
    }

    pub async fn remove_entry(&self, actor: &Actor<'_>, org_id: &str, kind: &str, value: &str) -> Result<(), DeskError> {
        let org = self.org(org_id).await?;
        self.require_registry_manager(actor.principal, &org).await?;
        // Accept the value as a person writes it, not only as stored.
        let canonical = match kind {
            "network" => constituency::network_keys(value)?.network,
            "asn" => constituency::parse_asn(value)?.to_string(),
            "domain" => constituency::parse_domain(value)?,
            _ => return Err(invalid("kind", format!("`{kind}` is not network, asn or domain"))),
        };
        let value = canonical.as_str();
        let mut tx = self.store.begin().await?;
        if !tx.constituency_remove(&org.id, kind, value).await? {
            return Err(DeskError::NotFound("registry entry"));
        }
        self.audited(tx, audit_entry(actor, "cirt.constituency.remove", "organisation", &org.id, json!({"kind": kind, "value": value})))
            .await
    }

    /// The organisations responsible for an address, network, AS number or
    /// domain, most specific match first.
    pub async fn lookup(&self, principal: &Principal, text: &str) -> Result<Vec<Match>, DeskError> {
        if !principal.has(Permission::ConstituencyRead) && !principal.has(Permission::ConstituencyManage) {
            return Err(DeskError::Forbidden);
        }
        let mut matches = Vec::new();
        match Query::parse(text)? {
            Query::Address(address) => {
                let (family, key) = constituency::address_key(address);
                for row in self.store.networks_containing(family, &key).await? {
                    matches.push(Match { org_id: row.org_id, by: "network".into(), entry: row.network });
                }
            }
            Query::Network(network) => {
                // A network is covered by the registry entries containing its
                // first address that are at least as wide.
                let (family, key) = constituency::address_key(network.network());
                for row in self.store.networks_containing(family, &key).await? {
                    if row.prefix_len <= i64::from(network.prefix_len()) {
                        matches.push(Match { org_id: row.org_id, by: "network".into(), entry: row.network });
                    }
                }
            }
            Query::Asn(asn) => {
                for org_id in self.store.orgs_with_asn(asn).await? {
                    matches.push(Match { org_id, by: "asn".into(), entry: format!("AS{asn}") });
                }
            }
            Query::Domain(domain) => {
                for suffix in constituency::domain_suffixes(&domain) {
                    for org_id in self.store.orgs_with_domain(&suffix).await? {
                        matches.push(Match { org_id, by: "domain".into(), entry: suffix.clone() });
                    }
                }
            }
        }
        Ok(matches)
    }

    /// Imports registry rows; all-or-nothing, so a file with a bad row
    /// changes nothing and every bad row is named by its line.
    pub async fn import_registry(&self, actor: &Actor<'_>, csv_text: &str) -> Result<usize, Vec<(usize, String)>> {
        let rows = constituency::parse_csv(csv_text)?;
        let mut errors = Vec::new();
        for row in &rows {
            match self.org(&row.org_id).await {
                Ok(org) => {
                    if self.require_registry_manager(actor.principal, &org).await.is_err() {
                        errors.push((row.line, format!("org_id: you may not edit the registry of `{}`", row.org_id)));
                    }
                }
                Err(_) => errors.push((row.line, format!("org_id: no organisation `{}`", row.org_id))),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let now = self.now();
        let result: Result<usize, DeskError> = async {
            let mut tx = self.store.begin().await?;
            let mut added = 0;
            for row in &rows {
                let outcome = match row.kind.as_str() {
                    "network" => tx.network_add(&row.org_id, &constituency::network_keys(&row.value)?, now).await.map(|_| ()),
                    "asn" => tx.asn_add(&row.org_id, constituency::parse_asn(&row.value)?, now).await,
                    _ => tx.domain_add(&row.org_id, &row.value, now).await,
                };
                match outcome {
                    Ok(()) => added += 1,
                    // Already registered: importing the same file twice is harmless.
                    Err(StoreError::Conflict { .. }) => {}
                    Err(err) => return Err(err.into()),
                }
            }
            tx.audit(
                audit_entry(actor, "cirt.constituency.import", "constituency", "csv", json!({"rows": rows.len(), "added": added})),
                now,
            )
            .await?;
            tx.commit().await?;
            Ok(added)
        }
        .await;
        result.map_err(|err| vec![(0, err.to_string())])
    }

    /// The registry as CSV (`org_id,kind,value`), for the organisations the
    /// principal may read.
    pub async fn export_registry(&self, principal: &Principal) -> Result<String, DeskError> {
        if !principal.has(Permission::ConstituencyRead) && !principal.has(Permission::ConstituencyManage) {
            return Err(DeskError::Forbidden);
        }
        let mut writer = csv::Writer::from_writer(Vec::new());
        let io = |err: csv::Error| invalid("csv", err.to_string());
        writer.write_record(constituency::CSV_HEADER).map_err(io)?;
        for org_id in self.store.constituency_org_ids().await? {
            let org = self.org(&org_id).await?;
            if !self.may_read_registry(principal, &org).await? {
                continue;
            }
            for network in self.store.networks_of(&org_id).await? {
                writer.write_record([org_id.as_str(), "network", network.network.as_str()]).map_err(io)?;
            }
            for asn in self.store.asns_of(&org_id).await? {
                writer.write_record([org_id.as_str(), "asn", asn.to_string().as_str()]).map_err(io)?;
            }
            for domain in self.store.domains_of(&org_id).await? {
                writer.write_record([org_id.as_str(), "domain", domain.as_str()]).map_err(io)?;
            }
        }
        let bytes = writer.into_inner().map_err(|err| invalid("csv", err.to_string()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    // ----- reports ------------------------------------------------------

    /// The national CIRT of a country: the organisation that receives
    /// public reports and those of constituents without a parent CIRT.
    async fn national_cirt(&self, country: &str) -> Result<Organisation, DeskError> {
        let filter = rampart_store::orgs::OrgFilter {
            country: Some(country.to_owned()),
            kind: Some(OrgKind::NationalCirt.as_str().to_owned()),
            name_contains: None,
        };
        let page = self.store.org_list(&filter, &PageRequest::first(1)).await?;
        page.items.into_iter().next().ok_or_else(|| invalid("country", format!("no national CIRT is registered for {country}")))
    }

    /// Takes a report: from a signed-in constituent or CIRT member
    /// (`actor`), or from the public (`actor` is `None`, channel public).
    pub async fn submit_report(&self, actor: Option<&Actor<'_>>, channel: Channel, report: &NewReport) -> Result<ReportRow, DeskError> {
        let subject = report.subject.trim();
        let body = report.body.trim();
        if subject.is_empty() || subject.chars().count() > 300 {
            return Err(invalid("subject", "must be 1 to 300 characters"));
        }
        if body.is_empty() || body.chars().count() > 100_000 {
            return Err(invalid("body", "must be 1 to 100000 characters"));
        }
        let reporter_email = match report.reporter_email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(email) if rampart_auth::service::valid_email(&email.to_lowercase()) => Some(email.to_lowercase()),
            Some(_) => return Err(invalid("reporter_email", "is not an e-mail address")),
            None => None,
        };
        let (owner, reporter_org, reporter_user) = match actor {
            Some(actor) => {
                let principal = actor.principal;
                let own = self.org(&principal.org_id).await?;
                let owner = match &report.cirt_org_id {
                    Some(id) => self.org(id).await?,
                    None if own.kind == OrgKind::NationalCirt.as_str() => own.clone(),
                    None => match &own.parent_id {
                        Some(parent) => self.org(parent).await?,
                        None => {
                            self.national_cirt(
                                own.country.as_deref().ok_or_else(|| invalid("cirt_org_id", "choose the CIRT to report to"))?,
                            )
                            .await?
                        }
                    },
                };
                let may = principal.allows(Permission::ReportSubmit, Target::Org { id: &own.id, country: own.country.as_deref() })
                    || principal.allows(Permission::IncidentWrite, Target::Org { id: &owner.id, country: owner.country.as_deref() });
                if !may {
                    return Err(DeskError::Forbidden);
                }
                (owner, Some(own.id), (!principal.user_id.is_empty()).then(|| principal.user_id.clone()))
            }
            None => {
                let country = report.country.as_deref().ok_or_else(|| invalid("country", "choose the country the report is for"))?;
                let country =
                    rampart_core::country::find(country).ok_or_else(|| invalid("country", format!("unknown country `{country}`")))?;
                (self.national_cirt(&country.alpha2).await?, None, None)
            }
        };
        let label = if actor.is_some() { None } else { Some("public") };
        self.store_report(actor, label, &owner, reporter_org, reporter_user, reporter_email, channel, subject, body, report.tlp).await
    }

    /// Writes a validated report with its observables and audit entry.
    /// `label` names a non-user actor (`public`, `mail-intake`).
    #[allow(clippy::too_many_arguments)]
    async fn store_report(
        &self,
        actor: Option<&Actor<'_>>,
        label: Option<&str>,
        owner: &Organisation,
        reporter_org: Option<String>,
        reporter_user: Option<String>,
        reporter_email: Option<String>,
        channel: Channel,
        subject: &str,
        body: &str,
        tlp: Tlp,
    ) -> Result<ReportRow, DeskError> {
        let found = observables::extract(&format!("{subject}\n{body}"));
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let number = tx.next_reference("report", now).await?;
        let row = ReportRow {
            id: new_id(now).to_string(),
            reference: format!("REP-{}-{number:06}", now.year()),
            channel: channel.as_str().to_owned(),
            received_at: time::format(now),
            owner_org_id: owner.id.clone(),
            reporter_org_id: reporter_org,
            reporter_user_id: reporter_user,
            reporter_email,
            subject: subject.to_owned(),
            body: body.to_owned(),
            tlp: tlp.as_str().to_owned(),
            status: "new".into(),
            incident_id: None,
            observables: serde_json::to_string(&found).unwrap_or_else(|_| "[]".into()),
        };
        tx.report_insert(&row).await?;
        let summary = json!({"reference": row.reference, "channel": row.channel});
        let entry = match actor {
            Some(actor) => audit_entry(actor, "cirt.report.receive", "incident_report", &row.id, summary),
            None => AuditEntry {
                actor_id: None,
                actor_label: label.unwrap_or("public").into(),
                actor_org_id: None,
                action: "cirt.report.receive".into(),
                entity_type: "incident_report".into(),
                entity_id: Some(row.id.clone()),
                source_ip: None,
                summary,
            },
        };
        tx.audit(entry, now).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Takes a report that arrived by e-mail for the CIRT `cirt_org_id`.
    /// The sender is matched to a constituent through its registered
    /// contacts; an X-ARF report's type becomes a suggested RSIT class.
    pub async fn receive_email(&self, cirt_org_id: &str, raw: &[u8]) -> Result<ReportRow, DeskError> {
        let owner = self.org(cirt_org_id).await.map_err(|_| invalid("cirt", format!("no organisation `{cirt_org_id}`")))?;
        if owner.kind != OrgKind::NationalCirt.as_str() && owner.kind != OrgKind::SectorCirt.as_str() {
            return Err(invalid("cirt", format!("{} is not a CIRT", owner.name)));
        }
        let mail = crate::intake::parse(raw)?;
        let reporter_org = self.store.org_ids_with_contact(&mail.from).await?.into_iter().next();
        let subject: String = mail.subject.chars().take(300).collect();
        let body: String = mail.body.chars().take(100_000).collect();
        self.store_report(
            None,
            Some("mail-intake"),
            &owner,
            reporter_org,
            None,
            Some(mail.from.clone()),
            Channel::Email,
            &subject,
            &body,
            mail.tlp.unwrap_or(Tlp::Amber),
        )
        .await
    }

    fn report_visible(&self, principal: &Principal, report: &ReportRow, owner: &Organisation) -> bool {
        let tlp = report.tlp.parse().unwrap_or(Tlp::Red);
        let reporter: Vec<String> = report.reporter_org_id.iter().cloned().collect();
        let record =
            Shareable { tlp, owner_org: &owner.id, shared_with: &reporter, recipients: &[], author: report.reporter_user_id.as_deref() };
        can_see_case(principal, Permission::ReportRead, Target::Org { id: &owner.id, country: owner.country.as_deref() }, &record)
            || report.reporter_user_id.as_deref() == Some(principal.user_id.as_str())
    }

    pub async fn report(&self, principal: &Principal, id: &str) -> Result<ReportRow, DeskError> {
        let report = match self.store.report_get(id).await {
            Ok(report) => report,
            Err(StoreError::NotFound { .. }) => return Err(DeskError::NotFound("report")),
            Err(err) => return Err(err.into()),
        };
        let owner = self.org(&report.owner_org_id).await?;
        if self.report_visible(principal, &report, &owner) { Ok(report) } else { Err(DeskError::NotFound("report")) }
    }

    /// Reports the principal may read: those received by the CIRTs they
    /// work for, or, for a constituent, those their organisation sent.
    pub async fn reports(&self, principal: &Principal, status: Option<&str>, page: &PageRequest) -> Result<Page<ReportRow>, DeskError> {
        let filter = match principal.org_ids_for(Permission::ReportRead) {
            None => ReportFilter { owner_org_ids: None, reporter_org_id: None, status: status.map(str::to_owned) },
            Some(ids) if !ids.is_empty() => {
                ReportFilter { owner_org_ids: Some(ids), reporter_org_id: None, status: status.map(str::to_owned) }
            }
            Some(_) if principal.has(Permission::ReportSubmit) => {
                ReportFilter { owner_org_ids: None, reporter_org_id: Some(principal.org_id.clone()), status: status.map(str::to_owned) }
            }
            Some(_) => return Err(DeskError::Forbidden),
        };
        Ok(self.store.report_list(&filter, page).await?)
    }

    /// The organisations of `owner`'s constituency that the registry names
    /// for these observables (addresses, networks, domains, URL hosts):
    /// for each, the most specific match only.
    async fn registered_constituents(&self, owner: &Organisation, observables: &[Observable]) -> Result<Vec<String>, DeskError> {
        let mut found: Vec<String> = Vec::new();
        for observable in observables {
            let text = match observable.kind {
                Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr | Kind::Domain => observable.value.clone(),
                Kind::Url => match observable.value.split("://").nth(1).and_then(|rest| rest.split(['/', '?', '#']).next()) {
                    Some(host) => host
                        .rsplit_once(':')
                        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
                        .map_or(host, |(h, _)| h)
                        .to_owned(),
                    None => continue,
                },
                Kind::Email => match observable.value.rsplit_once('@') {
                    Some((_, domain)) => domain.to_owned(),
                    None => continue,
                },
                _ => continue,
            };
            let Ok(query) = Query::parse(&text) else { continue };
            let candidates: Vec<String> = match query {
                Query::Address(address) => {
                    let (family, key) = constituency::address_key(address);
                    let rows = self.store.networks_containing(family, &key).await?;
                    let best = rows.first().map(|r| r.prefix_len);
                    rows.into_iter().filter(|r| Some(r.prefix_len) == best).map(|r| r.org_id).collect()
                }
                Query::Network(network) => {
                    let (family, key) = constituency::address_key(network.network());
                    let rows: Vec<NetworkRow> = self
                        .store
                        .networks_containing(family, &key)
                        .await?
                        .into_iter()
                        .filter(|r| r.prefix_len <= i64::from(network.prefix_len()))
                        .collect();
                    let best = rows.first().map(|r| r.prefix_len);
                    rows.into_iter().filter(|r| Some(r.prefix_len) == best).map(|r| r.org_id).collect()
                }
                Query::Domain(domain) => {
                    let mut orgs = Vec::new();
                    for suffix in constituency::domain_suffixes(&domain) {
                        orgs = self.store.orgs_with_domain(&suffix).await?;
                        if !orgs.is_empty() {
                            break;
                        }
                    }
                    orgs
                }
                Query::Asn(_) => Vec::new(),
            };
            for org_id in candidates {
                if found.contains(&org_id) || org_id == owner.id {
                    continue;
                }
                let org = self.org(&org_id).await?;
                let national = owner.kind == OrgKind::NationalCirt.as_str() && owner.country.is_some() && org.country == owner.country;
                if org.parent_id.as_deref() == Some(owner.id.as_str()) || national {
                    found.push(org_id);
                }
            }
        }
        Ok(found)
    }

    /// Turns a report into a new incident (or attaches it to an existing
    /// one with `existing`), carrying over its observables. The reporter's
    /// organisation and the constituents the registry names for the
    /// observables become affected constituents.
    pub async fn promote_report(
        &self,
        actor: &Actor<'_>,
        report_id: &str,
        incident: Option<NewIncident>,
        existing: Option<&str>,
    ) -> Result<IncidentRow, DeskError> {
        let report = self.report(actor.principal, report_id).await?;
        let owner = self.org(&report.owner_org_id).await?;
        Self::require(actor.principal, Permission::IncidentWrite, &owner)?;
        if report.status != "new" {
            return Err(invalid("report", format!("{} was already handled ({})", report.reference, report.status)));
        }
        let found: Vec<Observable> = serde_json::from_str(&report.observables).unwrap_or_default();
        let mut affected: Vec<String> = report.reporter_org_id.iter().cloned().collect();
        for org_id in self.registered_constituents(&owner, &found).await? {
            if !affected.contains(&org_id) {
                affected.push(org_id);
            }
        }
        let now = self.now();
        let target = match (incident, existing) {
            (_, Some(existing)) => {
                // By id or reference, among the incidents the actor can see.
                let visible =
                    self.incident(actor.principal, existing).await.map_err(|_| invalid("existing", format!("no incident `{existing}`")))?;
                let mut tx = self.store.begin().await?;
                let incident = tx.incident_lock(&visible.id).await?;
                if incident.owner_org_id != owner.id {
                    return Err(invalid("existing", "the incident belongs to another CIRT"));
                }
                if incident.merged_into.is_some() || !Status::parse(&incident.status).is_ok_and(Status::is_open) {
                    return Err(invalid("existing", format!("{} is closed; reopen it first or open a new incident", incident.reference)));
                }
                for observable in &found {
                    tx.incident_observable_add(&incident.id, observable.kind.as_str(), &observable.value, now).await?;
                }
                for org_id in &affected {
                    tx.incident_constituent_add(&incident.id, org_id).await?;
                }
                let (actor_id, label) = timeline_actor(actor.principal);
                tx.incident_event_add(&incident.id, actor_id, label, "report", &report.subject, &json!({"report": report.reference}), now)
                    .await?;
                tx.report_set_status(&report.id, "attached", Some(&incident.id)).await?;
                tx.audit(
                    audit_entry(actor, "cirt.report.attach", "incident_report", &report.id, json!({"incident": incident.reference})),
                    now,
                )
                .await?;
                tx.commit().await?;
                incident
            }
            (Some(mut new_incident), None) => {
                new_incident.owner_org_id = owner.id.clone();
                for observable in found {
                    if !new_incident.observables.contains(&observable) {
                        new_incident.observables.push(observable);
                    }
                }
                for org_id in affected {
                    if !new_incident.constituents.contains(&org_id) {
                        new_incident.constituents.push(org_id);
                    }
                }
                self.create_incident_inner(actor, &new_incident, "report", Some(&report)).await?
            }
            (None, None) => return Err(invalid("incident", "give the new incident's classification or an existing incident")),
        };
        Ok(target)
    }

    pub async fn reject_report(&self, actor: &Actor<'_>, report_id: &str, reason: &str) -> Result<(), DeskError> {
        let report = self.report(actor.principal, report_id).await?;
        let owner = self.org(&report.owner_org_id).await?;
        Self::require(actor.principal, Permission::IncidentWrite, &owner)?;
        if report.status != "new" {
            return Err(invalid("report", format!("{} was already handled ({})", report.reference, report.status)));
        }
        let mut tx = self.store.begin().await?;
        tx.report_set_status(&report.id, "rejected", None).await?;
        self.audited(tx, audit_entry(actor, "cirt.report.reject", "incident_report", &report.id, json!({"reason": reason}))).await
    }

    // ----- incidents ----------------------------------------------------

    pub async fn create_incident(&self, actor: &Actor<'_>, incident: &NewIncident) -> Result<IncidentRow, DeskError> {
        self.create_incident_inner(actor, incident, "web", None).await
    }

    /// Opens an incident for each `Incident` of an IODEF v2 document (see
    /// `iodef`), owned by `cirt_org_id`. The whole document is read and
    /// checked first, so a bad one stores nothing.
    pub async fn import_iodef(&self, actor: &Actor<'_>, cirt_org_id: &str, xml: &str) -> Result<Vec<IncidentRow>, DeskError> {
        let incidents = crate::iodef::parse(xml)?;
        let owner = self.org(cirt_org_id).await?;
        Self::require(actor.principal, Permission::IncidentWrite, &owner)?;
        let mut created = Vec::new();
        for incident in incidents {
            let first = incident.descriptions.first().and_then(|d| d.lines().next()).unwrap_or("").trim();
            let title: String = if first.is_empty() {
                format!("IODEF incident {} from {}", incident.id, incident.issuer)
            } else {
                first.chars().take(300).collect()
            };
            let mut description = incident.descriptions.join("\n\n");
            description.push_str(&format!(
                "\n\nReceived as IODEF: IncidentID {} issued by {}, purpose {}, generated {}.",
                incident.id, incident.issuer, incident.purpose, incident.generation_time
            ));
            if !incident.contacts.is_empty() {
                description.push_str(&format!(" Contacts: {}.", incident.contacts.join(", ")));
            }
            let new = NewIncident {
                owner_org_id: owner.id.clone(),
                title,
                description: description.trim().to_owned(),
                rsit_class: "other".into(),
                rsit_type: "undetermined".into(),
                tlp: incident.tlp,
                pap: Tlp::Amber,
                impact: Level::Medium,
                urgency: Level::Medium,
                constituents: Vec::new(),
                observables: incident.observables,
            };
            created.push(self.create_incident_inner(actor, &new, "iodef", None).await?);
        }
        Ok(created)
    }

    /// An incident as an IODEF v2 document, as the principal may see it.
    pub async fn export_iodef(&self, principal: &Principal, id: &str) -> Result<String, DeskError> {
        let view = self.view(principal, id).await?;
        let owner = self.org(&view.incident.owner_org_id).await?;
        let observables: Vec<Observable> =
            view.observables.iter().filter_map(|o| Kind::parse(&o.kind).map(|kind| Observable { kind, value: o.value.clone() })).collect();
        let issuer = self.public_url().trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/').to_owned();
        let tlp: Tlp = view.incident.tlp.parse().unwrap_or(Tlp::Amber);
        let outgoing = crate::iodef::Outgoing {
            reference: &view.incident.reference,
            issuer: if issuer.is_empty() { "rampart.invalid" } else { &issuer },
            title: &view.incident.title,
            description: &view.incident.description,
            tlp,
            created_at: &view.incident.created_at,
            creator: &owner.name,
            observables: &observables,
            impact: &view.incident.impact,
        };
        Ok(crate::iodef::write(&outgoing, self.now()))
    }

    async fn create_incident_inner(
        &self,
        actor: &Actor<'_>,
        incident: &NewIncident,
        source: &str,
        report: Option<&ReportRow>,
    ) -> Result<IncidentRow, DeskError> {
        let owner = self.org(&incident.owner_org_id).await?;
        Self::require(actor.principal, Permission::IncidentWrite, &owner)?;
        let title = incident.title.trim();
        if title.is_empty() || title.chars().count() > 300 {
            return Err(invalid("title", "must be 1 to 300 characters"));
        }
        let classification = rsit::classify(&incident.rsit_class, &incident.rsit_type)?;
        for org_id in &incident.constituents {
            self.org(org_id).await.map_err(|_| invalid("constituents", format!("no organisation `{org_id}`")))?;
        }
        let priority = self.matrix.priority(incident.impact, incident.urgency);
        let now = self.now();
        let at = time::format(now);
        let mut tx = self.store.begin().await?;
        let number = tx.next_reference("incident", now).await?;
        let row = IncidentRow {
            id: new_id(now).to_string(),
            reference: format!("INC-{}-{number:06}", now.year()),
            title: title.to_owned(),
            description: incident.description.trim().to_owned(),
            owner_org_id: owner.id.clone(),
            rsit_class: classification.class.clone(),
            rsit_type: classification.kind.clone(),
            tlp: incident.tlp.as_str().to_owned(),
            pap: incident.pap.as_str().to_owned(),
            impact: incident.impact.as_str().to_owned(),
            urgency: incident.urgency.as_str().to_owned(),
            priority: priority.as_str().to_owned(),
            status: Status::New.as_str().to_owned(),
            assignee_id: None,
            source: source.to_owned(),
            merged_into: None,
            created_at: at.clone(),
            updated_at: at,
            first_response_at: None,
        };
        tx.incident_insert(&row).await?;
        for org_id in &incident.constituents {
            tx.incident_constituent_add(&row.id, org_id).await?;
        }
        for observable in &incident.observables {
            tx.incident_observable_add(&row.id, observable.kind.as_str(), &observable.value, now).await?;
        }
        for (position, title) in playbook::tasks_for(&classification.class, &classification.kind).iter().enumerate() {
            tx.incident_task_add(&row.id, i64::try_from(position).unwrap_or(0), title, now).await?;
        }
        let (actor_id, label) = timeline_actor(actor.principal);
        let detail = json!({"priority": row.priority, "rsit": format!("{}/{}", row.rsit_class, row.rsit_type), "report": report.map(|r| r.reference.clone())});
        tx.incident_event_add(&row.id, actor_id, label, "created", &row.title, &detail, now).await?;
        if let Some(report) = report {
            tx.report_set_status(&report.id, "promoted", Some(&row.id)).await?;
        }
        tx.audit(
            audit_entry(
                actor,
                "cirt.incident.create",
                "incident",
                &row.id,
                json!({"after": {"reference": row.reference, "priority": row.priority, "rsit_type": row.rsit_type}}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    fn shareable<'a>(incident: &'a IncidentRow, constituents: &'a [String]) -> Shareable<'a> {
        Shareable {
            tlp: incident.tlp.parse().unwrap_or(Tlp::Red),
            owner_org: &incident.owner_org_id,
            shared_with: constituents,
            recipients: &[],
            author: None,
        }
    }

    /// Loads an incident the principal may see; anyone else is told it does
    /// not exist, so its existence stays confidential.
    pub async fn incident(&self, principal: &Principal, id: &str) -> Result<IncidentRow, DeskError> {
        let incident = match self.store.incident_get(id).await {
            Ok(incident) => incident,
            Err(StoreError::NotFound { .. }) => return Err(DeskError::NotFound("incident")),
            Err(err) => return Err(err.into()),
        };
        let owner = self.org(&incident.owner_org_id).await?;
        let constituents = self.store.incident_constituents(&incident.id).await?;
        let target = Target::Org { id: &owner.id, country: owner.country.as_deref() };
        if can_see_case(principal, Permission::IncidentRead, target, &Self::shareable(&incident, &constituents)) {
            Ok(incident)
        } else {
            Err(DeskError::NotFound("incident"))
        }
    }

    pub fn timers(&self, incident: &IncidentRow, timeline: &[EventRow]) -> Vec<Timer> {
        let now = self.now();
        let created = time::parse(&incident.created_at).unwrap_or(now);
        let history: Vec<StatusChange> = timeline
            .iter()
            // A merged incident's status changes are its own, not this one's.
            .filter(|e| e.kind == "status" && !e.is_merged_copy())
            .filter_map(|e| {
                let detail: serde_json::Value = serde_json::from_str(&e.detail).ok()?;
                let to = Status::parse(detail.get("to")?.as_str()?).ok()?;
                Some(StatusChange { at: time::parse(&e.at)?, to })
            })
            .collect();
        let first_response = incident.first_response_at.as_deref().and_then(time::parse);
        let priority = Priority::parse(&incident.priority).unwrap_or(Priority::Low);
        sla::timers(&self.sla, priority, created, &history, first_response, now)
    }

    pub async fn view(&self, principal: &Principal, id: &str) -> Result<IncidentView, DeskError> {
        let incident = self.incident(principal, id).await?;
        let handler = self.is_handler(principal, &incident).await?;
        let mut constituents = Vec::new();
        for org_id in self.store.incident_constituents(&incident.id).await? {
            constituents.push(self.org(&org_id).await?);
        }
        let mut timeline = self.store.incident_events(&incident.id).await?;
        // Constituents see the incident, not the CIRT's internal notes.
        if !handler {
            timeline.retain(constituent_may_read);
        }
        let timers = self.timers(&incident, &timeline);
        let mut observables = self.store.incident_observables(&incident.id).await?;
        if !handler {
            // Only what appears in the parts a constituent can read: an
            // address from an internal note must not leak through the list.
            let readable: String = std::iter::once(format!("{}\n{}", incident.title, incident.description))
                .chain(timeline.iter().map(|e| e.body.clone()))
                .collect::<Vec<_>>()
                .join("\n");
            let visible: std::collections::BTreeSet<Observable> = observables::extract(&readable).into_iter().collect();
            observables.retain(|o| visible.iter().any(|v| v.kind.as_str() == o.kind && v.value == o.value));
        }
        Ok(IncidentView {
            observables,
            tasks: if handler { self.store.incident_tasks(&incident.id).await? } else { Vec::new() },
            links: if handler { self.store.incident_links(&incident.id).await? } else { Vec::new() },
            attachments: if handler { self.store.attachments_of(&incident.id).await? } else { Vec::new() },
            constituents,
            timeline,
            timers,
            incident,
        })
    }

    /// Does `text` (lower case) occur in what a constituent reads of the
    /// incident: its title, description, reference and response notes?
    async fn constituent_finds(&self, incident: &IncidentRow, text: &str) -> Result<bool, DeskError> {
        if [&incident.title, &incident.description, &incident.reference].iter().any(|field| field.to_lowercase().contains(text)) {
            return Ok(true);
        }
        let timeline = self.store.incident_events(&incident.id).await?;
        Ok(timeline.iter().any(|e| e.kind == "note" && constituent_may_read(e) && e.body.to_lowercase().contains(text)))
    }

    pub async fn is_handler(&self, principal: &Principal, incident: &IncidentRow) -> Result<bool, DeskError> {
        let owner = self.org(&incident.owner_org_id).await?;
        Ok(principal.allows(Permission::IncidentRead, Target::Org { id: &owner.id, country: owner.country.as_deref() }))
    }

    /// A queue of incidents for the principal: those their CIRTs handle, or
    /// for a constituent, those concerning their organisation (TLP allowing).
    pub async fn list(
        &self,
        principal: &Principal,
        queue: Queue,
        filter: &ListFilter,
        page: &PageRequest,
    ) -> Result<Page<IncidentRow>, DeskError> {
        let mut store_filter = IncidentFilter {
            status: filter.status.clone(),
            priority: filter.priority.clone(),
            rsit_class: filter.rsit_class.clone(),
            text: filter.text.clone().filter(|t| !t.trim().is_empty()),
            open_only: matches!(queue, Queue::Open | Queue::Mine | Queue::Unassigned | Queue::SlaAtRisk),
            unassigned: queue == Queue::Unassigned,
            assignee_id: (queue == Queue::Mine).then(|| principal.user_id.clone()),
            ..Default::default()
        };
        let mut handled_by: Option<Vec<String>> = None;
        let constituent_view = match principal.org_ids_for(Permission::IncidentRead) {
            None => {
                store_filter.constituent_org_id = filter.constituent_org_id.clone();
                false
            }
            Some(ids) if !ids.is_empty() => {
                if filter.constituent_org_id.is_some() {
                    // Both conditions: handled by my CIRTs and concerning this org.
                    store_filter.constituent_org_id = filter.constituent_org_id.clone();
                    handled_by = Some(ids);
                } else {
                    store_filter.owner_org_ids = Some(ids);
                }
                false
            }
            Some(_) => {
                store_filter.constituent_org_id = Some(principal.org_id.clone());
                true
            }
        };
        let mut result = self.store.incident_list(&store_filter, page).await?;
        if let Some(ids) = handled_by {
            result.items.retain(|i| ids.contains(&i.owner_org_id));
        }
        if constituent_view {
            let text = store_filter.text.as_deref().map(str::to_lowercase);
            let mut visible = Vec::new();
            for incident in result.items {
                let constituents = self.store.incident_constituents(&incident.id).await?;
                if !rampart_auth::access::can_see(Some(principal), &Self::shareable(&incident, &constituents)) {
                    continue;
                }
                // The store's search also reads internal notes, which a
                // constituent must not be able to probe word by word.
                if let Some(text) = &text
                    && !self.constituent_finds(&incident, text).await?
                {
                    continue;
                }
                visible.push(incident);
            }
            result.items = visible;
        }
        if queue == Queue::SlaAtRisk {
            let mut at_risk = Vec::new();
            for incident in result.items {
                let timeline = self.store.incident_events(&incident.id).await?;
                let timers = self.timers(&incident, &timeline);
                if timers.iter().any(|t| matches!(t.state, sla::TimerState::AtRisk | sla::TimerState::Breached)) {
                    at_risk.push(incident);
                }
            }
            result.items = at_risk;
        }
        Ok(result)
    }

    /// Runs `change` on an incident the actor handles with `permission`, in
    /// one transaction with its timeline event and audit entry.
    async fn work<F>(&self, actor: &Actor<'_>, id: &str, permission: Permission, action: &str, change: F) -> Result<IncidentRow, DeskError>
    where
        F: for<'t> FnOnce(
            &'t mut WriteTx,
            IncidentRow,
            DateTime<Utc>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<(IncidentRow, &'static str, String, serde_json::Value), DeskError>> + Send + 't>,
        >,
    {
        let visible = self.incident(actor.principal, id).await?;
        let owner = self.org(&visible.owner_org_id).await?;
        Self::require(actor.principal, permission, &owner)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let current = tx.incident_lock(&visible.id).await?;
        let (mut updated, kind, body, detail) = change(&mut tx, current, now).await?;
        updated.updated_at = time::format(now);
        tx.incident_save(&updated).await?;
        let (actor_id, label) = timeline_actor(actor.principal);
        tx.incident_event_add(&updated.id, actor_id, label, kind, &body, &detail, now).await?;
        tx.audit(audit_entry(actor, action, "incident", &updated.id, detail), now).await?;
        tx.commit().await?;
        Ok(updated)
    }

    pub async fn change_status(&self, actor: &Actor<'_>, id: &str, to: Status, comment: &str) -> Result<IncidentRow, DeskError> {
        let comment = comment.trim().to_owned();
        self.work(actor, id, Permission::IncidentWrite, "cirt.incident.status", move |tx, mut incident, now| {
            Box::pin(async move {
                let from = Status::parse(&incident.status)?;
                from.check_transition(to)?;
                if to == Status::Resolved || to == Status::Closed {
                    let open_tasks = tx_open_tasks(tx, &incident.id).await?;
                    if to == Status::Closed && open_tasks > 0 && comment.is_empty() {
                        return Err(invalid("comment", format!("{open_tasks} task(s) are still open; say why the incident closes anyway")));
                    }
                }
                if to == Status::WaitingForConstituent && incident.first_response_at.is_none() {
                    incident.first_response_at = Some(time::format(now));
                }
                incident.status = to.as_str().to_owned();
                let detail = json!({"from": from.as_str(), "to": to.as_str()});
                Ok((incident, "status", comment, detail))
            })
        })
        .await
    }

    pub async fn assign(&self, actor: &Actor<'_>, id: &str, assignee_id: Option<&str>) -> Result<IncidentRow, DeskError> {
        let incident = self.incident(actor.principal, id).await?;
        let owner = self.org(&incident.owner_org_id).await?;
        // Taking an incident oneself needs write access; assigning others needs a manager.
        let self_assign = assignee_id == Some(actor.principal.user_id.as_str());
        let permission = if self_assign { Permission::IncidentWrite } else { Permission::IncidentAssign };
        let assignee = match assignee_id {
            Some(user_id) => {
                let user = self.store.user_get(user_id).await.map_err(|_| invalid("assignee_id", "no such user"))?;
                let target = Target::Org { id: &owner.id, country: owner.country.as_deref() };
                let can_work = self
                    .store
                    .grants_of(&user.id)
                    .await?
                    .iter()
                    .filter_map(rampart_auth::service::grant_from_row)
                    .any(|grant| grant.allows(Permission::IncidentWrite, target));
                if user.disabled || !can_work {
                    return Err(invalid("assignee_id", format!("{} cannot work incidents of {}", user.email, owner.name)));
                }
                Some(user)
            }
            None => None,
        };
        let assignee_label = assignee.as_ref().map(|u| u.email.clone());
        let assignee_id = assignee.map(|u| u.id);
        self.work(actor, id, permission, "cirt.incident.assign", move |_tx, mut incident, _now| {
            Box::pin(async move {
                let before = incident.assignee_id.clone();
                incident.assignee_id = assignee_id.clone();
                let body = assignee_label.clone().unwrap_or_else(|| "unassigned".into());
                Ok((incident, "assigned", body, json!({"before": before, "after": assignee_id})))
            })
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn reclassify(
        &self,
        actor: &Actor<'_>,
        id: &str,
        rsit_class: &str,
        rsit_type: &str,
        impact: Level,
        urgency: Level,
        tlp: Tlp,
        pap: Tlp,
    ) -> Result<IncidentRow, DeskError> {
        let classification = rsit::classify(rsit_class, rsit_type)?;
        let priority = self.matrix.priority(impact, urgency);
        self.work(actor, id, Permission::IncidentWrite, "cirt.incident.classify", move |_tx, mut incident, _now| {
            Box::pin(async move {
                let before = json!({"rsit": format!("{}/{}", incident.rsit_class, incident.rsit_type), "priority": incident.priority, "tlp": incident.tlp, "pap": incident.pap});
                incident.rsit_class = classification.class.clone();
                incident.rsit_type = classification.kind.clone();
                incident.impact = impact.as_str().to_owned();
                incident.urgency = urgency.as_str().to_owned();
                incident.priority = priority.as_str().to_owned();
                incident.tlp = tlp.as_str().to_owned();
                incident.pap = pap.as_str().to_owned();
                let after = json!({"rsit": format!("{}/{}", incident.rsit_class, incident.rsit_type), "priority": incident.priority, "tlp": incident.tlp, "pap": incident.pap});
                let body = format!("{}/{} · {}", incident.rsit_class, incident.rsit_type, incident.priority);
                Ok((incident, "classified", body, json!({"before": before, "after": after})))
            })
        })
        .await
    }

    /// A note on the timeline. A `response` note is what the CIRT told the
    /// constituent: it counts as the first response and constituents see it.
    pub async fn add_note(&self, actor: &Actor<'_>, id: &str, text: &str, response: bool) -> Result<IncidentRow, DeskError> {
        let text = text.trim().to_owned();
        if text.is_empty() || text.chars().count() > 20_000 {
            return Err(invalid("text", "must be 1 to 20000 characters"));
        }
        self.work(actor, id, Permission::IncidentWrite, "cirt.incident.note", move |tx, mut incident, now| {
            Box::pin(async move {
                if response && incident.first_response_at.is_none() {
                    incident.first_response_at = Some(time::format(now));
                }
                // Observables mentioned in notes join the incident.
                for observable in observables::extract(&text) {
                    tx.incident_observable_add(&incident.id, observable.kind.as_str(), &observable.value, now).await?;
                }
                Ok((incident, "note", text, json!({"response": response})))
            })
        })
        .await
    }

    pub async fn set_task(&self, actor: &Actor<'_>, id: &str, task_id: &str, done: bool) -> Result<IncidentRow, DeskError> {
        let who = actor.principal.email.clone();
        let task_id = task_id.to_owned();
        self.work(actor, id, Permission::IncidentWrite, "cirt.incident.task", move |tx, incident, now| {
            Box::pin(async move {
                let task =
                    tx.incident_task_set(&incident.id, &task_id, done.then_some((who.as_str(), now))).await.map_err(|err| match err {
                        StoreError::NotFound { .. } => DeskError::NotFound("task"),
                        other => other.into(),
                    })?;
                Ok((incident, "task", task.title.clone(), json!({"task": task.id, "done": done})))
            })
        })
        .await
    }

    pub async fn add_task(&self, actor: &Actor<'_>, id: &str, title: &str) -> Result<IncidentRow, DeskError> {
        let title = title.trim().to_owned();
        if title.is_empty() || title.chars().count() > 300 {
            return Err(invalid("title", "must be 1 to 300 characters"));
        }
        self.work(actor, id, Permission::IncidentWrite, "cirt.incident.task_add", move |tx, incident, now| {
            Box::pin(async move {
                let position = tx_task_count(tx, &incident.id).await?;
                let task = tx.incident_task_add(&incident.id, position, &title, now).await?;
                Ok((incident, "task", task.title.clone(), json!({"task": task.id, "added": true})))
            })
        })
        .await
    }

    pub async fn add_observable(&self, actor: &Actor<'_>, id: &str, kind: &str, value: &str) -> Result<IncidentRow, DeskError> {
        let kind = Kind::parse(kind).ok_or_else(|| invalid("kind", format!("`{kind}` is not an observable kind")))?;
        let observable = observables::normalise(kind, value).map_err(|message| invalid("value", message))?;
        self.work(actor, id, Permission::IncidentWrite, "cirt.incident.observable", move |tx, incident, now| {
            Box::pin(async move {
                tx.incident_observable_add(&incident.id, observable.kind.as_str(), &observable.value, now).await?;
                Ok((incident, "observable", observable.value.clone(), json!({"kind": observable.kind.as_str(), "value": observable.value})))
            })
        })
        .await
    }

    pub async fn add_constituent(&self, actor: &Actor<'_>, id: &str, org_id: &str) -> Result<IncidentRow, DeskError> {
        let org = self.org(org_id).await.map_err(|_| invalid("org_id", "no such organisation"))?;
        self.work(actor, id, Permission::IncidentWrite, "cirt.incident.constituent", move |tx, incident, _now| {
            Box::pin(async move {
                tx.incident_constituent_add(&incident.id, &org.id).await?;
                Ok((incident, "constituent", org.name.clone(), json!({"org_id": org.id})))
            })
        })
        .await
    }

    pub async fn link(&self, actor: &Actor<'_>, id: &str, other: &str) -> Result<IncidentRow, DeskError> {
        let other = self.incident(actor.principal, other).await.map_err(|_| invalid("other", "no such incident"))?;
        let other_id = other.id.clone();
        let other_reference = other.reference.clone();
        self.work(actor, id, Permission::IncidentWrite, "cirt.incident.link", move |tx, incident, _now| {
            Box::pin(async move {
                if incident.id == other_id {
                    return Err(invalid("other", "an incident cannot be linked to itself"));
                }
                tx.incident_link(&incident.id, &other_id).await?;
                Ok((incident, "linked", other_reference.clone(), json!({"other": other_id})))
            })
        })
        .await
    }

    /// Merges incident `from` into `into`: the surviving incident gains the
    /// other's constituents, observables and timeline; `from` is closed and
    /// points to it. Both timelines are kept.
    pub async fn merge(&self, actor: &Actor<'_>, from: &str, into: &str) -> Result<IncidentRow, DeskError> {
        let from_row = self.incident(actor.principal, from).await?;
        let into_row = self.incident(actor.principal, into).await.map_err(|_| invalid("into", "no such incident"))?;
        if from_row.id == into_row.id {
            return Err(invalid("into", "an incident cannot be merged into itself"));
        }
        if from_row.owner_org_id != into_row.owner_org_id {
            return Err(invalid("into", "incidents of different CIRTs cannot be merged"));
        }
        let owner = self.org(&from_row.owner_org_id).await?;
        Self::require(actor.principal, Permission::IncidentWrite, &owner)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut merged = tx.incident_lock(&from_row.id).await?;
        let (actor_id, label) = timeline_actor(actor.principal);
        tx.incident_event_add(&merged.id, actor_id, label, "merged", &into_row.reference, &json!({"into": into_row.id}), now).await?;
        tx.incident_merge_into(&merged.id, &into_row.id).await?;
        merged.status = Status::Closed.as_str().to_owned();
        merged.merged_into = Some(into_row.id.clone());
        merged.updated_at = time::format(now);
        tx.incident_save(&merged).await?;
        tx.incident_link(&merged.id, &into_row.id).await?;
        tx.incident_event_add(&into_row.id, actor_id, label, "merged", &merged.reference, &json!({"from": merged.id}), now).await?;
        tx.audit(audit_entry(actor, "cirt.incident.merge", "incident", &merged.id, json!({"into": into_row.reference})), now).await?;
        tx.commit().await?;
        Ok(self.store.incident_get(&into_row.id).await?)
    }
}

/// What a constituent reads of an incident's timeline: everything but the
/// CIRT's internal notes.
impl Desk {
    /// Queues notices about an incident to the contacts of each affected
    /// constituent, in their preferred language and format, due after their
    /// batching interval; a `Notifier` sends them.
    pub async fn notify(&self, actor: &Actor<'_>, id: &str) -> Result<Vec<rampart_store::cirt::NoticeRow>, DeskError> {
        let incident = self.incident(actor.principal, id).await?;
        let owner = self.org(&incident.owner_org_id).await?;
        Self::require(actor.principal, Permission::IncidentWrite, &owner)?;
        if incident.tlp.parse::<Tlp>().unwrap_or(Tlp::Red) == Tlp::Red {
            return Err(invalid("tlp", "TLP:RED incidents are not sent by e-mail; tell the named recipients directly"));
        }
        let constituents = self.store.incident_constituents(&incident.id).await?;
        if constituents.is_empty() {
            return Err(invalid("constituents", "the incident has no affected constituent to notify"));
        }
        let now = self.now();
        let mut notices = Vec::new();
        for org_id in &constituents {
            let org = self.org(org_id).await?;
            let contacts = self.store.contacts_of(&org.id).await?;
            let chosen = crate::feed_incidents::choose_recipients(&contacts);
            if chosen.is_empty() {
                return Err(invalid("constituents", format!("{} has no contact to notify; add one on its organisation page", org.name)));
            }
            let prefs = self.store.notification_preferences(&org.id).await?;
            let language = prefs.as_ref().map(|p| p.language.clone()).unwrap_or_else(|| "en".into());
            let format = prefs.as_ref().map(|p| p.format.clone()).unwrap_or_else(|| "csv".into());
            let batch = prefs.as_ref().map(|p| p.batch_minutes).unwrap_or(0);
            for contact in chosen {
                notices.push(rampart_store::cirt::NoticeRow {
                    id: new_id(now).to_string(),
                    incident_id: incident.id.clone(),
                    org_id: org.id.clone(),
                    recipient: contact.email.clone(),
                    language: language.clone(),
                    format: format.clone(),
                    queued_at: time::format(now),
                    due_at: time::format(now + chrono::Duration::minutes(batch)),
                    status: "queued".into(),
                    attempts: 0,
                    last_error: None,
                    sent_at: None,
                    message_id: None,
                });
            }
        }
        let mut tx = self.store.begin().await?;
        let (actor_id, label) = timeline_actor(actor.principal);
        for notice in &notices {
            tx.notice_insert(notice).await?;
            tx.incident_event_add(
                &incident.id,
                actor_id,
                label,
                "notice",
                &notice.recipient,
                &json!({"recipient": notice.recipient, "status": "queued"}),
                now,
            )
            .await?;
        }
        let recipients: Vec<&str> = notices.iter().map(|n| n.recipient.as_str()).collect();
        tx.audit(audit_entry(actor, "cirt.incident.notify", "incident", &incident.id, json!({"recipients": recipients})), now).await?;
        tx.commit().await?;
        Ok(notices)
    }

    /// Sets how and when an organisation receives notices.
    pub async fn set_notification_preferences(
        &self,
        actor: &Actor<'_>,
        org_id: &str,
        format: &str,
        language: &str,
        batch_minutes: i64,
    ) -> Result<(), DeskError> {
        let org = self.org(org_id).await?;
        let own = actor.principal.allows(Permission::OrgManage, Target::Org { id: &org.id, country: org.country.as_deref() });
        if !own {
            self.require_registry_manager(actor.principal, &org).await?;
        }
        if !["csv", "json"].contains(&format) {
            return Err(invalid("format", format!("`{format}` is not csv or json")));
        }
        if !crate::notify::languages().iter().any(|l| l == language) {
            return Err(invalid("language", format!("notices can be written in {}", crate::notify::languages().join(", "))));
        }
        if !(0..=7 * 24 * 60).contains(&batch_minutes) {
            return Err(invalid("batch_minutes", "must be between 0 and 10080 (a week)"));
        }
        let prefs = rampart_store::cirt::NotificationPreferences {
            org_id: org.id.clone(),
            format: format.into(),
            language: language.into(),
            batch_minutes,
        };
        let mut tx = self.store.begin().await?;
        tx.notification_preferences_put(&prefs, self.now()).await?;
        self.audited(
            tx,
            audit_entry(
                actor,
                "cirt.constituency.notification_preferences",
                "organisation",
                &org.id,
                json!({"after": {"format": format, "language": language, "batch_minutes": batch_minutes}}),
            ),
        )
        .await
    }

    /// Registers (or with `None` removes) the OpenPGP key of an
    /// organisation's contact; notices to that contact are then encrypted.
    /// The organisation's managers and the CIRT managing its registry may.
    pub async fn set_contact_key(
        &self,
        actor: &Actor<'_>,
        org_id: &str,
        contact_id: &str,
        armored: Option<&str>,
    ) -> Result<Option<crate::encryption::KeyInfo>, DeskError> {
        let org = self.org(org_id).await?;
        let own = actor.principal.allows(Permission::OrgManage, Target::Org { id: &org.id, country: org.country.as_deref() });
        if !own {
            self.require_registry_manager(actor.principal, &org).await?;
        }
        let armored = armored.map(str::trim).filter(|k| !k.is_empty());
        let info = armored.map(crate::encryption::inspect).transpose()?;
        let mut tx = self.store.begin().await?;
        tx.contact_set_key(&org.id, contact_id, armored).await?;
        let summary = json!({"contact": contact_id, "fingerprint": info.as_ref().map(|i| i.fingerprint.clone())});
        self.audited(tx, audit_entry(actor, "platform.org.contact_key", "organisation", &org.id, summary)).await?;
        Ok(info)
    }
}

/// The largest file an incident accepts.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// A file name safe to store and to offer back for download: no paths, no
/// control characters, at most 200 characters.
pub fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(200).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() { "attachment".to_owned() } else { cleaned }
}

impl Desk {
    /// Attaches a file (evidence, logs) to an incident. Stored with its
    /// SHA-256; served back only as a download.
    pub async fn add_attachment(
        &self,
        actor: &Actor<'_>,
        id: &str,
        filename: &str,
        content: &[u8],
    ) -> Result<rampart_store::cirt::AttachmentRow, DeskError> {
        if content.is_empty() {
            return Err(invalid("file", "the file is empty"));
        }
        if content.len() > MAX_ATTACHMENT_BYTES {
            return Err(invalid("file", format!("the file is larger than {} MiB", MAX_ATTACHMENT_BYTES / 1024 / 1024)));
        }
        use sha2::Digest;
        let digest = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(content));
        let now = self.now();
        let row = rampart_store::cirt::AttachmentRow {
            id: new_id(now).to_string(),
            incident_id: String::new(),
            filename: safe_filename(filename),
            size: i64::try_from(content.len()).unwrap_or(i64::MAX),
            sha256: digest,
            uploaded_by: actor.principal.email.clone(),
            uploaded_at: time::format(now),
        };
        let content = content.to_vec();
        let stored = row.clone();
        self.work(actor, id, Permission::IncidentWrite, "cirt.incident.attachment", move |tx, incident, _now| {
            Box::pin(async move {
                let row = rampart_store::cirt::AttachmentRow { incident_id: incident.id.clone(), ..stored };
                tx.attachment_insert(&row, &content).await?;
                let detail = json!({"attachment": row.id, "filename": row.filename, "size": row.size, "sha256": row.sha256});
                Ok((incident, "attachment", row.filename.clone(), detail))
            })
        })
        .await
        .map(|incident| rampart_store::cirt::AttachmentRow { incident_id: incident.id, ..row })
    }

    /// An attachment's metadata and content, for the incident's handlers.
    pub async fn attachment(
        &self,
        principal: &Principal,
        id: &str,
        attachment_id: &str,
    ) -> Result<(rampart_store::cirt::AttachmentRow, Vec<u8>), DeskError> {
        let incident = self.incident(principal, id).await?;
        if !self.is_handler(principal, &incident).await? {
            return Err(DeskError::NotFound("attachment"));
        }
        match self.store.attachment_get(&incident.id, attachment_id).await {
            Ok(found) => Ok(found),
            Err(StoreError::NotFound { .. }) => Err(DeskError::NotFound("attachment")),
            Err(err) => Err(err.into()),
        }
    }
}

impl Desk {
    /// Dashboard and yearly-report figures over the incidents of the CIRTs
    /// the principal handles, created in `[from, to)`, with the number of
    /// open incidents whose SLA is breached or at risk now.
    pub async fn figures(
        &self,
        principal: &Principal,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(crate::stats::Figures, usize, usize), DeskError> {
        let owners = match principal.org_ids_for(Permission::IncidentRead) {
            Some(ids) if !ids.is_empty() => ids,
            Some(_) => return Err(DeskError::Forbidden),
            None => {
                let filter = rampart_store::orgs::OrgFilter { kind: Some(OrgKind::NationalCirt.as_str().into()), ..Default::default() };
                self.store.org_list(&filter, &PageRequest::first(500)).await?.items.into_iter().map(|o| o.id).collect()
            }
        };
        let (facts, constituents) = self.store.incident_facts(&owners, &time::format(from), &time::format(to)).await?;
        let figures = crate::stats::figures(&facts, &constituents);
        let (mut breached, mut at_risk) = (0, 0);
        for fact in facts.iter().filter(|f| !matches!(f.status.as_str(), "resolved" | "closed")) {
            let incident = self.store.incident_get(&fact.id).await?;
            let timeline = self.store.incident_events(&fact.id).await?;
            let timers = self.timers(&incident, &timeline);
            if timers.iter().any(|t| t.state == sla::TimerState::Breached) {
                breached += 1;
            } else if timers.iter().any(|t| t.state == sla::TimerState::AtRisk) {
                at_risk += 1;
            }
        }
        Ok((figures, breached, at_risk))
    }
}

/// What a constituent sees of an incident's timeline: its creation, status
/// changes, the CIRT's responses and notices, and attached reports; not
/// internal notes, tasks, assignments, links or classification work.
fn constituent_may_read(event: &EventRow) -> bool {
    match event.kind.as_str() {
        "created" | "status" | "notice" | "report" => true,
        "note" => event.detail.contains("\"response\":true"),
        _ => false,
    }
}

async fn tx_open_tasks(tx: &mut WriteTx, incident_id: &str) -> Result<i64, DeskError> {
    Ok(tx.incident_open_task_count(incident_id).await?)
}

async fn tx_task_count(tx: &mut WriteTx, incident_id: &str) -> Result<i64, DeskError> {
    Ok(tx.incident_task_count(incident_id).await?)
}
