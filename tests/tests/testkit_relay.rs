//! The testkit binary as the browser tests start it: `meldpunt-testkit relay` prints where it
//! listens, answers its control endpoints, refuses an unknown mode, and says 502 (never
//! forwarding anything) when its upstream server is down. Building this test also makes cargo
//! build the `meldpunt-testkit` binary with the workspace's test features, so that
//! `cargo xtask test` needs no separate build of it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

struct Relay {
    child: Child,
    url: String,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(upstream: &str) -> Relay {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meldpunt-testkit"))
        .args(["relay", "--upstream", upstream, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    let url = v["listening"]
        .as_str()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    Relay { child, url }
}

#[test]
fn relay_answers_its_control_endpoints_and_forwards_nothing_without_upstream() {
    let relay = start(&format!("http://127.0.0.1:{}", closed_port()));
    let http = reqwest::blocking::Client::new();
    let get_json = |path: &str| -> Value {
        http.get(format!("{}{path}", relay.url))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let set_mode = |body: Value| {
        http.post(format!("{}/__relay/mode", relay.url))
            .json(&body)
            .send()
            .unwrap()
    };

    let id = get_json("/__relay/identity");
    let identity = id["identity"].as_str().unwrap();
    assert_eq!(identity.len(), 43, "a 32-byte key in base64url: {id}");
    assert!(!id["fingerprint"].as_str().unwrap().is_empty(), "{id}");
    assert!(!id["id"].as_str().unwrap().is_empty(), "{id}");

    let unknown = set_mode(json!({"mode": "make_everyone_trust_me"}));
    assert_eq!(unknown.status().as_u16(), 400);
    for mode in ["add_advisor", "swap_keys", "replay", "none"] {
        let ok = set_mode(json!({"mode": mode}));
        assert!(ok.status().is_success(), "{mode}: {}", ok.status());
    }

    // The upstream is down: an answer from the relay itself, never a hang.
    let down = http
        .get(format!("{}/api/v1/orgs/acme", relay.url))
        .send()
        .unwrap();
    assert_eq!(down.status().as_u16(), 502);

    let log = get_json("/__relay/log");
    assert_eq!(log["opened"], 0, "{log}");
    assert_eq!(log["envelopes_seen"], 0, "{log}");
}
