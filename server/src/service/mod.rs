//! What the server does, between the HTTP handlers (which parse and answer) and the
//! [`Store`] (which keeps). Validation of uploaded bytes happens here, before any write.

mod advisor;
pub mod admin;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod notify;
pub mod orgs;
pub mod pow;
mod reporter;
pub mod retention;
pub mod verify;
pub mod wire;

use meldpunt_api::ErrorCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use wire::{
    CaseSummary, CaseView, b64, unb64, unb64_exact,
};
use crate::config::Settings;
use crate::day::{Day, now_secs};
use crate::service::error::{Kind, ServiceError, ServiceResult};
use crate::service::limits::Limiters;
use crate::service::metrics::Metrics;
use crate::service::pow::{PowGate, PowSolution};
use crate::store::{
    AdvisorKeys, CaseInfo, DetachedStanza, Id, NewAdvisor, NewCase, Removal, Sender, StanzaTarget,
    Store, StoreError, StoreResult,
};
use verify::Purpose;

/// Most outstanding login challenges.
const MAX_LOGIN_CHALLENGES: usize = 100_000;
/// Largest advisor photo, bytes.
pub const MAX_PHOTO: usize = 64 * 1024;

/// Outstanding login challenges: challenge → (identity key, expiry).
type LoginChallenges = HashMap<[u8; 32], ([u8; 32], i64)>;

/// Shared state of all workers.
#[derive(Debug)]
pub struct AppState {
    /// Settings.
    pub settings: Settings,
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Proof of work.
    pub pow: PowGate,
    /// Bounds concurrent proof-of-work checks (each needs `pow.m_kib` of memory) to about the
    /// number of cores: the check is CPU-bound, so more in parallel only costs memory.
    pow_slots: tokio::sync::Semaphore,
    /// Rate limits.
    pub limits: Limiters,
    /// Counters.
    pub metrics: Metrics,
    /// Advisor notifications (`notify.rs`).
    pub notify: crate::service::notify::Notifier,
    /// Outstanding login challenges.
    logins: Mutex<LoginChallenges>,
    /// Administrator logins: lock-out and Argon2id slots (memory only).
    pub admin: crate::service::admin::auth::AdminRuntime,
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// SHA-256 (session tokens, invite codes).
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&Sha256::digest(data));
    out
}

/// 32 bytes from the OS CSPRNG.
#[must_use]
pub fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    meldpunt_crypto::rng::Rng::fill_bytes(&mut meldpunt_crypto::rng::os_rng(), &mut b);
    b
}

/// A random id.
#[must_use]
pub fn random_id() -> Id {
    let mut b = [0u8; 16];
    meldpunt_crypto::rng::Rng::fill_bytes(&mut meldpunt_crypto::rng::os_rng(), &mut b);
    b
}

fn check_text(field: &str, value: &str, max: usize) -> ServiceResult<()> {
    if value.chars().count() > max {
        return Err(ServiceError::bad_request(
            ErrorCode::TooLong,
            format!("`{field}` is longer than {max} characters"),
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ServiceError::bad_request(
            ErrorCode::BadText,
            format!("`{field}` contains control characters"),
        ));
    }
    Ok(())
}

fn check_languages(langs: &[String]) -> ServiceResult<()> {
    if langs.len() > 16 {
        return Err(ServiceError::bad_request(ErrorCode::TooMany, "at most 16 languages"));
    }
    for l in langs {
        if l.is_empty() || l.len() > 8 || !l.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            return Err(ServiceError::bad_request(
                ErrorCode::BadLanguage,
                "languages are codes like `nl` or `en`",
            ));
        }
    }
    Ok(())
}

impl AppState {
    /// State over an opened store.
    pub fn new(settings: Settings, store: Arc<dyn Store>) -> StoreResult<Self> {
        let metrics = Metrics::default();
        store.set_quota(settings.quota.case_bytes, settings.quota.org_bytes);
        let notify = crate::service::notify::Notifier::start(
            &settings.notify,
            Arc::clone(&store),
            Arc::clone(&metrics.notify),
        )
        .map_err(|e| StoreError::Db(e.to_string()))?;
        Ok(AppState {
            pow: PowGate::random(settings.pow.clone()),
            pow_slots: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get() * 2),
            ),
            limits: Limiters::new(&settings.rate_limit, settings.trusted_proxy),
            metrics,
            notify,
            logins: Mutex::new(HashMap::new()),
            admin: crate::service::admin::auth::AdminRuntime::new(),
            settings,
            store,
        })
    }

    /// Runs a store call on the blocking pool.
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> StoreResult<T> + Send + 'static,
    ) -> ServiceResult<T> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&*store)).await?.map_err(store_error)
    }

    /// Whether the store answers (`/healthz`).
    pub async fn health(&self) -> ServiceResult<()> {
        self.db(|s| s.pow_key().map(|_| ())).await
    }

    /// Checks a PoW solution on the blocking pool (Argon2id is CPU- and memory-heavy).
    pub async fn check_pow(self: &Arc<Self>, solution: Option<PowSolution>) -> ServiceResult<()> {
        if !self.pow.enabled() {
            return Ok(());
        }
        // A closed semaphore cannot happen (it is never closed); treat it as busy all the same.
        let _slot = self
            .pow_slots
            .acquire()
            .await
            .map_err(|_| ServiceError::unavailable())?;
        let me = Arc::clone(self);
        let r = tokio::task::spawn_blocking(move || me.pow.check(solution.as_ref())).await?;
        if r.is_err() {
            self.metrics.inc(&self.metrics.pow_rejected);
        }
        r
    }

    /// Forgets expired in-memory state (PoW ids, login challenges, idle rate-limit keys).
    pub fn prune_memory(&self) {
        self.pow.prune();
        self.limits.prune();
        let now = now_secs();
        if let Ok(mut m) = self.logins.lock() {
            m.retain(|_, (_, exp)| *exp > now);
        }
        self.admin.lockout.prune();
    }

    // ---------- public

}

/// A store error as answered. `Busy` (busy database, full write queue, or a write that could
/// not be committed: disk full, I/O error) is a 503 that says the change may not be saved.
fn store_error(e: StoreError) -> ServiceError {
    match e {
        StoreError::Busy => ServiceError::storage_busy(),
        other => other.into(),
    }
}

/// Invite codes are compared after removing separators and upper-casing.
#[must_use]
pub fn normalise_invite(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Checks the recipients of a reporter's envelope: every advisor in `advisors` has a stanza
/// for one of its currently valid keys, and at most one stanza is for some other key (the
/// reporter's own reply key, so the reporter can re-read what they sent).
fn check_stanzas(key_ids: &[[u8; 16]], advisors: &[&AdvisorKeys], now: i64) -> ServiceResult<()> {
    for a in advisors {
        if !key_ids.iter().any(|k| a.has_valid_key(k, now)) {
            return Err(ServiceError::conflict(
                ErrorCode::StaleKeys,
                "the envelope is not sealed to a valid key of every addressed advisor; fetch the keys again",
            ));
        }
    }
    let foreign = key_ids
        .iter()
        .filter(|k| !advisors.iter().any(|a| a.has_valid_key(k, now)))
        .count();
    if foreign > 1 {
        return Err(ServiceError::bad_request(
            ErrorCode::BadEnvelope,
            "the envelope is sealed to unknown keys",
        ));
    }
    Ok(())
}
