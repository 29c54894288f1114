//! Storage. Handlers and services reach the database only through [`Store`], so that a second
//! backend (PostgreSQL) can be added without touching them. Every method is synchronous and
//! may block: callers on the async executor run it inside `web::block`. The one exception is
//! [`Store::create_case_queued`], which queues the write and returns a [`Pending`] that the
//! handler awaits, so that a create waiting for its group commit holds no thread.
//!
//! Writes are durable when they return: the SQLite backend answers a write only after the
//! transaction holding it has been committed and fsynced (group commit, see [`sqlite`]).
//!
//! What a case row holds is exactly what protocol §9 says the server learns: organisation,
//! addressed advisors, `SHA256`-based token hash, status, envelopes (ciphertext), padded sizes
//! and dates at day granularity. Nothing about the reporter.

pub mod admin;
pub mod pending;
pub mod sqlite;

pub use pending::Pending;

use serde::{Deserialize, Serialize};

use crate::day::Day;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist (or is not visible to the caller).
    #[error("not found")]
    NotFound,
    /// A uniqueness or state conflict.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A size or count limit would be exceeded.
    #[error("limit: {0}")]
    Limit(String),
    /// A storage quota (`[quota]`) would be exceeded: `code` is `case_full` or
    /// `org_storage_full` (413).
    #[error("quota: {message}")]
    Quota {
        /// The API error code.
        code: &'static str,
        /// What is full.
        message: String,
    },
    /// The database is busy, the write queue is full, or a write could not be committed
    /// (disk full, I/O error): the change may not have been saved; try again later (503).
    #[error("database busy or unavailable")]
    Busy,
    /// Any other database error (a server fault).
    #[error("database error: {0}")]
    Db(String),
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

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

/// What a [`Store::vacuum`] did.
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

/// The storage interface (with the administration side's [`admin::AdminStore`]).
pub trait Store: admin::AdminStore + Send + Sync + 'static {
    // --- instance
    /// The server's proof-of-work HMAC key (random at first start).
    fn pow_key(&self) -> StoreResult<[u8; 32]>;

    // --- organisations
    /// Creates an organisation with default texts.
    fn create_org(&self, slug: &str, name: &str) -> StoreResult<i64>;
    /// Changes an organisation's settings.
    fn update_org(&self, slug: &str, update: &OrgUpdate) -> StoreResult<()>;
    /// Looks an organisation up by slug.
    fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Organisation>>;
    /// Looks an organisation up by row id.
    fn org_by_id(&self, id: i64) -> StoreResult<Option<Organisation>>;
    /// All organisations (admin CLI).
    fn list_orgs(&self) -> StoreResult<Vec<Organisation>>;

    // --- advisors
    /// Stores an invite (`code_hash` = SHA-256 of the code).
    fn create_invite(
        &self,
        code_hash: [u8; 32],
        scope: InviteScope,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// Redeems an invite and creates the advisor with a first key bundle, atomically.
    /// `NotFound` if the invite is unknown, used or expired.
    fn register_advisor(
        &self,
        code_hash: [u8; 32],
        now: i64,
        advisor: &NewAdvisor,
        bundle: &StoredBundle,
    ) -> StoreResult<Advisor>;
    /// An advisor by id.
    fn advisor(&self, id: &Id) -> StoreResult<Option<AdvisorKeys>>;
    /// An advisor by identity key.
    fn advisor_by_identity(&self, identity_pk: &[u8; 32]) -> StoreResult<Option<Advisor>>;
    /// Advisors visible on an organisation's page: its own and all branch-wide ones.
    fn advisors_for_org(&self, org_id: i64) -> StoreResult<Vec<AdvisorKeys>>;
    /// Publishes a key bundle.
    fn add_bundle(&self, advisor: &Id, bundle: &StoredBundle) -> StoreResult<()>;
    /// Publishes a revocation of one of the advisor's keys.
    fn add_revocation(&self, advisor: &Id, revocation: &StoredRevocation) -> StoreResult<()>;

    // --- sessions
    /// Stores a session (`token_hash` = SHA-256 of the bearer token).
    fn create_session(
        &self,
        token_hash: [u8; 32],
        advisor: &Id,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// The advisor of an unexpired session.
    fn session(&self, token_hash: &[u8; 32], now: i64) -> StoreResult<Option<Id>>;
    /// Ends a session.
    fn delete_session(&self, token_hash: &[u8; 32]) -> StoreResult<()>;

    /// Sets the storage quota (`[quota]`) checked by every later message and attachment
    /// write, in the write's own transaction: bytes of message envelopes plus finished
    /// attachments per case and per organisation (`u64::MAX`: no cap). The default ignores it.
    fn set_quota(&self, _case_bytes: u64, _org_bytes: u64) {}

    // --- cases
    /// Creates a case with its first message, atomically.
    fn create_case(&self, case: &NewCase) -> StoreResult<()>;
    /// [`Store::create_case`] for async callers: queues the write and returns at once; the
    /// [`Pending`] resolves when the write is durable (or failed). The default runs
    /// `create_case` on the spot, which blocks: a backend whose writes block must override it.
    fn create_case_queued(&self, case: NewCase) -> Pending<()> {
        Pending::ready(self.create_case(&case))
    }
    /// The case whose token hash equals `token_hash`.
    fn case_by_token(&self, token_hash: &[u8; 32]) -> StoreResult<Option<CaseInfo>>;
    /// The case, only if `advisor` is on it.
    fn case_for_advisor(&self, case: &Id, advisor: &Id) -> StoreResult<Option<CaseInfo>>;
    /// All cases `advisor` is on, newest first.
    fn inbox(&self, advisor: &Id) -> StoreResult<Vec<CaseInfo>>;
    /// All messages of a case in order.
    fn messages(&self, case: &Id) -> StoreResult<Vec<MessageRow>>;
    /// Appends a message; returns its `seq`. Fails with `Limit` past `max_messages`.
    fn add_message(
        &self,
        case: &Id,
        sender: Sender,
        envelope: &[u8],
        day: Day,
        max_messages: u32,
    ) -> StoreResult<u32>;
    /// Sets the status.
    fn set_status(&self, case: &Id, status: Status, day: Day) -> StoreResult<()>;
    /// Adds `advisor` to the case (no change if on it already), stores one detached stanza per
    /// message and attachment and appends `statement` (the signed membership statement) as an
    /// advisor message, atomically; returns the statement's `seq`. Stored stanzas are only
    /// ever added: an identical one is ignored, none is removed or replaced. `Conflict` if the
    /// stanzas do not cover exactly the current messages and attachments, `Limit` past
    /// `max_messages`.
    fn share_case(
        &self,
        case: &Id,
        advisor: &Id,
        stanzas: &[DetachedStanza],
        statement: &[u8],
        day: Day,
        max_messages: u32,
    ) -> StoreResult<u32>;
    /// Removes `advisor` from the case and appends `statement` (the signed remove statement)
    /// as an advisor message, atomically. Stored stanzas stay. Nothing is written unless the
    /// advisor is on the case and not its only advisor.
    fn remove_from_case(
        &self,
        case: &Id,
        advisor: &Id,
        statement: &[u8],
        day: Day,
        max_messages: u32,
    ) -> StoreResult<Removal>;
    /// Detached stanzas of a case for one advisor.
    fn detached_stanzas(&self, case: &Id, advisor: &Id) -> StoreResult<Vec<DetachedStanza>>;

    // --- attachments
    /// Starts an upload (invisible until finished). `Conflict` if the id exists,
    /// `Limit` past `max_count`.
    fn begin_attachment(
        &self,
        case: &Id,
        id: &Id,
        sender: Sender,
        day: Day,
        max_count: u32,
    ) -> StoreResult<()>;
    /// Appends chunk `seq` of an unfinished upload.
    fn append_attachment_chunk(&self, case: &Id, id: &Id, seq: u32, data: &[u8])
    -> StoreResult<()>;
    /// Makes an upload visible. `Limit` if the case's attachments would exceed `max_case_bytes`.
    fn finish_attachment(
        &self,
        case: &Id,
        id: &Id,
        size: u64,
        chunks: u32,
        max_case_bytes: u64,
    ) -> StoreResult<()>;
    /// Removes an unfinished upload.
    fn abort_attachment(&self, case: &Id, id: &Id) -> StoreResult<()>;
    /// Finished attachments of a case.
    fn attachments(&self, case: &Id) -> StoreResult<Vec<AttachmentInfo>>;
    /// One finished attachment.
    fn attachment(&self, case: &Id, id: &Id) -> StoreResult<Option<AttachmentInfo>>;
    /// Chunk `seq` of a finished attachment.
    fn attachment_chunk(&self, case: &Id, id: &Id, seq: u32) -> StoreResult<Option<Vec<u8>>>;

    // --- advisor events
    /// The newest events `advisor` is shown (at most `limit`, newest first): those of the
    /// other advisors of its organisation and of branch-wide advisors, and for a branch-wide
    /// advisor those of every other advisor.
    fn advisor_events(&self, advisor: &Id, limit: u32) -> StoreResult<Vec<AdvisorEvent>>;
    /// Who is to be told of an event about `subject` (`None`: reordered) in `org`
    /// (`None`: a branch-wide subject, told to everyone): every other advisor, not suspended,
    /// of that organisation and every branch-wide advisor.
    fn event_recipients(&self, org: Option<i64>, subject: Option<Id>) -> StoreResult<Vec<Id>>;

    // --- maintenance
    /// Deletes closed cases past retention, expired sessions and invites, and unfinished
    /// uploads (all of them when `all_uploads`, e.g. at startup).
    fn purge(&self, today: Day, now: i64, all_uploads: bool) -> StoreResult<Purged>;
    /// Copies the whole database to `path` (online, consistent).
    fn backup(&self, path: &std::path::Path) -> StoreResult<()>;

    // --- operations (`docs/operations.md`)
    /// Gives free pages back to the file system in steps of `step_pages` between write
    /// batches, then checkpoints and truncates the write-ahead log.
    fn vacuum(&self, step_pages: u32) -> StoreResult<Vacuumed>;
    /// Checkpoints and truncates the write-ahead log, so that no old copy of a deleted page
    /// stays in it; `false` if readers kept it from finishing (tried again next time).
    fn checkpoint(&self) -> StoreResult<bool>;
    /// The address an advisor wants activity notifications at.
    fn notify_email(&self, advisor: &Id) -> StoreResult<Option<String>>;
    /// Sets (`Some`) or removes (`None`) an advisor's notification address.
    fn set_notify_email(&self, advisor: &Id, email: Option<&str>) -> StoreResult<()>;
}
