//! Envelope v1 (`docs/protocol.md` §3): one report, message or attachment, encrypted to
//! 1..=32 recipient keys.
//!
//! An envelope is a header (magic, version, purpose, organisation, one HPKE stanza per
//! recipient wrapping a random 32-byte content key, a payload salt and a header MAC) followed by
//! the Padmé-padded plaintext, encrypted in 64 KiB ChaCha20-Poly1305 chunks (STREAM, with an
//! authenticated last-chunk flag) under a key derived from the content key and the hash of the
//! whole header.
//!
//! Two APIs produce and read the same bytes:
//!
//! - in memory: [`seal`] / [`open`], and [`seal_into`] / [`open_into`], which reuse a
//!   caller-owned buffer (no allocation or page faults per envelope);
//! - streaming, in constant memory for any size: [`seal_stream`] / [`open_stream`] over
//!   `std::io::Read`/`Write`, and the push-style [`Encryptor`] / [`Decryptor`] (feed bytes, get
//!   bytes) for callers without `Read`/`Write`, such as the browser.
//!
//! On native targets, payloads of 256 KiB or more are sealed and opened on one thread per
//! available core (each chunk is independent given its counter nonce); the `*_with_threads`
//! variants take an explicit thread count (`1` = the calling thread only). `wasm32` is always
//! single-threaded.
//!
//! [`rewrap`] makes a *detached stanza* (§3.6) that gives another recipient access to an
//! envelope without changing it.
//!
//! # Errors
//!
//! Malformed structure (bad magic, version, purpose, organisation, stanza count, a header
//! that ends early) gives a distinct [`EnvelopeError`]. Every failure to decrypt — no stanza for
//! the given keys, a stanza that does not open, a header MAC or chunk that does not
//! authenticate, a truncated or extended payload, bad padding — is the single, deliberately
//! vague [`EnvelopeError::Decrypt`], so that no error is an oracle. To tell a user that an
//! envelope is simply not addressed to them, compare [`Header::stanza_key_ids`] with their key
//! ids before opening.
//!
//! # Example
//!
//! ```
//! use meldpunt_crypto::envelope::{self, Purpose};
//! use meldpunt_crypto::recipient::DecryptionKey;
//! use meldpunt_crypto::rng::os_rng;
//!
//! # fn main() -> Result<(), envelope::EnvelopeError> {
//! let mut rng = os_rng();
//! let advisor = DecryptionKey::generate(&mut rng);
//! let colleague = DecryptionKey::generate(&mut rng);
//!
//! // The reporter's browser seals the report to the advisor's public key.
//! let sealed = envelope::seal(&mut rng, Purpose::Report, "acme", &[advisor.recipient()], b"Wat er gebeurde...")?;
//!
//! // The advisor opens it on their own device.
//! let opened = envelope::open(&sealed, &[&advisor], &[])?;
//! assert_eq!(opened.plaintext.as_slice(), b"Wat er gebeurde...");
//! assert_eq!((opened.purpose, opened.org.as_str()), (Purpose::Report, "acme"));
//! assert_eq!(opened.key_id, advisor.key_id());
//!
//! // The colleague cannot, until the advisor re-wraps the content key for them.
//! assert!(envelope::open(&sealed, &[&colleague], &[]).is_err());
//! let detached = envelope::rewrap(&sealed, &[&advisor], &[], &colleague.recipient(), &mut rng)?;
//! let opened = envelope::open(&sealed, &[&colleague], &[&detached])?;
//! assert_eq!(opened.plaintext.as_slice(), b"Wat er gebeurde...");
//! assert!(opened.via_detached);
//!
//! // The streaming API writes and reads the same format, in constant memory.
//! let mut out = Vec::new();
//! envelope::seal_stream(&mut rng, Purpose::Attachment, "acme", &[advisor.recipient()], &b"file bytes"[..], &mut out)?;
//! let mut plain = Vec::new();
//! let info = envelope::open_stream(&out[..], &[&advisor], &[], &mut plain)?;
//! assert_eq!((plain.as_slice(), info.plaintext_len), (&b"file bytes"[..], 10));
//! # Ok(())
//! # }
//! ```

use core::fmt;

use chacha20poly1305::aead::inout::InOutBuf;
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use x25519_dalek::PublicKey;
use zeroize::{Zeroize, Zeroizing};

use crate::hpke::{self, HpkeError};
use crate::recipient::{DecryptionKey, KeyId, RecipientKey};
use crate::rng::CryptoRng;

pub mod header;
pub mod padding;
mod chunk;
mod parallel;
mod stream;

pub use header::{Header, MAX_HEADER_LEN, MAX_ORG_LEN, MAX_RECIPIENTS, STANZA_LEN, Stanza};
pub use padding::{padded_len, padme};
pub use stream::{
    Decryptor, Encryptor, StreamOpened, open_stream, open_stream_with_threads, seal_stream,
    seal_stream_with_threads,
};

/// Plaintext bytes per payload chunk (`C`).
pub const CHUNK_LEN: usize = 65536;
/// AEAD tag length.
pub const TAG_LEN: usize = 16;
/// Bytes of a non-last chunk on the wire.
pub const ENCRYPTED_CHUNK_LEN: usize = CHUNK_LEN + TAG_LEN;

const STANZA_LABEL: &[u8] = b"meldpunt/v1/stanza";
const PAYLOAD_LABEL: &[u8] = b"meldpunt/v1/payload";
const HEADER_MAC_LABEL: &[u8] = b"meldpunt/v1/header-mac";

/// What an envelope carries (§3.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Purpose {
    /// `0x01`: the first message of a case.
    Report,
    /// `0x02`: a follow-up or a reply.
    Message,
    /// `0x03`: an attachment.
    Attachment,
}

impl Purpose {
    /// The wire byte.
    #[must_use]
    pub fn to_byte(self) -> u8 {
        match self {
            Purpose::Report => 0x01,
            Purpose::Message => 0x02,
            Purpose::Attachment => 0x03,
        }
    }

    /// Parses the wire byte.
    #[must_use]
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0x01 => Some(Purpose::Report),
            0x02 => Some(Purpose::Message),
            0x03 => Some(Purpose::Attachment),
            _ => None,
        }
    }
}

/// Envelope errors. Structural errors are distinct; every decryption failure is
/// [`EnvelopeError::Decrypt`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The input ends inside the header.
    #[error("envelope: header is truncated")]
    Truncated,
    /// Not an envelope.
    #[error("envelope: bad magic")]
    BadMagic,
    /// An envelope version this build does not read.
    #[error("envelope: unsupported version {0}")]
    UnsupportedVersion(u8),
    /// Unknown purpose byte.
    #[error("envelope: unknown purpose {0:#04x}")]
    BadPurpose(u8),
    /// The organisation id is empty, longer than 64 bytes, or not UTF-8.
    #[error("envelope: organisation id must be 1..=64 bytes of UTF-8")]
    BadOrg,
    /// The stanza count is 0 or above 32.
    #[error("envelope: stanza count {0} is outside 1..=32")]
    BadStanzaCount(u8),
    /// A stanza is not exactly 96 bytes.
    #[error("envelope: a stanza must be 96 bytes")]
    BadStanza,
    /// Sealing to no recipient.
    #[error("envelope: at least one recipient is required")]
    NoRecipients,
    /// Sealing to more than 32 recipients.
    #[error("envelope: at most 32 recipients")]
    TooManyRecipients,
    /// The same recipient key twice.
    #[error("envelope: duplicate recipient key")]
    DuplicateRecipient,
    /// A recipient key is a low-order point (its DH output is all zero).
    #[error("envelope: unusable recipient key")]
    InvalidRecipientKey,
    /// The plaintext is too large to pad (never happens below 2^63 bytes).
    #[error("envelope: plaintext too large")]
    TooLarge,
    /// Decryption failed: no stanza opened with the given keys, or the envelope is damaged,
    /// truncated, extended or forged. Deliberately says no more.
    #[error("envelope: cannot decrypt (not addressed to these keys, or damaged)")]
    Decrypt,
    /// Reading the input or writing the output failed.
    #[error("envelope: I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// The 32-byte content key `ck`. Zeroized on drop, no `Clone`, redacted `Debug`.
pub(crate) struct ContentKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContentKey(<redacted>)")
    }
}

/// The result of [`open`].
pub struct Opened {
    /// What the envelope carries.
    pub purpose: Purpose,
    /// The organisation id from the header.
    pub org: String,
    /// The plaintext, zeroized on drop.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The key id of the key that opened the envelope.
    pub key_id: KeyId,
    /// Whether a detached stanza (rather than a header stanza) opened it.
    pub via_detached: bool,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("purpose", &self.purpose)
            .field("org", &self.org)
            .field("plaintext_len", &self.plaintext.len())
            .field("key_id", &self.key_id)
            .field("via_detached", &self.via_detached)
            .finish()
    }
}

/// `info = "meldpunt/v1/stanza" || 0x01 || purpose || org_len || org || key_id` (§3.1).
fn stanza_info(purpose: Purpose, org: &str, key_id: &KeyId) -> Vec<u8> {
    let mut info = Vec::with_capacity(STANZA_LABEL.len() + 3 + org.len() + 16);
    info.extend_from_slice(STANZA_LABEL);
    info.push(header::VERSION);
    info.push(purpose.to_byte());
    info.push(u8::try_from(org.len()).unwrap_or(u8::MAX));
    info.extend_from_slice(org.as_bytes());
    info.extend_from_slice(key_id.as_bytes());
    info
}

fn check_org(org: &str) -> Result<(), EnvelopeError> {
    if org.is_empty() || org.len() > MAX_ORG_LEN {
        return Err(EnvelopeError::BadOrg);
    }
    Ok(())
}

/// Wraps `ck` for one recipient.
fn wrap<R: CryptoRng + ?Sized>(
    rng: &mut R,
    purpose: Purpose,
    org: &str,
    recipient: &RecipientKey,
    ck: &ContentKey,
) -> Result<Stanza, EnvelopeError> {
    let key_id = recipient.key_id();
    let info = stanza_info(purpose, org, &key_id);
    let pk = PublicKey::from(*recipient.public_bytes());
    // The only possible failure is an all-zero DH output: a low-order recipient key.
    let (enc, mut ctx) = hpke::setup_base_s(rng, &pk, &info)
        .map_err(|_: HpkeError| EnvelopeError::InvalidRecipientKey)?;
    let mut wrapped_key = [0u8; 48];
    let (body, tag) = wrapped_key.split_at_mut(32);
    body.copy_from_slice(ck.0.as_slice());
    let t = ctx
        .seal_in_place_detached(b"", body)
        .map_err(|_| EnvelopeError::InvalidRecipientKey)?;
    tag.copy_from_slice(&t);
    Ok(Stanza {
        key_id,
        enc,
        wrapped_key,
    })
}

/// Opens one stanza with one key; `None` on any failure.
fn unwrap_stanza(
    stanza: &Stanza,
    key: &DecryptionKey,
    purpose: Purpose,
    org: &str,
) -> Option<ContentKey> {
    let info = stanza_info(purpose, org, &stanza.key_id);
    let mut ctx = hpke::setup_base_r_for(&stanza.enc, key, &info).ok()?;
    let mut ck = Zeroizing::new([0u8; 32]);
    let (body, tag) = stanza.wrapped_key.split_at(32);
    ck.copy_from_slice(body);
    let tag: [u8; 16] = tag.try_into().ok()?;
    ctx.open_in_place_detached(b"", ck.as_mut_slice(), &tag)
        .ok()?;
    Some(ContentKey(ck))
}

/// `HMAC-SHA256(HKDF(salt = "", ikm = ck, info = "meldpunt/v1/header-mac", 32), header[..len-32])`.
fn header_mac(ck: &ContentKey, unauthenticated: &[u8]) -> Hmac<Sha256> {
    let mut mac_key = Zeroizing::new([0u8; 32]);
    // 32 bytes: cannot fail.
    let _ =
        Hkdf::<Sha256>::new(None, ck.0.as_slice()).expand(HEADER_MAC_LABEL, mac_key.as_mut_slice());
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(mac_key.as_slice())
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(unauthenticated);
    mac
}

/// `payload_key = HKDF(salt = SHA256(header), ikm = ck, info = "meldpunt/v1/payload", 32)`.
pub(crate) fn payload_key(ck: &ContentKey, header_bytes: &[u8]) -> Zeroizing<[u8; 32]> {
    let salt = Sha256::digest(header_bytes);
    let mut key = Zeroizing::new([0u8; 32]);
    let _ = Hkdf::<Sha256>::new(Some(salt.as_slice()), ck.0.as_slice())
        .expand(PAYLOAD_LABEL, key.as_mut_slice());
    key
}

/// Which stanza gave the content key.
pub(crate) struct Recovered {
    pub(crate) ck: ContentKey,
    pub(crate) key_id: KeyId,
    pub(crate) via_detached: bool,
}

/// Finds `ck` with the given keys: header stanzas first, then detached stanzas. A candidate
/// counts only if the header MAC verifies under it. `header_bytes` is the exact wire header.
pub(crate) fn recover(
    header: &Header,
    header_bytes: &[u8],
    keys: &[&DecryptionKey],
    detached: &[&[u8]],
) -> Result<Recovered, EnvelopeError> {
    let unauthenticated = header_bytes
        .len()
        .checked_sub(header::MAC_LEN)
        .and_then(|n| header_bytes.get(..n))
        .ok_or(EnvelopeError::Truncated)?;
    let detached_stanzas = detached
        .iter()
        .filter_map(|bytes| Stanza::from_bytes(bytes).ok());
    let candidates = header
        .stanzas
        .iter()
        .map(|s| (*s, false))
        .chain(detached_stanzas.map(|s| (s, true)));
    for (stanza, via_detached) in candidates {
        for key in keys.iter().filter(|k| k.key_id() == stanza.key_id) {
            let Some(ck) = unwrap_stanza(&stanza, key, header.purpose, &header.org) else {
                continue;
            };
            if header_mac(&ck, unauthenticated)
                .verify_slice(&header.mac)
                .is_ok()
            {
                return Ok(Recovered {
                    ck,
                    key_id: stanza.key_id,
                    via_detached,
                });
            }
        }
    }
    Err(EnvelopeError::Decrypt)
}

/// Draws `ck`, wraps it for each recipient and returns the header, its wire bytes and `ck`.
pub(crate) fn build_header<R: CryptoRng + ?Sized>(
    rng: &mut R,
    purpose: Purpose,
    org: &str,
    recipients: &[RecipientKey],
) -> Result<(Header, Vec<u8>, ContentKey), EnvelopeError> {
    check_org(org)?;
    if recipients.is_empty() {
        return Err(EnvelopeError::NoRecipients);
    }
    if recipients.len() > MAX_RECIPIENTS {
        return Err(EnvelopeError::TooManyRecipients);
    }
    for (i, r) in recipients.iter().enumerate() {
        if recipients
            .iter()
            .skip(i + 1)
            .any(|o| o.key_id() == r.key_id())
        {
            return Err(EnvelopeError::DuplicateRecipient);
        }
    }
    let mut ck = ContentKey(Zeroizing::new([0u8; 32]));
    rng.fill_bytes(ck.0.as_mut_slice());
    let stanzas = recipients
        .iter()
        .map(|r| wrap(rng, purpose, org, r, &ck))
        .collect::<Result<Vec<_>, _>>()?;
    let mut payload_salt = [0u8; header::SALT_LEN];
    rng.fill_bytes(&mut payload_salt);
    let mut header = Header {
        purpose,
        org: org.to_owned(),
        stanzas,
        payload_salt,
        mac: [0u8; header::MAC_LEN],
    };
    let mut bytes = header.unauthenticated_bytes();
    let tag = header_mac(&ck, &bytes).finalize().into_bytes();
    header.mac.copy_from_slice(tag.as_slice());
    bytes.extend_from_slice(&header.mac);
    Ok((header, bytes, ck))
}

/// Length of the envelope that [`seal`] makes for `plaintext_len` bytes, an `org_len`-byte
/// organisation id and `recipients` recipients. `None` on overflow.
#[must_use]
pub fn sealed_len(plaintext_len: u64, org_len: usize, recipients: usize) -> Option<u64> {
    let header = 4
        + 3
        + org_len
        + 1
        + recipients.checked_mul(STANZA_LEN)?
        + header::SALT_LEN
        + header::MAC_LEN;
    let padded = padded_len(plaintext_len)?;
    let chunks = padded.div_ceil(CHUNK_LEN as u64);
    (header as u64)
        .checked_add(padded)?
        .checked_add(chunks.checked_mul(TAG_LEN as u64)?)
}

/// Whether `len` is the payload length (§3.4, without the header) of some envelope: the
/// payload of a canonically padded plaintext (§3.3) of some length. Each padded length `P`
/// (`P >= 1024` and `padme(P) = P`) gives exactly one payload length
/// `P + 16 * ceil(P / 65536)`; every other length belongs to no envelope that any conforming
/// writer makes, and a reader would refuse it (bad padding or a cut-off stream).
#[must_use]
pub fn is_payload_len(len: u64) -> bool {
    const WIRE: u64 = ENCRYPTED_CHUNK_LEN as u64;
    // The last chunk carries 1..=65536 bytes plus its tag, so `len` gives the chunk count.
    let chunks = len.div_ceil(WIRE);
    let Some(padded) = chunks
        .checked_mul(TAG_LEN as u64)
        .and_then(|tags| len.checked_sub(tags))
    else {
        return false;
    };
    padded >= padding::MIN_PADDED_LEN
        && padded.div_ceil(CHUNK_LEN as u64) == chunks
        && padme(padded) == Some(padded)
}

/// Seals `plaintext` to `recipients` (1..=32 distinct keys) in memory.
///
/// The caller must only pass recipient keys it has verified (§1.3: signed bundle, validity,
/// revocation, pins).
///
/// Allocates the envelope afresh; to seal many payloads, [`seal_into`] reuses one buffer.
pub fn seal<R: CryptoRng + ?Sized>(
    rng: &mut R,
    purpose: Purpose,
    org: &str,
    recipients: &[RecipientKey],
    plaintext: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let mut out = Vec::new();
    seal_into(rng, purpose, org, recipients, plaintext, &mut out)?;
    Ok(out)
}

/// [`seal`] into a caller-owned buffer: replaces the contents of `out` with the envelope,
/// reusing its allocation when it is large enough (no allocation, no page faults when the
/// same buffer seals payloads of similar size).
///
/// Each chunk is encrypted straight from `plaintext` into `out` (the last, padded chunk is
/// copied first and encrypted in place); plaintext never sits in `out` unencrypted. On native
/// targets a payload of 256 KiB or more is encrypted on one thread per available core; on
/// `wasm32` on the calling thread. On error `out` is empty.
pub fn seal_into<R: CryptoRng + ?Sized>(
    rng: &mut R,
    purpose: Purpose,
    org: &str,
    recipients: &[RecipientKey],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), EnvelopeError> {
    seal_into_with_threads(rng, purpose, org, recipients, plaintext, out, 0)
}

/// [`seal_into`] on at most `threads` threads (the calling thread included): `0` means one per
/// available core, `1` forces the calling thread alone. Payloads under 256 KiB always use the
/// calling thread; `wasm32` always does. The bytes produced do not depend on `threads`.
pub fn seal_into_with_threads<R: CryptoRng + ?Sized>(
    rng: &mut R,
    purpose: Purpose,
    org: &str,
    recipients: &[RecipientKey],
    plaintext: &[u8],
    out: &mut Vec<u8>,
    threads: usize,
) -> Result<(), EnvelopeError> {
    let result = seal_into_inner(rng, purpose, org, recipients, plaintext, out, threads);
    if result.is_err() {
        out.fill(0);
        out.clear();
    }
    result
}

fn seal_into_inner<R: CryptoRng + ?Sized>(
    rng: &mut R,
    purpose: Purpose,
    org: &str,
    recipients: &[RecipientKey],
    plaintext: &[u8],
    out: &mut Vec<u8>,
    threads: usize,
) -> Result<(), EnvelopeError> {
    let (_, header_bytes, ck) = build_header(rng, purpose, org, recipients)?;
    let plain_len = plaintext.len() as u64;
    let padded = padded_len(plain_len).ok_or(EnvelopeError::TooLarge)?;
    let padded = usize::try_from(padded).map_err(|_| EnvelopeError::TooLarge)?;
    let total =
        sealed_len(plain_len, org.len(), recipients.len()).ok_or(EnvelopeError::TooLarge)?;
    let total = usize::try_from(total).map_err(|_| EnvelopeError::TooLarge)?;

    // Every byte of `out[..total]` is overwritten below. A fresh buffer comes zeroed from the
    // allocator (lazily, page by page, on the thread that first touches it).
    if out.capacity() < total {
        *out = vec![0u8; total];
    } else {
        out.resize(total, 0);
    }
    let (head, payload) = out
        .split_at_mut_checked(header_bytes.len())
        .ok_or(EnvelopeError::TooLarge)?;
    head.copy_from_slice(&header_bytes);
    let aead = chunk::ChunkAead::new(&ck, &header_bytes);
    drop(ck);
    let chunks = padded.div_ceil(CHUNK_LEN);
    let threads = parallel::threads_for(threads, padded, CHUNK_LEN);
    parallel::for_each_chunk(payload, ENCRYPTED_CHUNK_LEN, threads, |i, chunk| {
        seal_chunk_from(&aead, plaintext, i, i + 1 == chunks, chunk)
    })
}

/// Seals chunk `i` of the padded `plaintext` into `chunk` (its body and tag on the wire).
fn seal_chunk_from(
    aead: &chunk::ChunkAead,
    plaintext: &[u8],
    i: usize,
    last: bool,
    chunk: &mut [u8],
) -> Result<(), EnvelopeError> {
    let body_len = chunk
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(EnvelopeError::TooLarge)?;
    let (body, tag_slot) = chunk.split_at_mut(body_len);
    let start = i.checked_mul(CHUNK_LEN).ok_or(EnvelopeError::TooLarge)?;
    let end = start.saturating_add(body_len);
    let len = plaintext.len();
    let input = plaintext
        .get(start.min(len)..end.min(len))
        .unwrap_or_default();
    let index = i as u64;
    let tag = if input.len() == body_len {
        // All plaintext: encrypt from the input straight into the output.
        let buf = InOutBuf::new(input, body).map_err(|_| EnvelopeError::TooLarge)?;
        aead.seal(index, last, buf)?
    } else {
        // The end of the plaintext, then padding `0x80 0x00*` (§3.3), encrypted in place.
        let (head, pad) = body.split_at_mut(input.len());
        head.copy_from_slice(input);
        pad.fill(0);
        if start + input.len() == len
            && let Some(marker) = pad.first_mut()
        {
            *marker = 0x80;
        }
        aead.seal(index, last, body.into())?
    };
    tag_slot.copy_from_slice(&tag);
    Ok(())
}

/// Opens an envelope held in memory with any of `keys`, trying the header stanzas and then
/// the `detached` stanzas (§3.6; entries that are not 96 bytes are ignored).
///
/// Allocates the plaintext afresh; to open many envelopes, [`open_into`] reuses one buffer.
pub fn open(
    envelope: &[u8],
    keys: &[&DecryptionKey],
    detached: &[&[u8]],
) -> Result<Opened, EnvelopeError> {
    let mut plaintext = Zeroizing::new(Vec::new());
    let info = open_into(envelope, keys, detached, &mut plaintext)?;
    Ok(Opened {
        purpose: info.purpose,
        org: info.org,
        plaintext,
        key_id: info.key_id,
        via_detached: info.via_detached,
    })
}

/// [`open`] into a caller-owned buffer: replaces the contents of `out` with the plaintext,
/// reusing its allocation when it is large enough, and returns what [`open_stream`] returns.
///
/// Each chunk is authenticated and then decrypted straight from `envelope` into `out`. On
/// native targets a payload of 256 KiB or more is decrypted on one thread per available core;
/// on `wasm32` on the calling thread. If the buffer must grow, its old contents are wiped
/// before it is freed. On error `out` is wiped and left empty: no plaintext of an envelope
/// that fails to open is ever returned.
pub fn open_into(
    envelope: &[u8],
    keys: &[&DecryptionKey],
    detached: &[&[u8]],
    out: &mut Zeroizing<Vec<u8>>,
) -> Result<StreamOpened, EnvelopeError> {
    open_into_with_threads(envelope, keys, detached, out, 0)
}

/// [`open_into`] on at most `threads` threads (the calling thread included): `0` means one per
/// available core, `1` forces the calling thread alone. Payloads under 256 KiB always use the
/// calling thread; `wasm32` always does.
pub fn open_into_with_threads(
    envelope: &[u8],
    keys: &[&DecryptionKey],
    detached: &[&[u8]],
    out: &mut Zeroizing<Vec<u8>>,
    threads: usize,
) -> Result<StreamOpened, EnvelopeError> {
    let result = open_into_inner(envelope, keys, detached, out, threads);
    if result.is_err() {
        out.zeroize();
    }
    result
}

fn open_into_inner(
    envelope: &[u8],
    keys: &[&DecryptionKey],
    detached: &[&[u8]],
    out: &mut Zeroizing<Vec<u8>>,
    threads: usize,
) -> Result<StreamOpened, EnvelopeError> {
    let (header, header_len) = Header::parse(envelope)?;
    let (header_bytes, payload) = envelope
        .split_at_checked(header_len)
        .ok_or(EnvelopeError::Truncated)?;
    let recovered = recover(&header, header_bytes, keys, detached)?;

    // Every chunk but the last is ENCRYPTED_CHUNK_LEN bytes; the last has a non-empty body.
    let chunks = payload.len().div_ceil(ENCRYPTED_CHUNK_LEN);
    let last_len = (chunks.checked_sub(1))
        .and_then(|full| payload.len().checked_sub(full * ENCRYPTED_CHUNK_LEN))
        .ok_or(EnvelopeError::Decrypt)?;
    if last_len <= TAG_LEN {
        return Err(EnvelopeError::Decrypt);
    }
    let padded = payload.len() - chunks * TAG_LEN;

    resize_wiped(out, padded);
    let aead = chunk::ChunkAead::new(&recovered.ck, header_bytes);
    drop(recovered.ck);
    let threads = parallel::threads_for(threads, padded, CHUNK_LEN);
    parallel::for_each_chunk(out.as_mut_slice(), CHUNK_LEN, threads, |i, plain| {
        let start = i * ENCRYPTED_CHUNK_LEN;
        let chunk = payload
            .get(start..start.saturating_add(ENCRYPTED_CHUNK_LEN).min(payload.len()))
            .ok_or(EnvelopeError::Decrypt)?;
        let (body, tag) = chunk
            .split_at_checked(plain.len())
            .ok_or(EnvelopeError::Decrypt)?;
        let buf = InOutBuf::new(body, plain).map_err(|_| EnvelopeError::Decrypt)?;
        aead.open(i as u64, i + 1 == chunks, buf, tag)
    })?;
    padding::strip_in_place(out)?;
    Ok(StreamOpened {
        purpose: header.purpose,
        org: header.org,
        key_id: recovered.key_id,
        via_detached: recovered.via_detached,
        plaintext_len: out.len() as u64,
    })
}

/// Sets `out` to `len` bytes without leaving plaintext behind: stale bytes past `len` are
/// wiped, and a buffer too small is wiped and replaced rather than reallocated (which would
/// copy it and free the old allocation unwiped).
fn resize_wiped(out: &mut Zeroizing<Vec<u8>>, len: usize) {
    if out.capacity() < len {
        out.zeroize();
        **out = vec![0u8; len];
    } else {
        if let Some(stale) = out.get_mut(len..) {
            stale.zeroize();
        }
        out.resize(len, 0);
    }
}

/// Makes a detached stanza (§3.6) for `new_recipient` from an envelope (or its header alone)
/// that one of `keys` can open, directly or through one of `detached`. The envelope itself is
/// not changed; store the 96 bytes next to it.
///
/// Only the header is read; the payload is neither needed nor checked.
pub fn rewrap<R: CryptoRng + ?Sized>(
    envelope_or_header: &[u8],
    keys: &[&DecryptionKey],
    detached: &[&[u8]],
    new_recipient: &RecipientKey,
    rng: &mut R,
) -> Result<[u8; STANZA_LEN], EnvelopeError> {
    let (header, header_len) = Header::parse(envelope_or_header)?;
    let header_bytes = envelope_or_header
        .get(..header_len)
        .ok_or(EnvelopeError::Truncated)?;
    let recovered = recover(&header, header_bytes, keys, detached)?;
    Ok(wrap(
        rng,
        header.purpose,
        &header.org,
        new_recipient,
        &recovered.ck,
    )?
    .to_bytes())
}
