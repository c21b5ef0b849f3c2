//! The indicator store: one row per owning CIRT, kind and value, gathered
//! from the CIRT's incidents, from TAXII collections and from imports, with
//! every sighting kept, first and last seen, confidence, expiry and decay,
//! and the warning lists' verdict. Exports (CSV, block lists, STIX, MISP)
//! go through the same access layer as everything else.
//!
//! Merging sightings: the label is the strictest any source gave (sharing
//! a value never loosens it), the confidence the highest, the expiry the
//! latest. Decay: the score is the confidence halved every half-life since
//! the last sighting (30 days for addresses and networks, 90 for domains,
//! URLs and e-mail addresses, 365 for file hashes), so what is not seen
//! again fades; an indicator is expired past its expiry or once its score
//! is under 10.

use crate::IntelError;
use crate::markings::{marking_definition, marking_id};
use crate::taxii::Taxii;
use crate::warninglists;
use chrono::{DateTime, Utc};
use rampart_auth::Principal;
use rampart_auth::access::{Shareable, Target, can_see};
use rampart_auth::service::Actor;
use rampart_cirt::observables::{self, Kind};
use rampart_core::{Clock, Permission, Tlp, new_id, time};
use rampart_store::Store;
use rampart_store::indicators::{IndicatorRow, SightingRow};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Below this score an indicator counts as expired.
pub const EXPIRED_BELOW: f64 = 10.0;
/// The most rows one listing or export returns.
pub const MAX_ROWS: usize = 100_000;

/// One report of a value, from some source.
#[derive(Debug, Clone)]
pub struct Sighting {
    pub kind: Kind,
    pub value: String,
    pub tlp: Tlp,
    /// 0 to 100.
    pub confidence: u8,
    pub seen_at: DateTime<Utc>,
    /// `incident:<reference>`, `taxii:<collection id>`, `misp:<event uuid>`, `manual`.
    pub source: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub description: String,
}

/// What recording sightings did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Recorded {
    pub new_indicators: usize,
    pub new_sightings: usize,
    /// Values that are not what their kind says, as `kind value: reason`.
    pub refused: Vec<String>,
}

/// An indicator as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorView {
    #[serde(flatten)]
    pub row: IndicatorRow,
    pub score: f64,
    pub expired: bool,
    /// Why it is likely a false positive (warning lists).
    pub warning: Option<&'static str>,
}

impl IndicatorView {
    /// The row with its score, expiry and warning as of `now`.
    fn of(row: IndicatorRow, now: DateTime<Utc>) -> IndicatorView {
        let score = score(&row, now);
        let expired = score < EXPIRED_BELOW || row.expires_at.as_deref().is_some_and(|e| e < time::format(now).as_str());
        let warning = warninglists::warning(&row.kind, &row.value);
        IndicatorView { row, score, expired, warning }
    }
}

/// What to list or export.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub kind: Option<String>,
    pub contains: Option<String>,
    pub include_expired: bool,
    pub include_warned: bool,
    /// The strictest label included (exports for others set it lower).
    pub max_tlp: Option<Tlp>,
    pub limit: Option<usize>,
}

/// Days for the score to halve.
pub fn half_life_days(kind: &str) -> f64 {
    match kind {
        "ipv4" | "ipv6" | "cidr" => 30.0,
        "md5" | "sha1" | "sha256" => 365.0,
        _ => 90.0,
    }
}

/// The confidence halved every half-life since the last sighting.
pub fn score(row: &IndicatorRow, now: DateTime<Utc>) -> f64 {
    let last = time::parse(&row.last_seen).unwrap_or(now);
    let days = (now - last).num_seconds().max(0) as f64 / 86_400.0;
    row.confidence as f64 * 0.5f64.powf(days / half_life_days(&row.kind))
}

pub struct Indicators {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl Indicators {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Indicators {
        Indicators { store, clock }
    }

    async fn require(&self, principal: &Principal, permission: Permission, org_id: &str) -> Result<(), IntelError> {
        let org = self.store.org_get(org_id).await?;
        if principal.allows(permission, Target::Org { id: &org.id, country: org.country.as_deref() }) {
            Ok(())
        } else {
            Err(IntelError::Forbidden)
        }
    }

    /// Records sightings for `owner`'s store (needs `IntelWrite` there).
    pub async fn record(&self, actor: &Actor<'_>, owner: &str, sightings: &[Sighting]) -> Result<Recorded, IntelError> {
        self.require(actor.principal, Permission::IntelWrite, owner).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let recorded = record_in(&mut tx, owner, sightings, now).await?;
        let summary = json!({"new_indicators": recorded.new_indicators, "new_sightings": recorded.new_sightings,
            "refused": recorded.refused.len(), "sources": sightings.iter().map(|s| s.source.as_str()).collect::<std::collections::BTreeSet<_>>()});
        tx.audit(actor.entry("intel.indicators.record", "organisation", Some(owner), summary), now).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Gathers the observables of every incident `owner` holds: each is a
    /// sighting at the incident's creation, with its TLP, confidence 75.
    pub async fn gather_incidents(&self, actor: &Actor<'_>, owner: &str) -> Result<Recorded, IntelError> {
        self.require(actor.principal, Permission::IntelWrite, owner).await?;
        let sightings: Vec<Sighting> = self
            .store
            .incident_observables_of(owner)
            .await?
            .into_iter()
            .filter_map(|o| {
                Some(Sighting {
                    kind: Kind::parse(&o.kind).filter(|k| *k != Kind::Cve)?,
                    value: o.value,
                    tlp: o.tlp.parse().unwrap_or(Tlp::Amber),
                    confidence: 75,
                    seen_at: time::parse(&o.created_at)?,
                    source: format!("incident:{}", o.reference),
                    expires_at: None,
                    description: String::new(),
                })
            })
            .collect();
        self.record(actor, owner, &sightings).await
    }

    /// Gathers a TAXII collection's latest indicators (single-equality
    /// patterns) and observables the actor may read, into the actor's
    /// organisation's store: TLP from their markings (AMBER when
    /// unmarked), confidence from `confidence` (50 without), expiry from
    /// `valid_until`.
    pub async fn gather_collection(&self, actor: &Actor<'_>, taxii: &Taxii, collection_id: &str) -> Result<Recorded, IntelError> {
        let owner = actor.principal.org_id.clone();
        self.require(actor.principal, Permission::IntelWrite, &owner).await?;
        let objects = taxii.latest(actor.principal, collection_id, Tlp::AmberStrict).await?;
        let mut sightings = Vec::new();
        for object in &objects {
            let tlp = crate::markings::object_tlp(object).unwrap_or(Tlp::Amber);
            let confidence = object.get("confidence").and_then(Value::as_u64).map_or(50, |c| c.min(100) as u8);
            let seen_at = object
                .get("modified")
                .or(object.get("created"))
                .and_then(Value::as_str)
                .and_then(crate::stix::timestamp)
                .unwrap_or_else(|| self.clock.now());
            let expires_at = object.get("valid_until").and_then(Value::as_str).and_then(crate::stix::timestamp);
            let description = object.get("name").or(object.get("description")).and_then(Value::as_str).unwrap_or("").to_owned();
            for attribute in crate::misp_export::attributes(object) {
                let kind = match attribute["type"].as_str().unwrap_or("") {
                    "ip-dst" => {
                        if attribute["value"].as_str().unwrap_or("").contains(':') {
                            Kind::Ipv6
                        } else {
                            Kind::Ipv4
                        }
                    }
                    "domain" => Kind::Domain,
                    "url" => Kind::Url,
                    "email-src" => Kind::Email,
                    "md5" => Kind::Md5,
                    "sha1" => Kind::Sha1,
                    "sha256" => Kind::Sha256,
                    _ => continue,
                };
                sightings.push(Sighting {
                    kind,
                    value: attribute["value"].as_str().unwrap_or("").to_owned(),
                    tlp,
                    confidence,
                    seen_at,
                    source: format!("taxii:{collection_id}"),
                    expires_at,
                    description: description.clone(),
                });
            }
        }
        self.record(actor, &owner, &sightings).await
    }

    /// Indicators the principal may see, most recently seen first.
    pub async fn list(&self, principal: &Principal, query: &Query) -> Result<Vec<IndicatorView>, IntelError> {
        if !principal.has(Permission::IntelRead) {
            return Err(IntelError::Forbidden);
        }
        let now = self.clock.now();
        let limit = query.limit.unwrap_or(MAX_ROWS).min(MAX_ROWS);
        // Others' indicators are candidates only when CLEAR or GREEN; the
        // access layer has the last word on each row.
        let rows =
            self.store.indicators(&principal.org_id, &["CLEAR", "GREEN"], query.kind.as_deref(), query.contains.as_deref(), limit).await?;
        Ok(rows
            .into_iter()
            .filter(|row| {
                let tlp = row.tlp.parse::<Tlp>().unwrap_or(Tlp::Red);
                query.max_tlp.is_none_or(|max| tlp <= max)
                    && can_see(
                        Some(principal),
                        &Shareable { tlp, owner_org: &row.owner_org_id, shared_with: &[], recipients: &[], author: None },
                    )
            })
            .map(|row| IndicatorView::of(row, now))
            .filter(|view| (query.include_expired || !view.expired) && (query.include_warned || view.warning.is_none()))
            .collect())
    }

    /// One indicator with its sightings, if the principal may see it.
    pub async fn get(&self, principal: &Principal, id: &str) -> Result<(IndicatorView, Vec<SightingRow>), IntelError> {
        let row = self.store.indicator(id).await.map_err(|_| IntelError::NotFound("indicator"))?;
        let tlp = row.tlp.parse::<Tlp>().unwrap_or(Tlp::Red);
        let visible = principal.has(Permission::IntelRead)
            && can_see(Some(principal), &Shareable { tlp, owner_org: &row.owner_org_id, shared_with: &[], recipients: &[], author: None });
        if !visible {
            return Err(IntelError::NotFound("indicator"));
        }
        let sightings = self.store.indicator_sightings(id).await?;
        Ok((IndicatorView::of(row, self.clock.now()), sightings))
    }
}

/// Records sightings for `owner`'s store inside the caller's transaction
/// (the caller checks the right to and audits): the feed pipeline's
/// `indicators` output records the events a batch stores this way.
pub async fn record_in(
    tx: &mut rampart_store::WriteTx,
    owner: &str,
    sightings: &[Sighting],
    now: DateTime<Utc>,
) -> Result<Recorded, IntelError> {
    let mut recorded = Recorded::default();
    for sighting in sightings {
        let observable = match observables::normalise(sighting.kind, &sighting.value) {
            Ok(observable) => observable,
            Err(reason) => {
                recorded.refused.push(format!("{} {}: {reason}", sighting.kind.as_str(), sighting.value));
                continue;
            }
        };
        let kind = observable.kind.as_str();
        let seen = time::format(sighting.seen_at);
        let existing = tx.indicator_find(owner, kind, &observable.value).await?;
        let is_new = existing.is_none();
        let mut row = match existing {
            Some(row) => row,
            None => {
                recorded.new_indicators += 1;
                IndicatorRow {
                    id: new_id(now).to_string(),
                    owner_org_id: owner.to_owned(),
                    kind: kind.to_owned(),
                    value: observable.value.clone(),
                    tlp: sighting.tlp.as_str().to_owned(),
                    confidence: 0,
                    first_seen: seen.clone(),
                    last_seen: seen.clone(),
                    sightings: 0,
                    expires_at: None,
                    description: String::new(),
                    created_at: time::format(now),
                    updated_at: time::format(now),
                }
            }
        };
        // A new row is saved first: the sighting refers to it.
        if is_new {
            tx.indicator_save(&row).await?;
        }
        let fresh = tx
            .indicator_sighting_insert(&SightingRow {
                indicator_id: row.id.clone(),
                seen_at: seen.clone(),
                source: sighting.source.clone(),
            })
            .await?;
        if !fresh {
            continue;
        }
        recorded.new_sightings += 1;
        row.sightings += 1;
        let label = row.tlp.parse::<Tlp>().unwrap_or(Tlp::Amber).max(sighting.tlp);
        row.tlp = label.as_str().to_owned();
        row.confidence = row.confidence.max(i64::from(sighting.confidence.min(100)));
        row.first_seen = row.first_seen.clone().min(seen.clone());
        row.last_seen = row.last_seen.clone().max(seen);
        if let Some(expiry) = sighting.expires_at.map(time::format) {
            row.expires_at = Some(row.expires_at.clone().map_or(expiry.clone(), |e| e.max(expiry)));
        }
        if row.description.is_empty() && !sighting.description.trim().is_empty() {
            row.description = sighting.description.trim().chars().take(500).collect();
        }
        row.updated_at = time::format(now);
        tx.indicator_save(&row).await?;
    }
    Ok(recorded)
}

/// CSV with a header row.
pub fn csv(views: &[IndicatorView]) -> String {
    let mut out = String::from("kind,value,tlp,confidence,score,first_seen,last_seen,sightings,expires_at,warning\n");
    for v in views {
        let field = |text: &str| {
            if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
        };
        out.push_str(&format!(
            "{},{},{},{},{:.1},{},{},{},{},{}\n",
            v.row.kind,
            field(&v.row.value),
            v.row.tlp,
            v.row.confidence,
            v.score,
            v.row.first_seen,
            v.row.last_seen,
            v.row.sightings,
            v.row.expires_at.as_deref().unwrap_or(""),
            field(v.warning.unwrap_or("")),
        ));
    }
    out
}

/// A plain block list, one value a line: `ip` gives addresses and
/// networks (for firewalls), `domain` domains (for DNS resolvers' block
/// or response-policy lists). Lines starting `#` say what it is.
pub fn blocklist(views: &[IndicatorView], family: &str, now: DateTime<Utc>) -> Result<String, IntelError> {
    let kinds: &[&str] = match family {
        "ip" => &["ipv4", "ipv6", "cidr"],
        "domain" => &["domain"],
        other => return Err(IntelError::Invalid { path: "family".into(), message: format!("{other:?} is not ip or domain") }),
    };
    let mut out = format!("# Rampart block list ({family}), {}\n", time::format(now));
    let mut values: Vec<&str> = views.iter().filter(|v| kinds.contains(&v.row.kind.as_str())).map(|v| v.row.value.as_str()).collect();
    values.sort_unstable();
    values.dedup();
    for value in values {
        out.push_str(value);
        out.push('\n');
    }
    Ok(out)
}

fn pattern(kind: &str, value: &str) -> Option<String> {
    let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
    Some(match kind {
        "ipv4" => format!("[ipv4-addr:value = '{quoted}']"),
        "ipv6" => format!("[ipv6-addr:value = '{quoted}']"),
        "cidr" if value.contains(':') => format!("[ipv6-addr:value ISSUBSET '{quoted}']"),
        "cidr" => format!("[ipv4-addr:value ISSUBSET '{quoted}']"),
        "domain" => format!("[domain-name:value = '{quoted}']"),
        "url" => format!("[url:value = '{quoted}']"),
        "email" => format!("[email-addr:value = '{quoted}']"),
        "md5" => format!("[file:hashes.'MD5' = '{quoted}']"),
        "sha1" => format!("[file:hashes.'SHA-1' = '{quoted}']"),
        "sha256" => format!("[file:hashes.'SHA-256' = '{quoted}']"),
        _ => return None,
    })
}

/// A STIX 2.1 bundle: an indicator per row (its id stable for the row),
/// with the TLP 2.0 marking definitions used.
pub fn stix_bundle(views: &[IndicatorView], now: DateTime<Utc>) -> Value {
    let stamp = |text: &str| time::parse(text).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()).unwrap_or_default();
    let mut objects = Vec::new();
    let mut labels = std::collections::BTreeSet::new();
    for v in views {
        let Some(pattern) = pattern(&v.row.kind, &v.row.value) else { continue };
        let tlp = v.row.tlp.parse::<Tlp>().unwrap_or(Tlp::Amber);
        labels.insert(tlp);
        let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, v.row.id.as_bytes());
        let mut indicator = json!({
            "type": "indicator", "spec_version": "2.1", "id": format!("indicator--{id}"),
            "created": stamp(&v.row.created_at), "modified": stamp(&v.row.updated_at),
            "name": format!("{} {}", v.row.kind, v.row.value), "indicator_types": ["malicious-activity"],
            "pattern": pattern, "pattern_type": "stix", "valid_from": stamp(&v.row.first_seen),
            "confidence": v.row.confidence, "object_marking_refs": [marking_id(tlp)],
        });
        if let Some(until) = v.row.expires_at.as_deref().map(stamp).filter(|u| u > &stamp(&v.row.first_seen)) {
            indicator["valid_until"] = json!(until);
        }
        if !v.row.description.is_empty() {
            indicator["description"] = json!(v.row.description);
        }
        objects.push(indicator);
    }
    objects.extend(labels.into_iter().map(marking_definition));
    let bundle_id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, time::format(now).as_bytes());
    json!({"type": "bundle", "id": format!("bundle--{bundle_id}"), "objects": objects})
}

/// The listed indicators as MISP events (one event for the store, its
/// uuid stable for the owner), for a MISP feed: through STIX, so the
/// mapping is `misp_export`'s.
pub fn misp_events(views: &[IndicatorView], owner: &crate::misp_export::Publisher, now: DateTime<Utc>) -> Vec<Value> {
    let bundle = stix_bundle(views, now);
    let objects: Vec<crate::stix::Object> = bundle["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| crate::stix::Object::from_value(o.clone(), "object").ok())
        .collect();
    crate::misp_export::events(&objects, &format!("indicators/{}", owner.uuid), &format!("{} indicators", owner.name), owner)
}
