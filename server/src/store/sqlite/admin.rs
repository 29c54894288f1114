//! The SQLite implementation of [`AdminStore`]: every change runs in one writer transaction
//! together with its audit entries (see the parent module for the group commit).

use rusqlite::{OptionalExtension, params};
use zeroize::Zeroizing;

use super::admin_rows::{self, ACCOUNT_COLUMNS, account_row, insert_account, insert_audit};
use super::advisors::{ADVISOR_COLUMNS, ADVISOR_NCOLS, advisor_row, keys_of};
use super::orgs::{ORG_COLUMNS, org_row};
use super::SqliteStore;
use super::rows::{db, id_text, ids_from_json, to_json};
use crate::day::now_secs;
use crate::store::admin::{
    AdminAccount, AdminRole, AdminSessionRow, AdminStore, AdvisorStatus, AuditRow, AuditScope,
    NewAudit, OrgChange, OrgExtras, SecretBytes,
};
use crate::store::{Advisor, Category, Id, InviteScope, Organisation, StoreError, StoreResult};

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
        self.tx(move |tx| admin_rows::create_org(tx, (slug.as_str(), name.as_str()), &categories, audit))
    }

    fn change_org(&self, org_id: i64, c: &OrgChange, audit: Vec<NewAudit>) -> StoreResult<()> {
        let categories = c.categories.as_ref().map(to_json).transpose()?;
        let languages = c.languages.as_ref().map(to_json).transpose()?;
        let order = c
            .advisor_order
            .as_ref()
            .map(|o| to_json(&o.iter().map(id_text).collect::<Vec<_>>()))
            .transpose()?;
        let c = c.clone();
        self.tx(move |tx| admin_rows::change_org(tx, org_id, &c, (categories, languages, order), &audit))
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
        self.tx(move |tx| admin_rows::set_advisor_suspended(tx, &id, suspended, &audit))
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
            meldpunt_crypto::pickup::token_hash_eq(&stored, token_hash).then_some(session)
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

