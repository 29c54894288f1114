//! Messages of a case, and the advisor membership changes that append one (share with a
//! colleague, with its detached stanzas; remove from the case).

use rusqlite::{Connection, params};

use super::rows::{case_rows, case_value, day_from, db, id_from};
use crate::store::{
    DetachedStanza, Id, MessageRow, Removal, Sender, StanzaTarget, StoreError, StoreResult,
};

/// Appends an advisor message (inside the caller's transaction); its `seq`.
pub(super) fn append_message(
    tx: &Connection,
    case: &Id,
    sender: Sender,
    envelope: &[u8],
    day: &str,
    max: u32,
) -> StoreResult<u32> {
    let next: u32 = case_value(
        tx,
        "SELECT coalesce(max(seq) + 1, 0) FROM messages WHERE case_id = ?1",
        case,
    )?;
    if next == 0 {
        return Err(StoreError::NotFound);
    }
    if next >= max {
        return Err(StoreError::Limit(format!(
            "a case holds at most {max} messages"
        )));
    }
    tx.execute(
        "INSERT INTO messages (case_id, seq, sender, created_day, envelope) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![&case[..], next, sender.as_str(), day, envelope],
    )
    .map_err(db)?;
    tx.execute(
        "UPDATE cases SET updated_day = ?2 WHERE id = ?1",
        params![&case[..], day],
    )
    .map_err(db)?;
    Ok(next)
}

pub(super) fn list(conn: &Connection, case: &Id) -> StoreResult<Vec<MessageRow>> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, sender, created_day, envelope FROM messages WHERE case_id = ?1 ORDER BY seq")
        .map_err(db)?;
    let rows = stmt
        .query_map([&case[..]], |r| {
            let sender: String = r.get(1)?;
            Ok(MessageRow {
                seq: r.get(0)?,
                sender: Sender::parse(&sender).ok_or_else(|| {
                    rusqlite::Error::InvalidColumnType(
                        1,
                        "sender".into(),
                        rusqlite::types::Type::Text,
                    )
                })?,
                created: day_from(&r.get::<_, String>(2)?)?,
                envelope: r.get(3)?,
            })
        })
        .map_err(db)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
}

pub(super) fn share(
    tx: &Connection,
    case: &Id,
    advisor: &Id,
    stanzas: &[DetachedStanza],
    statement: &[u8],
    day: &str,
    max_messages: u32,
) -> StoreResult<u32> {
    let messages: Vec<(i64, u32)> = case_rows(
        tx,
        "SELECT id, seq FROM messages WHERE case_id = ?1 ORDER BY seq",
        case,
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if messages.is_empty() {
        return Err(StoreError::NotFound);
    }
    let attachments: Vec<(i64, Vec<u8>)> = case_rows(
        tx,
        "SELECT id, public_id FROM attachments WHERE case_id = ?1 AND complete = 1",
        case,
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut targets: Vec<(Option<i64>, Option<i64>, &[u8])> = Vec::with_capacity(stanzas.len());
    for s in stanzas {
        match &s.target {
            StanzaTarget::Message(seq) => {
                let (row, _) = messages
                    .iter()
                    .find(|(_, q)| q == seq)
                    .ok_or_else(|| StoreError::Conflict(format!("message {seq} does not exist")))?;
                targets.push((Some(*row), None, &s.stanza));
            }
            StanzaTarget::Attachment(id) => {
                let (row, _) = attachments
                    .iter()
                    .find(|(_, p)| p[..] == id[..])
                    .ok_or_else(|| StoreError::Conflict("attachment does not exist".into()))?;
                targets.push((None, Some(*row), &s.stanza));
            }
        }
    }
    // Exactly one stanza per message and attachment.
    let mut seen_m: Vec<i64> = targets.iter().filter_map(|t| t.0).collect();
    let mut seen_a: Vec<i64> = targets.iter().filter_map(|t| t.1).collect();
    seen_m.sort_unstable();
    seen_m.dedup();
    seen_a.sort_unstable();
    seen_a.dedup();
    if seen_m.len() != messages.len()
        || seen_a.len() != attachments.len()
        || seen_m.len() + seen_a.len() != targets.len()
    {
        return Err(StoreError::Conflict(
            "stanzas must cover every message and attachment exactly once".into(),
        ));
    }
    tx.execute(
        "INSERT OR IGNORE INTO case_advisors (case_id, advisor_id) VALUES (?1, ?2)",
        params![&case[..], &advisor[..]],
    )
    .map_err(db)?;
    // Only ever added: a stanza already stored for this advisor and target (the same
    // bytes) is not stored twice; none is removed or replaced.
    let mut ins = tx
        .prepare_cached(
            "INSERT INTO detached_stanzas (case_id, advisor_id, message_id, attachment_id, stanza)
             SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (
                 SELECT 1 FROM detached_stanzas WHERE case_id = ?1 AND advisor_id = ?2
                 AND message_id IS ?3 AND attachment_id IS ?4 AND stanza = ?5)",
        )
        .map_err(db)?;
    for (m, a, stanza) in targets {
        ins.execute(params![&case[..], &advisor[..], m, a, stanza])
            .map_err(db)?;
    }
    append_message(tx, case, Sender::Advisor, statement, day, max_messages)
}

pub(super) fn remove(
    tx: &Connection,
    case: &Id,
    advisor: &Id,
    statement: &[u8],
    day: &str,
    max_messages: u32,
) -> StoreResult<Removal> {
    let on: Vec<Vec<u8>> = case_rows(
        tx,
        "SELECT advisor_id FROM case_advisors WHERE case_id = ?1",
        case,
        |r| r.get(0),
    )?;
    if !on.iter().any(|a| a[..] == advisor[..]) {
        return Ok(Removal::NotOnCase);
    }
    if on.len() <= 1 {
        return Ok(Removal::LastAdvisor);
    }
    let seq = append_message(tx, case, Sender::Advisor, statement, day, max_messages)?;
    tx.execute(
        "DELETE FROM case_advisors WHERE case_id = ?1 AND advisor_id = ?2",
        params![&case[..], &advisor[..]],
    )
    .map_err(db)?;
    Ok(Removal::Removed(seq))
}

pub(super) fn detached_stanzas(
    conn: &Connection,
    case: &Id,
    advisor: &Id,
) -> StoreResult<Vec<DetachedStanza>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT m.seq, a.public_id, s.stanza FROM detached_stanzas s
             LEFT JOIN messages m ON m.id = s.message_id
             LEFT JOIN attachments a ON a.id = s.attachment_id
             WHERE s.case_id = ?1 AND s.advisor_id = ?2 ORDER BY s.id",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map(params![&case[..], &advisor[..]], |r| {
            let seq: Option<u32> = r.get(0)?;
            let att: Option<Vec<u8>> = r.get(1)?;
            let target = match (seq, att) {
                (Some(seq), _) => StanzaTarget::Message(seq),
                (None, Some(a)) => StanzaTarget::Attachment(id_from(a)?),
                (None, None) => {
                    return Err(rusqlite::Error::InvalidColumnType(
                        0,
                        "target".into(),
                        rusqlite::types::Type::Null,
                    ));
                }
            };
            Ok(DetachedStanza {
                target,
                stanza: r.get(2)?,
            })
        })
        .map_err(db)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
}
