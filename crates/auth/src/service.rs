//! Identity operations: log in, second factor, sessions, tokens, users,
//! roles and organisations. Each change checks permission through
//! `access`, writes through one store transaction and appends its audit
//! entry in that same transaction.

use crate::access::{Grant, Principal, Scope, Target, Via};
use crate::{AuthError, password, secret, totp};
use chrono::{DateTime, Duration, Utc};
use rampart_core::{Clock, OrgKind, Permission, Role, country, time};
use rampart_store::{ApiTokenRow, AuditEntry, NewOrg, NewUser, Organisation, RoleGrantRow, Store, StoreError, UserRow};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// Accounts in this e-mail domain are demo accounts: their documented
/// passwords work only while the server runs with `--demo`.
pub const DEMO_DOMAIN: &str = "demo.rampart.test";
pub const TOKEN_PREFIX: &str = "rmp_";
pub const LANGUAGES: [&str; 6] = ["en", "fr", "ar", "es", "ru", "zh"];

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub max_failed_logins: i64,
    pub lockout: Duration,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub demo_mode: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            max_failed_logins: 5,
            lockout: Duration::minutes(15),
            session_idle: Duration::hours(2),
            session_absolute: Duration::hours(12),
            demo_mode: false,
        }
    }
}

pub enum LoginOutcome {
    /// Signed in; the token goes into the session cookie.
    SignedIn { session_token: String },
    /// Password accepted; a second factor is needed on this session.
    SecondFactorRequired { session_token: String },
}

#[derive(Debug, Clone)]
pub struct NewUserRequest {
    pub org_id: String,
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub language: String,
    pub must_change_password: bool,
}

/// Who did something and from where, for the audit entry.
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    pub principal: &'a Principal,
    pub ip: Option<String>,
}

impl Actor<'_> {
    /// The audit entry for an action this actor took.
    pub fn entry(&self, action: &str, entity_type: &str, entity_id: Option<&str>, summary: serde_json::Value) -> AuditEntry {
        let label = match &self.principal.via {
            Via::Cli => format!("cli:{}", self.principal.email),
            Via::Token { token_id } => format!("{} (token {token_id})", self.principal.email),
            Via::Session => self.principal.email.clone(),
        };
        AuditEntry {
            actor_id: (!self.principal.user_id.is_empty()).then(|| self.principal.user_id.clone()),
            actor_label: label,
            actor_org_id: (!self.principal.org_id.is_empty()).then(|| self.principal.org_id.clone()),
            action: action.to_owned(),
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.map(str::to_owned),
            source_ip: self.ip.clone(),
            summary,
        }
    }
}

impl Principal {
    /// The command line acts with full authority: whoever runs it already
    /// controls the server and its database.
    pub fn cli(operator: &str) -> Principal {
        Principal {
            user_id: String::new(),
            email: operator.to_owned(),
            display_name: operator.to_owned(),
            org_id: String::new(),
            org_country: None,
            language: "en".into(),
            grants: vec![Grant { role: Role::PlatformAdmin, scope: Scope::Global }],
            via: Via::Cli,
            totp_enabled: false,
            must_set_up_mfa: false,
        }
    }
}

#[derive(Clone)]
pub struct AuthService {
    store: Store,
    clock: Arc<dyn Clock>,
    config: AuthConfig,
    /// API tokens checked in the last few seconds, by the token's hash:
    /// a busy API client (a TAXII peer paging a collection) would otherwise
    /// cost four queries a request. Cleared by every change this process
    /// makes to users, grants, tokens or organisations; another process's
    /// change (the command line, another node) shows within
    /// [`TOKEN_CACHE_SECONDS`].
    token_cache: Arc<std::sync::Mutex<HashMap<String, CachedToken>>>,
}

/// How long a checked API token is trusted without asking the database.
pub const TOKEN_CACHE_SECONDS: i64 = 5;
/// Tokens remembered at most; past it the cache starts afresh.
const TOKEN_CACHE_ENTRIES: usize = 10_000;

#[derive(Clone)]
struct CachedToken {
    principal: Principal,
    checked_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
}

fn system_entry(action: &str, user: &UserRow, ip: Option<&str>, summary: serde_json::Value) -> AuditEntry {
    AuditEntry {
        actor_id: Some(user.id.clone()),
        actor_label: user.email.clone(),
        actor_org_id: Some(user.org_id.clone()),
        action: action.to_owned(),
        entity_type: "user".into(),
        entity_id: Some(user.id.clone()),
        source_ip: ip.map(str::to_owned),
        summary,
    }
}

/// Failed attempts that still count: a lock that has run out starts the
/// count afresh (the store applies the same rule when it records the next
/// failure).
fn failures_so_far(user: &UserRow, now: DateTime<Utc>) -> i64 {
    match user.locked_until.as_deref().and_then(time::parse) {
        Some(until) if until <= now => 0,
        _ => user.failed_logins,
    }
}

/// A stored role grant as the access layer sees it; `None` for a role this
/// version does not know.
pub fn grant_from_row(row: &RoleGrantRow) -> Option<Grant> {
    let role: Role = row.role.parse().ok()?;
    let scope = match (&row.scope_org_id, &row.scope_country) {
        (Some(org), _) => Scope::Org(org.clone()),
        (None, Some(cc)) => Scope::Country(cc.clone()),
        (None, None) => Scope::Global,
    };
    Some(Grant { role, scope })
}

impl AuthService {
    pub fn new(store: Store, clock: Arc<dyn Clock>, config: AuthConfig) -> Self {
        AuthService { store, clock, config, token_cache: Arc::new(std::sync::Mutex::new(HashMap::new())) }
    }

    fn token_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedToken>> {
        self.token_cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets every checked token, after a change that may alter what a
    /// token's holder may do.
    fn forget_tokens(&self) {
        self.token_cache().clear();
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The clock, for the other services of the same process.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    // ----- signing in -------------------------------------------------

    pub async fn login(
        &self,
        email: &str,
        password_text: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<LoginOutcome, AuthError> {
        let now = self.now();
        let Some(user) = self.store.user_by_email(email).await? else {
            password::verify_dummy(password_text);
            return Err(AuthError::InvalidCredentials);
        };
        if let Some(until) = user.locked_until.as_deref().and_then(time::parse)
            && until > now
        {
            return Err(AuthError::Locked { until: time::format(until) });
        }
        let demo_account_outside_demo = user.email.ends_with(&format!("@{DEMO_DOMAIN}")) && !self.config.demo_mode;
        if !password::verify(password_text, &user.password_hash) || demo_account_outside_demo {
            let failures = failures_so_far(&user, now) + 1;
            let lock = (failures >= self.config.max_failed_logins).then(|| now + self.config.lockout);
            let mut tx = self.store.begin().await?;
            tx.user_login_failed(&user.id, lock, now).await?;
            let summary = json!({"failed_logins": failures, "locked_until": lock.map(time::format)});
            tx.audit(system_entry("platform.auth.login_failed", &user, ip, summary), now).await?;
            tx.commit().await?;
            return Err(match lock {
                Some(until) => AuthError::Locked { until: time::format(until) },
                None => AuthError::InvalidCredentials,
            });
        }
        if user.disabled {
            return Err(AuthError::Disabled);
        }
        let token = secret::random_token()?;
        let mut tx = self.store.begin().await?;
        // With a second factor to come, the password alone is not a
        // successful login: keep the failure count, or signing in again
        // would reset it and second-factor guessing would never lock.
        if !user.totp_enabled {
            tx.user_login_succeeded(&user.id, now).await?;
        }
        tx.session_insert(&secret::sha256_hex(&token), &user.id, !user.totp_enabled, ip, user_agent, now).await?;
        let action = if user.totp_enabled { "platform.auth.password_ok" } else { "platform.auth.login" };
        tx.audit(system_entry(action, &user, ip, json!({"second_factor": user.totp_enabled})), now).await?;
        tx.commit().await?;
        Ok(if user.totp_enabled {
            LoginOutcome::SecondFactorRequired { session_token: token }
        } else {
            LoginOutcome::SignedIn { session_token: token }
        })
    }

    /// Completes a login with a TOTP code or a recovery code. The session
    /// gets a new id, so an id seen before the second factor is worthless.
    pub async fn complete_second_factor(
        &self,
        session_token: &str,
        code: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<String, AuthError> {
        let now = self.now();
        let hash = secret::sha256_hex(session_token);
        let session = self.store.session_get(&hash).await?.ok_or(AuthError::Unauthenticated)?;
        if self.session_expired(&session, now) {
            return Err(AuthError::Unauthenticated);
        }
        let user = self.store.user_get(&session.user_id).await?;
        // A lock set after this session passed the password holds here too.
        if let Some(until) = user.locked_until.as_deref().and_then(time::parse)
            && until > now
        {
            return Err(AuthError::Locked { until: time::format(until) });
        }
        let secret_text = user.totp_secret.clone().filter(|_| user.totp_enabled).ok_or(AuthError::Unauthenticated)?;
        let mut tx = self.store.begin().await?;
        let accepted = match totp::verify(&secret_text, code, now)? {
            Some(step) => tx.user_advance_totp_step(&user.id, step).await?.then_some("totp"),
            None => {
                tx.recovery_code_use(&user.id, &secret::sha256_hex(&secret::normalise_code(code)), now).await?.then_some("recovery_code")
            }
        };
        let Some(method) = accepted else {
            let failures = failures_so_far(&user, now) + 1;
            let lock = (failures >= self.config.max_failed_logins).then(|| now + self.config.lockout);
            tx.user_login_failed(&user.id, lock, now).await?;
            if lock.is_some() {
                tx.session_delete(&hash).await?;
            }
            tx.audit(system_entry("platform.auth.second_factor_failed", &user, ip, json!({"failed_logins": failures})), now).await?;
            tx.commit().await?;
            return Err(AuthError::InvalidCode);
        };
        let new_token = secret::random_token()?;
        tx.session_delete(&hash).await?;
        tx.session_insert(&secret::sha256_hex(&new_token), &user.id, true, ip, user_agent, now).await?;
        tx.user_login_succeeded(&user.id, now).await?;
        tx.audit(system_entry("platform.auth.login", &user, ip, json!({"second_factor": method})), now).await?;
        tx.commit().await?;
        Ok(new_token)
    }

    pub async fn logout(&self, session_token: &str, ip: Option<&str>) -> Result<(), AuthError> {
        let hash = secret::sha256_hex(session_token);
        let Some(session) = self.store.session_get(&hash).await? else { return Ok(()) };
        let user = self.store.user_get(&session.user_id).await?;
        let mut tx = self.store.begin().await?;
        tx.session_delete(&hash).await?;
        tx.audit(system_entry("platform.auth.logout", &user, ip, json!({})), self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    fn session_expired(&self, session: &rampart_store::SessionRow, now: DateTime<Utc>) -> bool {
        // An unparseable time is treated as expired: fail closed.
        let (Some(created), Some(last_seen)) = (time::parse(&session.created_at), time::parse(&session.last_seen_at)) else {
            return true;
        };
        now - last_seen > self.config.session_idle || now - created > self.config.session_absolute
    }

    /// The principal behind a session cookie, with whether the second factor
    /// was passed. Expired sessions (idle or absolute) count as absent.
    pub async fn session_principal(&self, session_token: &str) -> Result<Option<(Principal, bool)>, AuthError> {
        let now = self.now();
        let hash = secret::sha256_hex(session_token);
        let Some(session) = self.store.session_get(&hash).await? else { return Ok(None) };
        if self.session_expired(&session, now) {
            return Ok(None);
        }
        let last_seen = time::parse(&session.last_seen_at).unwrap_or(now);
        let user = self.store.user_get(&session.user_id).await?;
        if user.disabled {
            return Ok(None);
        }
        // Touch at most once a minute: idle expiry needs no finer grain, and
        // it saves a write on every request.
        if now - last_seen > Duration::minutes(1) {
            self.store.session_touch(&hash, now).await?;
        }
        let principal = self.principal_for(&user, Via::Session, None).await?;
        Ok(Some((principal, session.mfa_verified)))
    }

    /// The principal behind an API token, limited to the token's roles.
    pub async fn token_principal(&self, token: &str) -> Result<Option<Principal>, AuthError> {
        let now = self.now();
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = secret::sha256_hex(token);
        if let Some(cached) = self.token_cache().get(&hash)
            && now - cached.checked_at < Duration::seconds(TOKEN_CACHE_SECONDS)
            && now >= cached.checked_at
            && cached.expires_at.is_none_or(|at| at > now)
        {
            return Ok(Some(cached.principal.clone()));
        }
        let Some(row) = self.store.token_by_hash(&hash).await? else { return Ok(None) };
        if row.revoked_at.is_some() || row.expires_at.as_deref().and_then(time::parse).is_some_and(|at| at <= now) {
            return Ok(None);
        }
        let user = self.store.user_get(&row.user_id).await?;
        if user.disabled {
            return Ok(None);
        }
        // "Last used" to the minute: a write on every request would put
        // every API call behind the database's single writer.
        let stale = row.last_used_at.as_deref().and_then(time::parse).is_none_or(|at| now - at >= Duration::minutes(1));
        if stale {
            self.store.token_touch(&row.id, now).await?;
        }
        let principal = self.principal_for(&user, Via::Token { token_id: row.id.clone() }, Some(&row.roles)).await?;
        let mut cache = self.token_cache();
        if cache.len() >= TOKEN_CACHE_ENTRIES {
            cache.clear();
        }
        let expires_at = row.expires_at.as_deref().and_then(time::parse);
        cache.insert(hash, CachedToken { principal: principal.clone(), checked_at: now, expires_at });
        Ok(Some(principal))
    }

    pub async fn principal_for(&self, user: &UserRow, via: Via, token_roles: Option<&[String]>) -> Result<Principal, AuthError> {
        let org = self.store.org_get(&user.org_id).await?;
        let grants = self
            .store
            .grants_of(&user.id)
            .await?
            .iter()
            .filter(|row| token_roles.is_none_or(|roles| roles.contains(&row.role)))
            .filter_map(grant_from_row)
            .collect();
        // A token holder has already proved possession of the token; MFA
        // set-up is a browser step and does not block the API.
        let must_set_up_mfa = org.mfa_required && !user.totp_enabled && via == Via::Session;
        Ok(Principal {
            user_id: user.id.clone(),
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            org_id: user.org_id.clone(),
            org_country: org.country,
            language: user.language.clone(),
            grants,
            via,
            totp_enabled: user.totp_enabled,
            must_set_up_mfa,
        })
    }

    // ----- two-factor set-up ------------------------------------------

    /// Starts TOTP set-up: stores a new unconfirmed secret and returns it
    /// with its provisioning URI.
    pub async fn begin_totp_setup(&self, actor: &Actor<'_>) -> Result<(String, String), AuthError> {
        let user_id = &actor.principal.user_id;
        let user = self.store.user_get(user_id).await?;
        if user.totp_enabled {
            return Err(AuthError::Invalid { field: "totp", message: "two-factor authentication is already on".into() });
        }
        let secret_text = totp::new_secret()?;
        let uri = totp::provisioning_uri(&secret_text, &user.email)?;
        let mut tx = self.store.begin().await?;
        tx.user_set_totp_pending(user_id, &secret_text, self.now()).await?;
        tx.audit(actor.entry("platform.user.totp_setup_started", "user", Some(user_id), json!({})), self.now()).await?;
        tx.commit().await?;
        Ok((secret_text, uri))
    }

    /// The pending secret, to show again if the set-up page is reloaded.
    pub async fn pending_totp(&self, user_id: &str) -> Result<Option<(String, String)>, AuthError> {
        let user = self.store.user_get(user_id).await?;
        match (user.totp_enabled, user.totp_secret) {
            (false, Some(secret_text)) => {
                let uri = totp::provisioning_uri(&secret_text, &user.email)?;
                Ok(Some((secret_text, uri)))
            }
            _ => Ok(None),
        }
    }

    /// Confirms set-up with a code from the app; returns ten recovery codes,
    /// shown once.
    pub async fn confirm_totp(&self, actor: &Actor<'_>, code: &str) -> Result<Vec<String>, AuthError> {
        let now = self.now();
        let user_id = &actor.principal.user_id;
        let user = self.store.user_get(user_id).await?;
        let secret_text = user.totp_secret.clone().ok_or(AuthError::Invalid { field: "code", message: "start the set-up first".into() })?;
        let step = totp::verify(&secret_text, code, now)?.ok_or(AuthError::InvalidCode)?;
        let codes = (0..10).map(|_| secret::recovery_code()).collect::<Result<Vec<_>, _>>()?;
        let hashes: Vec<String> = codes.iter().map(|c| secret::sha256_hex(c)).collect();
        let mut tx = self.store.begin().await?;
        tx.user_enable_totp(user_id, step, &hashes, now).await?;
        tx.audit(actor.entry("platform.user.totp_enabled", "user", Some(user_id), json!({"recovery_codes": 10})), now).await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Turns two-factor authentication off for a user: their own (password
    /// required) or, for a locked-out colleague, an administrator's act.
    pub async fn disable_totp(&self, actor: &Actor<'_>, user_id: &str, own_password: Option<&str>) -> Result<(), AuthError> {
        let user = self.store.user_get(user_id).await?;
        if user_id == actor.principal.user_id {
            let ok = own_password.is_some_and(|p| password::verify(p, &user.password_hash));
            if !ok {
                return Err(AuthError::Invalid { field: "password", message: "wrong password".into() });
            }
        } else {
            self.require_user_manage(actor.principal, &user).await?;
        }
        let mut tx = self.store.begin().await?;
        tx.user_disable_totp(user_id, self.now()).await?;
        tx.audit(actor.entry("platform.user.totp_disabled", "user", Some(user_id), json!({})), self.now()).await?;
        tx.commit().await?;
        self.forget_tokens();
        Ok(())
    }

    // ----- users ------------------------------------------------------

    async fn org_target(&self, org_id: &str) -> Result<Organisation, AuthError> {
        match self.store.org_get(org_id).await {
            Ok(org) => Ok(org),
            Err(StoreError::NotFound { .. }) => Err(AuthError::Invalid { field: "org_id", message: "no such organisation".into() }),
            Err(err) => Err(err.into()),
        }
    }

    async fn require_user_manage(&self, principal: &Principal, user: &UserRow) -> Result<(), AuthError> {
        let org = self.store.org_get(&user.org_id).await?;
        if principal.allows(Permission::UserManage, Target::Org { id: &org.id, country: org.country.as_deref() }) {
            Ok(())
        } else {
            Err(AuthError::Forbidden)
        }
    }

    /// May `principal` see this user at all? Outside their scope the answer
    /// is "no such user", so existence is not revealed.
    pub async fn can_read_user(&self, principal: &Principal, user: &UserRow) -> Result<bool, AuthError> {
        if principal.user_id == user.id {
            return Ok(true);
        }
        let org = self.store.org_get(&user.org_id).await?;
        Ok(principal.allows(Permission::UserRead, Target::Org { id: &org.id, country: org.country.as_deref() }))
    }

    pub async fn create_user(&self, actor: &Actor<'_>, request: &NewUserRequest) -> Result<String, AuthError> {
        let org = self.org_target(&request.org_id).await?;
        if !actor.principal.allows(Permission::UserManage, Target::Org { id: &org.id, country: org.country.as_deref() }) {
            return Err(AuthError::Forbidden);
        }
        let email = request.email.trim().to_lowercase();
        if !valid_email(&email) {
            return Err(AuthError::Invalid { field: "email", message: "is not an e-mail address".into() });
        }
        let display_name = request.display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 200 {
            return Err(AuthError::Invalid { field: "display_name", message: "must be 1 to 200 characters".into() });
        }
        if !LANGUAGES.contains(&request.language.as_str()) {
            return Err(AuthError::Invalid { field: "language", message: format!("must be one of {}", LANGUAGES.join(", ")) });
        }
        password::check_policy(&request.password, &email)?;
        let hash = password::hash(&request.password)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let id = tx
            .user_insert(
                &NewUser {
                    org_id: org.id.clone(),
                    email: email.clone(),
                    display_name: display_name.to_owned(),
                    password_hash: hash,
                    language: request.language.clone(),
                    must_change_password: request.must_change_password,
                },
                now,
            )
            .await?;
        let summary = json!({"after": {"email": email, "display_name": display_name, "org_id": org.id}});
        tx.audit(actor.entry("platform.user.create", "user", Some(&id), summary), now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn reset_password(&self, actor: &Actor<'_>, user_id: &str, new_password: &str, must_change: bool) -> Result<(), AuthError> {
        let user = self.store.user_get(user_id).await?;
        self.require_user_manage(actor.principal, &user).await?;
        password::check_policy(new_password, &user.email)?;
        let hash = password::hash(new_password)?;
        let mut tx = self.store.begin().await?;
        tx.user_set_password(user_id, &hash, must_change, self.now()).await?;
        tx.sessions_delete_for_user(user_id).await?;
        tx.audit(actor.entry("platform.user.password_reset", "user", Some(user_id), json!({"must_change": must_change})), self.now())
            .await?;
        tx.commit().await?;
        self.forget_tokens();
        Ok(())
    }

    pub async fn change_own_password(&self, actor: &Actor<'_>, current: &str, new_password: &str) -> Result<(), AuthError> {
        let user = self.store.user_get(&actor.principal.user_id).await?;
        if !password::verify(current, &user.password_hash) {
            return Err(AuthError::Invalid { field: "current_password", message: "wrong password".into() });
        }
        password::check_policy(new_password, &user.email)?;
        let hash = password::hash(new_password)?;
        let mut tx = self.store.begin().await?;
        tx.user_set_password(&user.id, &hash, false, self.now()).await?;
        tx.audit(actor.entry("platform.user.password_changed", "user", Some(&user.id), json!({})), self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_disabled(&self, actor: &Actor<'_>, user_id: &str, disabled: bool) -> Result<(), AuthError> {
        let user = self.store.user_get(user_id).await?;
        self.require_user_manage(actor.principal, &user).await?;
        if user_id == actor.principal.user_id && disabled {
            return Err(AuthError::Invalid { field: "user_id", message: "you cannot disable yourself".into() });
        }
        let mut tx = self.store.begin().await?;
        tx.user_set_disabled(user_id, disabled, self.now()).await?;
        let action = if disabled { "platform.user.disable" } else { "platform.user.enable" };
        tx.audit(
            actor.entry(action, "user", Some(user_id), json!({"before": {"disabled": user.disabled}, "after": {"disabled": disabled}})),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        self.forget_tokens();
        Ok(())
    }

    pub async fn set_language(&self, actor: &Actor<'_>, language: &str) -> Result<(), AuthError> {
        if !LANGUAGES.contains(&language) {
            return Err(AuthError::Invalid { field: "language", message: format!("must be one of {}", LANGUAGES.join(", ")) });
        }
        let user_id = &actor.principal.user_id;
        let mut tx = self.store.begin().await?;
        tx.user_set_language(user_id, language, self.now()).await?;
        tx.audit(actor.entry("platform.user.language", "user", Some(user_id), json!({"after": {"language": language}})), self.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Grants a role. Platform administrators grant anything anywhere; an
    /// organisation administrator grants roles in their own organisation to
    /// its members, never platform administration.
    pub async fn grant_role(&self, actor: &Actor<'_>, user_id: &str, role: Role, scope: Scope) -> Result<RoleGrantRow, AuthError> {
        let user = self.store.user_get(user_id).await?;
        let principal = actor.principal;
        match &scope {
            Scope::Global => {
                if !principal.is_platform_admin() {
                    return Err(AuthError::Forbidden);
                }
            }
            Scope::Org(org_id) => {
                let org = self.org_target(org_id).await?;
                if role.is_global_only() {
                    return Err(AuthError::Invalid { field: "scope", message: format!("{role} is granted platform-wide only") });
                }
                if !principal.allows(Permission::RoleGrant, Target::Org { id: &org.id, country: org.country.as_deref() }) {
                    return Err(AuthError::Forbidden);
                }
                if !principal.is_platform_admin() && user.org_id != org.id {
                    return Err(AuthError::Forbidden);
                }
            }
            Scope::Country(cc) => {
                if country::find(cc).is_none_or(|c| c.alpha2 != *cc) {
                    return Err(AuthError::Invalid { field: "scope", message: format!("unknown country code `{cc}`") });
                }
                if role.is_global_only() {
                    return Err(AuthError::Invalid { field: "scope", message: format!("{role} is granted platform-wide only") });
                }
                if !principal.is_platform_admin() {
                    return Err(AuthError::Forbidden);
                }
            }
        }
        if role.is_global_only() && scope != Scope::Global {
            return Err(AuthError::Invalid { field: "scope", message: format!("{role} is granted platform-wide only") });
        }
        let (scope_org, scope_country) = match &scope {
            Scope::Global => (None, None),
            Scope::Org(id) => (Some(id.as_str()), None),
            Scope::Country(cc) => (None, Some(cc.as_str())),
        };
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let grant = tx.role_grant(user_id, role.as_str(), scope_org, scope_country, now).await?;
        tx.audit(actor.entry("platform.role.grant", "user", Some(user_id), json!({"after": {"role": role, "scope": scope}})), now).await?;
        tx.commit().await?;
        self.forget_tokens();
        Ok(grant)
    }

    pub async fn revoke_role(&self, actor: &Actor<'_>, grant_id: &str) -> Result<(), AuthError> {
        let grant = self.store.grant_get(grant_id).await?;
        let allowed = match (&grant.scope_org_id, &grant.scope_country) {
            (Some(org_id), _) => {
                let org = self.store.org_get(org_id).await?;
                actor.principal.allows(Permission::RoleGrant, Target::Org { id: &org.id, country: org.country.as_deref() })
            }
            _ => actor.principal.is_platform_admin(),
        };
        if !allowed {
            return Err(AuthError::Forbidden);
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        tx.role_revoke(grant_id).await?;
        tx.audit(
            actor.entry(
                "platform.role.revoke",
                "user",
                Some(&grant.user_id),
                json!({"before": {"role": grant.role, "scope_org_id": grant.scope_org_id, "scope_country": grant.scope_country}}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.forget_tokens();
        Ok(())
    }

    // ----- API tokens -------------------------------------------------

    /// Creates a personal token limited to some of the user's roles; the
    /// returned text is shown once and never stored.
    pub async fn create_token(
        &self,
        actor: &Actor<'_>,
        name: &str,
        roles: &[Role],
        valid_days: Option<u32>,
    ) -> Result<(String, ApiTokenRow), AuthError> {
        let principal = actor.principal;
        if principal.must_set_up_mfa {
            return Err(AuthError::Forbidden);
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AuthError::Invalid { field: "name", message: "must be 1 to 100 characters".into() });
        }
        if roles.is_empty() {
            return Err(AuthError::Invalid { field: "roles", message: "choose at least one role".into() });
        }
        if let Some(role) = roles.iter().find(|role| !principal.has_role(**role)) {
            return Err(AuthError::Invalid { field: "roles", message: format!("you do not hold the role {role}") });
        }
        if valid_days.is_some_and(|days| days == 0 || days > 366) {
            return Err(AuthError::Invalid { field: "valid_days", message: "must be between 1 and 366".into() });
        }
        let now = self.now();
        let token = format!("{TOKEN_PREFIX}{}", secret::random_token()?);
        let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let role_names: Vec<String> = roles.iter().map(|r| r.as_str().to_owned()).collect();
        let expires = valid_days.map(|days| now + Duration::days(i64::from(days)));
        let mut tx = self.store.begin().await?;
        let row = tx.token_insert(&principal.user_id, name, &prefix, &secret::sha256_hex(&token), &role_names, expires, now).await?;
        tx.audit(
            actor.entry(
                "platform.token.create",
                "api_token",
                Some(&row.id),
                json!({"after": {"name": name, "roles": role_names, "expires_at": row.expires_at}}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.forget_tokens();
        Ok((token, row))
    }

    pub async fn revoke_token(&self, actor: &Actor<'_>, token_id: &str) -> Result<(), AuthError> {
        let row = self.store.token_get(token_id).await?;
        if row.user_id != actor.principal.user_id {
            let owner = self.store.user_get(&row.user_id).await?;
            self.require_user_manage(actor.principal, &owner)
                .await
                .map_err(|_| AuthError::Store(StoreError::NotFound { entity: "api token" }))?;
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        tx.token_revoke(token_id, now).await?;
        tx.audit(actor.entry("platform.token.revoke", "api_token", Some(token_id), json!({"name": row.name})), now).await?;
        tx.commit().await?;
        self.forget_tokens();
        Ok(())
    }

    // ----- organisations ----------------------------------------------

    pub async fn create_org(&self, actor: &Actor<'_>, org: &NewOrg) -> Result<Organisation, AuthError> {
        if !actor.principal.allows(Permission::OrgCreate, Target::Platform) {
            return Err(AuthError::Forbidden);
        }
        let name = org.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AuthError::Invalid { field: "name", message: "must be 1 to 200 characters".into() });
        }
        let kind: OrgKind =
            org.kind.parse().map_err(|_| AuthError::Invalid { field: "kind", message: format!("unknown kind `{}`", org.kind) })?;
        if let Some(sector) = &org.sector {
            sector
                .parse::<rampart_core::Sector>()
                .map_err(|_| AuthError::Invalid { field: "sector", message: format!("unknown sector `{sector}`") })?;
        }
        let country = match &org.country {
            Some(code) => Some(
                country::find(code)
                    .map(|c| c.alpha2.clone())
                    .ok_or_else(|| AuthError::Invalid { field: "country", message: format!("unknown country `{code}`") })?,
            ),
            None if kind == OrgKind::International => None,
            None => {
                return Err(AuthError::Invalid { field: "country", message: "required unless the organisation is international".into() });
            }
        };
        if let Some(parent) = &org.parent_id {
            self.org_target(parent).await.map_err(|_| AuthError::Invalid { field: "parent_id", message: "no such organisation".into() })?;
        }
        let clean = NewOrg { name: name.to_owned(), country, kind: kind.as_str().to_owned(), ..org.clone() };
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let created = tx.org_insert(&clean, now).await?;
        tx.audit(
            actor.entry(
                "platform.org.create",
                "organisation",
                Some(&created.id),
                json!({"after": {"name": created.name, "kind": created.kind, "country": created.country}}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Adds a contact (a role address such as "incident reports") to an
    /// organisation; its managers and platform administrators may.
    pub async fn add_contact(
        &self,
        actor: &Actor<'_>,
        org_id: &str,
        role: &str,
        name: Option<&str>,
        email: &str,
        phone: Option<&str>,
    ) -> Result<rampart_store::Contact, AuthError> {
        let org = self.org_target(org_id).await?;
        if !actor.principal.allows(Permission::OrgManage, Target::Org { id: &org.id, country: org.country.as_deref() }) {
            return Err(AuthError::Forbidden);
        }
        let role = role.trim();
        if role.is_empty() || role.chars().count() > 100 {
            return Err(AuthError::Invalid { field: "role", message: "must be 1 to 100 characters".into() });
        }
        let email = email.trim().to_lowercase();
        if !valid_email(&email) {
            return Err(AuthError::Invalid { field: "email", message: "is not an e-mail address".into() });
        }
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        let phone = phone.map(str::trim).filter(|p| !p.is_empty());
        if phone.is_some_and(|p| p.chars().count() > 40 || !p.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))) {
            return Err(AuthError::Invalid { field: "phone", message: "may hold digits, spaces and + - ( ) . only".into() });
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let contact = tx.contact_insert(&org.id, role, name, &email, phone, now).await?;
        tx.audit(
            actor.entry("platform.org.contact_add", "organisation", Some(&org.id), json!({"after": {"role": role, "email": email}})),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(contact)
    }

    pub async fn remove_contact(&self, actor: &Actor<'_>, org_id: &str, contact_id: &str) -> Result<(), AuthError> {
        let org = self.org_target(org_id).await?;
        if !actor.principal.allows(Permission::OrgManage, Target::Org { id: &org.id, country: org.country.as_deref() }) {
            return Err(AuthError::Forbidden);
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let removed = tx.contact_delete(&org.id, contact_id).await?;
        tx.audit(
            actor.entry(
                "platform.org.contact_remove",
                "organisation",
                Some(&org.id),
                json!({"before": {"role": removed.role, "email": removed.email}}),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_org_mfa_required(&self, actor: &Actor<'_>, org_id: &str, required: bool) -> Result<(), AuthError> {
        let org = self.org_target(org_id).await?;
        if !actor.principal.allows(Permission::OrgManage, Target::Org { id: &org.id, country: org.country.as_deref() }) {
            return Err(AuthError::Forbidden);
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        tx.org_set_mfa_required(org_id, required, now).await?;
        tx.audit(
            actor.entry("platform.org.mfa_required", "organisation", Some(org_id), json!({"before": org.mfa_required, "after": required})),
            now,
        )
        .await?;
        tx.commit().await?;
        self.forget_tokens();
        Ok(())
    }
}

/// A deliberately loose check: one `@`, something on both sides, a dot in
/// the domain. Real validation is the confirmation e-mail.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && email.len() <= 254
        && !domain.contains('@')
}
