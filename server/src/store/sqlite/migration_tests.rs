//! Migration tests: older databases open, are migrated and read as before.

use rusqlite::Connection;

use super::SqliteStore;
use super::migrations::MIGRATIONS;
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
