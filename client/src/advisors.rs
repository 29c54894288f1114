//! Advisors as the server lists them, verified here (`docs/protocol.md` §1.2–§1.4).
//!
//! The server's list supplies an id, a name, an identity key, key bundles and revocations.
//! None of it is trusted as given: the identity key is parsed, the fingerprint computed here,
//! each bundle checked (signature by that identity, key id, dates, revocations by that
//! identity, low-order keys, pins), and the newest bundle that passes is the one to seal to.
//! Whether an advisor may *read a case* is not decided here at all: that is membership
//! ([`crate::case`]), which the server cannot change.

use meldpunt_crypto::keys::{Fingerprint, IdentityPublicKey, KeyBundle, KeyError, Revocation};
use meldpunt_crypto::recipient::{KeyId, RecipientKey};
use serde::Deserialize;

use crate::unb64;

/// The identity fingerprints pinned in a reporting link (§1.2, `#pin=FP1,FP2`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pins {
    pins: Option<Vec<Fingerprint>>,
}

/// A pin in the link is malformed: the link is damaged, refuse to go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a pinned fingerprint in the link is malformed")]
pub struct BadPin;

impl Pins {
    /// No pins: every advisor whose bundles verify may be chosen.
    #[must_use]
    pub fn none() -> Self {
        Pins { pins: None }
    }

    /// Reads a URL fragment (`#pin=A,B&other=x`; the `#` is optional). Without a `pin`
    /// parameter nothing is pinned; with one, even an empty one, only listed fingerprints are
    /// accepted.
    ///
    /// # Errors
    /// [`BadPin`] if a listed fingerprint does not parse.
    pub fn from_fragment(fragment: &str) -> Result<Self, BadPin> {
        let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
        let mut pins: Option<Vec<Fingerprint>> = None;
        for param in fragment.split('&') {
            let Some(list) = param.strip_prefix("pin=") else { continue };
            let all = pins.get_or_insert_with(Vec::new);
            for fp in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                all.push(Fingerprint::parse(fp).map_err(|_| BadPin)?);
            }
        }
        Ok(Pins { pins })
    }

    /// Whether the link carries pins.
    #[must_use]
    pub fn active(&self) -> bool {
        self.pins.is_some()
    }

    /// The pinned fingerprints (`None` without pins).
    #[must_use]
    pub fn list(&self) -> Option<&[Fingerprint]> {
        self.pins.as_deref()
    }

    /// Whether `identity` may be chosen: always without pins, else only if pinned.
    #[must_use]
    pub fn allows(&self, identity: &IdentityPublicKey) -> bool {
        self.pins.as_ref().is_none_or(|p| identity.fingerprint().is_in(p))
    }

    /// The fragment that carries these pins to another page (`#pin=…`), or `""`.
    #[must_use]
    pub fn to_fragment(&self) -> String {
        match &self.pins {
            Some(p) => format!("#pin={}", p.iter().map(Fingerprint::to_pin).collect::<Vec<_>>().join(",")),
            None => String::new(),
        }
    }
}

/// One advisor as the server lists them (`AdvisorOut` in the API): only the fields a trust
/// decision reads. Unknown fields are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Listed {
    /// The server's id of the advisor (base64url).
    #[serde(default)]
    pub id: String,
    /// Display name (from the server; shown, never trusted).
    #[serde(default)]
    pub display_name: String,
    /// Identity key, base64url.
    #[serde(default)]
    pub identity: String,
    /// Key bundles, base64url.
    #[serde(default)]
    pub bundles: Vec<String>,
    /// Revocations, base64url.
    #[serde(default)]
    pub revocations: Vec<String>,
}

/// Why an advisor's keys cannot be sealed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    /// The identity key is not a valid key.
    BadIdentity,
    /// Pins are present and this identity is not pinned.
    NotPinned,
    /// No bundle at all.
    NoKey,
    /// A bundle does not parse.
    Malformed,
    /// A bundle is signed by another identity.
    WrongIdentity,
    /// A bundle's signature does not verify.
    BadSignature,
    /// A bundle's key id does not match its key.
    KeyIdMismatch,
    /// Not valid yet.
    NotYetValid,
    /// Expired.
    Expired,
    /// Revoked by its identity.
    Revoked,
    /// A low-order X25519 key.
    BadKey,
}

impl KeyProblem {
    /// A short stable code the pages translate.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            KeyProblem::BadIdentity => "bad_identity",
            KeyProblem::NotPinned => "not_pinned",
            KeyProblem::NoKey => "no_key",
            KeyProblem::Malformed => "malformed",
            KeyProblem::WrongIdentity => "wrong_identity",
            KeyProblem::BadSignature => "bad_signature",
            KeyProblem::KeyIdMismatch => "key_id_mismatch",
            KeyProblem::NotYetValid => "not_yet_valid",
            KeyProblem::Expired => "expired",
            KeyProblem::Revoked => "revoked",
            KeyProblem::BadKey => "bad_key",
        }
    }

    fn of(e: KeyError) -> Self {
        match e {
            KeyError::BadSignature => KeyProblem::BadSignature,
            KeyError::KeyIdMismatch => KeyProblem::KeyIdMismatch,
            KeyError::NotYetValid { .. } => KeyProblem::NotYetValid,
            KeyError::Expired { .. } => KeyProblem::Expired,
            KeyError::Revoked { .. } => KeyProblem::Revoked,
            KeyError::LowOrderKey => KeyProblem::BadKey,
            KeyError::NotPinned => KeyProblem::NotPinned,
            KeyError::InvalidIdentityKey => KeyProblem::BadIdentity,
            _ => KeyProblem::Malformed,
        }
    }
}

/// An advisor after verification. `recipient` is the key to seal to, if any bundle passed.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The server's id (informational: never used to decide trust).
    pub id: String,
    /// The server's display name (informational).
    pub display_name: String,
    /// The identity key, parsed.
    pub identity: IdentityPublicKey,
    /// The newest bundle that passes every check of §1.3 now, with its `not_before`.
    pub recipient: Option<RecipientKey>,
    /// Key ids of every bundle correctly signed by this identity (current or not).
    pub signed_key_ids: Vec<KeyId>,
    /// Why `recipient` is `None` (the first problem found), else `None`.
    pub problem: Option<KeyProblem>,
}

impl Verified {
    /// The fingerprint in display form, computed here.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        self.identity.fingerprint().to_display()
    }

    /// Whether a verified, current key exists.
    #[must_use]
    pub fn usable(&self) -> bool {
        self.recipient.is_some()
    }
}

/// Verifies one listed advisor at `now` (Unix seconds).
///
/// Revocations are verified against the listed identity (§1.4): a revocation is valid if its
/// signature verifies strictly under that identity and names it.
///
/// # Errors
/// [`KeyProblem::BadIdentity`] if the identity key does not parse; [`KeyProblem::NotPinned`]
/// if `pins` are present and do not list it (such an advisor cannot be chosen at all).
pub fn verify(listed: &Listed, pins: &Pins, now: i64) -> Result<Verified, KeyProblem> {
    let identity = unb64(&listed.identity)
        .ok()
        .and_then(|b| IdentityPublicKey::from_bytes(&b).ok())
        .ok_or(KeyProblem::BadIdentity)?;
    if !pins.allows(&identity) {
        return Err(KeyProblem::NotPinned);
    }
    let revocations: Vec<Revocation> = listed
        .revocations
        .iter()
        .filter_map(|r| unb64(r).ok().and_then(|b| Revocation::from_bytes(&b).ok()))
        .filter(|r| r.identity() == identity && r.verify().is_ok())
        .collect();
    let mut best: Option<(i64, RecipientKey)> = None;
    let mut problem: Option<KeyProblem> = None;
    let mut signed_key_ids = Vec::new();
    for b in &listed.bundles {
        let Some(bundle) = unb64(b).ok().and_then(|b| KeyBundle::from_bytes(&b).ok()) else {
            problem.get_or_insert(KeyProblem::Malformed);
            continue;
        };
        if bundle.identity() != identity {
            problem.get_or_insert(KeyProblem::WrongIdentity);
            continue;
        }
        if bundle.verify_signature().is_ok() {
            signed_key_ids.push(bundle.key_id());
        }
        match bundle.verify_for_sealing(now, &revocations, pins.list()) {
            Ok(r) => {
                if best.as_ref().is_none_or(|(nb, _)| bundle.not_before() > *nb) {
                    best = Some((bundle.not_before(), r));
                }
            }
            Err(e) => {
                problem.get_or_insert(KeyProblem::of(e));
            }
        }
    }
    let recipient = best.map(|(_, r)| r);
    let problem = if recipient.is_some() { None } else { Some(problem.unwrap_or(KeyProblem::NoKey)) };
    Ok(Verified {
        id: listed.id.clone(),
        display_name: listed.display_name.clone(),
        identity,
        recipient,
        signed_key_ids,
        problem,
    })
}

/// Verifies a whole list without pins (as a case view lists advisors): advisors whose
/// identity does not parse are left out and reported by id.
#[must_use]
pub fn verify_all(listed: &[Listed], now: i64) -> (Vec<Verified>, Vec<String>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for l in listed {
        match verify(l, &Pins::none(), now) {
            Ok(v) => ok.push(v),
            Err(_) => bad.push(l.id.clone()),
        }
    }
    (ok, bad)
}
