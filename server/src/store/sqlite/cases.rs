//! Cases: rows, creation (with the first message), lookups and status.

use rusqlite::{Connection, OptionalExtension, params};

use super::quota::{Caps, case_full, org_full, org_used};
use super::rows::{day_from, db, id_from, is_unique_violation, opt_day};
use crate::store::{CaseInfo, Id, NewCase, Sender, Status, StoreError, StoreResult};

pub(super) const CASE_COLUMNS: &str = "c.id, coalesce(c.tenant, o.slug), c.org_id, c.status, c.created_day, c.updated_day, c.acknowledged_day, c.closed_day";

pub(super) fn case_row(conn: &Connection, r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseInfo> {
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

pub(super) fn case_where(
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

/// A new case, its advisors and its first message (inside the caller's transaction).
pub(super) fn insert_case(tx: &Connection, c: &NewCase, caps: Caps) -> StoreResult<()> {
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

pub(super) fn by_token(conn: &Connection, token_hash: &[u8; 32]) -> StoreResult<Option<CaseInfo>> {
    // The unique index finds the row (its timing can only tell about the hash, which
    // reveals nothing about the token); the stored hash is then compared in constant time.
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
    case_where(conn, "c.token_hash = ?1", &[&&stored[..]]).map_err(db)
}

pub(super) fn for_advisor(
    conn: &Connection,
    case: &Id,
    advisor: &Id,
) -> StoreResult<Option<CaseInfo>> {
    case_where(
        conn,
        "c.id = ?1 AND EXISTS (SELECT 1 FROM case_advisors a WHERE a.case_id = c.id AND a.advisor_id = ?2)",
        &[&&case[..], &&advisor[..]],
    )
    .map_err(db)
}

pub(super) fn inbox(conn: &Connection, advisor: &Id) -> StoreResult<Vec<CaseInfo>> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases c JOIN organisations o ON o.id = c.org_id
         JOIN case_advisors a ON a.case_id = c.id WHERE a.advisor_id = ?1
         ORDER BY c.created_day DESC, c.id"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let mut rows = stmt.query([&advisor[..]]).map_err(db)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(db)? {
        out.push(case_row(conn, r).map_err(db)?);
    }
    Ok(out)
}

pub(super) fn set_status(tx: &Connection, case: &Id, status: Status, day: &str) -> StoreResult<()> {
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
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
