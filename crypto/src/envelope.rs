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
use chacha20poly1305::aead::inout::InOutBuf;
use zeroize::{Zeroize, Zeroizing};

use crate::recipient::{DecryptionKey, KeyId, RecipientKey};
use crate::rng::CryptoRng;

mod chunk;
mod error;
mod format;
pub mod header;
mod key;
pub mod padding;
mod parallel;
#[cfg(test)]
mod parallel_tests;
mod stream;

pub use error::EnvelopeError;
pub use format::{CHUNK_LEN, ENCRYPTED_CHUNK_LEN, Purpose, TAG_LEN};
pub use header::{Header, MAX_HEADER_LEN, MAX_ORG_LEN, MAX_RECIPIENTS, STANZA_LEN, Stanza};
use key::{build_header, recover, wrap};
pub use padding::{padded_len, padme};
pub use stream::{
    Decryptor, Encryptor, StreamOpened, open_stream, open_stream_with_threads, seal_stream,
    seal_stream_with_threads,
};

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

debug_fields!(Opened(o) {
    purpose: o.purpose,
    org: o.org,
    plaintext_len: o.plaintext.len(),
    key_id: o.key_id,
    via_detached: o.via_detached,
});

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
    // On any error, what was written to `out` is wiped below.
    let result = (|| -> Result<(), EnvelopeError> {
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
    })();
    if result.is_err() {
        out.fill(0);
        out.clear();
    }
    result
}

/// Seals chunk `i` of the padded `plaintext` into `chunk` (its body and tag on the wire).
fn seal_chunk_from(
    aead: &chunk::ChunkAead,
    plaintext: &[u8],
    i: usize,
    last: bool,
    chunk: &mut [u8],
) -> Result<(), EnvelopeError> {
    let (body, tag_slot) = chunk::split_tag(chunk).ok_or(EnvelopeError::TooLarge)?;
    let body_len = body.len();
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
    // On any error, what was written to `out` is wiped below.
    let result = (|| -> Result<StreamOpened, EnvelopeError> {
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
    })();
    if result.is_err() {
        out.zeroize();
    }
    result
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
