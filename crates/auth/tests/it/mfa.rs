//! Two-factor authentication: TOTP set-up, the second step of signing in,
//! replay, recovery codes, lockout, and organisations that require it.

use crate::support::{PASSWORD, WRONG_PASSWORD, actor, describe, each_backend, second_factor_required, signed_in, wrong_code};
use chrono::Duration;
use rampart_auth::{AuthError, Scope, Target, totp};
use rampart_core::{Permission, Role, time};
use serde_json::json;
use std::collections::HashSet;

const EMAIL: &str = "alice@example.org";

const ALL_PERMISSIONS: [Permission; 8] = [
    Permission::DirectoryRead,
    Permission::OrgCreate,
    Permission::OrgManage,
    Permission::UserRead,
    Permission::UserManage,
    Permission::RoleGrant,
    Permission::AuditRead,
    Permission::SettingsManage,
];

#[tokio::test]
async fn totp_set_up_then_second_factor_on_every_login() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let id = env.user(&org.id, EMAIL).await;
        let first = env.sign_in(EMAIL).await;
        let me = env.principal(&first).await;

        // Confirming before starting is refused.
        let early = env.auth.confirm_totp(&actor(&me), "123456").await;
        assert!(matches!(early, Err(AuthError::Invalid { field: "code", .. })), "{early:?}");

        let (secret, uri) = env.auth.begin_totp_setup(&actor(&me)).await.unwrap();
        assert!(uri.starts_with("otpauth://totp/Rampart:alice%40example.org?"), "{uri}");
        assert!(uri.contains(&format!("secret={secret}")), "{uri}");
        assert_eq!(env.auth.pending_totp(&id).await.unwrap(), Some((secret.clone(), uri.clone())));

        // A wrong code does not turn it on.
        let wrong = env.auth.confirm_totp(&actor(&me), &wrong_code(&secret, env.now())).await;
        assert!(matches!(wrong, Err(AuthError::InvalidCode)), "{wrong:?}");
        assert!(!env.store.user_get(&id).await.unwrap().totp_enabled);

        let codes = env.auth.confirm_totp(&actor(&me), &env.code(&secret)).await.unwrap();
        assert_eq!(codes.len(), 10);
        assert_eq!(codes.iter().collect::<HashSet<_>>().len(), 10, "distinct codes");
        assert!(codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'), "{codes:?}");
        let user = env.store.user_get(&id).await.unwrap();
        assert!(user.totp_enabled);
        assert_eq!(env.store.recovery_codes_left(&id).await.unwrap(), 10);
        assert_eq!(env.auth.pending_totp(&id).await.unwrap(), None);
        let twice = env.auth.begin_totp_setup(&actor(&me)).await;
        assert!(matches!(twice, Err(AuthError::Invalid { field: "totp", .. })), "{twice:?}");

        // The next login stops at the second factor.
        env.advance(Duration::seconds(30));
        let pending = second_factor_required(env.login(EMAIL, PASSWORD).await);
        let (half, verified) = env.auth.session_principal(&pending).await.unwrap().expect("pending session");
        assert!(!verified, "second factor not passed yet");
        assert_eq!(half.user_id, id);
        assert!(half.totp_enabled);

        let bad = env.second_factor(&pending, &wrong_code(&secret, env.now())).await;
        assert!(matches!(bad, Err(AuthError::InvalidCode)), "{bad:?}");
        assert_eq!(env.session(&pending).await, Some(false), "a wrong code leaves the session pending");

        let code = env.code(&secret);
        let full = env.second_factor(&pending, &code).await.unwrap();
        assert_ne!(full, pending, "a new session id after the second factor");
        assert_eq!(env.session(&pending).await, None, "the pre-MFA id is worthless");
        assert_eq!(env.session(&full).await, Some(true));
        assert_eq!(env.store.user_get(&id).await.unwrap().totp_last_step, Some(env.now().timestamp() / 30));

        // The same code again, same step, on another login: a replay.
        let again = second_factor_required(env.login(EMAIL, PASSWORD).await);
        let replay = env.second_factor(&again, &code).await;
        assert!(matches!(replay, Err(AuthError::InvalidCode)), "{replay:?}");
        // So is the previous step's code, although still inside the skew.
        let older = totp::code_at(&secret, env.now() - Duration::seconds(30)).unwrap();
        let stale = env.second_factor(&again, &older).await;
        assert!(matches!(stale, Err(AuthError::InvalidCode)), "{stale:?}");

        // A recovery code works once.
        let by_recovery = env.second_factor(&again, &codes[0]).await.unwrap();
        assert_eq!(env.session(&by_recovery).await, Some(true));
        let third = second_factor_required(env.login(EMAIL, PASSWORD).await);
        let reused = env.second_factor(&third, &codes[0]).await;
        assert!(matches!(reused, Err(AuthError::InvalidCode)), "{reused:?}");
        // However it is typed: case and separators do not matter.
        let typed = codes[1].to_uppercase().replace('-', " ");
        let by_typed = env.second_factor(&third, &typed).await.unwrap();
        assert_eq!(env.session(&by_typed).await, Some(true));
        assert_eq!(env.store.recovery_codes_left(&id).await.unwrap(), 8);

        // The next step's code is fresh and works.
        env.advance(Duration::seconds(30));
        let fourth = second_factor_required(env.login(EMAIL, PASSWORD).await);
        env.second_factor(&fourth, &env.code(&secret)).await.unwrap();

        assert_eq!(env.audit("platform.user.totp_setup_started").await.len(), 1);
        assert_eq!(env.audit("platform.user.totp_enabled").await.len(), 1);
        assert_eq!(env.audit("platform.auth.password_ok").await.len(), 4);
        assert_eq!(env.audit("platform.auth.second_factor_failed").await.len(), 4);
        let methods: Vec<serde_json::Value> = env
            .audit("platform.auth.login")
            .await
            .iter()
            .map(|r| serde_json::from_str::<serde_json::Value>(&r.summary).unwrap()["second_factor"].clone())
            .collect();
        assert_eq!(methods, [json!(false), json!("totp"), json!("recovery_code"), json!("recovery_code"), json!("totp")]);
        // No audit entry carries a secret.
        for record in env.audit_all().await {
            assert!(!record.summary.contains(&secret), "{}", record.action);
            assert!(codes.iter().all(|c| !record.summary.contains(c.as_str())), "{}", record.action);
        }
    })
    .await;
}

/// A password does not reset the count of wrong second-factor codes, or an
/// attacker who knows the password could guess codes forever by signing in
/// again before every fifth guess.
#[tokio::test]
async fn wrong_codes_lock_the_account_across_new_logins() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let id = env.user(&org.id, EMAIL).await;
        let me = env.principal(&env.sign_in(EMAIL).await).await;
        let (secret, _codes) = env.enable_totp(&me).await;

        let first = second_factor_required(env.login(EMAIL, PASSWORD).await);
        for guess in 1..=4 {
            let outcome = env.second_factor(&first, &wrong_code(&secret, env.now())).await;
            assert!(matches!(outcome, Err(AuthError::InvalidCode)), "guess {guess}: {outcome:?}");
        }
        assert_eq!(env.store.user_get(&id).await.unwrap().failed_logins, 4);

        let second = second_factor_required(env.login(EMAIL, PASSWORD).await);
        assert_eq!(env.store.user_get(&id).await.unwrap().failed_logins, 4, "the password alone resets nothing");
        let until = time::format(env.now() + Duration::minutes(15));
        let fifth = env.second_factor(&second, &wrong_code(&secret, env.now())).await;
        assert!(matches!(fifth, Err(AuthError::InvalidCode)), "{fifth:?}");
        assert_eq!(env.store.user_get(&id).await.unwrap().locked_until.as_deref(), Some(until.as_str()));
        assert_eq!(env.session(&second).await, None, "the locking attempt's session is dropped");

        let locked = env.login(EMAIL, PASSWORD).await;
        assert!(matches!(&locked, Err(AuthError::Locked { until: u }) if *u == until), "{}", describe(&locked));

        env.advance(Duration::minutes(15) + Duration::seconds(1));
        let later = second_factor_required(env.login(EMAIL, PASSWORD).await);
        let token = env.second_factor(&later, &env.code(&secret)).await.unwrap();
        assert_eq!(env.session(&token).await, Some(true));
        let user = env.store.user_get(&id).await.unwrap();
        assert_eq!(user.failed_logins, 0);
        assert_eq!(user.locked_until, None);
        assert_eq!(env.audit("platform.auth.second_factor_failed").await.len(), 5);
    })
    .await;
}

/// A session that passed the password before the account was locked cannot
/// finish signing in while the lock lasts.
#[tokio::test]
async fn a_locked_account_cannot_finish_a_pending_second_factor() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let id = env.user(&org.id, EMAIL).await;
        let me = env.principal(&env.sign_in(EMAIL).await).await;
        let (secret, codes) = env.enable_totp(&me).await;

        let pending = second_factor_required(env.login(EMAIL, PASSWORD).await);
        // Meanwhile someone else hammers the password until it locks.
        for _ in 0..5 {
            let outcome = env.login(EMAIL, WRONG_PASSWORD).await;
            assert!(matches!(outcome, Err(AuthError::InvalidCredentials | AuthError::Locked { .. })), "{}", describe(&outcome));
        }
        let until = time::format(env.now() + Duration::minutes(15));
        assert_eq!(env.store.user_get(&id).await.unwrap().locked_until.as_deref(), Some(until.as_str()));

        let by_code = env.second_factor(&pending, &env.code(&secret)).await;
        assert!(matches!(&by_code, Err(AuthError::Locked { until: u }) if *u == until), "{by_code:?}");
        let by_recovery = env.second_factor(&pending, &codes[0]).await;
        assert!(matches!(&by_recovery, Err(AuthError::Locked { until: u }) if *u == until), "{by_recovery:?}");
        assert_eq!(env.store.recovery_codes_left(&id).await.unwrap(), 10, "nothing spent while locked");
        assert_eq!(env.session(&pending).await, Some(false));

        env.advance(Duration::minutes(15) + Duration::seconds(1));
        let token = env.second_factor(&pending, &env.code(&secret)).await.unwrap();
        assert_eq!(env.session(&token).await, Some(true));
    })
    .await;
}

#[tokio::test]
async fn an_org_that_requires_mfa_blocks_members_without_it() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let other = env.org("BR-CIRT", "BR").await;
        let id = env.user(&org.id, EMAIL).await;
        env.grant(&id, Role::OrgAdmin, Scope::Org(org.id.clone())).await;
        let outsider = env.user(&other.id, "bob@example.org").await;
        env.grant(&outsider, Role::Viewer, Scope::Org(other.id.clone())).await;

        let own = Target::Org { id: &org.id, country: Some("KE") };
        let targets = [Target::Platform, own, Target::Org { id: &other.id, country: Some("BR") }, Target::Country("KE")];
        let session = env.sign_in(EMAIL).await;
        let before = env.principal(&session).await;
        assert!(!before.must_set_up_mfa);
        assert!(before.allows(Permission::UserManage, own));
        // A token made before the rule; tokens are not held to browser MFA set-up.
        let (api_token, _) = env.auth.create_token(&actor(&before), "ci", &[Role::OrgAdmin], None).await.unwrap();

        env.auth.set_org_mfa_required(&env.cli(), &org.id, true).await.unwrap();
        assert!(env.store.org_get(&org.id).await.unwrap().mfa_required);

        // Existing and new sessions both come back restricted.
        let fresh = signed_in(env.login(EMAIL, PASSWORD).await);
        for token in [&session, &fresh] {
            let (principal, verified) = env.auth.session_principal(token).await.unwrap().expect("live session");
            assert!(verified);
            assert!(principal.must_set_up_mfa);
            assert_eq!(principal.grants.len(), 1, "grants kept, just not usable");
            for permission in ALL_PERMISSIONS {
                assert!(!principal.has(permission), "{permission:?}");
                for target in targets {
                    assert!(!principal.allows(permission, target), "{permission:?} on {target:?}");
                }
            }
            let lift = env.auth.set_org_mfa_required(&actor(&principal), &org.id, false).await;
            assert!(matches!(lift, Err(AuthError::Forbidden)), "{lift:?}");
        }
        // Other organisations are unaffected.
        let bob = env.principal(&env.sign_in("bob@example.org").await).await;
        assert!(!bob.must_set_up_mfa);
        assert!(bob.allows(Permission::DirectoryRead, Target::Org { id: &other.id, country: Some("BR") }));
        let via_token = env.auth.token_principal(&api_token).await.unwrap().expect("token");
        assert!(!via_token.must_set_up_mfa);
        assert!(via_token.allows(Permission::UserManage, own));

        // Setting up TOTP is open to the restricted user, and lifts the block.
        let (restricted, _) = env.auth.session_principal(&fresh).await.unwrap().expect("live session");
        env.enable_totp(&restricted).await;
        let after = env.principal(&fresh).await;
        assert!(!after.must_set_up_mfa);
        assert!(after.allows(Permission::UserManage, own));

        let changes = env.audit("platform.org.mfa_required").await;
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].entity_id.as_deref(), Some(org.id.as_str()));
        let summary: serde_json::Value = serde_json::from_str(&changes[0].summary).unwrap();
        assert_eq!(summary, json!({"before": false, "after": true}));
    })
    .await;
}
