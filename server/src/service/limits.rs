//! Rate limits. Per client address and per route class, plus one global quota per class. The
//! addresses live only in these in-memory maps (never logged, never stored) and are forgotten
//! when their quota has refilled.
//!
//! The client address is the TCP peer, except when the peer is the one configured
//! `trusted_proxy`: then it is the right-most entry of `X-Forwarded-For`, all header lines
//! read as one list (the address that proxy saw). IPv6 clients are keyed by their /64, since one host usually holds a whole /64.

use meldpunt_api::ErrorCode;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::{RateClass, RateLimits};
use crate::service::error::ServiceError;
use crate::service::metrics::Metrics;

/// Route classes with their own quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Pages, organisation data, PoW challenges.
    Public,
    /// Case creation.
    Create,
    /// Case-token requests.
    Case,
    /// Advisor login and registration.
    Login,
    /// Authenticated advisor requests.
    Advisor,
}

struct Limiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    global: DefaultDirectRateLimiter,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limiter")
    }
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

impl Limiter {
    fn new(c: RateClass) -> Self {
        let global_burst = (c.global_per_minute / 10).max(c.burst);
        Limiter {
            per_ip: RateLimiter::keyed(quota(c.per_minute, c.burst)),
            global: RateLimiter::direct(quota(c.global_per_minute, global_burst)),
        }
    }

    fn check(&self, ip: &IpAddr) -> bool {
        self.per_ip.check_key(ip).is_ok() && self.global.check().is_ok()
    }

    fn check_ip(&self, ip: &IpAddr) -> bool {
        self.per_ip.check_key(ip).is_ok()
    }
}

/// All limiters, shared by all workers.
#[derive(Debug)]
pub struct Limiters {
    trusted_proxy: Option<IpAddr>,
    public: Limiter,
    create: Limiter,
    case: Limiter,
    login: Limiter,
    advisor: Limiter,
    guess: Limiter,
    /// Addresses shut out of case routes after too many failed token lookups, until when.
    shut_out: Mutex<HashMap<IpAddr, Instant>>,
    shut_out_for: Duration,
    /// `rate_limit.shared_addresses` as keys: global quotas only (see `RateLimits`).
    shared: Vec<IpAddr>,
    /// Half the global `create` quota: when a create finds it empty, creation is under
    /// pressure until `pressure_until` (PoW challenges get harder, see `create_pressure`).
    create_half: DefaultDirectRateLimiter,
    pressure_until: Mutex<Option<Instant>>,
}

/// How long creation counts as under pressure after the half quota ran empty.
const PRESSURE_FOR: Duration = Duration::from_secs(60);

impl Limiters {
    /// Limiters with the configured quotas.
    #[must_use]
    pub fn new(cfg: &RateLimits, trusted_proxy: Option<IpAddr>) -> Self {
        let g = cfg.case_guess;
        // Time for the failure quota to refill completely.
        let secs = (60 * u64::from(g.burst)).div_ceil(u64::from(g.per_minute.max(1)));
        Limiters {
            trusted_proxy,
            public: Limiter::new(cfg.public),
            create: Limiter::new(cfg.create),
            case: Limiter::new(cfg.case),
            login: Limiter::new(cfg.login),
            advisor: Limiter::new(cfg.advisor),
            guess: Limiter::new(cfg.case_guess),
            shut_out: Mutex::new(HashMap::new()),
            shut_out_for: Duration::from_secs(secs.max(1)),
            shared: cfg.shared_addresses.iter().copied().map(key_of).collect(),
            create_half: RateLimiter::direct(quota(
                (cfg.create.global_per_minute / 2).max(1),
                ((cfg.create.global_per_minute / 10).max(cfg.create.burst) / 2).max(1),
            )),
            pressure_until: Mutex::new(None),
        }
    }

    /// The proxy whose `X-Forwarded-For` is believed (`http::client_addr` reads it).
    #[must_use]
    pub fn trusted_proxy(&self) -> Option<IpAddr> {
        self.trusted_proxy
    }

    /// Takes one request from the class's quotas, or answers 429.
    pub fn check(
        &self,
        class: Class,
        client: IpAddr,
        metrics: &Metrics,
    ) -> Result<IpAddr, ServiceError> {
        let ip = key_of(client);
        let limiter = self.limiter(class);
        if self.is_shared(&ip) {
            return self.charge_global(class, metrics).map(|()| ip);
        }
        // Case creation with an existing token is a guess too (see `create_conflict`), so a
        // shut-out address is refused there as well.
        if matches!(class, Class::Case | Class::Create) && self.is_shut_out(&ip) {
            metrics.inc(&metrics.rate_limited);
            return Err(ServiceError::rate_limited());
        }
        if limiter.check(&ip) {
            Ok(ip)
        } else {
            metrics.inc(&metrics.rate_limited);
            Err(ServiceError::rate_limited())
        }
    }

    fn limiter(&self, class: Class) -> &Limiter {
        match class {
            Class::Public => &self.public,
            Class::Create => &self.create,
            Class::Case => &self.case,
            Class::Login => &self.login,
            Class::Advisor => &self.advisor,
        }
    }

    /// The address's own quota of the class only (and, for case routes and creation, its
    /// shut-out); the global quota is taken by [`Limiters::charge_global`] once the request
    /// has proved itself (a valid case token, a valid login signature), so that failing
    /// requests from however many addresses cannot use up the global quota of good ones.
    pub fn check_address(
        &self,
        class: Class,
        client: IpAddr,
        metrics: &Metrics,
    ) -> Result<IpAddr, ServiceError> {
        let ip = key_of(client);
        if self.is_shared(&ip) {
            return Ok(ip);
        }
        let shut_out = matches!(class, Class::Case | Class::Create) && self.is_shut_out(&ip);
        if shut_out || !self.limiter(class).check_ip(&ip) {
            metrics.inc(&metrics.rate_limited);
            return Err(ServiceError::rate_limited());
        }
        Ok(ip)
    }

    /// Takes one request that has proved itself from the class's global quota, or answers 429.
    pub fn charge_global(&self, class: Class, metrics: &Metrics) -> Result<(), ServiceError> {
        let ok = self.limiter(class).global.check().is_ok();
        if class == Class::Create
            && (!ok || self.create_half.check().is_err())
            && let Ok(mut until) = self.pressure_until.lock()
        {
            *until = Some(Instant::now() + PRESSURE_FOR);
        }
        if ok {
            Ok(())
        } else {
            metrics.inc(&metrics.rate_limited);
            Err(ServiceError::rate_limited())
        }
    }

    /// Whether case creation is under pressure: within the last minute, more than half of the
    /// global `create` quota was used (the half quota ran empty).
    #[must_use]
    pub fn create_pressure(&self) -> bool {
        self.pressure_until
            .lock()
            .map_or(true, |u| u.is_some_and(|t| t > Instant::now()))
    }

    /// Whether the key stands for many clients (`rate_limit.shared_addresses`).
    fn is_shared(&self, ip: &IpAddr) -> bool {
        self.shared.contains(ip)
    }

    fn is_shut_out(&self, ip: &IpAddr) -> bool {
        let Ok(mut map) = self.shut_out.lock() else {
            return true;
        };
        match map.get(ip) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                map.remove(ip);
                false
            }
            None => false,
        }
    }

    /// Records a failed case-token lookup. Returns the error to answer: 401 while the address
    /// has failures left, 429 (and a shut-out from all case routes) after.
    pub fn token_failure(&self, ip: IpAddr, metrics: &Metrics) -> ServiceError {
        self.guess_failure(
            ip,
            metrics,
            ServiceError::unauthorized(ErrorCode::BadCaseToken, "unknown case token"),
        )
    }

    /// Records a case creation whose `token_hash` is already taken: it tells that a token
    /// exists, so it is counted and shut out like a failed lookup. Returns 409 while the
    /// address has failures left, 429 (and a shut-out from case routes and creation) after.
    pub fn create_conflict(&self, ip: IpAddr, metrics: &Metrics) -> ServiceError {
        self.guess_failure(
            ip,
            metrics,
            ServiceError::conflict(ErrorCode::Conflict, "a case with this token exists"),
        )
    }

    fn guess_failure(&self, ip: IpAddr, metrics: &Metrics, answer: ServiceError) -> ServiceError {
        metrics.inc(&metrics.case_token_failures);
        if self.is_shared(&ip) {
            // Many clients behind one address: no shut-out (it would shut them all out); the
            // global guess quota still bounds the guessing of all clients together.
            return if self.guess.global.check().is_ok() {
                answer
            } else {
                metrics.inc(&metrics.rate_limited);
                ServiceError::rate_limited()
            };
        }
        if self.guess.check(&ip) {
            answer
        } else {
            if let Ok(mut map) = self.shut_out.lock() {
                map.insert(ip, Instant::now() + self.shut_out_for);
            }
            metrics.inc(&metrics.rate_limited);
            ServiceError::rate_limited()
        }
    }

    /// Forgets addresses whose quotas have refilled.
    pub fn prune(&self) {
        for l in [
            &self.public,
            &self.create,
            &self.case,
            &self.login,
            &self.advisor,
            &self.guess,
        ] {
            l.per_ip.retain_recent();
            l.per_ip.shrink_to_fit();
        }
        if let Ok(mut map) = self.shut_out.lock() {
            let now = Instant::now();
            map.retain(|_, until| *until > now);
        }
    }
}

fn key_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}
