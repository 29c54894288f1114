//! `meldpunt advisor …` end to end: the real CLI process against the real server process, with
//! the passphrase on a pipe (`--passphrase-fd 0`), and test reporters that seal with the crypto
//! crate. Key rotation and revocation, sharing, attachments, snapshots of `inbox`, `read` and
//! `overview`, wrong passphrases and damaged keyring files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Output;

use meldpunt_tests::*;
use meldpunt_crypto::envelope::{self, Purpose};
use meldpunt_crypto::message::Message;
use meldpunt_crypto::recipient::RecipientKey;
use meldpunt_crypto::rng::os_rng;
use serde_json::{Value, json};

const PASS: &str = "correct horse battery staple 42";

/// Runs `meldpunt advisor --keyring K --passphrase-fd 0 ARGS…` with `pass` (and `stdin_extra`
/// after it) on standard input.
fn cli_with(keyring: &Path, pass: &str, stdin_extra: &str, args: &[&str]) -> Output {
    advisor_cli_with(keyring, pass, stdin_extra, args)
}

/// Runs the CLI with the usual passphrase and asserts that it succeeded.
fn cli_ok(keyring: &Path, args: &[&str]) -> Output {
    let out = cli_with(keyring, PASS, "", args);
    assert!(
        out.status.success(),
        "advisor {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn cli(keyring: &Path, args: &[&str]) -> String {
    String::from_utf8(cli_ok(keyring, args).stdout).unwrap()
}

fn cli_fails(keyring: &Path, pass: &str, args: &[&str]) -> String {
    let out = cli_with(keyring, pass, "", args);
    assert!(!out.status.success(), "advisor {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An advisor set up through `meldpunt advisor init`.
struct CliAdvisor {
    keyring: PathBuf,
    id: String,
    name: String,
}

fn init(server: &Server, org: Option<&str>, name: &str) -> CliAdvisor {
    init_at(server, &server.url(""), org, name)
}

/// `init` against `instance` (the server itself, or a relay in front of it).
fn init_at(server: &Server, instance: &str, org: Option<&str>, name: &str) -> CliAdvisor {
    let keyring = server
        .dir
        .path()
        .join(format!("{}.mpk", name.replace(' ', "_")));
    let invite = server.invite(org);
    let out = cli(
        &keyring,
        &[
            "init",
            "--server",
            instance,
            "--invite",
            &invite,
            "--name",
            name,
            "--bio",
            "Vertrouwenspersoon",
            "--languages",
            "nl,en",
        ],
    );
    assert!(out.contains("Your fingerprint"), "{out}");
    assert!(out.contains("backup"), "{out}");
    let page = server.org_page(org.unwrap_or("acme"));
    let id = page["advisors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["display_name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    CliAdvisor {
        keyring,
        id,
        name: name.to_owned(),
    }
}

/// The fingerprint an advisor would tell a colleague (from the server the test controls).
fn fingerprint_of(server: &Server, org: &str, id: &str) -> String {
    listed(server, org, id)["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A report with a chosen signed creation time, sealed to `to` (plus the reporter's own key).
fn create_case_to(
    server: &Server,
    reporter: &Reporter,
    org: &str,
    advisor_ids: &[String],
    to: &[RecipientKey],
    created_at: i64,
    body: &Value,
) {
    let mut to = to.to_vec();
    to.push(reporter.keys.reply_key().recipient());
    // Protocol §6.1: the report names the chosen advisors' identities (the case's members).
    let mut body = body.clone();
    if body.get("advisors").is_none() {
        body["advisors"] = json!(
            advisor_ids
                .iter()
                .map(|id| listed(server, org, id)["identity"].clone())
                .collect::<Vec<_>>()
        );
    }
    let msg = reporter.signed_report(created_at, body.to_string().as_bytes());
    let env = envelope::seal(&mut os_rng(), Purpose::Report, org, &to, &msg.to_bytes()).unwrap();
    let mut req = json!({
        "org": org,
        "advisors": advisor_ids,
        "token_hash": b64(&reporter.keys.case_token().hash()),
        "envelope": b64(&env),
    });
    let pow = server.pow();
    if !pow.is_null() {
        req["pow"] = pow;
    }
    expect(
        server.post("/api/v1/cases").json(&req).send().unwrap(),
        201,
        None,
    );
}

/// A report of a new reporter to `advisor` of acme with one attachment `name` (`content`).
fn case_with_attachment(
    server: &Server,
    advisor: &str,
    story: &str,
    name: &str,
    content: &[u8],
) -> Reporter {
    let reporter = Reporter::new();
    let ids = [advisor.to_owned()];
    let to = recipients(
        server.org_page("acme")["advisors"].as_array().unwrap(),
        Some(&ids),
    );
    let att_id = b64(&[9u8; 16]);
    let mut body = report(story);
    body["attachments"] =
        json!([{"id": att_id, "name": name, "type": "text/plain", "size": content.len()}]);
    create_case_to(server, &reporter, "acme", &ids, &to, now(), &body);
    let mut att_to = to.clone();
    att_to.push(reporter.keys.reply_key().recipient());
    let sealed = seal(Purpose::Attachment, "acme", &att_to, content);
    let mut req = reporter
        .auth(server.put(&format!("/api/v1/case/attachments/{att_id}")))
        .header("Content-Type", "application/octet-stream");
    let pow = server.pow();
    if !pow.is_null() {
        req = req.header(
            "Meldpunt-Pow",
            format!("{}.{}", pow["challenge"].as_str().unwrap(), pow["nonce"]),
        );
    }
    expect(req.body(sealed).send().unwrap(), 201, None);
    reporter
}

fn report(story: &str) -> Value {
    json!({"categories": ["intimidatie"], "role": "affected", "when": "2025-01", "story": story,
           "wishes": ["heard"], "lang": "nl", "attachments": []})
}

fn case_ids(server: &Server, keyring: &Path) -> Vec<String> {
    let _ = server;
    let out = cli(keyring, &["inbox"]);
    out.lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect()
}

/// Key ids in `keys list` order (oldest first).
fn key_ids(keyring: &Path) -> Vec<String> {
    cli(keyring, &["keys", "list"])
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.len() == 32 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_owned)
        .collect()
}

fn read_case(keyring: &Path, case: &str) -> String {
    cli(keyring, &["read", case])
}

#[test]
fn rotation_keeps_old_cases_readable_and_revocation_is_refused_by_reporters() {
    let server = Server::start();
    server.create_org("acme");
    let a1 = init(&server, Some("acme"), "Anna de Vries");
    assert_eq!(key_ids(&a1.keyring).len(), 1);

    // Case 1, sealed before any rotation.
    let r1 = Reporter::new();
    let page = server.org_page("acme");
    let to = recipients(page["advisors"].as_array().unwrap(), None);
    create_case_to(
        &server,
        &r1,
        "acme",
        std::slice::from_ref(&a1.id),
        &to,
        now(),
        &report("VERHAAL-EEN"),
    );

    // Two rotations.
    let out = cli(&a1.keyring, &["keys", "rotate"]);
    assert!(out.contains("is published"), "{out}");
    cli(&a1.keyring, &["keys", "rotate", "--days", "30"]);
    let ids = key_ids(&a1.keyring);
    assert_eq!(ids.len(), 3);
    let list = cli(&a1.keyring, &["keys", "list"]);
    assert_eq!(list.matches("current").count(), 1, "{list}");
    assert!(
        list.lines()
            .find(|l| l.starts_with(&ids[2]))
            .unwrap()
            .ends_with("current"),
        "{list}"
    );
    assert_eq!(list.matches("valid (older)").count(), 2, "{list}");

    // Case 2: a reporter seals to the newest bundle only, after checking it.
    let a1_page = listed(&server, "acme", &a1.id);
    let bundles = bundles_of(&a1_page);
    assert_eq!(bundles.len(), 3);
    let newest = bundles
        .iter()
        .find(|b| b.key_id().to_hex() == ids[2])
        .unwrap();
    let key = newest.verify_for_sealing(now(), &[], None).unwrap();
    let r2 = Reporter::new();
    create_case_to(
        &server,
        &r2,
        "acme",
        std::slice::from_ref(&a1.id),
        &[key],
        now(),
        &report("VERHAAL-TWEE"),
    );

    // Both cases read with the rotated keyring: the old one with the old key, the new one with
    // the newest (the only key it was sealed to).
    let cases = case_ids(&server, &a1.keyring);
    assert_eq!(cases.len(), 2);
    let all: String = cases.iter().map(|c| read_case(&a1.keyring, c)).collect();
    assert!(all.contains("VERHAAL-EEN"), "{all}");
    assert!(all.contains("VERHAAL-TWEE"), "{all}");
    assert_eq!(all.matches("Check: OK").count(), 2, "{all}");

    // Revoke the first key: it stays in the keyring (case 1 still opens), and a reporter's
    // check refuses it.
    let out = cli(&a1.keyring, &["keys", "revoke", &ids[0][..8]]);
    assert!(out.contains("revoked"), "{out}");
    let list = cli(&a1.keyring, &["keys", "list"]);
    assert!(
        list.lines()
            .find(|l| l.starts_with(&ids[0]))
            .unwrap()
            .ends_with("revoked"),
        "{list}"
    );
    let a1_page = listed(&server, "acme", &a1.id);
    let revs = revocations_of(&a1_page);
    assert_eq!(revs.len(), 1);
    let old = bundles
        .iter()
        .find(|b| b.key_id().to_hex() == ids[0])
        .unwrap();
    assert!(matches!(
        old.verify_for_sealing(now(), &revs, None),
        Err(meldpunt_crypto::keys::KeyError::Revoked { .. })
    ));
    assert!(newest.verify_for_sealing(now(), &revs, None).is_ok());
    let listed: Vec<String> = a1_page["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().to_owned())
        .collect();
    assert!(
        !listed.contains(&b64(&old.to_bytes())),
        "the server still lists the revoked bundle"
    );
    let all: String = cases.iter().map(|c| read_case(&a1.keyring, c)).collect();
    assert!(all.contains("VERHAAL-EEN") && all.contains("VERHAAL-TWEE"));

    // A new case through the ordinary reporter path now uses only valid keys.
    let r3 = Reporter::new();
    r3.create_case_ok(
        &server,
        "acme",
        std::slice::from_ref(&a1.id),
        report("VERHAAL-DRIE").to_string().as_bytes(),
    );
    let cases = case_ids(&server, &a1.keyring);
    let all: String = cases.iter().map(|c| read_case(&a1.keyring, c)).collect();
    assert!(all.contains("VERHAAL-DRIE"));
}

#[test]
fn sharing_gives_exactly_the_chosen_advisor_access() {
    let server = Server::start();
    server.create_org("acme");
    let a1 = init(&server, Some("acme"), "Anna de Vries");
    let a2 = init(&server, Some("acme"), "Bram Jansen");
    let a3 = init(&server, Some("acme"), "Chris Bakker");

    // A report to a1 only, with an attachment.
    let reporter = case_with_attachment(
        &server,
        &a1.id,
        "GEDEELD-VERHAAL",
        "../../foto.txt",
        b"BIJLAGE-INHOUD",
    );

    let case = case_ids(&server, &a1.keyring)[0].clone();
    assert!(case_ids(&server, &a2.keyring).is_empty());

    // a1 replies (so there are messages from both sides), then shares with a2 by name.
    let out = cli(
        &a1.keyring,
        &["reply", &case, "--message", "ANTWOORD-VAN-ANNA"],
    );
    assert!(out.contains("Reply sent"), "{out}");
    let fp2 = fingerprint_of(&server, "acme", &a2.id);
    let out = cli(
        &a1.keyring,
        &["share", &case, "--advisor", &a2.id, "--fingerprint", &fp2],
    );
    assert!(out.contains("Shared case"), "{out}");

    // a2 reads everything, including a1's reply, and saves the attachment.
    let cases2 = case_ids(&server, &a2.keyring);
    assert_eq!(cases2, vec![case.clone()]);
    let text = read_case(&a2.keyring, &case);
    assert!(
        text.contains("GEDEELD-VERHAAL") && text.contains("ANTWOORD-VAN-ANNA"),
        "{text}"
    );
    assert!(text.contains("Check: OK"), "{text}");
    let dir = server.dir.path().join("a2-bijlagen");
    std::fs::create_dir(&dir).unwrap();
    // The name from the report, made safe by the core (`safe_file_name`): no path.
    std::fs::write(dir.join("_.._foto.txt"), b"bestaat al").unwrap();
    let out = cli(
        &a2.keyring,
        &["attachments", &case, "--out", dir.to_str().unwrap()],
    );
    assert!(out.contains("Saved"), "{out}");
    // The existing file is untouched; the name from the report cannot leave the folder.
    assert_eq!(
        std::fs::read(dir.join("_.._foto.txt")).unwrap(),
        b"bestaat al"
    );
    assert_eq!(
        std::fs::read(dir.join("_.._foto (1).txt")).unwrap(),
        b"BIJLAGE-INHOUD"
    );
    assert!(!server.dir.path().join("foto.txt").exists());

    // a1 still reads it.
    let text = read_case(&a1.keyring, &case);
    assert!(text.contains("GEDEELD-VERHAAL") && text.contains("ANTWOORD-VAN-ANNA"));

    // a2's reply reaches a1 (sealed to the other advisors on the case).
    cli(
        &a2.keyring,
        &["reply", &case, "--message", "ANTWOORD-VAN-BRAM"],
    );
    let text = read_case(&a1.keyring, &case);
    assert!(text.contains("ANTWOORD-VAN-BRAM"), "{text}");
    assert!(text.contains("Reply from Bram Jansen"), "{text}");

    // a3 cannot: not in the inbox, and asking for the case directly fails.
    assert!(case_ids(&server, &a3.keyring).is_empty());
    let err = cli_fails(&a3.keyring, PASS, &["read", &case]);
    assert!(err.contains("you have no case"), "{err}");
    let full = read_case(&a1.keyring, &case)
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("Case ")
        .to_owned();
    assert_eq!(full.len(), 22);
    let err = cli_fails(&a3.keyring, PASS, &["read", &full]);
    assert!(err.contains("no such case"), "{err}");
    let fp3 = fingerprint_of(&server, "acme", &a3.id);
    let err = cli_fails(
        &a3.keyring,
        PASS,
        &["share", &full, "--advisor", &a2.id, "--fingerprint", &fp3],
    );
    assert!(err.contains("no such case"), "{err}");

    // The reporter can read the replies with the pickup code.
    let view = reporter.case(&server);
    let keys = [reporter.keys.reply_key()];
    let texts: Vec<String> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let p = envelope::open(&unb64(m["envelope"].as_str().unwrap()), &keys, &[]).unwrap();
            String::from_utf8_lossy(Message::from_bytes(&p.plaintext).unwrap().body()).into_owned()
        })
        .collect();
    // 0 report, 1 Anna's reply, 2 the signed statement that adds Bram, 3 Bram's reply.
    assert!(texts[1].contains("ANTWOORD-VAN-ANNA") && texts[3].contains("ANTWOORD-VAN-BRAM"));
}

#[test]
fn wrong_passphrase_and_damaged_keyrings_give_clear_errors_and_change_nothing() {
    let server = Server::start();
    server.create_org("acme");
    let a1 = init(&server, Some("acme"), "Anna de Vries");
    let before = std::fs::read(&a1.keyring).unwrap();
    for args in [
        &["inbox"][..],
        &["keys", "rotate"],
        &["keys", "revoke", "00000000"],
        &["keys", "list"],
    ] {
        let err = cli_fails(&a1.keyring, "not the passphrase at all", args);
        assert!(err.contains("the passphrase is wrong"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(
            std::fs::read(&a1.keyring).unwrap(),
            before,
            "keyring changed by {args:?}"
        );
    }
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(server.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());

    // A flipped byte in the encrypted part.
    let damaged = server.dir.path().join("damaged.mpk");
    let mut bytes = before.clone();
    let n = bytes.len();
    bytes[n - 20] ^= 0x40;
    std::fs::write(&damaged, &bytes).unwrap();
    let err = cli_fails(&damaged, PASS, &["inbox"]);
    assert!(err.contains("backup"), "{err}");
    assert_eq!(std::fs::read(&damaged).unwrap(), bytes);

    // Not a keyring at all, and a truncated one: rejected before any passphrase is used.
    for (name, content) in [
        ("garbage.mpk", b"hello, this is no keyring file".to_vec()),
        ("short.mpk", before[..30].to_vec()),
    ] {
        let p = server.dir.path().join(name);
        std::fs::write(&p, &content).unwrap();
        let err = cli_fails(&p, PASS, &["keys", "list"]);
        assert!(
            err.contains("is not a Meldpunt keyring") && err.contains("backup"),
            "{err}"
        );
        assert_eq!(std::fs::read(&p).unwrap(), content);
    }
    // Protocol §7: an unknown version and parameters out of bounds each have their own message.
    let mut newer = before.clone();
    newer[4] = 0x02;
    let mut greedy = before.clone();
    greedy[5..9].copy_from_slice(&(4u32 << 20).to_be_bytes());
    for (name, content, says) in [
        ("newer.mpk", newer, "version this program does not know (2)"),
        ("greedy.mpk", greedy, "outside the allowed bounds"),
    ] {
        let p = server.dir.path().join(name);
        std::fs::write(&p, &content).unwrap();
        let err = cli_fails(&p, PASS, &["keys", "list"]);
        assert!(err.contains(says), "{name}: {err}");
        assert_eq!(std::fs::read(&p).unwrap(), content);
    }

    // A missing file, and `init` over an existing file.
    let err = cli_fails(&server.dir.path().join("nope.mpk"), PASS, &["inbox"]);
    assert!(err.contains("no keyring file"), "{err}");
    let err = cli_fails(
        &a1.keyring,
        PASS,
        &[
            "init",
            "--server",
            &server.url(""),
            "--invite",
            "X",
            "--name",
            "Anna",
        ],
    );
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&a1.keyring).unwrap(), before);

    // A used invite: clear error, and no keyring is left behind.
    let p = server.dir.path().join("second.mpk");
    let invite = server.invite(Some("acme"));
    cli(
        &p,
        &[
            "init",
            "--server",
            &server.url(""),
            "--invite",
            &invite,
            "--name",
            "Eerste",
        ],
    );
    let p2 = server.dir.path().join("third.mpk");
    let err = cli_fails(
        &p2,
        PASS,
        &[
            "init",
            "--server",
            &server.url(""),
            "--invite",
            &invite,
            "--name",
            "Tweede",
        ],
    );
    assert!(
        err.contains("invite code is unknown, already used or expired"),
        "{err}"
    );
    assert!(!p2.exists());

    // The right passphrase still works on the untouched file.
    cli(&a1.keyring, &["keys", "list"]);
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

/// Replaces what changes from run to run: case ids, fingerprints, key ids, dates, ports.
fn normalise(text: &str, cases: &[String]) -> String {
    let mut out = text.to_owned();
    for (i, c) in cases.iter().enumerate() {
        out = out.replace(c.as_str(), &format!("<CASE{}>", i + 1));
        out = out.replace(&c[..8], &format!("<CASE{}>", i + 1));
    }
    // Fingerprints: 8 groups of 4 Crockford symbols.
    let words: Vec<&str> = out.split(' ').collect();
    let mut rebuilt = String::new();
    let mut i = 0;
    while i < words.len() {
        let is_group = |w: &str| {
            w.len() == 4
                && w.chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        };
        if i + 8 <= words.len()
            && words[i..i + 7].iter().all(|w| is_group(w))
            && words[i + 7].len() >= 4
            && is_group(&words[i + 7][..4])
        {
            rebuilt.push_str("<FINGERPRINT>");
            rebuilt.push_str(&words[i + 7][4..]);
            i += 8;
        } else {
            rebuilt.push_str(words[i]);
            i += 1;
        }
        if i < words.len() {
            rebuilt.push(' ');
        }
    }
    let mut out = String::new();
    let chars: Vec<char> = rebuilt.chars().collect();
    let mut k = 0;
    while k < chars.len() {
        // YYYY-MM-DD
        if k + 10 <= chars.len() {
            let s: String = chars[k..k + 10].iter().collect();
            let b = s.as_bytes();
            if b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b'-'
                && b[5..7].iter().all(u8::is_ascii_digit)
                && b[7] == b'-'
                && b[8..].iter().all(u8::is_ascii_digit)
            {
                out.push_str("<DATE>");
                k += 10;
                continue;
            }
        }
        out.push(chars[k]);
        k += 1;
    }
    out
}

fn check_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {} (run with UPDATE_SNAPSHOTS=1)",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "snapshot {name} differs; actual:\n{actual}"
    );
}

/// Unix seconds of noon UTC on a day (days from civil, proleptic Gregorian).
fn utc(y: i64, m: u32, d: u32) -> i64 {
    let (y, m) = if m <= 2 {
        (y - 1, i64::from(m) + 9)
    } else {
        (y, i64::from(m) - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400 + 12 * 3600
}

#[test]
fn snapshots_of_inbox_read_and_overview() {
    let server = Server::start();
    server.create_org("acme");
    server.admin(&[
        "org", "set", "--slug", "acme", "--categories",
        r#"[{"id":"intimidatie","nl":"Intimidatie","en":"Intimidation"},{"id":"seksueel","nl":"Seksuele intimidatie","en":"Sexual harassment"},{"id":"discriminatie","nl":"Discriminatie","en":"Discrimination"}]"#,
    ]);
    let a1 = init(&server, Some("acme"), "Anna de Vries");
    let page = server.org_page("acme");
    let to = recipients(page["advisors"].as_array().unwrap(), None);

    // The fixture: 12 reports signed in 2024 (the overview counts by the signed date).
    let fixture: Vec<(u32, &str, &str, &[&str])> = vec![
        (2, "intimidatie", "affected", &["heard"]),
        (2, "intimidatie", "witness", &["advice"]),
        (2, "intimidatie", "affected", &["heard", "mediation"]),
        (3, "intimidatie", "affected", &["heard"]),
        (3, "intimidatie", "witness", &["heard"]),
        (3, "seksueel", "affected", &["formal_complaint"]),
        (5, "intimidatie", "affected", &["heard"]),
        (5, "seksueel", "affected", &["heard"]),
        (6, "intimidatie", "affected", &["advice"]),
        (8, "intimidatie", "witness", &["heard"]),
        (11, "discriminatie", "affected", &["mediation"]),
        (11, "intimidatie", "affected", &["heard"]),
    ];
    for (i, (month, cat, role, wishes)) in fixture.iter().enumerate() {
        let r = Reporter::new();
        let body = json!({"categories": [cat], "role": role, "when": format!("2024-{month:02}"),
            "where": "Kantoor Utrecht", "story": format!("Verhaal nummer {}.\nTweede regel.", i + 1),
            "wishes": wishes, "lang": "nl", "attachments": []});
        create_case_to(
            &server,
            &r,
            "acme",
            std::slice::from_ref(&a1.id),
            &to,
            utc(2024, *month, 10),
            &body,
        );
    }
    let out = cli(&a1.keyring, &["inbox"]);
    let cases: Vec<String> = out
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(cases.len(), 12);
    // Full ids for normalisation, in inbox order.
    let full: Vec<String> = cases
        .iter()
        .map(|c| {
            let r = cli(&a1.keyring, &["read", c]);
            r.lines()
                .next()
                .unwrap()
                .trim_start_matches("Case ")
                .to_owned()
        })
        .collect();
    // Find the case with story 1 and give it a reply and a status.
    let first = full
        .iter()
        .find(|c| cli(&a1.keyring, &["read", c]).contains("Verhaal nummer 1."))
        .unwrap()
        .clone();
    cli(
        &a1.keyring,
        &[
            "reply",
            &first,
            "--message",
            "Dank voor je melding.\nIk neem contact op.",
        ],
    );
    cli(&a1.keyring, &["status", &first, "acknowledged"]);
    let second = full
        .iter()
        .find(|c| cli(&a1.keyring, &["read", c]).contains("Verhaal nummer 2."))
        .unwrap()
        .clone();
    cli(&a1.keyring, &["status", &second, "closed"]);

    let inbox = cli(&a1.keyring, &["inbox"]);
    // Ids are random: hide them and sort the rows.
    let mut lines: Vec<String> = inbox.lines().map(str::to_owned).collect();
    let n = cases.len();
    let mut rows: Vec<String> = lines[1..=n]
        .iter()
        .map(|l| format!("<CASE>  {}", &l[8..]))
        .collect();
    rows.sort();
    lines.splice(1..=n, rows);
    let inbox = normalise(&(lines.join("\n") + "\n"), &[]);
    check_snapshot("advisor_inbox.txt", &inbox);

    let read = cli(&a1.keyring, &["read", &first]);
    check_snapshot(
        "advisor_read.txt",
        &normalise(&read, std::slice::from_ref(&first)),
    );

    let csv = cli(
        &a1.keyring,
        &[
            "overview", "--year", "2024", "--format", "csv", "--lang", "en",
        ],
    );
    check_snapshot("advisor_overview_2024.csv", &csv);
    let html_path = server.dir.path().join("overzicht.html");
    cli(
        &a1.keyring,
        &[
            "overview",
            "--year",
            "2024",
            "--format",
            "html",
            "--lang",
            "nl",
            "--out",
            html_path.to_str().unwrap(),
        ],
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("Jaaroverzicht meldingen 2024"));
    assert!(!html.contains("Verhaal") && !html.contains("Utrecht") && !html.contains("<script"));
    // The file is never replaced.
    let err = cli_fails(
        &a1.keyring,
        PASS,
        &[
            "overview",
            "--year",
            "2024",
            "--out",
            html_path.to_str().unwrap(),
        ],
    );
    assert!(err.contains("already exists"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// A hostile server (issue 11): the relay of `meldpunt_tests::relay` between the CLI and the
// real server, membership from signed statements, confirmed colleagues, purpose/org checks,
// safe file names.
// ---------------------------------------------------------------------------------------------

/// The reporter's side through the client core: opens the case as the reporter and seals a
/// follow-up to exactly its members (`seal::seal_follow_up`), then posts it.
fn follow_up(server: &Server, reporter: &Reporter, text: &str) {
    use meldpunt_client::advisors;
    use meldpunt_client::case::{self, EnvelopeIn, OpenInput, Viewer};
    let view = reporter.case(server);
    let envelopes: Vec<EnvelopeIn> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| EnvelopeIn {
            envelope: unb64(m["envelope"].as_str().unwrap()),
            detached: vec![],
        })
        .collect();
    let listed: Vec<advisors::Listed> = serde_json::from_value(view["advisors"].clone()).unwrap();
    let (listed, listed_malformed) = advisors::verify_all(&listed, now());
    let judged = case::open(OpenInput {
        viewer: Viewer::Reporter(reporter.keys.signing_key().public()),
        org: view["org"].as_str().unwrap(),
        envelopes: &envelopes,
        keys: &[reporter.keys.reply_key()],
        listed,
        listed_malformed,
        sent: &[],
    });
    assert!(judged.ok(), "{:?}", judged.problem);
    let body = meldpunt_client::body::MessageBody {
        text: text.into(),
        attachments: vec![],
        contact: None,
    };
    let sealed =
        meldpunt_client::seal::seal_follow_up(&mut os_rng(), &reporter.keys, &judged, &body, now())
            .unwrap();
    let mut req = json!({"envelope": b64(&sealed.envelope)});
    let pow = server.pow();
    if !pow.is_null() {
        req["pow"] = pow;
    }
    let r = reporter
        .auth(server.post("/api/v1/case/messages"))
        .json(&req)
        .send()
        .unwrap();
    expect(r, 201, None);
}

/// A case from a new reporter to `ids` (at their current keys), through the server itself.
fn case_to(server: &Server, org: &str, ids: &[String], story: &str) -> Reporter {
    let reporter = Reporter::new();
    let page = server.org_page(org);
    let to = recipients(page["advisors"].as_array().unwrap(), Some(ids));
    create_case_to(server, &reporter, org, ids, &to, now(), &report(story));
    reporter
}

/// A server with a relay in front: Anna (acme) reaches the server only through the relay,
/// Bram directly; a reporter's case to both. Returns the case id as Anna's inbox shows it.
fn through_relay(
    story: &str,
) -> (
    Server,
    meldpunt_tests::relay::Running,
    CliAdvisor,
    CliAdvisor,
    Reporter,
    String,
) {
    let server = Server::start();
    server.create_org("acme");
    let relay = meldpunt_tests::relay::start(&server.url(""), "127.0.0.1:0").unwrap();
    let a1 = init_at(&server, &relay.url, Some("acme"), "Anna de Vries");
    let a2 = init(&server, Some("acme"), "Bram Jansen");
    let reporter = case_to(&server, "acme", &[a1.id.clone(), a2.id.clone()], story);
    let case = case_ids(&server, &a1.keyring)[0].clone();
    (server, relay, a1, a2, reporter, case)
}

/// The relay passed envelopes on and opened none of them.
fn assert_relay_saw_envelopes_and_opened_none(relay: &meldpunt_tests::relay::Running) {
    let log = relay.relay.log_json();
    assert!(log["envelopes_seen"].as_u64().unwrap() > 0, "{log}");
    assert_eq!(log["opened"], 0, "the relay opened an envelope: {log}");
}

#[test]
fn an_advisor_the_relay_adds_is_named_in_a_warning_and_never_sealed_to() {
    let (server, relay, a1, a2, reporter, case) = through_relay("VERHAAL-RELAY");

    relay.set_mode(&json!({"mode": "add_advisor"})).unwrap();
    let fake = relay.relay.identity_json();
    let fake_fp = fake["fingerprint"].as_str().unwrap();

    let text = read_case(&a1.keyring, &case);
    assert!(
        text.contains(&format!(
            "Warning: the server lists Onafhankelijk extern vertrouwenspersoon (fingerprint {fake_fp}) who is \
             not a member of this case: never sealed to"
        )),
        "{text}"
    );
    assert!(!text.contains("Check: OK"), "{text}");
    assert!(text.contains("Check: WARNING"), "{text}");
    assert!(text.contains("VERHAAL-RELAY"), "{text}");

    let out = cli_ok(
        &a1.keyring,
        &["reply", &case, "--message", "ANTWOORD-DOOR-RELAY"],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("who is not a member of this case"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Read again (the reply's envelope passes the relay in the answer too).
    let _ = read_case(&a1.keyring, &case);
    assert_relay_saw_envelopes_and_opened_none(&relay);

    // The members still read the reply: Bram (directly) and the reporter.
    let text = read_case(&a2.keyring, &case);
    assert!(
        text.contains("ANTWOORD-DOOR-RELAY") && text.contains("Check: OK"),
        "{text}"
    );
    let view = reporter.case(&server);
    let last = view["messages"].as_array().unwrap().last().unwrap().clone();
    assert!(
        envelope::open(
            &unb64(last["envelope"].as_str().unwrap()),
            &[reporter.keys.reply_key()],
            &[]
        )
        .is_ok()
    );
}

#[test]
fn swapped_keys_and_a_dropped_message_are_shown_and_nothing_reaches_the_relay() {
    let (server, relay, a1, _a2, reporter, case) = through_relay("VERHAAL-SWAP");
    follow_up(&server, &reporter, "VERVOLG-EEN");
    follow_up(&server, &reporter, "VERVOLG-TWEE");

    // Swapped keys: Bram's listed bundle is the relay's; the reply leaves him out, says so.
    relay.set_mode(&json!({"mode": "swap_keys"})).unwrap();
    let text = read_case(&a1.keyring, &case);
    assert!(
        text.contains("has no key that verifies now") && !text.contains("Check: OK"),
        "{text}"
    );
    cli_ok(&a1.keyring, &["reply", &case, "--message", "ANTWOORD-SWAP"]);

    // A dropped message: a gap, and no reply.
    relay
        .set_mode(&json!({"mode": "drop_message", "index": 1}))
        .unwrap();
    let text = read_case(&a1.keyring, &case);
    assert!(
        text.contains("Check: WARNING. a message before message 2 is missing"),
        "{text}"
    );
    let err = cli_fails(
        &a1.keyring,
        PASS,
        &["reply", &case, "--message", "NIET-VERSTUURD"],
    );
    assert!(
        err.contains("cannot reply") && err.contains("nothing was sent"),
        "{err}"
    );

    // Reordered messages.
    relay.set_mode(&json!({"mode": "reorder"})).unwrap();
    let text = read_case(&a1.keyring, &case);
    assert!(
        text.contains("out of order") && !text.contains("Check: OK"),
        "{text}"
    );

    relay.set_mode(&json!({"mode": "none"})).unwrap();
    let text = read_case(&a1.keyring, &case);
    assert!(
        text.contains("ANTWOORD-SWAP") && !text.contains("NIET-VERSTUURD"),
        "{text}"
    );
    assert_relay_saw_envelopes_and_opened_none(&relay);
}

#[test]
fn share_then_three_follow_ups_are_each_read_by_both_advisors() {
    let server = Server::start();
    server.create_org("acme");
    let a1 = init(&server, Some("acme"), "Anna de Vries");
    let a2 = init(&server, Some("acme"), "Bram Jansen");
    let reporter = case_to(
        &server,
        "acme",
        std::slice::from_ref(&a1.id),
        "VERHAAL-DELEN",
    );
    let case = case_ids(&server, &a1.keyring)[0].clone();
    let fp2 = fingerprint_of(&server, "acme", &a2.id);
    let out = cli(
        &a1.keyring,
        &["share", &case, "--advisor", &a2.id, "--fingerprint", &fp2],
    );
    assert!(out.contains("Shared case"), "{out}");
    for n in ["EERSTE", "TWEEDE", "DERDE"] {
        follow_up(&server, &reporter, &format!("VERVOLG-{n}"));
        for a in [&a1, &a2] {
            let text = read_case(&a.keyring, &case);
            assert!(text.contains(&format!("VERVOLG-{n}")), "{}: {text}", a.name);
            assert!(text.contains("Check: OK"), "{}: {text}", a.name);
            assert!(
                text.contains("Anna de Vries (you) added Bram Jansen")
                    || text.contains("Anna de Vries added Bram Jansen (you)"),
                "{text}"
            );
        }
    }
    // Both members reply; each reads the other's reply.
    cli(&a2.keyring, &["reply", &case, "--message", "ANTWOORD-BRAM"]);
    assert!(read_case(&a1.keyring, &case).contains("Reply from Bram Jansen"));

    // Bram leaves the case: a signed statement; later replies are not sealed to him.
    let out = cli(&a2.keyring, &["remove", &case, "--advisor", "me"]);
    assert!(out.contains("You left case"), "{out}");
    let text = read_case(&a1.keyring, &case);
    assert!(
        text.contains("Bram Jansen left the case") || text.contains("left the case"),
        "{text}"
    );
    let err = cli_fails(&a1.keyring, PASS, &["remove", &case, "--advisor", &a1.id]);
    assert!(err.contains("last advisor"), "{err}");
}

/// Rewrites the `colleagues` of a keyring file as a test would find them after an earlier
/// confirmation of `id` with identity `identity`.
/// A new case to `advisor` alone with `story`, and its id as that advisor's inbox lists it.
fn new_case_for(server: &Server, advisor: &CliAdvisor, story: &str) -> (Reporter, String) {
    let reporter = case_to(server, "acme", std::slice::from_ref(&advisor.id), story);
    let case = case_ids(server, &advisor.keyring)
        .into_iter()
        .find(|c| read_case(&advisor.keyring, c).contains(story))
        .unwrap();
    (reporter, case)
}

fn remember_in_keyring(keyring: &Path, id: &str, identity: &str) {
    use meldpunt_crypto::keyring::Keyring;
    let bytes = std::fs::read(keyring).unwrap();
    let params = Keyring::file_params(&bytes).unwrap();
    let mut k = Keyring::from_file(&bytes, PASS).unwrap();
    let mut meta: Value = serde_json::from_str(k.meta()).unwrap();
    meta["colleagues"] =
        json!([{"id": id, "identity": identity, "name": "Bram Jansen", "confirmed": "2026-01-01"}]);
    k.set_meta(zeroize::Zeroizing::new(meta.to_string()));
    std::fs::write(keyring, k.to_file(&mut os_rng(), PASS, params).unwrap()).unwrap();
}

#[test]
fn sharing_needs_a_confirmed_fingerprint_and_refuses_a_changed_identity() {
    let server = Server::start();
    server.create_org("acme");
    let a1 = init(&server, Some("acme"), "Anna de Vries");
    let a2 = init(&server, Some("acme"), "Bram Jansen");
    let a3 = init(&server, Some("acme"), "Chris Bakker");
    let _r1 = case_to(&server, "acme", std::slice::from_ref(&a1.id), "VERHAAL-EEN");
    let case1 = case_ids(&server, &a1.keyring)[0].clone();

    // No fingerprint (and no terminal to ask on): refused, nothing sent.
    let err = cli_fails(&a1.keyring, PASS, &["share", &case1, "--advisor", &a2.id]);
    assert!(
        err.contains("--fingerprint") && err.contains("Nothing was shared"),
        "{err}"
    );
    assert!(case_ids(&server, &a2.keyring).is_empty());
    // Someone else's fingerprint: refused.
    let fp3 = fingerprint_of(&server, "acme", &a3.id);
    let err = cli_fails(
        &a1.keyring,
        PASS,
        &["share", &case1, "--advisor", &a2.id, "--fingerprint", &fp3],
    );
    assert!(
        err.contains("is not the one of the key the server gives"),
        "{err}"
    );
    assert!(case_ids(&server, &a2.keyring).is_empty());

    // The right one: shared, and remembered in the keyring.
    let fp2 = fingerprint_of(&server, "acme", &a2.id);
    cli(
        &a1.keyring,
        &["share", &case1, "--advisor", &a2.id, "--fingerprint", &fp2],
    );
    assert_eq!(case_ids(&server, &a2.keyring).len(), 1);
    // A second case: remembered, so no fingerprint needed.
    let (_r2, case2) = new_case_for(&server, &a1, "VERHAAL-TWEE");
    cli(&a1.keyring, &["share", &case2, "--advisor", &a2.id]);
    assert_eq!(case_ids(&server, &a2.keyring).len(), 2);

    // The keyring remembers Bram with another identity than the server now gives: refused,
    // even with the fingerprint of the server's key.
    let other = meldpunt_crypto::keys::IdentityKey::generate(&mut os_rng()).public();
    remember_in_keyring(&a1.keyring, &a2.id, &b64(&other.to_bytes()));
    let (_r3, case3) = new_case_for(&server, &a1, "VERHAAL-DRIE");
    let err = cli_fails(
        &a1.keyring,
        PASS,
        &["share", &case3, "--advisor", &a2.id, "--fingerprint", &fp2],
    );
    assert!(
        err.contains("different identity key") && err.contains("nothing was shared"),
        "{err}"
    );
    assert_eq!(case_ids(&server, &a2.keyring).len(), 2);
}

#[test]
fn an_envelope_of_the_wrong_purpose_or_organisation_is_refused() {
    let server = Server::start();
    server.create_org("acme");
    let a1 = init(&server, Some("acme"), "Anna de Vries");
    let page = server.org_page("acme");
    let to = recipients(page["advisors"].as_array().unwrap(), None);
    let identity = listed(&server, "acme", &a1.id)["identity"].clone();
    let mut body = report("VERHAAL-VERKEERD");
    body["advisors"] = json!([identity]);
    let mut seen: Vec<String> = Vec::new();
    for (purpose, org, expected) in [
        (Purpose::Report, "elders", "sealed for another organisation"),
        (Purpose::Message, "acme", "not a message of a case"),
    ] {
        let reporter = Reporter::new();
        let mut to = to.clone();
        to.push(reporter.keys.reply_key().recipient());
        let msg = reporter.signed_report(now(), body.to_string().as_bytes());
        // An honest server refuses such an envelope (it checks the header), so the hostile
        // server is played on its database: the report is swapped after it was stored.
        let good =
            envelope::seal(&mut os_rng(), Purpose::Report, "acme", &to, &msg.to_bytes()).unwrap();
        let bad = envelope::seal(&mut os_rng(), purpose, org, &to, &msg.to_bytes()).unwrap();
        let mut req = json!({"org": "acme", "advisors": [a1.id], "token_hash": b64(&reporter.keys.case_token().hash()), "envelope": b64(&good)});
        let pow = server.pow();
        if !pow.is_null() {
            req["pow"] = pow;
        }
        expect(
            server.post("/api/v1/cases").json(&req).send().unwrap(),
            201,
            None,
        );
        let conn = rusqlite::Connection::open(&server.db).unwrap();
        let n = conn
            .execute(
                "UPDATE messages SET envelope = ?1 WHERE envelope = ?2",
                rusqlite::params![bad, good],
            )
            .unwrap();
        assert_eq!(n, 1);
        let case = case_ids(&server, &a1.keyring)
            .into_iter()
            .find(|c| !seen.contains(c))
            .unwrap();
        seen.push(case.clone());
        let text = read_case(&a1.keyring, &case);
        assert!(
            text.contains(&format!("Check: WARNING. message 1 {expected}"))
                || text.contains(expected),
            "{text}"
        );
        assert!(
            !text.contains("VERHAAL-VERKEERD") && !text.contains("Check: OK"),
            "{text}"
        );
        let err = cli_fails(&a1.keyring, PASS, &["reply", &case, "--message", "NEE"]);
        assert!(
            err.contains("cannot reply") && err.contains(expected),
            "{err}"
        );
    }
}

#[test]
fn a_file_name_with_a_bidi_override_is_shown_and_saved_safely() {
    let server = Server::start();
    server.create_org("acme");
    let a1 = init(&server, Some("acme"), "Anna de Vries");
    case_with_attachment(
        &server,
        &a1.id,
        "VERHAAL-BIJLAGE",
        "photo\u{202E}gpj.exe",
        b"MZ-EXE",
    );
    let case = case_ids(&server, &a1.keyring)[0].clone();
    let text = read_case(&a1.keyring, &case);
    assert!(!text.contains('\u{202E}'), "{text:?}");
    assert!(text.contains("photogpj.exe"), "{text}");
    let dir = server.dir.path().join("bijlagen");
    let out = cli(
        &a1.keyring,
        &["attachments", &case, "--out", dir.to_str().unwrap()],
    );
    assert!(!out.contains('\u{202E}'), "{out:?}");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["photogpj.exe".to_owned()]);
    assert_eq!(std::fs::read(dir.join("photogpj.exe")).unwrap(), b"MZ-EXE");
}

#[test]
fn events_list_who_joined_and_who_appointed_them() {
    let server = Server::start();
    server.create_org("acme");
    let a1 = init(&server, Some("acme"), "Anna de Vries");
    let a2 = init(&server, Some("acme"), "Bram Jansen");
    let out = cli(&a1.keyring, &["events"]);
    assert!(
        out.contains(&format!(
            "joined: Bram Jansen ({}) at acme, appointed by",
            a2.id
        )),
        "{out}"
    );
    assert!(out.contains("confirm their fingerprint in person"), "{out}");
}

/// A server that lists odd case ids (non-ASCII, cut at byte 8, terminal escapes in the
/// organisation) makes the CLI neither panic, nor print the escapes, nor put such an id into a
/// request: the inbox warns and hides those cases, and naming one is a clear error.
#[test]
fn odd_case_ids_from_the_server_are_refused_not_sliced() {
    let (_server, relay, a1, _a2, _reporter, case) = through_relay("VERHAAL-ODD");
    relay.set_mode(&json!({"mode": "odd_ids"})).unwrap();

    let out = cli_with(&a1.keyring, PASS, "", &["inbox"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("with an id that is no case id"), "{stderr}");
    assert!(
        !stdout.contains('\u{1b}') && !stderr.contains('\u{1b}'),
        "{stdout:?}\n{stderr:?}"
    );
    assert!(!stdout.contains(meldpunt_tests::relay::ODD_ID), "{stdout}");

    // The odd id's first characters name no case; a status change through it is refused
    // (before: the CLI found it, the relay let it through, and `&id[..8]` panicked).
    for args in [
        ["status", "abcd", "acknowledged"],
        ["status", meldpunt_tests::relay::ODD_ID, "acknowledged"],
    ] {
        let out = cli_with(&a1.keyring, PASS, "", &args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // With honest answers again, the case is found as before.
    relay.set_mode(&json!({"mode": "none"})).unwrap();
    let text = cli(&a1.keyring, &["status", &case, "acknowledged"]);
    assert!(text.contains("is now acknowledged"), "{text}");
}
