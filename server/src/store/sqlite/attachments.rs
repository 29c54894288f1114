//! Attachments: uploads in chunks (invisible until finished) and reads of finished ones.

use rusqlite::{Connection, OptionalExtension, params};

use super::quota::{Caps, check_quota};
use super::rows::{case_value, day_from, db, id_from, is_unique_violation};
use crate::day::Day;
use crate::store::{AttachmentInfo, Id, Sender, StoreError, StoreResult};

pub(super) fn attachment_row_id(
    tx: &Connection,
    case: &Id,
    id: &Id,
    complete: bool,
) -> StoreResult<i64> {
    tx.query_row(
        "SELECT id FROM attachments WHERE case_id = ?1 AND public_id = ?2 AND complete = ?3",
        params![&case[..], &id[..], complete],
        |r| r.get(0),
    )
    .optional()
    .map_err(db)?
    .ok_or(StoreError::NotFound)
}

pub(super) fn attachment_info_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AttachmentInfo> {
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

pub(super) fn begin(
    tx: &Connection,
    case: &Id,
    id: &Id,
    (sender, day): (Sender, Day),
    max_count: u32,
    caps: Caps,
) -> StoreResult<()> {
    // A full case takes no upload at all (the size is checked again at the end).
    check_quota(tx, case, 1, caps)?;
    let count: u32 = case_value(tx, "SELECT count(*) FROM attachments WHERE case_id = ?1", case)?;
    if count >= max_count {
        return Err(StoreError::Limit(format!(
            "a case holds at most {max_count} attachments"
        )));
    }
    match tx.execute(
        "INSERT INTO attachments (case_id, public_id, sender, created_day) VALUES (?1, ?2, ?3, ?4)",
        params![&case[..], &id[..], sender.as_str(), day.to_string()],
    ) {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => {
            Err(StoreError::Conflict("attachment id already used".into()))
        }
        Err(e) => Err(db(e)),
    }
}

pub(super) fn append_chunk(
    tx: &Connection,
    case: &Id,
    id: &Id,
    seq: u32,
    data: &[u8],
) -> StoreResult<()> {
    let row = attachment_row_id(tx, case, id, false)?;
    tx.execute(
        "INSERT INTO attachment_chunks (attachment_id, seq, data) VALUES (?1, ?2, ?3)",
        params![row, seq, data],
    )
    .map_err(db)?;
    Ok(())
}

pub(super) fn finish(
    tx: &Connection,
    case: &Id,
    id: &Id,
    (size, chunks, max_case_bytes): (u64, u32, u64),
    caps: Caps,
) -> StoreResult<()> {
    let row = attachment_row_id(tx, case, id, false)?;
    check_quota(tx, case, size, caps)?;
    let stored: u32 = tx
        .query_row(
            "SELECT count(*) FROM attachment_chunks WHERE attachment_id = ?1",
            [row],
            |r| r.get(0),
        )
        .map_err(db)?;
    if stored != chunks {
        return Err(StoreError::Db("chunk count mismatch".into()));
    }
    let used: i64 = case_value(
        tx,
        "SELECT coalesce(sum(size), 0) FROM attachments WHERE case_id = ?1 AND complete = 1",
        case,
    )?;
    let used = u64::try_from(used).unwrap_or(0);
    if used.saturating_add(size) > max_case_bytes {
        return Err(StoreError::Limit(format!(
            "a case holds at most {max_case_bytes} bytes of attachments"
        )));
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
}

pub(super) fn abort(tx: &Connection, case: &Id, id: &Id) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM attachments WHERE case_id = ?1 AND public_id = ?2 AND complete = 0",
        params![&case[..], &id[..]],
    )
    .map_err(db)?;
    Ok(())
}

pub(super) fn list(conn: &Connection, case: &Id) -> StoreResult<Vec<AttachmentInfo>> {
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

pub(super) fn get(conn: &Connection, case: &Id, id: &Id) -> StoreResult<Option<AttachmentInfo>> {
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

pub(super) fn chunk(
    conn: &Connection,
    case: &Id,
    id: &Id,
    seq: u32,
) -> StoreResult<Option<Vec<u8>>> {
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
