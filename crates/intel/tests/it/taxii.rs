use rampart_auth::service::Actor;
use rampart_auth::{AuthConfig, AuthService, NewUserRequest, Principal, Scope, Via};
use rampart_core::{ManualClock, Role};
use rampart_intel::IntelError;
use rampart_intel::taxii::{Filter, Taxii};
use rampart_store::{NewOrg, Store};
use rampart_testkit::stores::each_store;
use serde_json::{Value, json};
use std::sync::Arc;

/// KE-CIRT (a manager and an analyst), GH-CIRT and BR-CIRT (an analyst
/// each), on a manual clock; the indicator tests use it too.
pub struct Env {
    pub taxii: Taxii,
    pub manager: Principal,
    pub analyst: Principal,
    pub partner: Principal,
    pub outsider: Principal,
    pub partner_org: String,
    pub ke_org: String,
    pub clock: ManualClock,
}

pub async fn env(store: Store) -> Env {
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z").expect("time").to_utc();
    let clock = ManualClock::new(t0);
    let auth = AuthService::new(store.clone(), Arc::new(clock.clone()), AuthConfig::default());
    let cli = Principal::cli("test");
    let cli = Actor { principal: &cli, ip: None };
    let org = |name: &str, cc: &str| NewOrg {
        name: name.into(),
        short_name: None,
        kind: "national_cirt".into(),
        sector: None,
        country: Some(cc.into()),
        parent_id: None,
        website: None,
        mfa_required: false,
    };
    let ke = auth.create_org(&cli, &org("KE-CIRT", "KE")).await.expect("org");
    let gh = auth.create_org(&cli, &org("GH-CIRT", "GH")).await.expect("org");
    let br = auth.create_org(&cli, &org("BR-CIRT", "BR")).await.expect("org");
    let user = async |org_id: &str, email: &str, role: Role| {
        let request = NewUserRequest {
            org_id: org_id.into(),
            email: email.into(),
            display_name: email.into(),
            password: "correct horse battery staple".into(),
            language: "en".into(),
            must_change_password: false,
        };
        let id = auth.create_user(&cli, &request).await.expect("user");
        auth.grant_role(&cli, &id, role, Scope::Org(org_id.into())).await.expect("grant");
        auth.principal_for(&auth.store().user_get(&id).await.expect("row"), Via::Session, None).await.expect("principal")
    };
    Env {
        manager: user(&ke.id, "manager@ke.example", Role::CirtManager).await,
        analyst: user(&ke.id, "analyst@ke.example", Role::CirtAnalyst).await,
        partner: user(&gh.id, "analyst@gh.example", Role::CirtAnalyst).await,
        outsider: user(&br.id, "analyst@br.example", Role::CirtAnalyst).await,
        partner_org: gh.id,
        ke_org: ke.id,
        taxii: Taxii::new(store.clone(), Arc::new(clock.clone())),
        clock,
    }
}

fn indicator(id: &str, modified: &str, marking: Option<&str>) -> Value {
    let mut object = json!({
        "type": "indicator", "spec_version": "2.1", "id": id, "created": "2026-01-01T00:00:00.000Z", "modified": modified,
        "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"
    });
    if let Some(marking) = marking {
        object["object_marking_refs"] = json!([marking]);
    }
    object
}

const A: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
const B: &str = "indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

#[tokio::test]
async fn a_collection_takes_objects_and_serves_them_by_filter_page_and_tlp() {
    each_store(|store| async move {
        let e = env(store).await;
        let manager = Actor { principal: &e.manager, ip: None };
        let analyst = Actor { principal: &e.analyst, ip: None };
        // Only a manager creates collections; readers and writers are named organisations.
        let readers = vec![e.partner_org.clone()];
        assert!(matches!(e.taxii.create_collection(&analyst, "x", "", &readers, &[]).await, Err(IntelError::Forbidden)));
        let bad = e.taxii.create_collection(&manager, "x", "", &["nobody".into()], &[]).await.unwrap_err();
        assert!(matches!(bad, IntelError::Invalid { ref path, .. } if path == "readers"), "{bad:?}");
        let collection = e.taxii.create_collection(&manager, "KE-CIRT indicators", "Shared with GH-CIRT", &readers, &[]).await.unwrap();

        // Adding: each object succeeds or fails on its own; repeats are idempotent.
        let envelope = json!({"objects": [
            indicator(A, "2026-01-01T00:00:00.000Z", None),
            indicator(A, "2026-02-01T00:00:00.000Z", Some(AMBER)),
            indicator(B, "2026-01-15T00:00:00.000Z", Some(RED)),
            {"type": "indicator", "id": "indicator--bad"},
            42
        ]});
        let status = e.taxii.add(&analyst, &collection.id, &envelope.to_string()).await.unwrap();
        assert_eq!(
            (status["total_count"].as_u64(), status["success_count"].as_u64(), status["failure_count"].as_u64()),
            (Some(5), Some(3), Some(2))
        );
        assert!(status["failures"][0]["message"].as_str().unwrap().contains("objects[3]"), "{status}");
        assert_eq!(e.taxii.status(&e.analyst, status["id"].as_str().unwrap()).await.unwrap(), status);
        let again = e
            .taxii
            .add(&analyst, &collection.id, &json!({"objects": [indicator(A, "2026-01-01T00:00:00.000Z", None)]}).to_string())
            .await
            .unwrap();
        assert_eq!(again["success_count"], 1);
        assert!(
            matches!(
                e.taxii.add(&Actor { principal: &e.partner, ip: None }, &collection.id, "{\"objects\": []}").await,
                Err(IntelError::Forbidden)
            ),
            "GH-CIRT reads, does not write"
        );
        assert!(matches!(e.taxii.add(&analyst, &collection.id, "{\"objects\": [").await, Err(IntelError::Syntax { .. })));

        // The owner sees the latest version of each object; all versions on request.
        let page = e.taxii.objects(&e.analyst, &collection.id, &Filter::default()).await.unwrap();
        let latest: Vec<(&str, &str)> = page.objects.iter().map(|o| (o.object_id.as_str(), o.version.as_str())).collect();
        assert_eq!(latest, [(A, "2026-02-01T00:00:00.000Z")], "B is TLP:RED: never served over TAXII");
        let all = e.taxii.objects(&e.analyst, &collection.id, &Filter { versions: vec!["all".into()], ..Filter::default() }).await.unwrap();
        assert_eq!(all.objects.len(), 2);
        let first =
            e.taxii.objects(&e.analyst, &collection.id, &Filter { versions: vec!["first".into()], ..Filter::default() }).await.unwrap();
        assert_eq!(first.objects[0].version, "2026-01-01T00:00:00.000Z");
        assert_eq!(
            e.taxii.versions(&e.analyst, &collection.id, A).await.unwrap(),
            ["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"]
        );

        // Pagination with limit and next; added_after.
        let one = e
            .taxii
            .objects(&e.analyst, &collection.id, &Filter { versions: vec!["all".into()], limit: Some(1), ..Filter::default() })
            .await
            .unwrap();
        assert!(one.more);
        let two = e
            .taxii
            .objects(
                &e.analyst,
                &collection.id,
                &Filter { versions: vec!["all".into()], limit: Some(1), next: one.next.clone(), ..Filter::default() },
            )
            .await
            .unwrap();
        assert!(!two.more);
        assert_ne!(one.objects[0].version, two.objects[0].version);
        assert!(one.last_added < two.first_added, "date_added strictly increases");
        let later = Filter { versions: vec!["all".into()], added_after: one.last_added.clone(), ..Filter::default() };
        assert_eq!(e.taxii.objects(&e.analyst, &collection.id, &later).await.unwrap().objects.len(), 1);
        let bad_time = Filter { added_after: Some("yesterday".into()), ..Filter::default() };
        assert!(matches!(e.taxii.objects(&e.analyst, &collection.id, &bad_time).await, Err(IntelError::Invalid { .. })));

        // GH-CIRT reads (the AMBER version included: it was shared with them);
        // BR-CIRT does not even see the collection.
        let partner = e.taxii.objects(&e.partner, &collection.id, &Filter::default()).await.unwrap();
        assert_eq!(partner.objects.len(), 1);
        assert!(matches!(e.taxii.objects(&e.outsider, &collection.id, &Filter::default()).await, Err(IntelError::NotFound("collection"))));
        assert!(e.taxii.collections(&e.outsider).await.unwrap().is_empty());

        // Deleting the latest version makes the earlier one the latest again
        // (and the first of the two is still the first); then the object.
        let newest = Filter { versions: vec!["2026-02-01T00:00:00.000Z".into()], ..Filter::default() };
        assert_eq!(e.taxii.delete(&analyst, &collection.id, A, &newest).await.unwrap(), 1);
        let now_latest = e.taxii.objects(&e.analyst, &collection.id, &Filter::default()).await.unwrap();
        let versions: Vec<&str> = now_latest.objects.iter().map(|o| o.version.as_str()).collect();
        assert_eq!(versions, ["2026-01-01T00:00:00.000Z"]);
        let first = Filter { versions: vec!["first".into()], ..Filter::default() };
        assert_eq!(e.taxii.objects(&e.analyst, &collection.id, &first).await.unwrap().objects.len(), 1);
        // The version just deleted comes back: it is the latest again.
        let back = json!({"objects": [indicator(A, "2026-02-01T00:00:00.000Z", Some(AMBER))]}).to_string();
        e.taxii.add(&analyst, &collection.id, &back).await.unwrap();
        let latest = e.taxii.objects(&e.analyst, &collection.id, &Filter::default()).await.unwrap();
        assert_eq!(latest.objects.iter().map(|o| o.version.as_str()).collect::<Vec<_>>(), ["2026-02-01T00:00:00.000Z"]);
        let one_version = Filter { versions: vec!["2026-01-01T00:00:00.000Z".into()], ..Filter::default() };
        assert_eq!(e.taxii.delete(&analyst, &collection.id, A, &one_version).await.unwrap(), 1);
        assert_eq!(e.taxii.delete(&analyst, &collection.id, A, &Filter::default()).await.unwrap(), 1);
        assert!(matches!(e.taxii.versions(&e.analyst, &collection.id, A).await, Err(IntelError::NotFound("object"))));
    })
    .await;
}

#[tokio::test]
async fn managers_change_who_reads_and_writes_a_collection() {
    each_store(|store| async move {
        let e = env(store).await;
        let manager = Actor { principal: &e.manager, ip: None };
        let collection = e.taxii.create_collection(&manager, "Private", "", &[], &[]).await.unwrap();
        assert!(matches!(e.taxii.collection(&e.partner, &collection.id).await, Err(IntelError::NotFound(_))));
        // An analyst of the owner reads it but may not change it; others do not even see it.
        let analyst = Actor { principal: &e.analyst, ip: None };
        let readers = vec![e.partner_org.clone()];
        assert!(matches!(e.taxii.set_access(&analyst, &collection.id, &readers, &[]).await, Err(IntelError::Forbidden)));
        let outsider = Actor { principal: &e.outsider, ip: None };
        assert!(matches!(e.taxii.set_access(&outsider, &collection.id, &readers, &[]).await, Err(IntelError::NotFound(_))));
        let bad = e.taxii.set_access(&manager, &collection.id, &["nobody".into()], &[]).await.unwrap_err();
        assert!(matches!(bad, IntelError::Invalid { ref path, .. } if path == "readers"), "{bad:?}");
        // Now GH-CIRT reads and writes it.
        e.taxii.set_access(&manager, &collection.id, &readers, &readers).await.unwrap();
        let theirs = e.taxii.collection(&e.partner, &collection.id).await.unwrap();
        assert!(theirs.can_read && theirs.can_write);
        assert!(e.taxii.may_manage(&e.manager, &theirs.row).await.unwrap());
        assert!(!e.taxii.may_manage(&e.partner, &theirs.row).await.unwrap());
    })
    .await;
}

/// A named sharing group given a collection: its members read it, others
/// do not, and a change of members is followed at once; only the owner's
/// managers make groups, and only the owner's groups count.
#[tokio::test]
async fn a_sharing_group_gives_a_collection_to_its_members() {
    each_store(|store| async move {
        let e = env(store).await;
        let manager = Actor { principal: &e.manager, ip: None };
        let analyst = Actor { principal: &e.analyst, ip: None };
        let partner = Actor { principal: &e.partner, ip: None };
        assert!(matches!(e.taxii.create_group(&analyst, "Region", &[]).await, Err(IntelError::Forbidden)));
        let bad = e.taxii.create_group(&manager, "Region", &["nobody".into()]).await.unwrap_err();
        assert!(matches!(bad, IntelError::Invalid { ref path, .. } if path == "members"), "{bad:?}");
        let group = e.taxii.create_group(&manager, "East and West Africa", std::slice::from_ref(&e.partner_org)).await.unwrap();
        let twice = e.taxii.create_group(&manager, "East and West Africa", &[]).await.unwrap_err();
        assert!(matches!(twice, IntelError::Invalid { ref path, .. } if path == "name"), "{twice:?}");
        assert_eq!(e.taxii.sharing_groups(&e.analyst).await.unwrap().len(), 1, "the owner's staff see its groups");
        assert!(e.taxii.sharing_groups(&e.partner).await.unwrap().is_empty(), "not another organisation's");

        let key = format!("group:{}", group.id);
        let collection = e.taxii.create_collection(&manager, "Regional", "", std::slice::from_ref(&key), &[]).await.unwrap();
        e.taxii
            .add(
                &manager,
                &collection.id,
                &json!({"objects": [indicator("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "2026-03-01T08:00:00.000Z", None)]})
                    .to_string(),
            )
            .await
            .unwrap();
        let seen = e.taxii.collection(&e.partner, &collection.id).await.unwrap();
        assert!(seen.can_read && !seen.can_write, "GH-CIRT reads it through the group");
        assert_eq!(e.taxii.objects(&e.partner, &collection.id, &Filter::default()).await.unwrap().objects.len(), 1);
        assert!(matches!(e.taxii.collection(&e.outsider, &collection.id).await, Err(IntelError::NotFound(_))));

        // Only the owner's managers change the members; the collection follows at once.
        assert!(matches!(e.taxii.set_group_members(&partner, &group.id, &[]).await, Err(IntelError::Forbidden)));
        let br = e.outsider.org_id.clone();
        e.taxii.set_group_members(&manager, &group.id, &[br]).await.unwrap();
        assert!(matches!(e.taxii.collection(&e.partner, &collection.id).await, Err(IntelError::NotFound(_))), "GH-CIRT left the group");
        assert!(e.taxii.collection(&e.outsider, &collection.id).await.unwrap().can_read, "BR-CIRT joined it");

        // A group of another organisation cannot be named on this collection.
        let gh_manager = Actor { principal: &e.partner, ip: None };
        assert!(matches!(e.taxii.create_group(&gh_manager, "Mine", &[]).await, Err(IntelError::Forbidden)), "an analyst makes no group");
        let foreign = e.taxii.set_access(&manager, &collection.id, &["group:not-ours".into()], &[]).await.unwrap_err();
        assert!(matches!(foreign, IntelError::Invalid { ref path, .. } if path == "readers"), "{foreign:?}");
    })
    .await;
}
