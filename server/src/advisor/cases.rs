//! Case commands: `inbox`, `read`, `attachments`, `decrypt`, `reply`, `status`, `overview`.
//! Everything is decrypted here, on the advisor's device, with the keys of the keyring; every
//! trust decision (which messages are trusted, who is a member, whom a reply is sealed to) is
//! made by `meldpunt-client` through [`super::judge`].

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use meldpunt_client::body::{AttachmentRef, MessageBody, ReportBody, Role};
use meldpunt_client::case::{Entry, EntryKind, Problem};
use meldpunt_client::filename::safe_file_name;
use meldpunt_client::membership::Op;
use meldpunt_client::seal;
use meldpunt_crypto::envelope::{self, MAX_HEADER_LEN, Purpose};
use meldpunt_crypto::keys::IdentityPublicKey;
use meldpunt_crypto::message::MessageKind;
use meldpunt_overview::{self as overview, CaseRecord, Lang, Organisation, Overview};
use meldpunt_crypto::rng::os_rng;
use meldpunt_server::day::{Day, now_secs};
use meldpunt_server::private_file::owner_only;
use serde_json::{Value, json};

use super::client::{Api, b64};
use super::judge::{self, Judged, at, clean, detached, is_case_id, problem_text, s, short_id};
use super::keyfile::{PassSource, Unlocked};
use super::keys::session;
use super::{Format, OverviewLang};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The full id of a case from an id or its first characters (as `inbox` shows them).
pub fn resolve_case(api: &Api, given: &str) -> anyhow::Result<String> {
    let given = given.trim();
    if !given
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        bail!(
            "a case is named by the letters, digits, - and _ of its id (see `meldpunt advisor inbox`)"
        );
    }
    if is_case_id(given) {
        return Ok(given.to_owned());
    }
    if given.len() < 4 {
        bail!("give at least the first 4 characters of the case (see `meldpunt advisor inbox`)");
    }
    let inbox = api.get("/api/v1/advisor/cases")?;
    // Only ids that are case ids: a hostile server's odd id is never put into a request path.
    let matches: Vec<String> = at(&inbox, "cases")
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| s(c, "id").to_owned())
        .filter(|id| is_case_id(id) && id.starts_with(given))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("you have no case {given}; see `meldpunt advisor inbox`"),
        _ => bail!("{given} matches several cases; give more characters"),
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
    if at(d, "ack_overdue").as_bool() == Some(true) {
        notes.push("ACKNOWLEDGE OVERDUE".to_owned());
    } else if at(d, "ack_due_soon").as_bool() == Some(true) {
        notes.push("acknowledge soon".to_owned());
    }
    if at(d, "feedback_overdue").as_bool() == Some(true) {
        notes.push("FEEDBACK OVERDUE".to_owned());
    } else if at(d, "feedback_due_soon").as_bool() == Some(true) {
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
    at(page, "categories")
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
    let mut cases = at(&v, "cases").as_array().cloned().unwrap_or_default();
    let listed = cases.len();
    cases.retain(|c| is_case_id(s(c, "id")));
    if cases.len() < listed {
        eprintln!(
            "Warning: the server listed {} case(s) with an id that is no case id; they are not shown. \
             The server may be misconfigured or manipulated: tell your administrator.",
            listed - cases.len()
        );
    }
    if cases.is_empty() {
        println!("No cases.");
        return Ok(());
    }
    let rows: Vec<[String; 9]> = cases
        .iter()
        .map(|c| {
            let d = &at(c, "deadlines");
            let status = s(c, "status");
            [
                short_id(s(c, "id")),
                clean(s(c, "org")),
                clean(status_label(status)),
                clean(s(c, "created")),
                clean(s(c, "updated")),
                at(c, "messages").as_u64().unwrap_or(0).to_string(),
                if status == "new" {
                    clean(s(d, "ack_due"))
                } else {
                    "done".to_owned()
                },
                if status == "closed" {
                    "done".to_owned()
                } else {
                    clean(s(d, "feedback_due"))
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

fn render_attachments(list: &[AttachmentRef]) -> Option<String> {
    if list.is_empty() {
        return None;
    }
    Some(
        list.iter()
            .map(|a| {
                format!(
                    "{} ({}, {} bytes)",
                    safe_file_name(&a.name),
                    clean(&a.media_type),
                    a.size
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    )
}

fn render_report(body: &ReportBody, page: &Value) -> String {
    let mut out = Vec::new();
    let cats: Vec<String> = body
        .categories
        .iter()
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
        match body.role {
            Some(Role::Affected) => "affected (it happened to the reporter)",
            Some(Role::Witness) => "witness",
            None => "not stated",
        }
    ));
    for (label, value) in [("When:      ", &body.when), ("Where:     ", &body.place)] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            out.push(format!("{label} {}", clean(v)));
        }
    }
    if !body.wishes.is_empty() {
        out.push(format!("Wishes:     {}", clean(&body.wishes.join(", "))));
    }
    if let Some(l) = body.lang.as_deref().filter(|v| !v.is_empty()) {
        out.push(format!("Language:   {}", clean(l)));
    }
    if let Some(c) = body.contact.as_deref().filter(|v| !v.is_empty()) {
        out.push(format!("Contact:    {}", clean(c)));
    }
    if let Some(a) = render_attachments(&body.attachments) {
        out.push(format!("Attachments: {a}"));
    }
    out.push(String::new());
    out.push(indent(&body.story));
    out.join("\n")
}

fn render_message(body: &MessageBody) -> String {
    let mut out = Vec::new();
    if let Some(c) = body.contact.as_deref().filter(|v| !v.is_empty()) {
        out.push(format!("Contact:    {}", clean(c)));
    }
    if let Some(a) = render_attachments(&body.attachments) {
        out.push(format!("Attachments: {a}"));
    }
    if !out.is_empty() {
        out.push(String::new());
    }
    out.push(indent(&body.text));
    out.join("\n")
}

fn render_body(kind: MessageKind, body: &[u8], page: &Value) -> String {
    let text = String::from_utf8_lossy(body);
    let rendered = match kind {
        MessageKind::Report => ReportBody::from_json(&text).map(|b| render_report(&b, page)),
        _ => MessageBody::from_json(&text).map(|b| render_message(&b)),
    };
    rendered.unwrap_or_else(|_| format!("(not readable as a message body)\n{}", indent(&text)))
}

fn check_line(case: &Judged) -> String {
    let n = case.view.entries.len();
    match case.view.problem {
        Some(p) => format!(
            "Check: WARNING. {}. Do not rely on this conversation before you have checked it with a colleague.",
            problem_text(p)
        ),
        None if !case.view.warnings.is_empty() => format!(
            "Check: WARNING. {n} message(s) verify, but the server's list of advisors differs from the signed \
             membership of the case (see the warnings above)."
        ),
        None => format!(
            "Check: OK. {n} message(s); every signature is valid; nothing is missing or out of order; the \
             advisors listed are exactly the members."
        ),
    }
}

fn entry_title(case: &Judged, e: &Entry) -> String {
    let author = e
        .author
        .as_ref()
        .map(|a| case.name_of(a))
        .unwrap_or_default();
    match e.kind {
        EntryKind::Report => "Report from the reporter".to_owned(),
        EntryKind::FollowUp => "Message from the reporter".to_owned(),
        EntryKind::Reply => format!("Reply from {author}"),
        EntryKind::Membership(st) => match st.op {
            Op::Add => format!("{author} added {} to the case", case.name_of(&st.advisor)),
            Op::Remove if e.author == Some(st.advisor) => format!("{author} left the case"),
            Op::Remove => format!(
                "{author} removed {} from the case",
                case.name_of(&st.advisor)
            ),
        },
        EntryKind::Unreadable => "(cannot be read)".to_owned(),
    }
}

pub fn read(path: &Path, source: PassSource, case: &str) -> anyhow::Result<()> {
    let (u, api) = session(path, source)?;
    let id = resolve_case(&api, case)?;
    let case = judge::load(&api, &u.keyring, &id)?;
    let view = &case.raw;
    let org = case.view.org.clone();
    let pages = org_pages(&api, [org.clone()]);
    let page = pages.get(&org).cloned().unwrap_or(Value::Null);

    let status = s(view, "status");
    let d = &at(view, "deadlines");
    println!("Case {id}");
    println!(
        "Organisation: {}   Status: {}   Created: {}   Updated: {}",
        clean(&org),
        status_label(status),
        clean(s(view, "created")),
        clean(s(view, "updated"))
    );
    println!(
        "Acknowledge by: {}   Feedback by: {}   Attention: {}",
        if status == "new" {
            clean(s(d, "ack_due"))
        } else {
            "done".into()
        },
        if status == "closed" {
            "done".into()
        } else {
            clean(s(d, "feedback_due"))
        },
        deadline_note(d, status)
    );
    println!("Members of this case (from the signed conversation):");
    for m in &case.view.members {
        let appointed = case
            .view
            .member_id(m)
            .map(|i| case.appointed(i))
            .unwrap_or_default();
        println!(
            "  {}  fingerprint {}{appointed}",
            case.name_of(m),
            m.fingerprint().to_display()
        );
    }
    for w in case.warning_lines() {
        println!("{w}");
    }
    println!("{}", check_line(&case));

    for e in &case.view.entries {
        println!();
        let Some(m) = &e.message else {
            let why = e
                .problem
                .map(|k| {
                    problem_text(Problem {
                        kind: k,
                        index: e.index,
                    })
                })
                .unwrap_or_default();
            println!("--- {}. {why}", e.index + 1);
            continue;
        };
        let sig = match (m.verify_signature(), e.trusted, e.problem) {
            (false, _, _) => "SIGNATURE INVALID".to_owned(),
            (true, true, None) => "signature valid".to_owned(),
            (true, _, Some(p)) => format!(
                "NOT TRUSTED: {}",
                problem_text(Problem {
                    kind: p,
                    index: e.index
                })
            ),
            (true, false, None) => "NOT TRUSTED".to_owned(),
        };
        println!(
            "--- {}. {} · {} · {sig}",
            e.index + 1,
            entry_title(&case, e),
            Day::from_unix(m.created_at())
        );
        if !matches!(e.kind, EntryKind::Membership(_)) {
            println!("{}", render_body(m.kind(), m.body(), &page));
        }
    }
    let atts = at(view, "attachments").as_array().map_or(0, Vec::len);
    if atts > 0 {
        println!();
        println!(
            "{atts} attachment(s): save them with `meldpunt advisor attachments {} --out FOLDER`.",
            short_id(&id)
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// attachments
// ---------------------------------------------------------------------------------------------

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

/// The attachment names in the trusted messages of the case, by attachment id.
fn attachment_names(case: &Judged) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for e in case
        .view
        .entries
        .iter()
        .filter(|e| e.trusted && e.problem.is_none())
    {
        let Some(m) = &e.message else { continue };
        let text = String::from_utf8_lossy(m.body());
        let list = match e.kind {
            EntryKind::Report => ReportBody::from_json(&text)
                .map(|b| b.attachments)
                .unwrap_or_default(),
            EntryKind::FollowUp | EntryKind::Reply => MessageBody::from_json(&text)
                .map(|b| b.attachments)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        for a in list {
            names.insert(a.id, a.name);
        }
    }
    names
}

/// Downloads an attachment and returns a reader that yields the whole envelope, after
/// checking its header through the core (purpose attachment, the case's organisation).
fn attachment_reader(api: &Api, case: &Judged, att: &str) -> anyhow::Result<impl Read> {
    let resp = api.get_stream(&format!(
        "/api/v1/advisor/cases/{}/attachments/{att}",
        case.id
    ))?;
    let mut resp = resp;
    let mut head = Vec::with_capacity(MAX_HEADER_LEN);
    (&mut resp)
        .take(MAX_HEADER_LEN as u64)
        .read_to_end(&mut head)
        .context("the attachment download broke off")?;
    seal::check_attachment_header(&case.view.org, &head).map_err(|_| {
        anyhow!(
            "attachment {} is not an attachment of this case (wrong kind of envelope or another \
             organisation's); it was not opened",
            clean(att)
        )
    })?;
    Ok(std::io::Cursor::new(head).chain(resp))
}

pub fn attachments(path: &Path, source: PassSource, case: &str, out: &Path) -> anyhow::Result<()> {
    let (u, api) = session(path, source)?;
    let id = resolve_case(&api, case)?;
    let case = judge::load(&api, &u.keyring, &id)?;
    let list = at(&case.raw, "attachments")
        .as_array()
        .cloned()
        .unwrap_or_default();
    if list.is_empty() {
        println!("This case has no attachments.");
        return Ok(());
    }
    for w in case.warning_lines() {
        eprintln!("{w}");
    }
    fs::create_dir_all(out).with_context(|| format!("cannot make the folder {}", out.display()))?;
    let names = attachment_names(&case);
    let keys = u.keyring.decryption_keys();
    let mut failures = 0usize;
    for (i, a) in list.iter().enumerate() {
        let att = s(a, "id");
        let name = names
            .get(att)
            .map_or_else(|| format!("attachment-{}", i + 1), |n| safe_file_name(n));
        let det = detached(a)?;
        let refs: Vec<&[u8]> = det.iter().map(Vec::as_slice).collect();
        let reader = match attachment_reader(&api, &case, att) {
            Ok(r) => r,
            Err(e) => {
                failures += 1;
                eprintln!("Could not save attachment {} ({name}): {e}", i + 1);
                continue;
            }
        };
        let size = at(a, "size").as_u64().unwrap_or(0);
        let pb = indicatif::ProgressBar::new(size);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes}")
        {
            pb.set_style(style);
        }
        pb.set_message(name.clone());
        let tmp = out.join(format!(".meldpunt-{}-{i}.part", std::process::id()));
        let file = owner_only(OpenOptions::new().write(true).create_new(true))
            .open(&tmp)
            .with_context(|| format!("cannot write in {}", out.display()))?;
        let writer = std::io::BufWriter::new(file);
        let result = envelope::open_stream(pb.wrap_read(reader), &keys, &refs, writer);
        pb.finish_and_clear();
        match result {
            Ok(info) if info.purpose == Purpose::Attachment && info.org == case.view.org => {
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
    let part = owner_only(OpenOptions::new().write(true).create_new(true))
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

/// The advisor's own current key, to read their messages back later (or a note why not).
pub(super) fn own_key(u: &Unlocked) -> Option<meldpunt_crypto::recipient::RecipientKey> {
    let own = u.keyring.current_key(now_secs()).map(|k| k.key.recipient());
    if own.is_none() {
        eprintln!(
            "Note: you have no valid key yourself, so you will not be able to read this message later. Run \
             `meldpunt advisor keys rotate`."
        );
    }
    own
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

// ---------------------------------------------------------------------------------------------
// overview
// ---------------------------------------------------------------------------------------------

fn quarter(day: Day) -> u8 {
    let (_, m, _) = day.ymd();
    u8::try_from(m.div_ceil(3)).unwrap_or(1)
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
    let cases = at(&inbox, "cases").as_array().cloned().unwrap_or_default();
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
        let case = judge::load(&api, &u.keyring, s(c, "id"))?;
        let trusted = |e: &&Entry| e.trusted && e.problem.is_none();
        let Some(report) = case
            .view
            .entries
            .first()
            .filter(trusted)
            .filter(|e| e.kind == EntryKind::Report)
            .and_then(|e| e.message.as_ref())
        else {
            skipped += 1;
            continue;
        };
        let created = Day::from_unix(report.created_at());
        if i64::from(year) != created.ymd().0 {
            continue;
        }
        let body: Value = serde_json::from_slice(report.body()).unwrap_or(Value::Null);
        // Acknowledged = the first trusted reply of a member (the API does not give the status
        // change's date).
        let first_reply = case
            .view
            .entries
            .iter()
            .filter(trusted)
            .filter(|e| e.kind == EntryKind::Reply)
            .find_map(|e| e.message.as_ref());
        let days = first_reply.map(|m| {
            let d = created.days_until(Day::from_unix(m.created_at()));
            u32::try_from(d).unwrap_or(0)
        });
        let view = &case.raw;
        let org = s(view, "org").to_owned();
        slugs.push(org.clone());
        records.push(CaseRecord {
            organisation: org,
            quarter: quarter(created),
            categories: at(&body, "categories")
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            role: overview::Role::parse(s(&body, "role")),
            wishes: at(&body, "wishes")
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
            name: at(p, "name").as_str().unwrap_or(slug).to_owned(),
            categories: at(p, "categories")
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
            let mut f = owner_only(OpenOptions::new().write(true).create_new(true))
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
