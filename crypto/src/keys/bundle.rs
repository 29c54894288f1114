//! Signed key bundles (§1.3) and revocations (§1.4): their byte formats, signing and checks.

use subtle::ConstantTimeEq;

use super::identity::{Fingerprint, IdentityKey, IdentityPublicKey, KeyError};
use crate::recipient::{KeyId, RecipientKey};

/// Signature context of key bundles, §1.3.
const BUNDLE_LABEL: &[u8] = b"meldpunt/v1/key-bundle";
/// Signature context of revocations, §1.4.
const REVOCATION_LABEL: &[u8] = b"meldpunt/v1/revocation";

/// Magic of a key bundle.
const BUNDLE_MAGIC: &[u8; 4] = b"MPKB";
/// Magic of a revocation.
const REVOCATION_MAGIC: &[u8; 4] = b"MPRV";
/// The only format version.
const VERSION: u8 = 0x01;

/// Length of a key bundle on the wire.
pub const BUNDLE_LEN: usize = 165;
/// Length of the signed part of a key bundle.
const BUNDLE_SIGNED_LEN: usize = 101;
/// Length of a revocation on the wire.
pub const REVOCATION_LEN: usize = 125;
/// Length of the signed part of a revocation.
const REVOCATION_SIGNED_LEN: usize = 61;

// ---------------------------------------------------------------------------------------------
// Small byte readers (never panic).

fn take<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = at.checked_add(N).and_then(|end| bytes.get(at..end)) {
        out.copy_from_slice(src);
    }
    out
}

/// Concatenates `parts` into an `N`-byte array (bytes past `N` are dropped, never panics).
fn concat<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0usize;
    for part in parts {
        if let Some(dst) = out.get_mut(at..at + part.len()) {
            dst.copy_from_slice(part);
        }
        at += part.len();
    }
    out
}

/// Checks the length, the 4-byte magic and the version byte that start every signed object.
fn check_frame(
    bytes: &[u8],
    len: usize,
    magic: &[u8; 4],
    what: &'static str,
) -> Result<(), KeyError> {
    if bytes.len() != len {
        return Err(KeyError::WrongLength {
            expected: len,
            found: bytes.len(),
        });
    }
    if take::<4>(bytes, 0) != *magic {
        return Err(KeyError::BadMagic(what));
    }
    let version = take::<1>(bytes, 4)[0];
    if version != VERSION {
        return Err(KeyError::UnsupportedVersion(version));
    }
    Ok(())
}

/// Is this X25519 public key a low-order point? Multiplying by a clamped scalar (a multiple
/// of the cofactor 8) sends exactly the low-order points (including twist points of small
/// order and non-canonical encodings of them) to the all-zero output.
pub(crate) fn is_low_order_x25519(public: &[u8; 32]) -> bool {
    // Any fixed scalar works: X25519 clamps it to a multiple of 8 below 8·ℓ.
    let out = x25519_dalek::x25519([0x5a; 32], *public);
    bool::from(out.ct_eq(&[0u8; 32]))
}

impl IdentityKey {
    /// Makes a signed key bundle (§1.3) for an encryption key, valid
    /// `not_before <= now < not_after`.
    ///
    /// # Errors
    /// [`KeyError::InvalidDates`] if `not_after <= not_before`.
    pub fn make_bundle(
        &self,
        recipient: &RecipientKey,
        not_before: i64,
        not_after: i64,
    ) -> Result<KeyBundle, KeyError> {
        if not_after <= not_before {
            return Err(KeyError::InvalidDates);
        }
        let mut bundle = KeyBundle {
            identity: self.public(),
            key_id: recipient.key_id(),
            x25519: *recipient.public_bytes(),
            not_before,
            not_after,
            signature: [0u8; 64],
        };
        bundle.signature = self.sign_labelled(BUNDLE_LABEL, &bundle.signed_part());
        Ok(bundle)
    }

    /// Makes a signed revocation (§1.4) of one of this identity's encryption keys.
    #[must_use]
    pub fn make_revocation(&self, key_id: KeyId, revoked_at: i64) -> Revocation {
        let mut revocation = Revocation {
            identity: self.public(),
            key_id,
            revoked_at,
            signature: [0u8; 64],
        };
        revocation.signature = self.sign_labelled(REVOCATION_LABEL, &revocation.signed_part());
        revocation
    }
}

// ---------------------------------------------------------------------------------------------
// Key bundles.

/// A signed key bundle (§1.3): an X25519 encryption key of an advisor with its validity,
/// signed by the advisor's identity key.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBundle {
    identity: IdentityPublicKey,
    key_id: KeyId,
    x25519: [u8; 32],
    not_before: i64,
    not_after: i64,
    signature: [u8; 64],
}

impl KeyBundle {
    fn signed_part(&self) -> [u8; BUNDLE_SIGNED_LEN] {
        concat(&[
            BUNDLE_MAGIC,
            &[VERSION],
            self.identity.key.as_bytes(),
            self.key_id.as_bytes(),
            &self.x25519,
            &self.not_before.to_be_bytes(),
            &self.not_after.to_be_bytes(),
        ])
    }

    /// Parses the 165-byte wire form. Checks structure only (length, magic, version, a valid
    /// identity point, `not_after > not_before`); call [`KeyBundle::verify_for_sealing`]
    /// before using the key.
    ///
    /// # Errors
    /// A [`KeyError`] naming the first structural problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        check_frame(bytes, BUNDLE_LEN, BUNDLE_MAGIC, "key bundle")?;
        let identity = IdentityPublicKey::from_bytes(&take::<32>(bytes, 5))?;
        let not_before = i64::from_be_bytes(take::<8>(bytes, 85));
        let not_after = i64::from_be_bytes(take::<8>(bytes, 93));
        if not_after <= not_before {
            return Err(KeyError::InvalidDates);
        }
        Ok(KeyBundle {
            identity,
            key_id: KeyId(take::<16>(bytes, 37)),
            x25519: take::<32>(bytes, 53),
            not_before,
            not_after,
            signature: take::<64>(bytes, 101),
        })
    }

    /// The 165-byte wire form.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        concat::<BUNDLE_LEN>(&[&self.signed_part(), &self.signature]).to_vec()
    }

    /// Verifies the signature (strictly) under the bundle's identity key. Does not check
    /// dates, key id, revocations or pins.
    ///
    /// # Errors
    /// [`KeyError::BadSignature`].
    pub fn verify_signature(&self) -> Result<(), KeyError> {
        self.identity
            .verify_labelled(BUNDLE_LABEL, &self.signed_part(), &self.signature)
    }

    /// Everything a sender must check before sealing to this key (§1.3), in this order:
    /// signature, key id, `not_before <= now < not_after`, no valid revocation of this key id
    /// by this identity among `revocations`, the X25519 key is not low-order, and — if `pins`
    /// is `Some` — the identity fingerprint is pinned (an empty pin list refuses everything).
    ///
    /// # Errors
    /// The [`KeyError`] of the first check that fails.
    pub fn verify_for_sealing(
        &self,
        now: i64,
        revocations: &[Revocation],
        pins: Option<&[Fingerprint]>,
    ) -> Result<RecipientKey, KeyError> {
        self.verify_signature()?;
        let recipient = RecipientKey::new(self.x25519);
        if recipient.key_id() != self.key_id {
            return Err(KeyError::KeyIdMismatch);
        }
        if now < self.not_before {
            return Err(KeyError::NotYetValid {
                not_before: self.not_before,
            });
        }
        if now >= self.not_after {
            return Err(KeyError::Expired {
                not_after: self.not_after,
            });
        }
        for revocation in revocations {
            if revocation.key_id == self.key_id
                && revocation.identity == self.identity
                && revocation.verify().is_ok()
            {
                return Err(KeyError::Revoked {
                    revoked_at: revocation.revoked_at,
                });
            }
        }
        if is_low_order_x25519(&self.x25519) {
            return Err(KeyError::LowOrderKey);
        }
        if let Some(pins) = pins
            && !self.identity.fingerprint().is_in(pins)
        {
            return Err(KeyError::NotPinned);
        }
        Ok(recipient)
    }

    /// The identity key that signed the bundle.
    #[must_use]
    pub fn identity(&self) -> IdentityPublicKey {
        self.identity
    }

    /// The key id as stated in the bundle (checked by [`KeyBundle::verify_for_sealing`]).
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The X25519 key as a recipient. Unverified: prefer [`KeyBundle::verify_for_sealing`].
    #[must_use]
    pub fn recipient(&self) -> RecipientKey {
        RecipientKey::new(self.x25519)
    }

    /// Start of validity (Unix seconds, inclusive).
    #[must_use]
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// End of validity (Unix seconds, exclusive).
    #[must_use]
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// The signature bytes.
    #[must_use]
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }
}

debug_fields!(KeyBundle(b) {
    identity: b.identity,
    key_id: b.key_id,
    not_before: b.not_before,
    not_after: b.not_after,
} ..);

// ---------------------------------------------------------------------------------------------
// Revocations.

/// A signed revocation statement (§1.4).
#[derive(Clone, PartialEq, Eq)]
pub struct Revocation {
    identity: IdentityPublicKey,
    key_id: KeyId,
    revoked_at: i64,
    signature: [u8; 64],
}

impl Revocation {
    /// Makes a signed revocation; the same as [`IdentityKey::make_revocation`].
    #[must_use]
    pub fn make(identity: &IdentityKey, key_id: KeyId, revoked_at: i64) -> Self {
        identity.make_revocation(key_id, revoked_at)
    }

    fn signed_part(&self) -> [u8; REVOCATION_SIGNED_LEN] {
        concat(&[
            REVOCATION_MAGIC,
            &[VERSION],
            self.identity.key.as_bytes(),
            self.key_id.as_bytes(),
            &self.revoked_at.to_be_bytes(),
        ])
    }

    /// Parses the 125-byte wire form (structure only; call [`Revocation::verify`]).
    ///
    /// # Errors
    /// A [`KeyError`] naming the first structural problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        check_frame(bytes, REVOCATION_LEN, REVOCATION_MAGIC, "revocation")?;
        Ok(Revocation {
            identity: IdentityPublicKey::from_bytes(&take::<32>(bytes, 5))?,
            key_id: KeyId(take::<16>(bytes, 37)),
            revoked_at: i64::from_be_bytes(take::<8>(bytes, 53)),
            signature: take::<64>(bytes, 61),
        })
    }

    /// The 125-byte wire form.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        concat::<REVOCATION_LEN>(&[&self.signed_part(), &self.signature]).to_vec()
    }

    /// Verifies the signature (strictly) under the stated identity key. A caller must also
    /// check that this identity is the one that signed the bundle of the key id (as
    /// [`KeyBundle::verify_for_sealing`] does).
    ///
    /// # Errors
    /// [`KeyError::BadSignature`].
    pub fn verify(&self) -> Result<(), KeyError> {
        self.identity
            .verify_labelled(REVOCATION_LABEL, &self.signed_part(), &self.signature)
    }

    /// The identity that revoked the key.
    #[must_use]
    pub fn identity(&self) -> IdentityPublicKey {
        self.identity
    }

    /// The revoked key id.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The time stated in the revocation (Unix seconds).
    #[must_use]
    pub fn revoked_at(&self) -> i64 {
        self.revoked_at
    }

    /// The signature bytes.
    #[must_use]
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }
}

debug_fields!(Revocation(r) {
    identity: r.identity,
    key_id: r.key_id,
    revoked_at: r.revoked_at,
} ..);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn low_order_points_detected() {
        assert!(is_low_order_x25519(&[0u8; 32]));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(is_low_order_x25519(&one));
        assert!(!is_low_order_x25519(&x25519_dalek::X25519_BASEPOINT_BYTES));
    }
}
