//! The advisory desk: drafts written and edited by a CIRT's analysts,
//! releases published by its managers, and what readers and the CSAF
//! provider layout may see of them.
//!
//! Who sees what:
//! - the working copy (drafts, unpublished edits): holders of
//!   `AdvisoryWrite` over the owning CIRT;
//! - a release: the TLP rule of `rampart_auth::access::can_see`, where the
//!   organisations an AMBER advisory is shared with are the CIRT's
//!   constituency (its child organisations and, for a national CIRT, the
//!   organisations of its country).

use crate::CirtError;
use crate::advisory::{self, Digest, General, Publisher};
use crate::csaf::{self, Problem};
use crate::desk::{Desk, DeskError, audit_entry};
use crate::provider::Listed;
use rampart_auth::Principal;
use rampart_auth::access::{Shareable, Target, can_see};
use rampart_auth::service::Actor;
use rampart_core::{OrgKind, Permission, Tlp, new_id, time};
use rampart_store::advisories::{AdvisoryRow, ReleaseRow};
use rampart_store::{AuditEntry, Organisation, StoreError};
use serde::Serialize;
use serde_json::{Value, json};

/// Largest CSAF document accepted (the biggest real advisories are a few MiB).
pub const MAX_DOCUMENT_BYTES: usize = 8 * 1024 * 1024;

/// An advisory as a page or API response shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AdvisoryView {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    /// The document shown: the working copy for its authors, the current
    /// release for everyone else.
    pub document: Value,
    pub digest: Digest,
    pub releases: Vec<ReleaseRow>,
    /// Schema and mandatory-test problems of the shown document.
    pub problems: Vec<Problem>,
    /// The working copy differs from the current release.
    pub unpublished_changes: bool,
    pub may_edit: bool,
    pub may_publish: bool,
}

fn audit(actor: &Actor<'_>, action: &str, id: &str, summary: Value) -> AuditEntry {
    audit_entry(actor, action, "advisory", id, summary)
}

fn parse_document(text: &str) -> Result<Value, DeskError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(CirtError::Field { path: "document".into(), message: "larger than 8 MiB".into() }.into());
    }
    let value: Value = serde_json::from_str(text).map_err(|err| CirtError::Field {
        path: "document".into(),
        message: format!("not JSON: {err} (line {}, column {})", err.line(), err.column()),
    })?;
    if !value.is_object() {
        return Err(CirtError::Field { path: "document".into(), message: "a CSAF document is a JSON object".into() }.into());
    }
    Ok(value)
}

fn text_at<'a>(document: &'a Value, pointer: &str) -> Option<&'a str> {
    document.pointer(pointer).and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty())
}

impl Desk {
    fn org_target(org: &Organisation) -> Target<'_> {
        Target::Org { id: &org.id, country: org.country.as_deref() }
    }

    /// The CIRT an author writes for: the one named, or their own
    /// organisation.
    async fn advisory_org(&self, principal: &Principal, org_id: Option<&str>, permission: Permission) -> Result<Organisation, DeskError> {
        let org = self.org(org_id.unwrap_or(&principal.org_id)).await?;
        if principal.allows(permission, Self::org_target(&org)) { Ok(org) } else { Err(DeskError::Forbidden) }
    }

    fn publisher(&self, org: &Organisation) -> Publisher {
        Publisher { name: org.name.clone(), namespace: self.public_url().to_owned(), contact_details: None }
    }

    /// The next tracking id of a CIRT for the current year:
    /// `<SHORT NAME or COUNTRY-CIRT>-<year>-<nnnn>`.
    async fn next_tracking_id(&self, org: &Organisation) -> Result<String, DeskError> {
        let stem = org
            .short_name
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| format!("{}-CIRT", org.country.clone().unwrap_or_else(|| "RAMPART".into())));
        let stem: String = stem.to_uppercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        use chrono::Datelike;
        let prefix = format!("{stem}-{}-", self.now().year());
        // The highest number in use, not a count: imported documents may
        // have taken any number.
        let highest = self
            .store()
            .advisory_ids_with_prefix(&org.id, &prefix)
            .await?
            .iter()
            .filter_map(|id| id.get(prefix.len()..)?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        Ok(format!("{prefix}{:04}", highest + 1))
    }

    /// Starts a draft advisory for a CIRT.
    pub async fn create_advisory(&self, actor: &Actor<'_>, org_id: Option<&str>, general: &General) -> Result<AdvisoryRow, DeskError> {
        let org = self.advisory_org(actor.principal, org_id, Permission::AdvisoryWrite).await?;
        let now = self.now();
        let tracking_id = self.next_tracking_id(&org).await?;
        let document = advisory::new_document(&self.publisher(&org), &tracking_id, general, now)?;
        self.insert_advisory(actor, &org, &tracking_id, general.tlp, &document, "cirt.advisory.create").await
    }

    /// Brings an existing CSAF document in as a draft, kept exactly as
    /// given. It must parse and carry a tracking id and a title; its TLP is
    /// the document's, or `tlp` when it has none.
    pub async fn import_advisory(
        &self,
        actor: &Actor<'_>,
        org_id: Option<&str>,
        text: &str,
        tlp: Option<Tlp>,
    ) -> Result<AdvisoryRow, DeskError> {
        let org = self.advisory_org(actor.principal, org_id, Permission::AdvisoryWrite).await?;
        let document = parse_document(text)?;
        let tracking_id = text_at(&document, "/document/tracking/id")
            .ok_or_else(|| CirtError::Field { path: "/document/tracking/id".into(), message: "missing".into() })?
            .to_owned();
        text_at(&document, "/document/title")
            .ok_or_else(|| CirtError::Field { path: "/document/title".into(), message: "missing".into() })?;
        let tlp = advisory::tlp_of(&document).or(tlp).ok_or_else(|| CirtError::Field {
            path: "/document/distribution/tlp/label".into(),
            message: "the document has no TLP label; choose one".into(),
        })?;
        if self.store().advisory_by_tracking_id(&org.id, &tracking_id).await?.is_some() {
            return Err(StoreError::Conflict {
                field: "tracking_id",
                message: format!("{tracking_id} is already an advisory of {}", org.name),
            }
            .into());
        }
        // Tracking ids that differ only in case or punctuation share a file
        // name in the provider layout (CSAF 5.1); one would hide the other.
        let file = advisory::file_name(&tracking_id);
        let same_org = self.store().advisory_list(Some(std::slice::from_ref(&org.id)), false, i64::MAX).await?;
        if let Some(other) = same_org.iter().find(|row| advisory::file_name(&row.tracking_id) == file) {
            return Err(StoreError::Conflict {
                field: "tracking_id",
                message: format!("{tracking_id} would be published as {file}, the file of {}", other.tracking_id),
            }
            .into());
        }
        self.insert_advisory(actor, &org, &tracking_id, tlp, &document, "cirt.advisory.import").await
    }

    async fn insert_advisory(
        &self,
        actor: &Actor<'_>,
        org: &Organisation,
        tracking_id: &str,
        tlp: Tlp,
        document: &Value,
        action: &str,
    ) -> Result<AdvisoryRow, DeskError> {
        let now = self.now();
        let at = time::format(now);
        let row = AdvisoryRow {
            id: new_id(now).to_string(),
            org_id: org.id.clone(),
            tracking_id: tracking_id.to_owned(),
            title: text_at(document, "/document/title").unwrap_or("").to_owned(),
            tlp: tlp.as_str().to_owned(),
            document: document.to_string(),
            created_by: actor.principal.user_id.clone(),
            created_at: at.clone(),
            updated_at: at,
            released_version: None,
            released_at: None,
            revision: 0,
        };
        let mut tx = self.store().begin().await?;
        tx.advisory_insert(&row).await?;
        tx.audit(audit(actor, action, &row.id, json!({"tracking_id": row.tracking_id, "org": org.id, "tlp": row.tlp})), now).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn advisory_row(&self, id: &str) -> Result<AdvisoryRow, DeskError> {
        match self.store().advisory_get(id).await {
            Ok(row) => Ok(row),
            Err(StoreError::NotFound { .. }) => Err(DeskError::NotFound("advisory")),
            Err(err) => Err(err.into()),
        }
    }

    /// Whether `viewer` may read the releases of an advisory of `org`
    /// labelled `tlp`, written by `author`.
    async fn may_read_release(&self, viewer: Option<&Principal>, org: &Organisation, tlp: Tlp, author: &str) -> Result<bool, DeskError> {
        if let Some(viewer) = viewer
            && viewer.allows(Permission::AdvisoryWrite, Self::org_target(org))
        {
            return Ok(true);
        }
        let mut shared_with = Vec::new();
        if let Some(viewer) = viewer
            && matches!(tlp, Tlp::Amber | Tlp::AmberStrict)
            && let Ok(viewer_org) = self.org(&viewer.org_id).await
        {
            let child = viewer_org.parent_id.as_deref() == Some(org.id.as_str());
            let national = org.kind == OrgKind::NationalCirt.as_str() && org.country.is_some() && org.country == viewer_org.country;
            if child || national {
                shared_with.push(viewer.org_id.clone());
            }
        }
        let record = Shareable { tlp, owner_org: &org.id, shared_with: &shared_with, recipients: &[], author: Some(author) };
        Ok(can_see(viewer, &record))
    }

    /// An advisory as `viewer` may see it: its authors get the working copy,
    /// readers the current release. Drafts and releases a reader may not see
    /// are "not found", so their existence does not leak.
    pub async fn advisory(&self, viewer: Option<&Principal>, id: &str) -> Result<AdvisoryView, DeskError> {
        let row = self.advisory_row(id).await?;
        let org = self.org(&row.org_id).await?;
        let target = Self::org_target(&org);
        let may_edit = viewer.is_some_and(|v| v.allows(Permission::AdvisoryWrite, target));
        let may_publish = viewer.is_some_and(|v| v.allows(Permission::AdvisoryPublish, target));
        let releases = self.store().releases_of(&row.id).await?;
        let released = match (&row.released_version, releases.last()) {
            (Some(version), Some(_)) => Some(self.store().release_content(&row.id, version).await?),
            _ => None,
        };
        let document = if may_edit {
            parse_document(&row.document)?
        } else {
            let Some((release, content)) = &released else { return Err(DeskError::NotFound("advisory")) };
            let tlp: Tlp = release.tlp.parse().map_err(|_| StoreError::InvalidData(format!("advisory TLP {}", release.tlp)))?;
            if !self.may_read_release(viewer, &org, tlp, &row.created_by).await? {
                return Err(DeskError::NotFound("advisory"));
            }
            parse_document(content)?
        };
        let unpublished_changes = match &released {
            Some((_, content)) => parse_document(content)? != parse_document(&row.document)?,
            None => true,
        };
        let problems = if may_edit { csaf::check(&document) } else { Vec::new() };
        Ok(AdvisoryView {
            id: row.id,
            org_id: org.id.clone(),
            org_name: org.name.clone(),
            digest: advisory::digest(&document),
            document,
            // Who pressed "publish" is the CIRT's business, not its readers'.
            releases: if may_edit {
                releases
            } else {
                releases.into_iter().map(|r| ReleaseRow { released_by: String::new(), ..r }).collect()
            },
            problems,
            unpublished_changes: may_edit && unpublished_changes,
            may_edit,
            may_publish,
        })
    }

    /// Advisories `viewer` may see, newest change first: all of the CIRTs
    /// they write for, and the published ones TLP lets them read.
    pub async fn advisories(&self, viewer: Option<&Principal>) -> Result<Vec<(AdvisoryRow, Digest)>, DeskError> {
        self.listed(viewer, false, 1000, usize::MAX).await
    }

    /// The newest published advisories `viewer` may read, at most `limit`
    /// (for the home page: it stops reading once it has them).
    pub async fn latest_published(&self, viewer: Option<&Principal>, limit: usize) -> Result<Vec<(AdvisoryRow, Digest)>, DeskError> {
        self.listed(viewer, true, 1000, limit).await
    }

    /// Up to `limit` of the newest `scan` advisories (published only, with
    /// `released`) that `viewer` may see.
    async fn listed(
        &self,
        viewer: Option<&Principal>,
        released: bool,
        scan: i64,
        limit: usize,
    ) -> Result<Vec<(AdvisoryRow, Digest)>, DeskError> {
        let rows = self.store().advisory_list(None, released, scan).await?;
        let mut out = Vec::new();
        let mut orgs: std::collections::HashMap<String, Organisation> = std::collections::HashMap::new();
        for row in rows {
            if out.len() >= limit {
                break;
            }
            if !orgs.contains_key(&row.org_id) {
                let org = self.org(&row.org_id).await?;
                orgs.insert(org.id.clone(), org);
            }
            let Some(org) = orgs.get(&row.org_id) else { continue };
            let author = viewer.is_some_and(|v| v.allows(Permission::AdvisoryWrite, Self::org_target(org)));
            if author {
                let digest = advisory::digest(&parse_document(&row.document)?);
                out.push((row, digest));
                continue;
            }
            let Some(version) = row.released_version.clone() else { continue };
            let (release, content) = self.store().release_content(&row.id, &version).await?;
            let tlp: Tlp = release.tlp.parse().map_err(|_| StoreError::InvalidData(format!("advisory TLP {}", release.tlp)))?;
            if self.may_read_release(viewer, org, tlp, &row.created_by).await? {
                // Readers get the release, never the working copy.
                let document = parse_document(&content)?;
                let digest = advisory::digest(&document);
                let row = AdvisoryRow {
                    title: digest.title.clone(),
                    tlp: release.tlp.clone(),
                    document: content,
                    updated_at: release.released_at.clone(),
                    ..row
                };
                out.push((row, digest));
            }
        }
        Ok(out)
    }

    /// Applies a structured change to the working copy.
    pub async fn edit_advisory<F>(&self, actor: &Actor<'_>, id: &str, action: &str, change: F) -> Result<AdvisoryRow, DeskError>
    where
        F: FnOnce(&mut Value) -> Result<Value, CirtError>,
    {
        self.edit_labelled(actor, id, action, None, change).await
    }

    /// `label` sets the local TLP when the document's CSAF label cannot say
    /// it (AMBER+STRICT is AMBER in CSAF 2.0).
    async fn edit_labelled<F>(
        &self,
        actor: &Actor<'_>,
        id: &str,
        action: &str,
        label: Option<Tlp>,
        change: F,
    ) -> Result<AdvisoryRow, DeskError>
    where
        F: FnOnce(&mut Value) -> Result<Value, CirtError>,
    {
        let row = self.advisory_row(id).await?;
        let org = self.org(&row.org_id).await?;
        if !actor.principal.allows(Permission::AdvisoryWrite, Self::org_target(&org)) {
            return Err(DeskError::NotFound("advisory"));
        }
        let mut document = parse_document(&row.document)?;
        let detail = change(&mut document)?;
        self.save_working_copy(actor, &row, &document, action, detail, label).await
    }

    /// Replaces the working copy with a whole document (the JSON editor).
    /// The tracking id cannot change: it names the advisory's files.
    pub async fn replace_advisory_document(&self, actor: &Actor<'_>, id: &str, text: &str) -> Result<AdvisoryRow, DeskError> {
        let replacement = parse_document(text)?;
        self.edit_advisory(actor, id, "cirt.advisory.replace", move |document| {
            let before = document.pointer("/document/tracking/id").cloned();
            if replacement.pointer("/document/tracking/id") != before.as_ref() {
                return Err(CirtError::Field {
                    path: "/document/tracking/id".into(),
                    message: "the tracking id of an advisory cannot change".into(),
                });
            }
            advisory::tlp_of(&replacement).ok_or_else(|| CirtError::Field {
                path: "/document/distribution/tlp/label".into(),
                message: "an advisory needs a TLP label (WHITE, GREEN, AMBER or RED)".into(),
            })?;
            *document = replacement;
            Ok(json!({"replaced": true}))
        })
        .await
    }

    async fn save_working_copy(
        &self,
        actor: &Actor<'_>,
        row: &AdvisoryRow,
        document: &Value,
        action: &str,
        detail: Value,
        label: Option<Tlp>,
    ) -> Result<AdvisoryRow, DeskError> {
        let now = self.now();
        let at = time::format(now);
        let title = text_at(document, "/document/title").unwrap_or("").to_owned();
        let from_document = advisory::tlp_of(document).map(|t| t.as_str().to_owned()).unwrap_or_else(|| row.tlp.clone());
        let tlp = match label {
            Some(label) => label.as_str().to_owned(),
            // A record labelled AMBER+STRICT stays so while CSAF says AMBER.
            None if from_document == "AMBER" && row.tlp == "AMBER+STRICT" => row.tlp.clone(),
            None => from_document,
        };
        let text = document.to_string();
        let mut tx = self.store().begin().await?;
        tx.advisory_update(&row.id, row.revision, &title, &tlp, &text, &at).await?;
        tx.audit(audit(actor, action, &row.id, json!({"tracking_id": row.tracking_id, "change": detail})), now).await?;
        tx.commit().await?;
        Ok(AdvisoryRow { title, tlp, document: text, updated_at: at, revision: row.revision + 1, ..row.clone() })
    }

    /// Sets title, TLP, summary and references.
    pub async fn set_advisory_general(&self, actor: &Actor<'_>, id: &str, general: &General) -> Result<AdvisoryRow, DeskError> {
        self.edit_labelled(actor, id, "cirt.advisory.general", Some(general.tlp), |document| {
            advisory::set_general(document, general)?;
            Ok(json!({"title": general.title, "tlp": general.tlp}))
        })
        .await
    }

    /// Publishes the working copy as the next release: status final, next
    /// version, a revision-history entry. Refused with every problem if the
    /// result is not a valid CSAF document.
    pub async fn publish_advisory(&self, actor: &Actor<'_>, id: &str, summary: &str) -> Result<ReleaseRow, DeskError> {
        let row = self.advisory_row(id).await?;
        let org = self.org(&row.org_id).await?;
        let target = Self::org_target(&org);
        if !actor.principal.allows(Permission::AdvisoryWrite, target) {
            return Err(DeskError::NotFound("advisory"));
        }
        if !actor.principal.allows(Permission::AdvisoryPublish, target) {
            return Err(DeskError::Forbidden);
        }
        let now = self.now();
        let working = parse_document(&row.document)?;
        let released = advisory::release(&working, summary, now).map_err(DeskError::Document)?;
        let digest = advisory::digest(&released);
        let content = serde_json::to_string_pretty(&released).map_err(|err| StoreError::InvalidData(err.to_string()))?;
        use sha2::Digest as _;
        let release = ReleaseRow {
            advisory_id: row.id.clone(),
            version: digest.version.clone(),
            released_at: time::format(now),
            released_by: actor.principal.email.clone(),
            tlp: row.tlp.clone(),
            year: i64::from(digest.year),
            file_name: advisory::file_name(&row.tracking_id),
            sha256: data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(content.as_bytes())),
            sha512: data_encoding::HEXLOWER.encode(&sha2::Sha512::digest(content.as_bytes())),
            signature: self.signer().map(|signer| signer.sign(content.as_bytes())).transpose()?,
        };
        let mut tx = self.store().begin().await?;
        tx.advisory_update(&row.id, row.revision, &digest.title, &row.tlp, &released.to_string(), &release.released_at).await?;
        tx.advisory_release(&release, &content).await?;
        tx.audit(
            audit(
                actor,
                "cirt.advisory.publish",
                &row.id,
                json!({"tracking_id": row.tracking_id, "version": release.version, "sha256": release.sha256}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(release)
    }

    /// The organisation publishing under `key` (its id or short name), for
    /// the provider layout.
    pub async fn provider_org(&self, key: &str) -> Result<Organisation, DeskError> {
        if let Ok(org) = self.org(key).await {
            return Ok(org);
        }
        let matches = self.store().org_by_short_name(key).await?;
        matches.ok_or(DeskError::NotFound("provider"))
    }

    /// The current releases of a CIRT's advisories that `viewer` may read,
    /// with the label each was released under.
    pub async fn provider_releases(&self, viewer: Option<&Principal>, org: &Organisation) -> Result<Vec<(ReleaseRow, Tlp)>, DeskError> {
        let mut out = Vec::new();
        for release in self.store().current_releases(&org.id).await? {
            let tlp: Tlp = release.tlp.parse().map_err(|_| StoreError::InvalidData(format!("advisory TLP {}", release.tlp)))?;
            let row = self.advisory_row(&release.advisory_id).await?;
            if self.may_read_release(viewer, org, tlp, &row.created_by).await? {
                out.push((release, tlp));
            }
        }
        Ok(out)
    }

    /// The CIRT whose provider metadata `/.well-known/csaf/` serves: the
    /// first to have published here.
    pub async fn primary_provider(&self) -> Result<Organisation, DeskError> {
        let id = self.store().first_publisher().await?.ok_or(DeskError::NotFound("provider"))?;
        self.org(&id).await
    }

    /// The publisher object of a CIRT's provider metadata: as its newest
    /// release states it (metadata and documents must agree), else as new
    /// documents would.
    pub async fn provider_publisher(&self, org: &Organisation) -> Result<Value, DeskError> {
        if let Some(newest) = self.store().current_releases(&org.id).await?.first() {
            let (_, content) = self.store().release_content(&newest.advisory_id, &newest.version).await?;
            if let Some(publisher) = parse_document(&content)?.pointer("/document/publisher") {
                return Ok(publisher.clone());
            }
        }
        Ok(json!({"category": "coordinator", "name": org.name, "namespace": self.public_url()}))
    }

    /// The current releases `viewer` may read, with what the layout and the
    /// feeds show of each.
    pub async fn provider_listing(&self, viewer: Option<&Principal>, org: &Organisation) -> Result<Vec<Listed>, DeskError> {
        let mut out = Vec::new();
        for (release, tlp) in self.provider_releases(viewer, org).await? {
            let (_, content) = self.store().release_content(&release.advisory_id, &release.version).await?;
            let document = parse_document(&content)?;
            let digest = advisory::digest(&document);
            let summary = document
                .pointer("/document/notes")
                .and_then(Value::as_array)
                .and_then(|notes| notes.iter().find(|n| n.get("category").and_then(Value::as_str) == Some("summary")))
                .and_then(|n| n.get("text").and_then(Value::as_str))
                .unwrap_or("")
                .to_owned();
            out.push(Listed {
                release,
                tlp,
                tracking_id: digest.tracking_id,
                title: digest.title,
                initial_release_date: digest.initial_release_date,
                summary,
                publisher: document.pointer("/document/publisher/name").and_then(Value::as_str).unwrap_or(&org.name).to_owned(),
            });
        }
        Ok(out)
    }

    /// The content of a current release by its place in the provider layout.
    pub async fn provider_file(
        &self,
        viewer: Option<&Principal>,
        org: &Organisation,
        folder: &str,
        year: i64,
        file_name: &str,
    ) -> Result<(ReleaseRow, String), DeskError> {
        let found = self
            .provider_releases(viewer, org)
            .await?
            .into_iter()
            .find(|(r, tlp)| advisory::tlp_folder(*tlp) == folder && r.year == year && r.file_name == file_name);
        let (release, _) = found.ok_or(DeskError::NotFound("advisory"))?;
        Ok(self.store().release_content(&release.advisory_id, &release.version).await?)
    }
}
