//! Requests and answers of `/api/v1`, and the enums and records they carry.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Status of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(ToSchema)]
pub enum Status {
    /// Not yet acknowledged.
    New,
    /// The reporter was told the report arrived.
    Acknowledged,
    /// Being handled.
    InProgress,
    /// Finished; deleted after the organisation's retention period.
    Closed,
}

/// Who sent a message or attachment (never which reporter; the advisor is not recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(ToSchema)]
pub enum Sender {
    /// The reporter (holder of the case token).
    Reporter,
    /// An advisor on the case.
    Advisor,
}

/// Who appointed an advisor: the organisation, or the branch organisation (the instance
/// operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(ToSchema)]
pub enum Appointer {
    /// The organisation (its admin made the invite).
    Organisation,
    /// The branch organisation (the instance operator made the invite: HTTP or CLI).
    Branch,
}

/// What happened to an advisor (advisor events, `GET /api/v1/advisor/events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(ToSchema)]
pub enum EventKind {
    /// Registered (redeemed an invite).
    Joined,
    /// Suspended by an administrator.
    Suspended,
    /// No longer suspended.
    Unsuspended,
    /// The organisation's advisors were put in a new order on its public page.
    Reordered,
}

/// A report category shown on the organisation's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct Category {
    /// Stable id, e.g. `sexual-harassment`.
    pub id: String,
    /// Dutch label.
    pub nl: String,
    /// English label.
    pub en: String,
}

/// A proof-of-work solution as clients send it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct PowSolution {
    /// The challenge, base64url (65 bytes).
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub challenge: String,
    /// The nonce that solves it.
    pub nonce: u64,
}

// ---------- requests

/// `POST /api/v1/cases`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct CreateCase {
    /// Organisation slug.
    #[schema(max_length = 64)]
    pub org: String,
    /// Ids of the addressed advisors.
    #[schema(schema_with = crate::openapi::kinds::addressed_advisors)]
    pub advisors: Vec<String>,
    /// `SHA256("meldpunt/v1/case-token-hash" || case_token)`, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub token_hash: String,
    /// The report envelope, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub envelope: String,
    /// Proof of work.
    #[serde(default)]
    #[schema(nullable = false)]
    pub pow: Option<PowSolution>,
}

/// `POST /api/v1/case/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct PostFollowUp {
    /// Envelope, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub envelope: String,
    /// Proof of work.
    #[serde(default)]
    #[schema(nullable = false)]
    pub pow: Option<PowSolution>,
}

/// `POST /api/v1/advisor/cases/{id}/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct PostReply {
    /// Envelope, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub envelope: String,
}

/// `PUT /api/v1/advisor/cases/{id}/status`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct SetStatus {
    /// New status.
    #[schema(inline)]
    pub status: Status,
}

/// One detached stanza of a share.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct ShareStanza {
    /// `seq` of the message it opens.
    #[serde(default)]
    #[schema(nullable = false)]
    pub message: Option<u32>,
    /// Id of the attachment it opens.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::kinds::id)]
    pub attachment: Option<String>,
    /// The 96-byte stanza, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub stanza: String,
}

/// `POST /api/v1/advisor/cases/{id}/share`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct Share {
    /// The advisor to add.
    #[schema(schema_with = crate::openapi::kinds::id)]
    pub advisor: String,
    /// One stanza per message and attachment.
    #[schema(inline)]
    pub stanzas: Vec<ShareStanza>,
    /// The signed and sealed membership statement (protocol §10.1, `op` add), base64url;
    /// appended as an advisor message.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub envelope: String,
}

/// `POST /api/v1/advisor/cases/{id}/remove`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct Remove {
    /// The advisor to remove (may be the caller: leaving the case).
    #[schema(schema_with = crate::openapi::kinds::id)]
    pub advisor: String,
    /// The signed and sealed membership statement (protocol §10.1, `op` remove), base64url;
    /// appended as an advisor message.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub envelope: String,
}

/// Profile of a registering advisor.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct ProfileIn {
    /// Display name.
    #[schema(max_length = 100)]
    pub display_name: String,
    /// Short biography.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub bio: String,
    /// Languages (`nl`, `en`, ...).
    #[serde(default)]
    #[schema(max_items = 16)]
    pub languages: Vec<String>,
    /// Photo bytes, base64url.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub photo: Option<String>,
    /// Photo media type: `image/jpeg`, `image/png` or `image/webp`.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::kinds::photo_type)]
    pub photo_type: Option<String>,
}

/// `POST /api/v1/advisor/register`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct Register {
    /// The invite code from `meldpunt admin advisor invite`.
    pub invite: String,
    /// Ed25519 identity public key, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub identity: String,
    /// First key bundle, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub bundle: String,
    /// Profile.
    #[schema(inline)]
    pub profile: ProfileIn,
}

/// `POST /api/v1/advisor/login/challenge`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct LoginChallengeRequest {
    /// Identity public key, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub identity: String,
}

/// `POST /api/v1/advisor/login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct Login {
    /// Identity public key, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub identity: String,
    /// The challenge, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub challenge: String,
    /// Signature (§1.5), base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub signature: String,
}

/// `POST /api/v1/advisor/keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct PublishBundle {
    /// Key bundle, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub bundle: String,
}

/// `POST /api/v1/advisor/revocations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(ToSchema)]
pub struct PublishRevocation {
    /// Revocation statement, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub revocation: String,
}

// ---------- responses

/// An advisor as shown to reporters and colleagues.
#[derive(Debug, Serialize)]
#[derive(ToSchema)]
#[schema(as = Advisor)]
pub struct AdvisorOut {
    /// Id.
    #[schema(schema_with = crate::openapi::kinds::id)]
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
    #[schema(nullable = false)]
    pub photo: Option<String>,
    /// Identity key, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub identity: String,
    /// Identity fingerprint, display form (§1.2).
    pub fingerprint: String,
    /// Currently valid key bundles, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64_list)]
    pub bundles: Vec<String>,
    /// Revocations, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64_list)]
    pub revocations: Vec<String>,
    /// Who appointed the advisor: `organisation` or `branch` (the branch organisation, i.e.
    /// the instance operator).
    #[schema(inline)]
    pub appointed_by: Appointer,
    /// The day the advisor was appointed (registered), `YYYY-MM-DD`.
    #[schema(schema_with = crate::openapi::kinds::day)]
    pub appointed_since: String,
}

/// `GET /api/v1/orgs/{slug}`.
#[derive(Debug, Serialize)]
#[derive(ToSchema)]
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
#[derive(ToSchema)]
pub struct Texts {
    /// Dutch.
    pub nl: String,
    /// English.
    pub en: String,
}

/// Deadlines of a case (EU whistleblower directive).
#[derive(Debug, Serialize)]
#[derive(ToSchema)]
pub struct Deadlines {
    /// Acknowledge by (created + 7 days).
    #[schema(schema_with = crate::openapi::kinds::day)]
    pub ack_due: String,
    /// Not acknowledged and due within 2 days.
    pub ack_due_soon: bool,
    /// Not acknowledged and past due.
    pub ack_overdue: bool,
    /// Feedback by (created + 3 months).
    #[schema(schema_with = crate::openapi::kinds::day)]
    pub feedback_due: String,
    /// Not closed and due within 14 days.
    pub feedback_due_soon: bool,
    /// Not closed and past due.
    pub feedback_overdue: bool,
}

/// A case in an advisor's inbox.
#[derive(Debug, Serialize)]
#[derive(ToSchema)]
pub struct CaseSummary {
    /// Id.
    #[schema(schema_with = crate::openapi::kinds::id)]
    pub id: String,
    /// Organisation slug.
    pub org: String,
    /// Status.
    #[schema(inline)]
    pub status: Status,
    /// Created (day).
    #[schema(schema_with = crate::openapi::kinds::day)]
    pub created: String,
    /// Last change (day).
    #[schema(schema_with = crate::openapi::kinds::day)]
    pub updated: String,
    /// Number of messages.
    pub messages: u32,
    /// Who wrote last.
    #[schema(inline, required = true)]
    pub last_sender: Option<Sender>,
    /// Advisors on the case.
    #[schema(schema_with = crate::openapi::kinds::ids)]
    pub advisors: Vec<String>,
    /// Deadlines and flags.
    pub deadlines: Deadlines,
}

/// A message.
#[derive(Debug, Serialize)]
#[derive(ToSchema)]
#[schema(as = Message)]
pub struct MessageOut {
    /// Position from 0.
    pub seq: u32,
    /// Reporter or advisor.
    #[schema(inline)]
    pub sender: Sender,
    /// Day.
    #[schema(schema_with = crate::openapi::kinds::day)]
    pub created: String,
    /// Envelope, base64url.
    #[schema(schema_with = crate::openapi::kinds::b64)]
    pub envelope: String,
    /// The caller's detached stanzas (advisors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::openapi::kinds::b64_list)]
    pub stanzas: Option<Vec<String>>,
}

/// An attachment's metadata.
#[derive(Debug, Serialize)]
#[derive(ToSchema)]
#[schema(as = Attachment)]
pub struct AttachmentOut {
    /// Id.
    #[schema(schema_with = crate::openapi::kinds::id)]
    pub id: String,
    /// Reporter or advisor.
    #[schema(inline)]
    pub sender: Sender,
    /// Day.
    #[schema(schema_with = crate::openapi::kinds::day)]
    pub created: String,
    /// Envelope size, bytes.
    pub size: u64,
    /// The caller's detached stanzas (advisors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::openapi::kinds::b64_list)]
    pub stanzas: Option<Vec<String>>,
}

/// A case with its messages, as the reporter or an advisor sees it.
#[derive(Debug, Serialize)]
#[derive(ToSchema)]
pub struct CaseView {
    /// Id (advisors only; the reporter needs none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::openapi::kinds::id)]
    pub id: Option<String>,
    /// Organisation slug.
    pub org: String,
    /// Status.
    #[schema(inline)]
    pub status: Status,
    /// Created (day).
    #[schema(schema_with = crate::openapi::kinds::day)]
    pub created: String,
    /// Last change (day).
    #[schema(schema_with = crate::openapi::kinds::day)]
    pub updated: String,
    /// Deadlines (advisors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
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
#[derive(ToSchema)]
#[schema(as = AdvisorEvent)]
pub struct EventOut {
    /// `joined`, `suspended`, `unsuspended` or `reordered`.
    #[schema(inline)]
    pub kind: EventKind,
    /// The advisor it is about (`null` for `reordered`).
    #[schema(schema_with = crate::openapi::kinds::id_or_null, required = true)]
    pub advisor: Option<String>,
    /// The advisor's display name at the time; for `reordered` the advisor now shown first
    /// (empty if none is).
    pub display_name: String,
    /// The organisation's slug; `null` when the advisor is branch-wide.
    #[schema(required = true)]
    pub org: Option<String>,
    /// Who appointed that advisor, if known.
    #[schema(inline, required = true)]
    pub appointed_by: Option<Appointer>,
    /// The day, `YYYY-MM-DD`.
    #[schema(schema_with = crate::openapi::kinds::day)]
    pub day: String,
}
