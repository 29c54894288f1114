//! HPKE, RFC 9180, base mode only (`docs/protocol.md` §2).
//!
//! Suite: DHKEM(X25519, HKDF-SHA256) `0x0020` / HKDF-SHA256 `0x0001` / ChaCha20-Poly1305
//! `0x0003`. Built from `x25519-dalek`, `hkdf`, `sha2` and `chacha20poly1305`; reproduces every
//! value of RFC 9180 Appendix A.2.1 (see `tests/hpke_vectors.rs`) and interoperates with the
//! `hpke` crate (see `tests/hpke_differential.rs`).
//!
//! # Hazmat
//!
//! This module is a building block. Applications should use [`crate::envelope`], which binds
//! the HPKE `info` to the protocol version, organisation, purpose and recipient key id. Using
//! HPKE directly means choosing `info` and `aad` correctly yourself; the accessors that expose
//! the key schedule ([`SenderContext::key`], …) exist only to check test vectors.
//!
//! Every Diffie-Hellman output that is all zero (a low-order public key, RFC 9180 §7.1.4) is
//! rejected with [`HpkeError::ZeroSharedSecret`]. All secrets are zeroized on drop, their
//! `Debug` output is redacted, and none of the secret types implement `Clone`.

use core::fmt;

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};
use hkdf::{Hkdf, HkdfExtract};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

use crate::rng::CryptoRng;

/// KEM id of DHKEM(X25519, HKDF-SHA256).
pub const KEM_ID: u16 = 0x0020;
/// KDF id of HKDF-SHA256.
pub const KDF_ID: u16 = 0x0001;
/// AEAD id of ChaCha20-Poly1305.
pub const AEAD_ID: u16 = 0x0003;
/// Length of an encapsulated key (`Nenc`), the ephemeral X25519 public key.
pub const N_ENC: usize = 32;
/// Length of a public key (`Npk`).
pub const N_PK: usize = 32;
/// Length of a secret key (`Nsk`).
pub const N_SK: usize = 32;
/// Length of the KEM shared secret (`Nsecret`).
pub const N_SECRET: usize = 32;
/// AEAD key length (`Nk`).
pub const N_K: usize = 32;
/// AEAD nonce length (`Nn`).
pub const N_N: usize = 12;
/// AEAD tag length (`Nt`).
pub const N_T: usize = 16;
/// KDF output length (`Nh`).
pub const N_H: usize = 32;
/// Largest length [`SenderContext::export`] accepts: `255 * Nh`.
pub const MAX_EXPORT_LEN: usize = 255 * N_H;

const MODE_BASE: u8 = 0x00;
const VERSION_LABEL: &[u8] = b"HPKE-v1";
/// `"KEM" || I2OSP(kem_id, 2)`
const KEM_SUITE_ID: &[u8; 5] = b"KEM\x00\x20";
/// `"HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2)`
const HPKE_SUITE_ID: &[u8; 10] = b"HPKE\x00\x20\x00\x01\x00\x03";

/// HPKE failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HpkeError {
    /// The X25519 output was all zero: the peer's public key (or `enc`) is a low-order point.
    #[error("HPKE: the Diffie-Hellman output is all zero (low-order public key)")]
    ZeroSharedSecret,
    /// The ciphertext did not authenticate.
    #[error("HPKE: decryption failed")]
    OpenError,
    /// The AEAD refused to encrypt (input too long).
    #[error("HPKE: encryption failed")]
    SealError,
    /// The sequence number cannot be incremented any further.
    #[error("HPKE: message limit reached")]
    MessageLimitReached,
    /// An export or expand length is out of range (more than `255 * Nh` bytes).
    #[error("HPKE: requested length is out of range")]
    InvalidLength,
}

// ---------------------------------------------------------------------------------------------
// LabeledExtract / LabeledExpand (RFC 9180 §4)
// ---------------------------------------------------------------------------------------------

/// `LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm)`.
/// Returns the PRK (for vectors) as an HKDF instance ready to expand.
fn labeled_extract(suite_id: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> Hkdf<Sha256> {
    // HMAC pads an empty key with zeros, so `salt = ""` equals the RFC 5869 default salt.
    let mut extract = HkdfExtract::<Sha256>::new(Some(salt));
    extract.input_ikm(VERSION_LABEL);
    extract.input_ikm(suite_id);
    extract.input_ikm(label);
    extract.input_ikm(ikm);
    let (mut prk, hkdf) = extract.finalize();
    prk.as_mut_slice().zeroize();
    hkdf
}

/// Like [`labeled_extract`] but returns the PRK bytes (for hashes such as `info_hash`).
fn labeled_extract_bytes(suite_id: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> [u8; N_H] {
    let mut extract = HkdfExtract::<Sha256>::new(Some(salt));
    extract.input_ikm(VERSION_LABEL);
    extract.input_ikm(suite_id);
    extract.input_ikm(label);
    extract.input_ikm(ikm);
    let (mut prk, _) = extract.finalize();
    let mut out = [0u8; N_H];
    out.copy_from_slice(prk.as_slice());
    prk.as_mut_slice().zeroize();
    out
}

/// `LabeledExpand(prk, label, info, L) =
///  Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)`, with `L = out.len()`.
fn labeled_expand(
    prk: &Hkdf<Sha256>,
    suite_id: &[u8],
    label: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), HpkeError> {
    if out.len() > MAX_EXPORT_LEN {
        return Err(HpkeError::InvalidLength);
    }
    let len = u16::try_from(out.len())
        .map_err(|_| HpkeError::InvalidLength)?
        .to_be_bytes();
    prk.expand_multi_info(&[&len, VERSION_LABEL, suite_id, label, info], out)
        .map_err(|_| HpkeError::InvalidLength)
}

// ---------------------------------------------------------------------------------------------
// DHKEM(X25519, HKDF-SHA256) (RFC 9180 §4.1, §7.1)
// ---------------------------------------------------------------------------------------------

/// The KEM shared secret (`Nsecret = 32` bytes). Zeroized on drop; `Debug` is redacted.
pub struct SharedSecret(Zeroizing<[u8; N_SECRET]>);

impl SharedSecret {
    /// Hazmat: the raw bytes, for test vectors.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; N_SECRET] {
        &self.0
    }
}

debug_redacted!(SharedSecret);

/// `DeriveKeyPair(ikm)` for X25519 (RFC 9180 §7.1.3): `dkp_prk = LabeledExtract("", "dkp_prk",
/// ikm)`, `sk = LabeledExpand(dkp_prk, "sk", "", 32)`, `pk = X25519(sk, 9)`. Deterministic.
///
/// The secret is returned as an `x25519_dalek::StaticSecret`, which zeroizes itself on drop.
#[must_use]
pub fn derive_key_pair(ikm: &[u8]) -> (StaticSecret, PublicKey) {
    let dkp_prk = labeled_extract(KEM_SUITE_ID, b"", b"dkp_prk", ikm);
    let mut sk = Zeroizing::new([0u8; N_SK]);
    // 32 <= 255 * 32: cannot fail; fall back to an all-zero key never happens.
    let _ = labeled_expand(&dkp_prk, KEM_SUITE_ID, b"sk", b"", sk.as_mut_slice());
    let secret = StaticSecret::from(*sk);
    let public = PublicKey::from(&secret);
    (secret, public)
}

/// `DH(sk, pk)` with the all-zero check of RFC 9180 §7.1.4, done in constant time.
fn dh(sk: &StaticSecret, pk: &PublicKey) -> Result<Zeroizing<[u8; 32]>, HpkeError> {
    let shared = sk.diffie_hellman(pk);
    let out = Zeroizing::new(shared.to_bytes());
    if bool::from(out.ct_eq(&[0u8; 32])) {
        return Err(HpkeError::ZeroSharedSecret);
    }
    Ok(out)
}

/// `ExtractAndExpand(dh, kem_context)`.
fn extract_and_expand(dh: &[u8; 32], kem_context: &[u8; 64]) -> SharedSecret {
    let eae_prk = labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh);
    let mut out = Zeroizing::new([0u8; N_SECRET]);
    // 32 bytes: cannot fail.
    let _ = labeled_expand(
        &eae_prk,
        KEM_SUITE_ID,
        b"shared_secret",
        kem_context,
        out.as_mut_slice(),
    );
    SharedSecret(out)
}

fn kem_context(enc: &[u8; 32], pk_r: &[u8; 32]) -> [u8; 64] {
    let mut ctx = [0u8; 64];
    let (a, b) = ctx.split_at_mut(32);
    a.copy_from_slice(enc);
    b.copy_from_slice(pk_r);
    ctx
}

/// `Encap(pkR)` with a random ephemeral key from `rng`. Returns `(enc, shared_secret)`.
pub fn encap<R: CryptoRng + ?Sized>(
    rng: &mut R,
    pk_r: &PublicKey,
) -> Result<([u8; N_ENC], SharedSecret), HpkeError> {
    let sk_e = StaticSecret::random_from_rng(rng);
    encap_deterministic(pk_r, &sk_e)
}

/// Hazmat: `Encap(pkR)` with the given ephemeral secret `skE` (for test vectors only; reusing
/// an ephemeral secret across messages destroys security).
pub fn encap_deterministic(
    pk_r: &PublicKey,
    sk_e: &StaticSecret,
) -> Result<([u8; N_ENC], SharedSecret), HpkeError> {
    let dh = dh(sk_e, pk_r)?;
    let enc = PublicKey::from(sk_e).to_bytes();
    let shared = extract_and_expand(&dh, &kem_context(&enc, pk_r.as_bytes()));
    Ok((enc, shared))
}

/// `Decap(enc, skR)`. Any 32 bytes are a valid X25519 encoding (RFC 9180 §7.1.1); a
/// low-order `enc` fails with [`HpkeError::ZeroSharedSecret`].
pub fn decap(enc: &[u8; N_ENC], sk_r: &StaticSecret) -> Result<SharedSecret, HpkeError> {
    decap_with_public(enc, sk_r, &PublicKey::from(sk_r))
}

/// `Decap` when the caller already holds `pkR = pk(skR)`, which saves a scalar
/// multiplication. `pk_r` MUST be the public key of `sk_r`.
pub(crate) fn decap_with_public(
    enc: &[u8; N_ENC],
    sk_r: &StaticSecret,
    pk_r: &PublicKey,
) -> Result<SharedSecret, HpkeError> {
    let pk_e = PublicKey::from(*enc);
    let dh = dh(sk_r, &pk_e)?;
    Ok(extract_and_expand(&dh, &kem_context(enc, pk_r.as_bytes())))
}

// ---------------------------------------------------------------------------------------------
// Key schedule and contexts (RFC 9180 §5.1, §5.2, §5.3)
// ---------------------------------------------------------------------------------------------

struct Context {
    aead: ChaCha20Poly1305,
    key: Zeroizing<[u8; N_K]>,
    base_nonce: Zeroizing<[u8; N_N]>,
    exporter_secret: Zeroizing<[u8; N_H]>,
    seq: u64,
}

fn key_schedule(shared_secret: &SharedSecret, info: &[u8]) -> Context {
    let psk_id_hash = labeled_extract_bytes(HPKE_SUITE_ID, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract_bytes(HPKE_SUITE_ID, b"", b"info_hash", info);
    // ks_context = mode || psk_id_hash || info_hash
    let mut ks_context = [0u8; 1 + 2 * N_H];
    for (out, byte) in ks_context.iter_mut().zip(
        core::iter::once(MODE_BASE)
            .chain(psk_id_hash)
            .chain(info_hash),
    ) {
        *out = byte;
    }

    // secret = LabeledExtract(shared_secret, "secret", psk = "")
    let secret = labeled_extract(HPKE_SUITE_ID, shared_secret.as_bytes(), b"secret", b"");
    let mut key = Zeroizing::new([0u8; N_K]);
    let mut base_nonce = Zeroizing::new([0u8; N_N]);
    let mut exporter_secret = Zeroizing::new([0u8; N_H]);
    // Fixed lengths far below 255 * Nh: these cannot fail.
    let _ = labeled_expand(
        &secret,
        HPKE_SUITE_ID,
        b"key",
        &ks_context,
        key.as_mut_slice(),
    );
    let _ = labeled_expand(
        &secret,
        HPKE_SUITE_ID,
        b"base_nonce",
        &ks_context,
        base_nonce.as_mut_slice(),
    );
    let _ = labeled_expand(
        &secret,
        HPKE_SUITE_ID,
        b"exp",
        &ks_context,
        exporter_secret.as_mut_slice(),
    );

    let aead = ChaCha20Poly1305::new(&Key::from(*key));
    Context {
        aead,
        key,
        base_nonce,
        exporter_secret,
        seq: 0,
    }
}

impl Context {
    /// `ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn)`.
    fn nonce(&self) -> Nonce {
        let mut nonce = *self.base_nonce;
        for (n, s) in nonce.iter_mut().skip(N_N - 8).zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        Nonce::from(nonce)
    }

    /// The RFC allows sequence numbers up to `2^96 - 2`; a `u64` stops at `2^64 - 2`, which
    /// no application can reach. Refusing the last value keeps `IncrementSeq` infallible.
    fn check_seq(&self) -> Result<(), HpkeError> {
        if self.seq == u64::MAX {
            Err(HpkeError::MessageLimitReached)
        } else {
            Ok(())
        }
    }

    fn seal_in_place_detached(
        &mut self,
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; N_T], HpkeError> {
        self.check_seq()?;
        let tag = self
            .aead
            .encrypt_inout_detached(&self.nonce(), aad, buf.into())
            .map_err(|_| HpkeError::SealError)?;
        self.seq += 1;
        let mut out = [0u8; N_T];
        out.copy_from_slice(tag.as_slice());
        Ok(out)
    }

    fn open_in_place_detached(
        &mut self,
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; N_T],
    ) -> Result<(), HpkeError> {
        self.check_seq()?;
        let tag = Tag::from(*tag);
        self.aead
            .decrypt_inout_detached(&self.nonce(), aad, buf.into(), &tag)
            .map_err(|_| HpkeError::OpenError)?;
        self.seq += 1;
        Ok(())
    }

    fn seal(&mut self, aad: &[u8], pt: &[u8]) -> Result<Vec<u8>, HpkeError> {
        let mut out = Vec::with_capacity(pt.len().saturating_add(N_T));
        out.extend_from_slice(pt);
        let tag = self.seal_in_place_detached(aad, &mut out)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    fn open(&mut self, aad: &[u8], ct: &[u8]) -> Result<Zeroizing<Vec<u8>>, HpkeError> {
        let split = ct.len().checked_sub(N_T).ok_or(HpkeError::OpenError)?;
        let (body, tag) = ct.split_at(split);
        let tag: [u8; N_T] = tag.try_into().map_err(|_| HpkeError::OpenError)?;
        let mut out = Zeroizing::new(body.to_vec());
        self.open_in_place_detached(aad, &mut out, &tag)?;
        Ok(out)
    }

    /// `Export(exporter_context, L) = LabeledExpand(exporter_secret, "sec", exporter_context, L)`.
    fn export_into(&self, exporter_context: &[u8], out: &mut [u8]) -> Result<(), HpkeError> {
        let prk = Hkdf::<Sha256>::from_prk(self.exporter_secret.as_slice())
            .map_err(|_| HpkeError::InvalidLength)?;
        labeled_expand(&prk, HPKE_SUITE_ID, b"sec", exporter_context, out)
    }

    fn export(&self, exporter_context: &[u8], len: usize) -> Result<Zeroizing<Vec<u8>>, HpkeError> {
        if len > MAX_EXPORT_LEN {
            return Err(HpkeError::InvalidLength);
        }
        let mut out = Zeroizing::new(vec![0u8; len]);
        self.export_into(exporter_context, &mut out)?;
        Ok(out)
    }
}

macro_rules! context_accessors {
    ($ty:ident) => {
        impl $ty {
            /// `Export(exporter_context, L)` (RFC 9180 §5.3); `len` at most [`MAX_EXPORT_LEN`].
            pub fn export(
                &self,
                exporter_context: &[u8],
                len: usize,
            ) -> Result<Zeroizing<Vec<u8>>, HpkeError> {
                self.0.export(exporter_context, len)
            }

            /// `Export` into a caller-provided buffer (`L = out.len()`).
            pub fn export_into(
                &self,
                exporter_context: &[u8],
                out: &mut [u8],
            ) -> Result<(), HpkeError> {
                self.0.export_into(exporter_context, out)
            }

            /// The sequence number of the next message.
            #[must_use]
            pub fn sequence_number(&self) -> u64 {
                self.0.seq
            }

            /// Hazmat: the AEAD key from the key schedule, for test vectors only.
            #[must_use]
            pub fn key(&self) -> &[u8; N_K] {
                &self.0.key
            }

            /// Hazmat: the base nonce from the key schedule, for test vectors only.
            #[must_use]
            pub fn base_nonce(&self) -> &[u8; N_N] {
                &self.0.base_nonce
            }

            /// Hazmat: the exporter secret from the key schedule, for test vectors only.
            #[must_use]
            pub fn exporter_secret(&self) -> &[u8; N_H] {
                &self.0.exporter_secret
            }

            /// Hazmat: the nonce the next message will use (`base_nonce XOR seq`).
            #[must_use]
            pub fn current_nonce(&self) -> [u8; N_N] {
                let mut out = [0u8; N_N];
                out.copy_from_slice(self.0.nonce().as_slice());
                out
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("seq", &self.0.seq)
                    .finish_non_exhaustive()
            }
        }
    };
}

/// The sender's encryption context (`ContextS`). Secrets are zeroized on drop.
pub struct SenderContext(Context);

/// The recipient's decryption context (`ContextR`). Secrets are zeroized on drop.
pub struct ReceiverContext(Context);

context_accessors!(SenderContext);
context_accessors!(ReceiverContext);

impl SenderContext {
    /// `Seal(aad, pt)`: encrypts with the current sequence number and increments it. Returns
    /// `ct || tag`.
    pub fn seal(&mut self, aad: &[u8], pt: &[u8]) -> Result<Vec<u8>, HpkeError> {
        self.0.seal(aad, pt)
    }

    /// `Seal` in place: `buf` holds the plaintext and is overwritten with the ciphertext; the
    /// tag is returned.
    pub fn seal_in_place_detached(
        &mut self,
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; N_T], HpkeError> {
        self.0.seal_in_place_detached(aad, buf)
    }
}

impl ReceiverContext {
    /// `Open(aad, ct)`: decrypts `ct || tag` with the current sequence number and increments
    /// it on success (RFC 9180 §5.2). On failure the sequence number is unchanged.
    pub fn open(&mut self, aad: &[u8], ct: &[u8]) -> Result<Zeroizing<Vec<u8>>, HpkeError> {
        self.0.open(aad, ct)
    }

    /// `Open` in place with a detached tag. On failure `buf` must be treated as garbage.
    pub fn open_in_place_detached(
        &mut self,
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; N_T],
    ) -> Result<(), HpkeError> {
        self.0.open_in_place_detached(aad, buf, tag)
    }
}

/// Hazmat: `KeyScheduleS(mode_base, shared_secret, info, "", "")`.
#[must_use]
pub fn key_schedule_s(shared_secret: &SharedSecret, info: &[u8]) -> SenderContext {
    SenderContext(key_schedule(shared_secret, info))
}

/// Hazmat: `KeyScheduleR(mode_base, shared_secret, info, "", "")`.
#[must_use]
pub fn key_schedule_r(shared_secret: &SharedSecret, info: &[u8]) -> ReceiverContext {
    ReceiverContext(key_schedule(shared_secret, info))
}

/// `SetupBaseS(pkR, info)` with a fresh ephemeral key from `rng`. Returns `(enc, context)`.
pub fn setup_base_s<R: CryptoRng + ?Sized>(
    rng: &mut R,
    pk_r: &PublicKey,
    info: &[u8],
) -> Result<([u8; N_ENC], SenderContext), HpkeError> {
    let (enc, shared) = encap(rng, pk_r)?;
    Ok((enc, key_schedule_s(&shared, info)))
}

/// Hazmat: `SetupBaseS(pkR, info)` with a given ephemeral secret (test vectors only).
pub fn setup_base_s_deterministic(
    pk_r: &PublicKey,
    sk_e: &StaticSecret,
    info: &[u8],
) -> Result<([u8; N_ENC], SenderContext), HpkeError> {
    let (enc, shared) = encap_deterministic(pk_r, sk_e)?;
    Ok((enc, key_schedule_s(&shared, info)))
}

/// `SetupBaseR(enc, skR, info)`.
pub fn setup_base_r(
    enc: &[u8; N_ENC],
    sk_r: &StaticSecret,
    info: &[u8],
) -> Result<ReceiverContext, HpkeError> {
    let shared = decap(enc, sk_r)?;
    Ok(key_schedule_r(&shared, info))
}

/// `SetupBaseR` for a [`DecryptionKey`](crate::recipient::DecryptionKey), using its cached
/// public key.
pub(crate) fn setup_base_r_for(
    enc: &[u8; N_ENC],
    key: &crate::recipient::DecryptionKey,
    info: &[u8],
) -> Result<ReceiverContext, HpkeError> {
    let shared = decap_with_public(enc, key.secret(), &key.recipient().public_key())?;
    Ok(key_schedule_r(&shared, info))
}

/// Single-shot `Seal(pkR, info, aad, pt)` (RFC 9180 §6.1). Returns `(enc, ct || tag)`.
pub fn seal<R: CryptoRng + ?Sized>(
    rng: &mut R,
    pk_r: &PublicKey,
    info: &[u8],
    aad: &[u8],
    pt: &[u8],
) -> Result<([u8; N_ENC], Vec<u8>), HpkeError> {
    let (enc, mut ctx) = setup_base_s(rng, pk_r, info)?;
    Ok((enc, ctx.seal(aad, pt)?))
}

/// Single-shot `Open(enc, skR, info, aad, ct)` (RFC 9180 §6.1).
pub fn open(
    enc: &[u8; N_ENC],
    sk_r: &StaticSecret,
    info: &[u8],
    aad: &[u8],
    ct: &[u8],
) -> Result<Zeroizing<Vec<u8>>, HpkeError> {
    setup_base_r(enc, sk_r, info)?.open(aad, ct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let (sk, pk) = derive_key_pair(b"test ikm");
        let (enc, ss) = encap_deterministic(&pk, &sk).unwrap_or_else(|_| unreachable!());
        assert_eq!(format!("{ss:?}"), "SharedSecret(<redacted>)");
        let ctx = setup_base_r(&enc, &sk, b"").unwrap_or_else(|_| unreachable!());
        let shown = format!("{ctx:?}");
        assert!(shown.starts_with("ReceiverContext"));
        assert!(!shown.contains(&format!("{:?}", ctx.key())));
    }

    #[test]
    fn seq_limit_is_enforced() {
        let (sk, pk) = derive_key_pair(b"x");
        let (_, mut ctx) =
            setup_base_s_deterministic(&pk, &sk, b"").unwrap_or_else(|_| unreachable!());
        ctx.0.seq = u64::MAX;
        assert_eq!(ctx.seal(b"", b"a"), Err(HpkeError::MessageLimitReached));
    }

    #[test]
    fn export_length_limit() {
        let (sk, pk) = derive_key_pair(b"x");
        let (_, ctx) = setup_base_s_deterministic(&pk, &sk, b"").unwrap_or_else(|_| unreachable!());
        assert!(ctx.export(b"", MAX_EXPORT_LEN).is_ok());
        assert_eq!(
            ctx.export(b"", MAX_EXPORT_LEN + 1).err(),
            Some(HpkeError::InvalidLength)
        );
        assert_eq!(ctx.export(b"", 0).map(|v| v.len()), Ok(0));
    }
}
