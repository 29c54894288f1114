//! The group-commit writer: one thread owns the writer connection and runs queued write
//! operations in batches, one transaction (one fsync) per batch, each operation inside its own
//! savepoint (see the parent module).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::{StoreError, StoreResult};

/// Most operations committed in one transaction.
pub const MAX_BATCH_OPS: usize = 256;
/// Payload bytes (envelopes, chunks) after which no more operations join a batch.
pub const MAX_BATCH_BYTES: usize = 4 << 20;
/// Queued operations beyond which queued (async) writes answer `Busy` at once and
/// synchronous writes wait for room.
pub(super) const QUEUE_DEPTH: usize = 1024;

/// One write operation as the writer thread sees it.
pub(super) trait Op: Send {
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

/// Where an operation's result goes: an async caller's [`crate::store::Pending`], or a
/// thread blocked in a synchronous store call. A caller gone meanwhile is not an error.
pub(super) enum Reply<T> {
    /// Awaited (`Store::create_case_queued`).
    Queued(oneshot::Sender<StoreResult<T>>),
    /// Waited for on the calling thread.
    Blocking(SyncSender<StoreResult<T>>),
}

impl<T> Reply<T> {
    fn send(self, value: StoreResult<T>) {
        match self {
            Reply::Queued(tx) => {
                let _ = tx.send(value);
            }
            Reply::Blocking(tx) => {
                let _ = tx.send(value);
            }
        }
    }
}

pub(super) struct TypedOp<T, F> {
    pub(super) f: Option<F>,
    pub(super) out: Option<StoreResult<T>>,
    pub(super) reply: Reply<T>,
    pub(super) bytes: usize,
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

impl std::fmt::Debug for dyn Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Op")
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

pub(super) fn writer_loop(conn: Connection, queue: Receiver<Box<dyn Op>>, stats: Arc<WriterStats>) {
    let mut batch: Vec<Box<dyn Op>> = Vec::with_capacity(MAX_BATCH_OPS);
    let mut held: Option<Box<dyn Op>> = None;
    while let Some(first) = held.take().or_else(|| queue.recv().ok()) {
        if first.alone() {
            run_alone(&conn, first);
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

/// An operation that runs alone, outside any transaction, between two batches.
pub(super) struct Alone<O>(pub(super) O);

impl<O: Op + 'static> Op for Alone<O> {
    fn bytes(&self) -> usize {
        self.0.bytes()
    }
    fn run(&mut self, conn: &Connection) -> bool {
        self.0.run(conn)
    }
    fn answer(self: Box<Self>, committed: bool) {
        Op::answer(Box::new(self.0), committed);
    }
    fn alone(&self) -> bool {
        true
    }
}

/// Runs an [`Alone`] operation on the writer thread and answers it with its own result.
fn run_alone(conn: &Connection, mut op: Box<dyn Op>) {
    let ok = op.run(conn);
    if !conn.is_autocommit() {
        // An operation must not leave a transaction open for the next batch.
        if let Err(e) = conn.execute_batch("ROLLBACK") {
            tracing::error!(error = %e, "rollback after a maintenance operation failed");
        }
    }
    if !ok {
        tracing::warn!("a database maintenance operation failed");
    }
    op.answer(true);
}
