//! Retention against the real server process and the real SQLite file: cases with messages,
//! an attachment and detached stanzas (from a share) are closed; once past their
//! organisation's retention they are deleted with everything in them, and their ciphertext is
//! gone from the database file, the WAL and the shared-memory file, while the other cases
//! are intact byte for byte. Not counted in `/metrics` (only vacuum runs and failures are).
//!
//! Time: the first purge runs in the server at start for a case whose closing day the test
//! moved into the past in the stopped database (one `UPDATE` of `cases.closed_day`; the server
//! has no clock knob); the second runs through `meldpunt purge --today DAY` on the stopped
//! database, the operator's command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::Command;

use meldpunt_tests::*;
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::rng::{Rng, os_rng};
use serde_json::{Value, json};

/// Test settings: no proof of work (speed), generous rate limits.
fn sections() -> String {
    format!("{DEFAULT_EXTRA}\n[pow]\nenabled = false\n")
}

/// Windows of ciphertext that identify one case in the files.
#[derive(Default)]
struct Markers(Vec<Vec<u8>>);

impl Markers {
    fn add(&mut self, bytes: &[u8]) {
        // Three 48-byte windows spread over the ciphertext (header, middle, end).
        let n = bytes.len();
        assert!(n >= 96, "too short to mark");
        for start in [n / 4, n / 2, n - 48] {
            self.0.push(bytes[start..start + 48].to_vec());
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The database file, its WAL and shared-memory file (those that exist), read.
fn db_files(db: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db.display())))
        .filter(|p| p.exists())
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect()
}

fn assert_absent(db: &Path, m: &Markers, what: &str) {
    for (p, bytes) in db_files(db) {
        for (i, needle) in m.0.iter().enumerate() {
            assert!(
                !contains(&bytes, needle),
                "{what}: marker {i} still in {}",
                p.display()
            );
        }
    }
}

fn assert_present(db: &Path, m: &Markers, what: &str) {
    let files = db_files(db);
    for (i, needle) in m.0.iter().enumerate() {
        assert!(
            files.iter().any(|(_, b)| contains(b, needle)),
            "{what}: marker {i} not found in the database files"
        );
    }
}

/// One filed case: what the server was given, to compare later.
struct Filed {
    reporter: Reporter,
    envelopes: Vec<Vec<u8>>,
    attachment: Option<(String, Vec<u8>)>,
    id: String,
    markers: Markers,
}

fn file_case(server: &Server, a: &Advisor, body: &[u8]) -> Filed {
    let reporter = Reporter::new();
    let page = server.org_page("acme");
    let mut to = recipients(
        page["advisors"].as_array().unwrap(),
        Some(std::slice::from_ref(&a.id)),
    );
    to.push(reporter.keys.reply_key().recipient());
    let env = reporter.sealed_report("acme", &to, body);
    let r = server
        .post("/api/v1/cases")
        .json(&json!({
            "org": "acme",
            "advisors": [a.id],
            "token_hash": b64(&reporter.keys.case_token().hash()),
            "envelope": b64(&env),
        }))
        .send()
        .unwrap();
    expect(r, 201, None);
    let mut markers = Markers::default();
    markers.add(&env);
    // Its id, from the advisor's inbox (the one case of this reporter's token).
    let view = reporter.case(server);
    assert_eq!(view["messages"].as_array().unwrap().len(), 1);
    let id = a
        .inbox(server)
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .find(|id| {
            let v = a.case(server, id);
            v["messages"][0]["envelope"] == b64(&env).as_str()
        })
        .unwrap();
    Filed {
        reporter,
        envelopes: vec![env],
        attachment: None,
        id,
        markers,
    }
}

fn follow_up(server: &Server, f: &mut Filed, body: &[u8]) {
    let view = f.reporter.case(server);
    let mut to = recipients(view["advisors"].as_array().unwrap(), None);
    to.push(f.reporter.keys.reply_key().recipient());
    let env = seal(Purpose::Message, "acme", &to, body);
    let r = f
        .reporter
        .auth(server.post("/api/v1/case/messages"))
        .json(&json!({"envelope": b64(&env)}))
        .send()
        .unwrap();
    expect(r, 201, None);
    f.markers.add(&env);
    f.envelopes.push(env);
}

fn attach(server: &Server, f: &mut Filed, n: usize, tag: u8) {
    let view = f.reporter.case(server);
    let mut to = recipients(view["advisors"].as_array().unwrap(), None);
    to.push(f.reporter.keys.reply_key().recipient());
    let mut file = vec![0u8; n];
    os_rng().fill_bytes(&mut file);
    let sealed = seal(Purpose::Attachment, "acme", &to, &file);
    let id = b64(&[tag; 16]);
    let r = f
        .reporter
        .auth(server.put(&format!("/api/v1/case/attachments/{id}")))
        .header("Content-Type", "application/octet-stream")
        .body(sealed.clone())
        .send()
        .unwrap();
    expect(r, 201, None);
    f.markers.add(&sealed);
    f.attachment = Some((id, sealed));
}

fn set_status(server: &Server, a: &Advisor, case: &str, s: &str) {
    let r = a
        .auth(server.put(&format!("/api/v1/advisor/cases/{case}/status")))
        .json(&json!({"status": s}))
        .send()
        .unwrap();
    expect(r, 200, None);
}

/// Shares `case` from `from` to `to` with one re-wrapped stanza per message and attachment;
/// the stanzas become markers of the case.
fn share(server: &Server, f: &mut Filed, from: &Advisor, to: &Advisor) {
    let view = from.case(server, &f.id);
    let to_key = recipients(&[listed(server, "acme", &to.id)], None)[0];
    let keys = from.keyring.decryption_keys();
    let mut stanzas = Vec::new();
    for m in view["messages"].as_array().unwrap() {
        let env = unb64(m["envelope"].as_str().unwrap());
        let st = envelope::rewrap(&env, &keys, &[], &to_key, &mut os_rng()).unwrap();
        f.markers.0.push(st[24..72].to_vec());
        stanzas.push(json!({"message": m["seq"], "stanza": b64(&st)}));
    }
    if let Some((id, sealed)) = &f.attachment {
        let st = envelope::rewrap(sealed, &keys, &[], &to_key, &mut os_rng()).unwrap();
        f.markers.0.push(st[24..72].to_vec());
        stanzas.push(json!({"attachment": id, "stanza": b64(&st)}));
    }
    let mut all = recipients(view["advisors"].as_array().unwrap(), None);
    all.push(to_key);
    all.push(f.reporter.keys.reply_key().recipient());
    let identity = listed(server, "acme", &to.id)["identity"]
        .as_str()
        .unwrap()
        .to_owned();
    let added = statement(from, &view, "acme", 1, &identity, &all);
    let r = from
        .auth(server.post(&format!("/api/v1/advisor/cases/{}/share", f.id)))
        .json(&json!({"advisor": to.id, "stanzas": stanzas, "envelope": b64(&added)}))
        .send()
        .unwrap();
    expect(r, 200, None);
    // The statement is a message of the case like any other.
    f.envelopes.push(added);
}

/// The reporter reads the case back: every envelope and the attachment byte for byte.
fn assert_intact(server: &Server, f: &Filed) {
    let view = f.reporter.case(server);
    let got: Vec<Vec<u8>> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| unb64(m["envelope"].as_str().unwrap()))
        .collect();
    assert_eq!(got, f.envelopes);
    if let Some((id, sealed)) = &f.attachment {
        let r = f
            .reporter
            .auth(server.get(&format!("/api/v1/case/attachments/{id}")))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().unwrap().as_ref(), sealed.as_slice());
    }
}

fn assert_gone(server: &Server, f: &Filed, a: &Advisor) {
    let r = f.reporter.auth(server.get("/api/v1/case")).send().unwrap();
    expect(r, 401, None);
    let r = a
        .auth(server.get(&format!("/api/v1/advisor/cases/{}", f.id)))
        .send()
        .unwrap();
    expect(r, 404, None);
}

/// No row anywhere refers to the case, and no chunk is left without its attachment.
fn assert_no_rows(db: &Path, case_id: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let id = unb64(case_id);
    for table in [
        "cases WHERE id = ?1",
        "messages WHERE case_id = ?1",
        "attachments WHERE case_id = ?1",
        "detached_stanzas WHERE case_id = ?1",
        "case_advisors WHERE case_id = ?1",
    ] {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [&id], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM attachment_chunks WHERE attachment_id NOT IN (SELECT id FROM attachments)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
}

fn metric(server: &Server, name: &str) -> u64 {
    let text = server.metrics();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} not in /metrics:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// A server with `acme` (retention `days`) and its advisor Anna.
fn acme_with_retention(days: u32) -> (Server, Advisor) {
    let server = Server::start_with("", &sections());
    server.create_org("acme");
    let days = days.to_string();
    server.admin(&["org", "set", "--slug", "acme", "--retention-days", &days]);
    let a1 = Advisor::register(&server, &server.invite(Some("acme")), "Anna");
    (server, a1)
}

#[test]
fn closed_cases_are_deleted_after_retention_from_file_and_wal() {
    let (mut server, a1) = acme_with_retention(30);
    let a2 = Advisor::register(&server, &server.invite(Some("acme")), "Bram");

    // P: report, follow-up, a 300 KiB attachment (two chunks), shared with a2; closed, and
    // purged by the server. Q: closed, purged by `meldpunt purge`. K: open, kept.
    let mut p = file_case(&server, &a1, b"{\"story\":\"P\"}");
    follow_up(&server, &mut p, b"{\"text\":\"P-2\"}");
    attach(&server, &mut p, 300 * 1024, 1);
    share(&server, &mut p, &a1, &a2);
    set_status(&server, &a1, &p.id, "closed");
    let mut q = file_case(&server, &a1, b"{\"story\":\"Q\"}");
    attach(&server, &mut q, 40 * 1024, 2);
    set_status(&server, &a1, &q.id, "closed");
    let mut k = file_case(&server, &a1, b"{\"story\":\"K\"}");
    follow_up(&server, &mut k, b"{\"text\":\"K-2\"}");
    attach(&server, &mut k, 300 * 1024, 3);
    set_status(&server, &a1, &k.id, "in_progress");
    assert!(metric(&server, "meldpunt_vacuum_runs_total") >= 1);
    server.stop();

    // The search works: every case's ciphertext is in the files now.
    for (f, what) in [(&p, "P"), (&q, "Q"), (&k, "K")] {
        assert_present(&server.db, &f.markers, what);
    }

    // P was closed 40 years ago (retention 30 days).
    {
        let conn = rusqlite::Connection::open(&server.db).unwrap();
        let n = conn
            .execute(
                "UPDATE cases SET closed_day = '1990-01-01', delete_day = '1990-01-31' WHERE id = ?1",
                [unb64(&p.id)],
            )
            .unwrap();
        assert_eq!(n, 1);
    }

    // The server purges at start, truncates the WAL, vacuums.
    server.spawn();
    assert_eq!(metric(&server, "meldpunt_vacuum_runs_total"), 1);
    // What the purge deleted is not exported (it would count an organisation's cases).
    let text = server.metrics();
    assert!(!text.contains("meldpunt_retention_deleted_"), "{text}");
    assert!(!text.contains("meldpunt_vacuum_pages_freed"), "{text}");
    // While the server runs: gone from the file, the WAL and the shm.
    assert_absent(&server.db, &p.markers, "P while running");
    assert_present(&server.db, &k.markers, "K while running");
    assert_gone(&server, &p, &a1);
    assert_intact(&server, &q);
    assert_intact(&server, &k);
    let inbox: Vec<String> = a2
        .inbox(&server)
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(inbox.is_empty(), "a2 still sees {inbox:?}");
    server.stop();
    assert_absent(&server.db, &p.markers, "P after stop");
    assert_no_rows(&server.db, &p.id);

    // `meldpunt purge` refuses while a server runs on the database.
    server.spawn();
    let out = Command::new(meldpunt_bin())
        .arg("--config")
        .arg(&server.config)
        .arg("purge")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use"), "{err}");
    server.stop();

    // Q was closed today: 31 days on it is past retention. The operator's command.
    let day = day_from_today(31);
    let out = server.command(&["purge", "--today", &day]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 cases (1 messages, 1 attachments, 0 stanzas)"),
        "{stdout}"
    );
    assert!(stdout.contains("log truncated: yes"), "{stdout}");
    assert_absent(&server.db, &q.markers, "Q after purge");
    assert_present(&server.db, &k.markers, "K after purge");
    assert_no_rows(&server.db, &q.id);

    server.spawn();
    assert_gone(&server, &q, &a1);
    assert_intact(&server, &k);
    let ids: Vec<Value> = a1.inbox(&server).iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids, vec![Value::String(k.id.clone())]);
    server.assert_no_leaks(&[]);
}

/// A shorter retention set after a case was closed does not shorten that case's life: its
/// deletion day was fixed when it was closed. (It used to be deleted by the next purge.)
#[test]
fn deletion_day_is_fixed_when_a_case_is_closed() {
    let (mut server, a1) = acme_with_retention(90);
    let old = file_case(&server, &a1, b"{\"story\":\"OLD\"}");
    set_status(&server, &a1, &old.id, "closed");
    // The operator (below the org-admin floor) shortens retention to 1 day afterwards.
    server.admin(&["org", "set", "--slug", "acme", "--retention-days", "1"]);
    let new = file_case(&server, &a1, b"{\"story\":\"NEW\"}");
    set_status(&server, &a1, &new.id, "closed");
    server.stop();
    let purge = |days: i64| {
        let day = day_from_today(days);
        let out = server.command(&["purge", "--today", &day]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    // Ten days on: the case closed under the 1-day retention is gone, the old one is not.
    purge(10);
    assert_absent(&server.db, &new.markers, "NEW after 10 days");
    assert_present(&server.db, &old.markers, "OLD after 10 days");
    // Past its own 90 days it goes too.
    purge(92);
    assert_absent(&server.db, &old.markers, "OLD after 92 days");
}
