//! Operations on the SQLite file: the retention purge in small write batches, incremental
//! vacuum and WAL truncation as operations that run alone on the writer thread between two
//! batches, the schema version this binary knows (for `meldpunt restore`), and the advisors'
//! notification addresses (table `advisor_notify`, migration 3).

use rusqlite::{Connection, OptionalExtension, params};

use std::path::Path;
use std::sync::mpsc::sync_channel;

use super::writer::{Alone, Op, Reply, TypedOp};
use super::SqliteStore;
use super::rows::db;
use crate::day::Day;
use crate::store::{EVENT_RETENTION_DAYS, Id, Maintenance, Purged, StoreError, StoreResult, Vacuumed};

/// Cases deleted per write operation: each purge operation stays short, so writes of
/// reporters and advisors run between them.
const CASES_PER_OP: usize = 8;

/// The newest schema version (`PRAGMA user_version`) this binary can open.
#[must_use]
pub fn known_schema_version() -> u32 {
    u32::try_from(super::MIGRATIONS.len()).unwrap_or(u32::MAX)
}

impl SqliteStore {
    /// Runs `f` on the writer connection between two batches, outside any transaction, and
    /// waits for it.
    fn alone<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let stopped = || StoreError::Db("the database writer has stopped".into());
        let queue = self.queue.as_ref().ok_or_else(stopped)?;
        let (reply, answer) = sync_channel(1);
        let op: Box<dyn Op> = Box::new(Alone(TypedOp {
            f: Some(f),
            out: None,
            reply: Reply::Blocking(reply),
            bytes: 0,
        }));
        queue.send(op).map_err(|_| stopped())?;
        answer
            .recv()
            .unwrap_or_else(|_| Err(crate::store::pending::stopped()))
    }
}

/// Steps a statement to its end (pragmas that answer rows, or none).
fn run_rows(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

fn freelist(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("PRAGMA freelist_count", [], |r| r.get::<_, i64>(0))
        .map(|n| u64::try_from(n).unwrap_or(0))
}

/// Counts what one case holds and deletes all of it (children explicitly, not only by
/// cascade), if it is still closed on `closed_day`. `None`: it changed meanwhile.
fn delete_case(tx: &Connection, id: &[u8], closed_day: &str) -> StoreResult<Option<Purged>> {
    let still: Option<i64> = tx
        .prepare_cached(
            "SELECT 1 FROM cases WHERE id = ?1 AND status = 'closed' AND closed_day = ?2",
        )
        .and_then(|mut st| {
            st.query_row(params![id, closed_day], |r| r.get(0))
                .optional()
        })
        .map_err(db)?;
    if still.is_none() {
        return Ok(None);
    }
    let count = |sql: &str| -> StoreResult<u64> {
        tx.prepare_cached(sql)
            .and_then(|mut st| st.query_row([id], |r| r.get::<_, i64>(0)))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(db)
    };
    let attachments =
        count("SELECT count(*) FROM attachments WHERE case_id = ?1 AND complete = 1")?;
    let exec = |sql: &str| -> StoreResult<u64> {
        tx.prepare_cached(sql)
            .and_then(|mut st| st.execute([id]))
            .map(|n| n as u64)
            .map_err(db)
    };
    let stanzas = exec("DELETE FROM detached_stanzas WHERE case_id = ?1")?;
    exec(
        "DELETE FROM attachment_chunks WHERE attachment_id IN
         (SELECT id FROM attachments WHERE case_id = ?1)",
    )?;
    exec("DELETE FROM attachments WHERE case_id = ?1")?;
    let messages = exec("DELETE FROM messages WHERE case_id = ?1")?;
    exec("DELETE FROM case_advisors WHERE case_id = ?1")?;
    let cases = exec("DELETE FROM cases WHERE id = ?1")?;
    Ok(Some(Purged {
        cases,
        messages,
        attachments,
        stanzas,
        ..Purged::default()
    }))
}

/// Deletes every closed case whose deletion day (fixed when it was closed: closed day +
/// the retention in force then) is before `today`, with its messages, attachments, chunks and
/// detached stanzas, [`CASES_PER_OP`] cases per write operation. A case without a deletion day
/// (none should remain after the migration that added it) falls back to its organisation's current retention.
/// With `secure_delete=ON` the freed bytes are overwritten with zeros.
pub(super) fn purge_cases(store: &SqliteStore, today: Day) -> StoreResult<Purged> {
    // Dates are ISO strings, so the comparison is done here rather than in SQL.
    type Row = (Vec<u8>, String, Option<String>, u32);
    let closed: Vec<Row> = {
        let conn = store.read()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT c.id, c.closed_day, c.delete_day, o.retention_days FROM cases c
                 JOIN organisations o ON o.id = c.org_id WHERE c.status = 'closed'",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)?
    };
    let expired: Vec<(Vec<u8>, String)> = closed
        .into_iter()
        .filter(|(_, day, delete, retention)| match delete.as_deref().and_then(Day::parse) {
            Some(d) => d < today,
            None => Day::parse(day).is_some_and(|d| d.plus_days(i64::from(*retention)) < today),
        })
        .map(|(id, day, _, _)| (id, day))
        .collect();
    let mut total = Purged::default();
    for chunk in expired.chunks(CASES_PER_OP) {
        let chunk = chunk.to_vec();
        let p = store.tx(move |tx| {
            let mut p = Purged::default();
            for (id, day) in &chunk {
                if let Some(one) = delete_case(tx, id, day)? {
                    p.cases += one.cases;
                    p.messages += one.messages;
                    p.attachments += one.attachments;
                    p.stanzas += one.stanzas;
                }
            }
            Ok(p)
        })?;
        total.cases += p.cases;
        total.messages += p.messages;
        total.attachments += p.attachments;
        total.stanzas += p.stanzas;
    }
    Ok(total)
}

/// Incremental vacuum in steps of `step_pages` (each step one operation between two write
/// batches), then a truncating checkpoint. A database made before incremental vacuum was
/// switched on gets one full `VACUUM` instead (the writer waits for it; see
/// `docs/operations.md`).
pub(super) fn vacuum(store: &SqliteStore, step_pages: u32) -> StoreResult<Vacuumed> {
    let step = step_pages.max(1);
    let mut out = Vacuumed::default();
    let mode: i64 = store.alone(|c| {
        c.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
            .map_err(db)
    })?;
    if mode == 0 {
        out.pages_freed = store.alone(|c| {
            let before = freelist(c).map_err(db)?;
            c.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")
                .map_err(db)?;
            Ok(before)
        })?;
        out.full = true;
    } else {
        loop {
            let (freed, left) = store.alone(move |c| {
                let before = freelist(c).map_err(db)?;
                if before == 0 {
                    return Ok((0, 0));
                }
                run_rows(c, &format!("PRAGMA incremental_vacuum({step})")).map_err(db)?;
                let after = freelist(c).map_err(db)?;
                Ok((before.saturating_sub(after), after))
            })?;
            if freed > 0 {
                out.steps += 1;
                out.pages_freed += freed;
            }
            if left == 0 || freed == 0 {
                break;
            }
        }
    }
    out.wal_truncated = checkpoint(store)?;
    Ok(out)
}

/// `PRAGMA wal_checkpoint(TRUNCATE)` on the writer thread; `false` if readers kept it from
/// completing.
pub(super) fn checkpoint(store: &SqliteStore) -> StoreResult<bool> {
    store.alone(|c| {
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|busy| busy == 0)
        .map_err(db)
    })
}

pub(super) fn notify_email(store: &SqliteStore, advisor: &Id) -> StoreResult<Option<String>> {
    let conn = store.read()?;
    conn.prepare_cached("SELECT email FROM advisor_notify WHERE advisor_id = ?1")
        .and_then(|mut st| st.query_row([&advisor[..]], |r| r.get(0)).optional())
        .map_err(db)
}

pub(super) fn set_notify_email(
    store: &SqliteStore,
    advisor: &Id,
    email: Option<&str>,
) -> StoreResult<()> {
    let advisor = *advisor;
    let email = email.map(str::to_owned);
    store.tx(move |tx| {
        let n = match &email {
            Some(e) => tx.execute(
                "INSERT INTO advisor_notify (advisor_id, email)
                 SELECT id, ?2 FROM advisors WHERE id = ?1
                 ON CONFLICT (advisor_id) DO UPDATE SET email = excluded.email",
                params![&advisor[..], e],
            ),
            None => tx
                .execute(
                    "DELETE FROM advisor_notify WHERE advisor_id = ?1",
                    [&advisor[..]],
                )
                .map(|_| 1),
        }
        .map_err(db)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    })
}

/// The rest of a purge after the cases (one write): expired sessions and invites, old
/// advisor events and (`all_uploads`) every unfinished upload.
pub(super) fn purge_rest(
    tx: &Connection,
    (today, now): (Day, i64),
    all_uploads: bool,
    cases: Purged,
) -> StoreResult<Purged> {
    let mut purged = cases;
    purged.sessions = tx
        .execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])
        .map_err(db)? as u64;
    purged.invites = tx
        .execute("DELETE FROM invites WHERE expires_at <= ?1", [now])
        .map_err(db)? as u64;
    let oldest = today
        .plus_days(-i64::from(EVENT_RETENTION_DAYS))
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
}

impl SqliteStore {
    /// Copies the whole database to `path` (online, consistent): `VACUUM INTO` a new
    /// owner-only file.
    pub fn backup(&self, path: &Path) -> StoreResult<()> {
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

    /// [`Maintenance::vacuum`] (incremental vacuum between write batches, then a
    /// truncating checkpoint).
    pub fn vacuum(&self, step_pages: u32) -> StoreResult<Vacuumed> {
        vacuum(self, step_pages)
    }

    /// [`Maintenance::checkpoint`] (the write-ahead log folded in and truncated).
    pub fn checkpoint(&self) -> StoreResult<bool> {
        checkpoint(self)
    }
}

/// For callers holding a `dyn Store`: the inherent methods above.
impl Maintenance for SqliteStore {
    fn backup(&self, path: &Path) -> StoreResult<()> {
        SqliteStore::backup(self, path)
    }
    fn vacuum(&self, step_pages: u32) -> StoreResult<Vacuumed> {
        SqliteStore::vacuum(self, step_pages)
    }
    fn checkpoint(&self) -> StoreResult<bool> {
        SqliteStore::checkpoint(self)
    }
}
