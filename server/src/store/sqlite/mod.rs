//! The SQLite backend: one file holds everything, attachments included (as chunk rows), so one
//! online backup captures a consistent state.
//!
//! Connections: one writer connection owned by a dedicated writer thread, and a few readers,
//! which WAL lets run beside the writer. Every connection runs with `foreign_keys=ON`,
//! `secure_delete=ON` (deleted cases are overwritten, not just unlinked) and
//! `synchronous=FULL` (a write the client saw succeed survives a power cut).
//!
//! **Group commit.** A write is an operation (a closure over the connection) sent to the
//! writer thread over a bounded channel, with a reply channel ([`writer::Reply`]: a
//! `tokio::sync::oneshot` for [`Pending`], a `std::sync::mpsc` one for blocking callers).
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

//!
//! Layout: [`writer`] (the group commit), [`migrations`] (the schema, as `.sql` files),
//! [`store_impl`] (the [`Store`] methods: which connection, which entity module), one module
//! per entity holding its rows and statements ([`orgs`], [`advisors`], [`sessions`],
//! [`cases`], [`messages`], [`attachments`], [`events`], [`quota`]), the administration side
//! in [`admin`] and the file operations (purge batches, vacuum, backup) in [`maint`].

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};

use super::{Pending, StoreError, StoreResult};
use writer::{Op, QUEUE_DEPTH, Reply, TypedOp, writer_loop};

mod admin;
mod admin_rows;
mod advisors;
mod attachments;
mod cases;
mod events;
pub mod maint;
mod messages;
#[cfg(test)]
mod migration_tests;
mod migrations;
mod orgs;
mod quota;
mod rows;
mod sessions;
mod store_impl;
mod writer;

pub use writer::{MAX_BATCH_BYTES, MAX_BATCH_OPS, WriterStats};

use migrations::MIGRATIONS;
use rows::db;

/// Number of reader connections.
const READERS: usize = 4;

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
        migrations::migrate(&mut writer)?;
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

    /// Queues a write for the writer thread, answered to `reply`. `block`: wait for room
    /// when the queue is full (synchronous callers); otherwise a full queue answers `Busy`.
    fn submit<T, F>(&self, bytes: usize, block: bool, reply: Reply<T>, f: F) -> StoreResult<()>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let queue = self.queue.as_ref().ok_or_else(stopped)?;
        let op: Box<dyn Op> = Box::new(TypedOp {
            f: Some(f),
            out: None,
            reply,
            bytes,
        });
        if block {
            queue.send(op).map_err(|_| stopped())
        } else {
            match queue.try_send(op) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(_)) => Err(StoreError::Busy),
                Err(TrySendError::Disconnected(_)) => Err(stopped()),
            }
        }
    }

    /// Queues a write without waiting for room or for its commit: the [`Pending`] resolves
    /// once it is durable (or failed).
    fn queued<T, F>(&self, bytes: usize, f: F) -> Pending<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, rx) = tokio::sync::oneshot::channel();
        match self.submit(bytes, false, Reply::Queued(reply), f) {
            Ok(()) => Pending::waiting(rx),
            Err(e) => Pending::ready(Err(e)),
        }
    }

    /// Runs `f` in the writer's next batch and waits until that batch is committed.
    fn tx<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.tx_sized(0, f)
    }

    /// [`Self::tx`] for an operation carrying `bytes` of payload.
    fn tx_sized<T: Send + 'static>(
        &self,
        bytes: usize,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (reply, answer) = sync_channel(1);
        self.submit(bytes, true, Reply::Blocking(reply), f)?;
        answer.recv().unwrap_or_else(|_| Err(super::pending::stopped()))
    }

    /// Test hook: queues an operation that holds the writer (inside its transaction) until
    /// the returned sender is dropped or sent to, so that a test can make the writer take
    /// everything queued meanwhile as one batch. Returns once the writer is held.
    #[doc(hidden)]
    pub fn hold_writer(&self) -> StoreResult<std::sync::mpsc::Sender<()>> {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (held, is_held) = std::sync::mpsc::channel::<()>();
        let (reply, _answer) = sync_channel(1);
        self.submit(0, true, Reply::Blocking(reply), move |_| {
            let _ = held.send(());
            let _ = wait.recv();
            Ok(())
        })?;
        is_held.recv().map_err(|_| stopped())?;
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

/// The writer thread is gone (the store is being dropped).
fn stopped() -> StoreError {
    StoreError::Db("the database writer has stopped".into())
}

impl SqliteStore {
    fn caps(&self) -> quota::Caps {
        quota::Caps {
            case: self.quota.0.load(Ordering::Relaxed),
            org: self.quota.1.load(Ordering::Relaxed),
        }
    }
}
