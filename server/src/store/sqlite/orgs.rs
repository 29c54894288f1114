//! Organisations (and the instance row): rows and statements.

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{db, is_unique_violation, json_list, to_json};
use crate::store::{Category, OrgUpdate, Organisation, StoreError, StoreResult};

pub(super) const ORG_COLUMNS: &str = "id, slug, name, intro_nl, intro_en, conduct_nl, conduct_en, categories, retention_days, languages";

pub(super) fn org_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Organisation> {
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

/// The proof-of-work key of the instance row.
pub(super) fn pow_key(conn: &Connection) -> StoreResult<[u8; 32]> {
    let key: Vec<u8> = conn
        .query_row("SELECT pow_key FROM instance WHERE id = 1", [], |r| {
            r.get(0)
        })
        .map_err(db)?;
    key.try_into()
        .map_err(|_| StoreError::Db("bad pow key".into()))
}

pub(super) fn create(tx: &Connection, slug: &str, name: &str) -> StoreResult<i64> {
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
}

/// The JSON columns of an update, encoded before the write is queued.
pub(super) fn update_json(u: &OrgUpdate) -> StoreResult<(Option<String>, Option<String>)> {
    let categories = u.categories.as_ref().map(to_json).transpose()?;
    let languages = u.languages.as_ref().map(to_json).transpose()?;
    Ok((categories, languages))
}

pub(super) fn update(
    tx: &Connection,
    slug: &str,
    u: &OrgUpdate,
    (categories, languages): (Option<String>, Option<String>),
) -> StoreResult<()> {
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
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub(super) fn by_slug(conn: &Connection, slug: &str) -> StoreResult<Option<Organisation>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {ORG_COLUMNS} FROM organisations WHERE slug = ?1"
        ))
        .map_err(db)?;
    stmt.query_row([slug], org_row).optional().map_err(db)
}

pub(super) fn by_id(conn: &Connection, id: i64) -> StoreResult<Option<Organisation>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {ORG_COLUMNS} FROM organisations WHERE id = ?1"
        ))
        .map_err(db)?;
    stmt.query_row([id], org_row).optional().map_err(db)
}

pub(super) fn list(conn: &Connection) -> StoreResult<Vec<Organisation>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {ORG_COLUMNS} FROM organisations ORDER BY slug"
        ))
        .map_err(db)?;
    let rows = stmt.query_map([], org_row).map_err(db)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
}
