//! Advisor identity keys, fingerprints, signed key bundles and revocations
//! (`docs/protocol.md` §1.2–§1.5).
//!
//! An advisor's [`IdentityKey`] (Ed25519) signs [`KeyBundle`]s that publish X25519 encryption
//! keys and [`Revocation`]s that withdraw them. A sender calls
//! [`KeyBundle::verify_for_sealing`] and seals only to the [`RecipientKey`] it returns.

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::recipient::{KeyId, RecipientKey};
use crate::rng::CryptoRng;

/// Label for fingerprints, §1.2.
const FINGERPRINT_LABEL: &[u8] = b"meldpunt/v1/fingerprint";
/// Signature context of key bundles, §1.3.
const BUNDLE_LABEL: &[u8] = b"meldpunt/v1/key-bundle";
/// Signature context of revocations, §1.4.
const REVOCATION_LABEL: &[u8] = b"meldpunt/v1/revocation";
/// Signature context of login challenges, §1.5.
const LOGIN_LABEL: &[u8] = b"meldpunt/v1/login";

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
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// Errors from parsing and verifying keys, bundles, revocations and signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The input has the wrong length.
    #[error("wrong length: expected {expected} bytes, got {found}")]
    WrongLength {
        /// Expected length.
        expected: usize,
        /// Actual length.
        found: usize,
    },
    /// The magic bytes are wrong.
    #[error("not a Meldpunt {0}")]
    BadMagic(&'static str),
    /// The format version is not supported.
    #[error("unsupported version {0}")]
    UnsupportedVersion(u8),
    /// The Ed25519 public key is not a valid, non-weak curve point.
    #[error("invalid Ed25519 public key")]
    InvalidIdentityKey,
    /// A signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// The key id of a bundle does not match its X25519 key.
    #[error("key id does not match the public key")]
    KeyIdMismatch,
    /// `not_after` is not after `not_before`.
    #[error("validity period is empty")]
    InvalidDates,
    /// The key is not valid yet.
    #[error("key not valid before {not_before}")]
    NotYetValid {
        /// Start of validity (Unix seconds).
        not_before: i64,
    },
    /// The key has expired.
    #[error("key expired at {not_after}")]
    Expired {
        /// End of validity (Unix seconds, exclusive).
        not_after: i64,
    },
    /// A valid revocation for the key is known.
    #[error("key revoked at {revoked_at}")]
    Revoked {
        /// Time stated in the revocation.
        revoked_at: i64,
    },
    /// The X25519 key is a low-order point.
    #[error("low-order X25519 key")]
    LowOrderKey,
    /// Pins are present and the identity fingerprint is not among them.
    #[error("identity key is not pinned")]
    NotPinned,
    /// A fingerprint string could not be parsed.
    #[error("malformed fingerprint")]
    BadFingerprint,
}

// ---------------------------------------------------------------------------------------------
// Crockford base32 (§1.2), for fingerprints.

/// The Crockford base32 alphabet, values 0..=31.
pub(crate) const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The value of one Crockford symbol, after the §4.2 normalisation (case, O→0, I/L→1).
pub(crate) fn crockford_value(c: char) -> Option<u8> {
    let c = c.to_ascii_uppercase();
    let c = match c {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    let byte = u8::try_from(u32::from(c)).ok()?;
    CROCKFORD
        .iter()
        .position(|&s| s == byte)
        .and_then(|p| u8::try_from(p).ok())
}

/// The symbol for a 5-bit value.
pub(crate) fn crockford_symbol(v: u8) -> char {
    char::from(
        CROCKFORD
            .get(usize::from(v & 0x1f))
            .copied()
            .unwrap_or(b'0'),
    )
}

// ---------------------------------------------------------------------------------------------
// Identity keys.

/// An advisor's long-term Ed25519 identity key (secret). Zeroized on drop; no `Clone`;
/// `Debug` shows only the public key.
pub struct IdentityKey {
    signing: SigningKey,
}

impl IdentityKey {
    /// Generates a new identity key from the given CSPRNG.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        Self::from_seed(&seed)
    }

    /// Restores an identity key from its 32-byte RFC 8032 seed.
    #[must_use]
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        IdentityKey {
            signing: SigningKey::from_bytes(seed),
        }
    }

    /// The 32-byte seed, for writing a keyring. Zeroized when dropped.
    #[must_use]
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The public identity key.
    #[must_use]
    pub fn public(&self) -> IdentityPublicKey {
        IdentityPublicKey {
            key: self.signing.verifying_key(),
        }
    }

    /// Signs `label || 0x00 || data` (the domain-separated form every Meldpunt signature uses).
    pub(crate) fn sign_labelled(&self, label: &[u8], data: &[u8]) -> [u8; 64] {
        let mut msg = Vec::with_capacity(label.len() + 1 + data.len());
        msg.extend_from_slice(label);
        msg.push(0x00);
        msg.extend_from_slice(data);
        self.signing.sign(&msg).to_bytes()
    }

    /// Answers a server login challenge (§1.5):
    /// `Ed25519-Sign(identity_sk, "meldpunt/v1/login" || 0x00 || challenge)`.
    #[must_use]
    pub fn sign_login(&self, challenge: &[u8]) -> [u8; 64] {
        self.sign_labelled(LOGIN_LABEL, challenge)
    }

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

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityKey")
            .field("public", &self.public())
            .finish_non_exhaustive()
    }
}

/// A public Ed25519 identity key (an advisor's, or a reporter's signing key).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IdentityPublicKey {
    key: VerifyingKey,
}

impl IdentityPublicKey {
    /// Parses 32 bytes. Refuses encodings that are not a curve point and weak (small-order)
    /// points.
    ///
    /// # Errors
    /// [`KeyError::WrongLength`] or [`KeyError::InvalidIdentityKey`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let array: &[u8; 32] = bytes.try_into().map_err(|_| KeyError::WrongLength {
            expected: 32,
            found: bytes.len(),
        })?;
        let key = VerifyingKey::from_bytes(array).map_err(|_| KeyError::InvalidIdentityKey)?;
        if key.is_weak() {
            return Err(KeyError::InvalidIdentityKey);
        }
        Ok(IdentityPublicKey { key })
    }

    /// The 32 bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The fingerprint (§1.2).
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        let digest = Sha256::new()
            .chain_update(FINGERPRINT_LABEL)
            .chain_update(self.key.as_bytes())
            .finalize();
        let mut fp = [0u8; 20];
        for (out, b) in fp.iter_mut().zip(digest.iter()) {
            *out = *b;
        }
        Fingerprint(fp)
    }

    /// Strictly verifies `signature` over `label || 0x00 || data`.
    pub(crate) fn verify_labelled(
        &self,
        label: &[u8],
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), KeyError> {
        let sig = Signature::from_slice(signature).map_err(|_| KeyError::BadSignature)?;
        let mut msg = Vec::with_capacity(label.len() + 1 + data.len());
        msg.extend_from_slice(label);
        msg.push(0x00);
        msg.extend_from_slice(data);
        self.key
            .verify_strict(&msg, &sig)
            .map_err(|_| KeyError::BadSignature)
    }

    /// Verifies a login answer (§1.5).
    ///
    /// # Errors
    /// [`KeyError::BadSignature`] if it does not verify (strictly).
    pub fn verify_login(&self, challenge: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        self.verify_labelled(LOGIN_LABEL, challenge, signature)
    }
}

impl fmt::Debug for IdentityPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityPublicKey({})", self.fingerprint().to_pin())
    }
}

// ---------------------------------------------------------------------------------------------
// Fingerprints.

/// The 160-bit fingerprint of an identity key (§1.2). Equality is constant-time.
#[derive(Clone, Copy)]
pub struct Fingerprint([u8; 20]);

impl Fingerprint {
    /// The raw 20 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Wraps 20 raw bytes.
    #[must_use]
    pub fn from_raw(bytes: [u8; 20]) -> Self {
        Fingerprint(bytes)
    }

    /// The 32 Crockford base32 symbols (most significant bit first).
    fn symbols(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        // 20 bytes = 4 blocks of 5 bytes = 4 blocks of 8 symbols.
        for (block, syms) in self.0.chunks_exact(5).zip(out.chunks_exact_mut(8)) {
            let mut acc: u64 = 0;
            for &b in block {
                acc = (acc << 8) | u64::from(b);
            }
            for (i, s) in syms.iter_mut().enumerate() {
                let shift = 35 - 5 * i;
                let v = u8::try_from((acc >> shift) & 0x1f).unwrap_or(0);
                *s = CROCKFORD.get(usize::from(v)).copied().unwrap_or(b'0');
            }
        }
        out
    }

    /// The pin form: 32 Crockford base32 characters, no separators (URL fragments).
    #[must_use]
    pub fn to_pin(&self) -> String {
        self.symbols().iter().map(|&b| char::from(b)).collect()
    }

    /// The display form: 8 groups of 4 characters separated by single spaces (posters).
    #[must_use]
    pub fn to_display(&self) -> String {
        let syms = self.symbols();
        let groups: Vec<String> = syms
            .chunks_exact(4)
            .map(|g| g.iter().map(|&b| char::from(b)).collect::<String>())
            .collect();
        groups.join(" ")
    }

    /// Parses the pin form. Also accepts the display form: spaces and hyphens are ignored,
    /// case is ignored and `O`→`0`, `I`/`L`→`1` as in Crockford base32.
    ///
    /// # Errors
    /// [`KeyError::BadFingerprint`] for any other character or a count other than 32 symbols.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let mut values = [0u8; 32];
        let mut n = 0usize;
        for c in s.chars() {
            if c == ' ' || c == '-' {
                continue;
            }
            let v = crockford_value(c).ok_or(KeyError::BadFingerprint)?;
            let slot = values.get_mut(n).ok_or(KeyError::BadFingerprint)?;
            *slot = v;
            n += 1;
        }
        if n != 32 {
            return Err(KeyError::BadFingerprint);
        }
        let mut fp = [0u8; 20];
        for (syms, block) in values.chunks_exact(8).zip(fp.chunks_exact_mut(5)) {
            let mut acc: u64 = 0;
            for &v in syms {
                acc = (acc << 5) | u64::from(v);
            }
            for (i, b) in block.iter_mut().enumerate() {
                let shift = 32 - 8 * i;
                *b = u8::try_from((acc >> shift) & 0xff).unwrap_or(0);
            }
        }
        Ok(Fingerprint(fp))
    }

    /// Whether this fingerprint is in `pins` (constant-time per comparison).
    #[must_use]
    pub fn is_in(&self, pins: &[Fingerprint]) -> bool {
        let mut found = subtle::Choice::from(0u8);
        for pin in pins {
            found |= self.ct_eq(pin);
        }
        found.into()
    }
}

impl ConstantTimeEq for Fingerprint {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for Fingerprint {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Fingerprint {}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_display())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.to_pin())
    }
}

impl core::str::FromStr for Fingerprint {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        Fingerprint::parse(s)
    }
}

// ---------------------------------------------------------------------------------------------
// Small byte readers (never panic).

fn take<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = at.checked_add(N).and_then(|end| bytes.get(at..end)) {
        out.copy_from_slice(src);
    }
    out
}

/// Is this X25519 public key a low-order point? Multiplying by a clamped scalar (a multiple
/// of the cofactor 8) sends exactly the low-order points (including twist points of small
/// order and non-canonical encodings of them) to the all-zero output.
pub(crate) fn is_low_order_x25519(public: &[u8; 32]) -> bool {
    // Any fixed scalar works: X25519 clamps it to a multiple of 8 below 8·ℓ.
    let out = x25519_dalek::x25519([0x5a; 32], *public);
    bool::from(out.ct_eq(&[0u8; 32]))
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
        let mut out = [0u8; BUNDLE_SIGNED_LEN];
        let parts: [&[u8]; 7] = [
            BUNDLE_MAGIC,
            &[VERSION],
            self.identity.key.as_bytes(),
            self.key_id.as_bytes(),
            &self.x25519,
            &self.not_before.to_be_bytes(),
            &self.not_after.to_be_bytes(),
        ];
        let mut at = 0usize;
        for part in parts {
            if let Some(dst) = out.get_mut(at..at + part.len()) {
                dst.copy_from_slice(part);
            }
            at += part.len();
        }
        out
    }

    /// Parses the 165-byte wire form. Checks structure only (length, magic, version, a valid
    /// identity point, `not_after > not_before`); call [`KeyBundle::verify_for_sealing`]
    /// before using the key.
    ///
    /// # Errors
    /// A [`KeyError`] naming the first structural problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != BUNDLE_LEN {
            return Err(KeyError::WrongLength {
                expected: BUNDLE_LEN,
                found: bytes.len(),
            });
        }
        if take::<4>(bytes, 0) != *BUNDLE_MAGIC {
            return Err(KeyError::BadMagic("key bundle"));
        }
        let version = take::<1>(bytes, 4)[0];
        if version != VERSION {
            return Err(KeyError::UnsupportedVersion(version));
        }
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
        let mut out = Vec::with_capacity(BUNDLE_LEN);
        out.extend_from_slice(&self.signed_part());
        out.extend_from_slice(&self.signature);
        out
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

impl fmt::Debug for KeyBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyBundle")
            .field("identity", &self.identity)
            .field("key_id", &self.key_id)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

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
        let mut out = [0u8; REVOCATION_SIGNED_LEN];
        let parts: [&[u8]; 5] = [
            REVOCATION_MAGIC,
            &[VERSION],
            self.identity.key.as_bytes(),
            self.key_id.as_bytes(),
            &self.revoked_at.to_be_bytes(),
        ];
        let mut at = 0usize;
        for part in parts {
            if let Some(dst) = out.get_mut(at..at + part.len()) {
                dst.copy_from_slice(part);
            }
            at += part.len();
        }
        out
    }

    /// Parses the 125-byte wire form (structure only; call [`Revocation::verify`]).
    ///
    /// # Errors
    /// A [`KeyError`] naming the first structural problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != REVOCATION_LEN {
            return Err(KeyError::WrongLength {
                expected: REVOCATION_LEN,
                found: bytes.len(),
            });
        }
        if take::<4>(bytes, 0) != *REVOCATION_MAGIC {
            return Err(KeyError::BadMagic("revocation"));
        }
        let version = take::<1>(bytes, 4)[0];
        if version != VERSION {
            return Err(KeyError::UnsupportedVersion(version));
        }
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
        let mut out = Vec::with_capacity(REVOCATION_LEN);
        out.extend_from_slice(&self.signed_part());
        out.extend_from_slice(&self.signature);
        out
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

impl fmt::Debug for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revocation")
            .field("identity", &self.identity)
            .field("key_id", &self.key_id)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_round_trip() {
        let key = IdentityKey::from_seed(&[3u8; 32]);
        let fp = key.public().fingerprint();
        let pin = fp.to_pin();
        assert_eq!(pin.len(), 32);
        assert_eq!(Fingerprint::parse(&pin), Ok(fp));
        assert_eq!(Fingerprint::parse(&fp.to_display()), Ok(fp));
        assert_eq!(Fingerprint::parse(&pin.to_lowercase()), Ok(fp));
        assert_eq!(fp.to_display().len(), 39);
    }

    #[test]
    fn crockford_bits_are_msb_first() {
        let mut raw = [0u8; 20];
        raw[0] = 0b1000_0001;
        let fp = Fingerprint::from_raw(raw);
        assert!(fp.to_pin().starts_with("G40"));
        let all = Fingerprint::from_raw([0xff; 20]);
        assert_eq!(all.to_pin(), "Z".repeat(32));
    }

    #[test]
    fn low_order_points_detected() {
        assert!(is_low_order_x25519(&[0u8; 32]));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(is_low_order_x25519(&one));
        assert!(!is_low_order_x25519(&x25519_dalek::X25519_BASEPOINT_BYTES));
    }
}
