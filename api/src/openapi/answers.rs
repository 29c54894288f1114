//! Answers the server builds with `serde_json::json!` today, as typed records: their schemas
//! are derived from these (and the server or the clients may use them as they are).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{CaseSummary, ErrorCode, EventOut, Status};

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// stable machine-readable code
    pub error: ErrorCode,
    /// A human-readable explanation.
    pub message: String,
    /// seconds to wait (429 `too_many_attempts`; also the Retry-After header)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub retry_after: Option<u64>,
}

/// `POST /api/v1/pow`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PowChallenge {
    /// The challenge, base64url.
    #[schema(schema_with = super::kinds::b64)]
    pub challenge: String,
    /// Unix seconds after which the challenge is refused.
    pub expires_at: i64,
    /// Argon2id memory, KiB.
    pub m_kib: u32,
    /// Argon2id passes.
    pub t: u32,
    /// Leading zero bits the hash must have.
    pub difficulty: u8,
    /// Whether proof of work is required at all.
    pub enabled: bool,
}

/// The `seq` of a stored message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Seq {
    /// Position in the case, from 0.
    pub seq: u32,
}

/// The answer to a new case: no id (the reporter's case token is the only handle).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedCase {
    /// Always `new`.
    #[schema(schema_with = super::kinds::status_new)]
    pub status: Status,
    /// The day the case was created.
    #[schema(schema_with = super::kinds::day)]
    pub created: String,
}

/// `POST /api/v1/advisor/login/challenge`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginChallenge {
    /// 32 random bytes, base64url.
    #[schema(schema_with = super::kinds::b64)]
    pub challenge: String,
    /// Unix seconds after which it is refused.
    pub expires_at: i64,
}

/// `POST /api/v1/advisor/login`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Session {
    /// Bearer token, base64url.
    #[schema(schema_with = super::kinds::b64)]
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// The advisor's id.
    #[schema(schema_with = super::kinds::id)]
    pub advisor: String,
}

/// `PUT /api/v1/advisor/notify`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetNotify {
    /// One plain e-mail address, or null to stop notifications
    #[schema(max_length = 254, required = true)]
    pub email: Option<String>,
}

/// `GET`/`PUT /api/v1/advisor/notify`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotifySetting {
    /// The address, if any.
    #[schema(required = true)]
    pub email: Option<String>,
    /// Whether this instance sends notifications at all
    pub instance_enabled: bool,
}

/// `GET /api/v1/advisor/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisorEvents {
    /// newest first; at most 200, each kept 365 days
    pub events: Vec<EventOut>,
}

/// `GET /api/v1/advisor/cases`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    /// The cases addressed to the advisor.
    pub cases: Vec<CaseSummary>,
}

/// `PUT /api/v1/advisor/cases/{id}/status`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusSet {
    /// The new status.
    #[schema(inline)]
    pub status: Status,
}

/// An attachment upload's answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Uploaded {
    /// The attachment's id.
    #[schema(schema_with = super::kinds::id)]
    pub id: String,
    /// Its size, bytes.
    pub size: u64,
}
