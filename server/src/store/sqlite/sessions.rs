//! Advisor sessions (bearer tokens, stored as hashes).

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{db, id_from};
use crate::store::{Id, StoreResult};

pub(super) fn create(
    tx: &Connection,
    token_hash: [u8; 32],
    advisor: &Id,
    expires_at: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sessions (token_hash, advisor_id, expires_at) VALUES (?1, ?2, ?3)",
        params![&token_hash[..], &advisor[..], expires_at],
    )
    .map_err(db)?;
    Ok(())
}

pub(super) fn get(conn: &Connection, token_hash: &[u8; 32], now: i64) -> StoreResult<Option<Id>> {
    let id: Option<Vec<u8>> = conn
        .prepare_cached("SELECT advisor_id FROM sessions WHERE token_hash = ?1 AND expires_at > ?2")
        .map_err(db)?
        .query_row(params![&token_hash[..], now], |r| r.get(0))
        .optional()
        .map_err(db)?;
    id.map(id_from).transpose().map_err(db)
}

pub(super) fn delete(tx: &Connection, token_hash: &[u8; 32]) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM sessions WHERE token_hash = ?1",
        [&token_hash[..]],
    )
    .map_err(db)?;
    Ok(())
}
