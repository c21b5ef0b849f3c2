//! The web tier: server-rendered pages, the REST API under `/api/v1` with
//! its OpenAPI document, health, readiness and metrics.
//!
//! Architecture invariant: this is the only crate that knows HTTP. Handlers
//! turn requests into calls on the domain services and ask
//! `rampart_auth::access` every permission question; they hold no rule of
//! their own. Each module's pages live in `pages/<module>.rs` and its API in
//! `api/<module>.rs`.

pub mod api;
mod cookies;
mod error;
pub mod i18n;
mod listing;
mod map;
mod markdown;
mod metrics_layer;
mod misp_feed;
pub(crate) mod pages;
mod security;
pub mod server;
pub mod svg;
mod taxii;
mod viewer;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use rampart_auth::AuthService;
use rampart_auth::ratelimit::RateLimiter;
use rampart_store::Store;
use std::sync::Arc;

pub use error::WebError;
pub use server::{TlsFiles, serve};

/// Settings the web tier needs, validated by the caller (the CLI).
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (on when serving TLS or behind a TLS proxy).
    pub secure_cookies: bool,
    /// Send `Strict-Transport-Security`.
    pub hsts: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy
    /// you run; otherwise anyone could choose their address).
    pub trust_proxy: bool,
    /// Demo mode: the login page lists the demo accounts.
    pub demo: bool,
    /// Login attempts allowed per client address per minute.
    pub login_attempts_per_minute: u32,
    /// Demo accounts to list on the login page: (role label key, e-mail,
    /// password). Empty outside demo mode.
    pub demo_accounts: Vec<(String, String, String)>,
    /// How this Rampart is reached from outside (`https://cirt.example`),
    /// for the CSAF publisher namespace and absolute links in feeds.
    pub public_url: Option<String>,
    /// Signs published advisories (OpenPGP), if the operator gave a key.
    pub signer: Option<Arc<rampart_cirt::signing::Signer>>,
    /// The hotline: retention period and geolocation databases.
    pub hotline: rampart_cop::hotline::HotlineSettings,
    /// TAXII requests allowed per caller per minute (0: the default, 600).
    pub taxii_requests_per_minute: u32,
    /// Wrong flags a drill player may submit per minute (0: the default, 10).
    pub wrong_flags_per_minute: u32,
}

/// A scoreboard ready to send: its revision, the full JSON, and the
/// server-sent event every stream writes as it is (shared, not copied).
pub(crate) struct LiveBoard {
    pub revision: i64,
    pub json: String,
    pub frame: axum::body::Bytes,
}

/// Installs the process's Prometheus recorder now, so that work done
/// before the server starts (the demo feed, a pipeline's recovery) shows
/// in `/metrics`. Idempotent.
pub fn install_metrics_recorder() {
    let _ = metrics_layer::handle();
}

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    auth: AuthService,
    notifier: std::sync::OnceLock<Arc<rampart_cirt::notify::Notifier>>,
    /// The feed pipeline rows are pushed into, when the server runs one.
    feed_intake: std::sync::OnceLock<Arc<rampart_feeds::intake::Intake>>,
    desk: rampart_cirt::Desk,
    hotline: rampart_cop::hotline::Hotline,
    hash_lists: rampart_cop::lists::HashLists,
    guidance: rampart_cop::guidance::Guidance,
    gci: rampart_gci::campaigns::Gci,
    strategy: rampart_strategy::Strategy,
    taxii: rampart_intel::taxii::Taxii,
    indicators: rampart_intel::indicators::Indicators,
    drills: Arc<rampart_drills::Drills>,
    /// The latest scoreboard of each exercise as JSON, with the revision
    /// it was computed at: a thousand projector and player screens share one.
    scoreboards: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Arc<LiveBoard>)>>,
    /// Held while a scoreboard is computed, so a thousand streams waking
    /// together make one computation and not a thousand (single flight).
    scoreboard_flight: tokio::sync::Mutex<()>,
    /// Uncertainty analyses of published result sets, by set id: a set
    /// never changes once stored, so its analysis is computed once.
    gci_analyses: std::sync::Mutex<std::collections::HashMap<String, Arc<rampart_gci::uncertainty::Analysis>>>,
    public_form_limiter: RateLimiter,
    taxii_limiter: RateLimiter,
    status_limiter: RateLimiter,
    config: WebConfig,
    login_limiter: RateLimiter,
    metrics: PrometheusHandle,
    catalogues: i18n::Catalogues,
}

impl AppState {
    pub fn new(auth: AuthService, config: WebConfig) -> Self {
        let per_minute = if config.login_attempts_per_minute == 0 { 10 } else { config.login_attempts_per_minute };
        AppState {
            inner: Arc::new(Inner {
                notifier: std::sync::OnceLock::new(),
                feed_intake: std::sync::OnceLock::new(),
                desk: rampart_cirt::Desk::new(auth.store().clone(), auth.clock())
                    .with_public_url(config.public_url.as_deref().unwrap_or("http://localhost:8080"))
                    .with_signer(config.signer.clone()),
                hotline: rampart_cop::hotline::Hotline::new(auth.store().clone(), auth.clock(), config.hotline.clone()),
                hash_lists: rampart_cop::lists::HashLists::new(auth.store().clone(), auth.clock()),
                guidance: rampart_cop::guidance::Guidance::new(auth.store().clone(), auth.clock()),
                gci: rampart_gci::campaigns::Gci::new(auth.store().clone(), auth.clock()),
                strategy: rampart_strategy::Strategy::new(auth.store().clone(), auth.clock()),
                taxii: rampart_intel::taxii::Taxii::new(auth.store().clone(), auth.clock()),
                indicators: rampart_intel::indicators::Indicators::new(auth.store().clone(), auth.clock()),
                drills: Arc::new(rampart_drills::Drills::with_wrong_flag_limit(
                    auth.store().clone(),
                    auth.clock(),
                    if config.wrong_flags_per_minute == 0 {
                        rampart_drills::service::WRONG_FLAGS_PER_MINUTE
                    } else {
                        config.wrong_flags_per_minute
                    },
                )),
                scoreboards: std::sync::Mutex::new(std::collections::HashMap::new()),
                scoreboard_flight: tokio::sync::Mutex::new(()),
                gci_analyses: std::sync::Mutex::new(std::collections::HashMap::new()),
                // TAXII: generous for a polling peer, bounded for a runaway one.
                taxii_limiter: RateLimiter::new(
                    if config.taxii_requests_per_minute == 0 { 600 } else { config.taxii_requests_per_minute },
                    chrono::Duration::minutes(1),
                ),
                // Public forms: a few reports per address per ten minutes.
                public_form_limiter: RateLimiter::new(5, chrono::Duration::minutes(10)),
                // Receipt look-ups: enough for a reporter, too few to guess.
                status_limiter: RateLimiter::new(30, chrono::Duration::minutes(10)),
                auth,
                login_limiter: RateLimiter::new(per_minute, chrono::Duration::minutes(1)),
                config,
                metrics: metrics_layer::handle(),
                catalogues: i18n::Catalogues::load(),
            }),
        }
    }

    /// Attaches the notifier that sends queued notices (configured SMTP).
    /// Set once at start; a second call is ignored.
    pub fn with_notifier(self, notifier: Arc<rampart_cirt::notify::Notifier>) -> Self {
        let _ = self.inner.notifier.set(notifier);
        self
    }

    pub fn notifier(&self) -> Option<Arc<rampart_cirt::notify::Notifier>> {
        self.inner.notifier.get().cloned()
    }

    /// Attaches the feed pipeline (`[feeds] pipeline`, or the demo's) that
    /// pushed rows go into. Set once at start; a second call is ignored.
    pub fn with_feed_intake(self, intake: Arc<rampart_feeds::intake::Intake>) -> Self {
        let _ = self.inner.feed_intake.set(intake);
        self
    }

    pub fn feed_intake(&self) -> Option<Arc<rampart_feeds::intake::Intake>> {
        self.inner.feed_intake.get().cloned()
    }

    pub fn auth(&self) -> &AuthService {
        &self.inner.auth
    }

    pub fn desk(&self) -> &rampart_cirt::Desk {
        &self.inner.desk
    }

    pub(crate) fn public_form_limiter(&self) -> &RateLimiter {
        &self.inner.public_form_limiter
    }

    pub(crate) fn taxii_limiter(&self) -> &RateLimiter {
        &self.inner.taxii_limiter
    }

    pub(crate) fn status_limiter(&self) -> &RateLimiter {
        &self.inner.status_limiter
    }

    pub fn hotline(&self) -> &rampart_cop::hotline::Hotline {
        &self.inner.hotline
    }

    pub fn hash_lists(&self) -> &rampart_cop::lists::HashLists {
        &self.inner.hash_lists
    }

    pub fn guidance(&self) -> &rampart_cop::guidance::Guidance {
        &self.inner.guidance
    }

    pub fn gci(&self) -> &rampart_gci::campaigns::Gci {
        &self.inner.gci
    }

    pub fn strategy(&self) -> &rampart_strategy::Strategy {
        &self.inner.strategy
    }

    pub fn indicators(&self) -> &rampart_intel::indicators::Indicators {
        &self.inner.indicators
    }

    pub fn taxii(&self) -> &rampart_intel::taxii::Taxii {
        &self.inner.taxii
    }

    /// The drills service; shared with the server's exercise clock task.
    pub fn drills(&self) -> &Arc<rampart_drills::Drills> {
        &self.inner.drills
    }

    /// The live scoreboard of an exercise. One computed less than a second
    /// ago is reused: under hundreds of flags a second, a thousand screens
    /// share one computation (and one encoded event) a second instead of
    /// each making its own. `make` computes a fresh one.
    pub(crate) async fn live_board<F, Fut>(&self, exercise: &str, make: F) -> Result<Arc<LiveBoard>, crate::error::WebError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<LiveBoard, crate::error::WebError>>,
    {
        let fresh = || {
            self.inner
                .scoreboards
                .lock()
                .ok()
                .and_then(|cache| cache.get(exercise).cloned())
                .filter(|(made, _)| made.elapsed() < std::time::Duration::from_secs(1))
                .map(|(_, board)| board)
        };
        if let Some(found) = fresh() {
            return Ok(found);
        }
        let _flight = self.inner.scoreboard_flight.lock().await;
        // Whoever held the lock before us may have just made it.
        if let Some(found) = fresh() {
            return Ok(found);
        }
        let board = Arc::new(make().await?);
        if let Ok(mut cache) = self.inner.scoreboards.lock() {
            cache.insert(exercise.to_owned(), (std::time::Instant::now(), board.clone()));
        }
        Ok(board)
    }

    /// The cached analysis of a result set, computed by `make` on first use.
    pub fn gci_analysis(
        &self,
        set_id: &str,
        make: impl FnOnce() -> rampart_gci::uncertainty::Analysis,
    ) -> Arc<rampart_gci::uncertainty::Analysis> {
        if let Some(found) = self.inner.gci_analyses.lock().ok().and_then(|cache| cache.get(set_id).cloned()) {
            return found;
        }
        let analysis = Arc::new(make());
        if let Ok(mut cache) = self.inner.gci_analyses.lock() {
            cache.insert(set_id.to_owned(), analysis.clone());
        }
        analysis
    }

    pub fn store(&self) -> &Store {
        self.inner.auth.store()
    }

    pub fn config(&self) -> &WebConfig {
        &self.inner.config
    }

    pub(crate) fn catalogues(&self) -> &i18n::Catalogues {
        &self.inner.catalogues
    }

    pub(crate) fn login_limiter(&self) -> &RateLimiter {
        &self.inner.login_limiter
    }
}

/// The whole application: pages, API, health and metrics, with the
/// security-header, CSRF-cookie and metrics layers around them.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .merge(metrics_layer::routes())
        .merge(taxii::routes())
        .merge(misp_feed::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::layer))
        .layer(axum::middleware::from_fn(metrics_layer::track))
        // Bodies up to 2 MiB; routes that take files raise it for themselves.
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024))
        .with_state(state)
}
