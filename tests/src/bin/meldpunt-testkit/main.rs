//! `meldpunt-testkit`: plays confidential advisors against a running server, so that the
//! browser tests (`tests/browser`) can prove end-to-end behaviour with the real API and the
//! real crypto crate. Deliberately small; the real advisor tools live elsewhere.
//!
//! ```text
//! meldpunt-testkit register --server URL --invite CODE --name NAME --keyring FILE
//!                           [--bio TEXT] [--languages nl,en]
//!     registers a new advisor (fresh identity and encryption key); prints
//!     {"id", "identity", "fingerprint", "pin"}
//! meldpunt-testkit read --server URL --keyring FILE [--attachments DIR]
//!     logs in, opens every case addressed to the advisor through the client core and prints
//!     {"cases": [{"id", "org", "status", "transcript" ("ok" or "CODE at message N"),
//!                 "warnings": [{"code", "id", "fingerprint"}], "members": [fingerprint],
//!                 "messages": [{"kind", "body", "trusted"}],
//!                 "attachments": [{"id", "file", "size", "name" (safe file name)}]}]}
//! meldpunt-testkit reply --server URL --keyring FILE --case ID --text TEXT [--sign-with FILE]
//!     posts a signed reply after the newest message, sealed by the core to the members only;
//!     prints {"seq"}. With --sign-with, the reply is signed by that other keyring's identity
//!     (someone who is not a member, for the tests of protocol §6.1 and §10) while FILE's
//!     advisor reads the case and posts it.
//! meldpunt-testkit share --server URL --keyring FILE --case ID --advisor ID --fingerprint FP
//!     confirms the colleague by fingerprint (required), makes detached stanzas for every
//!     message and attachment, signs the add statement and posts the share; prints {"seq"}
//! meldpunt-testkit remove --server URL --keyring FILE --case ID --advisor ID
//!     signs the remove statement (the own id: leave the case); prints {"seq"}
//! meldpunt-testkit report --server URL --org SLUG --advisors ID,ID --story TEXT
//!                         [--attachment FILE [--attachment-name NAME]]
//!     a reporter's report sealed by the core (`advisors` in the body); prints {"seed", "attachment"}
//! meldpunt-testkit follow-up --server URL --seed SEED --text TEXT
//!     a reporter's follow-up sealed by the core to the case's members; prints {"seq"}
//! meldpunt-testkit relay --upstream URL [--listen 127.0.0.1:0]
//!     the hostile relay (`meldpunt_tests::relay`): prints {"listening": "http://127.0.0.1:PORT"}
//!     and forwards until killed; control with POST /__relay/mode, GET /__relay/identity,
//!     GET /__relay/log
//! meldpunt-testkit forge --keyring FILE [--server URL]
//!     plays a server that alters an advisor's key bundles (no request is made); prints
//!     {"expired", "not_yet_valid", "swapped_key", "bad_signature", "revoked", "revocation"}:
//!     base64url bundles for fresh keys that are NOT in the keyring (so a report sealed to one
//!     of them cannot be read by the advisor), except that `swapped_key` and `bad_signature`
//!     are the advisor's real current bundle with the key replaced or the signature damaged.
//!     `expired` and `not_yet_valid` are properly signed by the advisor's identity (a replayed
//!     old bundle, a bundle for later); `revoked` is properly signed, valid now, newer than the
//!     real one, and `revocation` is the advisor's signed revocation of it.
//! ```
#![allow(clippy::print_stdout)]

mod advisor;
mod api;
mod reporter;

use std::collections::HashMap;

use anyhow::{Result, anyhow};

use crate::advisor::{read, register, remove, reply, share};
use crate::reporter::{follow_up, forge, relay, report};

const PASSPHRASE: &str = "meldpunt-testkit";

struct Args(HashMap<String, String>);

impl Args {
    pub fn parse(list: &[String]) -> Result<Self> {
        let mut map = HashMap::new();
        let mut it = list.iter();
        while let Some(flag) = it.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or_else(|| anyhow!("unexpected argument {flag}"))?;
            let value = it.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
            map.insert(name.to_owned(), value.clone());
        }
        Ok(Args(map))
    }
    pub fn get(&self, name: &str) -> Result<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| anyhow!("--{name} is required"))
    }
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}


fn main() -> std::process::ExitCode {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let result = match all.split_first() {
        Some((cmd, rest)) => Args::parse(rest).and_then(|args| match cmd.as_str() {
            "register" => register(&args),
            "read" => read(&args),
            "reply" => reply(&args),
            "report" => report(&args),
            "follow-up" => follow_up(&args),
            "forge" => forge(&args),
            "share" => share(&args),
            "remove" => remove(&args),
            "relay" => relay(&args),
            other => Err(anyhow!("unknown command {other}")),
        }),
        None => Err(anyhow!(
            "usage: meldpunt-testkit register|read|reply|share|remove|report|follow-up|forge|relay ..."
        )),
    };
    match result {
        Ok(v) => {
            println!("{v}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("meldpunt-testkit: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

