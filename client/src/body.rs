//! The application bodies inside signed messages (`docs/protocol.md` §6), typed.
//!
//! A client builds bodies through these types, so every report carries exactly the fields of
//! §6 with their types. Reading is tolerant: a body that does not parse is shown as text, and
//! unknown fields are ignored (forward compatibility within v1).

use serde::{Deserialize, Serialize};

/// An attachment named in a body. `size` is the number of plaintext bytes of the file after
/// metadata removal (not of its envelope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// The attachment's id: 16 random bytes, base64url (22 characters), chosen by the sender
    /// and used as the id of `POST …/attachments`.
    pub id: String,
    /// The file name as the sender gave it; show it only through
    /// [`crate::filename::safe_file_name`].
    pub name: String,
    /// The media type the sender claims (`image/jpeg`, …); informational.
    #[serde(rename = "type", default)]
    pub media_type: String,
    /// Plaintext size in bytes.
    #[serde(default)]
    pub size: u64,
}

/// The reporter's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// It happened to the reporter.
    Affected,
    /// The reporter saw it.
    Witness,
}

/// The body of a report (kind 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportBody {
    /// Category ids of the organisation (`GET /api/v1/orgs/{slug}` → `categories[].id`).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Affected or witness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// `YYYY-MM`, when it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Free text: where.
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// The account.
    pub story: String,
    /// Wish ids (`heard`, `advice`, `mediation`, `formal_complaint`).
    #[serde(default)]
    pub wishes: Vec<String>,
    /// How the reporter wants to be contacted outside Meldpunt, if at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The reporter's page language (`nl`, `en`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Attachments uploaded with the report.
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    /// Identity keys (base64url) of the advisors the reporter chose (§6.1). Set by
    /// [`crate::seal::seal_report`], whatever the caller put here.
    #[serde(default)]
    pub advisors: Vec<String>,
}

/// The body of a follow-up (kind 2) or a reply (kind 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageBody {
    /// The text.
    pub text: String,
    /// Attachments sent with it.
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    /// Contact details the reporter adds (follow-ups only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// A body that does not have the fields of §6.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the body does not have the fields of protocol §6: {0}")]
pub struct BadBody(pub String);

impl ReportBody {
    /// Parses a report body as JSON.
    ///
    /// # Errors
    /// [`BadBody`].
    pub fn from_json(json: &str) -> Result<Self, BadBody> {
        serde_json::from_str(json).map_err(|e| BadBody(e.to_string()))
    }
}

impl MessageBody {
    /// Parses a follow-up or reply body as JSON.
    ///
    /// # Errors
    /// [`BadBody`].
    pub fn from_json(json: &str) -> Result<Self, BadBody> {
        serde_json::from_str(json).map_err(|e| BadBody(e.to_string()))
    }
}

/// The `advisors` of a report body as identity keys (§6.1): entries that are not a valid
/// identity key are skipped, duplicates kept once; a body that is not a JSON object, or has no
/// `advisors` array, names nobody.
#[must_use]
pub fn chosen_in_report(body: &[u8]) -> Vec<meldpunt_crypto::keys::IdentityPublicKey> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return Vec::new() };
    let Some(list) = value.get("advisors").and_then(serde_json::Value::as_array) else { return Vec::new() };
    let mut out: Vec<meldpunt_crypto::keys::IdentityPublicKey> = Vec::new();
    for s in list.iter().filter_map(serde_json::Value::as_str) {
        if let Some(k) = crate::unb64(s).ok().and_then(|b| meldpunt_crypto::keys::IdentityPublicKey::from_bytes(&b).ok())
            && !out.contains(&k)
        {
            out.push(k);
        }
    }
    out
}
