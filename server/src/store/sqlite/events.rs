//! Advisor events (joined, suspended, reordered ...) and who is told of them.

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{day_from, db, id_from};
use crate::day::Day;
use crate::store::{AdvisorEvent, Appointer, EventKind, Id, StoreResult};

/// Records an advisor event (inside the caller's transaction).
pub(super) fn insert_event(
    tx: &Connection,
    kind: EventKind,
    subject: Option<&Id>,
    display_name: &str,
    org_id: Option<i64>,
    appointed_by: Option<Appointer>,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO advisor_events (kind, subject, display_name, org_id, appointed_by, day)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            kind.as_str(),
            subject.map(|s| s.to_vec()),
            display_name,
            org_id,
            appointed_by.map(Appointer::as_str),
            Day::today().to_string()
        ])
    })
    .map_err(db)?;
    Ok(())
}

pub(super) fn for_advisor(
    conn: &Connection,
    advisor: &Id,
    limit: u32,
) -> StoreResult<Vec<AdvisorEvent>> {
    let org: Option<Option<i64>> = conn
        .prepare_cached("SELECT org_id FROM advisors WHERE id = ?1")
        .map_err(db)?
        .query_row([&advisor[..]], |r| r.get(0))
        .optional()
        .map_err(db)?;
    let Some(org) = org else {
        return Ok(Vec::new());
    };
    // An organisation's advisor: its organisation's events and those of branch-wide
    // advisors. A branch-wide advisor: every event. Never the advisor's own.
    let mut stmt = conn
        .prepare_cached(
            "SELECT e.kind, e.subject, e.display_name, o.slug, e.appointed_by, e.day
             FROM advisor_events e LEFT JOIN organisations o ON o.id = e.org_id
             WHERE (?1 IS NULL OR e.org_id IS NULL OR e.org_id = ?1)
               AND (e.subject IS NULL OR e.subject <> ?2)
             ORDER BY e.id DESC LIMIT ?3",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map(params![org, &advisor[..], limit], |r| {
            let kind: String = r.get(0)?;
            let subject: Option<Vec<u8>> = r.get(1)?;
            let appointed: Option<String> = r.get(4)?;
            Ok(AdvisorEvent {
                kind: EventKind::parse(&kind).ok_or_else(|| {
                    rusqlite::Error::InvalidColumnType(
                        0,
                        "kind".into(),
                        rusqlite::types::Type::Text,
                    )
                })?,
                advisor: subject.map(id_from).transpose()?,
                display_name: r.get(2)?,
                org: r.get(3)?,
                appointed_by: appointed.as_deref().and_then(Appointer::parse),
                day: day_from(&r.get::<_, String>(5)?)?,
            })
        })
        .map_err(db)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
}

pub(super) fn recipients(
    conn: &Connection,
    org: Option<i64>,
    subject: Option<Id>,
) -> StoreResult<Vec<Id>> {
    let subject = subject.map(|s| s.to_vec());
    let mut stmt = conn
        .prepare_cached(
            "SELECT id FROM advisors WHERE suspended = 0
               AND (?1 IS NULL OR org_id IS NULL OR org_id = ?1)
               AND (?2 IS NULL OR id <> ?2)",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map(params![org, subject], |r| id_from(r.get(0)?))
        .map_err(db)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
}
