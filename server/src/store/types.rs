//! The values the store takes and answers (rows as the service sees them, not as tables).

use serde::{Deserialize, Serialize};

use crate::day::Day;

/// 16 random bytes naming a case, an advisor or an attachment; base64url in the API.
pub type Id = [u8; 16];

/// Status of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl Status {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Acknowledged => "acknowledged",
            Status::InProgress => "in_progress",
            Status::Closed => "closed",
        }
    }
    /// Parses a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "new" => Status::New,
            "acknowledged" => Status::Acknowledged,
            "in_progress" => Status::InProgress,
            "closed" => Status::Closed,
            _ => return None,
        })
    }
}

/// Who sent a message or attachment (never which reporter; the advisor is not recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    /// The reporter (holder of the case token).
    Reporter,
    /// An advisor on the case.
    Advisor,
}

impl Sender {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Sender::Reporter => "reporter",
            Sender::Advisor => "advisor",
        }
    }
    /// Parses a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reporter" => Some(Sender::Reporter),
            "advisor" => Some(Sender::Advisor),
            _ => None,
        }
    }
}

/// A report category shown on the organisation's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Stable id, e.g. `sexual-harassment`.
    pub id: String,
    /// Dutch label.
    pub nl: String,
    /// English label.
    pub en: String,
}

/// An organisation (tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Internal row id.
    pub id: i64,
    /// URL slug, also the `org` of every envelope.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Introduction text, Dutch.
    pub intro_nl: String,
    /// Introduction text, English.
    pub intro_en: String,
    /// Code of conduct, Dutch.
    pub conduct_nl: String,
    /// Code of conduct, English.
    pub conduct_en: String,
    /// Report categories.
    pub categories: Vec<Category>,
    /// Days a closed case is kept.
    pub retention_days: u32,
    /// Languages of the reporting pages, e.g. `["nl", "en"]`.
    pub languages: Vec<String>,
}

/// An advisor's public profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisor {
    /// Public id.
    pub id: Id,
    /// Organisation row id; `None` for a branch-wide advisor.
    pub org_id: Option<i64>,
    /// Ed25519 identity public key.
    pub identity_pk: [u8; 32],
    /// Display name.
    pub display_name: String,
    /// Short biography.
    pub bio: String,
    /// Small photo (bytes) and its media type.
    pub photo: Option<(Vec<u8>, String)>,
    /// External (not employed by the organisation). Branch-wide advisors are always external.
    pub external: bool,
    /// Languages spoken.
    pub languages: Vec<String>,
    /// Who appointed the advisor: the role of whoever made the invite the advisor registered
    /// with (an organisation admin, or the operator = the branch organisation).
    pub appointed_by: Appointer,
    /// The day the advisor registered (appointed since).
    pub appointed_on: Day,
}

/// Who appointed an advisor (an authority, not a label: only the operator appoints as the
/// branch organisation, and only the operator may invite external or branch-wide advisors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Appointer {
    /// The organisation (its admin made the invite).
    Organisation,
    /// The branch organisation (the instance operator made the invite: HTTP or CLI).
    Branch,
}

impl Appointer {
    /// The stored and API name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Appointer::Organisation => "organisation",
            Appointer::Branch => "branch",
        }
    }
    /// Parses a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "organisation" => Some(Appointer::Organisation),
            "branch" => Some(Appointer::Branch),
            _ => None,
        }
    }
}

/// What happened to an advisor (advisor events, `GET /api/v1/advisor/events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl EventKind {
    /// The stored and API name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Joined => "joined",
            EventKind::Suspended => "suspended",
            EventKind::Unsuspended => "unsuspended",
            EventKind::Reordered => "reordered",
        }
    }
    /// Parses a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "joined" => EventKind::Joined,
            "suspended" => EventKind::Suspended,
            "unsuspended" => EventKind::Unsuspended,
            "reordered" => EventKind::Reordered,
            _ => return None,
        })
    }
}

/// Most advisor events an advisor is shown.
pub const MAX_EVENTS: u32 = 200;
/// Days an advisor event is kept.
pub const EVENT_RETENTION_DAYS: u32 = 365;

/// An advisor event as stored: one row per event, shown to every other advisor of the
/// organisation and to every branch-wide advisor (`org` `None`: the subject is branch-wide and
/// the event is shown to every other advisor of the instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisorEvent {
    /// What happened.
    pub kind: EventKind,
    /// The advisor it happened to (`None` for `reordered`).
    pub advisor: Option<Id>,
    /// The subject's display name at the time (for `reordered`: the advisor now shown first,
    /// empty if the order is empty).
    pub display_name: String,
    /// The organisation's slug (`None`: a branch-wide advisor).
    pub org: Option<String>,
    /// Who appointed the subject (for `reordered`: the advisor now shown first), if known.
    pub appointed_by: Option<Appointer>,
    /// The day (never a time).
    pub day: Day,
}

/// Outcome of removing an advisor from a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Removed; the statement was appended with this `seq`.
    Removed(u32),
    /// The advisor is not on the case (nothing written).
    NotOnCase,
    /// The advisor is the case's only advisor (nothing written).
    LastAdvisor,
}

/// A published key bundle with the fields the server needs for lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBundle {
    /// Key id (§1.1).
    pub key_id: [u8; 16],
    /// The 165 signed bytes.
    pub bytes: Vec<u8>,
    /// Validity start (Unix seconds).
    pub not_before: i64,
    /// Validity end (Unix seconds, exclusive).
    pub not_after: i64,
}

/// A published revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRevocation {
    /// The revoked key id.
    pub key_id: [u8; 16],
    /// The 125 signed bytes.
    pub bytes: Vec<u8>,
    /// `revoked_at` of the statement.
    pub revoked_at: i64,
}

/// An advisor with all published keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisorKeys {
    /// Profile.
    pub advisor: Advisor,
    /// All bundles ever published.
    pub bundles: Vec<StoredBundle>,
    /// All revocations.
    pub revocations: Vec<StoredRevocation>,
}

impl AdvisorKeys {
    /// Bundles valid at `now` and not revoked.
    pub fn valid_bundles(&self, now: i64) -> impl Iterator<Item = &StoredBundle> {
        self.bundles.iter().filter(move |b| {
            b.not_before <= now
                && now < b.not_after
                && !self.revocations.iter().any(|r| r.key_id == b.key_id)
        })
    }
    /// Whether `key_id` names a currently valid key.
    #[must_use]
    pub fn has_valid_key(&self, key_id: &[u8; 16], now: i64) -> bool {
        self.valid_bundles(now).any(|b| &b.key_id == key_id)
    }
}

/// What an invite makes of the advisor who redeems it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InviteScope {
    /// Organisation row id; `None`: branch-wide.
    pub org_id: Option<i64>,
    /// External advisor.
    pub external: bool,
    /// Who makes the invite (becomes the advisor's `appointed_by`).
    pub appointed_by: Appointer,
}

/// A new advisor's profile.
#[derive(Debug, Clone)]
pub struct NewAdvisor {
    /// Public id (random).
    pub id: Id,
    /// Identity public key.
    pub identity_pk: [u8; 32],
    /// Display name.
    pub display_name: String,
    /// Biography.
    pub bio: String,
    /// Photo and media type.
    pub photo: Option<(Vec<u8>, String)>,
    /// Languages.
    pub languages: Vec<String>,
}

/// A new case with its first envelope.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// Public id (random).
    pub id: Id,
    /// Organisation row id.
    pub org_id: i64,
    /// `SHA256("meldpunt/v1/case-token-hash" || case_token)`.
    pub token_hash: [u8; 32],
    /// Addressed advisors.
    pub advisors: Vec<Id>,
    /// The report envelope.
    pub envelope: Vec<u8>,
    /// Today.
    pub day: Day,
}

/// A case as listed and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseInfo {
    /// Public id.
    pub id: Id,
    /// Organisation slug.
    pub org_slug: String,
    /// Organisation row id.
    pub org_id: i64,
    /// Status.
    pub status: Status,
    /// Day of creation.
    pub created: Day,
    /// Day of the last change (message, status, share).
    pub updated: Day,
    /// Day the case first left `new`.
    pub acknowledged: Option<Day>,
    /// Day the case was closed (while closed).
    pub closed: Option<Day>,
    /// Advisors on the case.
    pub advisors: Vec<Id>,
    /// Number of messages.
    pub message_count: u32,
    /// Sender of the newest message.
    pub last_sender: Option<Sender>,
}

/// One message of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    /// Position in the case, from 0.
    pub seq: u32,
    /// Reporter or advisor.
    pub sender: Sender,
    /// Day it arrived.
    pub created: Day,
    /// The envelope.
    pub envelope: Vec<u8>,
}

/// An attachment of a case (metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// Id chosen by the uploader.
    pub id: Id,
    /// Reporter or advisor.
    pub sender: Sender,
    /// Day it arrived.
    pub created: Day,
    /// Envelope size in bytes.
    pub size: u64,
    /// Number of stored chunks.
    pub chunks: u32,
}

/// A detached stanza (§3.6) for one advisor and one message or attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StanzaTarget {
    /// A message, by `seq`.
    Message(u32),
    /// An attachment, by id.
    Attachment(Id),
}

/// A detached stanza as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachedStanza {
    /// What it opens.
    pub target: StanzaTarget,
    /// The 96 bytes.
    pub stanza: Vec<u8>,
}

/// Counts of what a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Cases past retention.
    pub cases: u64,
    /// Expired sessions.
    pub sessions: u64,
    /// Unfinished uploads.
    pub uploads: u64,
    /// Expired invites.
    pub invites: u64,
    /// Messages of the deleted cases.
    pub messages: u64,
    /// Finished attachments of the deleted cases (their chunks went with them).
    pub attachments: u64,
    /// Detached stanzas of the deleted cases.
    pub stanzas: u64,
    /// Advisor events past their retention.
    pub events: u64,
}

/// What a [`Maintenance::vacuum`](super::Maintenance::vacuum) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Vacuumed {
    /// A full `VACUUM` ran (once, to switch an older database to incremental vacuum).
    pub full: bool,
    /// Incremental steps run.
    pub steps: u32,
    /// Free pages given back to the file system.
    pub pages_freed: u64,
    /// The write-ahead log was checkpointed and truncated to zero bytes.
    pub wal_truncated: bool,
}

/// Fields of an organisation an administrator can set.
#[derive(Debug, Clone, Default)]
pub struct OrgUpdate {
    /// Display name.
    pub name: Option<String>,
    /// Intro, Dutch.
    pub intro_nl: Option<String>,
    /// Intro, English.
    pub intro_en: Option<String>,
    /// Code of conduct, Dutch.
    pub conduct_nl: Option<String>,
    /// Code of conduct, English.
    pub conduct_en: Option<String>,
    /// Categories.
    pub categories: Option<Vec<Category>>,
    /// Retention of closed cases, days.
    pub retention_days: Option<u32>,
    /// Languages.
    pub languages: Option<Vec<String>>,
}
