//! What the entity modules share: SQLite errors as [`StoreError`]s, and row mapping (ids,
//! keys, days, JSON columns, per-case queries).

use base64ct::{Base64UrlUnpadded, Encoding};
use rusqlite::Connection;
use rusqlite::types::FromSql;

use crate::day::Day;
use crate::store::{Id, StoreError, StoreResult};

/// A SQLite error as a store error: busy, locked and storage failures are `Busy` (503).
pub(super) fn db(e: rusqlite::Error) -> StoreError {
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

/// Whether `e` is a uniqueness (or primary key) conflict.
pub(super) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

pub(super) fn id_from(v: Vec<u8>) -> rusqlite::Result<Id> {
    v.try_into().map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "id".into(), rusqlite::types::Type::Blob)
    })
}

pub(super) fn arr32(v: Vec<u8>) -> rusqlite::Result<[u8; 32]> {
    v.try_into().map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "key".into(), rusqlite::types::Type::Blob)
    })
}

pub(super) fn day_from(s: &str) -> rusqlite::Result<Day> {
    Day::parse(s).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(0, "day".into(), rusqlite::types::Type::Text)
    })
}

pub(super) fn opt_day(s: Option<String>) -> rusqlite::Result<Option<Day>> {
    s.map(|s| day_from(&s)).transpose()
}

pub(super) fn json_list<T: serde::de::DeserializeOwned>(s: &str) -> rusqlite::Result<Vec<T>> {
    serde_json::from_str(s).map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "json".into(), rusqlite::types::Type::Text)
    })
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Db(e.to_string()))
}

/// An id as stored in a JSON list (an organisation's advisor order): base64url, unpadded.
pub(super) fn id_text(id: &Id) -> String {
    Base64UrlUnpadded::encode_string(id)
}

pub(super) fn ids_from_json(s: &str) -> rusqlite::Result<Vec<Id>> {
    let list: Vec<String> = json_list(s)?;
    // Ids are stored as written (validated base64url); an undecodable one is skipped.
    Ok(list
        .iter()
        .filter_map(|v| {
            Base64UrlUnpadded::decode_vec(v)
                .ok()
                .and_then(|b| <Id>::try_from(b).ok())
        })
        .collect())
}

/// One value about one case (`?1` is the case id), e.g. a count or a sum.
pub(super) fn case_value<T: FromSql>(tx: &Connection, sql: &str, case: &Id) -> StoreResult<T> {
    tx.query_row(sql, [&case[..]], |r| r.get(0)).map_err(db)
}

/// The rows of one case (`?1` is the case id), each mapped by `f`.
pub(super) fn case_rows<T>(
    tx: &Connection,
    sql: &str,
    case: &Id,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    tx.prepare_cached(sql)
        .map_err(db)?
        .query_map([&case[..]], f)
        .map_err(db)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db)
}
