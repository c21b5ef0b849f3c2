use crate::support::{each_backend, entry, t0};
use chrono::Duration;
use rampart_store::orgs::OrgFilter;
use rampart_store::users::UserFilter;
use rampart_store::{Location, NewOrg, NewUser, OpenMode, PageRequest, Store, StoreError};

fn org(name: &str, country: &str) -> NewOrg {
    NewOrg {
        name: name.into(),
        short_name: None,
        kind: "isp".into(),
        sector: None,
        country: Some(country.into()),
        parent_id: None,
        website: None,
        mfa_required: false,
    }
}

#[tokio::test]
async fn a_missing_sqlite_file_is_refused_unless_asked_to_create() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.db");
    let refused = Store::open(&Location::Sqlite(path.clone()), OpenMode::ExistingOnly).await;
    assert!(matches!(refused, Err(StoreError::MissingDatabase(p)) if p == path));
    assert!(!path.exists(), "refusing must not create the file");
    let created = Store::open(&Location::Sqlite(path.clone()), OpenMode::Create).await.unwrap();
    assert_eq!(created.migrate().await.unwrap(), 17);
    assert_eq!(created.migrate().await.unwrap(), 0, "migrations apply once");
    assert!(path.exists());
}

#[test]
fn locations_parse_and_redact() {
    assert_eq!(Location::parse("postgres://u:secret@h/db"), Location::Postgres("postgres://u:secret@h/db".into()));
    assert!(!Location::parse("postgres://u:secret@h/db").redacted().contains("secret"));
    assert_eq!(Location::parse("sqlite:data/x.db"), Location::Sqlite("data/x.db".into()));
    assert_eq!(Location::parse("./x.db"), Location::Sqlite("./x.db".into()));
}

#[tokio::test]
async fn organisations_page_filter_and_refuse_duplicate_names() {
    each_backend(|store| async move {
        let mut tx = store.begin().await.unwrap();
        for (i, name) in ["Zeta Telecom", "Alpha Net", "Beta Bank", "Gamma Power", "Delta ISP"].iter().enumerate() {
            let country = if i % 2 == 0 { "KE" } else { "BR" };
            tx.org_insert(&org(name, country), t0() + Duration::seconds(i as i64)).await.unwrap();
        }
        tx.audit(entry("test.org.create", "five"), t0()).await.unwrap();
        tx.commit().await.unwrap();

        let first = store.org_list(&OrgFilter::default(), &PageRequest::first(2)).await.unwrap();
        let names: Vec<_> = first.items.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["Alpha Net", "Beta Bank"]);
        let cursor = first.next_cursor.clone().expect("more pages");
        let second = store.org_list(&OrgFilter::default(), &PageRequest::with_cursor(2, Some(&cursor)).unwrap()).await.unwrap();
        let names: Vec<_> = second.items.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["Delta ISP", "Gamma Power"]);
        let last =
            store.org_list(&OrgFilter::default(), &PageRequest::with_cursor(2, second.next_cursor.as_deref()).unwrap()).await.unwrap();
        assert_eq!(last.items.len(), 1);
        assert_eq!(last.next_cursor, None);

        let kenyan =
            store.org_list(&OrgFilter { country: Some("KE".into()), ..Default::default() }, &PageRequest::first(50)).await.unwrap();
        assert_eq!(kenyan.items.len(), 3);
        let search =
            store.org_list(&OrgFilter { name_contains: Some("BANK".into()), ..Default::default() }, &PageRequest::first(50)).await.unwrap();
        assert_eq!(search.items.len(), 1);

        let mut tx = store.begin().await.unwrap();
        let duplicate = tx.org_insert(&org("Alpha Net", "KE"), t0()).await;
        assert!(matches!(duplicate, Err(StoreError::Conflict { field: "name", .. })), "{duplicate:?}");
        drop(tx);
        assert_eq!(store.org_count().await.unwrap(), 5, "the failed insert left nothing behind");
    })
    .await;
}

#[tokio::test]
async fn a_change_without_an_audit_entry_never_lands() {
    each_backend(|store| async move {
        let mut tx = store.begin().await.unwrap();
        tx.org_insert(&org("Unaudited Org", "FR"), t0()).await.unwrap();
        assert!(matches!(tx.commit().await, Err(StoreError::Unaudited)));
        assert_eq!(store.org_count().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn users_grants_sessions_and_tokens() {
    each_backend(|store| async move {
        let mut tx = store.begin().await.unwrap();
        let acme = tx.org_insert(&org("ACME", "KE"), t0()).await.unwrap();
        let new_user = NewUser {
            org_id: acme.id.clone(),
            email: "Analyst@Example.org".into(),
            display_name: "An Analyst".into(),
            password_hash: "$argon2id$fake".into(),
            language: "fr".into(),
            must_change_password: false,
        };
        let user_id = tx.user_insert(&new_user, t0()).await.unwrap();
        let grant = tx.role_grant(&user_id, "cirt_analyst", Some(&acme.id), None, t0()).await.unwrap();
        tx.role_grant(&user_id, "gci_reviewer", None, Some("KE"), t0()).await.unwrap();
        tx.audit(entry("test.user.create", &user_id), t0()).await.unwrap();
        tx.commit().await.unwrap();

        let user = store.user_by_email("analyst@EXAMPLE.org").await.unwrap().expect("found case-insensitively");
        assert_eq!(user.id, user_id);
        assert_eq!(user.language, "fr");
        assert_eq!(store.grants_of(&user_id).await.unwrap().len(), 2);

        let mut tx = store.begin().await.unwrap();
        let same_grant = tx.role_grant(&user_id, "cirt_analyst", Some(&acme.id), None, t0()).await;
        assert!(matches!(same_grant, Err(StoreError::Conflict { field: "role", .. })), "{same_grant:?}");
        drop(tx);

        let mut tx = store.begin().await.unwrap();
        let duplicate = tx.user_insert(&NewUser { email: "analyst@example.org".into(), ..new_user.clone() }, t0()).await;
        assert!(matches!(duplicate, Err(StoreError::Conflict { field: "email", .. })), "{duplicate:?}");
        drop(tx);

        let mut tx = store.begin().await.unwrap();
        tx.role_revoke(&grant.id).await.unwrap();
        tx.user_login_failed(&user_id, Some(t0() + Duration::minutes(15)), t0()).await.unwrap();
        tx.session_insert("hash-1", &user_id, false, Some("127.0.0.1"), Some("test"), t0()).await.unwrap();
        let token = tx.token_insert(&user_id, "ci", "rmp_abcd", "tokenhash", &["gci_reviewer".into()], None, t0()).await.unwrap();
        tx.audit(entry("test.user.update", &user_id), t0()).await.unwrap();
        tx.commit().await.unwrap();

        let grants = store.grants_of(&user_id).await.unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].scope_country.as_deref(), Some("KE"));
        let user = store.user_get(&user_id).await.unwrap();
        assert_eq!(user.failed_logins, 1);
        assert_eq!(user.locked_until.as_deref(), Some("2026-03-01T08:15:00.000Z"));
        assert!(store.session_get("hash-1").await.unwrap().is_some());
        let found = store.token_by_hash("tokenhash").await.unwrap().expect("token");
        assert_eq!(found.id, token.id);
        assert_eq!(found.roles, vec!["gci_reviewer".to_owned()]);

        // Disabling a user ends their sessions in the same transaction.
        let mut tx = store.begin().await.unwrap();
        tx.user_set_disabled(&user_id, true, t0()).await.unwrap();
        tx.token_revoke(&token.id, t0()).await.unwrap();
        tx.audit(entry("test.user.disable", &user_id), t0()).await.unwrap();
        tx.commit().await.unwrap();
        assert!(store.session_get("hash-1").await.unwrap().is_none());
        assert!(store.user_get(&user_id).await.unwrap().disabled);
        assert!(store.token_get(&token.id).await.unwrap().revoked_at.is_some());

        let page =
            store.user_list(&UserFilter { org_id: Some(acme.id.clone()), ..Default::default() }, &PageRequest::first(10)).await.unwrap();
        assert_eq!(page.items.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn totp_steps_cannot_be_replayed_and_recovery_codes_work_once() {
    each_backend(|store| async move {
        let mut tx = store.begin().await.unwrap();
        let acme = tx.org_insert(&org("ACME", "KE"), t0()).await.unwrap();
        let user_id = tx
            .user_insert(
                &NewUser {
                    org_id: acme.id,
                    email: "a@example.org".into(),
                    display_name: "A".into(),
                    password_hash: "x".into(),
                    language: "en".into(),
                    must_change_password: false,
                },
                t0(),
            )
            .await
            .unwrap();
        tx.user_set_totp_pending(&user_id, "SECRET", t0()).await.unwrap();
        tx.user_enable_totp(&user_id, 100, &["c1".into(), "c2".into()], t0()).await.unwrap();
        assert!(!tx.user_advance_totp_step(&user_id, 100).await.unwrap(), "same step again");
        assert!(tx.user_advance_totp_step(&user_id, 101).await.unwrap());
        assert!(tx.recovery_code_use(&user_id, "c1", t0()).await.unwrap());
        assert!(!tx.recovery_code_use(&user_id, "c1", t0()).await.unwrap(), "used twice");
        assert!(!tx.recovery_code_use(&user_id, "nope", t0()).await.unwrap());
        tx.audit(entry("test.totp", &user_id), t0()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.recovery_codes_left(&user_id).await.unwrap(), 1);
        let user = store.user_get(&user_id).await.unwrap();
        assert!(user.totp_enabled);
        assert_eq!(user.totp_last_step, Some(101));
    })
    .await;
}

#[tokio::test]
async fn settings_upsert() {
    each_backend(|store| async move {
        let mut tx = store.begin().await.unwrap();
        tx.setting_put("demo", "true", t0()).await.unwrap();
        tx.setting_put("demo", "false", t0()).await.unwrap();
        tx.audit(entry("test.setting", "demo"), t0()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.setting_get("demo").await.unwrap().as_deref(), Some("false"));
        assert_eq!(store.setting_get("absent").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn a_failure_after_an_expired_lock_starts_a_fresh_count() {
    each_backend(|store| async move {
        let mut tx = store.begin().await.unwrap();
        let acme = tx.org_insert(&org("ACME", "KE"), t0()).await.unwrap();
        let user = NewUser {
            org_id: acme.id,
            email: "l@example.org".into(),
            display_name: "L".into(),
            password_hash: "x".into(),
            language: "en".into(),
            must_change_password: false,
        };
        let id = tx.user_insert(&user, t0()).await.unwrap();
        for _ in 0..4 {
            tx.user_login_failed(&id, None, t0()).await.unwrap();
        }
        tx.user_login_failed(&id, Some(t0() + Duration::minutes(15)), t0()).await.unwrap();
        tx.audit(entry("test.lock", &id), t0()).await.unwrap();
        tx.commit().await.unwrap();
        let locked = store.user_get(&id).await.unwrap();
        assert_eq!((locked.failed_logins, locked.locked_until.as_deref()), (5, Some("2026-03-01T08:15:00.000Z")));

        let mut tx = store.begin().await.unwrap();
        tx.user_login_failed(&id, None, t0() + Duration::minutes(20)).await.unwrap();
        tx.audit(entry("test.fail", &id), t0()).await.unwrap();
        tx.commit().await.unwrap();
        let after = store.user_get(&id).await.unwrap();
        assert_eq!((after.failed_logins, after.locked_until), (1, None));
    })
    .await;
}

#[tokio::test]
async fn like_wildcards_in_searches_match_themselves() {
    each_backend(|store| async move {
        let mut tx = store.begin().await.unwrap();
        tx.org_insert(&org("Net_One", "KE"), t0()).await.unwrap();
        tx.org_insert(&org("NetXOne", "KE"), t0()).await.unwrap();
        tx.org_insert(&org("100% Power", "KE"), t0()).await.unwrap();
        tx.audit(entry("test.orgs", "3"), t0()).await.unwrap();
        tx.commit().await.unwrap();
        let search = |text: &str| OrgFilter { name_contains: Some(text.into()), ..Default::default() };
        let names = |page: rampart_store::Page<rampart_store::Organisation>| page.items.into_iter().map(|o| o.name).collect::<Vec<_>>();
        assert_eq!(names(store.org_list(&search("t_o"), &PageRequest::first(10)).await.unwrap()), ["Net_One"]);
        assert_eq!(names(store.org_list(&search("%"), &PageRequest::first(10)).await.unwrap()), ["100% Power"]);
    })
    .await;
}
