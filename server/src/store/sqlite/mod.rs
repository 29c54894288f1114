//! The SQLite backend: one file holds everything, attachments included (as chunk rows), so one
//! online backup captures a consistent state.
//!
//! Connections: one writer connection owned by a dedicated writer thread, and a few readers,
//! which WAL lets run beside the writer. Every connection runs with `foreign_keys=ON`,
//! `secure_delete=ON` (deleted cases are overwritten, not just unlinked) and
//! `synchronous=FULL` (a write the client saw succeed survives a power cut).
//!
//! **Group commit.** A write is an operation (a closure over the connection) sent to the
//! writer thread over a bounded channel, with a one-shot reply ([`oneshot`](super::oneshot)).
//! The writer takes the first queued operation, then drains whatever else is queued (at most
//! [`MAX_BATCH_OPS`] operations or about [`MAX_BATCH_BYTES`] bytes of payload), and runs them
//! in one `BEGIN IMMEDIATE` transaction, each inside its own `SAVEPOINT`: an operation that
//! fails (constraint, validation, limit) is rolled back to its savepoint alone and answers its
//! own error, its neighbours are unaffected. Then one `COMMIT` (one WAL fsync), and only then
//! every operation of the batch is answered. If the commit fails (disk full, I/O error), or
//! SQLite rolled the whole transaction back, every operation of the batch answers
//! [`StoreError::Busy`] (HTTP 503) and the cause is logged. There is no waiting for a batch
//! to fill: while one commit is being fsynced the next operations queue up, so the batch size
//! follows the load (1 when idle).

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::Pending;
use super::pending::{self as oneshot, Reply};

mod admin;

use super::{
    Advisor, AdvisorEvent, AdvisorKeys, Appointer, AttachmentInfo, CaseInfo, Category,
    DetachedStanza, EventKind, Id, InviteScope, MessageRow, NewAdvisor, NewCase, OrgUpdate,
    Organisation, Purged, Removal, Sender, StanzaTarget, Status, Store, StoreError, StoreResult,
    StoredBundle, StoredRevocation, Vacuumed,
};
use crate::day::Day;

pub mod maint;

/// Versioned migrations; `PRAGMA user_version` holds how many have run. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
CREATE TABLE instance (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    pow_key     BLOB NOT NULL CHECK (length(pow_key) = 32),
    created_day TEXT NOT NULL
);
CREATE TABLE organisations (
    id             INTEGER PRIMARY KEY,
    slug           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    intro_nl       TEXT NOT NULL DEFAULT '',
    intro_en       TEXT NOT NULL DEFAULT '',
    conduct_nl     TEXT NOT NULL DEFAULT '',
    conduct_en     TEXT NOT NULL DEFAULT '',
    categories     TEXT NOT NULL DEFAULT '[]',
    retention_days INTEGER NOT NULL DEFAULT 365,
    languages      TEXT NOT NULL DEFAULT '["nl","en"]'
);
CREATE TABLE advisors (
    id           BLOB PRIMARY KEY CHECK (length(id) = 16),
    org_id       INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    identity_pk  BLOB NOT NULL UNIQUE CHECK (length(identity_pk) = 32),
    display_name TEXT NOT NULL,
    bio          TEXT NOT NULL DEFAULT '',
    photo        BLOB,
    photo_type   TEXT,
    external     INTEGER NOT NULL,
    languages    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX advisors_org ON advisors(org_id);
CREATE TABLE invites (
    code_hash  BLOB PRIMARY KEY CHECK (length(code_hash) = 32),
    org_id     INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    external   INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE key_bundles (
    key_id     BLOB PRIMARY KEY CHECK (length(key_id) = 16),
    advisor_id BLOB NOT NULL REFERENCES advisors(id) ON DELETE CASCADE,
    bundle     BLOB NOT NULL,
    not_before INTEGER NOT NULL,
    not_after  INTEGER NOT NULL
);
CREATE INDEX key_bundles_advisor ON key_bundles(advisor_id);
CREATE TABLE revocations (
    key_id     BLOB PRIMARY KEY REFERENCES key_bundles(key_id) ON DELETE CASCADE,
    statement  BLOB NOT NULL,
    revoked_at INTEGER NOT NULL
);
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    advisor_id BLOB NOT NULL REFERENCES advisors(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE TABLE cases (
    id               BLOB PRIMARY KEY CHECK (length(id) = 16),
    org_id           INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    token_hash       BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    status           TEXT NOT NULL CHECK (status IN ('new', 'acknowledged', 'in_progress', 'closed')),
    created_day      TEXT NOT NULL,
    updated_day      TEXT NOT NULL,
    acknowledged_day TEXT,
    closed_day       TEXT
);
CREATE TABLE case_advisors (
    case_id    BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    advisor_id BLOB NOT NULL REFERENCES advisors(id) ON DELETE CASCADE,
    PRIMARY KEY (case_id, advisor_id)
) WITHOUT ROWID;
CREATE INDEX case_advisors_advisor ON case_advisors(advisor_id);
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    case_id     BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    sender      TEXT NOT NULL CHECK (sender IN ('reporter', 'advisor')),
    created_day TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    UNIQUE (case_id, seq)
);
CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    case_id     BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    public_id   BLOB NOT NULL CHECK (length(public_id) = 16),
    sender      TEXT NOT NULL CHECK (sender IN ('reporter', 'advisor')),
    created_day TEXT NOT NULL,
    size        INTEGER NOT NULL DEFAULT 0,
    chunks      INTEGER NOT NULL DEFAULT 0,
    complete    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (case_id, public_id)
);
CREATE TABLE attachment_chunks (
    id            INTEGER PRIMARY KEY,
    attachment_id INTEGER NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    data          BLOB NOT NULL,
    UNIQUE (attachment_id, seq)
);
CREATE TABLE detached_stanzas (
    id            INTEGER PRIMARY KEY,
    case_id       BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    advisor_id    BLOB NOT NULL REFERENCES advisors(id) ON DELETE CASCADE,
    message_id    INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    attachment_id INTEGER REFERENCES attachments(id) ON DELETE CASCADE,
    stanza        BLOB NOT NULL CHECK (length(stanza) = 96),
    CHECK ((message_id IS NULL) <> (attachment_id IS NULL))
);
CREATE INDEX detached_stanzas_case ON detached_stanzas(case_id, advisor_id);
"#,
    // 2: administration (issue 6): admin accounts, sessions, invites, audit log; suspension,
    // logo, advisor order and former slugs of organisations; suspension of advisors. A case
    // keeps the slug its envelopes were sealed for (`tenant`), so renaming an organisation
    // leaves its cases readable. See `store/admin.rs`.
    r#"
ALTER TABLE instance ADD COLUMN require_totp INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN advisor_order TEXT NOT NULL DEFAULT '[]';
ALTER TABLE organisations ADD COLUMN logo BLOB;
ALTER TABLE organisations ADD COLUMN logo_type TEXT;
ALTER TABLE advisors ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN tenant TEXT;
UPDATE cases SET tenant = (SELECT slug FROM organisations o WHERE o.id = cases.org_id);
CREATE TRIGGER cases_tenant AFTER INSERT ON cases FOR EACH ROW WHEN NEW.tenant IS NULL
BEGIN
    UPDATE cases SET tenant = (SELECT slug FROM organisations WHERE id = NEW.org_id)
    WHERE id = NEW.id;
END;
CREATE TABLE org_former_slugs (
    slug   TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE
);
CREATE TABLE admin_accounts (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('operator', 'org_admin')),
    org_id          INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    passphrase_hash TEXT NOT NULL,
    totp_secret     BLOB,
    totp_pending    BLOB,
    totp_last_step  INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    CHECK ((role = 'operator') = (org_id IS NULL))
);
CREATE TABLE admin_sessions (
    token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    account_id INTEGER NOT NULL REFERENCES admin_accounts(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
);
CREATE INDEX admin_sessions_account ON admin_sessions(account_id);
CREATE TABLE admin_invites (
    code_hash  BLOB PRIMARY KEY CHECK (length(code_hash) = 32),
    org_id     INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    org_id INTEGER REFERENCES organisations(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(org_id, id);
"#,
    // 3: advisors' notification addresses (optional, `[notify]`). `IF NOT EXISTS`: builds
    // between the operations and administration work created it outside the migrations.
    r#"
CREATE TABLE IF NOT EXISTS advisor_notify (
    advisor_id BLOB PRIMARY KEY REFERENCES advisors(id) ON DELETE CASCADE,
    email      TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254)
);
"#,
    // 4: who appointed an advisor, and since when (issue 11); advisor events. An invite
    // records the role of whoever made it; existing advisors and invites count as appointed
    // by the branch organisation if branch-wide or external, else by their organisation, and
    // existing advisors as appointed today (their registration day was never stored).
    r#"
ALTER TABLE invites ADD COLUMN appointed_by TEXT NOT NULL DEFAULT 'organisation'
    CHECK (appointed_by IN ('organisation', 'branch'));
UPDATE invites SET appointed_by = 'branch' WHERE org_id IS NULL OR external <> 0;
ALTER TABLE advisors ADD COLUMN appointed_by TEXT NOT NULL DEFAULT 'organisation'
    CHECK (appointed_by IN ('organisation', 'branch'));
ALTER TABLE advisors ADD COLUMN appointed_on TEXT NOT NULL DEFAULT '';
UPDATE advisors SET appointed_by = 'branch' WHERE org_id IS NULL OR external <> 0;
UPDATE advisors SET appointed_on = date('now') WHERE appointed_on = '';
CREATE TABLE advisor_events (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('joined', 'suspended', 'unsuspended', 'reordered')),
    subject      BLOB CHECK (subject IS NULL OR length(subject) = 16),
    display_name TEXT NOT NULL,
    org_id       INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    appointed_by TEXT CHECK (appointed_by IS NULL OR appointed_by IN ('organisation', 'branch')),
    day          TEXT NOT NULL
);
CREATE INDEX advisor_events_org ON advisor_events(org_id, id);
"#,
    // A closed case's deletion day, fixed when it is closed (closed day + the retention in
    // force then): a later, shorter retention applies only to cases closed after it. Cases
    // closed before this migration get the retention in force now.
    r#"
ALTER TABLE cases ADD COLUMN delete_day TEXT;
UPDATE cases SET delete_day = date(closed_day, '+' || (
        SELECT o.retention_days FROM organisations o WHERE o.id = cases.org_id) || ' days')
    WHERE status = 'closed' AND closed_day IS NOT NULL;
"#,
];

/// Number of reader connections.
const READERS: usize = 4;

/// Most operations committed in one transaction.
pub const MAX_BATCH_OPS: usize = 256;
/// Payload bytes (envelopes, chunks) after which no more operations join a batch.
pub const MAX_BATCH_BYTES: usize = 4 << 20;
/// Queued operations beyond which queued (async) writes answer `Busy` at once and
/// synchronous writes wait for room.
const QUEUE_DEPTH: usize = 1024;

/// One write operation as the writer thread sees it.
trait Op: Send {
    /// Payload size, for the batch bound.
    fn bytes(&self) -> usize;
    /// Runs the operation (inside its savepoint); whether it succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the batch is over; `committed`: the batch's COMMIT succeeded.
    fn answer(self: Box<Self>, committed: bool);
    /// Runs alone between two batches, outside any transaction (VACUUM, checkpoints).
    fn alone(&self) -> bool {
        false
    }
}

struct TypedOp<T, F> {
    f: Option<F>,
    out: Option<StoreResult<T>>,
    reply: Reply<T>,
    bytes: usize,
}

impl<T, F> Op for TypedOp<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> StoreResult<T> + Send,
{
    fn bytes(&self) -> usize {
        self.bytes
    }
    fn run(&mut self, conn: &Connection) -> bool {
        let out = match self.f.take() {
            Some(f) => f(conn),
            None => Err(StoreError::Db("operation ran twice".into())),
        };
        let ok = out.is_ok();
        self.out = Some(out);
        ok
    }
    fn answer(self: Box<Self>, committed: bool) {
        let this = *self;
        let out = match this.out {
            // Its own failure (already rolled back to its savepoint) stands either way.
            Some(Err(e)) => Err(e),
            Some(Ok(v)) if committed => Ok(v),
            // Not committed, or never ran because the batch failed first.
            _ => Err(StoreError::Busy),
        };
        this.reply.send(out);
    }
}

/// Counters of the writer thread (for tests and diagnostics).
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Operations answered (committed batches and failed ones).
    pub ops: AtomicU64,
    /// Batches whose transaction failed as a whole.
    pub failed_batches: AtomicU64,
    /// Largest batch so far.
    pub max_batch: AtomicU64,
}

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    queue: Option<SyncSender<Box<dyn Op>>>,
    writer: Option<JoinHandle<()>>,
    stats: Arc<WriterStats>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// `[quota]`: bytes per case and per organisation (`u64::MAX`: no cap).
    quota: (AtomicU64, AtomicU64),
}

impl std::fmt::Debug for dyn Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Op")
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the queue ends the writer loop once everything queued is answered; the
        // writer connection is closed on that thread.
        self.queue = None;
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
    }
}

/// Runs one batch in one transaction; whether it committed.
fn run_batch(conn: &Connection, batch: &mut [Box<dyn Op>]) -> bool {
    fn abort(conn: &Connection, what: &str, e: &rusqlite::Error) -> bool {
        tracing::error!(error = %e, "database write failed ({what}); the batch is not saved");
        if !conn.is_autocommit()
            && let Err(e) = conn.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %e, "rollback failed");
        }
        false
    }
    fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
        conn.prepare_cached(sql)?.execute([]).map(|_| ())
    }
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        return abort(conn, "begin", &e);
    }
    for op in batch.iter_mut() {
        if let Err(e) = exec(conn, "SAVEPOINT op") {
            return abort(conn, "savepoint", &e);
        }
        if op.run(conn) {
            if let Err(e) = exec(conn, "RELEASE op") {
                return abort(conn, "release", &e);
            }
        } else {
            if conn.is_autocommit() {
                // SQLite rolled the whole transaction back (SQLITE_FULL, IOERR, NOMEM, ...):
                // the operations before this one are lost too.
                tracing::error!("a write error rolled back the whole batch");
                return false;
            }
            if let Err(e) = exec(conn, "ROLLBACK TO op").and_then(|()| exec(conn, "RELEASE op")) {
                return abort(conn, "rollback to savepoint", &e);
            }
        }
    }
    match exec(conn, "COMMIT") {
        Ok(()) => true,
        Err(e) => abort(conn, "commit", &e),
    }
}

fn writer_loop(conn: Connection, queue: Receiver<Box<dyn Op>>, stats: Arc<WriterStats>) {
    let mut batch: Vec<Box<dyn Op>> = Vec::with_capacity(MAX_BATCH_OPS);
    let mut held: Option<Box<dyn Op>> = None;
    while let Some(first) = held.take().or_else(|| queue.recv().ok()) {
        if first.alone() {
            maint::run_alone(&conn, first);
            continue;
        }
        let mut bytes = first.bytes();
        batch.push(first);
        while batch.len() < MAX_BATCH_OPS && bytes < MAX_BATCH_BYTES {
            match queue.try_recv() {
                Ok(op) if op.alone() => {
                    held = Some(op);
                    break;
                }
                Ok(op) => {
                    bytes = bytes.saturating_add(op.bytes());
                    batch.push(op);
                }
                Err(_) => break,
            }
        }
        let committed = run_batch(&conn, &mut batch);
        let n = batch.len() as u64;
        if committed {
            stats.commits.fetch_add(1, Ordering::Relaxed);
        } else {
            stats.failed_batches.fetch_add(1, Ordering::Relaxed);
        }
        stats.ops.fetch_add(n, Ordering::Relaxed);
        stats.max_batch.fetch_max(n, Ordering::Relaxed);
        for op in batch.drain(..) {
            op.answer(committed);
        }
    }
    // Queue closed: the store is being dropped; `conn` closes here (checkpointing the WAL).
}

fn db(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            StoreError::Busy
        }
        // The disk, not the request: answered 503 (try again later), the cause logged.
        rusqlite::Error::SqliteFailure(f, msg)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::SystemIoFailure
            ) =>
        {
            tracing::error!(code = ?f.code, message = ?msg, "database storage failure");
            StoreError::Busy
        }
        other => StoreError::Db(other.to_string()),
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> StoreError {
    StoreError::Db("connection mutex poisoned".to_owned())
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

fn id_from(v: Vec<u8>) -> rusqlite::Result<Id> {
    v.try_into().map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "id".into(), rusqlite::types::Type::Blob)
    })
}

fn arr32(v: Vec<u8>) -> rusqlite::Result<[u8; 32]> {
    v.try_into().map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "key".into(), rusqlite::types::Type::Blob)
    })
}

fn day_from(s: &str) -> rusqlite::Result<Day> {
    Day::parse(s).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(0, "day".into(), rusqlite::types::Type::Text)
    })
}

fn opt_day(s: Option<String>) -> rusqlite::Result<Option<Day>> {
    s.map(|s| day_from(&s)).transpose()
}

fn json_list<T: serde::de::DeserializeOwned>(s: &str) -> rusqlite::Result<Vec<T>> {
    serde_json::from_str(s).map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "json".into(), rusqlite::types::Type::Text)
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Db(e.to_string()))
}

const ORG_COLUMNS: &str = "id, slug, name, intro_nl, intro_en, conduct_nl, conduct_en, categories, retention_days, languages";

fn org_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Organisation> {
    Ok(Organisation {
        id: r.get(0)?,
        slug: r.get(1)?,
        name: r.get(2)?,
        intro_nl: r.get(3)?,
        intro_en: r.get(4)?,
        conduct_nl: r.get(5)?,
        conduct_en: r.get(6)?,
        categories: json_list::<Category>(&r.get::<_, String>(7)?)?,
        retention_days: r.get(8)?,
        languages: json_list::<String>(&r.get::<_, String>(9)?)?,
    })
}

const ADVISOR_COLUMNS: &str = "id, org_id, identity_pk, display_name, bio, photo, photo_type, external, languages, appointed_by, appointed_on";
/// Number of [`ADVISOR_COLUMNS`] (the next column index after them).
const ADVISOR_NCOLS: usize = 11;

fn advisor_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Advisor> {
    let photo: Option<Vec<u8>> = r.get(5)?;
    let photo_type: Option<String> = r.get(6)?;
    Ok(Advisor {
        id: id_from(r.get(0)?)?,
        org_id: r.get(1)?,
        identity_pk: arr32(r.get(2)?)?,
        display_name: r.get(3)?,
        bio: r.get(4)?,
        photo: photo.zip(photo_type),
        external: r.get(7)?,
        languages: json_list::<String>(&r.get::<_, String>(8)?)?,
        appointed_by: Appointer::parse(&r.get::<_, String>(9)?).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(
                9,
                "appointed_by".into(),
                rusqlite::types::Type::Text,
            )
        })?,
        appointed_on: day_from(&r.get::<_, String>(10)?)?,
    })
}

/// Records an advisor event (inside the caller's transaction).
fn insert_event(
    tx: &Connection,
    kind: EventKind,
    subject: Option<&Id>,
    display_name: &str,
    org_id: Option<i64>,
    appointed_by: Option<Appointer>,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO advisor_events (kind, subject, display_name, org_id, appointed_by, day)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            kind.as_str(),
            subject.map(|s| s.to_vec()),
            display_name,
            org_id,
            appointed_by.map(Appointer::as_str),
            Day::today().to_string()
        ])
    })
    .map_err(db)?;
    Ok(())
}

/// Appends an advisor message (inside the caller's transaction); its `seq`.
fn append_message(
    tx: &Connection,
    case: &Id,
    sender: Sender,
    envelope: &[u8],
    day: &str,
    max: u32,
) -> StoreResult<u32> {
    let next: u32 = tx
        .query_row(
            "SELECT coalesce(max(seq) + 1, 0) FROM messages WHERE case_id = ?1",
            [&case[..]],
            |r| r.get(0),
        )
        .map_err(db)?;
    if next == 0 {
        return Err(StoreError::NotFound);
    }
    if next >= max {
        return Err(StoreError::Limit(format!(
            "a case holds at most {max} messages"
        )));
    }
    tx.execute(
        "INSERT INTO messages (case_id, seq, sender, created_day, envelope) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![&case[..], next, sender.as_str(), day, envelope],
    )
    .map_err(db)?;
    tx.execute(
        "UPDATE cases SET updated_day = ?2 WHERE id = ?1",
        params![&case[..], day],
    )
    .map_err(db)?;
    Ok(next)
}

fn keys_of(conn: &Connection, advisor: Advisor) -> rusqlite::Result<AdvisorKeys> {
    let mut stmt = conn.prepare_cached(
        "SELECT key_id, bundle, not_before, not_after FROM key_bundles WHERE advisor_id = ?1 ORDER BY not_before, key_id",
    )?;
    let bundles = stmt
        .query_map([&advisor.id[..]], |r| {
            Ok(StoredBundle {
                key_id: r.get::<_, Vec<u8>>(0)?.try_into().map_err(|_| {
                    rusqlite::Error::InvalidColumnType(
                        0,
                        "key_id".into(),
                        rusqlite::types::Type::Blob,
                    )
                })?,
                bytes: r.get(1)?,
                not_before: r.get(2)?,
                not_after: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT r.key_id, r.statement, r.revoked_at FROM revocations r JOIN key_bundles k ON k.key_id = r.key_id WHERE k.advisor_id = ?1 ORDER BY r.key_id",
    )?;
    let revocations = stmt
        .query_map([&advisor.id[..]], |r| {
            Ok(StoredRevocation {
                key_id: r.get::<_, Vec<u8>>(0)?.try_into().map_err(|_| {
                    rusqlite::Error::InvalidColumnType(
                        0,
                        "key_id".into(),
                        rusqlite::types::Type::Blob,
                    )
                })?,
                bytes: r.get(1)?,
                revoked_at: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(AdvisorKeys {
        advisor,
        bundles,
        revocations,
    })
}

const CASE_COLUMNS: &str = "c.id, coalesce(c.tenant, o.slug), c.org_id, c.status, c.created_day, c.updated_day, c.acknowledged_day, c.closed_day";

fn case_row(conn: &Connection, r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseInfo> {
    let id = id_from(r.get(0)?)?;
    let status: String = r.get(3)?;
    let mut info = CaseInfo {
        id,
        org_slug: r.get(1)?,
        org_id: r.get(2)?,
        status: Status::parse(&status).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(3, "status".into(), rusqlite::types::Type::Text)
        })?,
        created: day_from(&r.get::<_, String>(4)?)?,
        updated: day_from(&r.get::<_, String>(5)?)?,
        acknowledged: opt_day(r.get(6)?)?,
        closed: opt_day(r.get(7)?)?,
        advisors: Vec::new(),
        message_count: 0,
        last_sender: None,
    };
    let mut stmt = conn.prepare_cached(
        "SELECT advisor_id FROM case_advisors WHERE case_id = ?1 ORDER BY advisor_id",
    )?;
    info.advisors = stmt
        .query_map([&id[..]], |r| id_from(r.get(0)?))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, sender FROM messages WHERE case_id = ?1 ORDER BY seq DESC LIMIT 1",
    )?;
    if let Some((seq, sender)) = stmt
        .query_row([&id[..]], |r| {
            Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?
    {
        info.message_count = seq.saturating_add(1);
        info.last_sender = Sender::parse(&sender);
    }
    Ok(info)
}

fn case_where(
    conn: &Connection,
    clause: &str,
    p: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<Option<CaseInfo>> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases c JOIN organisations o ON o.id = c.org_id WHERE {clause}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(p)?;
    match rows.next()? {
        Some(r) => Ok(Some(case_row(conn, r)?)),
        None => Ok(None),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `path`. On first start the
    /// instance row with a random proof-of-work key is created.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        // SQLite would create the file 0644 under the usual umask; `-wal` and `-shm` take the
        // database file's mode, so creating it owner-only covers them too.
        if path != Path::new(":memory:") {
            crate::private_file::create_if_missing(path).map_err(|e| {
                StoreError::Db(format!("cannot create {}: {e}", path.display()))
            })?;
        }
        let mut writer = Connection::open_with_flags(path, flags).map_err(db)?;
        let mode: String = writer
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Db(format!(
                "cannot enable WAL (journal_mode={mode})"
            )));
        }
        configure(&writer).map_err(db)?;
        migrate(&mut writer)?;
        writer.set_prepared_statement_cache_capacity(64);
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(db)?;
            configure(&conn).map_err(db)?;
            readers.push(Mutex::new(conn));
        }
        let (queue, rx) = sync_channel::<Box<dyn Op>>(QUEUE_DEPTH);
        let stats = Arc::new(WriterStats::default());
        let thread_stats = Arc::clone(&stats);
        let handle = std::thread::Builder::new()
            .name("meldpunt-db-writer".into())
            .spawn(move || writer_loop(writer, rx, thread_stats))
            .map_err(|e| StoreError::Db(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore {
            queue: Some(queue),
            writer: Some(handle),
            stats,
            readers,
            next_reader: AtomicUsize::new(0),
            quota: (AtomicU64::new(u64::MAX), AtomicU64::new(u64::MAX)),
        })
    }

    /// Counters of the writer thread.
    #[must_use]
    pub fn writer_stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Queues a write for the writer thread. `block`: wait for room when the queue is full
    /// (synchronous callers); otherwise a full queue answers `Busy` at once.
    fn submit<T, F>(&self, bytes: usize, block: bool, f: F) -> Pending<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let stopped = || StoreError::Db("the database writer has stopped".into());
        let Some(queue) = &self.queue else {
            return Pending::ready(Err(stopped()));
        };
        let (reply, pending) = oneshot::channel();
        let op: Box<dyn Op> = Box::new(TypedOp {
            f: Some(f),
            out: None,
            reply,
            bytes,
        });
        let sent = if block {
            queue.send(op).map_err(|_| stopped())
        } else {
            match queue.try_send(op) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(_)) => Err(StoreError::Busy),
                Err(TrySendError::Disconnected(_)) => Err(stopped()),
            }
        };
        match sent {
            Ok(()) => pending,
            Err(e) => Pending::ready(Err(e)),
        }
    }

    /// Runs `f` in the writer's next batch and waits until that batch is committed.
    fn tx<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.submit(0, true, f).wait()
    }

    /// [`Self::tx`] for an operation carrying `bytes` of payload.
    fn tx_sized<T: Send + 'static>(
        &self,
        bytes: usize,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.submit(bytes, true, f).wait()
    }

    /// Test hook: queues an operation that holds the writer (inside its transaction) until
    /// the returned sender is dropped or sent to, so that a test can make the writer take
    /// everything queued meanwhile as one batch. Returns once the writer is held.
    #[doc(hidden)]
    pub fn hold_writer(&self) -> StoreResult<std::sync::mpsc::Sender<()>> {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (held, is_held) = std::sync::mpsc::channel::<()>();
        let _pending = self.submit(0, true, move |_| {
            let _ = held.send(());
            let _ = wait.recv();
            Ok(())
        });
        is_held
            .recv()
            .map_err(|_| StoreError::Db("the database writer has stopped".into()))?;
        Ok(release)
    }

    /// Test hook: runs `sql` on the writer connection outside any batch (e.g.
    /// `PRAGMA max_page_count` to simulate a full disk).
    #[doc(hidden)]
    pub fn writer_pragma(&self, sql: &str) -> StoreResult<()> {
        let sql = sql.to_owned();
        // Runs inside a batch transaction; pragmas like max_page_count apply at once.
        self.tx(move |conn| conn.execute_batch(&sql).map_err(db))
    }

    fn read(&self) -> StoreResult<MutexGuard<'_, Connection>> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for i in 0..n {
            if let Some(m) = self.readers.get((start + i) % n)
                && let Ok(guard) = m.try_lock()
            {
                return Ok(guard);
            }
        }
        self.readers
            .get(start % n.max(1))
            .ok_or_else(|| StoreError::Db("no reader connections".into()))?
            .lock()
            .map_err(poisoned)
    }

    /// Schema version after migrations (for tests).
    pub fn schema_version(&self) -> StoreResult<u32> {
        self.read()?
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)
    }
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(db)
        .map(|v| usize::try_from(v).unwrap_or(0))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Db(format!(
            "database schema version {version} is newer than this server ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(db)?;
        tx.execute_batch(sql).map_err(db)?;
        tx.pragma_update(None, "user_version", i + 1).map_err(db)?;
        tx.commit().map_err(db)?;
    }
    let has_instance: bool = conn
        .query_row("SELECT EXISTS (SELECT 1 FROM instance)", [], |r| r.get(0))
        .map_err(db)?;
    if !has_instance {
        let mut key = [0u8; 32];
        meldpunt_crypto::rng::Rng::fill_bytes(&mut meldpunt_crypto::rng::os_rng(), &mut key);
        conn.execute(
            "INSERT INTO instance (id, pow_key, created_day) VALUES (1, ?1, ?2)",
            params![&key[..], Day::today().to_string()],
        )
        .map_err(db)?;
    }
    Ok(())
}

fn attachment_row_id(tx: &Connection, case: &Id, id: &Id, complete: bool) -> StoreResult<i64> {
    tx.query_row(
        "SELECT id FROM attachments WHERE case_id = ?1 AND public_id = ?2 AND complete = ?3",
        params![&case[..], &id[..], complete],
        |r| r.get(0),
    )
    .optional()
    .map_err(db)?
    .ok_or(StoreError::NotFound)
}

impl SqliteStore {
    fn caps(&self) -> Caps {
        Caps {
            case: self.quota.0.load(Ordering::Relaxed),
            org: self.quota.1.load(Ordering::Relaxed),
        }
    }
}

/// The storage quota of one write (`[quota]`).
#[derive(Debug, Clone, Copy)]
struct Caps {
    case: u64,
    org: u64,
}

fn sql_bytes(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Bytes an organisation holds: its cases' message envelopes and finished attachments.
fn org_used(tx: &Connection, org: i64) -> StoreResult<u64> {
    let used: i64 = tx
        .query_row(
            "SELECT (SELECT coalesce(sum(length(m.envelope)), 0) FROM messages m
                     JOIN cases c ON c.id = m.case_id WHERE c.org_id = ?1)
                  + (SELECT coalesce(sum(a.size), 0) FROM attachments a
                     JOIN cases c ON c.id = a.case_id WHERE c.org_id = ?1 AND a.complete = 1)",
            [org],
            |r| r.get(0),
        )
        .map_err(db)?;
    Ok(sql_bytes(used))
}

fn org_full(max: u64) -> StoreError {
    StoreError::Quota {
        code: "org_storage_full",
        message: format!(
            "this organisation's cases hold the most they may ({max} bytes); nothing was stored"
        ),
    }
}

fn case_full(max: u64) -> StoreError {
    StoreError::Quota {
        code: "case_full",
        message: format!(
            "this case holds the most it may ({max} bytes of messages and attachments); nothing was stored"
        ),
    }
}

/// Refuses a write of `extra` more bytes to `case` past the case's or its organisation's
/// quota. Runs in the write's own transaction (one writer), so no two writes both pass.
fn check_quota(tx: &Connection, case: &Id, extra: u64, caps: Caps) -> StoreResult<()> {
    if caps.case == u64::MAX && caps.org == u64::MAX {
        return Ok(());
    }
    let row: Option<(i64, i64)> = tx
        .query_row(
            "SELECT org_id,
                    (SELECT coalesce(sum(length(envelope)), 0) FROM messages WHERE case_id = ?1)
                  + (SELECT coalesce(sum(size), 0) FROM attachments WHERE case_id = ?1 AND complete = 1)
             FROM cases WHERE id = ?1",
            [&case[..]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db)?;
    let Some((org, used)) = row else {
        return Err(StoreError::NotFound);
    };
    if sql_bytes(used).saturating_add(extra) > caps.case {
        return Err(case_full(caps.case));
    }
    if caps.org != u64::MAX && org_used(tx, org)?.saturating_add(extra) > caps.org {
        return Err(org_full(caps.org));
    }
    Ok(())
}

impl Store for SqliteStore {
    fn set_quota(&self, case_bytes: u64, org_bytes: u64) {
        self.quota.0.store(case_bytes, Ordering::Relaxed);
        self.quota.1.store(org_bytes, Ordering::Relaxed);
    }

    fn pow_key(&self) -> StoreResult<[u8; 32]> {
        let key: Vec<u8> = self
            .read()?
            .query_row("SELECT pow_key FROM instance WHERE id = 1", [], |r| {
                r.get(0)
            })
            .map_err(db)?;
        key.try_into()
            .map_err(|_| StoreError::Db("bad pow key".into()))
    }

    fn create_org(&self, slug: &str, name: &str) -> StoreResult<i64> {
        let (slug, name) = (slug.to_owned(), name.to_owned());
        self.tx(move |tx| {
            match tx.execute(
                "INSERT INTO organisations (slug, name) VALUES (?1, ?2)",
                params![slug, name],
            ) {
                Ok(_) => Ok(tx.last_insert_rowid()),
                Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                    "organisation `{slug}` exists"
                ))),
                Err(e) => Err(db(e)),
            }
        })
    }

    fn update_org(&self, slug: &str, u: &OrgUpdate) -> StoreResult<()> {
        let categories = u.categories.as_ref().map(to_json).transpose()?;
        let languages = u.languages.as_ref().map(to_json).transpose()?;
        let (slug, u) = (slug.to_owned(), u.clone());
        self.tx(move |tx| {
            let n = tx
                .execute(
                    "UPDATE organisations SET
                        name = coalesce(?2, name),
                        intro_nl = coalesce(?3, intro_nl), intro_en = coalesce(?4, intro_en),
                        conduct_nl = coalesce(?5, conduct_nl), conduct_en = coalesce(?6, conduct_en),
                        categories = coalesce(?7, categories),
                        retention_days = coalesce(?8, retention_days),
                        languages = coalesce(?9, languages)
                     WHERE slug = ?1",
                    params![
                        slug, u.name, u.intro_nl, u.intro_en, u.conduct_nl, u.conduct_en,
                        categories, u.retention_days, languages
                    ],
                )
                .map_err(db)?;
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
    }

    fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Organisation>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {ORG_COLUMNS} FROM organisations WHERE slug = ?1"
            ))
            .map_err(db)?;
        stmt.query_row([slug], org_row).optional().map_err(db)
    }

    fn org_by_id(&self, id: i64) -> StoreResult<Option<Organisation>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {ORG_COLUMNS} FROM organisations WHERE id = ?1"
            ))
            .map_err(db)?;
        stmt.query_row([id], org_row).optional().map_err(db)
    }

    fn list_orgs(&self) -> StoreResult<Vec<Organisation>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {ORG_COLUMNS} FROM organisations ORDER BY slug"
            ))
            .map_err(db)?;
        let rows = stmt.query_map([], org_row).map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn create_invite(
        &self,
        code_hash: [u8; 32],
        scope: InviteScope,
        expires_at: i64,
    ) -> StoreResult<()> {
        self.tx(move |tx| {
            tx.execute(
                "INSERT INTO invites (code_hash, org_id, external, expires_at, appointed_by) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![&code_hash[..], scope.org_id, scope.external, expires_at, scope.appointed_by.as_str()],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn register_advisor(
        &self,
        code_hash: [u8; 32],
        now: i64,
        a: &NewAdvisor,
        bundle: &StoredBundle,
    ) -> StoreResult<Advisor> {
        let (a, bundle) = (a.clone(), bundle.clone());
        self.tx(move |tx| {
            let invite: Option<(Option<i64>, bool, String)> = tx
                .query_row(
                    "SELECT org_id, external, appointed_by FROM invites WHERE code_hash = ?1 AND expires_at > ?2",
                    params![&code_hash[..], now],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(db)?;
            let (org_id, external, appointed_by) = invite.ok_or(StoreError::NotFound)?;
            let appointed_by = Appointer::parse(&appointed_by)
                .ok_or_else(|| StoreError::Db("bad appointed_by".into()))?;
            let appointed_on = Day::today();
            tx.execute("DELETE FROM invites WHERE code_hash = ?1", [&code_hash[..]]).map_err(db)?;
            let (photo, photo_type) = match &a.photo {
                Some((bytes, t)) => (Some(bytes.as_slice()), Some(t.as_str())),
                None => (None, None),
            };
            let external = external || org_id.is_none();
            let r = tx.execute(
                "INSERT INTO advisors (id, org_id, identity_pk, display_name, bio, photo, photo_type, external, languages, appointed_by, appointed_on)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    &a.id[..], org_id, &a.identity_pk[..], a.display_name, a.bio, photo, photo_type,
                    external, to_json(&a.languages)?, appointed_by.as_str(), appointed_on.to_string()
                ],
            );
            match r {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict("identity key already registered".into()));
                }
                Err(e) => return Err(db(e)),
            }
            insert_bundle(tx, &a.id, &bundle)?;
            insert_event(tx, EventKind::Joined, Some(&a.id), &a.display_name, org_id, Some(appointed_by))?;
            Ok(Advisor {
                id: a.id,
                org_id,
                identity_pk: a.identity_pk,
                display_name: a.display_name.clone(),
                bio: a.bio.clone(),
                photo: a.photo.clone(),
                external,
                languages: a.languages.clone(),
                appointed_by,
                appointed_on,
            })
        })
    }

    fn advisor(&self, id: &Id) -> StoreResult<Option<AdvisorKeys>> {
        let conn = self.read()?;
        let advisor = conn
            .prepare_cached(&format!(
                "SELECT {ADVISOR_COLUMNS} FROM advisors WHERE id = ?1"
            ))
            .map_err(db)?
            .query_row([&id[..]], advisor_row)
            .optional()
            .map_err(db)?;
        advisor.map(|a| keys_of(&conn, a)).transpose().map_err(db)
    }

    fn advisor_by_identity(&self, pk: &[u8; 32]) -> StoreResult<Option<Advisor>> {
        let conn = self.read()?;
        conn.prepare_cached(&format!(
            "SELECT {ADVISOR_COLUMNS} FROM advisors WHERE identity_pk = ?1"
        ))
        .map_err(db)?
        .query_row([&pk[..]], advisor_row)
        .optional()
        .map_err(db)
    }

    fn advisors_for_org(&self, org_id: i64) -> StoreResult<Vec<AdvisorKeys>> {
        let conn = self.read()?;
        let advisors = conn
            .prepare_cached(&format!(
                "SELECT {ADVISOR_COLUMNS} FROM advisors WHERE org_id = ?1 OR org_id IS NULL
                 ORDER BY org_id IS NULL, display_name, id"
            ))
            .map_err(db)?
            .query_map([org_id], advisor_row)
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)?;
        advisors
            .into_iter()
            .map(|a| keys_of(&conn, a))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)
    }

    fn add_bundle(&self, advisor: &Id, bundle: &StoredBundle) -> StoreResult<()> {
        let (advisor, bundle) = (*advisor, bundle.clone());
        self.tx(move |tx| insert_bundle(tx, &advisor, &bundle))
    }

    fn add_revocation(&self, advisor: &Id, rev: &StoredRevocation) -> StoreResult<()> {
        let (advisor, rev) = (*advisor, rev.clone());
        self.tx(move |tx| {
            let owner: Option<Vec<u8>> = tx
                .query_row(
                    "SELECT advisor_id FROM key_bundles WHERE key_id = ?1",
                    [&rev.key_id[..]],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            if owner.as_deref() != Some(&advisor[..]) {
                return Err(StoreError::NotFound);
            }
            match tx.execute(
                "INSERT INTO revocations (key_id, statement, revoked_at) VALUES (?1, ?2, ?3)",
                params![&rev.key_id[..], rev.bytes, rev.revoked_at],
            ) {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => {
                    Err(StoreError::Conflict("key already revoked".into()))
                }
                Err(e) => Err(db(e)),
            }
        })
    }

    fn create_session(
        &self,
        token_hash: [u8; 32],
        advisor: &Id,
        expires_at: i64,
    ) -> StoreResult<()> {
        let advisor = *advisor;
        self.tx(move |tx| {
            tx.execute(
                "INSERT INTO sessions (token_hash, advisor_id, expires_at) VALUES (?1, ?2, ?3)",
                params![&token_hash[..], &advisor[..], expires_at],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &[u8; 32], now: i64) -> StoreResult<Option<Id>> {
        let conn = self.read()?;
        let id: Option<Vec<u8>> = conn
            .prepare_cached(
                "SELECT advisor_id FROM sessions WHERE token_hash = ?1 AND expires_at > ?2",
            )
            .map_err(db)?
            .query_row(params![&token_hash[..], now], |r| r.get(0))
            .optional()
            .map_err(db)?;
        id.map(id_from).transpose().map_err(db)
    }

    fn delete_session(&self, token_hash: &[u8; 32]) -> StoreResult<()> {
        let token_hash = *token_hash;
        self.tx(move |tx| {
            tx.execute(
                "DELETE FROM sessions WHERE token_hash = ?1",
                [&token_hash[..]],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn create_case(&self, c: &NewCase) -> StoreResult<()> {
        let c = c.clone();
        let caps = self.caps();
        self.tx_sized(c.envelope.len(), move |tx| insert_case(tx, &c, caps))
    }

    fn create_case_queued(&self, c: NewCase) -> Pending<()> {
        let caps = self.caps();
        self.submit(c.envelope.len(), false, move |tx| insert_case(tx, &c, caps))
    }

    fn case_by_token(&self, token_hash: &[u8; 32]) -> StoreResult<Option<CaseInfo>> {
        // The unique index finds the row (its timing can only tell about the hash, which
        // reveals nothing about the token); the stored hash is then compared in constant time.
        let conn = self.read()?;
        let stored: Option<Vec<u8>> = conn
            .prepare_cached("SELECT token_hash FROM cases WHERE token_hash = ?1")
            .map_err(db)?
            .query_row([&token_hash[..]], |r| r.get(0))
            .optional()
            .map_err(db)?;
        let Some(stored) = stored.and_then(|s| <[u8; 32]>::try_from(s).ok()) else {
            return Ok(None);
        };
        if !meldpunt_crypto::pickup::token_hash_eq(&stored, token_hash) {
            return Ok(None);
        }
        case_where(&conn, "c.token_hash = ?1", &[&&stored[..]]).map_err(db)
    }

    fn case_for_advisor(&self, case: &Id, advisor: &Id) -> StoreResult<Option<CaseInfo>> {
        let conn = self.read()?;
        case_where(
            &conn,
            "c.id = ?1 AND EXISTS (SELECT 1 FROM case_advisors a WHERE a.case_id = c.id AND a.advisor_id = ?2)",
            &[&&case[..], &&advisor[..]],
        )
        .map_err(db)
    }

    fn inbox(&self, advisor: &Id) -> StoreResult<Vec<CaseInfo>> {
        let conn = self.read()?;
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases c JOIN organisations o ON o.id = c.org_id
             JOIN case_advisors a ON a.case_id = c.id WHERE a.advisor_id = ?1
             ORDER BY c.created_day DESC, c.id"
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
        let mut rows = stmt.query([&advisor[..]]).map_err(db)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            out.push(case_row(&conn, r).map_err(db)?);
        }
        Ok(out)
    }

    fn messages(&self, case: &Id) -> StoreResult<Vec<MessageRow>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached("SELECT seq, sender, created_day, envelope FROM messages WHERE case_id = ?1 ORDER BY seq")
            .map_err(db)?;
        let rows = stmt
            .query_map([&case[..]], |r| {
                let sender: String = r.get(1)?;
                Ok(MessageRow {
                    seq: r.get(0)?,
                    sender: Sender::parse(&sender).ok_or_else(|| {
                        rusqlite::Error::InvalidColumnType(
                            1,
                            "sender".into(),
                            rusqlite::types::Type::Text,
                        )
                    })?,
                    created: day_from(&r.get::<_, String>(2)?)?,
                    envelope: r.get(3)?,
                })
            })
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn add_message(
        &self,
        case: &Id,
        sender: Sender,
        envelope: &[u8],
        day: Day,
        max: u32,
    ) -> StoreResult<u32> {
        let day = day.to_string();
        let (case, envelope) = (*case, envelope.to_vec());
        let caps = self.caps();
        self.tx_sized(envelope.len(), move |tx| {
            check_quota(tx, &case, envelope.len() as u64, caps)?;
            append_message(tx, &case, sender, &envelope, &day, max)
        })
    }

    fn set_status(&self, case: &Id, status: Status, day: Day) -> StoreResult<()> {
        let day = day.to_string();
        let case = *case;
        self.tx(move |tx| {
            let n = tx
                .execute(
                    "UPDATE cases SET status = ?2, updated_day = ?3,
                        acknowledged_day = CASE WHEN ?2 <> 'new' THEN coalesce(acknowledged_day, ?3) ELSE acknowledged_day END,
                        closed_day = CASE WHEN ?2 = 'closed' THEN ?3 ELSE NULL END,
                        delete_day = CASE WHEN ?2 = 'closed' THEN date(?3, '+' || (
                            SELECT o.retention_days FROM organisations o WHERE o.id = cases.org_id
                        ) || ' days') ELSE NULL END
                     WHERE id = ?1",
                    params![&case[..], status.as_str(), day],
                )
                .map_err(db)?;
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
    }

    fn share_case(
        &self,
        case: &Id,
        advisor: &Id,
        stanzas: &[DetachedStanza],
        statement: &[u8],
        day: Day,
        max_messages: u32,
    ) -> StoreResult<u32> {
        let day = day.to_string();
        let (case, advisor, stanzas, statement) =
            (*case, *advisor, stanzas.to_vec(), statement.to_vec());
        let bytes = statement.len() + stanzas.len() * 96;
        self.tx_sized(bytes, move |tx| {
            let messages: Vec<(i64, u32)> = tx
                .prepare_cached("SELECT id, seq FROM messages WHERE case_id = ?1 ORDER BY seq")
                .map_err(db)?
                .query_map([&case[..]], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            if messages.is_empty() {
                return Err(StoreError::NotFound);
            }
            let attachments: Vec<(i64, Vec<u8>)> = tx
                .prepare_cached("SELECT id, public_id FROM attachments WHERE case_id = ?1 AND complete = 1")
                .map_err(db)?
                .query_map([&case[..]], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            let mut targets: Vec<(Option<i64>, Option<i64>, &[u8])> = Vec::with_capacity(stanzas.len());
            for s in &stanzas {
                match &s.target {
                    StanzaTarget::Message(seq) => {
                        let (row, _) = messages.iter().find(|(_, q)| q == seq).ok_or_else(|| {
                            StoreError::Conflict(format!("message {seq} does not exist"))
                        })?;
                        targets.push((Some(*row), None, &s.stanza));
                    }
                    StanzaTarget::Attachment(id) => {
                        let (row, _) = attachments.iter().find(|(_, p)| p[..] == id[..]).ok_or_else(|| {
                            StoreError::Conflict("attachment does not exist".into())
                        })?;
                        targets.push((None, Some(*row), &s.stanza));
                    }
                }
            }
            // Exactly one stanza per message and attachment.
            let mut seen_m: Vec<i64> = targets.iter().filter_map(|t| t.0).collect();
            let mut seen_a: Vec<i64> = targets.iter().filter_map(|t| t.1).collect();
            seen_m.sort_unstable();
            seen_m.dedup();
            seen_a.sort_unstable();
            seen_a.dedup();
            if seen_m.len() != messages.len()
                || seen_a.len() != attachments.len()
                || seen_m.len() + seen_a.len() != targets.len()
            {
                return Err(StoreError::Conflict(
                    "stanzas must cover every message and attachment exactly once".into(),
                ));
            }
            tx.execute(
                "INSERT OR IGNORE INTO case_advisors (case_id, advisor_id) VALUES (?1, ?2)",
                params![&case[..], &advisor[..]],
            )
            .map_err(db)?;
            // Only ever added: a stanza already stored for this advisor and target (the same
            // bytes) is not stored twice; none is removed or replaced.
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO detached_stanzas (case_id, advisor_id, message_id, attachment_id, stanza)
                     SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (
                         SELECT 1 FROM detached_stanzas WHERE case_id = ?1 AND advisor_id = ?2
                         AND message_id IS ?3 AND attachment_id IS ?4 AND stanza = ?5)",
                )
                .map_err(db)?;
            for (m, a, stanza) in targets {
                ins.execute(params![&case[..], &advisor[..], m, a, stanza]).map_err(db)?;
            }
            append_message(tx, &case, Sender::Advisor, &statement, &day, max_messages)
        })
    }

    fn remove_from_case(
        &self,
        case: &Id,
        advisor: &Id,
        statement: &[u8],
        day: Day,
        max_messages: u32,
    ) -> StoreResult<Removal> {
        let day = day.to_string();
        let (case, advisor, statement) = (*case, *advisor, statement.to_vec());
        self.tx_sized(statement.len(), move |tx| {
            let on: Vec<Vec<u8>> = tx
                .prepare_cached("SELECT advisor_id FROM case_advisors WHERE case_id = ?1")
                .map_err(db)?
                .query_map([&case[..]], |r| r.get(0))
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            if !on.iter().any(|a| a[..] == advisor[..]) {
                return Ok(Removal::NotOnCase);
            }
            if on.len() <= 1 {
                return Ok(Removal::LastAdvisor);
            }
            let seq = append_message(tx, &case, Sender::Advisor, &statement, &day, max_messages)?;
            tx.execute(
                "DELETE FROM case_advisors WHERE case_id = ?1 AND advisor_id = ?2",
                params![&case[..], &advisor[..]],
            )
            .map_err(db)?;
            Ok(Removal::Removed(seq))
        })
    }

    fn advisor_events(&self, advisor: &Id, limit: u32) -> StoreResult<Vec<AdvisorEvent>> {
        let conn = self.read()?;
        let org: Option<Option<i64>> = conn
            .prepare_cached("SELECT org_id FROM advisors WHERE id = ?1")
            .map_err(db)?
            .query_row([&advisor[..]], |r| r.get(0))
            .optional()
            .map_err(db)?;
        let Some(org) = org else {
            return Ok(Vec::new());
        };
        // An organisation's advisor: its organisation's events and those of branch-wide
        // advisors. A branch-wide advisor: every event. Never the advisor's own.
        let mut stmt = conn
            .prepare_cached(
                "SELECT e.kind, e.subject, e.display_name, o.slug, e.appointed_by, e.day
                 FROM advisor_events e LEFT JOIN organisations o ON o.id = e.org_id
                 WHERE (?1 IS NULL OR e.org_id IS NULL OR e.org_id = ?1)
                   AND (e.subject IS NULL OR e.subject <> ?2)
                 ORDER BY e.id DESC LIMIT ?3",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![org, &advisor[..], limit], |r| {
                let kind: String = r.get(0)?;
                let subject: Option<Vec<u8>> = r.get(1)?;
                let appointed: Option<String> = r.get(4)?;
                Ok(AdvisorEvent {
                    kind: EventKind::parse(&kind).ok_or_else(|| {
                        rusqlite::Error::InvalidColumnType(
                            0,
                            "kind".into(),
                            rusqlite::types::Type::Text,
                        )
                    })?,
                    advisor: subject.map(id_from).transpose()?,
                    display_name: r.get(2)?,
                    org: r.get(3)?,
                    appointed_by: appointed.as_deref().and_then(Appointer::parse),
                    day: day_from(&r.get::<_, String>(5)?)?,
                })
            })
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn event_recipients(&self, org: Option<i64>, subject: Option<Id>) -> StoreResult<Vec<Id>> {
        let conn = self.read()?;
        let subject = subject.map(|s| s.to_vec());
        let mut stmt = conn
            .prepare_cached(
                "SELECT id FROM advisors WHERE suspended = 0
                   AND (?1 IS NULL OR org_id IS NULL OR org_id = ?1)
                   AND (?2 IS NULL OR id <> ?2)",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![org, subject], |r| id_from(r.get(0)?))
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn detached_stanzas(&self, case: &Id, advisor: &Id) -> StoreResult<Vec<DetachedStanza>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT m.seq, a.public_id, s.stanza FROM detached_stanzas s
                 LEFT JOIN messages m ON m.id = s.message_id
                 LEFT JOIN attachments a ON a.id = s.attachment_id
                 WHERE s.case_id = ?1 AND s.advisor_id = ?2 ORDER BY s.id",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![&case[..], &advisor[..]], |r| {
                let seq: Option<u32> = r.get(0)?;
                let att: Option<Vec<u8>> = r.get(1)?;
                let target = match (seq, att) {
                    (Some(seq), _) => StanzaTarget::Message(seq),
                    (None, Some(a)) => StanzaTarget::Attachment(id_from(a)?),
                    (None, None) => {
                        return Err(rusqlite::Error::InvalidColumnType(
                            0,
                            "target".into(),
                            rusqlite::types::Type::Null,
                        ));
                    }
                };
                Ok(DetachedStanza {
                    target,
                    stanza: r.get(2)?,
                })
            })
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn begin_attachment(
        &self,
        case: &Id,
        id: &Id,
        sender: Sender,
        day: Day,
        max_count: u32,
    ) -> StoreResult<()> {
        let (case, id) = (*case, *id);
        let caps = self.caps();
        self.tx(move |tx| {
            // A full case takes no upload at all (the size is checked again at the end).
            check_quota(tx, &case, 1, caps)?;
            let count: u32 = tx
                .query_row("SELECT count(*) FROM attachments WHERE case_id = ?1", [&case[..]], |r| r.get(0))
                .map_err(db)?;
            if count >= max_count {
                return Err(StoreError::Limit(format!("a case holds at most {max_count} attachments")));
            }
            match tx.execute(
                "INSERT INTO attachments (case_id, public_id, sender, created_day) VALUES (?1, ?2, ?3, ?4)",
                params![&case[..], &id[..], sender.as_str(), day.to_string()],
            ) {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("attachment id already used".into())),
                Err(e) => Err(db(e)),
            }
        })
    }

    fn append_attachment_chunk(
        &self,
        case: &Id,
        id: &Id,
        seq: u32,
        data: &[u8],
    ) -> StoreResult<()> {
        let (case, id, data) = (*case, *id, data.to_vec());
        self.tx_sized(data.len(), move |tx| {
            let row = attachment_row_id(tx, &case, &id, false)?;
            tx.execute(
                "INSERT INTO attachment_chunks (attachment_id, seq, data) VALUES (?1, ?2, ?3)",
                params![row, seq, data],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn finish_attachment(
        &self,
        case: &Id,
        id: &Id,
        size: u64,
        chunks: u32,
        max_case_bytes: u64,
    ) -> StoreResult<()> {
        let (case, id) = (*case, *id);
        let caps = self.caps();
        self.tx(move |tx| {
            let row = attachment_row_id(tx, &case, &id, false)?;
            check_quota(tx, &case, size, caps)?;
            let stored: u32 = tx
                .query_row("SELECT count(*) FROM attachment_chunks WHERE attachment_id = ?1", [row], |r| r.get(0))
                .map_err(db)?;
            if stored != chunks {
                return Err(StoreError::Db("chunk count mismatch".into()));
            }
            let used: i64 = tx
                .query_row(
                    "SELECT coalesce(sum(size), 0) FROM attachments WHERE case_id = ?1 AND complete = 1",
                    [&case[..]],
                    |r| r.get(0),
                )
                .map_err(db)?;
            let used = u64::try_from(used).unwrap_or(0);
            if used.saturating_add(size) > max_case_bytes {
                return Err(StoreError::Limit(format!("a case holds at most {max_case_bytes} bytes of attachments")));
            }
            let size = i64::try_from(size).map_err(|_| StoreError::Limit("too large".into()))?;
            tx.execute(
                "UPDATE attachments SET size = ?2, chunks = ?3, complete = 1 WHERE id = ?1",
                params![row, size, chunks],
            )
            .map_err(db)?;
            tx.execute(
                "UPDATE cases SET updated_day = (SELECT created_day FROM attachments WHERE id = ?2) WHERE id = ?1",
                params![&case[..], row],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn abort_attachment(&self, case: &Id, id: &Id) -> StoreResult<()> {
        let (case, id) = (*case, *id);
        self.tx(move |tx| {
            tx.execute(
                "DELETE FROM attachments WHERE case_id = ?1 AND public_id = ?2 AND complete = 0",
                params![&case[..], &id[..]],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn attachments(&self, case: &Id) -> StoreResult<Vec<AttachmentInfo>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT public_id, sender, created_day, size, chunks FROM attachments
                 WHERE case_id = ?1 AND complete = 1 ORDER BY id",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([&case[..]], attachment_info_row)
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    fn attachment(&self, case: &Id, id: &Id) -> StoreResult<Option<AttachmentInfo>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT public_id, sender, created_day, size, chunks FROM attachments
                 WHERE case_id = ?1 AND public_id = ?2 AND complete = 1",
            )
            .map_err(db)?;
        stmt.query_row(params![&case[..], &id[..]], attachment_info_row)
            .optional()
            .map_err(db)
    }

    fn attachment_chunk(&self, case: &Id, id: &Id, seq: u32) -> StoreResult<Option<Vec<u8>>> {
        let conn = self.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT c.data FROM attachment_chunks c JOIN attachments a ON a.id = c.attachment_id
                 WHERE a.case_id = ?1 AND a.public_id = ?2 AND a.complete = 1 AND c.seq = ?3",
            )
            .map_err(db)?;
        stmt.query_row(params![&case[..], &id[..], seq], |r| r.get(0))
            .optional()
            .map_err(db)
    }

    fn purge(&self, today: Day, now: i64, all_uploads: bool) -> StoreResult<Purged> {
        // Cases closed longer than their organisation's retention, with everything in them:
        // a few cases per write batch (`maint::purge_cases`).
        let cases = maint::purge_cases(self, today)?;
        self.tx(move |tx| {
            let mut purged = cases;
            purged.sessions = tx
                .execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])
                .map_err(db)? as u64;
            purged.invites = tx
                .execute("DELETE FROM invites WHERE expires_at <= ?1", [now])
                .map_err(db)? as u64;
            let oldest = today
                .plus_days(-i64::from(super::EVENT_RETENTION_DAYS))
                .to_string();
            purged.events = tx
                .execute("DELETE FROM advisor_events WHERE day < ?1", [oldest])
                .map_err(db)? as u64;
            if all_uploads {
                purged.uploads = tx
                    .execute("DELETE FROM attachments WHERE complete = 0", [])
                    .map_err(db)? as u64;
            }
            Ok(purged)
        })
    }

    fn backup(&self, path: &Path) -> StoreResult<()> {
        let conn = self.read()?;
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Db("backup path is not UTF-8".into()))?;
        // An empty owner-only file first (VACUUM INTO fills an empty file), so that the
        // backup is not readable by others.
        crate::private_file::create_new(path)
            .map_err(|e| StoreError::Db(format!("cannot create {}: {e}", path.display())))?;
        if let Err(e) = conn.execute("VACUUM INTO ?1", [target]) {
            let _ = std::fs::remove_file(path);
            return Err(db(e));
        }
        Ok(())
    }

    fn vacuum(&self, step_pages: u32) -> StoreResult<Vacuumed> {
        maint::vacuum(self, step_pages)
    }

    fn checkpoint(&self) -> StoreResult<bool> {
        maint::checkpoint(self)
    }

    fn notify_email(&self, advisor: &Id) -> StoreResult<Option<String>> {
        maint::notify_email(self, advisor)
    }

    fn set_notify_email(&self, advisor: &Id, email: Option<&str>) -> StoreResult<()> {
        maint::set_notify_email(self, advisor, email)
    }
}

fn attachment_info_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AttachmentInfo> {
    let sender: String = r.get(1)?;
    Ok(AttachmentInfo {
        id: id_from(r.get(0)?)?,
        sender: Sender::parse(&sender).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(1, "sender".into(), rusqlite::types::Type::Text)
        })?,
        created: day_from(&r.get::<_, String>(2)?)?,
        size: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        chunks: r.get(4)?,
    })
}

/// A new case, its advisors and its first message (inside the caller's transaction).
fn insert_case(tx: &Connection, c: &NewCase, caps: Caps) -> StoreResult<()> {
    let day = c.day.to_string();
    let size = c.envelope.len() as u64;
    if size > caps.case {
        return Err(case_full(caps.case));
    }
    if caps.org != u64::MAX && org_used(tx, c.org_id)?.saturating_add(size) > caps.org {
        return Err(org_full(caps.org));
    }
    match tx
        .prepare_cached(
            "INSERT INTO cases (id, org_id, token_hash, status, created_day, updated_day)
             VALUES (?1, ?2, ?3, 'new', ?4, ?4)",
        )
        .and_then(|mut st| st.execute(params![&c.id[..], c.org_id, &c.token_hash[..], day]))
    {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Conflict("a case with this token exists".into()));
        }
        Err(e) => return Err(db(e)),
    }
    let mut st = tx
        .prepare_cached("INSERT OR IGNORE INTO case_advisors (case_id, advisor_id) VALUES (?1, ?2)")
        .map_err(db)?;
    for a in &c.advisors {
        st.execute(params![&c.id[..], &a[..]]).map_err(db)?;
    }
    tx.prepare_cached(
        "INSERT INTO messages (case_id, seq, sender, created_day, envelope) VALUES (?1, 0, 'reporter', ?2, ?3)",
    )
    .and_then(|mut st| st.execute(params![&c.id[..], day, c.envelope]))
    .map_err(db)?;
    Ok(())
}

fn insert_bundle(tx: &Connection, advisor: &Id, b: &StoredBundle) -> StoreResult<()> {
    match tx.execute(
        "INSERT INTO key_bundles (key_id, advisor_id, bundle, not_before, not_after) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![&b.key_id[..], &advisor[..], b.bytes, b.not_before, b.not_after],
    ) {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("key id already published".into())),
        Err(e) => Err(db(e)),
    }
}
