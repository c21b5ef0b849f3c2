//! TAXII 2.1 collections over the store: who may read and write each one,
//! adding objects with a status resource, and getting them back with the
//! specification's filters (`added_after`, `match[id]`, `match[type]`,
//! `match[version]`, `match[spec_version]`) and pagination, plus versions,
//! the manifest and deletion. The HTTP face comes with the web routes.
//!
//! Access: a collection belongs to an organisation; its readers and
//! writers are organisations (or `*`, the whole community). Reading needs
//! `IntelRead`, adding `IntelWrite`, creating `IntelManage` over the
//! owner. Within a collection each object is served only to whom its TLP
//! allows (`rampart_auth::access::can_see`, with the readers as the
//! organisations it was shared with): TLP:RED objects are never served
//! over TAXII, since they go to named people only.

use crate::IntelError;
use crate::markings::object_tlp;
use crate::stix::{self, Content, Object, Severity};
use chrono::{DateTime, Duration, Utc};
use rampart_auth::Principal;
use rampart_auth::access::{Shareable, Target, can_see};
use rampart_auth::service::Actor;
use rampart_core::{Clock, Permission, Tlp};
use rampart_store::taxii::{CollectionRow, ObjectQuery, ObjectRow, PageText, SharingGroupRow, StatusRow, Versions};
use rampart_store::{Store, StoreError};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// The most objects one page returns, whatever `limit` asks.
pub const MAX_PAGE: usize = 1000;
pub const DEFAULT_PAGE: usize = 100;
/// The most objects one POST may carry.
pub const MAX_OBJECTS_PER_POST: usize = 10_000;

#[derive(Debug, Clone, Serialize)]
pub struct Collection {
    pub row: CollectionRow,
    pub can_read: bool,
    pub can_write: bool,
    /// The organisations that read and write it, sharing groups expanded
    /// to their members (`*`: everyone).
    pub readers: Vec<String>,
    pub writers: Vec<String>,
}

/// Entries of a collection's reader and writer lists that name a sharing
/// group start with this, then the group's id.
pub const GROUP_PREFIX: &str = "group:";

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub added_after: Option<String>,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    /// `last` (the default), `first`, `all`, or versions (timestamps).
    pub versions: Vec<String>,
    pub spec_versions: Vec<String>,
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    pub next: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub objects: Vec<ObjectRow>,
    pub more: bool,
    pub next: Option<String>,
    /// For the `X-TAXII-Date-Added-First` and `-Last` headers.
    pub first_added: Option<String>,
    pub last_added: Option<String>,
}

pub struct Taxii {
    store: Store,
    clock: Arc<dyn Clock>,
    /// The collections as last read, and when: every TAXII request needs
    /// them, and they change rarely. Dropped by this process's own changes;
    /// another process's show within [`COLLECTIONS_CACHE_SECONDS`].
    rows: std::sync::Mutex<Option<CachedRows>>,
}

/// The collections and sharing groups, and when they were read.
type CachedRows = (DateTime<Utc>, Arc<Vec<CollectionRow>>, Arc<Vec<SharingGroupRow>>);

/// How long the list of collections is used without reading it again.
pub const COLLECTIONS_CACHE_SECONDS: i64 = 2;

fn list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The store query for a page request's filters, without a limit.
fn page_query<'a>(collection_id: &'a str, filter: &'a Filter, tlps: &'a [String], start: Option<&'a str>) -> ObjectQuery<'a> {
    ObjectQuery {
        collection_id,
        after: start,
        object_ids: &filter.ids,
        types: &filter.types,
        spec_versions: &filter.spec_versions,
        versions: versions_wanted(&filter.versions),
        tlps: Some(tlps),
        limit: None,
    }
}

fn stamp(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl Collection {
    fn allows(principal: &Principal, listed: &[String], permission: Permission, owner: &str) -> bool {
        principal.has(permission) && (principal.org_id == owner || listed.iter().any(|o| o == "*" || *o == principal.org_id))
    }

    /// A list with its sharing groups replaced by their members. Only the
    /// collection owner's own groups count: another organisation's group
    /// would let it change who reads this collection.
    fn expand(listed: &str, owner: &str, groups: &[SharingGroupRow]) -> Vec<String> {
        let mut orgs = Vec::new();
        for entry in list(listed) {
            match entry.strip_prefix(GROUP_PREFIX) {
                Some(id) => {
                    if let Some(group) = groups.iter().find(|g| g.id == id && g.owner_org_id == owner) {
                        orgs.extend(list(&group.members));
                    }
                }
                None => orgs.push(entry),
            }
        }
        orgs.sort();
        orgs.dedup();
        orgs
    }

    fn of(row: CollectionRow, principal: &Principal, groups: &[SharingGroupRow]) -> Collection {
        let readers = Self::expand(&row.readers, &row.owner_org_id, groups);
        let writers = Self::expand(&row.writers, &row.owner_org_id, groups);
        let can_read = Self::allows(principal, &readers, Permission::IntelRead, &row.owner_org_id);
        let can_write = Self::allows(principal, &writers, Permission::IntelWrite, &row.owner_org_id);
        Collection { row, can_read, can_write, readers, writers }
    }
}

impl Taxii {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Taxii {
        Taxii { store, clock, rows: std::sync::Mutex::new(None) }
    }

    fn cached_rows(&self) -> std::sync::MutexGuard<'_, Option<CachedRows>> {
        self.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every collection and sharing group, from the cache when it is fresh.
    async fn collection_rows(&self) -> Result<(Arc<Vec<CollectionRow>>, Arc<Vec<SharingGroupRow>>), IntelError> {
        let now = self.clock.now();
        if let Some((read_at, rows, groups)) = self.cached_rows().as_ref()
            && now >= *read_at
            && now - *read_at < chrono::Duration::seconds(COLLECTIONS_CACHE_SECONDS)
        {
            return Ok((rows.clone(), groups.clone()));
        }
        let rows = Arc::new(self.store.taxii_collections().await?);
        let groups = Arc::new(self.store.sharing_groups().await?);
        *self.cached_rows() = Some((now, rows.clone(), groups.clone()));
        Ok((rows, groups))
    }

    fn forget_collections(&self) {
        *self.cached_rows() = None;
    }

    pub async fn create_collection(
        &self,
        actor: &Actor<'_>,
        title: &str,
        description: &str,
        readers: &[String],
        writers: &[String],
    ) -> Result<CollectionRow, IntelError> {
        let principal = actor.principal;
        let org = self.store.org_get(&principal.org_id).await?;
        if !principal.allows(Permission::IntelManage, Target::Org { id: &org.id, country: org.country.as_deref() }) {
            return Err(IntelError::Forbidden);
        }
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(IntelError::Invalid { path: "title".into(), message: "must be 1 to 200 characters".into() });
        }
        self.check_lists(&org.id, readers, writers).await?;
        let now = self.clock.now();
        let row = CollectionRow {
            id: uuid::Uuid::new_v4().to_string(),
            title: title.to_owned(),
            description: description.trim().to_owned(),
            owner_org_id: org.id.clone(),
            readers: serde_json::to_string(readers).unwrap_or_else(|_| "[]".into()),
            writers: serde_json::to_string(writers).unwrap_or_else(|_| "[]".into()),
            created_at: stamp(now),
        };
        let mut tx = self.store.begin().await?;
        tx.taxii_collection_insert(&row).await?;
        tx.audit(
            actor.entry("intel.collection.create", "taxii_collection", Some(&row.id), json!({"readers": readers, "writers": writers})),
            now,
        )
        .await?;
        tx.commit().await?;
        self.forget_collections();
        Ok(row)
    }

    /// Checks reader and writer lists: organisations that exist, `*`, and
    /// sharing groups of the collection's owner.
    async fn check_lists(&self, owner: &str, readers: &[String], writers: &[String]) -> Result<(), IntelError> {
        let groups = self.store.sharing_groups().await?;
        for (field, entries) in [("readers", readers), ("writers", writers)] {
            for entry in entries.iter().filter(|o| *o != "*") {
                if let Some(id) = entry.strip_prefix(GROUP_PREFIX) {
                    if !groups.iter().any(|g| g.id == id && g.owner_org_id == owner) {
                        return Err(IntelError::Invalid {
                            path: field.into(),
                            message: format!("no sharing group {id} of the collection's owner"),
                        });
                    }
                } else if matches!(self.store.org_get(entry).await, Err(StoreError::NotFound { .. })) {
                    return Err(IntelError::Invalid { path: field.into(), message: format!("no organisation {entry}") });
                }
            }
        }
        Ok(())
    }

    /// The sharing groups of the principal's organisation.
    pub async fn sharing_groups(&self, principal: &Principal) -> Result<Vec<SharingGroupRow>, IntelError> {
        if !principal.has(Permission::IntelRead) && !principal.has(Permission::IntelManage) {
            return Err(IntelError::Forbidden);
        }
        let (_, groups) = self.collection_rows().await?;
        Ok(groups.iter().filter(|g| g.owner_org_id == principal.org_id).cloned().collect())
    }

    /// Checks a group's name and members and that the actor manages the
    /// owner's intelligence.
    async fn check_group(&self, actor: &Actor<'_>, owner: &str, members: &[String]) -> Result<String, IntelError> {
        let org = self.store.org_get(owner).await?;
        if !actor.principal.allows(Permission::IntelManage, Target::Org { id: &org.id, country: org.country.as_deref() }) {
            return Err(IntelError::Forbidden);
        }
        for member in members {
            if matches!(self.store.org_get(member).await, Err(StoreError::NotFound { .. })) {
                return Err(IntelError::Invalid { path: "members".into(), message: format!("no organisation {member}") });
            }
        }
        let mut members: Vec<String> = members.to_vec();
        members.sort();
        members.dedup();
        Ok(serde_json::to_string(&members).unwrap_or_else(|_| "[]".into()))
    }

    /// Creates a named sharing group of the actor's organisation.
    pub async fn create_group(&self, actor: &Actor<'_>, name: &str, members: &[String]) -> Result<SharingGroupRow, IntelError> {
        let owner = actor.principal.org_id.clone();
        let members = self.check_group(actor, &owner, members).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(IntelError::Invalid { path: "name".into(), message: "must be 1 to 100 characters".into() });
        }
        let now = self.clock.now();
        let row = SharingGroupRow {
            id: uuid::Uuid::new_v4().to_string(),
            owner_org_id: owner,
            name: name.to_owned(),
            members,
            created_at: stamp(now),
            updated_at: stamp(now),
        };
        let mut tx = self.store.begin().await?;
        tx.sharing_group_insert(&row).await.map_err(|err| match err {
            StoreError::Conflict { .. } => {
                IntelError::Invalid { path: "name".into(), message: format!("a sharing group named {name} exists") }
            }
            other => other.into(),
        })?;
        tx.audit(
            actor.entry("intel.group.create", "sharing_group", Some(&row.id), json!({"name": row.name, "members": list(&row.members)})),
            now,
        )
        .await?;
        tx.commit().await?;
        self.forget_collections();
        Ok(row)
    }

    /// Replaces a sharing group's members; every collection given to the
    /// group follows at once.
    pub async fn set_group_members(&self, actor: &Actor<'_>, group_id: &str, members: &[String]) -> Result<(), IntelError> {
        let groups = self.store.sharing_groups().await?;
        let group = groups.iter().find(|g| g.id == group_id).ok_or(IntelError::NotFound("sharing group"))?;
        let members = self.check_group(actor, &group.owner_org_id, members).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.sharing_group_members(group_id, &members, &stamp(now)).await?;
        tx.audit(
            actor.entry(
                "intel.group.members",
                "sharing_group",
                Some(group_id),
                json!({"before": list(&group.members), "after": list(&members)}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.forget_collections();
        Ok(())
    }

    /// Whether the principal manages the collection (`IntelManage` over its owner).
    pub async fn may_manage(&self, principal: &Principal, collection: &CollectionRow) -> Result<bool, IntelError> {
        let org = self.store.org_get(&collection.owner_org_id).await?;
        Ok(principal.allows(Permission::IntelManage, Target::Org { id: &org.id, country: org.country.as_deref() }))
    }

    /// Replaces who reads and writes a collection; its managers only.
    /// Objects already served stay served; what is added later follows the new lists.
    pub async fn set_access(
        &self,
        actor: &Actor<'_>,
        collection_id: &str,
        readers: &[String],
        writers: &[String],
    ) -> Result<CollectionRow, IntelError> {
        let mut row =
            self.store.taxii_collections().await?.into_iter().find(|c| c.id == collection_id).ok_or(IntelError::NotFound("collection"))?;
        if !self.may_manage(actor.principal, &row).await? {
            // Whoever cannot manage it learns no more than whether they may read it.
            let groups = self.store.sharing_groups().await?;
            return Err(if Collection::of(row, actor.principal, &groups).can_read {
                IntelError::Forbidden
            } else {
                IntelError::NotFound("collection")
            });
        }
        self.check_lists(&row.owner_org_id, readers, writers).await?;
        let before = json!({"readers": list(&row.readers), "writers": list(&row.writers)});
        row.readers = serde_json::to_string(readers).unwrap_or_else(|_| "[]".into());
        row.writers = serde_json::to_string(writers).unwrap_or_else(|_| "[]".into());
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.taxii_collection_access(&row.id, &row.readers, &row.writers).await?;
        tx.audit(
            actor.entry(
                "intel.collection.access",
                "taxii_collection",
                Some(&row.id),
                json!({"before": before, "after": {"readers": readers, "writers": writers}}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.forget_collections();
        Ok(row)
    }

    /// The collections the principal may read or write.
    pub async fn collections(&self, principal: &Principal) -> Result<Vec<Collection>, IntelError> {
        let (rows, groups) = self.collection_rows().await?;
        Ok(rows.iter().map(|row| Collection::of(row.clone(), principal, &groups)).filter(|c| c.can_read || c.can_write).collect())
    }

    /// One collection; one the principal may neither read nor write is "not found".
    pub async fn collection(&self, principal: &Principal, id: &str) -> Result<Collection, IntelError> {
        let (rows, groups) = self.collection_rows().await?;
        rows.iter()
            .find(|row| row.id == id)
            .map(|row| Collection::of(row.clone(), principal, &groups))
            .filter(|c| c.can_read || c.can_write)
            .ok_or(IntelError::NotFound("collection"))
    }

    /// Adds the objects of an envelope (`{"objects": [...]}`) or a bundle.
    /// Each object succeeds or fails on its own; the status resource says
    /// which, and is kept for `status`.
    pub async fn add(&self, actor: &Actor<'_>, collection_id: &str, document: &str) -> Result<Value, IntelError> {
        Ok(self.add_from(actor, collection_id, document, None).await?.0)
    }

    /// As [`Taxii::add`], recording the peer the objects were pulled from;
    /// also says how many versions were new here.
    pub async fn add_from(
        &self,
        actor: &Actor<'_>,
        collection_id: &str,
        document: &str,
        source: Option<&str>,
    ) -> Result<(Value, u64), IntelError> {
        let collection = self.collection(actor.principal, collection_id).await?;
        if !collection.can_write {
            return Err(IntelError::Forbidden);
        }
        if document.len() > stix::MAX_DOCUMENT_BYTES {
            return Err(IntelError::TooLarge { size: document.len(), limit: stix::MAX_DOCUMENT_BYTES });
        }
        let value: Value = serde_json::from_str(document).map_err(|err| IntelError::Syntax {
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        })?;
        let Some(items) = value.get("objects").and_then(Value::as_array) else {
            return Err(IntelError::Invalid { path: "$.objects".into(), message: "an envelope needs an objects list".into() });
        };
        if items.len() > MAX_OBJECTS_PER_POST {
            return Err(IntelError::Invalid {
                path: "$.objects".into(),
                message: format!("at most {MAX_OBJECTS_PER_POST} objects per request"),
            });
        }
        // Parsing and checking happen before the transaction: the single
        // writer is held only for the inserts.
        let now = self.clock.now();
        let mut failures = Vec::new();
        let mut accepted: Vec<(Object, String)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("objects[{i}]");
            let object = match Object::from_value(item.clone(), &path) {
                Ok(object) => object,
                Err(err) => {
                    failures.push(json!({"id": item.get("id").cloned().unwrap_or(Value::Null), "message": err.to_string()}));
                    continue;
                }
            };
            let problems = stix::validate(&Content::Object(object.clone()));
            if let Some(problem) = problems.iter().find(|p| p.severity == Severity::Error) {
                failures
                    .push(json!({"id": object.id, "message": format!("{}: {}", problem.path.replacen('$', &path, 1), problem.message)}));
                continue;
            }
            let version = object.get("modified").or(object.get("created")).and_then(Value::as_str).map(str::to_owned).unwrap_or_default();
            accepted.push((object, version));
        }
        let mut tx = self.store.begin().await?;
        // date_added strictly increases within a collection, so pages never skip.
        let mut added = tx.taxii_last_added(collection_id).await?.and_then(|t| stix::timestamp(&t)).map_or(now, |last| last.max(now));
        let mut rows = Vec::with_capacity(accepted.len());
        let mut successes = Vec::with_capacity(accepted.len());
        for (object, version) in &accepted {
            added += Duration::microseconds(1);
            let date_added = stamp(added);
            let version = if version.is_empty() { date_added.clone() } else { version.clone() };
            successes.push(json!({"id": object.id, "version": version}));
            rows.push(ObjectRow {
                collection_id: collection_id.to_owned(),
                object_id: object.id.clone(),
                version,
                spec_version: object.get("spec_version").and_then(Value::as_str).unwrap_or("2.1").to_owned(),
                object_type: object.kind.clone(),
                tlp: object_tlp(object).map(|t| t.as_str().to_owned()),
                date_added,
                body: object.to_value().to_string(),
                source: source.map(str::to_owned),
            });
        }
        // A version already stored counts as a success: adding is idempotent.
        let new = tx.taxii_objects_insert(&rows).await?.into_iter().filter(|fresh| *fresh).count() as u64;
        let status_id = uuid::Uuid::new_v4().to_string();
        let status = json!({
            "id": status_id, "status": "complete", "request_timestamp": stamp(now),
            "total_count": items.len(), "success_count": successes.len(), "failure_count": failures.len(), "pending_count": 0,
            "successes": successes, "failures": failures,
        });
        let row = StatusRow {
            id: status_id.clone(),
            collection_id: collection_id.to_owned(),
            body: status.to_string(),
            created_by: actor.principal.user_id.clone(),
            created_at: stamp(now),
        };
        tx.taxii_status_insert(&row).await?;
        let summary = json!({"added": status["success_count"], "new": new, "failed": status["failure_count"], "source": source});
        tx.audit(actor.entry("intel.objects.add", "taxii_collection", Some(collection_id), summary), now).await?;
        tx.commit().await?;
        Ok((status, new))
    }

    pub async fn status(&self, principal: &Principal, id: &str) -> Result<Value, IntelError> {
        let row = self.store.taxii_status(id).await.map_err(|_| IntelError::NotFound("status"))?;
        let collection = self.collection(principal, &row.collection_id).await.map_err(|_| IntelError::NotFound("status"))?;
        if !collection.can_read && !collection.can_write {
            return Err(IntelError::NotFound("status"));
        }
        serde_json::from_str(&row.body).map_err(|err| IntelError::Invalid { path: "status".into(), message: err.to_string() })
    }

    /// The TLP labels the principal may see in this collection (the
    /// readers count as the organisations it was shared with); unmarked
    /// objects are always visible to readers. TLP:RED never is, since it
    /// goes to named people only.
    fn visible_tlps(principal: &Principal, collection: &Collection) -> Result<Vec<String>, IntelError> {
        if !collection.can_read {
            return Err(IntelError::Forbidden);
        }
        let shared_with: Vec<String> = collection.readers.iter().filter(|o| *o != "*").cloned().collect();
        Ok([Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red]
            .into_iter()
            .filter(|tlp| {
                can_see(
                    Some(principal),
                    &Shareable {
                        tlp: *tlp,
                        owner_org: &collection.row.owner_org_id,
                        shared_with: &shared_with,
                        recipients: &[],
                        author: None,
                    },
                )
            })
            .map(|tlp| tlp.as_str().to_owned())
            .collect())
    }

    /// Objects matching `filter`, a page at a time. The database applies
    /// every filter and the TLP check, so a page costs the same however
    /// large the collection.
    pub async fn objects(&self, principal: &Principal, collection_id: &str, filter: &Filter) -> Result<Page, IntelError> {
        let (tlps, start, limit) = self.page_bounds(principal, collection_id, filter).await?;
        let query = ObjectQuery { limit: Some(limit + 1), ..page_query(collection_id, filter, &tlps, start) };
        let mut objects = self.store.taxii_query(&query).await?;
        let more = objects.len() > limit;
        objects.truncate(limit);
        Ok(Page {
            more,
            next: if more { objects.last().map(|o| o.date_added.clone()) } else { None },
            first_added: objects.first().map(|o| o.date_added.clone()),
            last_added: objects.last().map(|o| o.date_added.clone()),
            objects,
        })
    }

    /// What a page request may see and where it starts: the TLP labels
    /// the principal may read here, the `date_added` to start after, and
    /// the page size.
    async fn page_bounds<'f>(
        &self,
        principal: &Principal,
        collection_id: &str,
        filter: &'f Filter,
    ) -> Result<(Vec<String>, Option<&'f str>, usize), IntelError> {
        let collection = self.collection(principal, collection_id).await?;
        if let Some(after) = filter.added_after.as_deref()
            && stix::timestamp(after).is_none()
        {
            return Err(IntelError::Invalid { path: "added_after".into(), message: format!("{after:?} is not a timestamp") });
        }
        let tlps = Self::visible_tlps(principal, &collection)?;
        // `next` is the date_added of the last object of the previous page.
        let start = match (&filter.next, &filter.added_after) {
            (Some(next), _) => Some(next.as_str()),
            (None, after) => after.as_deref(),
        };
        Ok((tlps, start, filter.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)))
    }

    /// The same page as [`Taxii::objects`], with the objects' bodies joined
    /// by the database into one string (for the envelope, the hot path);
    /// `next` is the last `date_added` when more follow.
    pub async fn objects_text(&self, principal: &Principal, collection_id: &str, filter: &Filter) -> Result<PageText, IntelError> {
        let (tlps, start, limit) = self.page_bounds(principal, collection_id, filter).await?;
        Ok(self.store.taxii_page(&page_query(collection_id, filter, &tlps, start), limit).await?)
    }

    /// Every version of one object the principal may see (`versions`
    /// narrows them as `match[version]` does).
    async fn object_versions(
        &self,
        principal: &Principal,
        collection: &Collection,
        object_id: &str,
        versions: &[String],
    ) -> Result<Vec<ObjectRow>, IntelError> {
        let tlps = Self::visible_tlps(principal, collection)?;
        let ids = [object_id.to_owned()];
        Ok(self
            .store
            .taxii_query(&ObjectQuery {
                collection_id: &collection.row.id,
                object_ids: &ids,
                versions: versions_wanted(versions),
                tlps: Some(&tlps),
                ..ObjectQuery::default()
            })
            .await?)
    }

    /// The latest version of every object in a collection the principal may
    /// see, up to `max_tlp` (unmarked objects included).
    pub async fn latest(&self, principal: &Principal, collection_id: &str, max_tlp: Tlp) -> Result<Vec<Object>, IntelError> {
        let collection = self.collection(principal, collection_id).await?;
        let tlps: Vec<String> = Self::visible_tlps(principal, &collection)?
            .into_iter()
            .filter(|tlp| tlp.parse::<Tlp>().is_ok_and(|tlp| tlp <= max_tlp))
            .collect();
        let rows = self
            .store
            .taxii_query(&ObjectQuery {
                collection_id,
                versions: Some(Versions { latest: true, ..Versions::default() }),
                tlps: Some(&tlps),
                ..ObjectQuery::default()
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| serde_json::from_str(&row.body).ok().and_then(|value| Object::from_value(value, "object").ok()))
            .collect())
    }

    /// A collection as MISP events, as the principal may see it up to `max_tlp`.
    pub async fn misp_events(&self, principal: &Principal, collection_id: &str, max_tlp: Tlp) -> Result<Vec<Value>, IntelError> {
        let collection = self.collection(principal, collection_id).await?;
        let objects = self.latest(principal, collection_id, max_tlp).await?;
        let owner = self.store.org_get(&collection.row.owner_org_id).await?;
        let publisher = crate::misp_export::Publisher { name: owner.name, uuid: owner.id };
        Ok(crate::misp_export::events(&objects, &collection.row.id, &collection.row.title, &publisher))
    }

    /// Imports a MISP core-format event into a collection, as STIX (see `misp`).
    pub async fn import_misp(&self, actor: &Actor<'_>, collection_id: &str, document: &str) -> Result<(Value, Vec<String>), IntelError> {
        let import = crate::misp::event_to_stix(document)?;
        let status = self.add(actor, collection_id, &import.bundle.to_string()).await?;
        Ok((status, import.warnings))
    }

    /// The versions of one object, oldest first.
    pub async fn versions(&self, principal: &Principal, collection_id: &str, object_id: &str) -> Result<Vec<String>, IntelError> {
        let collection = self.collection(principal, collection_id).await?;
        let mut versions: Vec<String> =
            self.object_versions(principal, &collection, object_id, &["all".to_owned()]).await?.into_iter().map(|r| r.version).collect();
        if versions.is_empty() {
            return Err(IntelError::NotFound("object"));
        }
        versions.sort();
        Ok(versions)
    }

    /// Deletes an object's versions (those `filter.versions` names, all by default).
    pub async fn delete(&self, actor: &Actor<'_>, collection_id: &str, object_id: &str, filter: &Filter) -> Result<u64, IntelError> {
        let collection = self.collection(actor.principal, collection_id).await?;
        if !collection.can_write || !collection.can_read {
            return Err(IntelError::Forbidden);
        }
        let wanted = if filter.versions.is_empty() { vec!["all".to_owned()] } else { filter.versions.clone() };
        let chosen = self.object_versions(actor.principal, &collection, object_id, &wanted).await?;
        if chosen.is_empty() {
            return Err(IntelError::NotFound("object"));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut deleted = 0;
        for row in &chosen {
            deleted += tx.taxii_object_delete(collection_id, object_id, Some(&row.version)).await?;
        }
        tx.audit(
            actor.entry("intel.object.delete", "taxii_collection", Some(collection_id), json!({"object": object_id, "versions": deleted})),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(deleted)
    }
}

/// `match[version]` as the store takes it: `last` by default, `all` for every version.
fn versions_wanted(wanted: &[String]) -> Option<Versions<'_>> {
    if wanted.iter().any(|w| w == "all") {
        return None;
    }
    if wanted.is_empty() {
        return Some(Versions { latest: true, ..Versions::default() });
    }
    // `last` and `first` in the list of exact versions match no version, so it goes as it is.
    Some(Versions { latest: wanted.iter().any(|w| w == "last"), first: wanted.iter().any(|w| w == "first"), exact: wanted })
}
