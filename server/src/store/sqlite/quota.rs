//! The storage quota (`[quota]`): bytes of message envelopes and finished attachments per
//! case and per organisation, checked in the write's own transaction.

use rusqlite::{Connection, OptionalExtension};

use super::rows::db;
use crate::store::{Id, StoreError, StoreResult};

/// The storage quota of one write (`[quota]`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Caps {
    pub(super) case: u64,
    pub(super) org: u64,
}

pub(super) fn sql_bytes(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Bytes an organisation holds: its cases' message envelopes and finished attachments.
pub(super) fn org_used(tx: &Connection, org: i64) -> StoreResult<u64> {
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

pub(super) fn org_full(max: u64) -> StoreError {
    StoreError::Quota {
        code: "org_storage_full",
        message: format!(
            "this organisation's cases hold the most they may ({max} bytes); nothing was stored"
        ),
    }
}

pub(super) fn case_full(max: u64) -> StoreError {
    StoreError::Quota {
        code: "case_full",
        message: format!(
            "this case holds the most it may ({max} bytes of messages and attachments); nothing was stored"
        ),
    }
}

/// Refuses a write of `extra` more bytes to `case` past the case's or its organisation's
/// quota. Runs in the write's own transaction (one writer), so no two writes both pass.
pub(super) fn check_quota(tx: &Connection, case: &Id, extra: u64, caps: Caps) -> StoreResult<()> {
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
