//! Colleagues an advisor has confirmed out of band (`docs/protocol.md` §10.4).
//!
//! Before an advisor adds a colleague to a case, the colleague's identity must be confirmed:
//! either the advisor types (or pastes) the colleague's fingerprint, obtained from the
//! colleague in person, by phone or from a poster, or the keyring already remembers that
//! colleague from an earlier confirmation. A remembered colleague whose identity key the server
//! now gives differently is refused: an advisor's identity key never changes.
//!
//! The list lives in the keyring's `meta` JSON (§7) under `colleagues`:
//! `[{"id": str, "identity": base64url, "name": str, "confirmed": "YYYY-MM-DD"}]`.

use meldpunt_crypto::keys::{Fingerprint, IdentityPublicKey};
use meldpunt_crypto::recipient::RecipientKey;
use serde::{Deserialize, Serialize};

use crate::advisors::Verified;
use crate::{b64, unb64};

/// One remembered colleague.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    /// The server's advisor id at the time of confirmation.
    pub id: String,
    /// The identity key, base64url.
    pub identity: String,
    /// The name shown at the time.
    #[serde(default)]
    pub name: String,
    /// The day of confirmation.
    #[serde(default)]
    pub confirmed: String,
}

/// The colleagues in a keyring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Colleagues {
    list: Vec<Remembered>,
}

/// Why a colleague cannot be confirmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColleagueError {
    /// Not remembered and no fingerprint given: ask for it.
    #[error("confirm the colleague's fingerprint first (ask them for it in person or by phone)")]
    NeedsFingerprint,
    /// The typed fingerprint does not parse.
    #[error("that is not a fingerprint (8 groups of 4 characters)")]
    BadFingerprint,
    /// The typed fingerprint is not the one of the key the server gives.
    #[error("the fingerprint does not match the key the server gives for this colleague: nothing was shared")]
    Mismatch,
    /// The keyring remembers this colleague with another identity key.
    #[error("the server now gives a different identity key for a colleague you confirmed earlier (fingerprint {remembered}); an advisor's identity never changes: nothing was shared. Ask your colleague")]
    IdentityChanged {
        /// The remembered fingerprint.
        remembered: String,
    },
    /// The colleague has no key that verifies now.
    #[error("the colleague has no valid key (ask them to rotate their keys)")]
    NoKey,
    /// The colleague is the advisor themself.
    #[error("that is you")]
    Yourself,
}

/// A colleague whose identity was confirmed and whose current key verified. Only
/// [`Colleagues::confirm`] makes one, so nothing can be shared with an unconfirmed key.
#[derive(Debug, Clone)]
pub struct Confirmed {
    verified: Verified,
    recipient: RecipientKey,
    newly: bool,
}

impl Confirmed {
    /// The colleague's identity.
    #[must_use]
    pub fn identity(&self) -> IdentityPublicKey {
        self.verified.identity
    }

    /// The key to seal to.
    #[must_use]
    pub fn recipient(&self) -> RecipientKey {
        self.recipient
    }

    /// The verified listing.
    #[must_use]
    pub fn verified(&self) -> &Verified {
        &self.verified
    }

    /// Whether this confirmation came from a typed fingerprint (remember it).
    #[must_use]
    pub fn is_new(&self) -> bool {
        self.newly
    }
}

impl Colleagues {
    /// Reads `colleagues` from keyring meta JSON; anything malformed counts as none.
    #[must_use]
    pub fn from_meta(meta: &str) -> Self {
        let list = serde_json::from_str::<serde_json::Value>(meta)
            .ok()
            .and_then(|v| v.get("colleagues").cloned())
            .and_then(|c| serde_json::from_value::<Vec<Remembered>>(c).ok())
            .unwrap_or_default();
        Colleagues { list }
    }

    /// The remembered colleagues.
    #[must_use]
    pub fn list(&self) -> &[Remembered] {
        &self.list
    }

    fn remembered_identity(r: &Remembered) -> Option<IdentityPublicKey> {
        unb64(&r.identity).ok().and_then(|b| IdentityPublicKey::from_bytes(&b).ok())
    }

    /// Confirms `candidate` (as verified from the server's list) for sharing by `me`:
    /// remembered with the same identity, or `typed` is its fingerprint. A remembered id or
    /// name with another identity is refused.
    ///
    /// # Errors
    /// A [`ColleagueError`].
    pub fn confirm(&self, me: &IdentityPublicKey, candidate: &Verified, typed: Option<&str>) -> Result<Confirmed, ColleagueError> {
        if candidate.identity == *me {
            return Err(ColleagueError::Yourself);
        }
        let by_identity = self.list.iter().any(|r| Self::remembered_identity(r) == Some(candidate.identity));
        if !by_identity
            && let Some(r) = self.list.iter().find(|r| r.id == candidate.id && !r.id.is_empty())
        {
            let remembered = Self::remembered_identity(r).map(|k| k.fingerprint().to_display()).unwrap_or_default();
            return Err(ColleagueError::IdentityChanged { remembered });
        }
        let newly = if by_identity {
            false
        } else {
            let typed = typed.map(str::trim).filter(|t| !t.is_empty()).ok_or(ColleagueError::NeedsFingerprint)?;
            let fp = Fingerprint::parse(typed).map_err(|_| ColleagueError::BadFingerprint)?;
            if candidate.identity.fingerprint() != fp {
                return Err(ColleagueError::Mismatch);
            }
            true
        };
        let recipient = candidate.recipient.ok_or(ColleagueError::NoKey)?;
        Ok(Confirmed { verified: candidate.clone(), recipient, newly })
    }

    /// Remembers a confirmed colleague (replacing an entry for the same identity).
    pub fn remember(&mut self, c: &Confirmed, day: &str) {
        let identity = b64(&c.verified.identity.to_bytes());
        self.list.retain(|r| r.identity != identity);
        self.list.push(Remembered {
            id: c.verified.id.clone(),
            identity,
            name: c.verified.display_name.clone(),
            confirmed: day.to_owned(),
        });
    }

    /// `meta` (keyring JSON) with `colleagues` set to this list; other keys are kept. A meta
    /// that is not a JSON object becomes one.
    #[must_use]
    pub fn to_meta(&self, meta: &str) -> String {
        let mut v = serde_json::from_str::<serde_json::Value>(meta).unwrap_or(serde_json::Value::Null);
        if !v.is_object() {
            v = serde_json::Value::Object(serde_json::Map::new());
        }
        if let Some(obj) = v.as_object_mut() {
            obj.insert("colleagues".into(), serde_json::to_value(&self.list).unwrap_or_default());
        }
        v.to_string()
    }
}
