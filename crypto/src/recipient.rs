//! X25519 encryption keys as envelope recipients (`docs/protocol.md` §1.1).
//!
//! [`RecipientKey`] is the public half that a sender seals to; [`DecryptionKey`] is the secret
//! half that opens stanzas. Both advisors' encryption keys and the reporter's reply key use them.

use core::fmt;

use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::rng::CryptoRng;

/// Label for key ids, §1.1.
const KEY_ID_LABEL: &[u8] = b"meldpunt/v1/key-id";

/// The 16-byte id of an X25519 encryption key: `SHA256("meldpunt/v1/key-id" || pk)[0..16]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 16]);

impl KeyId {
    /// Derives the key id of an X25519 public key.
    #[must_use]
    pub fn derive(public: &[u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(KEY_ID_LABEL)
            .chain_update(public)
            .finalize();
        let mut id = [0u8; 16];
        id.iter_mut().zip(digest.iter()).for_each(|(o, d)| *o = *d);
        KeyId(id)
    }

    /// The raw bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Lower-case hex, as used in the HTTP API and the CLI.
    #[must_use]
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 32 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        let bytes = s.as_bytes();
        if bytes.len() != 32 {
            return None;
        }
        let mut id = [0u8; 16];
        for (out, pair) in id.iter_mut().zip(bytes.chunks_exact(2)) {
            let hi = (pair.first()?.to_ascii_lowercase() as char).to_digit(16)?;
            let lo = (pair.get(1)?.to_ascii_lowercase() as char).to_digit(16)?;
            *out = u8::try_from(hi * 16 + lo).ok()?;
        }
        Some(KeyId(id))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

/// A public X25519 key that envelopes can be sealed to, with its key id.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RecipientKey {
    key_id: KeyId,
    public: [u8; 32],
}

impl RecipientKey {
    /// Wraps a public key and derives its key id.
    #[must_use]
    pub fn new(public: [u8; 32]) -> Self {
        RecipientKey { key_id: KeyId::derive(&public), public }
    }

    /// The key id.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The public key bytes.
    #[must_use]
    pub fn public_bytes(&self) -> &[u8; 32] {
        &self.public
    }

    /// The public key.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from(self.public)
    }
}

debug_fields!(RecipientKey(r) { key_id: r.key_id } ..);

/// A secret X25519 key that opens stanzas addressed to its key id. Zeroized on drop (the
/// inner `StaticSecret` zeroizes itself); `Debug` shows only the key id.
pub struct DecryptionKey {
    secret: StaticSecret,
    recipient: RecipientKey,
}

impl DecryptionKey {
    /// Generates a new key from the given CSPRNG.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_secret(StaticSecret::random_from_rng(rng))
    }

    /// Restores a key from its 32 secret bytes (as stored in a keyring, or derived from a
    /// pickup code). The scalar is clamped by X25519 as usual.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let bytes = Zeroizing::new(bytes);
        Self::from_secret(StaticSecret::from(*bytes))
    }

    fn from_secret(secret: StaticSecret) -> Self {
        let public = PublicKey::from(&secret);
        DecryptionKey { secret, recipient: RecipientKey::new(public.to_bytes()) }
    }

    /// The secret bytes, for writing a keyring. Zeroized when dropped.
    #[must_use]
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// The public half.
    #[must_use]
    pub fn recipient(&self) -> RecipientKey {
        self.recipient
    }

    /// The key id.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.recipient.key_id
    }

    /// The secret, for HPKE decapsulation inside this crate.
    pub(crate) fn secret(&self) -> &StaticSecret {
        &self.secret
    }
}

debug_fields!(DecryptionKey(d) { key_id: d.recipient.key_id } ..);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_hex_round_trip() {
        let id = KeyId::derive(&[7u8; 32]);
        assert_eq!(KeyId::from_hex(&id.to_hex()), Some(id));
        assert_eq!(KeyId::from_hex("zz"), None);
    }

    #[test]
    fn debug_shows_no_secret() {
        let key = DecryptionKey::from_bytes([0x42; 32]);
        let secret_hex: String = key.to_bytes().iter().map(|b| format!("{b:02x}")).collect();
        let shown = format!("{key:?}");
        assert!(!shown.contains(&secret_hex));
        assert!(!shown.contains("66, 66"));
    }
}
