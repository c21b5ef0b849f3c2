//! Administration rules: who may create users, grant roles and manage
//! organisations, and validation of new users.

use crate::support::{PASSWORD, actor, each_backend, new_user};
use rampart_auth::{AuthError, Grant, NewUserRequest, Scope, Target};
use rampart_core::{Permission, Role};
use rampart_store::{NewOrg, StoreError};

#[tokio::test]
async fn an_org_admin_manages_their_own_org_only() {
    each_backend(|env| async move {
        let home = env.org("KE-CIRT", "KE").await;
        let away = env.org("FR-CIRT", "FR").await;
        let admin_id = env.user(&home.id, "admin@ke.example").await;
        env.grant(&admin_id, Role::OrgAdmin, Scope::Org(home.id.clone())).await;
        let member_away = env.user(&away.id, "member@fr.example").await;
        let admin = env.principal(&env.sign_in("admin@ke.example").await).await;
        let users = env.store.user_count().await.unwrap();

        // Users: in the home org yes, elsewhere no.
        let member = env.auth.create_user(&actor(&admin), &new_user(&home.id, "member@ke.example")).await.unwrap();
        assert_eq!(env.store.user_get(&member).await.unwrap().org_id, home.id);
        assert_eq!(env.store.user_count().await.unwrap(), users + 1);
        let intruder = env.auth.create_user(&actor(&admin), &new_user(&away.id, "intruder@fr.example")).await;
        assert!(matches!(intruder, Err(AuthError::Forbidden)), "{intruder:?}");
        assert_eq!(env.store.user_count().await.unwrap(), users + 1);
        assert!(env.store.user_by_email("intruder@fr.example").await.unwrap().is_none());

        // Roles: home-org roles to home-org members.
        let viewer = env.auth.grant_role(&actor(&admin), &member, Role::Viewer, Scope::Org(home.id.clone())).await.unwrap();
        assert_eq!(
            (viewer.role.as_str(), viewer.scope_org_id.as_deref(), viewer.scope_country.as_deref()),
            ("viewer", Some(home.id.as_str()), None)
        );
        env.auth.grant_role(&actor(&admin), &member, Role::OrgAdmin, Scope::Org(home.id.clone())).await.unwrap();

        let refused: [(&str, Role, Scope, &str); 7] = [
            (&member, Role::PlatformAdmin, Scope::Global, "Forbidden"),
            (&member, Role::PlatformAdmin, Scope::Org(home.id.clone()), "Invalid(scope)"),
            (&member, Role::Viewer, Scope::Global, "Forbidden"),
            (&member, Role::Viewer, Scope::Org(away.id.clone()), "Forbidden"),
            (&member, Role::GciReviewer, Scope::Country("KE".into()), "Forbidden"),
            (&member_away, Role::Viewer, Scope::Org(home.id.clone()), "Forbidden"),
            (&member_away, Role::Viewer, Scope::Org(away.id.clone()), "Forbidden"),
        ];
        for (user, role, scope, want) in refused {
            let outcome = env.auth.grant_role(&actor(&admin), user, role, scope.clone()).await;
            let got = match &outcome {
                Err(AuthError::Forbidden) => "Forbidden".to_owned(),
                Err(AuthError::Invalid { field, .. }) => format!("Invalid({field})"),
                other => format!("{other:?}"),
            };
            assert_eq!(got, want, "{role} {scope:?}");
        }
        let held: Vec<String> = env.store.grants_of(&member).await.unwrap().into_iter().map(|g| g.role).collect();
        assert_eq!(held, ["org_admin", "viewer"]);
        assert!(env.store.grants_of(&member_away).await.unwrap().is_empty());
        assert_eq!(env.store.grants_of(&admin_id).await.unwrap().len(), 1);

        // Other actions on the other org's users and the org itself.
        let disable = env.auth.set_disabled(&actor(&admin), &member_away, true).await;
        assert!(matches!(disable, Err(AuthError::Forbidden)), "{disable:?}");
        let reset = env.auth.reset_password(&actor(&admin), &member_away, "another long passphrase", true).await;
        assert!(matches!(reset, Err(AuthError::Forbidden)), "{reset:?}");
        let mfa = env.auth.set_org_mfa_required(&actor(&admin), &away.id, true).await;
        assert!(matches!(mfa, Err(AuthError::Forbidden)), "{mfa:?}");
        assert!(!env.store.org_get(&away.id).await.unwrap().mfa_required);
        assert!(!env.store.user_get(&member_away).await.unwrap().disabled);
        let new_org = NewOrg {
            name: "Rogue CIRT".into(),
            short_name: None,
            kind: "national_cirt".into(),
            sector: None,
            country: Some("KE".into()),
            parent_id: None,
            website: None,
            mfa_required: false,
        };
        let created = env.auth.create_org(&actor(&admin), &new_org).await;
        assert!(matches!(created, Err(AuthError::Forbidden)), "{created:?}");
        assert_eq!(env.store.org_count().await.unwrap(), 2);
        let myself = env.auth.set_disabled(&actor(&admin), &admin_id, true).await;
        assert!(matches!(myself, Err(AuthError::Invalid { field: "user_id", .. })), "{myself:?}");

        // ...and what they may do at home.
        env.auth.set_disabled(&actor(&admin), &member, true).await.unwrap();
        env.auth.set_org_mfa_required(&actor(&admin), &home.id, true).await.unwrap();
        env.auth.revoke_role(&actor(&admin), &viewer.id).await.unwrap();
        assert_eq!(env.store.grants_of(&member).await.unwrap().len(), 1);

        let by_admin = |records: Vec<rampart_store::AuditRecord>| {
            records.into_iter().filter(|r| r.actor_id.as_deref() == Some(admin_id.as_str())).count()
        };
        assert_eq!(by_admin(env.audit("platform.user.create").await), 1);
        assert_eq!(by_admin(env.audit("platform.role.grant").await), 2);
        assert_eq!(by_admin(env.audit("platform.role.revoke").await), 1);
        assert_eq!(by_admin(env.audit("platform.user.disable").await), 1);
        assert_eq!(by_admin(env.audit("platform.org.mfa_required").await), 1);
    })
    .await;
}

#[tokio::test]
async fn a_platform_admin_grants_country_scoped_roles() {
    each_backend(|env| async move {
        let org = env.org("ITU", "CH").await;
        let id = env.user(&org.id, "reviewer@itu.example").await;

        let grant = env.auth.grant_role(&env.cli(), &id, Role::GciReviewer, Scope::Country("KE".into())).await.unwrap();
        assert_eq!((grant.scope_org_id, grant.scope_country.as_deref()), (None, Some("KE")));
        let reviewer = env.principal(&env.sign_in("reviewer@itu.example").await).await;
        assert_eq!(reviewer.grants, vec![Grant { role: Role::GciReviewer, scope: Scope::Country("KE".into()) }]);
        assert!(reviewer.allows(Permission::DirectoryRead, Target::Country("KE")));
        assert!(reviewer.allows(Permission::DirectoryRead, Target::Org { id: "anything", country: Some("KE") }));
        assert!(!reviewer.allows(Permission::DirectoryRead, Target::Country("BR")));

        // Only an exact ISO alpha-2 code of a real country.
        for code in ["XX", "ke", "KEN", "404", ""] {
            let outcome = env.auth.grant_role(&env.cli(), &id, Role::Viewer, Scope::Country(code.into())).await;
            assert!(matches!(outcome, Err(AuthError::Invalid { field: "scope", .. })), "{code:?}: {outcome:?}");
        }
        let admin_by_country = env.auth.grant_role(&env.cli(), &id, Role::PlatformAdmin, Scope::Country("KE".into())).await;
        assert!(matches!(admin_by_country, Err(AuthError::Invalid { field: "scope", .. })), "{admin_by_country:?}");
        let no_org = env.auth.grant_role(&env.cli(), &id, Role::Viewer, Scope::Org("no-such-org".into())).await;
        assert!(matches!(no_org, Err(AuthError::Invalid { field: "org_id", .. })), "{no_org:?}");
        let duplicate = env.auth.grant_role(&env.cli(), &id, Role::GciReviewer, Scope::Country("KE".into())).await;
        assert!(matches!(duplicate, Err(AuthError::Store(StoreError::Conflict { field: "role", .. }))), "{duplicate:?}");
        assert_eq!(env.store.grants_of(&id).await.unwrap().len(), 1);

        // Platform administration is granted platform-wide.
        env.auth.grant_role(&env.cli(), &id, Role::PlatformAdmin, Scope::Global).await.unwrap();
        let admin = env.principal(&env.sign_in("reviewer@itu.example").await).await;
        assert!(admin.is_platform_admin());
        assert!(admin.allows(Permission::OrgCreate, Target::Platform));

        let grants = env.audit("platform.role.grant").await;
        assert_eq!(grants.len(), 2);
        assert!(grants.iter().all(|r| r.actor_label == "cli:test" && r.entity_id.as_deref() == Some(id.as_str())));
    })
    .await;
}

#[tokio::test]
async fn create_user_names_the_bad_field_and_stores_nothing() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let users = env.store.user_count().await.unwrap();
        let entries = env.audit_len().await;

        let with = |change: &dyn Fn(&mut NewUserRequest)| {
            let mut request = new_user(&org.id, "me@example.org");
            change(&mut request);
            request
        };
        let cases: Vec<(NewUserRequest, &str)> = vec![
            (with(&|r| r.email = "not-an-email".into()), "email"),
            (with(&|r| r.email = "me@localhost".into()), "email"),
            (with(&|r| r.email = "two words@example.org".into()), "email"),
            (with(&|r| r.email = "me@example.org@evil.org".into()), "email"),
            (with(&|r| r.email = "@example.org".into()), "email"),
            (with(&|r| r.password = "short".into()), "password"),
            (with(&|r| r.password = "eleven char".into()), "password"),
            (with(&|r| r.password = "ME@EXAMPLE.ORG and more".into()), "password"),
            (with(&|r| r.language = "de".into()), "language"),
            (with(&|r| r.language = String::new()), "language"),
            (with(&|r| r.display_name = "   ".into()), "display_name"),
            (with(&|r| r.org_id = "no-such-org".into()), "org_id"),
        ];
        for (request, field) in cases {
            let outcome = env.auth.create_user(&env.cli(), &request).await;
            assert!(matches!(&outcome, Err(AuthError::Invalid { field: f, .. }) if *f == field), "{field}: {request:?} gave {outcome:?}");
        }
        assert_eq!(env.store.user_count().await.unwrap(), users, "nothing stored");
        assert_eq!(env.audit_len().await, entries, "nothing audited");

        // The same request with good values is accepted; the e-mail is kept
        // trimmed and lower-case, and the password is not kept at all.
        let id = env.auth.create_user(&env.cli(), &with(&|r| r.email = "  Me@Example.ORG ".into())).await.unwrap();
        let user = env.store.user_get(&id).await.unwrap();
        assert_eq!(user.email, "me@example.org");
        assert!(user.password_hash.starts_with("$argon2id$"));
        assert!(!user.password_hash.contains(PASSWORD));
        let again = env.auth.create_user(&env.cli(), &with(&|r| r.email = "ME@example.org".into())).await;
        assert!(matches!(again, Err(AuthError::Store(StoreError::Conflict { field: "email", .. }))), "{again:?}");
        assert_eq!(env.store.user_count().await.unwrap(), users + 1);

        let created = env.audit("platform.user.create").await;
        assert_eq!(created.len(), 1);
        assert_eq!(created[0].entity_id.as_deref(), Some(id.as_str()));
        assert!(!created[0].summary.contains(PASSWORD));
        assert_eq!(env.audit_len().await, entries + 1);
    })
    .await;
}
