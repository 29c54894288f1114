//! JSON wire types of `/api/v1` (see `docs/api/openapi.json`). Requests deny unknown fields;
//! lengths and counts are checked in [`crate::service`] before anything is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::day::{Day, now_secs};
use crate::error::ApiError;
use crate::pow::PowSolution;
use crate::store::{
    AdvisorEvent, AdvisorKeys, Appointer, AttachmentInfo, CaseInfo, Category, EventKind, Id,
    MessageRow, Sender, Status,
};

/// Base64url (no padding) encoding.
#[must_use]
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url `value` of the field `field`, at most `max` bytes.
pub fn unb64(field: &str, value: &str, max: usize) -> Result<Vec<u8>, ApiError> {
    if value.len() > max.saturating_mul(4).div_ceil(3) + 4 {
        return Err(ApiError::too_large(format!("`{field}` is too large")));
    }
    let bytes = URL_SAFE_NO_PAD.decode(value.as_bytes()).map_err(|_| {
        ApiError::bad_request(
            "bad_base64",
            format!("`{field}` is not base64url without padding"),
        )
    })?;
    if bytes.len() > max {
        return Err(ApiError::too_large(format!("`{field}` is too large")));
    }
    Ok(bytes)
}

/// Decodes base64url of exactly `N` bytes.
pub fn unb64_exact<const N: usize>(field: &str, value: &str) -> Result<[u8; N], ApiError> {
    let bytes = URL_SAFE_NO_PAD.decode(value.as_bytes()).map_err(|_| {
        ApiError::bad_request(
            "bad_base64",
            format!("`{field}` is not base64url without padding"),
        )
    })?;
    bytes
        .try_into()
        .map_err(|_| ApiError::bad_request("bad_length", format!("`{field}` must be {N} bytes")))
}

/// Parses an id (16 bytes, base64url); anything else is "not found".
pub fn parse_id(value: &str) -> Result<Id, ApiError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(value.as_bytes())
        .map_err(|_| ApiError::not_found("not found"))?;
    bytes
        .try_into()
        .map_err(|_| ApiError::not_found("not found"))
}

// ---------- requests

/// `POST /api/v1/cases`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    /// Organisation slug.
    pub org: String,
    /// Ids of the addressed advisors.
    pub advisors: Vec<String>,
    /// `SHA256("meldpunt/v1/case-token-hash" || case_token)`, base64url.
    pub token_hash: String,
    /// The report envelope, base64url.
    pub envelope: String,
    /// Proof of work.
    #[serde(default)]
    pub pow: Option<PowSolution>,
}

/// `POST /api/v1/case/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostFollowUp {
    /// Envelope, base64url.
    pub envelope: String,
    /// Proof of work.
    #[serde(default)]
    pub pow: Option<PowSolution>,
}

/// `POST /api/v1/advisor/cases/{id}/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostReply {
    /// Envelope, base64url.
    pub envelope: String,
}

/// `PUT /api/v1/advisor/cases/{id}/status`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetStatus {
    /// New status.
    pub status: Status,
}

/// One detached stanza of a share.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareStanza {
    /// `seq` of the message it opens.
    #[serde(default)]
    pub message: Option<u32>,
    /// Id of the attachment it opens.
    #[serde(default)]
    pub attachment: Option<String>,
    /// The 96-byte stanza, base64url.
    pub stanza: String,
}

/// `POST /api/v1/advisor/cases/{id}/share`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Share {
    /// The advisor to add.
    pub advisor: String,
    /// One stanza per message and attachment.
    pub stanzas: Vec<ShareStanza>,
    /// The signed and sealed membership statement (protocol §10.1, `op` add), base64url;
    /// appended as an advisor message.
    pub envelope: String,
}

/// `POST /api/v1/advisor/cases/{id}/remove`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remove {
    /// The advisor to remove (may be the caller: leaving the case).
    pub advisor: String,
    /// The signed and sealed membership statement (protocol §10.1, `op` remove), base64url;
    /// appended as an advisor message.
    pub envelope: String,
}

/// Profile of a registering advisor.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileIn {
    /// Display name.
    pub display_name: String,
    /// Short biography.
    #[serde(default)]
    pub bio: String,
    /// Languages (`nl`, `en`, ...).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Photo bytes, base64url.
    #[serde(default)]
    pub photo: Option<String>,
    /// Photo media type: `image/jpeg`, `image/png` or `image/webp`.
    #[serde(default)]
    pub photo_type: Option<String>,
}

/// `POST /api/v1/advisor/register`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// The invite code from `meldpunt admin advisor invite`.
    pub invite: String,
    /// Ed25519 identity public key, base64url.
    pub identity: String,
    /// First key bundle, base64url.
    pub bundle: String,
    /// Profile.
    pub profile: ProfileIn,
}

/// `POST /api/v1/advisor/login/challenge`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginChallengeRequest {
    /// Identity public key, base64url.
    pub identity: String,
}

/// `POST /api/v1/advisor/login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// Identity public key, base64url.
    pub identity: String,
    /// The challenge, base64url.
    pub challenge: String,
    /// Signature (§1.5), base64url.
    pub signature: String,
}

/// `POST /api/v1/advisor/keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishBundle {
    /// Key bundle, base64url.
    pub bundle: String,
}

/// `POST /api/v1/advisor/revocations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRevocation {
    /// Revocation statement, base64url.
    pub revocation: String,
}

// ---------- responses

/// An advisor as shown to reporters and colleagues.
#[derive(Debug, Serialize)]
pub struct AdvisorOut {
    /// Id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Biography.
    pub bio: String,
    /// Not employed by the organisation.
    pub external: bool,
    /// Branch-wide (serves every member organisation).
    pub branch_wide: bool,
    /// Languages.
    pub languages: Vec<String>,
    /// Photo as a `data:` URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
    /// Identity key, base64url.
    pub identity: String,
    /// Identity fingerprint, display form (§1.2).
    pub fingerprint: String,
    /// Currently valid key bundles, base64url.
    pub bundles: Vec<String>,
    /// Revocations, base64url.
    pub revocations: Vec<String>,
    /// Who appointed the advisor: `organisation` or `branch` (the branch organisation, i.e.
    /// the instance operator).
    pub appointed_by: Appointer,
    /// The day the advisor was appointed (registered), `YYYY-MM-DD`.
    pub appointed_since: String,
}

impl AdvisorOut {
    /// From the stored advisor; only bundles valid at `now`.
    #[must_use]
    pub fn from_keys(k: &AdvisorKeys, now: i64) -> Self {
        let a = &k.advisor;
        let fingerprint = meldpunt_crypto::keys::IdentityPublicKey::from_bytes(&a.identity_pk)
            .map(|pk| pk.fingerprint().to_display())
            .unwrap_or_default();
        AdvisorOut {
            id: b64(&a.id),
            display_name: a.display_name.clone(),
            bio: a.bio.clone(),
            external: a.external,
            branch_wide: a.org_id.is_none(),
            languages: a.languages.clone(),
            photo: a.photo.as_ref().map(|(bytes, t)| {
                format!(
                    "data:{t};base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                )
            }),
            identity: b64(&a.identity_pk),
            fingerprint,
            bundles: k.valid_bundles(now).map(|b| b64(&b.bytes)).collect(),
            revocations: k.revocations.iter().map(|r| b64(&r.bytes)).collect(),
            appointed_by: a.appointed_by,
            appointed_since: a.appointed_on.to_string(),
        }
    }
}

/// `GET /api/v1/orgs/{slug}`.
#[derive(Debug, Serialize)]
pub struct OrgPage {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Introduction (nl, en).
    pub intro: Texts,
    /// Code of conduct (nl, en).
    pub code_of_conduct: Texts,
    /// Categories.
    pub categories: Vec<Category>,
    /// Languages.
    pub languages: Vec<String>,
    /// Days closed cases are kept.
    pub retention_days: u32,
    /// Advisors offered to reporters (not suspended), in the organisation's `advisor_order`;
    /// advisors not in it follow: the organisation's own, then branch-wide ones.
    pub advisors: Vec<AdvisorOut>,
    /// A logo is at `/api/v1/orgs/{slug}/logo`.
    pub has_logo: bool,
    /// The introduction rendered from Markdown to sanitised HTML.
    pub intro_html: Texts,
    /// The code of conduct rendered from Markdown to sanitised HTML.
    pub code_of_conduct_html: Texts,
}

/// A text in both languages.
#[derive(Debug, Serialize)]
pub struct Texts {
    /// Dutch.
    pub nl: String,
    /// English.
    pub en: String,
}

/// Deadlines of a case (EU whistleblower directive).
#[derive(Debug, Serialize)]
pub struct Deadlines {
    /// Acknowledge by (created + 7 days).
    pub ack_due: String,
    /// Not acknowledged and due within 2 days.
    pub ack_due_soon: bool,
    /// Not acknowledged and past due.
    pub ack_overdue: bool,
    /// Feedback by (created + 3 months).
    pub feedback_due: String,
    /// Not closed and due within 14 days.
    pub feedback_due_soon: bool,
    /// Not closed and past due.
    pub feedback_overdue: bool,
}

impl Deadlines {
    /// Deadlines of `c` as of `today`.
    #[must_use]
    pub fn of(c: &CaseInfo, today: Day) -> Self {
        let ack_due = c.created.plus_days(7);
        let feedback_due = c.created.plus_months(3);
        let ack_open = c.acknowledged.is_none();
        let fb_open = c.status != Status::Closed;
        let ack_overdue = ack_open && today > ack_due;
        let feedback_overdue = fb_open && today > feedback_due;
        Deadlines {
            ack_due: ack_due.to_string(),
            ack_due_soon: ack_open && !ack_overdue && today.days_until(ack_due) <= 2,
            ack_overdue,
            feedback_due: feedback_due.to_string(),
            feedback_due_soon: fb_open && !feedback_overdue && today.days_until(feedback_due) <= 14,
            feedback_overdue,
        }
    }
}

/// A case in an advisor's inbox.
#[derive(Debug, Serialize)]
pub struct CaseSummary {
    /// Id.
    pub id: String,
    /// Organisation slug.
    pub org: String,
    /// Status.
    pub status: Status,
    /// Created (day).
    pub created: String,
    /// Last change (day).
    pub updated: String,
    /// Number of messages.
    pub messages: u32,
    /// Who wrote last.
    pub last_sender: Option<Sender>,
    /// Advisors on the case.
    pub advisors: Vec<String>,
    /// Deadlines and flags.
    pub deadlines: Deadlines,
}

impl CaseSummary {
    /// From the stored case.
    #[must_use]
    pub fn of(c: &CaseInfo, today: Day) -> Self {
        CaseSummary {
            id: b64(&c.id),
            org: c.org_slug.clone(),
            status: c.status,
            created: c.created.to_string(),
            updated: c.updated.to_string(),
            messages: c.message_count,
            last_sender: c.last_sender,
            advisors: c.advisors.iter().map(|a| b64(a)).collect(),
            deadlines: Deadlines::of(c, today),
        }
    }
}

/// A message.
#[derive(Debug, Serialize)]
pub struct MessageOut {
    /// Position from 0.
    pub seq: u32,
    /// Reporter or advisor.
    pub sender: Sender,
    /// Day.
    pub created: String,
    /// Envelope, base64url.
    pub envelope: String,
    /// The caller's detached stanzas (advisors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stanzas: Option<Vec<String>>,
}

impl MessageOut {
    /// From a stored message.
    #[must_use]
    pub fn of(m: &MessageRow, stanzas: Option<Vec<String>>) -> Self {
        MessageOut {
            seq: m.seq,
            sender: m.sender,
            created: m.created.to_string(),
            envelope: b64(&m.envelope),
            stanzas,
        }
    }
}

/// An attachment's metadata.
#[derive(Debug, Serialize)]
pub struct AttachmentOut {
    /// Id.
    pub id: String,
    /// Reporter or advisor.
    pub sender: Sender,
    /// Day.
    pub created: String,
    /// Envelope size, bytes.
    pub size: u64,
    /// The caller's detached stanzas (advisors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stanzas: Option<Vec<String>>,
}

impl AttachmentOut {
    /// From stored metadata.
    #[must_use]
    pub fn of(a: &AttachmentInfo, stanzas: Option<Vec<String>>) -> Self {
        AttachmentOut {
            id: b64(&a.id),
            sender: a.sender,
            created: a.created.to_string(),
            size: a.size,
            stanzas,
        }
    }
}

/// A case with its messages, as the reporter or an advisor sees it.
#[derive(Debug, Serialize)]
pub struct CaseView {
    /// Id (advisors only; the reporter needs none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Organisation slug.
    pub org: String,
    /// Status.
    pub status: Status,
    /// Created (day).
    pub created: String,
    /// Last change (day).
    pub updated: String,
    /// Deadlines (advisors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadlines: Option<Deadlines>,
    /// Advisors on the case, with their valid keys (to seal follow-ups and replies to).
    pub advisors: Vec<AdvisorOut>,
    /// Messages in order.
    pub messages: Vec<MessageOut>,
    /// Attachments.
    pub attachments: Vec<AttachmentOut>,
}

/// One advisor event (`GET /api/v1/advisor/events`): day granularity, never a time.
#[derive(Debug, Serialize)]
pub struct EventOut {
    /// `joined`, `suspended`, `unsuspended` or `reordered`.
    pub kind: EventKind,
    /// The advisor it is about (`null` for `reordered`).
    pub advisor: Option<String>,
    /// The advisor's display name at the time; for `reordered` the advisor now shown first
    /// (empty if none is).
    pub display_name: String,
    /// The organisation's slug; `null` when the advisor is branch-wide.
    pub org: Option<String>,
    /// Who appointed that advisor, if known.
    pub appointed_by: Option<Appointer>,
    /// The day, `YYYY-MM-DD`.
    pub day: String,
}

impl EventOut {
    /// From a stored event.
    #[must_use]
    pub fn of(e: &AdvisorEvent) -> Self {
        EventOut {
            kind: e.kind,
            advisor: e.advisor.as_ref().map(|a| b64(a)),
            display_name: e.display_name.clone(),
            org: e.org.clone(),
            appointed_by: e.appointed_by,
            day: e.day.to_string(),
        }
    }
}

/// Unix seconds now (re-exported for handlers).
#[must_use]
pub fn now() -> i64 {
    now_secs()
}
