//! The server side of the wire types in `meldpunt-api`: decoding base64url fields into
//! [`ApiError`]s, and conversions from stored records into answers. Lengths and counts are
//! checked in [`crate::service`] before anything is stored.

pub use meldpunt_api::b64::b64;
pub use meldpunt_api::{
    AdvisorOut, AttachmentOut, CaseSummary, CaseView, CreateCase, Deadlines, EventOut, Login,
    LoginChallengeRequest, MessageOut, OrgPage, PostFollowUp, PostReply, ProfileIn,
    PublishBundle, PublishRevocation, Register, Remove, SetStatus, Share, ShareStanza, Texts,
};
use meldpunt_api::ErrorCode;
use meldpunt_api::b64::{std_b64, unb64 as decode};

use crate::day::{Day, now_secs};
use crate::error::ApiError;
use crate::store::{
    AdvisorEvent, AdvisorKeys, Appointer, AttachmentInfo, CaseInfo, Category, EventKind, Id,
    MessageRow, Sender, Status,
};

/// Decodes base64url `value` of the field `field`, at most `max` bytes.
pub fn unb64(field: &str, value: &str, max: usize) -> Result<Vec<u8>, ApiError> {
    if value.len() > max.saturating_mul(4).div_ceil(3) + 4 {
        return Err(ApiError::too_large(format!("`{field}` is too large")));
    }
    let bytes = decode(value).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::BadBase64,
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
    let bytes = decode(value).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::BadBase64,
            format!("`{field}` is not base64url without padding"),
        )
    })?;
    bytes
        .try_into()
        .map_err(|_| ApiError::bad_request(ErrorCode::BadLength, format!("`{field}` must be {N} bytes")))
}

/// Parses an id (16 bytes, base64url); anything else is "not found".
pub fn parse_id(value: &str) -> Result<Id, ApiError> {
    let bytes = decode(value).ok_or_else(|| ApiError::not_found("not found"))?;
    bytes
        .try_into()
        .map_err(|_| ApiError::not_found("not found"))
}


// ---------- conversions from stored records

impl From<Status> for meldpunt_api::Status {
    fn from(s: Status) -> Self {
        match s {
            Status::New => Self::New,
            Status::Acknowledged => Self::Acknowledged,
            Status::InProgress => Self::InProgress,
            Status::Closed => Self::Closed,
        }
    }
}

impl From<meldpunt_api::Status> for Status {
    fn from(s: meldpunt_api::Status) -> Self {
        match s {
            meldpunt_api::Status::New => Self::New,
            meldpunt_api::Status::Acknowledged => Self::Acknowledged,
            meldpunt_api::Status::InProgress => Self::InProgress,
            meldpunt_api::Status::Closed => Self::Closed,
        }
    }
}

impl From<Sender> for meldpunt_api::Sender {
    fn from(s: Sender) -> Self {
        match s {
            Sender::Reporter => Self::Reporter,
            Sender::Advisor => Self::Advisor,
        }
    }
}

impl From<Appointer> for meldpunt_api::Appointer {
    fn from(a: Appointer) -> Self {
        match a {
            Appointer::Organisation => Self::Organisation,
            Appointer::Branch => Self::Branch,
        }
    }
}

impl From<EventKind> for meldpunt_api::EventKind {
    fn from(k: EventKind) -> Self {
        match k {
            EventKind::Joined => Self::Joined,
            EventKind::Suspended => Self::Suspended,
            EventKind::Unsuspended => Self::Unsuspended,
            EventKind::Reordered => Self::Reordered,
        }
    }
}

/// A stored category as sent.
#[must_use]
pub fn category(c: &Category) -> meldpunt_api::Category {
    meldpunt_api::Category {
        id: c.id.clone(),
        nl: c.nl.clone(),
        en: c.en.clone(),
    }
}

/// An advisor as shown, from the stored advisor; only bundles valid at `now`.
#[must_use]
pub fn advisor_out(k: &AdvisorKeys, now: i64) -> AdvisorOut {
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
        photo: a
            .photo
            .as_ref()
            .map(|(bytes, t)| format!("data:{t};base64,{}", std_b64(bytes))),
        identity: b64(&a.identity_pk),
        fingerprint,
        bundles: k.valid_bundles(now).map(|b| b64(&b.bytes)).collect(),
        revocations: k.revocations.iter().map(|r| b64(&r.bytes)).collect(),
        appointed_by: a.appointed_by.into(),
        appointed_since: a.appointed_on.to_string(),
    }
}

/// Deadlines of `c` as of `today`.
#[must_use]
pub fn deadlines(c: &CaseInfo, today: Day) -> Deadlines {
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

/// A case in an advisor's inbox, from the stored case.
#[must_use]
pub fn case_summary(c: &CaseInfo, today: Day) -> CaseSummary {
    CaseSummary {
        id: b64(&c.id),
        org: c.org_slug.clone(),
        status: c.status.into(),
        created: c.created.to_string(),
        updated: c.updated.to_string(),
        messages: c.message_count,
        last_sender: c.last_sender.map(Into::into),
        advisors: c.advisors.iter().map(|a| b64(a)).collect(),
        deadlines: deadlines(c, today),
    }
}

/// A message as sent, from a stored message.
#[must_use]
pub fn message_out(m: &MessageRow, stanzas: Option<Vec<String>>) -> MessageOut {
    MessageOut {
        seq: m.seq,
        sender: m.sender.into(),
        created: m.created.to_string(),
        envelope: b64(&m.envelope),
        stanzas,
    }
}

/// An attachment's metadata as sent, from stored metadata.
#[must_use]
pub fn attachment_out(a: &AttachmentInfo, stanzas: Option<Vec<String>>) -> AttachmentOut {
    AttachmentOut {
        id: b64(&a.id),
        sender: a.sender.into(),
        created: a.created.to_string(),
        size: a.size,
        stanzas,
    }
}

/// An advisor event as sent, from a stored event.
#[must_use]
pub fn event_out(e: &AdvisorEvent) -> EventOut {
    EventOut {
        kind: e.kind.into(),
        advisor: e.advisor.as_ref().map(|a| b64(a)),
        display_name: e.display_name.clone(),
        org: e.org.clone(),
        appointed_by: e.appointed_by.map(Into::into),
        day: e.day.to_string(),
    }
}

/// Unix seconds now (re-exported for handlers).
#[must_use]
pub fn now() -> i64 {
    now_secs()
}
