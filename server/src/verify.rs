//! The server's use of `meldpunt-crypto`: structural and signature checks on what clients
//! upload. The server holds no secret key and never parses plaintext; everything here looks at
//! public bytes (bundles, revocations, login signatures, envelope headers, PoW solutions).

use meldpunt_api::ErrorCode;
use meldpunt_crypto::keys::{IdentityPublicKey, KeyBundle, Revocation};
use meldpunt_crypto::pickup::CaseToken;

use crate::error::ApiError;
use crate::store::{StoredBundle, StoredRevocation};

pub use meldpunt_crypto::envelope::Purpose;

/// What the server may know about an envelope: its header fields.
#[derive(Debug, Clone)]
pub struct EnvelopeInfo {
    /// Purpose byte.
    pub purpose: Purpose,
    /// Organisation slug.
    pub org: String,
    /// Key ids of the header stanzas.
    pub key_ids: Vec<[u8; 16]>,
    /// Length of the header in bytes.
    pub header_len: usize,
}

pub use meldpunt_crypto::envelope::{MAX_HEADER_LEN, STANZA_LEN};

fn bad_envelope(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(ErrorCode::BadEnvelope, msg)
}

/// Parses the header at the start of `bytes` (which may hold more than the header).
pub fn envelope_header(bytes: &[u8]) -> Result<EnvelopeInfo, ApiError> {
    let (header, len) = meldpunt_crypto::envelope::Header::parse(bytes)
        .map_err(|e| bad_envelope(format!("envelope header: {e}")))?;
    Ok(EnvelopeInfo {
        purpose: header.purpose(),
        org: header.org().to_owned(),
        key_ids: header.stanza_key_ids().map(|k| *k.as_bytes()).collect(),
        header_len: len,
    })
}

/// Checks that a payload of `len` bytes is one a conforming writer makes (§3.3, §3.4): the
/// STREAM of a canonically padded plaintext. Only the length is checked (the server cannot
/// open the chunks); a wrong length would be refused by every reader anyway, so storing it
/// would only waste space and let a client probe what the server accepts.
pub fn check_payload_len(len: u64) -> Result<(), ApiError> {
    if meldpunt_crypto::envelope::is_payload_len(len) {
        Ok(())
    } else {
        Err(bad_envelope("envelope payload has an impossible length"))
    }
}

/// Parses a whole envelope and checks its purpose and organisation.
pub fn envelope(bytes: &[u8], purpose: Purpose, org: &str) -> Result<EnvelopeInfo, ApiError> {
    let info = envelope_header(bytes)?;
    check_header(&info, purpose, org)?;
    check_payload_len(u64::try_from(bytes.len() - info.header_len.min(bytes.len())).unwrap_or(0))?;
    Ok(info)
}

/// Checks purpose and organisation of a parsed header.
pub fn check_header(info: &EnvelopeInfo, purpose: Purpose, org: &str) -> Result<(), ApiError> {
    if info.purpose != purpose {
        return Err(bad_envelope(format!(
            "envelope purpose is {:?}, this route takes {purpose:?}",
            info.purpose
        )));
    }
    if info.org != org {
        return Err(bad_envelope("envelope is sealed for another organisation"));
    }
    if info.key_ids.is_empty() {
        return Err(bad_envelope("envelope has no recipients"));
    }
    Ok(())
}

/// Parses and fully checks a key bundle an advisor publishes: signature, key id, not a
/// low-order key, and not already expired at `now`. `identity` must be the signer.
pub fn bundle(bytes: &[u8], identity: &[u8; 32], now: i64) -> Result<StoredBundle, ApiError> {
    let bad = |m: String| ApiError::bad_request(ErrorCode::BadBundle, m);
    let b = KeyBundle::from_bytes(bytes).map_err(|e| bad(format!("key bundle: {e}")))?;
    if &b.identity().to_bytes() != identity {
        return Err(bad("key bundle is signed by another identity".into()));
    }
    // Everything but the dates, checked at a moment inside the validity window.
    b.verify_for_sealing(b.not_before(), &[], None)
        .map_err(|e| bad(format!("key bundle: {e}")))?;
    if b.not_after() <= now {
        return Err(bad("key bundle has expired".into()));
    }
    Ok(StoredBundle {
        key_id: *b.key_id().as_bytes(),
        bytes: b.to_bytes(),
        not_before: b.not_before(),
        not_after: b.not_after(),
    })
}

/// Parses and verifies a revocation signed by `identity`.
pub fn revocation(bytes: &[u8], identity: &[u8; 32]) -> Result<StoredRevocation, ApiError> {
    let bad = |m: String| ApiError::bad_request(ErrorCode::BadRevocation, m);
    let r = Revocation::from_bytes(bytes).map_err(|e| bad(format!("revocation: {e}")))?;
    if &r.identity().to_bytes() != identity {
        return Err(bad("revocation is signed by another identity".into()));
    }
    r.verify().map_err(|e| bad(format!("revocation: {e}")))?;
    Ok(StoredRevocation {
        key_id: *r.key_id().as_bytes(),
        bytes: r.to_bytes(),
        revoked_at: r.revoked_at(),
    })
}

/// Whether a parse failure only means "not enough bytes yet" (for streamed uploads).
#[must_use]
pub fn header_incomplete(bytes: &[u8]) -> bool {
    matches!(
        meldpunt_crypto::envelope::Header::parse(bytes),
        Err(meldpunt_crypto::envelope::EnvelopeError::Truncated)
    )
}

/// Parses a detached stanza (§3.6) and returns the key id it is for.
pub fn detached_stanza(bytes: &[u8]) -> Result<[u8; 16], ApiError> {
    let s = meldpunt_crypto::envelope::Stanza::from_bytes(bytes)
        .map_err(|e| ApiError::bad_request(ErrorCode::BadStanza, format!("detached stanza: {e}")))?;
    Ok(*s.key_id().as_bytes())
}

/// Parses an Ed25519 identity public key.
pub fn identity(bytes: &[u8]) -> Result<[u8; 32], ApiError> {
    let pk = IdentityPublicKey::from_bytes(bytes)
        .map_err(|e| ApiError::bad_request(ErrorCode::BadIdentity, format!("identity key: {e}")))?;
    Ok(pk.to_bytes())
}

/// Checks a login signature (§1.5).
pub fn login_signature(identity: &[u8; 32], challenge: &[u8], signature: &[u8]) -> bool {
    IdentityPublicKey::from_bytes(identity)
        .and_then(|pk| pk.verify_login(challenge, signature))
        .is_ok()
}

/// `token_hash` of a case token given as base64url.
pub fn case_token_hash(b64: &str) -> Option<[u8; 32]> {
    CaseToken::from_base64url(b64).ok().map(|t| t.hash())
}

/// Constant-time equality of token hashes.
#[must_use]
pub fn token_hash_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    meldpunt_crypto::pickup::token_hash_eq(a, b)
}
