//! Versioned migrations, one `.sql` file each in `migrations/`; `PRAGMA user_version` holds
//! how many have run. Append only: a released migration is never edited, a change of schema
//! is a new file (and a new entry below).

use rusqlite::{Connection, TransactionBehavior, params};

use super::rows::db;
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
