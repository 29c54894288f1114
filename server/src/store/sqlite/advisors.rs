//! Advisors, their invites and their published keys (bundles, revocations).

use rusqlite::{Connection, OptionalExtension, params};

use super::events::insert_event;
use super::rows::{arr32, day_from, db, id_from, is_unique_violation, json_list, to_json};
use crate::day::Day;
use crate::store::{
    Advisor, AdvisorKeys, Appointer, EventKind, Id, InviteScope, NewAdvisor, StoreError,
    StoreResult, StoredBundle, StoredRevocation,
};

pub(super) const ADVISOR_COLUMNS: &str = "id, org_id, identity_pk, display_name, bio, photo, photo_type, external, languages, appointed_by, appointed_on";
/// Number of [`ADVISOR_COLUMNS`] (the next column index after them).
pub(super) const ADVISOR_NCOLS: usize = 11;

pub(super) fn advisor_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Advisor> {
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

fn key_id_from(v: Vec<u8>) -> rusqlite::Result<[u8; 16]> {
    v.try_into().map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "key_id".into(), rusqlite::types::Type::Blob)
    })
}

pub(super) fn keys_of(conn: &Connection, advisor: Advisor) -> rusqlite::Result<AdvisorKeys> {
    let mut stmt = conn.prepare_cached(
        "SELECT key_id, bundle, not_before, not_after FROM key_bundles WHERE advisor_id = ?1 ORDER BY not_before, key_id",
    )?;
    let bundles = stmt
        .query_map([&advisor.id[..]], |r| {
            Ok(StoredBundle {
                key_id: key_id_from(r.get(0)?)?,
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
                key_id: key_id_from(r.get(0)?)?,
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

pub(super) fn insert_bundle(tx: &Connection, advisor: &Id, b: &StoredBundle) -> StoreResult<()> {
    match tx.execute(
        "INSERT INTO key_bundles (key_id, advisor_id, bundle, not_before, not_after) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![&b.key_id[..], &advisor[..], b.bytes, b.not_before, b.not_after],
    ) {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("key id already published".into())),
        Err(e) => Err(db(e)),
    }
}

pub(super) fn create_invite(
    tx: &Connection,
    code_hash: [u8; 32],
    scope: InviteScope,
    expires_at: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO invites (code_hash, org_id, external, expires_at, appointed_by) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![&code_hash[..], scope.org_id, scope.external, expires_at, scope.appointed_by.as_str()],
    )
    .map_err(db)?;
    Ok(())
}

/// Redeems the invite and creates the advisor with its first bundle.
pub(super) fn register(
    tx: &Connection,
    code_hash: [u8; 32],
    now: i64,
    a: &NewAdvisor,
    bundle: &StoredBundle,
) -> StoreResult<Advisor> {
    let invite: Option<(Option<i64>, bool, String)> = tx
        .query_row(
            "SELECT org_id, external, appointed_by FROM invites WHERE code_hash = ?1 AND expires_at > ?2",
            params![&code_hash[..], now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(db)?;
    let (org_id, external, appointed_by) = invite.ok_or(StoreError::NotFound)?;
    let appointed_by =
        Appointer::parse(&appointed_by).ok_or_else(|| StoreError::Db("bad appointed_by".into()))?;
    let appointed_on = Day::today();
    tx.execute("DELETE FROM invites WHERE code_hash = ?1", [&code_hash[..]])
        .map_err(db)?;
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
            return Err(StoreError::Conflict(
                "identity key already registered".into(),
            ));
        }
        Err(e) => return Err(db(e)),
    }
    insert_bundle(tx, &a.id, bundle)?;
    insert_event(
        tx,
        EventKind::Joined,
        Some(&a.id),
        &a.display_name,
        org_id,
        Some(appointed_by),
    )?;
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
}

pub(super) fn by_id(conn: &Connection, id: &Id) -> StoreResult<Option<AdvisorKeys>> {
    let advisor = conn
        .prepare_cached(&format!(
            "SELECT {ADVISOR_COLUMNS} FROM advisors WHERE id = ?1"
        ))
        .map_err(db)?
        .query_row([&id[..]], advisor_row)
        .optional()
        .map_err(db)?;
    advisor.map(|a| keys_of(conn, a)).transpose().map_err(db)
}

pub(super) fn by_identity(conn: &Connection, pk: &[u8; 32]) -> StoreResult<Option<Advisor>> {
    conn.prepare_cached(&format!(
        "SELECT {ADVISOR_COLUMNS} FROM advisors WHERE identity_pk = ?1"
    ))
    .map_err(db)?
    .query_row([&pk[..]], advisor_row)
    .optional()
    .map_err(db)
}

pub(super) fn for_org(conn: &Connection, org_id: i64) -> StoreResult<Vec<AdvisorKeys>> {
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
        .map(|a| keys_of(conn, a))
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db)
}

pub(super) fn add_revocation(
    tx: &Connection,
    advisor: &Id,
    rev: &StoredRevocation,
) -> StoreResult<()> {
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
}
