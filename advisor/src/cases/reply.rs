//! `meldpunt advisor reply` and `status`.

use std::io::{BufRead, IsTerminal, Read};
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use meldpunt_client::body::MessageBody;
use meldpunt_client::seal;
use meldpunt_crypto::keys::IdentityPublicKey;
use meldpunt_crypto::rng::os_rng;
use serde_json::json;

use crate::client::b64;
use crate::day::now_secs;
use crate::judge::{self, Judged};
use crate::keyfile::PassSource;
use crate::keys::session;
use crate::text::{at, s, short_id};

use crate::cases::common::{own_key, resolve_case, status_label};

fn read_reply_text() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let mut text = String::new();
    if stdin.is_terminal() {
        eprintln!("Type your reply. End with a line with only a dot (.) on it, or press Ctrl-D.");
        for line in stdin.lock().lines() {
            let line = line.context("cannot read your reply")?;
            if line == "." {
                break;
            }
            text.push_str(&line);
            text.push('\n');
        }
    } else {
        stdin
            .lock()
            .take(1 << 20)
            .read_to_string(&mut text)
            .context("cannot read the reply from standard input")?;
    }
    Ok(text.trim_end().to_owned())
}

/// Notes about members a sealed message could not reach.
fn note_unreachable(case: &Judged, unreachable: &[IdentityPublicKey]) {
    for m in unreachable {
        eprintln!(
            "Note: {} (fingerprint {}) has no valid key the server lists; they will not be able to read this.",
            case.name_of(m),
            m.fingerprint().to_display()
        );
    }
}

pub fn reply(
    path: &Path,
    source: PassSource,
    case: &str,
    message: Option<String>,
) -> anyhow::Result<()> {
    let (u, api) = session(path, source)?;
    let id = resolve_case(&api, case)?;
    let case = judge::load(&api, &u.keyring, &id)?;
    case.require_ok("reply")?;
    for w in case.warning_lines() {
        eprintln!("{w}");
    }
    let text = match message {
        Some(m) => m,
        None => read_reply_text()?,
    };
    if text.trim().is_empty() {
        bail!("the reply is empty; nothing was sent");
    }
    let body = MessageBody {
        text,
        attachments: Vec::new(),
        contact: None,
    };
    // To the reporter, the members (never anyone else the server lists) and yourself.
    let sealed = seal::seal_reply(
        &mut os_rng(),
        u.keyring.identity(),
        own_key(&u),
        &case.view,
        &body,
        now_secs(),
    )
    .map_err(|e| anyhow!("cannot reply: {e}; nothing was sent"))?;
    note_unreachable(&case, &sealed.unreachable);
    let r = api.post(
        &format!("/api/v1/advisor/cases/{id}/messages"),
        &json!({"envelope": b64(&sealed.envelope)}),
    )?;
    println!(
        "Reply sent (message {} of the case).",
        at(&r, "seq").as_u64().map_or(0, |n| n + 1)
    );
    if s(&case.raw, "status") == "new" {
        println!(
            "Tip: mark the case as acknowledged with `meldpunt advisor status {} acknowledged`.",
            short_id(&id)
        );
    }
    Ok(())
}

pub fn status(path: &Path, source: PassSource, case: &str, state: &str) -> anyhow::Result<()> {
    let (_u, api) = session(path, source)?;
    let id = resolve_case(&api, case)?;
    api.put(
        &format!("/api/v1/advisor/cases/{id}/status"),
        &json!({"status": state}),
    )?;
    println!("Case {} is now {}.", short_id(&id), status_label(state));
    Ok(())
}
