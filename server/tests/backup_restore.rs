//! `meldpunt backup` while writers write, then `meldpunt restore` into a fresh place and a
//! server on the restored database: every case and message acknowledged (2xx) before the
//! backup started is there, byte for byte, through the reporter's token and the advisor's
//! path. Restore refuses an existing database without `--force` (files unchanged) and a
//! database a server is running on (even with `--force`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::print_stdout)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use meldpunt_tests::*;
use meldpunt_crypto::envelope::Purpose;
use meldpunt_crypto::pickup::CaseToken;
use meldpunt_crypto::recipient::RecipientKey;
use meldpunt_crypto::rng::{Rng, os_rng};
use serde_json::json;

const WRITERS: usize = 4;

fn sections() -> String {
    format!("{DEFAULT_EXTRA}\n[pow]\nenabled = false\n")
}

/// A case as its writer saw it acknowledged: the token, and every envelope by `seq` with the
/// moment its 2xx arrived.
struct Written {
    token: String,
    envelopes: Vec<(u32, Vec<u8>, Instant)>,
}

/// `meldpunt restore --from BACKUP --database DB [--force]`.
fn restore(backup: &Path, db: &Path, force: bool) -> Output {
    let mut args = vec![
        "restore",
        "--from",
        backup.to_str().unwrap(),
        "--database",
        db.to_str().unwrap(),
    ];
    if force {
        args.push("--force");
    }
    meldpunt(&args)
}

fn meldpunt(args: &[&str]) -> Output {
    Command::new(meldpunt_bin())
        .args(args)
        .env_remove("MELDPUNT_CONFIG")
        .env_remove("MELDPUNT_DATABASE")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn payload(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    os_rng().fill_bytes(&mut b);
    b
}

/// One writer: new cases with two follow-ups each, until `stop` (bounded in count too).
fn writer(server: &Server, to: &[RecipientKey], advisor: &str, stop: &AtomicBool) -> Vec<Written> {
    let mut out = Vec::new();
    for _ in 0..3000 {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let mut t = [0u8; 32];
        os_rng().fill_bytes(&mut t);
        let token = CaseToken::from_bytes(t);
        let env = seal(Purpose::Report, "acme", to, &payload(2000));
        let r = server
            .post("/api/v1/cases")
            .json(&json!({
                "org": "acme",
                "advisors": [advisor],
                "token_hash": b64(&token.hash()),
                "envelope": b64(&env),
            }))
            .send()
            .unwrap();
        if r.status() != 201 {
            // Not acknowledged: not promised either (e.g. 503 under load).
            continue;
        }
        let mut w = Written {
            token: token.to_base64url().to_string(),
            envelopes: vec![(0, env, Instant::now())],
        };
        for _ in 0..2 {
            let env = seal(Purpose::Message, "acme", to, &payload(800));
            let r = server
                .post("/api/v1/case/messages")
                .header("Authorization", format!("CaseToken {}", w.token))
                .json(&json!({"envelope": b64(&env)}))
                .send()
                .unwrap();
            if r.status() == 201 {
                let at = Instant::now();
                let seq = r.json::<serde_json::Value>().unwrap()["seq"]
                    .as_u64()
                    .unwrap();
                w.envelopes.push((u32::try_from(seq).unwrap(), env, at));
            }
        }
        out.push(w);
    }
    out
}

/// A server on an existing (restored) database in `dir`.
fn server_on(dir: tempfile::TempDir, db: PathBuf) -> Server {
    let mut s = Server::configured(
        dir,
        db,
        &format!("metrics = {{ enabled = false }}\n{}\n", sections()),
        0,
        Duration::from_secs(60),
    );
    s.spawn();
    s
}

fn file_state(db: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| {
            let p = format!("{}{s}", db.display());
            let bytes = std::fs::read(&p).ok();
            (p, bytes)
        })
        .collect()
}

#[test]
fn backup_under_load_restores_every_acknowledged_write() {
    let mut server = Server::start_with("", &sections());
    server.create_org("acme");
    let mut a1 = Advisor::register(&server, &server.invite(Some("acme")), "Anna");
    let page = server.org_page("acme");
    let to = recipients(page["advisors"].as_array().unwrap(), None);
    let backup = server.dir.path().join("backup-1.db");

    // Writers run; the backup starts while they write and they go on until it is done.
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<Written>> = Mutex::new(Vec::new());
    let (backup_started, backup_out) = std::thread::scope(|s| {
        for _ in 0..WRITERS {
            s.spawn(|| {
                let w = writer(&server, &to, &a1.id, &stop);
                results.lock().unwrap().extend(w);
            });
        }
        std::thread::sleep(Duration::from_millis(2500));
        let started = Instant::now();
        let out = meldpunt(&[
            "--config",
            server.config.to_str().unwrap(),
            "backup",
            "--to",
            backup.to_str().unwrap(),
        ]);
        std::thread::sleep(Duration::from_millis(1000));
        stop.store(true, Ordering::Relaxed);
        (started, out)
    });
    assert!(backup_out.status.success(), "{}", text(&backup_out));
    let written = results.into_inner().unwrap();
    let before: usize = written
        .iter()
        .map(|w| {
            w.envelopes
                .iter()
                .filter(|(_, _, at)| *at < backup_started)
                .count()
        })
        .sum();
    let after: usize = written
        .iter()
        .map(|w| {
            w.envelopes
                .iter()
                .filter(|(_, _, at)| *at >= backup_started)
                .count()
        })
        .sum();
    println!("acknowledged before the backup started: {before}, after: {after}");
    assert!(before >= 20, "too few writes before the backup: {before}");
    assert!(after > 0, "the writers did not write during the backup");

    // Restore refuses a database a server is running on, even with --force.
    let live = server.db.clone();
    let out = restore(&backup, &live, true);
    assert!(!out.status.success());
    assert!(text(&out).contains("in use"), "{}", text(&out));
    server.stop();

    // Into a fresh place.
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = fresh_dir.path().join("data").join("meldpunt.db");
    let out = restore(&backup, &fresh, false);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("restored"), "{}", text(&out));

    // Without --force an existing database is refused, with a clear message, files unchanged:
    // the fresh one and the old live one.
    for db in [&fresh, &live] {
        let before_state = file_state(db);
        let out = restore(&backup, db, false);
        assert!(!out.status.success());
        let msg = text(&out);
        assert!(
            msg.contains("exists; nothing was changed") && msg.contains("--force"),
            "{msg}"
        );
        assert!(before_state == file_state(db), "{} changed", db.display());
    }

    // A server on the restored database finds every write acknowledged before the backup.
    let mut restored = server_on(fresh_dir, fresh.clone());
    a1.login(&restored);
    let mut by_report: HashMap<Vec<u8>, String> = HashMap::new();
    for c in a1.inbox(&restored) {
        let id = c["id"].as_str().unwrap().to_owned();
        let v = a1.case(&restored, &id);
        by_report.insert(unb64(v["messages"][0]["envelope"].as_str().unwrap()), id);
    }
    let mut checked = 0;
    for w in &written {
        let promised: Vec<&(u32, Vec<u8>, Instant)> = w
            .envelopes
            .iter()
            .filter(|(_, _, at)| *at < backup_started)
            .collect();
        if promised.is_empty() {
            continue;
        }
        // Reporter path.
        let r = restored
            .get("/api/v1/case")
            .header("Authorization", format!("CaseToken {}", w.token))
            .send()
            .unwrap();
        let v = expect(r, 200, None);
        let msgs = v["messages"].as_array().unwrap();
        // Advisor path.
        let id = by_report
            .get(&w.envelopes[0].1)
            .unwrap_or_else(|| panic!("case of token {} not in the advisor's inbox", w.token));
        let av = a1.case(&restored, id);
        let amsgs = av["messages"].as_array().unwrap();
        for (seq, env, _) in promised {
            let i = usize::try_from(*seq).unwrap();
            assert_eq!(msgs[i]["seq"], *seq);
            assert_eq!(unb64(msgs[i]["envelope"].as_str().unwrap()), *env);
            assert_eq!(unb64(amsgs[i]["envelope"].as_str().unwrap()), *env);
            checked += 1;
        }
    }
    assert_eq!(checked, before);
    restored.assert_no_leaks(&[]);

    // --force replaces the stopped live database atomically; a stale -wal is removed.
    let stale_wal = PathBuf::from(format!("{}-wal", live.display()));
    std::fs::write(
        &stale_wal,
        b"stale write-ahead log of the replaced database",
    )
    .unwrap();
    let out = restore(&backup, &live, true);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!stale_wal.exists());
    assert_eq!(
        std::fs::read(&live).unwrap(),
        std::fs::read(&backup).unwrap()
    );
    server.spawn();
    a1.login(&server);
    assert_eq!(a1.inbox(&server).len(), by_report.len());
    server.assert_no_leaks(&[]);
}
