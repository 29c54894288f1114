//! [`AppState`]: the shared state of all workers, and the calls every service part makes on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::config::Settings;
use crate::day::now_secs;
use crate::service::admin::auth::AdminRuntime;
use crate::service::checks::store_error;
use crate::service::error::{ServiceError, ServiceResult};
use crate::service::limits::Limiters;
use crate::service::metrics::Metrics;
use crate::service::notify::Notifier;
use crate::service::pow::{PowGate, PowSolution};
use crate::store::{Store, StoreError, StoreResult};

/// Most outstanding login challenges.
pub(crate) const MAX_LOGIN_CHALLENGES: usize = 100_000;

/// Outstanding login challenges: challenge → (identity key, expiry).
pub(crate) type LoginChallenges = HashMap<[u8; 32], ([u8; 32], i64)>;

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
    pub(crate) pow_slots: tokio::sync::Semaphore,
    /// Rate limits.
    pub limits: Limiters,
    /// Counters.
    pub metrics: Metrics,
    /// Advisor notifications (`notify.rs`).
    pub notify: Notifier,
    /// Outstanding login challenges.
    pub(crate) logins: Mutex<LoginChallenges>,
    /// Administrator logins: lock-out and Argon2id slots (memory only).
    pub admin: AdminRuntime,
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl AppState {
    /// State over an opened store.
    pub fn new(settings: Settings, store: Arc<dyn Store>) -> StoreResult<Self> {
        let metrics = Metrics::default();
        store.set_quota(settings.quota.case_bytes, settings.quota.org_bytes);
        let notify = Notifier::start(
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
            admin: AdminRuntime::new(),
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
}

