//! Configuration: built-in defaults, then a TOML file (`--config`), then `MELDPUNT_*`
//! environment variables, deserialised into one typed [`Settings`] struct.
//!
//! Environment variables map onto keys with `__` as the section separator:
//! `MELDPUNT_LISTEN` → `listen`, `MELDPUNT_POW__DIFFICULTY` → `pow.difficulty`,
//! `MELDPUNT_RATE_LIMIT__CASE_GUESS__PER_MINUTE` → `rate_limit.case_guess.per_minute`.
//! A value is read as a TOML value when it parses as one (`5`, `true`, `[1, 2]`) and as a
//! string otherwise. Every unknown key, wrong type or invalid value stops startup with an error
//! that names the setting.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod notify;
mod rates;
pub mod retention;
pub mod tls;

/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "MELDPUNT_";

/// A setting that is missing, unknown or invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML.
    #[error("config file {path} is not valid TOML: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A setting has the wrong type, is unknown, or is out of range.
    #[error("setting `{setting}`: {message}")]
    Setting {
        /// Dotted name of the setting, e.g. `pow.difficulty`.
        setting: String,
        /// What is wrong.
        message: String,
    },
}

pub(crate) fn setting(name: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Setting {
        setting: name.to_owned(),
        message: message.into(),
    }
}

/// All server settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// The SQLite database file; created on first start.
    pub database: PathBuf,
    /// Directory with the web client's files (`client-wasm/www`); none: no pages are served.
    pub static_dir: Option<PathBuf>,
    /// The one reverse proxy whose `X-Forwarded-For` is believed. Requests from any other peer
    /// are keyed by their own address.
    pub trusted_proxy: Option<IpAddr>,
    /// Send `Strict-Transport-Security` (set when clients reach the server over TLS).
    pub hsts: bool,
    /// The `/metrics` endpoint: its own listener, never the public one.
    pub metrics: MetricsSettings,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `meldpunt_server=debug`.
    pub log: String,
    /// Number of actix worker threads; 0 = one per core.
    pub workers: usize,
    /// Proof of work on anonymous writes (protocol §8).
    pub pow: PowSettings,
    /// Size and count limits.
    pub limits: Limits,
    /// Storage quota per case and per organisation.
    pub quota: QuotaSettings,
    /// Advisor sessions and login.
    pub advisor: AdvisorSettings,
    /// Rate limits per client address (memory only) and per route class.
    pub rate_limit: RateLimits,
    /// Retention purge and database vacuum (`docs/operations.md`).
    pub retention: retention::RetentionSettings,
    /// Built-in TLS from PEM files; not set: plain HTTP (TLS at a reverse proxy).
    pub tls: Option<tls::TlsSettings>,
    /// Content-free e-mail notifications to advisors (off by default).
    pub notify: notify::NotifySettings,
    /// Public base URL of the instance (`https://meldpunt.example.nl`), used for the reporting
    /// links shown to organisation admins; none: taken from the admin's request.
    pub public_url: Option<String>,
    /// Administrator logins and sessions.
    pub admin: AdminSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: PathBuf::from("meldpunt.db"),
            static_dir: None,
            trusted_proxy: None,
            hsts: false,
            metrics: MetricsSettings::default(),
            log: "info".to_owned(),
            workers: 0,
            pow: PowSettings::default(),
            limits: Limits::default(),
            quota: QuotaSettings::default(),
            advisor: AdvisorSettings::default(),
            rate_limit: RateLimits::default(),
            retention: retention::RetentionSettings::default(),
            tls: None,
            notify: notify::NotifySettings::default(),
            public_url: None,
            admin: AdminSettings::default(),
        }
    }
}

/// A bearer token for `/metrics`: zeroized on drop, never printed.
#[derive(Clone)]
pub struct MetricsToken(zeroize::Zeroizing<String>);

impl MetricsToken {
    /// Whether an `Authorization` header value carries this token (constant time).
    #[must_use]
    pub fn matches(&self, header: Option<&[u8]>) -> bool {
        use subtle::ConstantTimeEq;
        let expected = format!("Bearer {}", self.0.as_str());
        let expected = zeroize::Zeroizing::new(expected);
        header.is_some_and(|h| bool::from(h.ct_eq(expected.as_bytes())))
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(redacted)")
    }
}

impl<'de> Deserialize<'de> for MetricsToken {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| MetricsToken(zeroize::Zeroizing::new(s)))
    }
}

/// `[metrics]`: the Prometheus endpoint, served only on its own listener (never on `listen`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Serve `/metrics` at all.
    pub enabled: bool,
    /// Address of the metrics listener (loopback by default).
    pub listen: SocketAddr,
    /// Optional bearer token (`Authorization: Bearer …`); required when `listen` is not a
    /// loopback address. `MELDPUNT_METRICS__TOKEN` keeps it out of the file.
    pub token: Option<MetricsToken>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
            token: None,
        }
    }
}

impl MetricsSettings {
    fn validate(&self, public: SocketAddr) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        if self.listen == public || (self.listen.port() == public.port() && self.listen.port() != 0)
        {
            return Err(setting(
                "metrics.listen",
                "must differ from `listen` (metrics are never served on the public listener)",
            ));
        }
        if let Some(t) = &self.token
            && (t.0.len() < 16 || t.0.chars().any(|c| c.is_control() || c == ' '))
        {
            return Err(setting(
                "metrics.token",
                "must be at least 16 characters, without spaces or control characters",
            ));
        }
        if !self.listen.ip().is_loopback() && self.token.is_none() {
            return Err(setting(
                "metrics.token",
                "required when metrics.listen is not a loopback address",
            ));
        }
        Ok(())
    }
}

/// Administrator (operator, organisation admin) logins and sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// A session ends after this many seconds without a request.
    pub session_idle_secs: u32,
    /// A session ends this many seconds after login, used or not.
    pub session_max_secs: u32,
    /// Lifetime of an organisation-admin invite, days.
    pub invite_ttl_days: u32,
}

impl Default for AdminSettings {
    fn default() -> Self {
        AdminSettings {
            session_idle_secs: 1800,
            session_max_secs: 12 * 3600,
            invite_ttl_days: 7,
        }
    }
}

impl AdminSettings {
    fn validate(&self, public_url: Option<&str>) -> Result<(), ConfigError> {
        if !(1..=86_400).contains(&self.session_idle_secs) {
            return Err(setting(
                "admin.session_idle_secs",
                "must be between 1 and 86400",
            ));
        }
        if !(1..=7 * 86_400).contains(&self.session_max_secs) {
            return Err(setting(
                "admin.session_max_secs",
                "must be between 1 and 604800",
            ));
        }
        if !(1..=90).contains(&self.invite_ttl_days) {
            return Err(setting("admin.invite_ttl_days", "must be between 1 and 90"));
        }
        if let Some(url) = public_url {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .unwrap_or_default();
            let host = rest.split('/').next().unwrap_or_default();
            if host.is_empty()
                || url.contains(['?', '#', ' ', '"', '<', '>', '\\'])
                || url.chars().any(char::is_control)
            {
                return Err(setting(
                    "public_url",
                    "must be an http(s) URL like https://meldpunt.example.nl, without query or fragment",
                ));
            }
        }
        Ok(())
    }
}

/// Proof-of-work parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PowSettings {
    /// `false` accepts anonymous writes without a proof (benchmarks and tests only).
    pub enabled: bool,
    /// Argon2id memory per try, KiB.
    pub m_kib: u32,
    /// Argon2id passes per try.
    pub t: u32,
    /// Leading zero bits required.
    pub difficulty: u8,
    /// Seconds a challenge stays valid.
    pub ttl_secs: u32,
    /// Extra leading zero bits of the challenges handed out while case creation is under
    /// pressure (more than half of the global `create` quota used within the last minute):
    /// the cost of creating rises instead of creation being refused. 0: never raised.
    pub pressure_difficulty: u8,
}

impl Default for PowSettings {
    fn default() -> Self {
        PowSettings {
            enabled: true,
            m_kib: 4096,
            t: 1,
            difficulty: 5,
            ttl_secs: 600,
            pressure_difficulty: 2,
        }
    }
}

/// Size and count limits on uploads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest envelope of a report, follow-up or reply, bytes.
    pub message_bytes: usize,
    /// Largest attachment envelope, bytes.
    pub attachment_bytes: u64,
    /// Sum of all attachments of one case, bytes.
    pub case_attachment_bytes: u64,
    /// Attachments per case.
    pub attachments_per_case: u32,
    /// Messages per case.
    pub messages_per_case: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            message_bytes: 1 << 20,
            attachment_bytes: 25 << 20,
            case_attachment_bytes: 100 << 20,
            attachments_per_case: 50,
            messages_per_case: 1000,
        }
    }
}

/// Storage quota: bytes of message envelopes plus finished attachments that one case and
/// all cases of one organisation may hold. A write past it is refused with 413 `case_full`
/// or `org_storage_full`, checked in the write's own transaction.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaSettings {
    /// Bytes per case.
    pub case_bytes: u64,
    /// Bytes per organisation, over all its cases.
    pub org_bytes: u64,
}

impl Default for QuotaSettings {
    fn default() -> Self {
        QuotaSettings {
            case_bytes: 64 << 20,
            org_bytes: 2 << 30,
        }
    }
}

/// Advisor login and sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdvisorSettings {
    /// Lifetime of a session token, seconds.
    pub session_ttl_secs: u32,
    /// Lifetime of a login challenge, seconds.
    pub challenge_ttl_secs: u32,
    /// Lifetime of an invite code made by `meldpunt admin advisor invite`, days.
    pub invite_ttl_days: u32,
}

impl Default for AdvisorSettings {
    fn default() -> Self {
        AdvisorSettings {
            session_ttl_secs: 1800,
            challenge_ttl_secs: 60,
            invite_ttl_days: 14,
        }
    }
}

pub use rates::{RateClass, RateLimits};

impl Settings {
    /// Loads defaults, then `file` (if any), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// Like [`Settings::load`] with an explicit environment (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                text.parse::<toml::Table>().map_err(|e| ConfigError::Toml {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?
            }
            None => toml::Table::new(),
        };
        let mut vars: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX) && k != "MELDPUNT_CONFIG")
            .collect();
        vars.sort();
        for (key, value) in vars {
            apply_env(&mut table, &key, &value)?;
        }
        let settings: Settings = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner().to_string();
                let inner = inner.trim().to_owned();
                setting(if path == "." { "(top level)" } else { &path }, inner)
            })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Range checks that the types alone do not express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let p = &self.pow;
        use meldpunt_crypto::pow::{MAX_DIFFICULTY, MAX_M_KIB, MAX_T, MIN_M_KIB};
        if !(MIN_M_KIB..=MAX_M_KIB).contains(&p.m_kib) {
            return Err(setting(
                "pow.m_kib",
                format!("must be between {MIN_M_KIB} and {MAX_M_KIB}"),
            ));
        }
        if !(1..=MAX_T).contains(&p.t) {
            return Err(setting("pow.t", format!("must be between 1 and {MAX_T}")));
        }
        if p.difficulty > MAX_DIFFICULTY {
            return Err(setting(
                "pow.difficulty",
                format!("must be at most {MAX_DIFFICULTY}"),
            ));
        }
        if u32::from(p.difficulty) + u32::from(p.pressure_difficulty) > u32::from(MAX_DIFFICULTY) {
            return Err(setting(
                "pow.pressure_difficulty",
                format!("pow.difficulty + pow.pressure_difficulty must be at most {MAX_DIFFICULTY}"),
            ));
        }
        if !(10..=86_400).contains(&p.ttl_secs) {
            return Err(setting("pow.ttl_secs", "must be between 10 and 86400"));
        }
        let q = &self.quota;
        if q.case_bytes < 4096 {
            return Err(setting("quota.case_bytes", "must be at least 4096"));
        }
        if q.org_bytes < q.case_bytes {
            return Err(setting(
                "quota.org_bytes",
                "must be at least quota.case_bytes",
            ));
        }
        let l = &self.limits;
        if !(4096..=(16 << 20) + 65_536).contains(&l.message_bytes) {
            return Err(setting(
                "limits.message_bytes",
                "must be between 4096 and 16842752",
            ));
        }
        if !(4096..=(1 << 30)).contains(&l.attachment_bytes) {
            return Err(setting(
                "limits.attachment_bytes",
                "must be between 4096 and 1073741824",
            ));
        }
        if l.case_attachment_bytes < l.attachment_bytes {
            return Err(setting(
                "limits.case_attachment_bytes",
                "must be at least limits.attachment_bytes",
            ));
        }
        if l.attachments_per_case == 0 || l.attachments_per_case > 1000 {
            return Err(setting(
                "limits.attachments_per_case",
                "must be between 1 and 1000",
            ));
        }
        if l.messages_per_case == 0 || l.messages_per_case > 100_000 {
            return Err(setting(
                "limits.messages_per_case",
                "must be between 1 and 100000",
            ));
        }
        let a = &self.advisor;
        if !(60..=86_400).contains(&a.session_ttl_secs) {
            return Err(setting(
                "advisor.session_ttl_secs",
                "must be between 60 and 86400",
            ));
        }
        if !(5..=600).contains(&a.challenge_ttl_secs) {
            return Err(setting(
                "advisor.challenge_ttl_secs",
                "must be between 5 and 600",
            ));
        }
        if !(1..=365).contains(&a.invite_ttl_days) {
            return Err(setting(
                "advisor.invite_ttl_days",
                "must be between 1 and 365",
            ));
        }
        let r = &self.rate_limit;
        for (name, class) in [
            ("public", r.public),
            ("create", r.create),
            ("case", r.case),
            ("case_guess", r.case_guess),
            ("login", r.login),
            ("advisor", r.advisor),
        ] {
            if class.per_minute == 0 || class.burst == 0 || class.global_per_minute == 0 {
                return Err(setting(
                    &format!("rate_limit.{name}"),
                    "per_minute, burst and global_per_minute must be at least 1",
                ));
            }
        }
        self.admin.validate(self.public_url.as_deref())?;
        self.metrics.validate(self.listen)?;
        if self.log.trim().is_empty() {
            return Err(setting("log", "must not be empty"));
        }
        if self.workers > 256 {
            return Err(setting("workers", "must be at most 256"));
        }
        if let Some(dir) = &self.static_dir
            && !dir.is_dir()
        {
            return Err(setting(
                "static_dir",
                format!("{} is not a directory", dir.display()),
            ));
        }
        retention::validate(&self.retention)?;
        if let Some(tls) = &self.tls {
            tls::validate(tls)?;
        }
        notify::validate(&self.notify)?;
        Ok(())
    }
}

/// Puts one `MELDPUNT_A__B=value` into the table at `a.b`.
fn apply_env(table: &mut toml::Table, key: &str, value: &str) -> Result<(), ConfigError> {
    let rest = key
        .get(ENV_PREFIX.len()..)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let parts: Vec<&str> = rest.split("__").collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(setting(key, "malformed environment variable name"));
    }
    let dotted = parts.join(".");
    let parsed = parse_env_value(value);
    let mut current = table;
    let (last, sections) = match parts.split_last() {
        Some(split) => split,
        None => return Err(setting(key, "malformed environment variable name")),
    };
    for section in sections {
        let entry = current
            .entry((*section).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = match entry {
            toml::Value::Table(t) => t,
            _ => return Err(setting(&dotted, "is not a section")),
        };
    }
    current.insert((*last).to_owned(), parsed);
    Ok(())
}

/// `5` → integer, `true` → boolean, `"x"`/`[..]` → TOML, anything else → string.
fn parse_env_value(value: &str) -> toml::Value {
    let doc = format!("v = {value}");
    match doc.parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(value.to_owned())),
        Err(_) => toml::Value::String(value.to_owned()),
    }
}

#[cfg(test)]
mod tests;
