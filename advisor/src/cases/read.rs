//! `meldpunt advisor read`: a case's decrypted conversation with its checks.

use std::path::Path;

use meldpunt_client::body::{AttachmentRef, MessageBody, ReportBody, Role};
use meldpunt_client::case::{Entry, EntryKind, Problem};
use meldpunt_client::filename::safe_file_name;
use meldpunt_client::membership::Op;
use meldpunt_crypto::message::MessageKind;
use serde_json::Value;

use crate::day::day_string;
use crate::judge::{self, Judged, problem_text};
use crate::keyfile::PassSource;
use crate::keys::session;
use crate::text::{at, clean, s, short_id};

use crate::cases::common::{
    category_label, deadline_note, due_dates, indent, org_pages, resolve_case, status_label,
};

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
    let (ack_by, feedback_by) = due_dates(d, status);
    println!(
        "Acknowledge by: {ack_by}   Feedback by: {feedback_by}   Attention: {}",
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
            day_string(m.created_at())
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
