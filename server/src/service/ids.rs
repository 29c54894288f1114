//! Hashes and random ids: a leaf every service part may use.

use sha2::{Digest, Sha256};

use crate::store::Id;

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

/// Invite codes are compared after removing separators and upper-casing.
#[must_use]
pub fn normalise_invite(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

