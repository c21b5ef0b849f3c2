//! Configuration: a TOML file, then `RAMPART_*` environment variables over
//! it, validated once at start. An invalid value stops start-up with a
//! message naming the key.

use rampart_store::Location;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_DATABASE: &str = "./rampart-data/rampart.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub database: RawDatabase,
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub auth: RawAuth,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub smtp: RawSmtp,
    #[serde(default)]
    pub csaf: RawCsaf,
    #[serde(default)]
    pub cop: RawCop,
    #[serde(default)]
    pub intel: RawIntel,
    #[serde(default)]
    pub drills: RawDrills,
    #[serde(default)]
    pub feeds: RawFeeds,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawFeeds {
    /// The feed pipeline `serve` runs (TOML, see `rampart feeds check`):
    /// its folder collectors, and the push endpoint's feeds.
    pub pipeline: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDrills {
    /// Wrong flags one player may submit per minute before being told to wait.
    pub wrong_flags_per_minute: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawIntel {
    /// Requests one caller may make to TAXII and the MISP feeds each minute.
    pub taxii_requests_per_minute: Option<i64>,
    /// Peer TAXII servers to federate with.
    #[serde(default)]
    pub peers: Vec<RawPeer>,
}

/// `[[intel.peers]]`: one peer TAXII server.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPeer {
    pub name: Option<String>,
    pub api_root: Option<String>,
    pub remote_collection: Option<String>,
    pub local_collection: Option<String>,
    /// pull, push or both.
    pub direction: Option<String>,
    /// The local account (e-mail) whose rights apply.
    pub account: Option<String>,
    /// An API token sent as Bearer (a Rampart peer), or …
    pub token: Option<String>,
    /// … HTTP Basic (medallion and most other servers).
    pub username: Option<String>,
    pub password: Option<String>,
    /// The most restrictive TLP pushed: CLEAR, GREEN (the default) or AMBER.
    pub max_tlp: Option<String>,
    pub interval_seconds: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawCop {
    pub retention_days: Option<i64>,
    /// A MaxMind GeoIP2/GeoLite2 Country or City database.
    pub geoip_country: Option<PathBuf>,
    /// A MaxMind GeoLite2 ASN database.
    pub geoip_asn: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawCsaf {
    pub signing_key: Option<PathBuf>,
    pub signing_key_passphrase: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    pub host: Option<String>,
    pub port: Option<i64>,
    pub from: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: Option<String>,
}

/// Where notices to constituents are sent from.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub credentials: Option<(String, String)>,
    pub tls: rampart_cirt::notify::TlsMode,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub bind: Option<String>,
    pub tls_certificate: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub trust_proxy: Option<bool>,
    pub secure_cookies: Option<bool>,
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub max_failed_logins: Option<i64>,
    pub lockout_minutes: Option<i64>,
    pub session_idle_minutes: Option<i64>,
    pub session_absolute_hours: Option<i64>,
    pub login_attempts_per_minute: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub format: Option<String>,
    pub level: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Configuration after validation: every value has its type and meaning.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: Location,
    pub bind: SocketAddr,
    pub tls: Option<rampart_web::TlsFiles>,
    pub trust_proxy: bool,
    pub secure_cookies: bool,
    /// How people and peers reach this Rampart (`https://cirt.example`): the
    /// CSAF publisher namespace and the base of published links. `None`:
    /// the address it listens on.
    pub public_url: Option<String>,
    pub max_failed_logins: i64,
    pub lockout_minutes: i64,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    pub login_attempts_per_minute: u32,
    pub log_format: LogFormat,
    pub log_level: String,
    /// `None`: notices are queued but not sent.
    pub smtp: Option<SmtpConfig>,
    /// An armoured OpenPGP secret key that signs published advisories, and
    /// its passphrase; read when the server starts.
    pub csaf_signing_key: Option<(PathBuf, Option<String>)>,
    /// Days a hotline keeps reporters' personal data.
    pub cop_retention_days: u32,
    /// MaxMind databases for tracing reported content; opened at start.
    pub geoip_country: Option<PathBuf>,
    pub geoip_asn: Option<PathBuf>,
    /// Requests one caller may make to TAXII and the MISP feeds each minute.
    pub taxii_requests_per_minute: u32,
    /// Peer TAXII servers, checked at start.
    pub peers: Vec<rampart_intel::federation::Peer>,
    /// Wrong flags one drill player may submit per minute.
    pub wrong_flags_per_minute: u32,
    /// The feed pipeline `serve` runs; checked when it starts.
    pub feeds_pipeline: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

fn bad(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { key: key.to_owned(), message: message.into() }
}

/// The environment variables read, each with the key it overrides.
pub const ENV_KEYS: [(&str, &str); 28] = [
    ("RAMPART_DATABASE_URL", "database.url"),
    ("RAMPART_SERVER_BIND", "server.bind"),
    ("RAMPART_SERVER_TLS_CERTIFICATE", "server.tls_certificate"),
    ("RAMPART_SERVER_TLS_KEY", "server.tls_key"),
    ("RAMPART_SERVER_TRUST_PROXY", "server.trust_proxy"),
    ("RAMPART_SERVER_SECURE_COOKIES", "server.secure_cookies"),
    ("RAMPART_SERVER_PUBLIC_URL", "server.public_url"),
    ("RAMPART_AUTH_MAX_FAILED_LOGINS", "auth.max_failed_logins"),
    ("RAMPART_AUTH_LOCKOUT_MINUTES", "auth.lockout_minutes"),
    ("RAMPART_AUTH_SESSION_IDLE_MINUTES", "auth.session_idle_minutes"),
    ("RAMPART_AUTH_SESSION_ABSOLUTE_HOURS", "auth.session_absolute_hours"),
    ("RAMPART_AUTH_LOGIN_ATTEMPTS_PER_MINUTE", "auth.login_attempts_per_minute"),
    ("RAMPART_LOG_FORMAT", "log.format"),
    ("RAMPART_LOG_LEVEL", "log.level"),
    ("RAMPART_SMTP_HOST", "smtp.host"),
    ("RAMPART_SMTP_PORT", "smtp.port"),
    ("RAMPART_SMTP_FROM", "smtp.from"),
    ("RAMPART_SMTP_USERNAME", "smtp.username"),
    ("RAMPART_SMTP_PASSWORD", "smtp.password"),
    ("RAMPART_SMTP_TLS", "smtp.tls"),
    ("RAMPART_CSAF_SIGNING_KEY", "csaf.signing_key"),
    ("RAMPART_CSAF_SIGNING_KEY_PASSPHRASE", "csaf.signing_key_passphrase"),
    ("RAMPART_COP_RETENTION_DAYS", "cop.retention_days"),
    ("RAMPART_COP_GEOIP_COUNTRY", "cop.geoip_country"),
    ("RAMPART_COP_GEOIP_ASN", "cop.geoip_asn"),
    ("RAMPART_INTEL_TAXII_REQUESTS_PER_MINUTE", "intel.taxii_requests_per_minute"),
    ("RAMPART_DRILLS_WRONG_FLAGS_PER_MINUTE", "drills.wrong_flags_per_minute"),
    ("RAMPART_FEEDS_PIPELINE", "feeds.pipeline"),
];

fn parse_bool(key: &str, text: &str) -> Result<bool, ConfigError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(bad(key, format!("`{text}` is not true or false"))),
    }
}

fn parse_int(key: &str, text: &str) -> Result<i64, ConfigError> {
    text.trim().parse().map_err(|_| bad(key, format!("`{text}` is not a whole number")))
}

impl RawConfig {
    pub fn from_file(path: &Path) -> Result<RawConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| bad("--config", format!("{}: {err}", path.display())))?;
        Self::from_toml(&text).map_err(|err| ConfigError { key: format!("{} {}", path.display(), err.key), message: err.message })
    }

    pub fn from_toml(text: &str) -> Result<RawConfig, ConfigError> {
        toml::from_str(text).map_err(|err| {
            // toml names the offending key in its message; keep it whole.
            let message = err.message().to_owned();
            let span = err.span().map(|s| s.start).unwrap_or(0);
            let line = text[..span.min(text.len())].matches('\n').count() + 1;
            bad(&format!("line {line}"), message)
        })
    }

    /// Applies environment overrides from `lookup` (the process environment
    /// in production, a map in tests).
    pub fn apply_env(&mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for (var, key) in ENV_KEYS {
            let Some(value) = lookup(var) else { continue };
            let int = |v: &str| parse_int(var, v);
            match key {
                "database.url" => self.database.url = Some(value),
                "server.bind" => self.server.bind = Some(value),
                "server.tls_certificate" => self.server.tls_certificate = Some(value.into()),
                "server.tls_key" => self.server.tls_key = Some(value.into()),
                "server.trust_proxy" => self.server.trust_proxy = Some(parse_bool(var, &value)?),
                "server.secure_cookies" => self.server.secure_cookies = Some(parse_bool(var, &value)?),
                "server.public_url" => self.server.public_url = Some(value),
                "auth.max_failed_logins" => self.auth.max_failed_logins = Some(int(&value)?),
                "auth.lockout_minutes" => self.auth.lockout_minutes = Some(int(&value)?),
                "auth.session_idle_minutes" => self.auth.session_idle_minutes = Some(int(&value)?),
                "auth.session_absolute_hours" => self.auth.session_absolute_hours = Some(int(&value)?),
                "auth.login_attempts_per_minute" => self.auth.login_attempts_per_minute = Some(int(&value)?),
                "log.format" => self.log.format = Some(value),
                "log.level" => self.log.level = Some(value),
                "smtp.host" => self.smtp.host = Some(value),
                "smtp.port" => self.smtp.port = Some(int(&value)?),
                "smtp.from" => self.smtp.from = Some(value),
                "smtp.username" => self.smtp.username = Some(value),
                "smtp.password" => self.smtp.password = Some(value),
                "smtp.tls" => self.smtp.tls = Some(value),
                "csaf.signing_key" => self.csaf.signing_key = Some(value.into()),
                "csaf.signing_key_passphrase" => self.csaf.signing_key_passphrase = Some(value),
                "cop.retention_days" => self.cop.retention_days = Some(int(&value)?),
                "cop.geoip_country" => self.cop.geoip_country = Some(value.into()),
                "cop.geoip_asn" => self.cop.geoip_asn = Some(value.into()),
                "intel.taxii_requests_per_minute" => self.intel.taxii_requests_per_minute = Some(int(&value)?),
                "drills.wrong_flags_per_minute" => self.drills.wrong_flags_per_minute = Some(int(&value)?),
                "feeds.pipeline" => self.feeds.pipeline = Some(value.into()),
                _ => {}
            }
        }
        Ok(())
    }

    pub fn validate(self) -> Result<Config, ConfigError> {
        let database = self.database.url.unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        if database.trim().is_empty() {
            return Err(bad("database.url", "must not be empty"));
        }
        if database.starts_with("mysql:") || database.starts_with("mariadb:") {
            return Err(bad("database.url", "only SQLite paths and postgres:// URLs are supported"));
        }
        let bind_text = self.server.bind.unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind: SocketAddr =
            bind_text.parse().map_err(|_| bad("server.bind", format!("`{bind_text}` is not an address:port like 127.0.0.1:8080")))?;
        let tls = match (self.server.tls_certificate, self.server.tls_key) {
            (None, None) => None,
            (Some(_), None) => return Err(bad("server.tls_key", "is required when server.tls_certificate is set")),
            (None, Some(_)) => return Err(bad("server.tls_certificate", "is required when server.tls_key is set")),
            (Some(certificate), Some(key)) => {
                for (name, path) in [("server.tls_certificate", &certificate), ("server.tls_key", &key)] {
                    if !path.is_file() {
                        return Err(bad(name, format!("{} is not a readable file", path.display())));
                    }
                }
                Some(rampart_web::TlsFiles { certificate, key })
            }
        };
        let ranged = |key: &str, value: Option<i64>, default: i64, low: i64, high: i64| -> Result<i64, ConfigError> {
            let value = value.unwrap_or(default);
            if value < low || value > high {
                return Err(bad(key, format!("{value} is outside {low}..={high}")));
            }
            Ok(value)
        };
        let log_format = match self.log.format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(bad("log.format", format!("`{other}` is not text or json"))),
        };
        let log_level = self.log.level.unwrap_or_else(|| "info".to_owned());
        if !["error", "warn", "info", "debug", "trace"].contains(&log_level.as_str()) {
            return Err(bad("log.level", format!("`{log_level}` is not one of error, warn, info, debug, trace")));
        }
        let tls_on = tls.is_some();
        let smtp = match self.smtp.host.filter(|h| !h.trim().is_empty()) {
            None => None,
            Some(host) => {
                let port = u16::try_from(ranged("smtp.port", self.smtp.port, 25, 1, 65535)?).unwrap_or(25);
                let from = self.smtp.from.ok_or_else(|| bad("smtp.from", "is required when smtp.host is set"))?;
                if !from.contains('@') {
                    return Err(bad("smtp.from", format!("`{from}` is not an e-mail address")));
                }
                let tls = match self.smtp.tls.as_deref().unwrap_or("opportunistic") {
                    "opportunistic" => rampart_cirt::notify::TlsMode::Opportunistic,
                    "required" => rampart_cirt::notify::TlsMode::Required,
                    "none" => rampart_cirt::notify::TlsMode::None,
                    other => return Err(bad("smtp.tls", format!("`{other}` is not opportunistic, required or none"))),
                };
                let credentials = match (self.smtp.username, self.smtp.password) {
                    (Some(user), Some(password)) => Some((user, password)),
                    (None, None) => None,
                    (Some(_), None) => return Err(bad("smtp.password", "is required when smtp.username is set")),
                    (None, Some(_)) => return Err(bad("smtp.username", "is required when smtp.password is set")),
                };
                Some(SmtpConfig { host, port, from, credentials, tls })
            }
        };
        Ok(Config {
            database: Location::parse(&database),
            bind,
            tls,
            trust_proxy: self.server.trust_proxy.unwrap_or(false),
            secure_cookies: self.server.secure_cookies.unwrap_or(tls_on),
            public_url: match self.server.public_url {
                None => None,
                Some(url) => {
                    let url = url.trim().trim_end_matches('/').to_owned();
                    let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or("");
                    if host.is_empty() || host.contains('/') || host.contains(char::is_whitespace) {
                        return Err(bad("server.public_url", "an http(s) address without a path, such as https://cirt.example"));
                    }
                    Some(url)
                }
            },
            max_failed_logins: ranged("auth.max_failed_logins", self.auth.max_failed_logins, 5, 1, 100)?,
            lockout_minutes: ranged("auth.lockout_minutes", self.auth.lockout_minutes, 15, 1, 1440)?,
            session_idle_minutes: ranged("auth.session_idle_minutes", self.auth.session_idle_minutes, 120, 5, 1440)?,
            session_absolute_hours: ranged("auth.session_absolute_hours", self.auth.session_absolute_hours, 12, 1, 720)?,
            login_attempts_per_minute: u32::try_from(ranged(
                "auth.login_attempts_per_minute",
                self.auth.login_attempts_per_minute,
                10,
                1,
                10_000,
            )?)
            .unwrap_or(10),
            log_format,
            log_level,
            smtp,
            csaf_signing_key: match self.csaf.signing_key {
                None if self.csaf.signing_key_passphrase.is_some() => {
                    return Err(bad("csaf.signing_key", "is required when csaf.signing_key_passphrase is set"));
                }
                None => None,
                Some(path) if !path.is_file() => return Err(bad("csaf.signing_key", format!("{} is not a readable file", path.display()))),
                Some(path) => Some((path, self.csaf.signing_key_passphrase)),
            },
            cop_retention_days: u32::try_from(ranged("cop.retention_days", self.cop.retention_days, 90, 1, 3650)?).unwrap_or(90),
            geoip_country: match self.cop.geoip_country {
                Some(path) if !path.is_file() => {
                    return Err(bad("cop.geoip_country", format!("{} is not a readable file", path.display())));
                }
                other => other,
            },
            geoip_asn: match self.cop.geoip_asn {
                Some(path) if !path.is_file() => return Err(bad("cop.geoip_asn", format!("{} is not a readable file", path.display()))),
                other => other,
            },
            taxii_requests_per_minute: u32::try_from(ranged(
                "intel.taxii_requests_per_minute",
                self.intel.taxii_requests_per_minute,
                600,
                1,
                100_000_000,
            )?)
            .unwrap_or(600),
            peers: peers(self.intel.peers)?,
            wrong_flags_per_minute: u32::try_from(ranged(
                "drills.wrong_flags_per_minute",
                self.drills.wrong_flags_per_minute,
                10,
                1,
                1_000_000,
            )?)
            .unwrap_or(10),
            feeds_pipeline: match self.feeds.pipeline {
                Some(path) if !path.is_file() => return Err(bad("feeds.pipeline", format!("{} is not a readable file", path.display()))),
                other => other,
            },
        })
    }
}

/// Checks `[[intel.peers]]`; an error names the peer by its position.
fn peers(raw: Vec<RawPeer>) -> Result<Vec<rampart_intel::federation::Peer>, ConfigError> {
    use rampart_intel::client::Credentials;
    let mut peers: Vec<rampart_intel::federation::Peer> = Vec::new();
    for (i, peer) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("intel.peers[{i}].{field}");
        let required = |field: &str, value: Option<String>| {
            value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).ok_or_else(|| bad(&key(field), "is required"))
        };
        let name = required("name", peer.name)?;
        if peers.iter().any(|p| p.name == name) {
            return Err(bad(&key("name"), format!("another peer is already called {name}")));
        }
        let (pull, push) = match required("direction", peer.direction)?.as_str() {
            "pull" => (true, false),
            "push" => (false, true),
            "both" => (true, true),
            other => return Err(bad(&key("direction"), format!("`{other}` is not pull, push or both"))),
        };
        let credentials = match (peer.token, peer.username, peer.password) {
            (None, None, None) => Credentials::None,
            (Some(token), None, None) => Credentials::Bearer(token),
            (None, Some(username), Some(password)) => Credentials::Basic { username, password },
            (None, Some(_), None) => return Err(bad(&key("password"), "is required when username is set")),
            (None, None, Some(_)) => return Err(bad(&key("username"), "is required when password is set")),
            (Some(_), _, _) => return Err(bad(&key("token"), "give a token or a username and password, not both")),
        };
        let max_tlp = peer.max_tlp.as_deref().unwrap_or("GREEN");
        let max_tlp: rampart_core::Tlp = max_tlp.parse().map_err(|_| bad(&key("max_tlp"), format!("`{max_tlp}` is not a TLP label")))?;
        let interval = peer.interval_seconds.unwrap_or(300);
        if !(1..=86_400).contains(&interval) {
            return Err(bad(&key("interval_seconds"), format!("{interval} is outside 1..=86400")));
        }
        let peer = rampart_intel::federation::Peer {
            name,
            api_root: required("api_root", peer.api_root)?,
            remote_collection: required("remote_collection", peer.remote_collection)?,
            local_collection: required("local_collection", peer.local_collection)?,
            pull,
            push,
            account: required("account", peer.account)?,
            credentials,
            max_tlp,
            interval_seconds: u64::try_from(interval).unwrap_or(300),
        };
        peer.check().map_err(|err| match err {
            rampart_intel::IntelError::Invalid { path, message } => bad(&key(&path), message),
            other => bad(&key("api_root"), other.to_string()),
        })?;
        peers.push(peer);
    }
    Ok(peers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn defaults_are_the_demo_setup() {
        let config = RawConfig::default().validate().unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database, Location::Sqlite(DEFAULT_DATABASE.into()));
        assert!(!config.secure_cookies);
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut raw = RawConfig::from_toml("[server]\nbind = \"127.0.0.1:9000\"\n[auth]\nlockout_minutes = 30\n").unwrap();
        raw.apply_env(env(&[("RAMPART_SERVER_BIND", "0.0.0.0:8443"), ("RAMPART_LOG_FORMAT", "json")])).unwrap();
        let config = raw.validate().unwrap();
        assert_eq!(config.bind.to_string(), "0.0.0.0:8443");
        assert_eq!(config.lockout_minutes, 30);
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases: Vec<(RawConfig, &str)> = vec![
            (RawConfig { server: RawServer { bind: Some("localhost".into()), ..Default::default() }, ..Default::default() }, "server.bind"),
            (
                RawConfig { auth: RawAuth { max_failed_logins: Some(0), ..Default::default() }, ..Default::default() },
                "auth.max_failed_logins",
            ),
            (RawConfig { log: RawLog { format: Some("xml".into()), ..Default::default() }, ..Default::default() }, "log.format"),
            (
                RawConfig { server: RawServer { tls_certificate: Some("/nope.pem".into()), ..Default::default() }, ..Default::default() },
                "server.tls_key",
            ),
            (RawConfig { database: RawDatabase { url: Some("mysql://x".into()) }, ..Default::default() }, "database.url"),
        ];
        for (raw, key) in cases {
            let err = raw.validate().unwrap_err();
            assert_eq!(err.key, key, "{err}");
        }
        let smtp_without_from =
            RawConfig { smtp: RawSmtp { host: Some("mail.example".into()), ..Default::default() }, ..Default::default() };
        assert_eq!(smtp_without_from.validate().unwrap_err().key, "smtp.from");
        let smtp_bad_tls = RawConfig {
            smtp: RawSmtp {
                host: Some("mail.example".into()),
                from: Some("c@x.example".into()),
                tls: Some("maybe".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(smtp_bad_tls.validate().unwrap_err().key, "smtp.tls");
        let unknown = RawConfig::from_toml("[server]\nbindd = \"x\"\n").unwrap_err();
        assert!(unknown.message.contains("bindd"), "{unknown}");
        assert_eq!(unknown.key, "line 2");
        let mut raw = RawConfig::default();
        let err = raw.apply_env(env(&[("RAMPART_SERVER_TRUST_PROXY", "perhaps")])).unwrap_err();
        assert_eq!(err.key, "RAMPART_SERVER_TRUST_PROXY");
    }
}
