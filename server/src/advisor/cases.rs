//! Case commands: `inbox`, `read`, `attachments`, `decrypt`, `reply`, `status`, `share`,
//! `overview`.
//! Everything is decrypted here, on the advisor's device, with the keys of the keyring.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use meldpunt_crypto::envelope::{self, MAX_HEADER_LEN, Purpose};
use meldpunt_crypto::keyring::Keyring;
use meldpunt_crypto::keys::{Fingerprint, IdentityPublicKey, KeyBundle, Revocation};
use meldpunt_crypto::message::{Message, MessageKind, TranscriptError, verify_transcript};
use meldpunt_crypto::overview::{self, CaseRecord, Lang, Organisation, Overview};
use meldpunt_crypto::recipient::RecipientKey;
use meldpunt_crypto::rng::os_rng;
use meldpunt_server::day::{Day, now_secs};
use serde_json::{Value, json};

use super::client::{Api, b64, unb64};
use super::keyfile::{PassSource, Unlocked};
use super::keys::session;
use super::{Format, OverviewLang};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// The full id of a case from an id or its first characters (as `inbox` shows them).
fn resolve_case(api: &Api, given: &str) -> anyhow::Result<String> {
    let given = given.trim();
    if given.len() == 22 {
        return Ok(given.to_owned());
    }
    if given.len() < 4 {
        bail!("give at least the first 4 characters of the case (see `meldpunt advisor inbox`)");
    }
    let inbox = api.get("/api/v1/advisor/cases")?;
    let matches: Vec<String> = inbox["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| s(c, "id").to_owned())
        .filter(|id| id.starts_with(given))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("you have no case {given}; see `meldpunt advisor inbox`"),
        _ => bail!("{given} matches several cases; give more characters"),
    }
}

fn detached(v: &Value) -> anyhow::Result<Vec<Vec<u8>>> {
    v["stanzas"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| unb64("stanza", x.as_str().unwrap_or("")))
        .collect()
}

/// A message of a case after decryption.
struct Opened {
    seq: u64,
    day: String,
    result: Result<Message, String>,
}

fn open_messages(keyring: &Keyring, view: &Value) -> anyhow::Result<Vec<Opened>> {
    let mut out = Vec::new();
    for m in view["messages"].as_array().into_iter().flatten() {
        let env = unb64("envelope", s(m, "envelope"))?;
        let det = detached(m)?;
        let refs: Vec<&[u8]> = det.iter().map(Vec::as_slice).collect();
        let result = match keyring.open(&env, &refs) {
            Ok(opened) => Message::from_bytes(&opened.plaintext)
                .map_err(|e| format!("decrypted, but not a valid message ({e})")),
            Err(_) => Err(
                "cannot be decrypted with your keys (it was not sealed to you, or it is damaged)"
                    .into(),
            ),
        };
        out.push(Opened {
            seq: m["seq"].as_u64().unwrap_or(0),
            day: s(m, "created").to_owned(),
            result,
        });
    }
    Ok(out)
}

/// Advisors on the case: identity key, name, id.
struct CaseAdvisor {
    name: String,
    identity: IdentityPublicKey,
    value: Value,
}

fn case_advisors(view: &Value) -> Vec<CaseAdvisor> {
    view["advisors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let identity =
                IdentityPublicKey::from_bytes(&unb64("identity", s(a, "identity")).ok()?).ok()?;
            Some(CaseAdvisor {
                name: s(a, "display_name").to_owned(),
                identity,
                value: a.clone(),
            })
        })
        .collect()
}

/// The verified recipient keys of an advisor as the server lists them (§1.3: signature,
/// key id, dates, revocations), newest first.
fn verified_keys(advisor: &Value, now: i64) -> Vec<(KeyBundle, RecipientKey)> {
    let revs: Vec<Revocation> = advisor["revocations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| Revocation::from_bytes(&unb64("revocation", r.as_str()?).ok()?).ok())
        .collect();
    let identity = unb64("identity", s(advisor, "identity")).unwrap_or_default();
    let mut out: Vec<(KeyBundle, RecipientKey)> = advisor["bundles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| {
            let bundle = KeyBundle::from_bytes(&unb64("bundle", b.as_str()?).ok()?).ok()?;
            if bundle.identity().to_bytes().as_slice() != identity.as_slice() {
                return None;
            }
            let r = bundle.verify_for_sealing(now, &revs, None).ok()?;
            Some((bundle, r))
        })
        .collect();
    out.sort_by_key(|(b, _)| std::cmp::Reverse(b.not_before()));
    out
}

fn transcript_text(e: &TranscriptError) -> String {
    match e {
        TranscriptError::Empty => "the case has no messages".into(),
        TranscriptError::Malformed { index } => format!(
            "message {} is not where it should be or is damaged",
            index + 1
        ),
        TranscriptError::Forged { index } => format!(
            "message {} has a signature that does not verify: it may be forged",
            index + 1
        ),
        TranscriptError::UnknownAuthor { index } => format!(
            "message {} is signed by someone who is not on this case",
            index + 1
        ),
        TranscriptError::Gap { index } => {
            format!("a message before message {} is missing", index + 1)
        }
        TranscriptError::Reordered { index } => format!("message {} is out of order", index + 1),
        TranscriptError::MissingSent { sent_index } => {
            format!("your message {} is missing", sent_index + 1)
        }
        _ => e.to_string(),
    }
}

fn status_label(st: &str) -> &str {
    match st {
        "new" => "new",
        "acknowledged" => "acknowledged",
        "in_progress" => "in progress",
        "closed" => "closed",
        other => other,
    }
}

fn deadline_note(d: &Value, status: &str) -> String {
    let mut notes = Vec::new();
    if d["ack_overdue"].as_bool() == Some(true) {
        notes.push("ACKNOWLEDGE OVERDUE".to_owned());
    } else if d["ack_due_soon"].as_bool() == Some(true) {
        notes.push("acknowledge soon".to_owned());
    }
    if d["feedback_overdue"].as_bool() == Some(true) {
        notes.push("FEEDBACK OVERDUE".to_owned());
    } else if d["feedback_due_soon"].as_bool() == Some(true) {
        notes.push("feedback soon".to_owned());
    }
    if notes.is_empty() {
        if status == "closed" {
            "-".into()
        } else {
            "ok".into()
        }
    } else {
        notes.join(", ")
    }
}

fn org_pages(api: &Api, slugs: impl IntoIterator<Item = String>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for slug in slugs {
        if out.contains_key(&slug) {
            continue;
        }
        let page = api
            .get(&format!("/api/v1/orgs/{slug}"))
            .unwrap_or(Value::Null);
        out.insert(slug, page);
    }
    out
}

fn category_label(page: &Value, id: &str) -> String {
    page["categories"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| s(c, "id") == id)
        .map(|c| {
            let en = s(c, "en");
            if en.is_empty() {
                s(c, "nl").to_owned()
            } else {
                en.to_owned()
            }
        })
        .unwrap_or_else(|| id.to_owned())
}

/// Removes terminal control characters from text written by others.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

fn indent(text: &str) -> String {
    clean(text)
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------------
// inbox
// ---------------------------------------------------------------------------------------------

pub fn inbox(path: &Path, source: PassSource) -> anyhow::Result<()> {
    let (_u, api) = session(path, source)?;
    let v = api.get("/api/v1/advisor/cases")?;
    let cases = v["cases"].as_array().cloned().unwrap_or_default();
    if cases.is_empty() {
        println!("No cases.");
        return Ok(());
    }
    let rows: Vec<[String; 9]> = cases
        .iter()
        .map(|c| {
            let d = &c["deadlines"];
            let status = s(c, "status");
            [
                s(c, "id").chars().take(8).collect(),
                s(c, "org").to_owned(),
                status_label(status).to_owned(),
                s(c, "created").to_owned(),
                s(c, "updated").to_owned(),
                c["messages"].as_u64().unwrap_or(0).to_string(),
                if status == "new" {
                    s(d, "ack_due").to_owned()
                } else {
                    "done".to_owned()
                },
                if status == "closed" {
                    "done".to_owned()
                } else {
                    s(d, "feedback_due").to_owned()
                },
                deadline_note(d, status),
            ]
        })
        .collect();
    let head = [
        "CASE",
        "ORGANISATION",
        "STATUS",
        "CREATED",
        "UPDATED",
        "MSGS",
        "ACK BY",
        "FEEDBACK BY",
        "ATTENTION",
    ];
    let mut widths: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!("{}", line(head.to_vec()));
    for r in &rows {
        println!("{}", line(r.iter().map(String::as_str).collect()));
    }
    let overdue = rows.iter().filter(|r| r[8].contains("OVERDUE")).count();
    println!();
    println!(
        "{} case(s){}. Deadlines: acknowledge a report within 7 days; give feedback within 3 months.",
        rows.len(),
        if overdue > 0 {
            format!(", {overdue} with an overdue deadline")
        } else {
            String::new()
        }
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// read
// ---------------------------------------------------------------------------------------------

fn render_attachments(body: &Value) -> Option<String> {
    let list = body["attachments"].as_array()?;
    if list.is_empty() {
        return None;
    }
    Some(
        list.iter()
            .map(|a| {
                format!(
                    "{} ({}, {} bytes)",
                    clean(s(a, "name")),
                    clean(s(a, "type")),
                    a["size"].as_u64().unwrap_or(0)
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    )
}

fn render_body(kind: MessageKind, body: &[u8], page: &Value) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return format!(
            "(not readable as a report)\n{}",
            indent(&String::from_utf8_lossy(body))
        );
    };
    let mut out = Vec::new();
    if kind == MessageKind::Report {
        let cats: Vec<String> = v["categories"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|c| clean(&category_label(page, c)))
            .collect();
        out.push(format!(
            "Categories: {}",
            if cats.is_empty() {
                "-".into()
            } else {
                cats.join(", ")
            }
        ));
        out.push(format!(
            "Role:       {}",
            match s(&v, "role") {
                "affected" => "affected (it happened to the reporter)",
                "witness" => "witness",
                _ => "not stated",
            }
        ));
        if !s(&v, "when").is_empty() {
            out.push(format!("When:       {}", clean(s(&v, "when"))));
        }
        if !s(&v, "where").is_empty() {
            out.push(format!("Where:      {}", clean(s(&v, "where"))));
        }
        let wishes: Vec<&str> = v["wishes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if !wishes.is_empty() {
            out.push(format!("Wishes:     {}", clean(&wishes.join(", "))));
        }
        if !s(&v, "lang").is_empty() {
            out.push(format!("Language:   {}", clean(s(&v, "lang"))));
        }
    }
    if !s(&v, "contact").is_empty() {
        out.push(format!("Contact:    {}", clean(s(&v, "contact"))));
    }
    if let Some(a) = render_attachments(&v) {
        out.push(format!("Attachments: {a}"));
    }
    let text = if kind == MessageKind::Report {
        s(&v, "story")
    } else {
        s(&v, "text")
    };
    if !out.is_empty() {
        out.push(String::new());
    }
    out.push(indent(text));
    out.join("\n")
}

pub fn read(path: &Path, source: PassSource, case: &str) -> anyhow::Result<()> {
    let (u, api) = session(path, source)?;
    let id = resolve_case(&api, case)?;
    let view = api.get(&format!("/api/v1/advisor/cases/{id}"))?;
    let org = s(&view, "org").to_owned();
    let pages = org_pages(&api, [org.clone()]);
    let page = pages.get(&org).cloned().unwrap_or(Value::Null);
    let advisors = case_advisors(&view);
    let me = u.keyring.identity().public();
    let opened = open_messages(&u.keyring, &view)?;

    let status = s(&view, "status");
    let d = &view["deadlines"];
    println!("Case {id}");
    println!(
        "Organisation: {}   Status: {}   Created: {}   Updated: {}",
        org,
        status_label(status),
        s(&view, "created"),
        s(&view, "updated")
    );
    println!(
        "Acknowledge by: {}   Feedback by: {}   Attention: {}",
        if status == "new" {
            s(d, "ack_due")
        } else {
            "done"
        },
        if status == "closed" {
            "done"
        } else {
            s(d, "feedback_due")
        },
        deadline_note(d, status)
    );
    println!("Advisors on this case:");
    for a in &advisors {
        println!(
            "  {}{}  fingerprint {}",
            clean(&a.name),
            if a.identity == me { " (you)" } else { "" },
            a.identity.fingerprint().to_display()
        );
    }

    // The transcript check over everything that opened.
    let all_open = opened.iter().all(|o| o.result.is_ok());
    let messages: Vec<Message> = opened
        .iter()
        .filter_map(|o| o.result.as_ref().ok().cloned())
        .collect();
    let trusted: Vec<IdentityPublicKey> = advisors.iter().map(|a| a.identity).collect();
    let check = verify_transcript(&messages, &trusted);
    match (&check, all_open) {
        (Ok(t), true) => println!(
            "Check: OK. {} message(s); every signature is valid; nothing is missing or out of order.",
            t.messages().len()
        ),
        (Ok(_), false) => {
            println!("Check: WARNING. Some messages could not be decrypted (see below).")
        }
        (Err(e), _) => println!(
            "Check: WARNING. {}. Do not rely on this conversation before you have checked it with a colleague.",
            transcript_text(e)
        ),
    }

    let name_of = |pk: [u8; 32]| -> String {
        advisors
            .iter()
            .find(|a| a.identity.to_bytes() == pk)
            .map(|a| {
                format!(
                    "{}{}",
                    clean(&a.name),
                    if a.identity == me { " (you)" } else { "" }
                )
            })
            .unwrap_or_else(|| "an unknown advisor".into())
    };
    for (n, o) in opened.iter().enumerate() {
        println!();
        match &o.result {
            Ok(m) => {
                let who = match m.kind() {
                    MessageKind::Report => "Report from the reporter".to_owned(),
                    MessageKind::FollowUp => "Message from the reporter".to_owned(),
                    MessageKind::Reply => format!("Reply from {}", name_of(m.author_bytes())),
                    MessageKind::Membership => format!("Membership statement by {}", name_of(m.author_bytes())),
                };
                let sig = if m.verify_signature() {
                    "signature valid"
                } else {
                    "SIGNATURE INVALID"
                };
                println!(
                    "--- {}. {who} · {} · {sig}",
                    n + 1,
                    Day::from_unix(m.created_at())
                );
                println!("{}", render_body(m.kind(), m.body(), &page));
            }
            Err(e) => {
                println!("--- {}. (message {} of {}) · {e}", n + 1, o.seq, o.day);
            }
        }
    }
    let atts = view["attachments"].as_array().map_or(0, Vec::len);
    if atts > 0 {
        println!();
        println!(
            "{atts} attachment(s): save them with `meldpunt advisor attachments {} --out FOLDER`.",
            &id[..8.min(id.len())]
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// attachments
// ---------------------------------------------------------------------------------------------

/// A safe file name from a name given by someone else.
fn safe_name(name: &str, fallback: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| {
            if matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    let cleaned: String = cleaned.chars().take(120).collect();
    if cleaned.is_empty() {
        fallback.to_owned()
    } else {
        cleaned
    }
}

/// Links `tmp` to a free name in `dir` (never replacing a file) and removes `tmp`.
fn place(tmp: &Path, dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    for n in 0..1000u32 {
        let candidate = if n == 0 {
            dir.join(name)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        match fs::hard_link(tmp, &candidate) {
            Ok(()) => {
                let _ = fs::remove_file(tmp);
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                let _ = fs::remove_file(tmp);
                bail!("cannot save {name} in {}: {e}", dir.display());
            }
        }
    }
    let _ = fs::remove_file(tmp);
    bail!(
        "cannot find a free file name for {name} in {}",
        dir.display()
    )
}

pub fn attachments(path: &Path, source: PassSource, case: &str, out: &Path) -> anyhow::Result<()> {
    let (u, api) = session(path, source)?;
    let id = resolve_case(&api, case)?;
    let view = api.get(&format!("/api/v1/advisor/cases/{id}"))?;
    let list = view["attachments"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        println!("This case has no attachments.");
        return Ok(());
    }
    fs::create_dir_all(out).with_context(|| format!("cannot make the folder {}", out.display()))?;
    // Names from the messages' bodies.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for o in open_messages(&u.keyring, &view)? {
        if let Ok(m) = o.result
            && let Ok(v) = serde_json::from_slice::<Value>(m.body())
        {
            for a in v["attachments"].as_array().into_iter().flatten() {
                names.insert(s(a, "id").to_owned(), s(a, "name").to_owned());
            }
        }
    }
    let keys = u.keyring.decryption_keys();
    let mut failures = 0usize;
    for (i, a) in list.iter().enumerate() {
        let att = s(a, "id");
        let name = safe_name(
            names.get(att).map_or("", String::as_str),
            &format!("attachment-{}", i + 1),
        );
        let det = detached(a)?;
        let refs: Vec<&[u8]> = det.iter().map(Vec::as_slice).collect();
        let resp = api.get_stream(&format!("/api/v1/advisor/cases/{id}/attachments/{att}"))?;
        let size = a["size"].as_u64().unwrap_or(0);
        let pb = indicatif::ProgressBar::new(size);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes}")
        {
            pb.set_style(style);
        }
        pb.set_message(name.clone());
        let tmp = out.join(format!(".meldpunt-{}-{i}.part", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("cannot write in {}", out.display()))?;
        let writer = std::io::BufWriter::new(file);
        let result = envelope::open_stream(pb.wrap_read(resp), &keys, &refs, writer);
        pb.finish_and_clear();
        match result {
            Ok(info) if info.purpose == Purpose::Attachment => {
                let placed = place(&tmp, out, &name)?;
                println!("Saved {} ({} bytes)", placed.display(), info.plaintext_len);
            }
            Ok(_) | Err(_) => {
                // Plaintext released before the end is not authentic: discard it.
                let _ = fs::remove_file(&tmp);
                failures += 1;
                eprintln!(
                    "Could not decrypt attachment {} ({name}): it was not sealed to you, or it is damaged.",
                    i + 1
                );
            }
        }
    }
    if failures > 0 {
        bail!("{failures} attachment(s) could not be saved");
    }
    Ok(())
}

/// `decrypt --in FILE --out FILE`: opens an attachment envelope file with the keyring's keys
/// (no server involved), streaming chunk by chunk on every core, so memory stays constant
/// whatever the size. The plaintext goes to a temporary file next to `out` and is linked to
/// `out` only once the whole envelope has verified; an existing `out` is never replaced.
pub fn decrypt(path: &Path, source: PassSource, input: &Path, out: &Path) -> anyhow::Result<()> {
    // Refuse early, before asking for the passphrase (checked again when linking).
    if out.symlink_metadata().is_ok() {
        bail!(
            "{} already exists; it is not replaced. Choose another file name",
            out.display()
        );
    }
    let file = fs::File::open(input).with_context(|| format!("cannot read {}", input.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let u = Unlocked::open(path, source)?;
    let keys = u.keyring.decryption_keys();
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".meldpunt-{}-decrypt.part", std::process::id()));
    let part = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let pb = indicatif::ProgressBar::new(size);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes}") {
        pb.set_style(style);
    }
    let mut writer = std::io::BufWriter::with_capacity(1 << 18, part);
    let result = envelope::open_stream(pb.wrap_read(file), &keys, &[], &mut writer)
        .map_err(|e| anyhow!("{e}"))
        .and_then(|info| {
            writer.flush()?;
            Ok(info)
        });
    pb.finish_and_clear();
    drop(writer);
    let info = match result {
        Ok(info) if info.purpose == Purpose::Attachment => info,
        Ok(_) => {
            let _ = fs::remove_file(&tmp);
            bail!(
                "{} is not an attachment envelope; nothing was written",
                input.display()
            );
        }
        Err(e) => {
            // Plaintext released before the end is not authentic: discard it.
            let _ = fs::remove_file(&tmp);
            bail!(
                "cannot decrypt {}: it was not sealed to a key in your keyring, or it is damaged \
                 ({e}); nothing was written",
                input.display()
            );
        }
    };
    let linked = fs::hard_link(&tmp, out);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            println!("Saved {} ({} bytes)", out.display(), info.plaintext_len);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} already exists; it is not replaced", out.display())
        }
        Err(e) => bail!("cannot save {}: {e}", out.display()),
    }
}

// ---------------------------------------------------------------------------------------------
// reply, status
// ---------------------------------------------------------------------------------------------

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

pub fn reply(
    path: &Path,
    source: PassSource,
    case: &str,
    message: Option<String>,
) -> anyhow::Result<()> {
    let (u, api) = session(path, source)?;
    let id = resolve_case(&api, case)?;
    let view = api.get(&format!("/api/v1/advisor/cases/{id}"))?;
    let opened = open_messages(&u.keyring, &view)?;
    let messages: Vec<Message> = opened
        .into_iter()
        .map(|o| o.result)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow!("cannot reply: a message of this case {e}"))?;
    let advisors = case_advisors(&view);
    let trusted: Vec<IdentityPublicKey> = advisors.iter().map(|a| a.identity).collect();
    let transcript = verify_transcript(&messages, &trusted).map_err(|e| {
        anyhow!(
            "cannot reply: the conversation does not check out: {}",
            transcript_text(&e)
        )
    })?;
    let text = match message {
        Some(m) => m,
        None => read_reply_text()?,
    };
    if text.trim().is_empty() {
        bail!("the reply is empty; nothing was sent");
    }
    let head = transcript
        .head()
        .ok_or_else(|| anyhow!("the case has no messages"))?;
    let now = now_secs();
    let body = serde_json::to_vec(&json!({"text": text, "attachments": []}))?;
    let msg = Message::sign_reply(u.keyring.identity(), &head, now, &body)
        .map_err(|e| anyhow!("cannot sign the reply: {e}"))?;
    // To the reporter, to every advisor on the case (their newest valid key), and to yourself
    // (so that you can read your own reply later).
    let mut to: Vec<RecipientKey> = vec![transcript.reply_key()];
    let me = u.keyring.identity().public();
    for a in &advisors {
        if a.identity == me {
            continue;
        }
        match verified_keys(&a.value, now).first() {
            Some((_, r)) => to.push(*r),
            None => eprintln!(
                "Note: {} has no valid key; they will not be able to read this reply.",
                clean(&a.name)
            ),
        }
    }
    if let Some(mine) = u.keyring.current_key(now) {
        to.push(mine.key.recipient());
    } else {
        eprintln!(
            "Note: you have no valid key yourself, so you will not be able to read this reply later. Run `meldpunt advisor keys rotate`."
        );
    }
    to.dedup_by_key(|r| r.key_id());
    let env = envelope::seal(
        &mut os_rng(),
        Purpose::Message,
        s(&view, "org"),
        &to,
        &msg.to_bytes(),
    )
    .map_err(|e| anyhow!("cannot encrypt the reply: {e}"))?;
    let r = api.post(
        &format!("/api/v1/advisor/cases/{id}/messages"),
        &json!({"envelope": b64(&env)}),
    )?;
    println!(
        "Reply sent (message {} of the case).",
        r["seq"].as_u64().map_or(0, |n| n + 1)
    );
    if s(&view, "status") == "new" {
        println!(
            "Tip: mark the case as acknowledged with `meldpunt advisor status {} acknowledged`.",
            &id[..8.min(id.len())]
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
    println!(
        "Case {} is now {}.",
        &id[..8.min(id.len())],
        status_label(state)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// share
// ---------------------------------------------------------------------------------------------

pub fn share(
    path: &Path,
    source: PassSource,
    case: &str,
    who: &str,
    pin: Option<&str>,
) -> anyhow::Result<()> {
    let (u, api) = session(path, source)?;
    let id = resolve_case(&api, case)?;
    let view = api.get(&format!("/api/v1/advisor/cases/{id}"))?;
    let org = s(&view, "org").to_owned();
    let page = api.get(&format!("/api/v1/orgs/{org}"))?;
    let candidates: Vec<&Value> = page["advisors"].as_array().into_iter().flatten().collect();
    let who_fp = Fingerprint::parse(who).ok();
    let matches: Vec<&Value> = candidates
        .iter()
        .copied()
        .filter(|a| {
            s(a, "id") == who
                || s(a, "display_name").eq_ignore_ascii_case(who.trim())
                || who_fp.is_some_and(|fp| {
                    Fingerprint::parse(s(a, "fingerprint")).is_ok_and(|f| f == fp)
                })
        })
        .collect();
    let target = match matches.as_slice() {
        [one] => *one,
        [] => bail!("there is no advisor \"{who}\" for organisation {org}"),
        _ => bail!("\"{who}\" matches several advisors; give their id or fingerprint"),
    };
    let target_identity = IdentityPublicKey::from_bytes(&unb64("identity", s(target, "identity"))?)
        .map_err(|_| anyhow!("the server sent a malformed identity key"))?;
    if target_identity == u.keyring.identity().public() {
        bail!("that is you");
    }
    if let Some(pin) = pin {
        let pin = Fingerprint::parse(pin)
            .map_err(|_| anyhow!("--fingerprint is not a valid fingerprint"))?;
        if target_identity.fingerprint() != pin {
            bail!(
                "the fingerprint of {} does not match: nothing was shared",
                clean(s(target, "display_name"))
            );
        }
    }
    let now = now_secs();
    let keys = verified_keys(target, now);
    let Some((bundle, recipient)) = keys.first() else {
        bail!(
            "{} has no valid key; ask them to run `meldpunt advisor keys rotate`",
            clean(s(target, "display_name"))
        );
    };
    let mine = u.keyring.decryption_keys();
    let mut stanzas = Vec::new();
    let messages = view["messages"].as_array().cloned().unwrap_or_default();
    let atts = view["attachments"].as_array().cloned().unwrap_or_default();
    let pb = indicatif::ProgressBar::new((messages.len() + atts.len()) as u64);
    for m in &messages {
        let env = unb64("envelope", s(m, "envelope"))?;
        let det = detached(m)?;
        let refs: Vec<&[u8]> = det.iter().map(Vec::as_slice).collect();
        let st = envelope::rewrap(&env, &mine, &refs, recipient, &mut os_rng()).map_err(|_| {
            anyhow!(
                "cannot share: message {} cannot be opened with your keys",
                m["seq"].as_u64().unwrap_or(0) + 1
            )
        })?;
        stanzas.push(json!({"message": m["seq"], "stanza": b64(&st)}));
        pb.inc(1);
    }
    for a in &atts {
        let att = s(a, "id");
        // Only the header is needed for re-wrapping.
        let resp = api.get_stream(&format!("/api/v1/advisor/cases/{id}/attachments/{att}"))?;
        let mut head = Vec::with_capacity(MAX_HEADER_LEN);
        resp.take(MAX_HEADER_LEN as u64)
            .read_to_end(&mut head)
            .context("the attachment download broke off")?;
        let det = detached(a)?;
        let refs: Vec<&[u8]> = det.iter().map(Vec::as_slice).collect();
        let st = envelope::rewrap(&head, &mine, &refs, recipient, &mut os_rng())
            .map_err(|_| anyhow!("cannot share: an attachment cannot be opened with your keys"))?;
        stanzas.push(json!({"attachment": att, "stanza": b64(&st)}));
        pb.inc(1);
    }
    pb.finish_and_clear();
    api.post(
        &format!("/api/v1/advisor/cases/{id}/share"),
        &json!({"advisor": s(target, "id"), "stanzas": stanzas}),
    )?;
    println!(
        "Shared case {} with {} (fingerprint {}, key {}).",
        &id[..8.min(id.len())],
        clean(s(target, "display_name")),
        target_identity.fingerprint().to_display(),
        bundle.key_id().to_hex()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// overview
// ---------------------------------------------------------------------------------------------

fn quarter(day: Day) -> u8 {
    let (_, m, _) = day.ymd();
    u8::try_from((m + 2) / 3).unwrap_or(1)
}

pub fn overview(
    path: &Path,
    source: PassSource,
    year: i32,
    format: Format,
    lang: OverviewLang,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    if let Some(out) = out
        && out.exists()
    {
        bail!("{} already exists; it is not replaced", out.display());
    }
    let (u, api) = session(path, source)?;
    let inbox = api.get("/api/v1/advisor/cases")?;
    let cases = inbox["cases"].as_array().cloned().unwrap_or_default();
    let pb = indicatif::ProgressBar::new(cases.len() as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("Decrypting cases {bar:30} {pos}/{len}")
    {
        pb.set_style(style);
    }
    let mut records = Vec::new();
    let mut skipped = 0usize;
    let mut slugs = Vec::new();
    for c in &cases {
        pb.inc(1);
        let view = api.get(&format!("/api/v1/advisor/cases/{}", s(c, "id")))?;
        let opened = open_messages(&u.keyring, &view)?;
        let Some(Ok(report)) = opened.first().map(|o| &o.result) else {
            skipped += 1;
            continue;
        };
        if report.kind() != MessageKind::Report {
            skipped += 1;
            continue;
        }
        let created = Day::from_unix(report.created_at());
        if i64::from(year) != created.ymd().0 {
            continue;
        }
        let body: Value = serde_json::from_slice(report.body()).unwrap_or(Value::Null);
        // Acknowledged = the first reply of an advisor (the API does not give the status
        // change's date).
        let first_reply = opened
            .iter()
            .filter_map(|o| o.result.as_ref().ok())
            .find(|m| m.kind() == MessageKind::Reply);
        let days = first_reply.map(|m| {
            let d = created.days_until(Day::from_unix(m.created_at()));
            u32::try_from(d).unwrap_or(0)
        });
        let org = s(&view, "org").to_owned();
        slugs.push(org.clone());
        records.push(CaseRecord {
            organisation: org,
            quarter: quarter(created),
            categories: body["categories"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            role: overview::Role::parse(s(&body, "role")),
            wishes: body["wishes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            days_to_acknowledgement: days,
        });
    }
    pb.finish_and_clear();
    let pages = org_pages(&api, slugs.clone());
    let mut orgs: Vec<Organisation> = pages
        .iter()
        .map(|(slug, p)| Organisation {
            id: slug.clone(),
            name: p["name"].as_str().unwrap_or(slug).to_owned(),
            categories: p["categories"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| overview::CategoryLabel {
                    id: s(c, "id").to_owned(),
                    nl: s(c, "nl").to_owned(),
                    en: s(c, "en").to_owned(),
                })
                .collect(),
        })
        .collect();
    orgs.sort_by(|a, b| a.name.cmp(&b.name));
    let o = Overview::compute(year, &orgs, &records);
    let lang = match lang {
        OverviewLang::Nl => Lang::Nl,
        OverviewLang::En => Lang::En,
    };
    let text = match format {
        Format::Csv => o.to_csv(lang),
        Format::Html => o.to_html(lang),
    };
    match out {
        Some(out) => {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "Wrote the {year} overview ({} case(s)) to {}.",
                records.len(),
                out.display()
            );
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
        }
    }
    if skipped > 0 {
        eprintln!("Note: {skipped} case(s) could not be decrypted and are not counted.");
    }
    Ok(())
}
