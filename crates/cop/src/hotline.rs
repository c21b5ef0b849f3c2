//! The hotline service: public and partner reports in, each reported URL
//! assessed, traced to its hosting country, referred to that country's
//! hotline or police, and followed until the content is gone.
//!
//! Rules kept here:
//! - no image or video is ever stored or served; an image given to be
//!   hashed is hashed in memory and dropped (see [`crate::lists`]);
//! - only hotline roles see reports, every view of an item is audited, and
//!   the reporter's personal data is shown only to the receiving hotline and
//!   purged after the retention period;
//! - every permission question goes to `rampart_auth::access`.

use crate::CopError;
use crate::error::invalid;
use crate::trace::Tracer;
use crate::urls;
use chrono::{DateTime, Datelike, Duration, Utc};
use rampart_auth::Principal;
use rampart_auth::access::Target;
use rampart_auth::service::Actor;
use rampart_core::{Clock, OrgKind, Permission, new_id, time};
use rampart_store::hotline::{HotlineEventRow, HotlineItemRow, HotlineReportRow, ItemFilter, ReferralRow};
use rampart_store::orgs::OrgFilter;
use rampart_store::{AuditEntry, Organisation, Page, PageRequest, Store, StoreError, WriteTx};
use serde::Serialize;
use serde_json::json;
use std::net::IpAddr;
use std::sync::Arc;

macro_rules! slugs {
    ($name:ident, $field:literal, { $($variant:ident => $slug:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $slug),+ }
            }

            pub fn parse(text: &str) -> Result<$name, CopError> {
                let wanted = text.trim().to_ascii_lowercase();
                $name::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| {
                    let known: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    invalid($field, format!("`{}` is not one of {}", text.trim(), known.join(", ")))
                })
            }
        }
    };
}

slugs!(Category, "category", {
    ChildSexualAbuse => "child_sexual_abuse",
    Grooming => "grooming",
    Sextortion => "sextortion",
    ExtremismHate => "extremism_hate",
    OtherHarmful => "other_harmful",
});

slugs!(Outcome, "outcome", {
    IllegalNational => "illegal_national",
    IllegalInterpol => "illegal_interpol",
    NotIllegal => "not_illegal",
    Duplicate => "duplicate",
    Unreachable => "unreachable",
});

impl Outcome {
    /// Illegal content is traced and referred; anything else ends here.
    pub fn is_illegal(self) -> bool {
        matches!(self, Outcome::IllegalNational | Outcome::IllegalInterpol)
    }
}

// The milestones a referral moves through, in order.
slugs!(TakedownStep, "step", {
    NoticeSent => "notice_sent",
    Removed => "removed",
    Confirmed => "confirmed",
});

/// Where an item stands, from arrival to the end of its takedown.
pub const ITEM_STATUSES: [&str; 7] = ["new", "assessed", "referred", "notice_sent", "removed", "confirmed", "closed"];

/// How the hotline is run; the operator sets these in `[cop]`.
#[derive(Debug, Clone)]
pub struct HotlineSettings {
    /// Days the reporter's personal data and description are kept.
    pub retention_days: u32,
    pub tracer: Arc<Tracer>,
}

impl Default for HotlineSettings {
    fn default() -> Self {
        HotlineSettings { retention_days: 90, tracer: Arc::new(Tracer::default()) }
    }
}

/// A report as submitted, before validation.
#[derive(Debug, Clone, Default)]
pub struct NewHotlineReport {
    /// One or more URLs, one per line or separated by spaces.
    pub urls: String,
    pub category: String,
    pub description: String,
    pub reporter_name: Option<String>,
    pub reporter_email: Option<String>,
    /// The language the reporter wrote in (the form's language).
    pub language: String,
    /// The country whose hotline receives the report (ISO alpha-2), or
    /// `hotline_org_id`.
    pub country: Option<String>,
    pub hotline_org_id: Option<String>,
    /// A partner hotline's own reference for the report.
    pub partner_reference: Option<String>,
}

/// What the reporter gets back.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub receipt: String,
    pub received_at: String,
    pub urls: usize,
    pub hotline: String,
}

/// What anyone holding the receipt may learn: coarse progress, nothing of
/// the assessment or of who handles it.
#[derive(Debug, Clone, Serialize)]
pub struct PublicStatus {
    pub receipt: String,
    pub received_at: String,
    /// received | in_assessment | assessed | referred | removed
    pub state: &'static str,
    pub urls: usize,
    pub removed: usize,
}

/// Everything the item page shows to someone allowed to see it.
#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub item: HotlineItemRow,
    /// The report; its personal data only for the receiving hotline.
    pub report: HotlineReportRow,
    pub events: Vec<HotlineEventRow>,
    pub referrals: Vec<ReferralRow>,
    /// The viewer works the item (the receiving hotline), rather than
    /// following a referral to it.
    pub handler: bool,
    /// The earlier item with the same normalised URL, if any.
    pub duplicate: Option<HotlineItemRow>,
}

pub struct Hotline {
    store: Store,
    clock: Arc<dyn Clock>,
    settings: HotlineSettings,
}

fn audit(actor: &Actor<'_>, action: &str, entity_type: &str, id: &str, summary: serde_json::Value) -> AuditEntry {
    actor.entry(action, entity_type, Some(id), summary)
}

fn system_entry(label: &str, action: &str, entity_type: &str, id: Option<&str>, summary: serde_json::Value) -> AuditEntry {
    AuditEntry {
        actor_id: None,
        actor_label: label.to_owned(),
        actor_org_id: None,
        action: action.to_owned(),
        entity_type: entity_type.to_owned(),
        entity_id: id.map(str::to_owned),
        source_ip: None,
        summary,
    }
}

/// Twelve characters of Crockford base32 (60 random bits): unguessable, so
/// the receipt itself is what lets a reporter check the status.
fn new_receipt() -> Result<String, CopError> {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|err| invalid("receipt", format!("no randomness available: {err}")))?;
    let chars: String = bytes.iter().map(|b| char::from(ALPHABET[usize::from(b & 31)])).collect();
    Ok(format!("HL-{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12]))
}

/// Accepts a receipt typed loosely: lower case, spaces, O for 0, I/L for 1.
pub fn canonical_receipt(text: &str) -> String {
    let cleaned: String = text
        .trim()
        .to_ascii_uppercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    let body = cleaned.strip_prefix("H1").unwrap_or(&cleaned);
    if body.len() != 12 {
        return text.trim().to_owned();
    }
    format!("HL-{}-{}-{}", &body[0..4], &body[4..8], &body[8..12])
}

/// The primary subtag of the reporter's language (`ar` from `ar-JO`), or
/// `en` when none was given.
fn language_tag(text: &str) -> String {
    let primary = text.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    if (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_lowercase()) { primary } else { "en".into() }
}

fn optional(text: &Option<String>, field: &'static str, max: usize) -> Result<Option<String>, CopError> {
    match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) if t.chars().count() > max => Err(invalid(field, format!("must be at most {max} characters"))),
        Some(t) => Ok(Some(t.to_owned())),
    }
}

impl Hotline {
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: HotlineSettings) -> Hotline {
        Hotline { store, clock, settings }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn tracer(&self) -> &Tracer {
        &self.settings.tracer
    }

    pub fn retention_days(&self) -> u32 {
        self.settings.retention_days
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn org(&self, id: &str) -> Result<Organisation, CopError> {
        match self.store.org_get(id).await {
            Ok(org) => Ok(org),
            Err(StoreError::NotFound { .. }) => Err(CopError::NotFound("organisation")),
            Err(err) => Err(err.into()),
        }
    }

    fn target(org: &Organisation) -> Target<'_> {
        Target::Org { id: &org.id, country: org.country.as_deref() }
    }

    /// The hotlines of a country (kind `hotline`), first registered first.
    pub async fn hotlines_of(&self, country: &str) -> Result<Vec<Organisation>, CopError> {
        let filter =
            OrgFilter { country: Some(country.to_ascii_uppercase()), kind: Some(OrgKind::Hotline.as_str().into()), name_contains: None };
        let mut page = self.store.org_list(&filter, &PageRequest::first(50)).await?.items;
        page.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(page)
    }

    /// Every country with a hotline in this Rampart, for the public form.
    pub async fn hotline_countries(&self) -> Result<Vec<String>, CopError> {
        let filter = OrgFilter { country: None, kind: Some(OrgKind::Hotline.as_str().into()), name_contains: None };
        let mut countries: Vec<String> =
            self.store.org_list(&filter, &PageRequest::first(500)).await?.items.into_iter().filter_map(|o| o.country).collect();
        countries.sort();
        countries.dedup();
        Ok(countries)
    }

    async fn receiving_hotline(&self, report: &NewHotlineReport) -> Result<Organisation, CopError> {
        if let Some(id) = report.hotline_org_id.as_deref().filter(|id| !id.is_empty()) {
            let org = self.org(id).await.map_err(|_| invalid("hotline_org_id", format!("no organisation `{id}`")))?;
            if org.kind != OrgKind::Hotline.as_str() {
                return Err(invalid("hotline_org_id", format!("{} is not a hotline", org.name)));
            }
            return Ok(org);
        }
        let country =
            report.country.as_deref().filter(|c| !c.trim().is_empty()).ok_or_else(|| invalid("country", "choose your country"))?;
        let country = rampart_core::country::find(country).ok_or_else(|| invalid("country", format!("unknown country `{country}`")))?;
        self.hotlines_of(&country.alpha2)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| invalid("country", format!("no hotline is registered for {}", country.name)))
    }

    /// Takes a report from the public (`actor` is `None`) or from a partner
    /// hotline's analyst (`actor`, channel `partner`).
    pub async fn submit(&self, actor: Option<&Actor<'_>>, report: &NewHotlineReport) -> Result<Receipt, CopError> {
        let urls = urls::parse_many(&report.urls)?;
        let category = Category::parse(&report.category)?;
        let description = report.description.trim();
        if description.chars().count() > 5000 {
            return Err(invalid("description", "must be at most 5000 characters"));
        }
        let reporter_name = optional(&report.reporter_name, "reporter_name", 200)?;
        let reporter_email = match optional(&report.reporter_email, "reporter_email", 254)? {
            Some(email) if rampart_auth::service::valid_email(&email.to_lowercase()) => Some(email.to_lowercase()),
            Some(_) => return Err(invalid("reporter_email", "is not an e-mail address")),
            None => None,
        };
        let language = language_tag(&report.language);
        let hotline = self.receiving_hotline(report).await?;
        let (channel, partner_org, partner_reference) = match actor {
            None => ("public", None, None),
            Some(actor) => {
                let own = self.org(&actor.principal.org_id).await?;
                if !actor.principal.allows(Permission::HotlineAssess, Self::target(&own)) {
                    return Err(CopError::Forbidden);
                }
                (
                    if own.id == hotline.id { "analyst" } else { "partner" },
                    Some(own.id),
                    optional(&report.partner_reference, "partner_reference", 200)?,
                )
            }
        };
        let now = self.now();
        let at = time::format(now);
        let row = HotlineReportRow {
            id: new_id(now).to_string(),
            receipt: new_receipt()?,
            hotline_org_id: hotline.id.clone(),
            channel: channel.into(),
            received_at: at.clone(),
            language,
            category: category.as_str().into(),
            description: description.to_owned(),
            reporter_name,
            reporter_email,
            partner_org_id: partner_org,
            partner_reference,
            purged_at: None,
        };
        let mut tx = self.store.begin().await?;
        tx.hotline_report_insert(&row).await?;
        for url in &urls {
            let mut item = HotlineItemRow {
                id: new_id(now).to_string(),
                report_id: row.id.clone(),
                hotline_org_id: hotline.id.clone(),
                url: url.url.clone(),
                normalised_url: url.normalised.clone(),
                host: url.host.clone(),
                status: "new".into(),
                outcome: None,
                duplicate_of: None,
                assessed_by: None,
                assessed_at: None,
                assessment_note: String::new(),
                ip: None,
                hosting_country: None,
                network: None,
                asn: None,
                as_org: None,
                hosting_org_id: None,
                traced_at: None,
                pdq: None,
                md5: None,
                sha256: None,
                known_match: None,
                created_at: at.clone(),
                updated_at: at.clone(),
            };
            let mut detail = String::new();
            // Content already assessed is recognised and not viewed again:
            // a URL assessed before takes that assessment.
            if let Some(earlier) = self.store.hotline_item_with_url(&url.normalised, &item.id).await? {
                item.duplicate_of = Some(earlier.id.clone());
                if earlier.outcome.is_some() {
                    item.outcome = Some(Outcome::Duplicate.as_str().into());
                    item.status = "closed".into();
                    item.assessed_at = Some(at.clone());
                    item.assessment_note = format!("same address as an item already assessed ({})", earlier.outcome.unwrap_or_default());
                    detail = format!("duplicate of {}", earlier.id);
                } else {
                    detail = format!("same address as {} (not yet assessed)", earlier.id);
                }
            }
            tx.hotline_item_insert(&item).await?;
            self.event(&mut tx, &item.id, None, None, "received", &format!("{channel} report {}", row.receipt), now).await?;
            if !detail.is_empty() {
                self.event(&mut tx, &item.id, None, None, "duplicate", &detail, now).await?;
            }
        }
        let summary = json!({"receipt": row.receipt, "channel": channel, "urls": urls.len(), "category": row.category});
        let entry = match actor {
            Some(actor) => audit(actor, "cop.report.receive", "hotline_report", &row.id, summary),
            None => system_entry("public", "cop.report.receive", "hotline_report", Some(&row.id), summary),
        };
        tx.audit(entry, now).await?;
        tx.commit().await?;
        Ok(Receipt { receipt: row.receipt, received_at: at, urls: urls.len(), hotline: hotline.name })
    }

    #[allow(clippy::too_many_arguments)]
    async fn event(
        &self,
        tx: &mut WriteTx,
        item_id: &str,
        actor_id: Option<&str>,
        actor_org: Option<&str>,
        kind: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), CopError> {
        tx.hotline_event_add(&HotlineEventRow {
            id: new_id(now).to_string(),
            item_id: item_id.to_owned(),
            at: time::format(now),
            actor_id: actor_id.map(str::to_owned),
            actor_org_id: actor_org.map(str::to_owned),
            kind: kind.to_owned(),
            detail: detail.to_owned(),
        })
        .await?;
        Ok(())
    }

    /// Coarse progress for whoever holds the receipt.
    pub async fn public_status(&self, receipt: &str) -> Result<PublicStatus, CopError> {
        let report = self.store.hotline_report_by_receipt(&canonical_receipt(receipt)).await?.ok_or(CopError::NotFound("report"))?;
        let items = self.store.hotline_items_of_report(&report.id).await?;
        let removed = items.iter().filter(|i| matches!(i.status.as_str(), "removed" | "confirmed")).count();
        let state = if items.iter().all(|i| i.status == "new") {
            "received"
        } else if items.iter().any(|i| i.status == "new") {
            "in_assessment"
        } else if removed > 0 && removed == items.iter().filter(|i| i.status != "closed").count() {
            "removed"
        } else if items.iter().any(|i| matches!(i.status.as_str(), "referred" | "notice_sent")) {
            "referred"
        } else {
            "assessed"
        };
        Ok(PublicStatus { receipt: report.receipt, received_at: report.received_at, state, urls: items.len(), removed })
    }

    /// The items a principal's hotlines work, newest first; `status` is one
    /// status or several separated by commas.
    pub async fn queue(&self, principal: &Principal, status: Option<&str>, page: &PageRequest) -> Result<Page<HotlineItemRow>, CopError> {
        if !principal.has(Permission::HotlineRead) {
            return Err(CopError::Forbidden);
        }
        let statuses = match status {
            None => None,
            Some(text) => {
                let parts: Vec<String> = text.split(',').map(|s| s.trim().to_owned()).collect();
                if let Some(bad) = parts.iter().find(|s| !ITEM_STATUSES.contains(&s.as_str())) {
                    return Err(invalid("status", format!("`{bad}` is not an item status ({})", ITEM_STATUSES.join(", "))));
                }
                Some(parts)
            }
        };
        let filter = ItemFilter { hotline_org_ids: principal.org_ids_for(Permission::HotlineRead), statuses };
        Ok(self.store.hotline_item_list(&filter, page).await?)
    }

    /// Referrals a principal's hotlines received, newest first.
    pub async fn referrals_received(&self, principal: &Principal) -> Result<Vec<(ReferralRow, HotlineItemRow)>, CopError> {
        if !principal.has(Permission::HotlineRead) {
            return Err(CopError::Forbidden);
        }
        let mut out = Vec::new();
        for referral in self.store.referrals_received(&principal.org_ids_for(Permission::HotlineRead), 200).await? {
            let item = self.store.hotline_item_get(&referral.item_id).await?;
            out.push((referral, item));
        }
        Ok(out)
    }

    async fn item_row(&self, id: &str) -> Result<HotlineItemRow, CopError> {
        match self.store.hotline_item_get(id).await {
            Ok(item) => Ok(item),
            Err(StoreError::NotFound { .. }) => Err(CopError::NotFound("item")),
            Err(err) => Err(err.into()),
        }
    }

    /// Whether `principal` may see the item, and whether as its handler.
    /// Those who may not see it are told it does not exist.
    async fn access(&self, principal: &Principal, item: &HotlineItemRow, permission: Permission) -> Result<bool, CopError> {
        let owner = self.org(&item.hotline_org_id).await?;
        if principal.allows(permission, Self::target(&owner)) {
            return Ok(true);
        }
        for referral in self.store.referrals_of_item(&item.id).await? {
            let to = self.org(&referral.to_org_id).await?;
            if principal.allows(permission, Self::target(&to)) {
                return Ok(false);
            }
        }
        Err(CopError::NotFound("item"))
    }

    /// An item with its report, timeline and referrals. Every view is
    /// audited, for whoever looks.
    pub async fn view(&self, actor: &Actor<'_>, id: &str) -> Result<ItemView, CopError> {
        let item = self.item_row(id).await?;
        let handler = self.access(actor.principal, &item, Permission::HotlineRead).await?;
        let mut report = self.store.hotline_report_get(&item.report_id).await?;
        if !handler {
            // A hotline following a referral needs the address and the
            // assessment, not who reported it or what they wrote.
            report.reporter_name = None;
            report.reporter_email = None;
            report.description = String::new();
            report.receipt = String::new();
        }
        let duplicate = match &item.duplicate_of {
            Some(other) => self.store.hotline_item_get(other).await.ok(),
            None => None,
        };
        let view = ItemView {
            events: self.store.hotline_events(&item.id).await?,
            referrals: self.store.referrals_of_item(&item.id).await?,
            handler,
            duplicate,
            report,
            item,
        };
        let mut tx = self.store.begin().await?;
        tx.audit(audit(actor, "cop.item.view", "hotline_item", &view.item.id, json!({"url": view.item.url})), self.now()).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Records the assessment of an item. Illegal items go on to tracing;
    /// the rest are closed.
    pub async fn assess(&self, actor: &Actor<'_>, id: &str, outcome: &str, note: &str) -> Result<HotlineItemRow, CopError> {
        let mut item = self.item_row(id).await?;
        if !self.access(actor.principal, &item, Permission::HotlineAssess).await? {
            return Err(CopError::Forbidden);
        }
        let outcome = Outcome::parse(outcome)?;
        if note.chars().count() > 2000 {
            return Err(invalid("note", "must be at most 2000 characters"));
        }
        if matches!(item.status.as_str(), "referred" | "notice_sent" | "removed" | "confirmed") {
            return Err(invalid("outcome", "the item has been referred; its assessment can no longer change"));
        }
        let now = self.now();
        item.outcome = Some(outcome.as_str().into());
        item.status = if outcome.is_illegal() { "assessed" } else { "closed" }.into();
        item.assessed_by = Some(actor.principal.user_id.clone());
        item.assessed_at = Some(time::format(now));
        item.assessment_note = note.trim().to_owned();
        item.updated_at = time::format(now);
        let mut tx = self.store.begin().await?;
        tx.hotline_item_save(&item).await?;
        let detail = if note.trim().is_empty() { outcome.as_str().to_owned() } else { format!("{}: {}", outcome.as_str(), note.trim()) };
        self.event(&mut tx, &item.id, Some(&actor.principal.user_id), Some(&actor.principal.org_id), "assessed", &detail, now).await?;
        tx.audit(audit(actor, "cop.item.assess", "hotline_item", &item.id, json!({"outcome": outcome.as_str()})), now).await?;
        tx.commit().await?;
        Ok(item)
    }

    /// Traces the address hosting an item. With a MaxMind database the
    /// country, network and AS come from it; `country` overrides or fills
    /// in the country (an operator who traced by other means). The
    /// constituency registry names the responsible organisation when the
    /// network is registered here.
    pub async fn trace(&self, actor: &Actor<'_>, id: &str, ip: &str, country: Option<&str>) -> Result<HotlineItemRow, CopError> {
        let mut item = self.item_row(id).await?;
        if !self.access(actor.principal, &item, Permission::HotlineAssess).await? {
            return Err(CopError::Forbidden);
        }
        let address: IpAddr = ip.trim().parse().map_err(|_| invalid("ip", format!("`{}` is not an IP address", ip.trim())))?;
        let mut trace = self.settings.tracer.trace(address)?;
        if let Some(given) = country.map(str::trim).filter(|c| !c.is_empty()) {
            let found = rampart_core::country::find(given).ok_or_else(|| invalid("country", format!("unknown country `{given}`")))?;
            trace.country = Some(found.alpha2.clone());
        }
        let Some(hosting_country) = trace.country.clone() else {
            return Err(invalid("country", format!("the geolocation databases do not place {address}; give the hosting country")));
        };
        let (family, key) = rampart_cirt::constituency::address_key(address);
        let mut hosting_org = self.store.networks_containing(family, &key).await?.into_iter().next().map(|n| n.org_id);
        if hosting_org.is_none()
            && let Some(asn) = trace.asn
        {
            hosting_org = self.store.orgs_with_asn(asn).await?.into_iter().next();
        }
        let now = self.now();
        item.ip = Some(address.to_string());
        item.hosting_country = Some(hosting_country.clone());
        item.network = trace.network.clone();
        item.asn = trace.asn;
        item.as_org = trace.as_org.clone();
        item.hosting_org_id = hosting_org;
        item.traced_at = Some(time::format(now));
        item.updated_at = time::format(now);
        let mut tx = self.store.begin().await?;
        tx.hotline_item_save(&item).await?;
        let mut detail = format!("{address} → {hosting_country}");
        if let Some(network) = &trace.network {
            detail.push_str(&format!(", {network}"));
        }
        if let Some(asn) = trace.asn {
            detail.push_str(&format!(", AS{asn} {}", trace.as_org.as_deref().unwrap_or("")));
        }
        self.event(&mut tx, &item.id, Some(&actor.principal.user_id), Some(&actor.principal.org_id), "traced", detail.trim_end(), now)
            .await?;
        tx.audit(
            audit(actor, "cop.item.trace", "hotline_item", &item.id, json!({"ip": address.to_string(), "country": hosting_country})),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(item)
    }

    /// Hotlines and law-enforcement organisations of the item's hosting
    /// country that it can be referred to.
    pub async fn referral_targets(&self, item: &HotlineItemRow) -> Result<Vec<Organisation>, CopError> {
        let Some(country) = &item.hosting_country else { return Ok(Vec::new()) };
        let mut targets = Vec::new();
        for kind in [OrgKind::Hotline, OrgKind::LawEnforcement] {
            let filter = OrgFilter { country: Some(country.clone()), kind: Some(kind.as_str().into()), name_contains: None };
            targets.extend(
                self.store.org_list(&filter, &PageRequest::first(50)).await?.items.into_iter().filter(|o| o.id != item.hotline_org_id),
            );
        }
        Ok(targets)
    }

    /// Refers an assessed, traced item to a hotline or police organisation
    /// of its hosting country.
    pub async fn refer(&self, actor: &Actor<'_>, id: &str, to_org_id: &str, note: &str) -> Result<ReferralRow, CopError> {
        let mut item = self.item_row(id).await?;
        if !self.access(actor.principal, &item, Permission::HotlineAssess).await? {
            return Err(CopError::Forbidden);
        }
        if !item.outcome.as_deref().and_then(|o| Outcome::parse(o).ok()).is_some_and(Outcome::is_illegal) {
            return Err(invalid("outcome", "only content assessed as illegal is referred"));
        }
        let country = item.hosting_country.clone().ok_or_else(|| invalid("ip", "trace the hosting address before referring"))?;
        let to = self.org(to_org_id).await.map_err(|_| invalid("to_org_id", format!("no organisation `{to_org_id}`")))?;
        if to.kind != OrgKind::Hotline.as_str() && to.kind != OrgKind::LawEnforcement.as_str() {
            return Err(invalid("to_org_id", format!("{} is neither a hotline nor a law-enforcement organisation", to.name)));
        }
        if to.country.as_deref() != Some(country.as_str()) {
            return Err(invalid("to_org_id", format!("{} is not in the hosting country {country}", to.name)));
        }
        if to.id == item.hotline_org_id {
            return Err(invalid("to_org_id", "an item is not referred to the hotline that holds it"));
        }
        let existing = self.store.referrals_of_item(&item.id).await?;
        if existing.iter().any(|r| r.to_org_id == to.id) {
            return Err(invalid("to_org_id", format!("already referred to {}", to.name)));
        }
        let now = self.now();
        let referral = ReferralRow {
            id: new_id(now).to_string(),
            item_id: item.id.clone(),
            from_org_id: item.hotline_org_id.clone(),
            to_org_id: to.id.clone(),
            country: country.clone(),
            status: "referred".into(),
            referred_at: time::format(now),
            referred_by: actor.principal.user_id.clone(),
            notice_sent_at: None,
            removed_at: None,
            confirmed_at: None,
            note: note.trim().chars().take(2000).collect(),
        };
        if item.status == "assessed" {
            item.status = "referred".into();
        }
        item.updated_at = time::format(now);
        let mut tx = self.store.begin().await?;
        tx.referral_insert(&referral).await?;
        tx.hotline_item_save(&item).await?;
        self.event(
            &mut tx,
            &item.id,
            Some(&actor.principal.user_id),
            Some(&actor.principal.org_id),
            "referred",
            &format!("to {} ({country})", to.name),
            now,
        )
        .await?;
        tx.audit(audit(actor, "cop.item.refer", "hotline_item", &item.id, json!({"to": to.id, "referral": referral.id})), now).await?;
        tx.commit().await?;
        Ok(referral)
    }

    /// Whether `principal` records takedown steps on this referral as its
    /// receiver, and whether as its sender.
    pub async fn sides(&self, principal: &Principal, referral: &ReferralRow) -> Result<(bool, bool), CopError> {
        let to = self.org(&referral.to_org_id).await?;
        let from = self.org(&referral.from_org_id).await?;
        Ok((
            principal.allows(Permission::HotlineAssess, Self::target(&to)),
            principal.allows(Permission::HotlineAssess, Self::target(&from)),
        ))
    }

    /// Records a takedown milestone. The receiving organisation records that
    /// it sent notice and that the content is gone; either side may confirm
    /// the removal after checking the address. Steps go forward only.
    pub async fn record_takedown(&self, actor: &Actor<'_>, referral_id: &str, step: &str, note: &str) -> Result<ReferralRow, CopError> {
        let mut referral = match self.store.referral_get(referral_id).await {
            Ok(r) => r,
            Err(StoreError::NotFound { .. }) => return Err(CopError::NotFound("referral")),
            Err(err) => return Err(err.into()),
        };
        let step = TakedownStep::parse(step)?;
        let to = self.org(&referral.to_org_id).await?;
        let from = self.org(&referral.from_org_id).await?;
        let receiver = actor.principal.allows(Permission::HotlineAssess, Self::target(&to));
        let sender = actor.principal.allows(Permission::HotlineAssess, Self::target(&from));
        if !receiver && !sender {
            let sees = actor.principal.allows(Permission::HotlineRead, Self::target(&to))
                || actor.principal.allows(Permission::HotlineRead, Self::target(&from));
            return Err(if sees { CopError::Forbidden } else { CopError::NotFound("referral") });
        }
        if step != TakedownStep::Confirmed && !receiver {
            return Err(invalid("step", format!("only {} records that step", to.name)));
        }
        let order = |s: &str| ["referred", "notice_sent", "removed", "confirmed"].iter().position(|x| *x == s).unwrap_or(0);
        if order(step.as_str()) <= order(&referral.status) {
            return Err(invalid("step", format!("the referral is already at `{}`", referral.status)));
        }
        let now = self.now();
        let at = time::format(now);
        // A later step implies the earlier ones happened no later than it.
        match step {
            TakedownStep::NoticeSent => referral.notice_sent_at = Some(at.clone()),
            TakedownStep::Removed => {
                referral.notice_sent_at.get_or_insert_with(|| at.clone());
                referral.removed_at = Some(at.clone());
            }
            TakedownStep::Confirmed => {
                referral.notice_sent_at.get_or_insert_with(|| at.clone());
                referral.removed_at.get_or_insert_with(|| at.clone());
                referral.confirmed_at = Some(at.clone());
            }
        }
        referral.status = step.as_str().into();
        if !note.trim().is_empty() {
            let line = format!("{at} {}: {}", step.as_str(), note.trim().chars().take(1000).collect::<String>());
            referral.note = if referral.note.is_empty() { line } else { format!("{}\n{line}", referral.note) };
        }
        let mut item = self.item_row(&referral.item_id).await?;
        if order(step.as_str()) > order(&item.status) || item.status == "assessed" {
            item.status = step.as_str().into();
        }
        item.updated_at = at.clone();
        let mut tx = self.store.begin().await?;
        tx.referral_save(&referral).await?;
        tx.hotline_item_save(&item).await?;
        let who = if receiver { to.name.clone() } else { from.name.clone() };
        self.event(
            &mut tx,
            &item.id,
            Some(&actor.principal.user_id),
            Some(&actor.principal.org_id),
            step.as_str(),
            &format!("recorded by {who}"),
            now,
        )
        .await?;
        tx.audit(audit(actor, "cop.referral.step", "hotline_referral", &referral.id, json!({"step": step.as_str(), "item": item.id})), now)
            .await?;
        tx.commit().await?;
        Ok(referral)
    }

    /// Blanks the personal data of reports older than the retention period;
    /// run by the server every few minutes and by `rampart cop purge`.
    pub async fn purge(&self) -> Result<u64, CopError> {
        let now = self.now();
        let cutoff = now - Duration::days(i64::from(self.settings.retention_days));
        let mut tx = self.store.begin().await?;
        let purged = tx.hotline_purge(&time::format(cutoff), &time::format(now)).await?;
        if purged == 0 {
            return Ok(0);
        }
        let summary = json!({"reports": purged, "received_before": time::format(cutoff), "retention_days": self.settings.retention_days});
        tx.audit(system_entry("retention", "cop.report.purge", "hotline_report", None, summary), now).await?;
        tx.commit().await?;
        Ok(purged)
    }

    /// Records hashes computed from material the analyst had for an item
    /// (the material itself was dropped after hashing). A match in the hash
    /// lists (`known_match`), or the same file seen on another item, marks
    /// the item as known material.
    pub async fn set_item_hashes(
        &self,
        actor: &Actor<'_>,
        id: &str,
        pdq: Option<&str>,
        md5: &str,
        sha256: &str,
        known_match: Option<String>,
    ) -> Result<HotlineItemRow, CopError> {
        let mut item = self.item_row(id).await?;
        if !self.access(actor.principal, &item, Permission::HotlineAssess).await? {
            return Err(CopError::Forbidden);
        }
        let now = self.now();
        let known_match = match known_match {
            Some(found) => Some(found),
            None => self.store.hotline_item_with_file(sha256, md5, &item.id).await?.map(|other| {
                let outcome = other.outcome.as_deref().unwrap_or("not yet assessed");
                format!("the same file as item {} ({outcome})", other.id)
            }),
        };
        item.pdq = pdq.map(str::to_owned);
        item.md5 = Some(md5.to_owned());
        item.sha256 = Some(sha256.to_owned());
        item.known_match = known_match.clone();
        item.updated_at = time::format(now);
        let mut tx = self.store.begin().await?;
        tx.hotline_item_save(&item).await?;
        let detail = match &known_match {
            Some(found) => format!("hashed; known material: {found}"),
            None => "hashed; no match in the hash lists".to_owned(),
        };
        self.event(&mut tx, &item.id, Some(&actor.principal.user_id), Some(&actor.principal.org_id), "hashed", &detail, now).await?;
        tx.audit(audit(actor, "cop.item.hash", "hotline_item", &item.id, json!({"sha256": sha256, "known": known_match.is_some()})), now)
            .await?;
        tx.commit().await?;
        Ok(item)
    }

    /// The item an analyst may add to a hash list (handlers only).
    pub async fn item_for_handler(&self, principal: &Principal, id: &str) -> Result<HotlineItemRow, CopError> {
        let item = self.item_row(id).await?;
        if !self.access(principal, &item, Permission::HotlineAssess).await? {
            return Err(CopError::Forbidden);
        }
        Ok(item)
    }

    /// Figures for the statistics page, over the hotlines the principal
    /// reads (all of them for a global grant).
    pub async fn figures(&self, principal: &Principal) -> Result<Figures, CopError> {
        if !principal.has(Permission::HotlineRead) {
            return Err(CopError::Forbidden);
        }
        let orgs = principal.org_ids_for(Permission::HotlineRead);
        let by_month = self.store.hotline_reports_by_month(&orgs).await?;
        let by_country = self.store.hotline_items_by_country(&orgs).await?;
        let facts = self.store.removal_facts(&orgs).await?;
        Ok(Figures::compute(by_month, by_country, &facts))
    }
}

/// Time to removal over a set of referrals.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RemovalTimes {
    pub label: String,
    pub referrals: usize,
    pub removed: usize,
    /// Median hours from the report to the removal.
    pub median_hours_to_removal: Option<f64>,
    /// Median hours from the referral to the removal.
    pub median_hours_after_referral: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Figures {
    /// (category, month, reports)
    pub reports_by_month: Vec<(String, String, i64)>,
    /// (category, reports)
    pub reports_by_category: Vec<(String, i64)>,
    /// (hosting country, items traced there)
    pub hosting_countries: Vec<(String, i64)>,
    pub overall: RemovalTimes,
    pub by_country: Vec<RemovalTimes>,
    pub by_host: Vec<RemovalTimes>,
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let mid = values.len() / 2;
    let value = if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] };
    Some((value * 10.0).round() / 10.0)
}

fn hours(from: &str, to: &str) -> Option<f64> {
    let (from, to) = (time::parse(from)?, time::parse(to)?);
    #[allow(clippy::cast_precision_loss)]
    Some((to - from).num_seconds().max(0) as f64 / 3600.0)
}

fn removal_times(label: String, facts: &[&rampart_store::hotline::RemovalFact]) -> RemovalTimes {
    let removed: Vec<_> = facts.iter().filter(|f| f.removed_at.is_some()).collect();
    let mut total: Vec<f64> = removed.iter().filter_map(|f| hours(&f.received_at, f.removed_at.as_deref()?)).collect();
    let mut after: Vec<f64> = removed.iter().filter_map(|f| hours(&f.referred_at, f.removed_at.as_deref()?)).collect();
    RemovalTimes {
        label,
        referrals: facts.len(),
        removed: removed.len(),
        median_hours_to_removal: median(&mut total),
        median_hours_after_referral: median(&mut after),
    }
}

impl Figures {
    pub fn compute(
        reports_by_month: Vec<(String, String, i64)>,
        hosting_countries: Vec<(String, i64)>,
        facts: &[rampart_store::hotline::RemovalFact],
    ) -> Figures {
        let mut by_category: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
        for (category, _, n) in &reports_by_month {
            *by_category.entry(category.clone()).or_default() += n;
        }
        let mut reports_by_category: Vec<(String, i64)> = by_category.into_iter().collect();
        reports_by_category.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let group = |key: &dyn Fn(&rampart_store::hotline::RemovalFact) -> String| {
            let mut groups: std::collections::BTreeMap<String, Vec<&rampart_store::hotline::RemovalFact>> = Default::default();
            for fact in facts {
                groups.entry(key(fact)).or_default().push(fact);
            }
            let mut out: Vec<RemovalTimes> = groups.into_iter().map(|(label, facts)| removal_times(label, &facts)).collect();
            out.sort_by(|a, b| b.referrals.cmp(&a.referrals).then(a.label.cmp(&b.label)));
            out
        };
        let all: Vec<&rampart_store::hotline::RemovalFact> = facts.iter().collect();
        Figures {
            reports_by_category,
            reports_by_month,
            hosting_countries,
            overall: removal_times("all".into(), &all),
            by_country: group(&|f| f.country.clone()),
            by_host: group(&|f| f.host.clone()),
        }
    }
}

/// A month label (`YYYY-MM`) for the month of `at`.
pub fn month_of(at: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", at.year(), at.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_are_random_and_forgiving_to_type() {
        let a = new_receipt().unwrap_or_default();
        let b = new_receipt().unwrap_or_default();
        assert_ne!(a, b);
        assert_eq!(a.len(), 17);
        assert_eq!(canonical_receipt(&a.to_lowercase().replace('-', " ")), a);
        assert_eq!(canonical_receipt("hl-oooo-iiii-llll"), "HL-0000-1111-1111");
        assert_eq!(canonical_receipt("nonsense"), "nonsense");
    }

    #[test]
    fn categories_and_outcomes_name_the_field_when_unknown() {
        assert_eq!(Category::parse(" Grooming ").ok(), Some(Category::Grooming));
        let err = Category::parse("spam").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("category: `spam` is not one of child_sexual_abuse"), "{err}");
        assert!(Outcome::parse("illegal_interpol").is_ok_and(Outcome::is_illegal));
        assert!(!Outcome::NotIllegal.is_illegal());
    }

    #[test]
    fn removal_times_take_medians_per_country_and_host() {
        use rampart_store::hotline::RemovalFact;
        let fact = |received: &str, referred: &str, removed: Option<&str>, country: &str, host: &str| RemovalFact {
            received_at: received.into(),
            referred_at: referred.into(),
            removed_at: removed.map(str::to_owned),
            country: country.into(),
            host: host.into(),
        };
        let facts = vec![
            fact("2026-01-01T00:00:00Z", "2026-01-01T06:00:00Z", Some("2026-01-02T00:00:00Z"), "SE", "a.example"),
            fact("2026-01-01T00:00:00Z", "2026-01-01T12:00:00Z", Some("2026-01-03T00:00:00Z"), "SE", "b.example"),
            fact("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", None, "GB", "a.example"),
        ];
        let figures = Figures::compute(vec![("grooming".into(), "2026-01".into(), 3)], vec![], &facts);
        assert_eq!(figures.overall.referrals, 3);
        assert_eq!(figures.overall.removed, 2);
        assert_eq!(figures.overall.median_hours_to_removal, Some(36.0));
        assert_eq!(figures.overall.median_hours_after_referral, Some(27.0));
        let se = figures.by_country.iter().find(|r| r.label == "SE").cloned();
        assert_eq!(se.map(|r| r.removed), Some(2));
        let gb = figures.by_country.iter().find(|r| r.label == "GB").cloned();
        assert_eq!(gb.and_then(|r| r.median_hours_to_removal), None);
        assert_eq!(figures.by_host[0].label, "a.example");
        assert_eq!(figures.reports_by_category, vec![("grooming".to_owned(), 3)]);
    }
}
