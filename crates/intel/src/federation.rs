//! Federation: a Rampart instance pulls a peer's TAXII collection into a
//! local one and pushes a local collection to the peer, so a national
//! instance shares with a regional or coordinating one and receives from
//! it. Peers are declared in the server's configuration; where each one
//! has got to is kept in the store (migration 0012), so a run resumes
//! after a restart and nothing is fetched or offered twice.
//!
//! A peer names a local account whose rights apply through the one access
//! layer: pulled objects are added to the local collection as that account
//! (it must be allowed to write there), pushed objects are read as it (so
//! it sees only what its TLP allows). Pushing further stops at the peer's
//! TLP ceiling (CLEAR, GREEN or AMBER); TLP:AMBER+STRICT and TLP:RED never
//! leave the instance. What was pulled from a peer is not pushed back to
//! it, and adding is idempotent on both sides, so nothing is stored twice.

use crate::IntelError;
use crate::client::{Credentials, TaxiiClient};
use crate::taxii::{Filter, Taxii};
use rampart_auth::service::{Actor, AuthService};
use rampart_auth::{Principal, Via};
use rampart_core::Tlp;
use rampart_store::taxii::PeerStateRow;
use serde::Serialize;
use serde_json::{Value, json};

/// Objects asked for or sent per request.
const BATCH: usize = 500;
/// A run stops after this many pages either way and carries on next time,
/// so one peer cannot hold the scheduler.
const MAX_PAGES_PER_RUN: usize = 200;

/// A peer TAXII server and what to exchange with it.
#[derive(Debug, Clone)]
pub struct Peer {
    /// A short name, unique among peers; the key of its state.
    pub name: String,
    /// The peer's API root, e.g. `https://regional.example/taxii2/api/`.
    pub api_root: String,
    pub remote_collection: String,
    pub local_collection: String,
    pub pull: bool,
    pub push: bool,
    /// The e-mail address of the local account whose rights apply.
    pub account: String,
    pub credentials: Credentials,
    /// The most restrictive TLP pushed to the peer: CLEAR, GREEN or AMBER.
    pub max_tlp: Tlp,
    pub interval_seconds: u64,
}

impl Peer {
    /// Checks what a configuration file cannot: the TLP ceiling and the URL.
    pub fn check(&self) -> Result<(), IntelError> {
        if self.max_tlp > Tlp::Amber {
            return Err(IntelError::Invalid {
                path: "max_tlp".into(),
                message: format!("{} is never shared with another instance; use CLEAR, GREEN or AMBER", self.max_tlp.as_str()),
            });
        }
        if !self.pull && !self.push {
            return Err(IntelError::Invalid { path: "direction".into(), message: "choose pull, push or both".into() });
        }
        TaxiiClient::new(&self.api_root, &self.credentials).map(|_| ())
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub peer: String,
    pub pulled: u64,
    pub pushed: u64,
    /// `pulled`: versions new here; `pushed`: versions the peer accepted.
    /// Objects one side refused, as `id: reason`.
    pub failures: Vec<String>,
    pub state: PeerStateRow,
}

pub struct Federation {
    auth: AuthService,
    taxii: Taxii,
}

fn count(status: &Value, failures: &mut Vec<String>, side: &str) -> u64 {
    for failure in status.get("failures").and_then(Value::as_array).into_iter().flatten() {
        let id = failure.get("id").and_then(Value::as_str).unwrap_or("?");
        let message = failure.get("message").and_then(Value::as_str).unwrap_or("refused");
        failures.push(format!("{side} {id}: {message}"));
    }
    status.get("success_count").and_then(Value::as_u64).unwrap_or(0)
}

impl Federation {
    pub fn new(auth: AuthService) -> Federation {
        let taxii = Taxii::new(auth.store().clone(), auth.clock());
        Federation { auth, taxii }
    }

    async fn account(&self, peer: &Peer) -> Result<Principal, IntelError> {
        let invalid = |message: String| IntelError::Invalid { path: "account".into(), message };
        let user = self.auth.store().user_by_email(&peer.account).await?.ok_or_else(|| invalid(format!("no user {}", peer.account)))?;
        if user.disabled {
            return Err(invalid(format!("{} is disabled", peer.account)));
        }
        self.auth.principal_for(&user, Via::Cli, None).await.map_err(|err| invalid(err.to_string()))
    }

    pub async fn states(&self) -> Result<Vec<PeerStateRow>, IntelError> {
        Ok(self.auth.store().taxii_peer_states().await?)
    }

    async fn save(&self, state: &PeerStateRow) -> Result<(), IntelError> {
        Ok(self.auth.store().taxii_peer_state_save(state).await?)
    }

    /// Pulls, then pushes, as the peer says; the state records the outcome
    /// (an error included) whatever happens.
    pub async fn sync(&self, peer: &Peer) -> Result<SyncReport, IntelError> {
        let mut report =
            SyncReport { peer: peer.name.clone(), state: self.auth.store().taxii_peer_state(&peer.name).await?, ..SyncReport::default() };
        // The account acts in the exchange and signs its audit entry; a
        // missing one is itself the run's error.
        let (principal, outcome) = match self.account(peer).await {
            Ok(principal) => {
                let outcome = self.exchange(peer, &principal, &mut report).await;
                (principal, outcome)
            }
            Err(err) => (Principal::cli("federation"), Err(err)),
        };
        report.state.last_run_at = Some(self.auth.now().to_rfc3339());
        report.state.last_error = outcome.as_ref().err().map(ToString::to_string);
        self.save(&report.state).await?;
        let summary = json!({"peer": peer.name, "pulled": report.pulled, "pushed": report.pushed,
            "failures": report.failures.len(), "error": report.state.last_error});
        if report.pulled + report.pushed > 0 || !report.failures.is_empty() || outcome.is_err() {
            let mut tx = self.auth.store().begin().await?;
            let actor = Actor { principal: &principal, ip: None };
            tx.audit(actor.entry("intel.federation.sync", "taxii_collection", Some(&peer.local_collection), summary), self.auth.now())
                .await?;
            tx.commit().await?;
        }
        outcome.map(|()| report)
    }

    async fn exchange(&self, peer: &Peer, principal: &Principal, report: &mut SyncReport) -> Result<(), IntelError> {
        peer.check()?;
        let client = TaxiiClient::new(&peer.api_root, &peer.credentials)?;
        if peer.pull {
            self.pull(peer, &client, principal, report).await?;
        }
        if peer.push {
            self.push(peer, &client, principal, report).await?;
        }
        Ok(())
    }

    async fn pull(&self, peer: &Peer, client: &TaxiiClient, principal: &Principal, report: &mut SyncReport) -> Result<(), IntelError> {
        let actor = Actor { principal, ip: None };
        // The query's added_after stays fixed for the run: a peer's `next`
        // belongs to the query that produced it.
        let since = report.state.pulled_until.clone();
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES_PER_RUN {
            let page = client.objects(&peer.remote_collection, since.as_deref(), next.as_deref(), BATCH).await?;
            if !page.objects.is_empty() {
                let envelope = json!({ "objects": page.objects }).to_string();
                let (status, stored) = self.taxii.add_from(&actor, &peer.local_collection, &envelope, Some(&peer.name)).await?;
                // What we sent the peer comes back in its collection; only new versions count.
                count(&status, &mut report.failures, "pulled");
                report.pulled += stored;
                report.state.pulled_total += i64::try_from(stored).unwrap_or(i64::MAX);
            }
            if let Some(last) = page.last_added.filter(|last| report.state.pulled_until.as_ref().is_none_or(|seen| last > seen)) {
                report.state.pulled_until = Some(last);
            }
            self.save(&report.state).await?;
            match page.next {
                Some(token) if page.more => next = Some(token),
                _ => break,
            }
        }
        Ok(())
    }

    async fn push(&self, peer: &Peer, client: &TaxiiClient, principal: &Principal, report: &mut SyncReport) -> Result<(), IntelError> {
        let mut filter = Filter {
            added_after: report.state.pushed_until.clone(),
            versions: vec!["all".into()],
            limit: Some(BATCH),
            ..Filter::default()
        };
        for _ in 0..MAX_PAGES_PER_RUN {
            let page = self.taxii.objects(principal, &peer.local_collection, &filter).await?;
            let objects: Vec<Value> = page
                .objects
                .iter()
                // What came from this peer does not go back to it.
                .filter(|row| row.source.as_deref() != Some(peer.name.as_str()))
                .filter(|row| match row.tlp.as_deref() {
                    None => true,
                    Some(tlp) => tlp.parse::<Tlp>().is_ok_and(|tlp| tlp <= peer.max_tlp),
                })
                .filter_map(|row| serde_json::from_str(&row.body).ok())
                .collect();
            if !objects.is_empty() {
                let status = client.add(&peer.remote_collection, &objects).await?;
                let accepted = count(&status, &mut report.failures, "pushed");
                report.pushed += accepted;
                report.state.pushed_total += i64::try_from(accepted).unwrap_or(i64::MAX);
            }
            if let Some(last) = &page.last_added {
                report.state.pushed_until = Some(last.clone());
            }
            self.save(&report.state).await?;
            if !page.more {
                break;
            }
            filter.next = page.next;
        }
        Ok(())
    }
}
