//! Stored hash lists: each owned by an organisation, labelled with TLP and
//! shared with named organisations; imported and exported in the CSV and
//! JSON shapes of hash-sharing programmes; fed from assessed reports; and
//! matched against, through one in-memory index rebuilt when a list
//! changes.
//!
//! Images given for matching are decoded, hashed and dropped here; neither
//! they nor their pixels outlive the call.

use crate::CopError;
use crate::error::invalid;
use crate::hashlist::{self, Entry, HashType};
use crate::matcher::{MIN_QUALITY, Matcher};
use crate::pdq::{self, Hash256};
use crate::{decode, hotline};
use chrono::DateTime;
use chrono::Utc;
use rampart_auth::Principal;
use rampart_auth::access::{Shareable, Target, can_see};
use rampart_auth::service::Actor;
use rampart_core::{Clock, Permission, Tlp, new_id, time};
use rampart_store::hotline::{HashEntryRow, HashListRow};
use rampart_store::{Store, StoreError};
use serde::Serialize;
use serde_json::json;
use std::sync::{Arc, Mutex};

/// The default matching radius for PDQ (Meta's recommended threshold).
pub const DEFAULT_RADIUS: u32 = 31;

#[derive(Debug, Clone, Default)]
pub struct NewList {
    pub org_id: String,
    pub name: String,
    pub source: String,
    pub tlp: String,
    pub description: String,
}

/// A list entry that matched.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ListHit {
    pub list_id: String,
    pub list_name: String,
    pub kind: String,
    pub hash: String,
    pub tags: Vec<String>,
    pub distance: u32,
}

/// What matching an image found; the image itself is gone.
#[derive(Debug, Clone, Serialize)]
pub struct ImageMatch {
    pub pdq: String,
    pub quality: u32,
    pub md5: String,
    pub sha256: String,
    pub hits: Vec<ListHit>,
}

/// The index over every stored entry, and the list of each entry.
struct Built {
    version: String,
    matcher: Matcher,
    list_of_entry: Vec<String>,
}

pub struct HashLists {
    store: Store,
    clock: Arc<dyn Clock>,
    built: Mutex<Option<Arc<Built>>>,
}

fn owner_target(list: &HashListRow) -> Target<'_> {
    Target::Org { id: &list.org_id, country: None }
}

fn parse_tlp(text: &str) -> Result<Tlp, CopError> {
    text.parse::<Tlp>().map_err(|_| invalid("tlp", format!("`{text}` is not a TLP label (clear, green, amber, amber+strict, red)")))
}

/// Hex digests of the bytes, for exact matching.
pub fn digests(bytes: &[u8]) -> (String, String) {
    use sha2::Digest as _;
    (data_encoding::HEXLOWER.encode(&md5::Md5::digest(bytes)), data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(bytes)))
}

impl HashLists {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> HashLists {
        HashLists { store, clock, built: Mutex::new(None) }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// May `principal` read (and match against) this list? Its managers
    /// always; others who match hashes when TLP lets them.
    pub fn may_read(principal: &Principal, list: &HashListRow) -> bool {
        if principal.allows(Permission::HashListManage, owner_target(list)) {
            return true;
        }
        let tlp = list.tlp.parse::<Tlp>().unwrap_or(Tlp::Red);
        principal.has(Permission::HashMatch)
            && can_see(
                Some(principal),
                &Shareable {
                    tlp,
                    owner_org: &list.org_id,
                    shared_with: &list.shared_with,
                    recipients: &[],
                    author: Some(&list.created_by),
                },
            )
    }

    pub fn may_manage(principal: &Principal, list: &HashListRow) -> bool {
        principal.allows(Permission::HashListManage, owner_target(list))
    }

    /// The lists `principal` may read.
    pub async fn visible(&self, principal: &Principal) -> Result<Vec<HashListRow>, CopError> {
        Ok(self.store.hash_lists().await?.into_iter().filter(|l| Self::may_read(principal, l)).collect())
    }

    /// One list, if `principal` may read it; otherwise "not found".
    pub async fn get(&self, principal: &Principal, id: &str) -> Result<HashListRow, CopError> {
        self.store
            .hash_lists()
            .await?
            .into_iter()
            .find(|l| l.id == id && Self::may_read(principal, l))
            .ok_or(CopError::NotFound("hash list"))
    }

    pub async fn entries(&self, principal: &Principal, id: &str) -> Result<(HashListRow, Vec<HashEntryRow>), CopError> {
        let list = self.get(principal, id).await?;
        let entries = self.store.hash_entries_of(&list.id).await?;
        Ok((list, entries))
    }

    pub async fn create(&self, actor: &Actor<'_>, new: &NewList) -> Result<HashListRow, CopError> {
        let org = match self.store.org_get(&new.org_id).await {
            Ok(org) => org,
            Err(StoreError::NotFound { .. }) => return Err(invalid("org_id", format!("no organisation `{}`", new.org_id))),
            Err(err) => return Err(err.into()),
        };
        if !actor.principal.allows(Permission::HashListManage, Target::Org { id: &org.id, country: org.country.as_deref() }) {
            return Err(CopError::Forbidden);
        }
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(invalid("name", "must be 1 to 200 characters"));
        }
        let tlp = parse_tlp(&new.tlp)?;
        let now = self.now();
        let at = time::format(now);
        let row = HashListRow {
            id: new_id(now).to_string(),
            org_id: org.id.clone(),
            name: name.to_owned(),
            source: new.source.trim().chars().take(500).collect(),
            tlp: tlp.as_str().to_owned(),
            description: new.description.trim().chars().take(5000).collect(),
            created_by: actor.principal.user_id.clone(),
            created_at: at.clone(),
            updated_at: at,
            shared_with: Vec::new(),
            entry_count: 0,
        };
        let mut tx = self.store.begin().await?;
        tx.hash_list_insert(&row).await?;
        tx.audit(actor.entry("cop.hashlist.create", "hash_list", Some(&row.id), json!({"name": row.name, "tlp": row.tlp})), now).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn managed(&self, principal: &Principal, id: &str) -> Result<HashListRow, CopError> {
        let list = self.get(principal, id).await?;
        if !Self::may_manage(principal, &list) {
            return Err(CopError::Forbidden);
        }
        Ok(list)
    }

    async fn add(
        &self,
        actor: &Actor<'_>,
        list: &HashListRow,
        entries: &[Entry],
        item_id: Option<&str>,
        how: &str,
    ) -> Result<u64, CopError> {
        let now = self.now();
        let at = time::format(now);
        let rows: Vec<HashEntryRow> = entries
            .iter()
            .map(|e| HashEntryRow {
                list_id: list.id.clone(),
                kind: e.kind.as_str().into(),
                hash: e.hash.clone(),
                tags: e.tags.join(";"),
                added_at: at.clone(),
                added_by: Some(actor.principal.user_id.clone()).filter(|u| !u.is_empty()),
                item_id: item_id.map(str::to_owned),
            })
            .collect();
        let mut tx = self.store.begin().await?;
        let added = tx.hash_entries_add(&list.id, &rows, &at).await?;
        tx.audit(actor.entry(how, "hash_list", Some(&list.id), json!({"given": rows.len(), "added": added, "item": item_id})), now).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Imports a CSV or JSON hash list into a list; all or nothing, every
    /// bad row named. Returns how many hashes were new.
    pub async fn import(&self, actor: &Actor<'_>, id: &str, text: &str, json: bool) -> Result<u64, CopError> {
        let list = self.managed(actor.principal, id).await?;
        let parsed = if json { hashlist::parse_json(text) } else { hashlist::parse_csv(text) };
        let entries = parsed.map_err(|errors| CopError::Rows(errors.into_iter().map(|e| format!("{}: {}", e.at, e.message)).collect()))?;
        if entries.len() > 1_000_000 {
            return Err(invalid("file", "at most 1,000,000 hashes per import"));
        }
        self.add(actor, &list, &entries, None, "cop.hashlist.import").await
    }

    /// Adds the hashes an analyst recorded on an assessed item.
    pub async fn add_item(&self, actor: &Actor<'_>, id: &str, item: &rampart_store::hotline::HotlineItemRow) -> Result<u64, CopError> {
        let list = self.managed(actor.principal, id).await?;
        if item.outcome.as_deref().and_then(|o| hotline::Outcome::parse(o).ok()).is_none_or(|o| !o.is_illegal()) {
            return Err(invalid("item", "only hashes of content assessed as illegal go on a list"));
        }
        let mut entries = Vec::new();
        let tags = vec![format!("item:{}", item.id)];
        for (kind, hash) in [(HashType::Pdq, &item.pdq), (HashType::Md5, &item.md5), (HashType::Sha256, &item.sha256)] {
            if let Some(hash) = hash {
                entries.push(Entry { hash: hash.clone(), kind, tags: tags.clone() });
            }
        }
        if entries.is_empty() {
            return Err(invalid("item", "the item has no hashes yet; hash the material first"));
        }
        self.add(actor, &list, &entries, Some(&item.id), "cop.hashlist.add_item").await
    }

    /// The list as CSV or JSON. TLP is enforced by [`HashLists::get`], and
    /// every export is audited.
    pub async fn export(&self, actor: &Actor<'_>, id: &str, json: bool) -> Result<(HashListRow, String), CopError> {
        let (list, rows) = self.entries(actor.principal, id).await?;
        let entries: Vec<Entry> = rows
            .iter()
            .filter_map(|r| {
                Some(Entry {
                    hash: r.hash.clone(),
                    kind: HashType::parse(&r.kind)?,
                    tags: r.tags.split(';').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
                })
            })
            .collect();
        let text = if json { hashlist::to_json(&entries) } else { hashlist::to_csv(&entries) };
        let mut tx = self.store.begin().await?;
        let format = if json { "json" } else { "csv" };
        tx.audit(
            actor.entry("cop.hashlist.export", "hash_list", Some(&list.id), json!({"format": format, "entries": entries.len()})),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok((list, text))
    }

    /// Shares the list with an organisation, or stops sharing it.
    pub async fn share(&self, actor: &Actor<'_>, id: &str, org_id: &str, shared: bool) -> Result<(), CopError> {
        let list = self.managed(actor.principal, id).await?;
        let org = match self.store.org_get(org_id).await {
            Ok(org) => org,
            Err(StoreError::NotFound { .. }) => return Err(invalid("org_id", format!("no organisation `{org_id}`"))),
            Err(err) => return Err(err.into()),
        };
        if org.id == list.org_id {
            return Err(invalid("org_id", "a list is always visible to its own organisation"));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        tx.hash_list_share(&list.id, &org.id, shared).await?;
        let action = if shared { "cop.hashlist.share" } else { "cop.hashlist.unshare" };
        tx.audit(actor.entry(action, "hash_list", Some(&list.id), json!({"org": org.id})), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The index over every stored entry, rebuilt when the lists changed.
    async fn built(&self) -> Result<Arc<Built>, CopError> {
        let version = self.store.hash_lists_version().await?;
        if let Ok(guard) = self.built.lock()
            && let Some(built) = guard.as_ref()
            && built.version == version
        {
            return Ok(built.clone());
        }
        let rows = self.store.hash_entries_all().await?;
        let mut entries = Vec::with_capacity(rows.len());
        let mut list_of_entry = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(kind) = HashType::parse(&row.kind) else { continue };
            entries.push(Entry { hash: row.hash, kind, tags: row.tags.split(';').filter(|t| !t.is_empty()).map(str::to_owned).collect() });
            list_of_entry.push(row.list_id);
        }
        let built = Arc::new(Built { version, matcher: Matcher::new(entries), list_of_entry });
        if let Ok(mut guard) = self.built.lock() {
            *guard = Some(built.clone());
        }
        Ok(built)
    }

    fn hits(&self, built: &Built, visible: &[HashListRow], raw: Vec<crate::matcher::Hit>) -> Vec<ListHit> {
        raw.into_iter()
            .filter_map(|hit| {
                let entry = built.matcher.entry(hit.entry)?;
                let list_id = built.list_of_entry.get(hit.entry)?;
                let list = visible.iter().find(|l| &l.id == list_id)?;
                Some(ListHit {
                    list_id: list.id.clone(),
                    list_name: list.name.clone(),
                    kind: entry.kind.as_str().into(),
                    hash: entry.hash.clone(),
                    tags: entry.tags.clone(),
                    distance: hit.distance,
                })
            })
            .collect()
    }

    fn require_match(principal: &Principal) -> Result<(), CopError> {
        if principal.has(Permission::HashMatch) || principal.has(Permission::HashListManage) { Ok(()) } else { Err(CopError::Forbidden) }
    }

    /// Looks up a PDQ, MD5 or SHA-256 hash in the lists `principal` may read.
    pub async fn match_hash(&self, principal: &Principal, text: &str, radius: u32) -> Result<Vec<ListHit>, CopError> {
        Self::require_match(principal)?;
        let text = text.trim().to_ascii_lowercase();
        let built = self.built().await?;
        let raw = match text.len() {
            32 if text.bytes().all(|b| b.is_ascii_hexdigit()) => built.matcher.exact(HashType::Md5, &text),
            64 => {
                let hash: Hash256 = text.parse().map_err(|_| invalid("hash", "is not 64 hexadecimal digits"))?;
                let mut raw = built.matcher.pdq(&[hash], radius.min(64));
                raw.extend(built.matcher.exact(HashType::Sha256, &text));
                raw
            }
            _ => return Err(invalid("hash", "give a PDQ or SHA-256 hash (64 hexadecimal digits) or an MD5 (32)")),
        };
        let visible = self.visible(principal).await?;
        Ok(self.hits(&built, &visible, raw))
    }

    /// Hashes an image in memory (PDQ with its eight rotations and flips,
    /// MD5, SHA-256), drops it, and looks the hashes up.
    pub async fn match_image(&self, principal: &Principal, bytes: Vec<u8>, radius: u32) -> Result<ImageMatch, CopError> {
        Self::require_match(principal)?;
        let (md5, sha256) = digests(&bytes);
        let (variants, quality) = {
            let image = decode::for_hashing(&bytes)?;
            drop(bytes);
            pdq::dihedral_decoded(&image)?
        };
        let built = self.built().await?;
        let mut raw = if quality >= MIN_QUALITY { built.matcher.pdq(&variants, radius.min(64)) } else { Vec::new() };
        raw.extend(built.matcher.exact(HashType::Md5, &md5));
        raw.extend(built.matcher.exact(HashType::Sha256, &sha256));
        let visible = self.visible(principal).await?;
        // The first variant is the image as given.
        Ok(ImageMatch { pdq: variants[0].to_string(), quality, md5, sha256, hits: self.hits(&built, &visible, raw) })
    }
}
