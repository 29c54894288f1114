//! The SQLite implementation of [`AdminStore`]: every change runs in one writer transaction
//! together with its audit entries (see the parent module for the group commit).

use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use super::{
    ADVISOR_COLUMNS, ADVISOR_NCOLS, EventKind, ORG_COLUMNS, SqliteStore, advisor_row, db,
    insert_event, is_unique_violation, json_list, keys_of, org_row, to_json,
};
use crate::api::b64;
use crate::day::now_secs;
use crate::store::admin::{
    AdminAccount, AdminRole, AdminSessionRow, AdminStore, AdvisorStatus, AuditRow, AuditScope,
    NewAudit, OrgChange, OrgExtras, SecretBytes,
};
use crate::store::{
    Advisor, Appointer, Category, Id, InviteScope, Organisation, StoreError, StoreResult,
};

fn insert_audit(tx: &Connection, a: &NewAudit) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, actor, org_id, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut st| st.execute(params![now_secs(), a.actor, a.org_id, a.action, a.detail]))
    .map_err(db)?;
    Ok(())
}

const ACCOUNT_COLUMNS: &str = "a.id, a.username, a.role, a.org_id, a.passphrase_hash, a.totp_secret, a.totp_pending, a.totp_last_step";

fn account_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<AdminAccount> {
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

fn ids_from_json(s: &str) -> rusqlite::Result<Vec<Id>> {
    let list: Vec<String> = json_list(s)?;
    // Ids are stored as written (validated base64url); an undecodable one is skipped.
    Ok(list
        .iter()
        .filter_map(|v| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(v.as_bytes())
                .ok()
                .and_then(|b| <Id>::try_from(b).ok())
        })
        .collect())
}

fn slug_taken(tx: &Connection, slug: &str, except_org: Option<i64>) -> StoreResult<bool> {
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

impl AdminStore for SqliteStore {
    fn require_totp(&self) -> StoreResult<bool> {
        self.read()?
            .query_row("SELECT require_totp FROM instance WHERE id = 1", [], |r| {
                r.get(0)
            })
            .map_err(db)
    }

    fn set_require_totp(&self, on: bool, audit: NewAudit) -> StoreResult<()> {
        self.tx(move |tx| {
            tx.execute("UPDATE instance SET require_totp = ?1 WHERE id = 1", [on])
                .map_err(db)?;
            insert_audit(tx, &audit)
        })
    }

    fn org_extras(&self, org_id: i64) -> StoreResult<OrgExtras> {
        let conn = self.read()?;
        conn.prepare_cached(
            "SELECT suspended, logo IS NOT NULL, advisor_order FROM organisations WHERE id = ?1",
        )
        .map_err(db)?
        .query_row([org_id], |r| {
            Ok(OrgExtras {
                suspended: r.get(0)?,
                has_logo: r.get(1)?,
                advisor_order: ids_from_json(&r.get::<_, String>(2)?)?,
            })
        })
        .optional()
        .map_err(db)?
        .ok_or(StoreError::NotFound)
    }

    fn org_by_former_slug(&self, slug: &str) -> StoreResult<Option<Organisation>> {
        let conn = self.read()?;
        conn.prepare_cached(&format!(
            "SELECT {ORG_COLUMNS} FROM organisations
             WHERE id = (SELECT org_id FROM org_former_slugs WHERE slug = ?1)"
        ))
        .map_err(db)?
        .query_row([slug], org_row)
        .optional()
        .map_err(db)
    }

    fn create_org_audited(
        &self,
        slug: &str,
        name: &str,
        categories: &[Category],
        audit: NewAudit,
    ) -> StoreResult<i64> {
        let categories = to_json(&categories)?;
        let (slug, name) = (slug.to_owned(), name.to_owned());
        self.tx(move |tx| {
            if slug_taken(tx, &slug, None)? {
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
        })
    }

    fn change_org(&self, org_id: i64, c: &OrgChange, audit: Vec<NewAudit>) -> StoreResult<()> {
        let categories = c.categories.as_ref().map(to_json).transpose()?;
        let languages = c.languages.as_ref().map(to_json).transpose()?;
        let order = c
            .advisor_order
            .as_ref()
            .map(|o| to_json(&o.iter().map(|id| b64(id)).collect::<Vec<_>>()))
            .transpose()?;
        let c = c.clone();
        self.tx(move |tx| {
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
            for a in &audit {
                insert_audit(tx, a)?;
            }
            Ok(())
        })
    }

    fn set_org_suspended(&self, org_id: i64, suspended: bool, audit: NewAudit) -> StoreResult<()> {
        self.tx(move |tx| {
            let n = tx
                .execute(
                    "UPDATE organisations SET suspended = ?2 WHERE id = ?1",
                    params![org_id, suspended],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            insert_audit(tx, &audit)
        })
    }

    fn set_org_logo(
        &self,
        org_id: i64,
        logo: Option<(Vec<u8>, String)>,
        audit: NewAudit,
    ) -> StoreResult<()> {
        let bytes = logo.as_ref().map_or(0, |(b, _)| b.len());
        self.tx_sized(bytes, move |tx| {
            let (data, kind) = match &logo {
                Some((b, t)) => (Some(b.as_slice()), Some(t.as_str())),
                None => (None, None),
            };
            let n = tx
                .execute(
                    "UPDATE organisations SET logo = ?2, logo_type = ?3 WHERE id = ?1",
                    params![org_id, data, kind],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            insert_audit(tx, &audit)
        })
    }

    fn org_logo(&self, org_id: i64) -> StoreResult<Option<(Vec<u8>, String)>> {
        let conn = self.read()?;
        let row: Option<(Option<Vec<u8>>, Option<String>)> = conn
            .prepare_cached("SELECT logo, logo_type FROM organisations WHERE id = ?1")
            .map_err(db)?
            .query_row([org_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db)?;
        Ok(row.and_then(|(b, t)| b.zip(t)))
    }

    fn advisor_suspended(&self, id: &Id) -> StoreResult<Option<bool>> {
        let conn = self.read()?;
        conn.prepare_cached("SELECT suspended FROM advisors WHERE id = ?1")
            .map_err(db)?
            .query_row([&id[..]], |r| r.get(0))
            .optional()
            .map_err(db)
    }

    fn set_advisor_suspended(&self, id: &Id, suspended: bool, audit: NewAudit) -> StoreResult<()> {
        let id = *id;
        self.tx(move |tx| {
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
                let kind = if suspended { EventKind::Suspended } else { EventKind::Unsuspended };
                insert_event(tx, kind, Some(&id), &name, org_id, Appointer::parse(&appointed_by))?;
            }
            if suspended {
                tx.execute("DELETE FROM sessions WHERE advisor_id = ?1", [&id[..]])
                    .map_err(db)?;
            }
            insert_audit(tx, &audit)
        })
    }

    fn advisor_statuses(&self, org_id: Option<i64>) -> StoreResult<Vec<AdvisorStatus>> {
        let conn = self.read()?;
        let filter = if org_id.is_some() {
            "org_id = ?1 OR org_id IS NULL"
        } else {
            "org_id IS NULL AND ?1 IS NULL"
        };
        let rows: Vec<(Advisor, bool)> = conn
            .prepare_cached(&format!(
                "SELECT {ADVISOR_COLUMNS}, suspended FROM advisors WHERE {filter}
                 ORDER BY org_id IS NULL, display_name, id"
            ))
            .map_err(db)?
            .query_map([org_id], |r| Ok((advisor_row(r)?, r.get(ADVISOR_NCOLS)?)))
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)?;
        rows.into_iter()
            .map(|(a, suspended)| {
                Ok(AdvisorStatus {
                    keys: keys_of(&conn, a).map_err(db)?,
                    suspended,
                })
            })
            .collect()
    }

    fn create_advisor_invite_audited(
        &self,
        code_hash: [u8; 32],
        scope: InviteScope,
        expires_at: i64,
        audit: NewAudit,
    ) -> StoreResult<()> {
        self.tx(move |tx| {
            tx.execute(
                "INSERT INTO invites (code_hash, org_id, external, expires_at, appointed_by) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![&code_hash[..], scope.org_id, scope.external, expires_at, scope.appointed_by.as_str()],
            )
            .map_err(db)?;
            insert_audit(tx, &audit)
        })
    }

    fn create_admin_account(
        &self,
        username: &str,
        role: AdminRole,
        org_id: Option<i64>,
        passphrase_hash: &str,
        audit: NewAudit,
    ) -> StoreResult<i64> {
        let (username, hash) = (
            username.to_owned(),
            Zeroizing::new(passphrase_hash.to_owned()),
        );
        self.tx(move |tx| {
            let id = insert_account(tx, &username, role, org_id, &hash)?;
            insert_audit(tx, &audit)?;
            Ok(id)
        })
    }

    fn admin_account(&self, username: &str) -> StoreResult<Option<AdminAccount>> {
        let conn = self.read()?;
        conn.prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM admin_accounts a WHERE a.username = ?1"
        ))
        .map_err(db)?
        .query_row([username], |r| account_row(r, 0))
        .optional()
        .map_err(db)
    }

    fn create_admin_invite(
        &self,
        code_hash: [u8; 32],
        org_id: i64,
        expires_at: i64,
        audit: NewAudit,
    ) -> StoreResult<()> {
        self.tx(move |tx| {
            let now = now_secs();
            tx.execute("DELETE FROM admin_invites WHERE expires_at <= ?1", [now])
                .map_err(db)?;
            tx.execute(
                "INSERT INTO admin_invites (code_hash, org_id, expires_at) VALUES (?1, ?2, ?3)",
                params![&code_hash[..], org_id, expires_at],
            )
            .map_err(db)?;
            insert_audit(tx, &audit)
        })
    }

    fn accept_admin_invite(
        &self,
        code_hash: [u8; 32],
        now: i64,
        username: &str,
        passphrase_hash: &str,
    ) -> StoreResult<i64> {
        let (username, hash) = (
            username.to_owned(),
            Zeroizing::new(passphrase_hash.to_owned()),
        );
        self.tx(move |tx| {
            let org_id: Option<i64> = tx
                .query_row(
                    "SELECT org_id FROM admin_invites WHERE code_hash = ?1 AND expires_at > ?2",
                    params![&code_hash[..], now],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            let org_id = org_id.ok_or(StoreError::NotFound)?;
            tx.execute(
                "DELETE FROM admin_invites WHERE code_hash = ?1",
                [&code_hash[..]],
            )
            .map_err(db)?;
            insert_account(tx, &username, AdminRole::OrgAdmin, Some(org_id), &hash)?;
            insert_audit(
                tx,
                &NewAudit {
                    actor: username.clone(),
                    org_id: Some(org_id),
                    action: "org_admin.join".into(),
                    detail: format!("organisation admin `{username}` joined with an invite"),
                },
            )?;
            Ok(org_id)
        })
    }

    fn set_admin_passphrase(
        &self,
        account_id: i64,
        passphrase_hash: &str,
        keep_session: [u8; 32],
        audit: NewAudit,
    ) -> StoreResult<()> {
        let hash = Zeroizing::new(passphrase_hash.to_owned());
        self.tx(move |tx| {
            let n = tx
                .execute(
                    "UPDATE admin_accounts SET passphrase_hash = ?2 WHERE id = ?1",
                    params![account_id, hash.as_str()],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "DELETE FROM admin_sessions WHERE account_id = ?1 AND token_hash <> ?2",
                params![account_id, &keep_session[..]],
            )
            .map_err(db)?;
            insert_audit(tx, &audit)
        })
    }

    fn set_totp_pending(&self, account_id: i64, secret: SecretBytes) -> StoreResult<()> {
        self.tx(move |tx| {
            let n = tx
                .execute(
                    "UPDATE admin_accounts SET totp_pending = ?2 WHERE id = ?1",
                    params![account_id, secret.0.as_slice()],
                )
                .map_err(db)?;
            if n == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
    }

    fn confirm_totp(
        &self,
        account_id: i64,
        secret: SecretBytes,
        step: i64,
        audit: NewAudit,
    ) -> StoreResult<()> {
        self.tx(move |tx| {
            let n = tx
                .execute(
                    "UPDATE admin_accounts SET totp_secret = totp_pending, totp_pending = NULL,
                        totp_last_step = max(totp_last_step, ?3)
                     WHERE id = ?1 AND totp_pending = ?2",
                    params![account_id, secret.0.as_slice(), step],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Conflict(
                    "the TOTP setup changed meanwhile".into(),
                ));
            }
            insert_audit(tx, &audit)
        })
    }

    fn reset_admin_totp(&self, account_id: i64, audit: NewAudit) -> StoreResult<()> {
        self.tx(move |tx| {
            let n = tx
                .execute(
                    "UPDATE admin_accounts SET totp_secret = NULL, totp_pending = NULL WHERE id = ?1",
                    params![account_id],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            tx.execute("DELETE FROM admin_sessions WHERE account_id = ?1", params![account_id])
                .map_err(db)?;
            insert_audit(tx, &audit)
        })
    }

    fn use_totp_step(&self, account_id: i64, step: i64) -> StoreResult<bool> {
        self.tx(move |tx| {
            let n = tx
                .execute(
                    "UPDATE admin_accounts SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2",
                    params![account_id, step],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
    }

    fn create_admin_session(
        &self,
        token_hash: [u8; 32],
        account_id: i64,
        now: i64,
        idle_secs: i64,
        max_secs: i64,
        audit: NewAudit,
    ) -> StoreResult<()> {
        self.tx(move |tx| {
            tx.execute(
                "DELETE FROM admin_sessions WHERE created_at <= ?1 OR last_seen <= ?2",
                params![now.saturating_sub(max_secs), now.saturating_sub(idle_secs)],
            )
            .map_err(db)?;
            tx.execute(
                "INSERT INTO admin_sessions (token_hash, account_id, created_at, last_seen)
                 VALUES (?1, ?2, ?3, ?3)",
                params![&token_hash[..], account_id, now],
            )
            .map_err(db)?;
            insert_audit(tx, &audit)
        })
    }

    fn admin_session(&self, token_hash: &[u8; 32]) -> StoreResult<Option<AdminSessionRow>> {
        let conn = self.read()?;
        let row = conn
            .prepare_cached(&format!(
                "SELECT s.token_hash, s.created_at, s.last_seen,
                        (SELECT require_totp FROM instance WHERE id = 1), {ACCOUNT_COLUMNS}
                 FROM admin_sessions s JOIN admin_accounts a ON a.id = s.account_id
                 WHERE s.token_hash = ?1"
            ))
            .map_err(db)?
            .query_row([&token_hash[..]], |r| {
                let stored: Vec<u8> = r.get(0)?;
                Ok((
                    stored,
                    AdminSessionRow {
                        created_at: r.get(1)?,
                        last_seen: r.get(2)?,
                        require_totp: r.get(3)?,
                        account: account_row(r, 4)?,
                    },
                ))
            })
            .optional()
            .map_err(db)?;
        // Found through the index; the stored hash is compared again in constant time.
        Ok(row.and_then(|(stored, session)| {
            let stored: [u8; 32] = stored.try_into().ok()?;
            crate::verify::token_hash_eq(&stored, token_hash).then_some(session)
        }))
    }

    fn touch_admin_session(&self, token_hash: &[u8; 32], now: i64) -> StoreResult<()> {
        let token_hash = *token_hash;
        self.tx(move |tx| {
            tx.execute(
                "UPDATE admin_sessions SET last_seen = max(last_seen, ?2) WHERE token_hash = ?1",
                params![&token_hash[..], now],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn delete_admin_session(&self, token_hash: &[u8; 32]) -> StoreResult<()> {
        let token_hash = *token_hash;
        self.tx(move |tx| {
            tx.execute(
                "DELETE FROM admin_sessions WHERE token_hash = ?1",
                [&token_hash[..]],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn audit_log(&self, scope: AuditScope, limit: u32) -> StoreResult<Vec<AuditRow>> {
        let conn = self.read()?;
        let org = match scope {
            AuditScope::All => None,
            AuditScope::Org(id) => Some(id),
        };
        conn.prepare_cached(
            "SELECT l.at, l.actor, o.slug, l.action, l.detail
             FROM audit_log l LEFT JOIN organisations o ON o.id = l.org_id
             WHERE ?1 IS NULL OR l.org_id = ?1
             ORDER BY l.id DESC LIMIT ?2",
        )
        .map_err(db)?
        .query_map(params![org, limit], |r| {
            Ok(AuditRow {
                at: r.get(0)?,
                actor: r.get(1)?,
                org: r.get(2)?,
                action: r.get(3)?,
                detail: r.get(4)?,
            })
        })
        .map_err(db)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db)
    }
}

fn insert_account(
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

#[cfg(test)]
mod tests {
    use super::super::MIGRATIONS;
    use super::*;
    use crate::store::Store;

    /// A version-1 database with a case is migrated: the case keeps its organisation's slug as
    /// its tenant, also after the organisation is renamed.
    #[test]
    fn migration_2_keeps_existing_cases_readable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute_batch(
                "INSERT INTO instance (id, pow_key, created_day) VALUES (1, zeroblob(32), '2025-01-01');
                 INSERT INTO organisations (id, slug, name) VALUES (1, 'oud', 'Oud');
                 INSERT INTO cases (id, org_id, token_hash, status, created_day, updated_day)
                 VALUES (zeroblob(16), 1, zeroblob(32), 'new', '2025-01-01', '2025-01-01');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap() as usize, MIGRATIONS.len());
        assert!(!store.require_totp().unwrap());
        let case = store.case_by_token(&[0u8; 32]).unwrap().unwrap();
        assert_eq!(case.org_slug, "oud");
        let change = OrgChange {
            slug: Some("nieuw".into()),
            ..OrgChange::default()
        };
        store.change_org(1, &change, Vec::new()).unwrap();
        assert_eq!(
            store.case_by_token(&[0u8; 32]).unwrap().unwrap().org_slug,
            "oud"
        );
        assert_eq!(
            store.org_by_former_slug("oud").unwrap().unwrap().slug,
            "nieuw"
        );
        assert_eq!(store.org_extras(1).unwrap(), OrgExtras::default());
    }

    /// A version-3 database with advisors and pending invites is migrated: branch-wide and
    /// external advisors count as appointed by the branch organisation, the others by their
    /// organisation, all since the upgrade day; pending invites likewise; events start empty.
    #[test]
    fn migration_4_appoints_existing_advisors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        {
            let conn = Connection::open(&path).unwrap();
            for m in &MIGRATIONS[..3] {
                conn.execute_batch(m).unwrap();
            }
            conn.pragma_update(None, "user_version", 3).unwrap();
            conn.execute_batch(
                "INSERT INTO instance (id, pow_key, created_day) VALUES (1, zeroblob(32), '2025-01-01');
                 INSERT INTO organisations (id, slug, name) VALUES (1, 'oud', 'Oud');
                 INSERT INTO advisors (id, org_id, identity_pk, display_name, external, languages)
                 VALUES (x'01010101010101010101010101010101', 1, x'0101010101010101010101010101010101010101010101010101010101010101', 'Intern', 0, '[]'),
                        (x'02020202020202020202020202020202', 1, x'0202020202020202020202020202020202020202020202020202020202020202', 'Extern', 1, '[]'),
                        (x'03030303030303030303030303030303', NULL, x'0303030303030303030303030303030303030303030303030303030303030303', 'Branche', 1, '[]');
                 INSERT INTO invites (code_hash, org_id, external, expires_at)
                 VALUES (x'0101010101010101010101010101010101010101010101010101010101010101', 1, 0, 9999999999),
                        (x'0202020202020202020202020202020202020202020202020202020202020202', 1, 1, 9999999999);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert!(store.schema_version().unwrap() >= 4);
        let today = crate::day::Day::today();
        for (id, want) in [
            ([1u8; 16], Appointer::Organisation),
            ([2u8; 16], Appointer::Branch),
            ([3u8; 16], Appointer::Branch),
        ] {
            let a = store.advisor(&id).unwrap().unwrap().advisor;
            assert_eq!(a.appointed_by, want, "{}", a.display_name);
            assert_eq!(a.appointed_on, today);
        }
        let conn = store.read().unwrap();
        let invites: Vec<String> = conn
            .prepare("SELECT appointed_by FROM invites ORDER BY code_hash")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(invites, ["organisation", "branch"]);
        drop(conn);
        assert!(store.advisor_events(&[1u8; 16], 200).unwrap().is_empty());
        // The upgraded store records events from now on.
        let a = store.advisor(&[2u8; 16]).unwrap().unwrap();
        store
            .set_advisor_suspended(
                &a.advisor.id,
                true,
                NewAudit {
                    actor: "cli".into(),
                    org_id: Some(1),
                    action: "advisor.suspend".into(),
                    detail: String::new(),
                },
            )
            .unwrap();
        let ev = store.advisor_events(&[1u8; 16], 200).unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, EventKind::Suspended);
        assert_eq!(ev[0].advisor, Some([2u8; 16]));
        assert_eq!(ev[0].org.as_deref(), Some("oud"));
        assert!(store.advisor_events(&[2u8; 16], 200).unwrap().is_empty());
        assert_eq!(store.advisor_events(&[3u8; 16], 200).unwrap().len(), 1);
    }
}
