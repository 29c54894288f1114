//! `meldpunt advisor inbox`: your cases with status and deadlines.

use std::path::Path;

use crate::keyfile::PassSource;
use crate::keys::session;
use crate::text::{at, clean, is_case_id, s, short_id};

use crate::cases::common::{deadline_note, due_dates, status_label};

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
            let (ack_by, feedback_by) = due_dates(d, status);
            [
                short_id(s(c, "id")),
                clean(s(c, "org")),
                clean(status_label(status)),
                clean(s(c, "created")),
                clean(s(c, "updated")),
                at(c, "messages").as_u64().unwrap_or(0).to_string(),
                ack_by,
                feedback_by,
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
