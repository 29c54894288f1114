//! An advisor's keyring and its passphrase-encrypted file (`docs/protocol.md` §7).
//!
//! The keyring holds the identity key, every encryption key the advisor ever had (old ones
//! stay so old cases stay readable) and application metadata. [`Keyring::rotate`] adds a key
//! and returns its signed bundle; [`Keyring::revoke`] marks a key revoked and returns the
//! signed revocation. [`Keyring::to_file`] / [`Keyring::from_file`] write and read the file.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use zeroize::Zeroizing;

use crate::envelope::{self, EnvelopeError, Opened};
use crate::keys::{IdentityKey, KeyBundle, KeyError, Revocation};
use crate::recipient::{DecryptionKey, KeyId};
use crate::rng::CryptoRng;

const MAGIC: &[u8; 4] = b"MPKF";
const FILE_VERSION: u8 = 0x01;
const PLAINTEXT_VERSION: u8 = 0x01;
/// Bytes of the file header (authenticated as AAD).
const HEADER_LEN: usize = 45;
/// Bytes of one key record in the plaintext.
const KEY_RECORD_LEN: usize = 56;
/// AEAD tag length.
const TAG_LEN: usize = 16;

/// Reader minimum for `m_kib`.
pub const MIN_M_KIB: u32 = 19456;
/// Reader maximum for `m_kib` (1 GiB).
pub const MAX_M_KIB: u32 = 1_048_576;
/// Reader minimum for `t`.
pub const MIN_T: u32 = 2;
/// Reader maximum for `t`.
pub const MAX_T: u32 = 16;

/// Errors of the keyring and its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// Not a keyring file, or its structure (inside or outside the encryption) is broken.
    #[error("not a valid keyring file")]
    BadFormat,
    /// The file (or its plaintext) has a version this program does not know.
    #[error("unsupported keyring version {0}")]
    UnsupportedVersion(u8),
    /// The Argon2id parameters are outside the bounds of §7.
    #[error("keyring parameters out of range")]
    BadParams,
    /// Decryption failed: a wrong passphrase or a corrupted file.
    #[error("wrong passphrase or corrupted keyring file")]
    WrongPassphraseOrCorrupted,
    /// The key derivation failed (e.g. memory could not be allocated).
    #[error("key derivation failed")]
    Kdf,
    /// No key with this id is in the keyring.
    #[error("unknown key id")]
    UnknownKey,
    /// The validity period is empty or overflows.
    #[error("invalid validity period")]
    InvalidValidity,
    /// Too many keys (65535) or metadata too large (4 GiB) for the file format.
    #[error("keyring too large for the file format")]
    TooLarge,
    /// Signing a bundle failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Argon2id parameters of the keyring file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyringParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes (must be 1).
    pub p: u32,
}

impl KeyringParams {
    /// Write defaults: `m_kib = 65536`, `t = 3`, `p = 1`.
    pub const DEFAULT: KeyringParams = KeyringParams {
        m_kib: 65536,
        t: 3,
        p: 1,
    };
    /// The cheapest parameters a reader accepts (`m_kib = 19456`, `t = 2`): for tests.
    pub const MINIMUM: KeyringParams = KeyringParams {
        m_kib: MIN_M_KIB,
        t: MIN_T,
        p: 1,
    };

    /// Whether a reader accepts these parameters (§7).
    #[must_use]
    pub fn in_bounds(&self) -> bool {
        (MIN_M_KIB..=MAX_M_KIB).contains(&self.m_kib)
            && (MIN_T..=MAX_T).contains(&self.t)
            && self.p == 1
    }

    fn derive_key(
        &self,
        passphrase: &str,
        salt: &[u8; 16],
    ) -> Result<Zeroizing<[u8; 32]>, KeyringError> {
        if !self.in_bounds() {
            return Err(KeyringError::BadParams);
        }
        let params = Params::new(self.m_kib, self.t, self.p, Some(32))
            .map_err(|_| KeyringError::BadParams)?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
            .map_err(|_| KeyringError::Kdf)?;
        Ok(key)
    }
}

impl Default for KeyringParams {
    fn default() -> Self {
        KeyringParams::DEFAULT
    }
}

/// One encryption key in the keyring with its validity.
pub struct KeyringEntry {
    /// The secret key.
    pub key: DecryptionKey,
    /// Start of validity (Unix seconds).
    pub not_before: i64,
    /// End of validity (Unix seconds, exclusive).
    pub not_after: i64,
    /// When the advisor revoked it, if ever.
    pub revoked_at: Option<i64>,
}

impl KeyringEntry {
    /// Whether this key may be used (published, sealed to) at `now`.
    #[must_use]
    pub fn is_current(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.not_before <= now && now < self.not_after
    }
}

debug_fields!(KeyringEntry(e) {
    key: e.key,
    not_before: e.not_before,
    not_after: e.not_after,
    revoked_at: e.revoked_at,
});

/// An advisor's keyring. Secrets are zeroized on drop; no `Clone`; `Debug` shows only public
/// information (the identity fingerprint and key ids).
pub struct Keyring {
    identity: IdentityKey,
    keys: Vec<KeyringEntry>,
    meta: Zeroizing<String>,
}

fn validity_end(now: i64, validity: i64) -> Result<i64, KeyringError> {
    if validity <= 0 {
        return Err(KeyringError::InvalidValidity);
    }
    now.checked_add(validity)
        .ok_or(KeyringError::InvalidValidity)
}

impl Keyring {
    /// A new keyring: a fresh identity key and one encryption key valid `now..now+validity`
    /// (seconds). Publish [`Keyring::bundle`] of [`Keyring::current_key`] afterwards.
    ///
    /// # Errors
    /// [`KeyringError::InvalidValidity`] if `validity <= 0` or the end overflows.
    pub fn new<R: CryptoRng + ?Sized>(
        rng: &mut R,
        meta: Zeroizing<String>,
        now: i64,
        validity: i64,
    ) -> Result<Self, KeyringError> {
        let not_after = validity_end(now, validity)?;
        let identity = IdentityKey::generate(rng);
        let key = DecryptionKey::generate(rng);
        Ok(Keyring {
            identity,
            keys: vec![KeyringEntry {
                key,
                not_before: now,
                not_after,
                revoked_at: None,
            }],
            meta,
        })
    }

    /// Assembles a keyring from parts (for imports and tests).
    #[must_use]
    pub fn from_parts(
        identity: IdentityKey,
        keys: Vec<KeyringEntry>,
        meta: Zeroizing<String>,
    ) -> Self {
        Keyring {
            identity,
            keys,
            meta,
        }
    }

    /// Adds a new encryption key valid `now..now+validity` and returns its signed bundle.
    /// Old keys stay (so old envelopes stay readable) and stay valid until they expire or are
    /// revoked.
    ///
    /// # Errors
    /// [`KeyringError::InvalidValidity`] or [`KeyringError::TooLarge`] (65535 keys).
    pub fn rotate<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: i64,
        validity: i64,
    ) -> Result<KeyBundle, KeyringError> {
        let not_after = validity_end(now, validity)?;
        if self.keys.len() >= usize::from(u16::MAX) {
            return Err(KeyringError::TooLarge);
        }
        let key = DecryptionKey::generate(rng);
        let bundle = self
            .identity
            .make_bundle(&key.recipient(), now, not_after)?;
        self.keys.push(KeyringEntry {
            key,
            not_before: now,
            not_after,
            revoked_at: None,
        });
        Ok(bundle)
    }

    /// Marks a key revoked at `now` and returns the signed revocation to publish. The secret
    /// stays, so envelopes already sealed to it stay readable.
    ///
    /// # Errors
    /// [`KeyringError::UnknownKey`].
    pub fn revoke(&mut self, key_id: KeyId, now: i64) -> Result<Revocation, KeyringError> {
        let entry = self
            .keys
            .iter_mut()
            .find(|e| e.key.key_id() == key_id)
            .ok_or(KeyringError::UnknownKey)?;
        entry.revoked_at = Some(now);
        Ok(self.identity.make_revocation(key_id, now))
    }

    /// The signed bundle of a key in the keyring (Ed25519 is deterministic, so this is the
    /// same bundle every time).
    ///
    /// # Errors
    /// [`KeyringError::UnknownKey`].
    pub fn bundle(&self, key_id: KeyId) -> Result<KeyBundle, KeyringError> {
        let entry = self
            .keys
            .iter()
            .find(|e| e.key.key_id() == key_id)
            .ok_or(KeyringError::UnknownKey)?;
        Ok(self
            .identity
            .make_bundle(&entry.key.recipient(), entry.not_before, entry.not_after)?)
    }

    /// The newest key that is valid and not revoked at `now`.
    #[must_use]
    pub fn current_key(&self, now: i64) -> Option<&KeyringEntry> {
        self.keys.iter().rev().find(|e| e.is_current(now))
    }

    /// Every secret key, old, expired and revoked ones too (for opening envelopes).
    #[must_use]
    pub fn decryption_keys(&self) -> Vec<&DecryptionKey> {
        self.keys.iter().map(|e| &e.key).collect()
    }

    /// Opens an envelope (§3) with any key of the keyring, old ones included, trying the
    /// header stanzas and then `detached` stanzas (§3.6).
    ///
    /// # Errors
    /// The [`EnvelopeError`] of [`envelope::open`].
    pub fn open(&self, envelope: &[u8], detached: &[&[u8]]) -> Result<Opened, EnvelopeError> {
        envelope::open(envelope, &self.decryption_keys(), detached)
    }

    /// The identity key.
    #[must_use]
    pub fn identity(&self) -> &IdentityKey {
        &self.identity
    }

    /// All key entries, oldest first.
    #[must_use]
    pub fn keys(&self) -> &[KeyringEntry] {
        &self.keys
    }

    /// The application metadata (UTF-8 JSON).
    #[must_use]
    pub fn meta(&self) -> &str {
        &self.meta
    }

    /// Replaces the metadata.
    pub fn set_meta(&mut self, meta: Zeroizing<String>) {
        self.meta = meta;
    }

    fn plaintext(&self) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
        let key_count = u16::try_from(self.keys.len()).map_err(|_| KeyringError::TooLarge)?;
        let meta_len = u32::try_from(self.meta.len()).map_err(|_| KeyringError::TooLarge)?;
        let len = 1 + 32 + 2 + self.keys.len() * KEY_RECORD_LEN + 4 + self.meta.len();
        // Room for the tag, so that encrypting in place never reallocates (and leaves no
        // unzeroized copy behind).
        let mut out = Zeroizing::new(Vec::with_capacity(len + TAG_LEN));
        out.push(PLAINTEXT_VERSION);
        out.extend_from_slice(self.identity.to_seed().as_ref());
        out.extend_from_slice(&key_count.to_be_bytes());
        for entry in &self.keys {
            out.extend_from_slice(entry.key.to_bytes().as_ref());
            out.extend_from_slice(&entry.not_before.to_be_bytes());
            out.extend_from_slice(&entry.not_after.to_be_bytes());
            out.extend_from_slice(&entry.revoked_at.unwrap_or(0).to_be_bytes());
        }
        out.extend_from_slice(&meta_len.to_be_bytes());
        out.extend_from_slice(self.meta.as_bytes());
        Ok(out)
    }

    /// Writes the encrypted keyring file with a fresh salt and nonce.
    ///
    /// # Errors
    /// [`KeyringError::BadParams`] if `params` are outside what a reader accepts,
    /// [`KeyringError::Kdf`], [`KeyringError::TooLarge`].
    pub fn to_file<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        passphrase: &str,
        params: KeyringParams,
    ) -> Result<Vec<u8>, KeyringError> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        rng.fill_bytes(&mut salt);
        rng.fill_bytes(&mut nonce);
        let key = params.derive_key(passphrase, &salt)?;
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.push(FILE_VERSION);
        header.extend_from_slice(&params.m_kib.to_be_bytes());
        header.extend_from_slice(&params.t.to_be_bytes());
        header.extend_from_slice(&params.p.to_be_bytes());
        header.extend_from_slice(&salt);
        header.extend_from_slice(&nonce);
        let mut buffer = self.plaintext()?;
        let cipher =
            ChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|_| KeyringError::Kdf)?;
        cipher
            .encrypt_in_place(&Nonce::from(nonce), &header, &mut *buffer)
            .map_err(|_| KeyringError::TooLarge)?;
        let mut out = header;
        out.extend_from_slice(&buffer);
        Ok(out)
    }

    /// Reads the parameters of a keyring file without the passphrase (checks magic, version
    /// and bounds; cheap).
    ///
    /// # Errors
    /// [`KeyringError::BadFormat`], [`KeyringError::UnsupportedVersion`],
    /// [`KeyringError::BadParams`].
    pub fn file_params(bytes: &[u8]) -> Result<KeyringParams, KeyringError> {
        let header = bytes.get(..HEADER_LEN).ok_or(KeyringError::BadFormat)?;
        if bytes.len() < HEADER_LEN + TAG_LEN {
            return Err(KeyringError::BadFormat);
        }
        if header.get(..4) != Some(MAGIC.as_slice()) {
            return Err(KeyringError::BadFormat);
        }
        let version = get_array::<1>(header, 4)[0];
        if version != FILE_VERSION {
            return Err(KeyringError::UnsupportedVersion(version));
        }
        let params = KeyringParams {
            m_kib: u32::from_be_bytes(get_array(header, 5)),
            t: u32::from_be_bytes(get_array(header, 9)),
            p: u32::from_be_bytes(get_array(header, 13)),
        };
        if !params.in_bounds() {
            return Err(KeyringError::BadParams);
        }
        Ok(params)
    }

    /// Reads and decrypts a keyring file. Checks magic, version and the Argon2id bounds of §7
    /// before any expensive work.
    ///
    /// # Errors
    /// [`KeyringError::BadFormat`], [`KeyringError::UnsupportedVersion`],
    /// [`KeyringError::BadParams`], [`KeyringError::WrongPassphraseOrCorrupted`],
    /// [`KeyringError::Kdf`].
    pub fn from_file(bytes: &[u8], passphrase: &str) -> Result<Self, KeyringError> {
        let params = Self::file_params(bytes)?;
        let header = bytes.get(..HEADER_LEN).ok_or(KeyringError::BadFormat)?;
        let ciphertext = bytes.get(HEADER_LEN..).ok_or(KeyringError::BadFormat)?;
        let salt: [u8; 16] = get_array(header, 17);
        let nonce: [u8; 12] = get_array(header, 33);
        let key = params.derive_key(passphrase, &salt)?;
        let cipher =
            ChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|_| KeyringError::Kdf)?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        cipher
            .decrypt_in_place(&Nonce::from(nonce), header, &mut *buffer)
            .map_err(|_| KeyringError::WrongPassphraseOrCorrupted)?;
        Self::parse_plaintext(&buffer)
    }

    fn parse_plaintext(pt: &[u8]) -> Result<Self, KeyringError> {
        let mut r = Reader { bytes: pt, at: 0 };
        let version = r.array::<1>()?[0];
        if version != PLAINTEXT_VERSION {
            return Err(KeyringError::UnsupportedVersion(version));
        }
        let seed = Zeroizing::new(r.array::<32>()?);
        let identity = IdentityKey::from_seed(&seed);
        let key_count = usize::from(u16::from_be_bytes(r.array()?));
        if key_count.saturating_mul(KEY_RECORD_LEN) > r.remaining() {
            return Err(KeyringError::BadFormat);
        }
        let mut keys = Vec::with_capacity(key_count);
        for _ in 0..key_count {
            let secret = Zeroizing::new(r.array::<32>()?);
            let not_before = i64::from_be_bytes(r.array()?);
            let not_after = i64::from_be_bytes(r.array()?);
            let revoked_at = i64::from_be_bytes(r.array()?);
            keys.push(KeyringEntry {
                key: DecryptionKey::from_bytes(*secret),
                not_before,
                not_after,
                revoked_at: (revoked_at != 0).then_some(revoked_at),
            });
        }
        let meta_len =
            usize::try_from(u32::from_be_bytes(r.array()?)).map_err(|_| KeyringError::BadFormat)?;
        if meta_len != r.remaining() {
            return Err(KeyringError::BadFormat);
        }
        let meta_bytes = r.bytes.get(r.at..).ok_or(KeyringError::BadFormat)?;
        let meta = core::str::from_utf8(meta_bytes).map_err(|_| KeyringError::BadFormat)?;
        Ok(Keyring {
            identity,
            keys,
            meta: Zeroizing::new(meta.to_owned()),
        })
    }
}

fn get_array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = at.checked_add(N).and_then(|end| bytes.get(at..end)) {
        out.copy_from_slice(src);
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.at)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], KeyringError> {
        let end = self.at.checked_add(N).ok_or(KeyringError::BadFormat)?;
        let src = self
            .bytes
            .get(self.at..end)
            .ok_or(KeyringError::BadFormat)?;
        let mut out = [0u8; N];
        out.copy_from_slice(src);
        self.at = end;
        Ok(out)
    }
}

debug_fields!(Keyring(k) {
    identity: k.identity,
    keys: k.keys,
    meta_len: k.meta.len(),
});
