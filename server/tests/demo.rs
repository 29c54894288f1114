//! `meldpunt demo`: `--config` and `MELDPUNT_*` apply (`[pow]`, `[rate_limit]`, `[metrics]`),
//! and the README's terminal tour (`advisor inbox`, then `advisor read`) works when typed at
//! once after the start: the demo's own setup does not spend the visitor's login burst.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use meldpunt_tests::*;

/// `meldpunt advisor --passphrase-fd 0 …` with the demo passphrase on stdin.
fn advisor(keyring: &Path, pass: &str, args: &[&str]) -> (bool, String, String) {
    let out = advisor_cli_with(keyring, pass, "", args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_takes_the_configuration_and_the_terminal_tour_works() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo-data");
    let port = free_port();
    let metrics_port = free_port();
    let config = dir.path().join("demo.toml");
    // From the file: a low proof of work. From the environment: one rate-limit field and the
    // metrics listener.
    std::fs::write(&config, "[pow]\nm_kib = 64\ndifficulty = 2\n").unwrap();
    let mut child = Command::new(meldpunt_bin())
        .arg("--config")
        .arg(&config)
        .args(["demo", "--data-dir"])
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env_remove("RUST_LOG")
        .env("MELDPUNT_RATE_LIMIT__CASE_GUESS__BURST", "1")
        .env(
            "MELDPUNT_METRICS__LISTEN",
            format!("127.0.0.1:{metrics_port}"),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The welcome text is printed once the instance is ready.
    let stdout = child.stdout.take().unwrap();
    let demo = KillOnDrop(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut welcome = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        welcome.push_str(&line);
        welcome.push('\n');
        if line.contains("admin org list") {
            break;
        }
    }
    assert!(welcome.contains("Anna de Jong"), "{welcome}");
    std::thread::spawn(move || for _ in lines {});

    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    // `[pow]` from the file applies.
    let pow: serde_json::Value = client
        .post(format!("http://127.0.0.1:{port}/api/v1/pow"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(pow["difficulty"], 2, "{pow}");
    assert_eq!(pow["m_kib"], 64, "{pow}");
    // `[metrics]` from the environment applies: its own port, not the public one.
    let m = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .unwrap();
    assert_eq!(m.status().as_u16(), 200);

    // A reporter files a case to Anna (through the harness, against the demo's port).
    let server = Server {
        dir: tempfile::tempdir().unwrap(),
        child: None,
        port,
        metrics_port,
        db: data.join("meldpunt.db"),
        log: dir.path().join("none.log"),
        config: config.clone(),
        client: client.clone(),
    };
    let slug = "bouwbedrijf-de-vries";
    let page = server.org_page(slug);
    let anna = page["advisors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["display_name"] == "Anna de Jong")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reporter = Reporter::new();
    reporter.create_case_ok(&server, slug, &[anna], b"{\"story\":\"demo\"}");

    // The README's tour, at once: inbox, then read.
    let keyring = data.join("anna.keyring");
    let pass = "demo anna de jong passphrase";
    let (ok, out, err) = advisor(&keyring, pass, &["inbox"]);
    assert!(ok, "advisor inbox failed: {err}\n{out}");
    let case = out
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    let (ok, out, err) = advisor(&keyring, pass, &["read", &case]);
    assert!(ok, "advisor read failed: {err}\n{out}");
    assert!(out.contains("demo"), "{out}");
    let (ok, out, err) = advisor(&keyring, pass, &["inbox"]);
    assert!(ok, "second advisor inbox failed: {err}\n{out}");

    // `[rate_limit]` from the environment applies: burst 1 for failed case-token lookups.
    let mut statuses = Vec::new();
    for i in 0..2u8 {
        let r = guess_case_token(&client, &format!("http://127.0.0.1:{port}"), i);
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [401, 429]);
    drop(demo);
}
