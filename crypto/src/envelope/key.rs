//! The content key (`docs/protocol.md` §3.2-3.3): wrapping it in HPKE stanzas, recovering it
//! from a header, the header MAC and the payload key derived from it.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use x25519_dalek::PublicKey;
use zeroize::Zeroizing;

use super::error::EnvelopeError;
use super::format::Purpose;
use super::header::{self, Header, MAX_ORG_LEN, MAX_RECIPIENTS, Stanza};
use crate::hpke::{self, HpkeError};
use crate::recipient::{DecryptionKey, KeyId, RecipientKey};
use crate::rng::CryptoRng;

const STANZA_LABEL: &[u8] = b"meldpunt/v1/stanza";
const PAYLOAD_LABEL: &[u8] = b"meldpunt/v1/payload";
const HEADER_MAC_LABEL: &[u8] = b"meldpunt/v1/header-mac";

/// The 32-byte content key `ck`. Zeroized on drop, no `Clone`, redacted `Debug`.
pub(crate) struct ContentKey(Zeroizing<[u8; 32]>);

debug_redacted!(ContentKey);

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

pub(super) fn check_org(org: &str) -> Result<(), EnvelopeError> {
    if org.is_empty() || org.len() > MAX_ORG_LEN {
        return Err(EnvelopeError::BadOrg);
    }
    Ok(())
}

/// Wraps `ck` for one recipient.
pub(super) fn wrap<R: CryptoRng + ?Sized>(
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
