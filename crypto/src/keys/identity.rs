//! Identity keys (Ed25519), their fingerprints and the errors of this module (§1.2, §1.5).

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::rng::CryptoRng;

/// Label for fingerprints, §1.2.
const FINGERPRINT_LABEL: &[u8] = b"meldpunt/v1/fingerprint";
/// Signature context of login challenges, §1.5.
const LOGIN_LABEL: &[u8] = b"meldpunt/v1/login";

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
}

debug_fields!(IdentityKey(k) { public: k.public() } ..);

/// A public Ed25519 identity key (an advisor's, or a reporter's signing key).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IdentityPublicKey {
    pub(crate) key: VerifyingKey,
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

ct_eq_by_bytes!(Fingerprint);

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
}
