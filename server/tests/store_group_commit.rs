//! The SQLite store's group commit: many concurrent writers are all answered, every
//! acknowledged write is there after reopening the database, a failing operation in a batch
//! fails alone, and a full disk answers `Busy` (HTTP 503) without losing acknowledged writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use meldpunt_server::day::Day;
use meldpunt_server::store::sqlite::SqliteStore;
use meldpunt_server::store::{
    Id, InviteScope, NewAdvisor, NewCase, Sender, Status, Store, StoreError, StoredBundle,
};

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    meldpunt_crypto::rng::Rng::fill_bytes(&mut meldpunt_crypto::rng::os_rng(), &mut b);
    b
}

fn rand16() -> [u8; 16] {
    random()
}

fn rand32() -> [u8; 32] {
    random()
}

/// A new database file in a temporary folder, opened, with `setup` done:
/// (folder, file, store, org id, advisor id).
fn fresh_store() -> (tempfile::TempDir, PathBuf, Arc<SqliteStore>, i64, Id) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let (org, advisor) = setup(&store);
    (dir, path, store, org, advisor)
}

/// An organisation with one advisor; returns (org id, advisor id).
fn setup(store: &SqliteStore) -> (i64, Id) {
    let org = store.create_org("acme", "Acme").unwrap();
    let code = rand32();
    store
        .create_invite(code, InviteScope { org_id: Some(org), external: false, appointed_by: meldpunt_server::store::Appointer::Organisation }, i64::MAX)
        .unwrap();
    let advisor = NewAdvisor {
        id: rand16(),
        identity_pk: rand32(),
        display_name: "A".into(),
        bio: String::new(),
        photo: None,
        languages: vec![],
    };
    let bundle = StoredBundle {
        key_id: rand16(),
        bytes: vec![0; 165],
        not_before: 0,
        not_after: i64::MAX,
    };
    let a = store.register_advisor(code, 1, &advisor, &bundle).unwrap();
    (org, a.id)
}

fn new_case(org: i64, advisor: Id, envelope_len: usize) -> NewCase {
    NewCase {
        id: rand16(),
        org_id: org,
        token_hash: rand32(),
        advisors: vec![advisor],
        envelope: vec![7; envelope_len],
        day: Day::today(),
    }
}

fn assert_present(store: &SqliteStore, c: &NewCase) {
    let info = store
        .case_by_token(&c.token_hash)
        .unwrap()
        .unwrap_or_else(|| panic!("acknowledged case missing after reopening"));
    assert_eq!(info.id, c.id);
    assert_eq!(info.advisors, c.advisors);
    let m = store.messages(&c.id).unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].envelope, c.envelope);
}

#[test]
fn concurrent_writers_all_acknowledged_and_durable() {
    let (_dir, path, store, org, advisor) = fresh_store();

    const THREADS: usize = 32;
    const PER_THREAD: usize = 40;
    let mut handles = Vec::new();
    for t in 0..THREADS {
        let store = Arc::clone(&store);
        handles.push(std::thread::spawn(move || {
            let mut acked = Vec::new();
            for i in 0..PER_THREAD {
                let c = new_case(org, advisor, 4096 + 600);
                // Half through the blocking API, half through the queued one.
                let r = if (t + i) % 2 == 0 {
                    store.create_case(&c)
                } else {
                    store.create_case_queued(c.clone()).wait()
                };
                r.unwrap();
                acked.push(c);
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for h in handles {
        acked.extend(h.join().unwrap());
    }
    assert_eq!(acked.len(), THREADS * PER_THREAD);
    let stats = store.writer_stats();
    let (commits, ops, max) = (
        stats.commits.load(Ordering::Relaxed),
        stats.ops.load(Ordering::Relaxed),
        stats.max_batch.load(Ordering::Relaxed),
    );
    eprintln!("{ops} writes in {commits} commits, largest batch {max}");
    assert_eq!(stats.failed_batches.load(Ordering::Relaxed), 0);

    // Reopen: everything acknowledged is there.
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    for c in &acked {
        assert_present(&store, c);
    }
}

#[test]
fn a_failing_operation_does_not_fail_its_batch() {
    let (_dir, path, store, org, advisor) = fresh_store();
    let existing = new_case(org, advisor, 100);
    store.create_case(&existing).unwrap();

    // Hold the writer so that everything below is queued and then taken as one batch.
    let release = store.hold_writer().unwrap();
    let before = store.writer_stats().commits.load(Ordering::Relaxed);

    let good: Vec<NewCase> = (0..20).map(|_| new_case(org, advisor, 4096)).collect();
    let mut pending = Vec::new();
    for (i, c) in good.iter().enumerate() {
        pending.push(store.create_case_queued(c.clone()));
        if i == 5 {
            // Same token as a committed case: unique violation.
            let mut dup = new_case(org, advisor, 10);
            dup.token_hash = existing.token_hash;
            pending.push(store.create_case_queued(dup));
        }
        if i == 10 {
            // Same token as a case earlier in this very batch.
            let mut dup = new_case(org, advisor, 10);
            dup.token_hash = good[3].token_hash;
            pending.push(store.create_case_queued(dup));
        }
        if i == 15 {
            // An unknown organisation: foreign key violation (a server fault, 500).
            pending.push(store.create_case_queued(new_case(org + 1000, advisor, 10)));
        }
    }
    // Blocking writers with their own validation failures, queued from other threads.
    let s = Arc::clone(&store);
    let missing = std::thread::spawn(move || {
        s.add_message(&rand16(), Sender::Reporter, b"x", Day::today(), 100)
    });
    let s = Arc::clone(&store);
    let id = existing.id;
    let limit = std::thread::spawn(move || s.add_message(&id, Sender::Reporter, b"x", Day::today(), 1));
    let s = Arc::clone(&store);
    let status = std::thread::spawn(move || s.set_status(&id, Status::Acknowledged, Day::today()));
    std::thread::sleep(std::time::Duration::from_millis(200));
    release.send(()).unwrap();

    let results: Vec<_> = pending.into_iter().map(|p| p.wait()).collect();
    assert!(matches!(missing.join().unwrap(), Err(StoreError::NotFound)));
    assert!(matches!(limit.join().unwrap(), Err(StoreError::Limit(_))));
    status.join().unwrap().unwrap();
    // 20 good, then the three failures at their places.
    let failures: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(failures, vec![6, 12, 18], "{results:?}");
    assert!(matches!(results[6], Err(StoreError::Conflict(_))));
    assert!(matches!(results[12], Err(StoreError::Conflict(_))));
    assert!(matches!(results[18], Err(StoreError::Db(_))));

    // The queued creates went in one commit (plus the held one).
    let stats = store.writer_stats();
    assert!(stats.max_batch.load(Ordering::Relaxed) >= 23);
    assert!(stats.commits.load(Ordering::Relaxed) - before <= 3);
    assert_eq!(stats.failed_batches.load(Ordering::Relaxed), 0);

    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    for c in &good {
        assert_present(&store, c);
    }
    assert_present(&store, &existing);
    let info = store.case_by_token(&existing.token_hash).unwrap().unwrap();
    assert_eq!(info.status, Status::Acknowledged);
    assert_eq!(info.message_count, 1);
}

#[test]
fn full_disk_answers_busy_and_keeps_acknowledged_writes() {
    let (_dir, path, store, org, advisor) = fresh_store();
    let before = new_case(org, advisor, 4096);
    store.create_case(&before).unwrap();

    // Cap the file at its current size plus a few pages: large writes hit SQLITE_FULL.
    store.writer_pragma("PRAGMA max_page_count = 60").unwrap();
    let mut acked = Vec::new();
    let mut busy = 0;
    let release = store.hold_writer().unwrap();
    let cases: Vec<NewCase> = (0..40).map(|_| new_case(org, advisor, 64 * 1024)).collect();
    let pending: Vec<_> = cases.iter().map(|c| store.create_case_queued(c.clone())).collect();
    release.send(()).unwrap();
    for (c, p) in cases.into_iter().zip(pending) {
        match p.wait() {
            Ok(()) => acked.push(c),
            Err(StoreError::Busy) => busy += 1,
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert!(busy > 0, "the page limit was never hit");

    // Room again: writes work again.
    store.writer_pragma("PRAGMA max_page_count = 1073741823").unwrap();
    let after = new_case(org, advisor, 4096);
    store.create_case(&after).unwrap();

    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    for c in acked.iter().chain([&before, &after]) {
        assert_present(&store, c);
    }
}
