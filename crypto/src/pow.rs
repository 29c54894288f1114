//! Memory-hard proof of work for anonymous writes (`docs/protocol.md` §8).
//!
//! The server makes a [`Challenge`] with [`Challenge::make`] (MAC'd with its secret key), the
//! client finds a nonce with [`solve`], and the server checks [`Challenge::verify_mac`], the
//! expiry, single use (its own bookkeeping) and [`verify_solution`].

use core::fmt;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::rng::CryptoRng;

/// Label of the challenge MAC.
const MAC_LABEL: &[u8] = b"meldpunt/v1/pow-challenge";
/// Argon2 salt of the proof of work.
const POW_SALT: &[u8] = b"meldpunt/v1/proof-of-work";

/// Length of a challenge on the wire.
pub const CHALLENGE_LEN: usize = 65;
/// Length of the MAC'd part of a challenge.
const MACED_LEN: usize = 33;

/// Largest `m_kib` a client or server accepts (64 MiB).
pub const MAX_M_KIB: u32 = 65536;
/// Smallest `m_kib` (Argon2's minimum for one lane).
pub const MIN_M_KIB: u32 = 8;
/// Largest `t` accepted.
pub const MAX_T: u32 = 4;
/// Largest `difficulty` accepted (2^24 expected tries would take days).
pub const MAX_DIFFICULTY: u8 = 24;

/// Errors of the proof of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PowError {
    /// The challenge is not 65 bytes.
    #[error("challenge must be {CHALLENGE_LEN} bytes, got {0}")]
    WrongLength(usize),
    /// The challenge asks for more (or less) work than any client does.
    #[error("proof-of-work parameters out of range")]
    ParamsOutOfRange,
    /// No nonce was found (the whole `u64` space was searched).
    #[error("no solution found")]
    Exhausted,
}

/// Work parameters carried in a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowParams {
    /// Argon2id memory in KiB.
    pub m_kib: u32,
    /// Argon2id passes.
    pub t: u32,
    /// Required leading zero bits of the hash.
    pub difficulty: u8,
}

impl PowParams {
    /// The protocol defaults: `m_kib = 4096`, `t = 1`, `difficulty = 5`.
    pub const DEFAULT: PowParams = PowParams {
        m_kib: 4096,
        t: 1,
        difficulty: 5,
    };

    /// Whether these parameters are within the bounds every client accepts.
    #[must_use]
    pub fn in_bounds(&self) -> bool {
        (MIN_M_KIB..=MAX_M_KIB).contains(&self.m_kib)
            && (1..=MAX_T).contains(&self.t)
            && self.difficulty <= MAX_DIFFICULTY
    }

    fn argon2(&self) -> Option<Argon2<'static>> {
        if !self.in_bounds() {
            return None;
        }
        let params = Params::new(self.m_kib, self.t, 1, Some(32)).ok()?;
        Some(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

impl Default for PowParams {
    fn default() -> Self {
        PowParams::DEFAULT
    }
}

/// A proof-of-work challenge (§8): `random[16] || expires_at:i64 || m_kib:u32 || t:u32 ||
/// difficulty:u8 || mac[32]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge {
    bytes: [u8; CHALLENGE_LEN],
}

impl Challenge {
    /// Makes a fresh challenge with a random id and its MAC under the server's key.
    pub fn make<R: CryptoRng + ?Sized>(
        rng: &mut R,
        key: &[u8; 32],
        expires_at: i64,
        params: PowParams,
    ) -> Self {
        let mut bytes = [0u8; CHALLENGE_LEN];
        let mut id = [0u8; 16];
        rng.fill_bytes(&mut id);
        let mut fields = Vec::with_capacity(MACED_LEN);
        fields.extend_from_slice(&id);
        fields.extend_from_slice(&expires_at.to_be_bytes());
        fields.extend_from_slice(&params.m_kib.to_be_bytes());
        fields.extend_from_slice(&params.t.to_be_bytes());
        fields.push(params.difficulty);
        let mac = compute_mac(key, &fields);
        fields.extend_from_slice(&mac);
        bytes.copy_from_slice(&fields);
        Challenge { bytes }
    }

    /// Parses 65 bytes (structure only: any values are representable; check the MAC, the
    /// expiry and [`PowParams::in_bounds`]).
    ///
    /// # Errors
    /// [`PowError::WrongLength`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PowError> {
        let bytes: [u8; CHALLENGE_LEN] = bytes
            .try_into()
            .map_err(|_| PowError::WrongLength(bytes.len()))?;
        Ok(Challenge { bytes })
    }

    /// The 65 bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; CHALLENGE_LEN] {
        self.bytes
    }

    /// The 65 bytes, borrowed.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; CHALLENGE_LEN] {
        &self.bytes
    }

    fn field<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(src) = self.bytes.get(at..at + N) {
            out.copy_from_slice(src);
        }
        out
    }

    /// The random 16-byte id (for the server's single-use bookkeeping).
    #[must_use]
    pub fn id(&self) -> [u8; 16] {
        self.field::<16>(0)
    }

    /// Expiry (Unix seconds).
    #[must_use]
    pub fn expires_at(&self) -> i64 {
        i64::from_be_bytes(self.field::<8>(16))
    }

    /// Whether the challenge has expired at `now` (expired when `now >= expires_at`).
    #[must_use]
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires_at()
    }

    /// The work parameters.
    #[must_use]
    pub fn params(&self) -> PowParams {
        PowParams {
            m_kib: u32::from_be_bytes(self.field::<4>(24)),
            t: u32::from_be_bytes(self.field::<4>(28)),
            difficulty: self.field::<1>(32)[0],
        }
    }

    /// Verifies the MAC in constant time.
    #[must_use]
    pub fn verify_mac(&self, key: &[u8; 32]) -> bool {
        let Some(fields) = self.bytes.get(..MACED_LEN) else {
            return false;
        };
        let Some(tag) = self.bytes.get(MACED_LEN..) else {
            return false;
        };
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
            return false;
        };
        mac.update(MAC_LABEL);
        mac.update(fields);
        mac.verify_slice(tag).is_ok()
    }
}

debug_fields!(Challenge(c) {
    expires_at: c.expires_at(),
    params: c.params(),
} ..);

fn compute_mac(key: &[u8; 32], fields: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        mac.update(MAC_LABEL);
        mac.update(fields);
        out.copy_from_slice(&mac.finalize().into_bytes());
    }
    out
}

fn leading_zero_bits(h: &[u8; 32]) -> u32 {
    let mut n = 0;
    for &b in h {
        if b == 0 {
            n += 8;
        } else {
            n += b.leading_zeros();
            break;
        }
    }
    n
}

/// One attempt: does `nonce` solve the challenge with this Argon2 instance and memory?
fn attempt(argon: &Argon2<'_>, challenge: &[u8], nonce: u64, memory: &mut [Block]) -> Option<u32> {
    let mut password = Vec::with_capacity(challenge.len() + 8);
    password.extend_from_slice(challenge);
    password.extend_from_slice(&nonce.to_be_bytes());
    let mut h = [0u8; 32];
    argon
        .hash_password_into_with_memory(&password, POW_SALT, &mut h, &mut *memory)
        .ok()?;
    Some(leading_zero_bits(&h))
}

/// Finds a nonce for the challenge, starting from 0. `progress` is called after every attempt
/// with the number of attempts so far. Blocking: run it in a Web Worker in the browser.
///
/// # Errors
/// [`PowError::WrongLength`] for a challenge that is not 65 bytes,
/// [`PowError::ParamsOutOfRange`] if it asks for more work than [`PowParams::in_bounds`]
/// allows (the client never does unbounded work for a hostile server).
pub fn solve(challenge: &[u8], mut progress: impl FnMut(u64)) -> Result<u64, PowError> {
    let parsed = Challenge::from_bytes(challenge)?;
    let params = parsed.params();
    let argon = params.argon2().ok_or(PowError::ParamsOutOfRange)?;
    let mut memory = vec![Block::default(); argon.params().block_count()];
    let mut nonce: u64 = 0;
    loop {
        let zeros =
            attempt(&argon, challenge, nonce, &mut memory).ok_or(PowError::ParamsOutOfRange)?;
        progress(nonce.saturating_add(1));
        if zeros >= u32::from(params.difficulty) {
            return Ok(nonce);
        }
        nonce = nonce.checked_add(1).ok_or(PowError::Exhausted)?;
    }
}

/// Checks that `nonce` solves the challenge (the hash has at least `difficulty` leading zero
/// bits). Returns `false` for a malformed challenge or out-of-range parameters. Does not check
/// the MAC or the expiry.
#[must_use]
pub fn verify_solution(challenge: &[u8], nonce: u64) -> bool {
    verify_solution_in(&mut Scratch::default(), challenge, nonce)
}

/// Argon2 working memory for [`verify_solution_in`], kept between checks. A server checking
/// many solutions reuses a few of these instead of allocating megabytes per check (which
/// glibc's allocator tends to keep, so the process grows far beyond the concurrent need).
#[derive(Default)]
pub struct Scratch {
    blocks: Vec<Block>,
}

impl fmt::Debug for Scratch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scratch").field("blocks", &self.blocks.len()).finish()
    }
}

/// [`verify_solution`] with reusable working memory (grown to the challenge's `m_kib` if
/// needed, never shrunk).
#[must_use]
pub fn verify_solution_in(scratch: &mut Scratch, challenge: &[u8], nonce: u64) -> bool {
    let Ok(parsed) = Challenge::from_bytes(challenge) else {
        return false;
    };
    let params = parsed.params();
    let Some(argon) = params.argon2() else {
        return false;
    };
    let need = argon.params().block_count();
    if scratch.blocks.len() < need {
        scratch.blocks.resize(need, Block::default());
    }
    let Some(memory) = scratch.blocks.get_mut(..need) else {
        return false;
    };
    attempt(&argon, challenge, nonce, memory)
        .is_some_and(|zeros| zeros >= u32::from(params.difficulty))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn zero_bits() {
        let mut h = [0u8; 32];
        assert_eq!(leading_zero_bits(&h), 256);
        h[1] = 0x10;
        assert_eq!(leading_zero_bits(&h), 11);
    }
}
