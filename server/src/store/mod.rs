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
mod error;
pub mod pending;
pub mod sqlite;
mod types;

pub use error::{StoreError, StoreResult};
pub use pending::Pending;
pub use types::{
    Advisor, AdvisorEvent, AdvisorKeys, Appointer, AttachmentInfo, CaseInfo, Category,
    DetachedStanza, EVENT_RETENTION_DAYS, EventKind, InviteScope, MAX_EVENTS, MessageRow,
    NewAdvisor, NewCase, OrgUpdate, Organisation, Purged, Removal, Sender, StanzaTarget, Status,
    StoredBundle, StoredRevocation, Vacuumed,
};
pub use types::Id;

use crate::day::Day;

/// Operations on the database as a file (`docs/operations.md`): what only a file-backed
/// backend means (a copy to a path, giving pages back, the write-ahead log). Kept apart from
/// the storage methods; every [`Store`] offers them, so that callers holding a `dyn Store`
/// reach them too.
pub trait Maintenance: Send + Sync {
    /// Copies the whole database to `path` (online, consistent).
    fn backup(&self, path: &std::path::Path) -> StoreResult<()>;
    /// Gives free pages back to the file system in steps of `step_pages` between write
    /// batches, then checkpoints and truncates the write-ahead log.
    fn vacuum(&self, step_pages: u32) -> StoreResult<Vacuumed>;
    /// Checkpoints and truncates the write-ahead log, so that no old copy of a deleted page
    /// stays in it; `false` if readers kept it from finishing (tried again next time).
    fn checkpoint(&self) -> StoreResult<bool>;
}

/// The storage interface (with the administration side's [`admin::AdminStore`] and the
/// file operations of [`Maintenance`]).
pub trait Store: admin::AdminStore + Maintenance + Send + Sync + 'static {
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

    // --- notifications
    /// The address an advisor wants activity notifications at.
    fn notify_email(&self, advisor: &Id) -> StoreResult<Option<String>>;
    /// Sets (`Some`) or removes (`None`) an advisor's notification address.
    fn set_notify_email(&self, advisor: &Id, email: Option<&str>) -> StoreResult<()>;
}
