//! The report table: rows with their reference and goal, sections, and the Markdown they
//! become.

use std::fmt::Write as _;

use super::common::MIB;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Met,
    NotMet,
    NoGoal,
}

#[derive(Debug, Clone)]
pub(crate) struct Row {
    what: String,
    value: String,
    beside: String,
    ratio: String,
    goal: String,
    status: Status,
}

impl Row {
    pub(crate) fn info(what: impl Into<String>, value: impl Into<String>) -> Row {
        Row {
            what: what.into(),
            value: value.into(),
            beside: String::new(),
            ratio: String::new(),
            goal: String::new(),
            status: Status::NoGoal,
        }
    }
    pub(crate) fn beside(mut self, beside: impl Into<String>, ratio: Option<f64>) -> Row {
        self.beside = beside.into();
        self.ratio = ratio.map(|r| format!("**{r:.2}×**")).unwrap_or_default();
        self
    }
    pub(crate) fn goal(mut self, goal: impl Into<String>, met: bool) -> Row {
        self.goal = goal.into();
        self.status = if met { Status::Met } else { Status::NotMet };
        self
    }
}

#[derive(Debug)]
pub(crate) struct Section {
    pub(crate) title: String,
    pub(crate) note: String,
    pub(crate) rows: Vec<Row>,
}

pub(crate) fn render(sections: &[Section]) -> String {
    let mut s = String::new();
    for sec in sections {
        let _ = writeln!(s, "**{}**", sec.title);
        if !sec.note.is_empty() {
            let _ = writeln!(s, "{}", sec.note);
        }
        s.push('\n');
        s.push_str("| figure | value | beside | ratio | goal | |\n|---|---|---|---|---|---|\n");
        for r in &sec.rows {
            let mark = match r.status {
                Status::Met => "met",
                Status::NotMet => "**not met**",
                Status::NoGoal => "",
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                r.what, r.value, r.beside, r.ratio, r.goal, mark
            );
        }
        s.push('\n');
    }
    let all: Vec<&Row> = sections.iter().flat_map(|s| &s.rows).collect();
    let met = all.iter().filter(|r| r.status == Status::Met).count();
    let missed: Vec<&str> = all
        .iter()
        .filter(|r| r.status == Status::NotMet)
        .map(|r| r.what.as_str())
        .collect();
    let _ = writeln!(s, "Goals: {met} met, {} not met.", missed.len());
    if !missed.is_empty() {
        let _ = writeln!(s, "Not met: {}.", missed.join("; "));
    }
    s
}

pub(crate) fn mibs(bytes: f64, secs: f64) -> f64 {
    bytes / MIB / secs
}

pub(crate) fn fmt_rate(mib_s: f64) -> String {
    if mib_s >= 1024.0 {
        format!("{:.2} GiB/s", mib_s / 1024.0)
    } else {
        format!("{mib_s:.1} MiB/s")
    }
}

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}
