//! Signing in with a password: success, failures, lockout, disabled users
//! and demo accounts.

use crate::support::{IP, PASSWORD, USER_AGENT, WRONG_PASSWORD, describe, each_backend, signed_in, t0};
use chrono::Duration;
use rampart_auth::secret::sha256_hex;
use rampart_auth::{AuthConfig, AuthError, Grant, Scope, Target, Via};
use rampart_core::{Permission, Role, time};
use rampart_store::{AuditFilter, PageRequest};

const EMAIL: &str = "alice@example.org";

#[tokio::test]
async fn the_right_password_signs_in_and_the_session_carries_the_grants() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let id = env.user(&org.id, "Alice@Example.org").await;
        env.grant(&id, Role::CirtAnalyst, Scope::Org(org.id.clone())).await;
        env.grant(&id, Role::GciReviewer, Scope::Country("KE".into())).await;

        // E-mail matching ignores case and surrounding blanks.
        let token = signed_in(env.login("  ALICE@example.ORG ", PASSWORD).await);
        let (principal, mfa_verified) = env.auth.session_principal(&token).await.unwrap().expect("live session");
        assert!(mfa_verified, "no second factor configured, so none pending");
        assert_eq!(principal.user_id, id);
        assert_eq!(principal.email, EMAIL);
        assert_eq!(principal.org_id, org.id);
        assert_eq!(principal.org_country.as_deref(), Some("KE"));
        assert_eq!(principal.via, Via::Session);
        assert!(!principal.totp_enabled);
        assert!(!principal.must_set_up_mfa);
        // grants_of orders by role slug.
        assert_eq!(
            principal.grants,
            vec![
                Grant { role: Role::CirtAnalyst, scope: Scope::Org(org.id.clone()) },
                Grant { role: Role::GciReviewer, scope: Scope::Country("KE".into()) },
            ]
        );
        let own_org = Target::Org { id: &org.id, country: Some("KE") };
        assert!(principal.allows(Permission::DirectoryRead, own_org));
        assert!(!principal.allows(Permission::UserManage, own_org));

        // Only the hash of the session id is stored.
        assert!(env.store.session_get(&token).await.unwrap().is_none());
        let session = env.store.session_get(&sha256_hex(&token)).await.unwrap().expect("stored by hash");
        assert_eq!(session.user_id, id);
        assert!(session.mfa_verified);
        assert_eq!(session.ip.as_deref(), Some(IP));
        assert_eq!(session.user_agent.as_deref(), Some(USER_AGENT));
        assert_eq!(env.store.user_get(&id).await.unwrap().last_login_at, Some(time::format(t0())));
        assert!(env.auth.session_principal("not-a-session").await.unwrap().is_none());

        let logins = env.audit("platform.auth.login").await;
        assert_eq!(logins.len(), 1);
        assert_eq!(logins[0].actor_id.as_deref(), Some(id.as_str()));
        assert_eq!(logins[0].source_ip.as_deref(), Some(IP));
        assert_eq!(env.audit("platform.user.create").await.len(), 1);
        assert_eq!(env.audit("platform.role.grant").await.len(), 2);
        assert!(env.audit("platform.auth.login_failed").await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_are_the_same_refusal() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let id = env.user(&org.id, EMAIL).await;
        let wrong = env.login(EMAIL, WRONG_PASSWORD).await;
        assert!(matches!(wrong, Err(AuthError::InvalidCredentials)), "{}", describe(&wrong));
        let unknown = env.login("nobody@example.org", PASSWORD).await;
        assert!(matches!(unknown, Err(AuthError::InvalidCredentials)), "{}", describe(&unknown));

        // The failure against a real account is counted and audited; the
        // unknown address has no account to record it against.
        assert_eq!(env.store.user_get(&id).await.unwrap().failed_logins, 1);
        let failed = env.audit("platform.auth.login_failed").await;
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].entity_id.as_deref(), Some(id.as_str()));
        assert_eq!(failed[0].source_ip.as_deref(), Some(IP));
        let summary: serde_json::Value = serde_json::from_str(&failed[0].summary).unwrap();
        assert_eq!(summary, serde_json::json!({"failed_logins": 1, "locked_until": null}));
        assert!(env.audit("platform.auth.login").await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_the_lockout_passes() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let id = env.user(&org.id, EMAIL).await;

        // A success in between resets the count.
        for _ in 0..3 {
            let outcome = env.login(EMAIL, WRONG_PASSWORD).await;
            assert!(matches!(outcome, Err(AuthError::InvalidCredentials)), "{}", describe(&outcome));
        }
        env.sign_in(EMAIL).await;
        assert_eq!(env.store.user_get(&id).await.unwrap().failed_logins, 0);

        // max_failed_logins = 5: four refusals, and the fifth locks.
        for attempt in 1..=4 {
            let outcome = env.login(EMAIL, WRONG_PASSWORD).await;
            assert!(matches!(outcome, Err(AuthError::InvalidCredentials)), "attempt {attempt}: {}", describe(&outcome));
        }
        let until = time::format(env.now() + Duration::minutes(15));
        let fifth = env.login(EMAIL, WRONG_PASSWORD).await;
        assert!(matches!(&fifth, Err(AuthError::Locked { until: u }) if *u == until), "{}", describe(&fifth));
        let user = env.store.user_get(&id).await.unwrap();
        assert_eq!(user.failed_logins, 5);
        assert_eq!(user.locked_until.as_deref(), Some(until.as_str()));

        // Locked means locked: the right password is refused too.
        let right = env.login(EMAIL, PASSWORD).await;
        assert!(matches!(&right, Err(AuthError::Locked { until: u }) if *u == until), "{}", describe(&right));
        env.advance(Duration::minutes(15) - Duration::seconds(1));
        let still = env.login(EMAIL, PASSWORD).await;
        assert!(matches!(&still, Err(AuthError::Locked { until: u }) if *u == until), "{}", describe(&still));

        env.advance(Duration::seconds(2));
        let token = env.sign_in(EMAIL).await;
        assert_eq!(env.principal(&token).await.user_id, id);
        let user = env.store.user_get(&id).await.unwrap();
        assert_eq!(user.failed_logins, 0);
        assert_eq!(user.locked_until, None);

        // Every failed password was audited (3 + 5); the attempts refused
        // while locked were not password checks and add nothing.
        let failed = env.audit("platform.auth.login_failed").await;
        assert_eq!(failed.len(), 8);
        assert!(failed.iter().all(|r| r.actor_id.as_deref() == Some(id.as_str()) && r.source_ip.as_deref() == Some(IP)));
        let last: serde_json::Value = serde_json::from_str(&failed[7].summary).unwrap();
        assert_eq!(last, serde_json::json!({"failed_logins": 5, "locked_until": until}));
        assert_eq!(env.audit("platform.auth.login").await.len(), 2);
    })
    .await;
}

/// The audit filter the admin pages use, by action prefix: `_` in the
/// prefix matches itself (the store escapes LIKE wildcards).
#[tokio::test]
async fn failed_logins_are_found_by_their_action_prefix() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let id = env.user(&org.id, EMAIL).await;
        for _ in 0..3 {
            let outcome = env.login(EMAIL, WRONG_PASSWORD).await;
            assert!(matches!(outcome, Err(AuthError::InvalidCredentials)), "{}", describe(&outcome));
        }
        env.sign_in(EMAIL).await;
        let filter = AuditFilter { action_prefix: Some("platform.auth.login_failed".into()), ..Default::default() };
        let page = env.store.audit_list(&filter, &PageRequest::first(50)).await.unwrap();
        assert_eq!(page.items.len(), 3);
        assert!(page.items.iter().all(|r| r.action == "platform.auth.login_failed" && r.entity_id.as_deref() == Some(id.as_str())));
    })
    .await;
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_loses_every_session() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let id = env.user(&org.id, EMAIL).await;
        let laptop = env.sign_in(EMAIL).await;
        let phone = env.sign_in(EMAIL).await;
        assert_eq!(env.session(&laptop).await, Some(true));

        env.auth.set_disabled(&env.cli(), &id, true).await.unwrap();
        assert!(env.store.user_get(&id).await.unwrap().disabled);
        for token in [&laptop, &phone] {
            assert_eq!(env.session(token).await, None);
            assert!(env.store.session_get(&sha256_hex(token)).await.unwrap().is_none(), "session row deleted");
        }
        let right = env.login(EMAIL, PASSWORD).await;
        assert!(matches!(right, Err(AuthError::Disabled)), "{}", describe(&right));
        // A wrong password says nothing about the account's state.
        let wrong = env.login(EMAIL, WRONG_PASSWORD).await;
        assert!(matches!(wrong, Err(AuthError::InvalidCredentials)), "{}", describe(&wrong));

        env.auth.set_disabled(&env.cli(), &id, false).await.unwrap();
        let again = env.sign_in(EMAIL).await;
        assert_eq!(env.principal(&again).await.user_id, id);
        // Re-enabling does not bring old sessions back.
        assert_eq!(env.session(&laptop).await, None);

        assert_eq!(env.audit("platform.user.disable").await.len(), 1);
        assert_eq!(env.audit("platform.user.enable").await.len(), 1);
        assert_eq!(env.audit("platform.auth.login").await.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn demo_accounts_sign_in_only_in_demo_mode() {
    each_backend(|env| async move {
        let org = env.org("Demo CIRT", "KE").await;
        let demo_email = "analyst@demo.rampart.test";
        let demo_id = env.user(&org.id, demo_email).await;
        // Same local part, another domain that merely ends alike.
        let lookalike = "analyst@notdemo.rampart.test";
        env.user(&org.id, lookalike).await;

        let refused = env.login(demo_email, PASSWORD).await;
        assert!(matches!(refused, Err(AuthError::InvalidCredentials)), "{}", describe(&refused));
        assert_eq!(env.store.user_get(&demo_id).await.unwrap().failed_logins, 1, "counted as a failed login");
        env.sign_in(lookalike).await;

        let demo = env.service(AuthConfig { demo_mode: true, ..AuthConfig::default() });
        let token = signed_in(demo.login(demo_email, PASSWORD, Some(IP), None).await);
        let (principal, verified) = demo.session_principal(&token).await.unwrap().expect("live session");
        assert!(verified);
        assert_eq!(principal.user_id, demo_id);
        // Demo mode opens the documented password, not any password.
        let wrong = demo.login(demo_email, WRONG_PASSWORD, Some(IP), None).await;
        assert!(matches!(wrong, Err(AuthError::InvalidCredentials)), "{}", describe(&wrong));

        let failed = env.audit("platform.auth.login_failed").await;
        assert_eq!(failed.len(), 2);
        assert!(failed.iter().all(|r| r.entity_id.as_deref() == Some(demo_id.as_str())));
    })
    .await;
}
