//! What the case commands (and `share`) have in common: finding a case by the first characters
//! of its id, status and deadline wording, organisation pages and category names, and the
//! advisor's own key.

use std::collections::BTreeMap;

use anyhow::bail;
use serde_json::Value;

use crate::client::Api;
use crate::day::now_secs;
use crate::keyfile::Unlocked;
use crate::text::{at, clean, is_case_id, s};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The full id of a case from an id or its first characters (as `inbox` shows them).
pub(crate) fn resolve_case(api: &Api, given: &str) -> anyhow::Result<String> {
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

pub(crate) fn status_label(st: &str) -> &str {
    match st {
        "new" => "new",
        "acknowledged" => "acknowledged",
        "in_progress" => "in progress",
        "closed" => "closed",
        other => other,
    }
}

/// The "acknowledge by" and "feedback by" dates of a case's deadlines `d`, or "done" once that
/// step is past.
pub(crate) fn due_dates(d: &Value, status: &str) -> (String, String) {
    let ack = if status == "new" {
        clean(s(d, "ack_due"))
    } else {
        "done".to_owned()
    };
    let feedback = if status == "closed" {
        "done".to_owned()
    } else {
        clean(s(d, "feedback_due"))
    };
    (ack, feedback)
}

pub(crate) fn deadline_note(d: &Value, status: &str) -> String {
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

pub(crate) fn org_pages(
    api: &Api,
    slugs: impl IntoIterator<Item = String>,
) -> BTreeMap<String, Value> {
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

pub(crate) fn category_label(page: &Value, id: &str) -> String {
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

pub(crate) fn indent(text: &str) -> String {
    clean(text)
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The advisor's own current key, to read their messages back later (or a note why not).
pub(crate) fn own_key(u: &Unlocked) -> Option<meldpunt_crypto::recipient::RecipientKey> {
    let own = u.keyring.current_key(now_secs()).map(|k| k.key.recipient());
    if own.is_none() {
        eprintln!(
            "Note: you have no valid key yourself, so you will not be able to read this message later. Run \
             `meldpunt advisor keys rotate`."
        );
    }
    own
}
