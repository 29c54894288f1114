//! `meldpunt advisor overview`: the anonymised yearly overview, computed on this device.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use meldpunt_client::case::{Entry, EntryKind};
use meldpunt_overview::{self as overview, CaseRecord, Lang, Organisation, Overview};
use serde_json::Value;

use crate::args::{Format, OverviewLang};
use crate::day::{day_of, days_between};
use crate::judge;
use crate::keyfile::{PassSource, new_private_file};
use crate::keys::session;
use crate::text::{at, s};

use crate::cases::common::org_pages;

fn quarter(day: time::Date) -> u8 {
    u8::from(day.month()).div_ceil(3)
}

/// The strings of a list field of a report body (others are passed over).
fn strings(body: &Value, key: &str) -> Vec<String> {
    at(body, key)
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
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
        let Some(created) = day_of(report.created_at()).filter(|d| d.year() == year)
        else {
            continue;
        };
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
            let d = days_between(report.created_at(), m.created_at());
            u32::try_from(d).unwrap_or(0)
        });
        let view = &case.raw;
        let org = s(view, "org").to_owned();
        slugs.push(org.clone());
        records.push(CaseRecord {
            organisation: org,
            quarter: quarter(created),
            categories: strings(&body, "categories"),
            role: overview::Role::parse(s(&body, "role")),
            wishes: strings(&body, "wishes"),
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
            let mut f = new_private_file()
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
