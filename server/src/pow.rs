//! Proof of work on anonymous writes (protocol §8). Challenges are stateless (HMAC-ed with a
//! random key drawn when the process starts, never stored, zeroized on drop) and expire; a
//! challenge id is remembered in memory from its first attempt until its expiry, so that each
//! challenge buys at most one Argon2id check and one write. A restart draws a new key, so every
//! challenge issued before it (used or not) is refused after it.

use meldpunt_api::ErrorCode;
use std::collections::HashMap;
use std::sync::Mutex;

use meldpunt_api::b64::{b64, unb64};
use meldpunt_crypto::pow::{Challenge, PowParams};
use serde::Serialize;

use zeroize::Zeroizing;

use crate::config::PowSettings;
use crate::day::now_secs;
use crate::error::ApiError;

/// Most used-challenge ids kept at once; past this, new solutions are refused (503) until old
/// ones expire. Reaching it needs more solved challenges than the rate limits allow.
const MAX_USED: usize = 1_000_000;

/// A solution as clients send it (a wire type).
pub use meldpunt_api::PowSolution;

/// A challenge as handed out.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedChallenge {
    /// The challenge bytes, base64url.
    pub challenge: String,
    /// Unix seconds after which it is refused.
    pub expires_at: i64,
    /// Argon2id memory, KiB.
    pub m_kib: u32,
    /// Argon2id passes.
    pub t: u32,
    /// Leading zero bits needed.
    pub difficulty: u8,
    /// Whether the server checks proofs at all.
    pub enabled: bool,
}

/// Most Argon2 working memories kept for reuse (the service bounds concurrent checks; a
/// check that finds the pool empty allocates, and its memory joins the pool if there is room).
const SCRATCH_POOL: usize = 16;

/// Issues and checks challenges.
pub struct PowGate {
    key: Zeroizing<[u8; 32]>,
    settings: PowSettings,
    used: Mutex<HashMap<[u8; 16], i64>>,
    scratch: Mutex<Vec<meldpunt_crypto::pow::Scratch>>,
}

impl std::fmt::Debug for PowGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PowGate")
            .field("key", &"[redacted]")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn pow_error(code: ErrorCode, msg: &str) -> ApiError {
    ApiError::bad_request(code, msg)
}

impl PowGate {
    /// A gate with a fresh random key for this process (see the module docs).
    #[must_use]
    pub fn random(settings: PowSettings) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        meldpunt_crypto::rng::Rng::fill_bytes(&mut meldpunt_crypto::rng::os_rng(), &mut *key);
        PowGate::with_key(key, settings)
    }

    /// A gate with the given key.
    #[must_use]
    pub fn new(key: [u8; 32], settings: PowSettings) -> Self {
        PowGate::with_key(Zeroizing::new(key), settings)
    }

    fn with_key(key: Zeroizing<[u8; 32]>, settings: PowSettings) -> Self {
        PowGate {
            key,
            settings,
            used: Mutex::new(HashMap::new()),
            scratch: Mutex::new(Vec::new()),
        }
    }

    /// Whether proofs are required.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// A fresh challenge.
    #[must_use]
    pub fn issue(&self) -> IssuedChallenge {
        self.issue_with(0)
    }

    /// A fresh challenge `extra` bits harder than configured (case creation under pressure).
    #[must_use]
    pub fn issue_with(&self, extra: u8) -> IssuedChallenge {
        let params = PowParams {
            m_kib: self.settings.m_kib,
            t: self.settings.t,
            difficulty: self
                .settings
                .difficulty
                .saturating_add(extra)
                .min(meldpunt_crypto::pow::MAX_DIFFICULTY),
        };
        let expires_at = now_secs() + i64::from(self.settings.ttl_secs);
        let c = Challenge::make(
            &mut meldpunt_crypto::rng::os_rng(),
            &self.key,
            expires_at,
            params,
        );
        IssuedChallenge {
            challenge: b64(c.as_bytes()),
            expires_at,
            m_kib: params.m_kib,
            t: params.t,
            difficulty: params.difficulty,
            enabled: self.settings.enabled,
        }
    }

    /// Checks a solution; any attempt on a genuine, unexpired challenge uses it up, right or
    /// wrong, before Argon2id runs. Blocking (one Argon2id evaluation):
    /// call from a blocking thread. With PoW disabled every request passes, with or without
    /// a solution.
    pub fn check(&self, solution: Option<&PowSolution>) -> Result<(), ApiError> {
        if !self.settings.enabled {
            return Ok(());
        }
        let s = solution.ok_or_else(|| pow_error(ErrorCode::PowRequired, "a proof of work is required"))?;
        let bytes = unb64(&s.challenge)
            .ok_or_else(|| pow_error(ErrorCode::BadPow, "challenge is not base64url"))?;
        let c = Challenge::from_bytes(&bytes)
            .map_err(|_| pow_error(ErrorCode::BadPow, "challenge has the wrong length"))?;
        if !c.verify_mac(&self.key) {
            return Err(pow_error(
                ErrorCode::BadPow,
                "challenge was not issued by this server",
            ));
        }
        let now = now_secs();
        if c.is_expired(now) {
            return Err(pow_error(ErrorCode::PowExpired, "challenge has expired"));
        }
        // Parameters are whatever the server put in (the MAC covers them); a challenge issued
        // before a difficulty change stays valid until it expires. Used up before the costly
        // hash: a wrong nonce costs the client a new challenge, so each challenge costs the
        // server at most one Argon2id evaluation. Two requests racing with the same challenge:
        // only the first insert wins.
        self.mark_used(c.id(), c.expires_at(), now)?;
        let mut scratch = self
            .scratch
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default();
        let solved = meldpunt_crypto::pow::verify_solution_in(&mut scratch, &bytes, s.nonce);
        if let Ok(mut pool) = self.scratch.lock()
            && pool.len() < SCRATCH_POOL
        {
            pool.push(scratch);
        }
        if !solved {
            return Err(pow_error(
                ErrorCode::BadPow,
                "nonce does not solve the challenge (the challenge is used up; fetch a new one)",
            ));
        }
        Ok(())
    }

    fn mark_used(&self, id: [u8; 16], expires_at: i64, now: i64) -> Result<(), ApiError> {
        let mut used = self.used.lock().map_err(|_| ApiError::internal())?;
        if used.len() >= MAX_USED {
            used.retain(|_, exp| *exp > now);
            if used.len() >= MAX_USED {
                return Err(ApiError::unavailable());
            }
        }
        if used.insert(id, expires_at).is_some() {
            return Err(pow_error(ErrorCode::PowReplayed, "challenge was already used"));
        }
        Ok(())
    }

    /// Forgets expired challenge ids.
    pub fn prune(&self) {
        let now = now_secs();
        if let Ok(mut used) = self.used.lock() {
            used.retain(|_, exp| *exp > now);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn gate(key: [u8; 32]) -> PowGate {
        PowGate::new(
            key,
            PowSettings {
                enabled: true,
                difficulty: 1,
                ..PowSettings::default()
            },
        )
    }

    fn code(r: Result<(), ApiError>) -> &'static str {
        r.unwrap_err().code.as_str()
    }

    #[test]
    fn expired_challenges_are_refused() {
        let key = [7u8; 32];
        let c = Challenge::make(
            &mut meldpunt_crypto::rng::os_rng(),
            &key,
            now_secs() - 5,
            PowParams {
                m_kib: 4096,
                t: 1,
                difficulty: 1,
            },
        );
        let nonce = meldpunt_crypto::pow::solve(c.as_bytes(), |_| {}).unwrap();
        let s = PowSolution {
            challenge: b64(c.as_bytes()),
            nonce,
        };
        assert_eq!(code(gate(key).check(Some(&s))), "pow_expired");
    }

    #[test]
    fn random_gates_refuse_each_others_challenges() {
        let settings = PowSettings {
            enabled: true,
            difficulty: 1,
            ..PowSettings::default()
        };
        let a = PowGate::random(settings.clone());
        let b = PowGate::random(settings);
        let issued = a.issue();
        let nonce =
            meldpunt_crypto::pow::solve(&unb64(&issued.challenge).unwrap(), |_| {})
                .unwrap();
        let s = PowSolution {
            challenge: issued.challenge,
            nonce,
        };
        assert_eq!(code(b.check(Some(&s))), "bad_pow");
        a.check(Some(&s)).unwrap();
    }
}
