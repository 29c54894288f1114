//! Rows and multi-statement changes of the administration side: audit entries, admin
//! accounts, and the organisation and advisor changes that record events and audit entries.

use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use super::events::insert_event;
use super::rows::{db, is_unique_violation};
use crate::day::now_secs;
use crate::store::admin::{AdminAccount, AdminRole, NewAudit, OrgChange, SecretBytes};
use crate::store::{Appointer, EventKind, Id, StoreError, StoreResult};

pub(super) const ACCOUNT_COLUMNS: &str = "a.id, a.username, a.role, a.org_id, a.passphrase_hash, a.totp_secret, a.totp_pending, a.totp_last_step";

pub(super) fn insert_audit(tx: &Connection, a: &NewAudit) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, actor, org_id, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut st| st.execute(params![now_secs(), a.actor, a.org_id, a.action, a.detail]))
    .map_err(db)?;
    Ok(())
}

pub(super) fn account_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<AdminAccount> {
    let role: String = r.get(at + 2)?;
    let secret = |v: Option<Vec<u8>>| v.map(|b| SecretBytes(Zeroizing::new(b)));
    Ok(AdminAccount {
        id: r.get(at)?,
        username: r.get(at + 1)?,
        role: AdminRole::parse(&role).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(at + 2, "role".into(), rusqlite::types::Type::Text)
        })?,
        org_id: r.get(at + 3)?,
        passphrase_hash: Zeroizing::new(r.get(at + 4)?),
        totp_secret: secret(r.get(at + 5)?),
        totp_pending: secret(r.get(at + 6)?),
        totp_last_step: r.get(at + 7)?,
    })
}

pub(super) fn slug_taken(
    tx: &Connection,
    slug: &str,
    except_org: Option<i64>,
) -> StoreResult<bool> {
    let used: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM organisations WHERE slug = ?1 AND id IS NOT ?2)
                 OR EXISTS (SELECT 1 FROM org_former_slugs WHERE slug = ?1 AND org_id IS NOT ?2)",
            params![slug, except_org],
            |r| r.get(0),
        )
        .map_err(db)?;
    Ok(used)
}

pub(super) fn insert_account(
    tx: &Connection,
    username: &str,
    role: AdminRole,
    org_id: Option<i64>,
    hash: &str,
) -> StoreResult<i64> {
    match tx.execute(
        "INSERT INTO admin_accounts (username, role, org_id, passphrase_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![username, role.as_str(), org_id, hash, now_secs()],
    ) {
        Ok(_) => Ok(tx.last_insert_rowid()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
            "username `{username}` is taken"
        ))),
        Err(e) => Err(db(e)),
    }
}

/// Creates an organisation (its slug free, also as a former slug) with its audit entry.
pub(super) fn create_org(
    tx: &Connection,
    (slug, name): (&str, &str),
    categories: &str,
    audit: NewAudit,
) -> StoreResult<i64> {
    if slug_taken(tx, slug, None)? {
        return Err(StoreError::Conflict(format!(
            "organisation `{slug}` exists"
        )));
    }
    let id = match tx.execute(
        "INSERT INTO organisations (slug, name, categories) VALUES (?1, ?2, ?3)",
        params![slug, name, categories],
    ) {
        Ok(_) => tx.last_insert_rowid(),
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Conflict(format!(
                "organisation `{slug}` exists"
            )));
        }
        Err(e) => return Err(db(e)),
    };
    insert_audit(
        tx,
        &NewAudit {
            org_id: Some(id),
            ..audit
        },
    )?;
    Ok(id)
}

/// Applies an organisation change (JSON columns encoded by the caller) with its audit entries.
pub(super) fn change_org(
    tx: &Connection,
    org_id: i64,
    c: &OrgChange,
    (categories, languages, order): (Option<String>, Option<String>, Option<String>),
    audit: &[NewAudit],
) -> StoreResult<()> {
    let current: Option<String> = tx
        .query_row(
            "SELECT slug FROM organisations WHERE id = ?1",
            [org_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    let current = current.ok_or(StoreError::NotFound)?;
    if let Some(new) = c.slug.as_deref().filter(|s| *s != current) {
        if slug_taken(tx, new, Some(org_id))? {
            return Err(StoreError::Conflict(format!("`{new}` is taken")));
        }
        // Taking back one of its own former slugs; the current one becomes former.
        tx.execute("DELETE FROM org_former_slugs WHERE slug = ?1", [new])
            .map_err(db)?;
        tx.execute(
            "INSERT OR REPLACE INTO org_former_slugs (slug, org_id) VALUES (?1, ?2)",
            params![current, org_id],
        )
        .map_err(db)?;
        match tx.execute(
            "UPDATE organisations SET slug = ?2 WHERE id = ?1",
            params![org_id, new],
        ) {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!("`{new}` is taken")));
            }
            Err(e) => return Err(db(e)),
        }
    }
    tx.execute(
        "UPDATE organisations SET
            name = coalesce(?2, name),
            intro_nl = coalesce(?3, intro_nl), intro_en = coalesce(?4, intro_en),
            conduct_nl = coalesce(?5, conduct_nl), conduct_en = coalesce(?6, conduct_en),
            categories = coalesce(?7, categories),
            retention_days = coalesce(?8, retention_days),
            languages = coalesce(?9, languages),
            advisor_order = coalesce(?10, advisor_order)
         WHERE id = ?1",
        params![
            org_id,
            c.name,
            c.intro_nl,
            c.intro_en,
            c.conduct_nl,
            c.conduct_en,
            categories,
            c.retention_days,
            languages,
            order
        ],
    )
    .map_err(db)?;
    if let Some(first) = c.advisor_order.as_ref().map(|o| o.first().copied()) {
        // Told to the organisation's advisors: who is now shown first.
        let shown: Option<(String, String)> = match first {
            Some(id) => tx
                .query_row(
                    "SELECT display_name, appointed_by FROM advisors WHERE id = ?1",
                    [&id[..]],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db)?,
            None => None,
        };
        let (name, appointed) = shown.unwrap_or_default();
        insert_event(
            tx,
            EventKind::Reordered,
            None,
            &name,
            Some(org_id),
            Appointer::parse(&appointed),
        )?;
    }
    for a in audit {
        insert_audit(tx, a)?;
    }
    Ok(())
}

/// Suspends or unsuspends an advisor, with its event and audit entry.
pub(super) fn set_advisor_suspended(
    tx: &Connection,
    id: &Id,
    suspended: bool,
    audit: &NewAudit,
) -> StoreResult<()> {
    let before: Option<(bool, String, Option<i64>, String)> = tx
        .query_row(
            "SELECT suspended, display_name, org_id, appointed_by FROM advisors WHERE id = ?1",
            [&id[..]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(db)?;
    let (was, name, org_id, appointed_by) = before.ok_or(StoreError::NotFound)?;
    tx.execute(
        "UPDATE advisors SET suspended = ?2 WHERE id = ?1",
        params![&id[..], suspended],
    )
    .map_err(db)?;
    if was != suspended {
        let kind = if suspended {
            EventKind::Suspended
        } else {
            EventKind::Unsuspended
        };
        insert_event(
            tx,
            kind,
            Some(id),
            &name,
            org_id,
            Appointer::parse(&appointed_by),
        )?;
    }
    if suspended {
        tx.execute("DELETE FROM sessions WHERE advisor_id = ?1", [&id[..]])
            .map_err(db)?;
    }
    insert_audit(tx, audit)
}
