//! Personal API tokens: role subsets, expiry, revocation, storage.

use crate::support::{actor, each_backend};
use chrono::Duration;
use rampart_auth::secret::sha256_hex;
use rampart_auth::service::TOKEN_PREFIX;
use rampart_auth::{AuthError, Grant, Scope, Via};
use rampart_core::{Role, time};
use rampart_store::{AuditEntry, StoreError};

const EMAIL: &str = "alice@example.org";

#[tokio::test]
async fn a_token_carries_only_the_roles_chosen_and_is_stored_as_a_hash() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let id = env.user(&org.id, EMAIL).await;
        env.grant(&id, Role::Viewer, Scope::Org(org.id.clone())).await;
        env.grant(&id, Role::CirtAnalyst, Scope::Org(org.id.clone())).await;
        env.grant(&id, Role::GciReviewer, Scope::Country("KE".into())).await;
        let me = env.principal(&env.sign_in(EMAIL).await).await;
        assert_eq!(me.grants.len(), 3);

        let (token, row) =
            env.auth.create_token(&actor(&me), "  ci pipeline ", &[Role::GciReviewer, Role::Viewer], Some(30)).await.unwrap();
        assert!(token.starts_with(TOKEN_PREFIX), "{token}");
        assert_eq!(token.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(row.name, "ci pipeline");
        assert_eq!(row.user_id, id);
        assert_eq!(row.prefix, token[..TOKEN_PREFIX.len() + 6]);
        assert_eq!(row.roles, ["gci_reviewer", "viewer"]);
        assert_eq!(row.expires_at, Some(time::format(env.now() + Duration::days(30))));
        assert_eq!(row.revoked_at, None);

        env.advance(Duration::minutes(5));
        let principal = env.auth.token_principal(&token).await.unwrap().expect("valid token");
        assert_eq!(principal.user_id, id);
        assert_eq!(principal.via, Via::Token { token_id: row.id.clone() });
        assert_eq!(
            principal.grants,
            vec![
                Grant { role: Role::GciReviewer, scope: Scope::Country("KE".into()) },
                Grant { role: Role::Viewer, scope: Scope::Org(org.id.clone()) },
            ]
        );
        assert!(!principal.has_role(Role::CirtAnalyst));
        assert_eq!(env.store.token_get(&row.id).await.unwrap().last_used_at, Some(time::format(env.now())));

        // The plaintext is shown once and kept nowhere: not as the lookup key,
        // not in the row, not in the audit log.
        assert!(env.store.token_by_hash(&token).await.unwrap().is_none());
        let stored = env.store.token_by_hash(&sha256_hex(&token)).await.unwrap().expect("found by hash");
        assert_eq!(stored.id, row.id);
        assert_eq!(stored.token_hash, sha256_hex(&token));
        let secret_part = &token[TOKEN_PREFIX.len()..];
        for record in env.audit_all().await {
            assert!(!record.summary.contains(secret_part), "{} leaks the token", record.action);
        }
        let created = env.audit("platform.token.create").await;
        assert_eq!(created.len(), 1);
        assert_eq!(created[0].entity_id.as_deref(), Some(row.id.as_str()));
        assert_eq!(created[0].actor_id.as_deref(), Some(id.as_str()));
    })
    .await;
}

#[tokio::test]
async fn a_token_request_outside_the_rules_is_refused_and_stores_nothing() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let id = env.user(&org.id, EMAIL).await;
        env.grant(&id, Role::Viewer, Scope::Org(org.id.clone())).await;
        let me = env.principal(&env.sign_in(EMAIL).await).await;

        let cases: [(&str, &[Role], Option<u32>, &str); 7] = [
            ("ci", &[Role::Viewer, Role::OrgAdmin], None, "roles"),
            ("ci", &[Role::PlatformAdmin], None, "roles"),
            ("ci", &[], None, "roles"),
            ("   ", &[Role::Viewer], None, "name"),
            (&"n".repeat(101), &[Role::Viewer], None, "name"),
            ("ci", &[Role::Viewer], Some(0), "valid_days"),
            ("ci", &[Role::Viewer], Some(367), "valid_days"),
        ];
        for (name, roles, days, field) in cases {
            let outcome = env.auth.create_token(&actor(&me), name, roles, days).await;
            assert!(
                matches!(&outcome, Err(AuthError::Invalid { field: f, .. }) if *f == field),
                "{field}: {:?}",
                outcome.map(|(_, row)| row)
            );
        }
        assert!(env.store.tokens_of(&id).await.unwrap().is_empty());
        assert!(env.audit("platform.token.create").await.is_empty());

        // The limits themselves are allowed.
        env.auth.create_token(&actor(&me), &"n".repeat(100), &[Role::Viewer], Some(366)).await.unwrap();
        assert_eq!(env.store.tokens_of(&id).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn expired_revoked_and_malformed_tokens_are_refused() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let id = env.user(&org.id, EMAIL).await;
        env.grant(&id, Role::Viewer, Scope::Org(org.id.clone())).await;
        let me = env.principal(&env.sign_in(EMAIL).await).await;
        let (one_day, _) = env.auth.create_token(&actor(&me), "one day", &[Role::Viewer], Some(1)).await.unwrap();
        let (lasting, lasting_row) = env.auth.create_token(&actor(&me), "no expiry", &[Role::Viewer], None).await.unwrap();
        assert_eq!(lasting_row.expires_at, None);

        env.advance(Duration::days(1) - Duration::seconds(1));
        assert!(env.auth.token_principal(&one_day).await.unwrap().is_some(), "a second before expiry");
        env.advance(Duration::seconds(1));
        assert!(env.auth.token_principal(&one_day).await.unwrap().is_none(), "expired at valid_days");
        env.advance(Duration::days(400));
        assert!(env.auth.token_principal(&one_day).await.unwrap().is_none());
        assert!(env.auth.token_principal(&lasting).await.unwrap().is_some(), "no expiry means none");

        env.auth.revoke_token(&actor(&me), &lasting_row.id).await.unwrap();
        assert!(env.auth.token_principal(&lasting).await.unwrap().is_none(), "revoked");
        assert_eq!(env.store.token_get(&lasting_row.id).await.unwrap().revoked_at, Some(time::format(env.now())));
        let twice = env.auth.revoke_token(&actor(&me), &lasting_row.id).await;
        assert!(matches!(twice, Err(AuthError::Store(StoreError::NotFound { .. }))), "{twice:?}");

        let (fresh, _) = env.auth.create_token(&actor(&me), "fresh", &[Role::Viewer], None).await.unwrap();
        let secret_part = &fresh[TOKEN_PREFIX.len()..];
        for malformed in [
            secret_part.to_owned(),
            format!("RMP_{secret_part}"),
            format!("xyz_{secret_part}"),
            format!(" {fresh}"),
            TOKEN_PREFIX.to_owned(),
            format!("{TOKEN_PREFIX}not-a-real-token"),
            String::new(),
        ] {
            assert!(env.auth.token_principal(&malformed).await.unwrap().is_none(), "{malformed:?}");
        }
        assert!(env.auth.token_principal(&fresh).await.unwrap().is_some(), "the real one works");
        // The prefix rule holds on its own, not only because such a hash is
        // never stored: plant rows whose hashes do match, with and without it.
        let unprefixed = "planted-token-without-the-prefix";
        let prefixed = format!("{TOKEN_PREFIX}planted-token-with-the-prefix");
        let mut tx = env.store.begin().await.unwrap();
        for text in [unprefixed, prefixed.as_str()] {
            tx.token_insert(&id, "planted", &text[..6], &sha256_hex(text), &["viewer".into()], None, env.now()).await.unwrap();
        }
        tx.audit(
            AuditEntry {
                actor_id: None,
                actor_label: "test".into(),
                actor_org_id: None,
                action: "test.token.plant".into(),
                entity_type: "api_token".into(),
                entity_id: None,
                source_ip: None,
                summary: serde_json::json!({}),
            },
            env.now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(env.auth.token_principal(unprefixed).await.unwrap().is_none(), "no prefix, no entry");
        assert!(env.auth.token_principal(&prefixed).await.unwrap().is_some(), "control: the planted rows are live");

        // A disabled user's tokens stop working with the account.
        env.auth.set_disabled(&env.cli(), &id, true).await.unwrap();
        assert!(env.auth.token_principal(&fresh).await.unwrap().is_none());

        assert_eq!(env.audit("platform.token.create").await.len(), 3);
        assert_eq!(env.audit("platform.token.revoke").await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn only_the_owner_or_their_administrator_revokes_a_token() {
    each_backend(|env| async move {
        let home = env.org("KE-CIRT", "KE").await;
        let away = env.org("FR-CIRT", "FR").await;
        let owner = env.user(&home.id, EMAIL).await;
        env.grant(&owner, Role::Viewer, Scope::Org(home.id.clone())).await;
        let admin = env.user(&home.id, "admin@example.org").await;
        env.grant(&admin, Role::OrgAdmin, Scope::Org(home.id.clone())).await;
        let stranger = env.user(&away.id, "stranger@example.org").await;
        env.grant(&stranger, Role::OrgAdmin, Scope::Org(away.id.clone())).await;

        let me = env.principal(&env.sign_in(EMAIL).await).await;
        let (token, row) = env.auth.create_token(&actor(&me), "ci", &[Role::Viewer], None).await.unwrap();

        // Someone else's administrator is told there is no such token.
        let stranger = env.principal(&env.sign_in("stranger@example.org").await).await;
        let refused = env.auth.revoke_token(&actor(&stranger), &row.id).await;
        assert!(matches!(refused, Err(AuthError::Store(StoreError::NotFound { entity: "api token" }))), "{refused:?}");
        assert!(env.auth.token_principal(&token).await.unwrap().is_some());

        let admin = env.principal(&env.sign_in("admin@example.org").await).await;
        env.auth.revoke_token(&actor(&admin), &row.id).await.unwrap();
        assert!(env.auth.token_principal(&token).await.unwrap().is_none());
        let revoked = env.audit("platform.token.revoke").await;
        assert_eq!(revoked.len(), 1);
        assert_eq!(revoked[0].actor_id.as_deref(), Some(admin.user_id.as_str()));
    })
    .await;
}
