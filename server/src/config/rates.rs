//! `[rate_limit]`: the rate-limited route classes.

use std::net::IpAddr;

use serde::Deserialize;

/// One rate-limited route class: a quota per client address and one for all clients together.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateClass {
    /// Sustained requests per minute from one address.
    pub per_minute: u32,
    /// Requests one address may send at once.
    pub burst: u32,
    /// Sustained requests per minute from all addresses together.
    pub global_per_minute: u32,
}

impl RateClass {
    const fn new(per_minute: u32, burst: u32, global_per_minute: u32) -> Self {
        RateClass {
            per_minute,
            burst,
            global_per_minute,
        }
    }
}

/// Rate limits per route class. Merged field by field: a file or environment variable that
/// sets one field of a class (`MELDPUNT_RATE_LIMIT__CASE_GUESS__PER_MINUTE`) keeps that class's
/// defaults for the others.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "RateLimitsPatch")]
pub struct RateLimits {
    /// Organisation pages, PoW challenges, static files.
    pub public: RateClass,
    /// Creating a case.
    pub create: RateClass,
    /// Requests with a case token (reads, follow-ups, attachments).
    pub case: RateClass,
    /// Failed case-token lookups: after these, the address is shut out of every case route.
    pub case_guess: RateClass,
    /// Advisor login and registration.
    pub login: RateClass,
    /// Authenticated advisor requests.
    pub advisor: RateClass,
    /// Client addresses that stand for many clients (an onion service's local proxy, where
    /// every Tor visitor arrives from one address). Requests keyed by one of these take only
    /// the global quotas: no per-address quota and no shut-out after failed token guesses,
    /// which would shut every visitor out at once. Empty by default.
    pub shared_addresses: Vec<IpAddr>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            public: RateClass::new(300, 100, 30_000),
            create: RateClass::new(10, 5, 600),
            case: RateClass::new(120, 60, 12_000),
            case_guess: RateClass::new(5, 5, 300),
            login: RateClass::new(20, 10, 600),
            advisor: RateClass::new(600, 200, 30_000),
            shared_addresses: Vec::new(),
        }
    }
}

/// One class as written in a file or the environment: any field may be left out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateClassPatch {
    per_minute: Option<u32>,
    burst: Option<u32>,
    global_per_minute: Option<u32>,
}

impl RateClassPatch {
    fn over(self, d: RateClass) -> RateClass {
        RateClass {
            per_minute: self.per_minute.unwrap_or(d.per_minute),
            burst: self.burst.unwrap_or(d.burst),
            global_per_minute: self.global_per_minute.unwrap_or(d.global_per_minute),
        }
    }
}

/// `[rate_limit]` as written: classes and their fields may be left out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RateLimitsPatch {
    public: RateClassPatch,
    create: RateClassPatch,
    case: RateClassPatch,
    case_guess: RateClassPatch,
    login: RateClassPatch,
    advisor: RateClassPatch,
    shared_addresses: Option<Vec<IpAddr>>,
}

impl From<RateLimitsPatch> for RateLimits {
    fn from(p: RateLimitsPatch) -> Self {
        let d = RateLimits::default();
        RateLimits {
            public: p.public.over(d.public),
            create: p.create.over(d.create),
            case: p.case.over(d.case),
            case_guess: p.case_guess.over(d.case_guess),
            login: p.login.over(d.login),
            advisor: p.advisor.over(d.advisor),
            shared_addresses: p.shared_addresses.unwrap_or(d.shared_addresses),
        }
    }
}

