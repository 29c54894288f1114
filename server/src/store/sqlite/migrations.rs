//! Versioned migrations, one `.sql` file each in `migrations/`; `PRAGMA user_version` holds
//! how many have run. Append only: a released migration is never edited, a change of schema
//! is a new file (and a new entry below).

use rusqlite::{Connection, TransactionBehavior, params};

use super::db;
use crate::day::Day;
use crate::store::{StoreError, StoreResult};

/// The migrations in order; migration `n` (from 1) is `MIGRATIONS[n - 1]`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    include_str!("migrations/0001_initial.sql"),
    // 2: administration (issue 6): admin accounts, sessions, invites, audit log; suspension,
    // logo, advisor order and former slugs of organisations; suspension of advisors. A case
    // keeps the slug its envelopes were sealed for (`tenant`), so renaming an organisation
    // leaves its cases readable. See `store/admin.rs`.
    include_str!("migrations/0002_administration.sql"),
    // 3: advisors' notification addresses (optional, `[notify]`). `IF NOT EXISTS`: builds
    // between the operations and administration work created it outside the migrations.
    include_str!("migrations/0003_advisor_notify.sql"),
    // 4: who appointed an advisor, and since when (issue 11); advisor events. An invite
    // records the role of whoever made it; existing advisors and invites count as appointed
    // by the branch organisation if branch-wide or external, else by their organisation, and
    // existing advisors as appointed today (their registration day was never stored).
    include_str!("migrations/0004_appointments_and_events.sql"),
    // A closed case's deletion day, fixed when it is closed (closed day + the retention in
    // force then): a later, shorter retention applies only to cases closed after it. Cases
    // closed before this migration get the retention in force now.
    include_str!("migrations/0005_case_delete_day.sql"),
];

/// Runs the migrations a database lacks, then creates the instance row (with a random
/// proof-of-work key) on first start.
pub(super) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(db)
        .map(|v| usize::try_from(v).unwrap_or(0))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Db(format!(
            "database schema version {version} is newer than this server ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(db)?;
        tx.execute_batch(sql).map_err(db)?;
        tx.pragma_update(None, "user_version", i + 1).map_err(db)?;
        tx.commit().map_err(db)?;
    }
    let has_instance: bool = conn
        .query_row("SELECT EXISTS (SELECT 1 FROM instance)", [], |r| r.get(0))
        .map_err(db)?;
    if !has_instance {
        let mut key = [0u8; 32];
        meldpunt_crypto::rng::Rng::fill_bytes(&mut meldpunt_crypto::rng::os_rng(), &mut key);
        conn.execute(
            "INSERT INTO instance (id, pow_key, created_day) VALUES (1, ?1, ?2)",
            params![&key[..], Day::today().to_string()],
        )
        .map_err(db)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use super::*;
    use crate::store::admin::{AdminStore, NewAudit, OrgChange, OrgExtras};
    use crate::store::{Appointer, EventKind, Store};

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
