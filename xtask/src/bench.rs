//! `cargo xtask bench [crypto|cli|wasm|server|browser]`: every performance figure of
//! docs/performance.md in one run on one machine, each beside its reference and its goal.
//!
//! Without an argument every part runs and the section between `<!-- bench:begin -->` and
//! `<!-- bench:end -->` of docs/performance.md is rewritten (table, machine, date, commit,
//! command). With a part name only that part runs, and the table is printed and written to
//! `target/bench/report.md`. `MELDPUNT_BENCH_QUICK=1` runs small sizes and short loads to check
//! the tooling; its figures never go into docs/performance.md.
//!
//! Parts:
//! - `crypto`: the criterion bench `throughput` (crypto crate), read back from
//!   `target/criterion/**/new/{benchmark,estimates}.json`: seal/open beside raw
//!   ChaCha20-Poly1305 of the same size.
//! - `cli`: `meldpunt advisor decrypt` of a 256 MiB attachment envelope beside `rage -d` of an
//!   age file of the same plaintext, whole processes, file to file; the keyring unlock is timed
//!   alone with an empty envelope.
//! - `wasm`: the WASM client's `AttachmentEncryptor` under Node (1 MiB, 64 MiB) beside the
//!   native single-threaded streaming seal of the `crypto` part.
//! - `server`: `meldpunt-loadgen --spawn` (create/read throughput and latency with 64 in
//!   flight, raw SQLite inserts, server RSS at idle, under load and after, and during a 100 MiB
//!   attachment upload and download).
//! - `browser`: the reporter browser test's `measurements` test in headless Chromium (bytes to
//!   load the report page, send → code).
//!
//! Only `std`, like the rest of xtask: JSON is picked apart by hand.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::{Result, cargo, root, run, setup};

/// The pinned `rage` (age in Rust) used as the CLI's reference.
const RAGE_VERSION: &str = "0.12.1";
const BEGIN: &str = "<!-- bench:begin -->";
const END: &str = "<!-- bench:end -->";
const PARTS: [&str; 5] = ["crypto", "cli", "wasm", "server", "browser"];
const MIB: f64 = 1024.0 * 1024.0;

/// Sizes and repetitions: the real run, or the quick one that only checks the tooling.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    quick: bool,
    cli_mib: u64,
    cli_runs: usize,
    wasm: [(u64, usize); 2],
    cases: usize,
    reads: usize,
    pow_cases: usize,
    raw_secs: u64,
    attachment_mib: usize,
}

impl Sizes {
    fn from_env() -> Sizes {
        let quick = std::env::var("MELDPUNT_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        if quick {
            Sizes {
                quick,
                cli_mib: 16,
                cli_runs: 2,
                wasm: [(1, 2), (4, 1)],
                cases: 1000,
                reads: 1000,
                pow_cases: 0,
                raw_secs: 1,
                attachment_mib: 16,
            }
        } else {
            Sizes {
                quick,
                cli_mib: 256,
                cli_runs: 5,
                wasm: [(1, 10), (64, 3)],
                cases: 20_000,
                reads: 20_000,
                pow_cases: 300,
                raw_secs: 3,
                attachment_mib: 100,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The table

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Met,
    NotMet,
    NoGoal,
}

#[derive(Debug, Clone)]
struct Row {
    what: String,
    value: String,
    beside: String,
    ratio: String,
    goal: String,
    status: Status,
}

impl Row {
    fn info(what: impl Into<String>, value: impl Into<String>) -> Row {
        Row {
            what: what.into(),
            value: value.into(),
            beside: String::new(),
            ratio: String::new(),
            goal: String::new(),
            status: Status::NoGoal,
        }
    }
    fn beside(mut self, beside: impl Into<String>, ratio: Option<f64>) -> Row {
        self.beside = beside.into();
        self.ratio = ratio.map(|r| format!("**{r:.2}×**")).unwrap_or_default();
        self
    }
    fn goal(mut self, goal: impl Into<String>, met: bool) -> Row {
        self.goal = goal.into();
        self.status = if met { Status::Met } else { Status::NotMet };
        self
    }
}

#[derive(Debug)]
struct Section {
    title: String,
    note: String,
    rows: Vec<Row>,
}

fn render(sections: &[Section]) -> String {
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

fn mibs(bytes: f64, secs: f64) -> f64 {
    bytes / MIB / secs
}

fn fmt_rate(mib_s: f64) -> String {
    if mib_s >= 1024.0 {
        format!("{:.2} GiB/s", mib_s / 1024.0)
    } else {
        format!("{mib_s:.1} MiB/s")
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}

// ---------------------------------------------------------------------------------------------
// Entry point

pub fn bench(args: &[String]) -> Result {
    let sizes = Sizes::from_env();
    let which: Vec<&str> = match args.first().map(String::as_str) {
        None | Some("all") => PARTS.to_vec(),
        Some(p) if PARTS.contains(&p) && args.len() == 1 => vec![p],
        Some(other) => {
            return Err(format!(
                "unknown bench part `{other}`: cargo xtask bench [{}]",
                PARTS.join("|")
            ));
        }
    };
    let everything = which.len() == PARTS.len();
    let started = Instant::now();
    let machine = Machine::now();
    let work = target_dir().join("bench");
    fs::create_dir_all(&work).map_err(|e| format!("cannot make {}: {e}", work.display()))?;

    let mut sections = Vec::new();
    let mut failures = Vec::new();
    let mut crypto: Option<Criterion> = None;
    for part in &which {
        eprintln!(
            "\n==== bench {part}{} ====",
            if sizes.quick { " (quick)" } else { "" }
        );
        let result = match *part {
            "crypto" => bench_crypto(&sizes, started).map(|(sec, c)| {
                crypto = Some(c);
                vec![sec]
            }),
            "cli" => bench_cli(&sizes, &work).map(|s| vec![s]),
            "wasm" => bench_wasm(&sizes, &work, crypto.as_ref()).map(|s| vec![s]),
            "server" => bench_server(&sizes, &work),
            "browser" => bench_browser(&work).map(|s| vec![s]),
            _ => Ok(Vec::new()),
        };
        match result {
            Ok(mut s) => sections.append(&mut s),
            Err(e) => {
                eprintln!("xtask bench {part}: FAILED: {e}");
                failures.push(format!("{part}: {e}"));
            }
        }
    }

    let command = if sizes.quick {
        format!(
            "MELDPUNT_BENCH_QUICK=1 cargo xtask bench {}",
            args.join(" ")
        )
    } else {
        format!("cargo xtask bench {}", args.join(" "))
    };
    let report = format!(
        "{}\n{}\n{}",
        machine.describe(command.trim_end(), started.elapsed()),
        render(&sections),
        if failures.is_empty() {
            String::new()
        } else {
            format!("\nFAILED parts: {}\n", failures.join("; "))
        }
    );
    let out = work.join("report.md");
    fs::write(&out, &report).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!("\n{report}\n(written to {})", out.display());
    if !failures.is_empty() {
        return Err(format!(
            "{} part(s) failed: {}",
            failures.len(),
            failures.join("; ")
        ));
    }
    if everything && !sizes.quick {
        write_doc(&report)?;
    } else if everything {
        eprintln!("(quick run: docs/performance.md is left as it is)");
    }
    Ok(())
}

/// Replaces the marked section of docs/performance.md.
fn write_doc(report: &str) -> Result {
    let path = root().join("docs").join("performance.md");
    let doc =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let new = replace_marked(&doc, report).map_err(|e| format!("{}: {e}", path.display()))?;
    fs::write(&path, new).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("docs/performance.md: section between the bench markers rewritten");
    Ok(())
}

/// `doc` with the text between [`BEGIN`] and [`END`] replaced by `report`. Refuses a document
/// in which either marker is missing or appears more than once, or `END` comes first: writing
/// into such a document is how a report once got pasted all over it.
fn replace_marked(doc: &str, report: &str) -> Result<String> {
    for marker in [BEGIN, END] {
        let n = doc.matches(marker).count();
        if n != 1 {
            return Err(format!(
                "{marker} appears {n} times (exactly once is needed); nothing written"
            ));
        }
    }
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        return Err("markers vanished".into());
    };
    if e < b {
        return Err(format!("{END} comes before {BEGIN}; nothing written"));
    }
    let head = doc.get(..b + BEGIN.len()).unwrap_or_default();
    let tail = doc.get(e..).unwrap_or_default();
    Ok(format!("{head}\n{report}\n{tail}"))
}

#[cfg(test)]
mod doc_tests {
    use super::{BEGIN, END, replace_marked};

    #[test]
    fn the_marked_section_is_replaced_and_nothing_else() {
        let doc = format!("intro\n{BEGIN}\nold\n{END}\noutro\n");
        assert_eq!(
            replace_marked(&doc, "new").unwrap(),
            format!("intro\n{BEGIN}\nnew\n{END}\noutro\n")
        );
    }

    #[test]
    fn a_document_without_exactly_one_of_each_marker_is_refused() {
        for doc in [
            String::from("no markers"),
            format!("{BEGIN} only"),
            format!("{END} only"),
            format!("{BEGIN}\n{END}\n{BEGIN}\n{END}"),
            format!("{BEGIN}\n{BEGIN}\n{END}"),
            format!("{END}\n{BEGIN}"),
        ] {
            assert!(replace_marked(&doc, "x").is_err(), "{doc}");
        }
    }
}

/// `CARGO_TARGET_DIR` if set (relative to the workspace root), else `target/`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => root().join(d),
        _ => root().join("target"),
    }
}

fn release_bin(name: &str) -> PathBuf {
    target_dir().join("release").join(name)
}

/// The release binaries the parts run, in one cargo invocation (one feature resolution, so
/// that they are not rebuilt part after part).
fn build_release_bins() -> Result {
    run(cargo().args([
        "build",
        "--release",
        "--package",
        "meldpunt-server",
        "--bin",
        "meldpunt",
        "--bin",
        "meldpunt-loadgen",
        "--package",
        "meldpunt-tests",
        "--bin",
        "meldpunt-testkit",
        "--bin",
        "meldpunt-benchkit",
    ]))
}

fn output(cmd: &mut Command) -> Result<String> {
    let shown = format!("{cmd:?}").replace('"', "");
    eprintln!("\n==> {shown}");
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{shown} failed ({})", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

// ---------------------------------------------------------------------------------------------
// Machine, date, commit

struct Machine {
    nproc: usize,
    cpu: String,
    load_start: String,
    mem: String,
    rustc: String,
    date: String,
    commit: String,
}

impl Machine {
    fn now() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, m)| m.trim().to_owned())
            .unwrap_or_else(|| "?".into());
        let mem = fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                let kib: f64 = m.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
                Some(format!("{:.0} GiB", kib / MIB))
            })
            .unwrap_or_else(|| "?".into());
        let rustc = Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        Machine {
            nproc: std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
            cpu,
            load_start: loadavg(),
            mem,
            rustc,
            date: utc_now(),
            commit: git_commit(),
        }
    }

    fn describe(&self, command: &str, took: Duration) -> String {
        format!(
            "Measured {} (UTC) at commit `{}` with `{command}` ({:.1} min).\n\
             Machine: `nproc` = {}, CPU `{}`, {} memory, {}; load average at the start {}, at the \
             end {}.\n",
            self.date,
            self.commit,
            took.as_secs_f64() / 60.0,
            self.nproc,
            self.cpu,
            self.mem,
            self.rustc,
            self.load_start,
            loadavg()
        )
    }
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// `YYYY-MM-DD HH:MM` in UTC, from the system clock (civil-from-days, no time library).
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{d:02} {h:02}:{m:02}")
}

/// The checked-out commit, read from `.git` without running git (worktrees included).
fn git_commit() -> String {
    let read = |p: &Path| fs::read_to_string(p).ok().map(|s| s.trim().to_owned());
    let dot = root().join(".git");
    let gitdir = if dot.is_file() {
        match read(&dot).and_then(|s| s.strip_prefix("gitdir:").map(|g| root().join(g.trim()))) {
            Some(d) => d,
            None => return "?".into(),
        }
    } else {
        dot
    };
    let common = read(&gitdir.join("commondir")).map_or_else(|| gitdir.clone(), |c| gitdir.join(c));
    let Some(head) = read(&gitdir.join("HEAD")) else {
        return "?".into();
    };
    let Some(name) = head.strip_prefix("ref:").map(str::trim) else {
        return head.chars().take(12).collect();
    };
    let sha = read(&gitdir.join(name))
        .or_else(|| read(&common.join(name)))
        .or_else(|| {
            read(&common.join("packed-refs"))?
                .lines()
                .find(|l| l.ends_with(name))
                .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        });
    let branch = name.rsplit('/').next().unwrap_or(name);
    match sha {
        Some(s) => format!("{} ({branch})", s.chars().take(12).collect::<String>()),
        None => format!("? ({branch})"),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. crypto: criterion

/// Criterion medians, in MiB/s of plaintext: (function id, size label) → MiB/s.
#[derive(Debug, Default)]
struct Criterion {
    rows: Vec<(String, String, f64)>,
    fresh: bool,
}

impl Criterion {
    fn get(&self, function: &str, size: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|(f, s, _)| f == function && s == size)
            .map(|r| r.2)
    }
}

const CRYPTO_SIZES: [&str; 3] = ["1KiB", "1MiB", "64MiB"];
const CRYPTO_APIS: [(&str, &str); 10] = [
    ("seal_into", "`seal_into`, all cores"),
    ("open_into", "`open_into`, all cores"),
    ("seal_stream", "`seal_stream`, all cores"),
    ("open_stream", "`open_stream`, all cores (the CLI's path)"),
    ("seal_into_1t", "`seal_into`, 1 thread"),
    ("open_into_1t", "`open_into`, 1 thread"),
    ("seal_stream_1t", "`seal_stream`, 1 thread"),
    ("open_stream_1t", "`open_stream`, 1 thread"),
    ("seal", "`seal` (fresh output buffer)"),
    ("open", "`open` (fresh buffer, wiped on drop)"),
];

fn bench_crypto(sizes: &Sizes, started: Instant) -> Result<(Section, Criterion)> {
    let mut cmd = cargo();
    cmd.args([
        "bench",
        "--package",
        "meldpunt-crypto",
        "--bench",
        "throughput",
    ]);
    if sizes.quick {
        cmd.args([
            "--",
            "crypto/(1KiB|1MiB)/(raw_aead|seal_into|open_into|seal_stream_1t)/",
        ]);
    }
    run(&mut cmd)?;
    let since = SystemTime::now() - started.elapsed();
    let c = read_criterion(Some(since))?;
    Ok((crypto_section(&c), c))
}

/// Reads every `new/benchmark.json` + `new/estimates.json` under target/criterion/crypto_*
/// (only those written since `since`, if given).
fn read_criterion(since: Option<SystemTime>) -> Result<Criterion> {
    let dir = target_dir().join("criterion");
    let mut files = Vec::new();
    find_files(&dir, "benchmark.json", &mut files);
    let mut c = Criterion {
        rows: Vec::new(),
        fresh: since.is_some(),
    };
    for bench in files {
        let Some(new) = bench.parent().filter(|p| p.ends_with("new")) else {
            continue;
        };
        let estimates = new.join("estimates.json");
        if let Some(since) = since {
            let fresh = fs::metadata(&estimates)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since);
            if !fresh {
                continue;
            }
        }
        let (Ok(b), Ok(e)) = (fs::read_to_string(&bench), fs::read_to_string(&estimates)) else {
            continue;
        };
        let group = json_str(&b, "group_id").unwrap_or_default();
        let Some(size) = group.strip_prefix("crypto/") else {
            continue;
        };
        let function = json_str(&b, "function_id").unwrap_or_default();
        let bytes = json_num(&b, "\"Bytes\"");
        let ns = e
            .find("\"median\"")
            .and_then(|i| e.get(i..))
            .and_then(|rest| json_num(rest, "\"point_estimate\""));
        if let (Some(bytes), Some(ns)) = (bytes, ns) {
            c.rows
                .push((function, size.to_owned(), mibs(bytes, ns / 1e9)));
        }
    }
    if c.rows.is_empty() {
        return Err(format!(
            "no criterion results for the crypto bench under {}",
            dir.display()
        ));
    }
    Ok(c)
}

fn find_files(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            find_files(&p, name, out);
        } else if p.file_name().is_some_and(|n| n == name) {
            out.push(p);
        }
    }
}

/// The string value of `"key":"…"` (criterion's JSON has no escapes in these fields).
fn json_str(text: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":\"");
    let start = text.find(&pat)? + pat.len();
    let rest = text.get(start..)?;
    Some(rest.get(..rest.find('"')?)?.to_owned())
}

/// The first number after `key` (a quoted key, e.g. `"point_estimate"`) and a colon.
fn json_num(text: &str, key: &str) -> Option<f64> {
    let rest = text.get(text.find(key)? + key.len()..)?;
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest.get(..end)?.parse().ok()
}

fn crypto_section(c: &Criterion) -> Section {
    let mut rows = Vec::new();
    let raw: Vec<Option<f64>> = CRYPTO_SIZES.iter().map(|s| c.get("raw_aead", s)).collect();
    for (i, id) in CRYPTO_SIZES.iter().enumerate() {
        let Some(r) = raw.get(i).copied().flatten() else {
            continue;
        };
        let size = id.replace("KiB", " KiB").replace("MiB", " MiB");
        rows.push(Row::info(
            format!("raw ChaCha20-Poly1305, {size}, 1 thread (reference)"),
            fmt_rate(r),
        ));
        for (api, label) in CRYPTO_APIS {
            let Some(v) = c.get(api, id) else {
                continue;
            };
            let ratio = v / r;
            let row = Row::info(format!("{label}, {size}"), fmt_rate(v))
                .beside(format!("raw AEAD {}", fmt_rate(r)), Some(ratio));
            rows.push(if *id == "1KiB" {
                row
            } else {
                row.goal("≥ 0.9× raw AEAD", ratio >= 0.9)
            });
        }
    }
    Section {
        title: "1. Crypto: envelope seal and open beside raw ChaCha20-Poly1305".into(),
        note: "Criterion median of `cargo bench -p meldpunt-crypto --bench throughput` \
               (crypto/benches/throughput.rs), plaintext bytes per second; the reference is \
               ChaCha20-Poly1305 from the same crate over a buffer of the same size on one thread. \
               One recipient. No goal at 1 KiB (the fixed HPKE stanza dominates)."
            .into(),
        rows,
    }
}

// ---------------------------------------------------------------------------------------------
// 2. cli: meldpunt advisor decrypt beside rage

/// `rage` and `rage-keygen` of the pinned version, installed under
/// `$CARGO_HOME/meldpunt-tools/rage-VERSION` (like wasm-bindgen in setup.rs).
fn ensure_rage() -> Result<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(target_dir);
    let tools = cargo_home
        .join("meldpunt-tools")
        .join(format!("rage-{RAGE_VERSION}"));
    let bin = tools.join("bin");
    let version = Command::new(bin.join("rage"))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !version.contains(RAGE_VERSION) {
        run(cargo()
            .args([
                "install",
                "--locked",
                "rage",
                "--version",
                RAGE_VERSION,
                "--root",
            ])
            .arg(&tools))?;
    }
    Ok(bin)
}

/// Runs a whole process, timed from spawn to exit, sampling its peak RSS (`VmHWM`).
fn time_process(cmd: &mut Command) -> Result<(f64, u64)> {
    let shown = format!("{cmd:?}").replace('"', "");
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    let pid = child.id();
    let hwm = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (hwm, stop) = (Arc::clone(&hwm), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(kib) = status_kib(pid, "VmHWM") {
                    hwm.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let status = child.wait();
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    match status {
        Ok(s) if s.success() => Ok((secs, hwm.load(Ordering::Relaxed))),
        Ok(s) => Err(format!("{shown} failed ({s}): {}", err.trim())),
        Err(e) => Err(format!("{shown}: {e}")),
    }
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.get(field.len()..)?
        .trim_start_matches(':')
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Whether two files have the same bytes.
fn same_file(a: &Path, b: &Path) -> Result<bool> {
    let open = |p: &Path| File::open(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = read_full(&mut fa, &mut ba)?;
        let nb = read_full(&mut fb, &mut bb)?;
        if na != nb || ba.get(..na) != bb.get(..nb) {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(buf.get_mut(n..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    Ok(n)
}

fn remove(p: &Path) {
    let _ = fs::remove_file(p);
}

fn bench_cli(sizes: &Sizes, work: &Path) -> Result<Section> {
    build_release_bins()?;
    let rage_bin = ensure_rage()?;
    let (rage, keygen) = (rage_bin.join("rage"), rage_bin.join("rage-keygen"));
    let meldpunt = release_bin("meldpunt");
    let dir = work.join("cli");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let size = sizes.cli_mib << 20;

    // Inputs: a keyring (default Argon2id parameters), the plaintext, its envelope, an empty
    // envelope (meldpunt-benchkit, with the crypto crate), and an age file of the same plaintext.
    let made = output(
        Command::new(release_bin("meldpunt-benchkit"))
            .args(["cli-files", "--dir"])
            .arg(&dir)
            .args(["--size", &size.to_string()]),
    )?;
    let argon = format!(
        "Argon2id m = {} MiB, t = {}",
        json_num(&made, "\"m_kib\"").map_or(0.0, |m| m / 1024.0),
        json_num(&made, "\"t\"").unwrap_or(0.0)
    );
    let key = dir.join("age-key.txt");
    output(Command::new(&keygen).arg("-o").arg(&key))?;
    let key_text =
        fs::read_to_string(&key).map_err(|e| format!("cannot read {}: {e}", key.display()))?;
    let recipient = key_text
        .lines()
        .find_map(|l| l.strip_prefix("# public key:"))
        .map(str::trim)
        .ok_or("rage-keygen wrote no public key")?
        .to_owned();
    let plain = dir.join("plain.bin");
    let aged = dir.join("plain.age");
    output(
        Command::new(&rage)
            .args(["-r", &recipient, "-o"])
            .arg(&aged)
            .arg(&plain),
    )?;

    let out = dir.join("out.bin");
    let passphrase = dir.join("passphrase");
    let cli = |input: &str, out: &Path| -> Result<Command> {
        let stdin =
            File::open(&passphrase).map_err(|e| format!("cannot read the passphrase file: {e}"))?;
        let mut c = Command::new(&meldpunt);
        c.arg("advisor")
            .arg("--keyring")
            .arg(dir.join("keyring.mpk"))
            .args(["--passphrase-fd", "0", "decrypt", "--in"])
            .arg(dir.join(input))
            .arg("--out")
            .arg(out)
            .stdin(Stdio::from(stdin))
            .env_remove("MELDPUNT_KEYRING");
        Ok(c)
    };
    let rage_cmd = |out: &Path| {
        let mut c = Command::new(&rage);
        c.args(["-d", "-i"]).arg(&key).arg("-o").arg(out).arg(&aged);
        c
    };

    // A first untimed round checks the outputs (and warms the page cache).
    remove(&out);
    time_process(&mut cli("plain.mpe", &out)?)?;
    if !same_file(&out, &plain)? {
        return Err("meldpunt advisor decrypt wrote something else than the plaintext".into());
    }
    remove(&out);
    time_process(&mut rage_cmd(&out))?;
    if !same_file(&out, &plain)? {
        return Err("rage -d wrote something else than the plaintext".into());
    }
    remove(&out);
    let empty_out = dir.join("empty.out");

    let (mut t_cli, mut t_rage, mut t_unlock) = (Vec::new(), Vec::new(), Vec::new());
    let (mut hwm_cli, mut hwm_rage, mut hwm_unlock) = (0u64, 0u64, 0u64);
    for i in 0..sizes.cli_runs {
        eprintln!("cli round {}/{}", i + 1, sizes.cli_runs);
        remove(&out);
        let (t, h) = time_process(&mut cli("plain.mpe", &out)?)?;
        t_cli.push(t);
        hwm_cli = hwm_cli.max(h);
        remove(&out);
        let (t, h) = time_process(&mut rage_cmd(&out))?;
        t_rage.push(t);
        hwm_rage = hwm_rage.max(h);
        remove(&out);
        remove(&empty_out);
        let (t, h) = time_process(&mut cli("empty.mpe", &empty_out)?)?;
        t_unlock.push(t);
        hwm_unlock = hwm_unlock.max(h);
        remove(&empty_out);
    }
    let _ = fs::remove_dir_all(&dir);
    // Best of the runs: on a shared machine a whole process is only ever slowed down by the
    // rest, and the unlock is subtracted from the decryption, so the least disturbed runs are
    // the ones to compare. Medians are shown beside.
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let (cli_s, rage_s, unlock_s) = (best(&t_cli), best(&t_rage), best(&t_unlock));
    let bytes = size as f64;
    let cli_rate = mibs(bytes, cli_s);
    let rage_rate = mibs(bytes, rage_s);
    let net = cli_s - unlock_s;
    let net_rate = mibs(bytes, net);
    let ms = |s: f64| format!("{:.0} ms", s * 1000.0);
    let med = |v: &[f64]| format!("median {:.0} ms", median(v) * 1000.0);
    let growth = hwm_cli.saturating_sub(hwm_unlock);
    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    let rows = vec![
        Row::info(
            format!(
                "`rage -d` {RAGE_VERSION}, {} MiB (reference)",
                sizes.cli_mib
            ),
            format!("{} ({}; {})", fmt_rate(rage_rate), ms(rage_s), med(&t_rage)),
        ),
        Row::info(
            format!(
                "`meldpunt advisor decrypt`, {} MiB, whole process incl. keyring unlock",
                sizes.cli_mib
            ),
            format!("{} ({}; {})", fmt_rate(cli_rate), ms(cli_s), med(&t_cli)),
        )
        .beside(
            format!("rage {}", fmt_rate(rage_rate)),
            Some(cli_rate / rage_rate),
        )
        .goal("≥ 1.0× rage", cli_rate >= rage_rate),
        Row::info(
            format!(
                "keyring unlock alone: the same command on an empty envelope ({argon}, and process start)"
            ),
            format!("{} ({})", ms(unlock_s), med(&t_unlock)),
        ),
        if net > 0.0 {
            Row::info(
                format!(
                    "`meldpunt advisor decrypt`, {} MiB, unlock subtracted",
                    sizes.cli_mib
                ),
                format!("{} ({})", fmt_rate(net_rate), ms(net)),
            )
            .beside(
                format!("rage {}", fmt_rate(rage_rate)),
                Some(net_rate / rage_rate),
            )
            .goal("≥ 1.0× rage", net_rate >= rage_rate)
        } else {
            Row::info(
                format!(
                    "`meldpunt advisor decrypt`, {} MiB, unlock subtracted",
                    sizes.cli_mib
                ),
                "not measurable: the unlock run took as long as the whole decryption (machine too busy, or the file too small)",
            )
        },
        Row::info(
            format!(
                "peak RSS (`VmHWM`): CLI decrypt of {} MiB / CLI on the empty envelope / rage",
                sizes.cli_mib
            ),
            format!("{} / {} / {}", mib(hwm_cli), mib(hwm_unlock), mib(hwm_rage)),
        )
        .goal(
            "constant memory: growth over the empty envelope < 16 MiB",
            growth < 16 * 1024,
        ),
    ];
    Ok(Section {
        title: format!(
            "2. Advisor CLI: decrypting a {} MiB attachment beside rage",
            sizes.cli_mib
        ),
        note: format!(
            "Whole processes, file to file, page cache warm, best of {} interleaved runs; the \
             CLI reads its passphrase with `--passphrase-fd 0`. Inputs from `meldpunt-benchkit \
             cli-files` (an attachment envelope sealed to a keyring with the default Argon2id \
             parameters) and `rage -r` of the same random plaintext; both outputs compared with it.",
            sizes.cli_runs
        ),
        rows,
    })
}

// ---------------------------------------------------------------------------------------------
// 3. wasm: the attachment sealer under Node

/// Seals random bytes through the WASM client's `AttachmentEncryptor` (as `www/js/files.js`
/// does: 256 KiB pieces) to one advisor and the reporter's own key. Arguments: the package
/// directory, the advisor JSON of `meldpunt-benchkit advisor-bundle`, then `MIBxRUNS`…
const WASM_SCRIPT: &str = r#"'use strict';
const [pkg, advisor, ...sizes] = process.argv.slice(2);
const m = require(pkg);
const { identity, bundle } = JSON.parse(advisor);
const set = new m.Advisors();
const check = set.add('bench', identity, [bundle], [], m.Pins.none(), Date.now() / 1000);
if (!check.usable) throw new Error(`advisor not usable: ${check.problem}`);
const seed = new Uint8Array(32);
crypto.getRandomValues(seed);
const reporter = m.Reporter.fromSeed(seed);
const PIECE = 256 * 1024;
function seal(data) {
  const enc = reporter.attachmentEncryptor('bench', set, ['bench']);
  let out = enc.header().length;
  for (let at = 0; at < data.length; at += PIECE) out += enc.push(data.subarray(at, at + PIECE)).length;
  out += enc.finish().length;
  enc.free();
  if (out <= data.length) throw new Error('short envelope');
}
// Warm-up: let V8 compile the module with its optimising tier before anything is timed.
seal(new Uint8Array(16 * 1024 * 1024));
for (const arg of sizes) {
  const [mib, runs] = arg.split('x').map(Number);
  const size = mib * 1024 * 1024;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const ms = [];
  for (let r = 0; r <= runs; r++) { // the first run of each size is not counted
    const start = process.hrtime.bigint();
    seal(data);
    const took = Number(process.hrtime.bigint() - start) / 1e6;
    if (r > 0) ms.push(took);
  }
  console.log(`wasm-seal ${mib} ${ms.join(' ')}`);
}
reporter.free();
"#;

fn bench_wasm(sizes: &Sizes, work: &Path, crypto: Option<&Criterion>) -> Result<Section> {
    build_release_bins()?;
    let pkg = work.join("wasm-node");
    build_wasm("nodejs", &pkg, &[])?;
    let advisor = output(Command::new(release_bin("meldpunt-benchkit")).arg("advisor-bundle"))?;
    let script = work.join("wasm-seal.cjs");
    fs::write(&script, WASM_SCRIPT)
        .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let node_version = output(Command::new("node").arg("--version"))?
        .trim()
        .to_owned();
    let mut cmd = Command::new("node");
    cmd.arg(&script)
        .arg(pkg.join("meldpunt_client_wasm.js"))
        .arg(advisor.trim());
    for (mib, runs) in sizes.wasm {
        cmd.arg(format!("{mib}x{runs}"));
    }
    let out = output(&mut cmd)?;
    // The native figure: this run's criterion results, else the last ones on disk.
    let on_disk = if crypto.is_none() {
        read_criterion(None).ok()
    } else {
        None
    };
    let native = crypto.or(on_disk.as_ref());
    let mut rows = Vec::new();
    for line in out.lines() {
        let mut it = line.split_whitespace();
        if it.next() != Some("wasm-seal") {
            continue;
        }
        let mib: u64 = it.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        let ms: Vec<f64> = it.filter_map(|t| t.parse().ok()).collect();
        let rate = mibs((mib << 20) as f64, median(&ms) / 1000.0);
        let label = format!("{mib}MiB");
        let row = Row::info(
            format!(
                "WASM `AttachmentEncryptor` under Node {node_version}, {mib} MiB, 256 KiB pieces"
            ),
            format!("{} (median of {})", fmt_rate(rate), ms.len()),
        );
        let reference = native.and_then(|c| c.get("seal_stream_1t", &label));
        rows.push(match reference {
            Some(n) => row.beside(
                format!(
                    "native `seal_stream` 1 thread {}{}",
                    fmt_rate(n),
                    if native.is_some_and(|c| !c.fresh) {
                        " (earlier criterion run)"
                    } else {
                        ""
                    }
                ),
                Some(rate / n),
            ),
            None => row.beside("native: not measured at this size", None),
        });
    }
    if rows.is_empty() {
        return Err(format!("no figures from the Node script:\n{out}"));
    }
    Ok(Section {
        title: "3. WASM seal throughput under Node beside native".into(),
        note: "The `wasm-release` build of client-wasm through `wasm-bindgen --target nodejs`; \
               the page's streaming attachment sealer (2 recipients: one advisor and the \
               reporter's own key; each piece copied into WASM memory and the ciphertext copied \
               out). WASM is single-threaded, so the reference is the crypto part's \
               single-threaded streaming seal (1 recipient). No goal."
            .into(),
        rows,
    })
}

/// The `wasm-release` build of the client, through wasm-bindgen for `target` into `out`.
fn build_wasm(target: &str, out: &Path, extra: &[&str]) -> Result {
    setup::ensure_wasm_target()?;
    let bindgen = setup::ensure_wasm_bindgen()?;
    run(cargo().args([
        "build",
        "--package",
        "meldpunt-client-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]))?;
    let wasm = target_dir()
        .join("wasm32-unknown-unknown")
        .join("wasm-release")
        .join("meldpunt_client_wasm.wasm");
    run(Command::new(bindgen)
        .args(["--target", target, "--no-typescript"])
        .args(extra)
        .arg("--out-dir")
        .arg(out)
        .arg(&wasm))
}

// ---------------------------------------------------------------------------------------------
// 4–6. server: the load generator

fn bench_server(sizes: &Sizes, work: &Path) -> Result<Vec<Section>> {
    build_release_bins()?;
    let results = work.join("server.tsv");
    remove(&results);
    run(Command::new(release_bin("meldpunt-loadgen"))
        .arg("--spawn")
        .arg(release_bin("meldpunt"))
        .args(["--cases", &sizes.cases.to_string()])
        .args(["--reads", &sizes.reads.to_string()])
        .args(["--pow-cases", &sizes.pow_cases.to_string()])
        .args(["--raw-secs", &sizes.raw_secs.to_string()])
        .args(["--attachment-mib", &sizes.attachment_mib.to_string()])
        .args(["--concurrency", "64", "--results"])
        .arg(&results))?;
    let text = fs::read_to_string(&results)
        .map_err(|e| format!("cannot read {}: {e}", results.display()))?;
    let get = |k: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('\t'))
            .and_then(|v| v.trim().parse().ok())
    };
    let need = |k: &str| get(k).ok_or_else(|| format!("the load generator did not report {k}"));
    let mib = |kib: f64| format!("{:.1} MiB", kib / 1024.0);

    let raw1 = need("raw_single_rate")?;
    let rawb = need("raw_batch_rate")?;
    let batch = get("raw_batch").unwrap_or(64.0);
    let create = need("create_rate")?;
    let read = need("read_rate")?;
    let (c50, c99) = (need("create_p50_ms")?, need("create_p99_ms")?);
    let (r50, r99) = (need("read_p50_ms")?, need("read_p99_ms")?);
    let failed = get("create_failed").unwrap_or(0.0) + get("read_failed").unwrap_or(0.0);
    let mut rows = vec![
        Row::info(
            "raw SQLite durable insert, 4.6 KiB row, one row per transaction (= one fsync), WAL + synchronous=FULL (reference)",
            format!("{raw1:.0}/s"),
        ),
        Row::info(
            format!("raw SQLite durable insert, {batch:.0} rows per transaction (reference)"),
            format!("{rawb:.0}/s"),
        ),
        Row::info(
            format!(
                "create case, 4 KiB envelope, PoW off, 64 in flight ({:.0} cases)",
                need("create_n")?
            ),
            format!("{create:.0}/s"),
        )
        .beside(
            format!("raw 1 row/fsync {raw1:.0}/s; batched {rawb:.0}/s"),
            Some(create / raw1),
        )
        .goal("≥ 3,000/s", create >= 3000.0),
        Row::info(
            "create case: p50 / p99 latency",
            format!("{c50:.1} / {c99:.1} ms"),
        )
        .goal("p99 < 50 ms", c99 < 50.0),
        Row::info(
            format!(
                "read case (one 4 KiB message), 64 in flight ({:.0} reads)",
                need("read_n")?
            ),
            format!("{read:.0}/s"),
        ),
        Row::info(
            "read case: p50 / p99 latency",
            format!("{r50:.1} / {r99:.1} ms"),
        )
        .goal("p99 < 50 ms", r99 < 50.0),
    ];
    if failed > 0.0 {
        rows.push(Row::info("requests failed", format!("{failed:.0}")).goal("none", false));
    }
    if let (Some(rate), Some(p99)) = (get("pow_create_rate"), get("pow_create_p99_ms")) {
        rows.push(Row::info(
            format!(
                "create case with the default proof of work (Argon2id 4 MiB verified per create; {:.0} cases, solved beforehand)",
                get("pow_create_n").unwrap_or(0.0)
            ),
            format!("{rate:.0}/s, p50 {:.0} ms, p99 {p99:.0} ms", get("pow_create_p50_ms").unwrap_or(0.0)),
        ));
    }
    let load = Section {
        title: "4. Server: create and read cases, 64 concurrent clients".into(),
        note: "`meldpunt-loadgen --spawn` on a release build over loopback (one async client \
               thread, keep-alive, request bodies built beforehand), rate limits raised; every 201 \
               is sent after its transaction is committed with `synchronous=FULL`. The raw SQLite \
               rates are measured in the same run on the same disk."
            .into(),
        rows,
    };

    let idle = need("idle_rss_kib")?;
    let peak = need("load_peak_rss_kib")?;
    let mut rows = vec![
        Row::info("server RSS at idle (PoW off, before the load)", mib(idle)),
        Row::info(
            "server peak RSS during the create and read load (VmRSS sampled every 10 ms)",
            format!("{} (VmHWM {})", mib(peak), mib(need("load_hwm_kib")?)),
        )
        .goal("< 64 MiB", peak < 64.0 * 1024.0),
        Row::info("server RSS after the load", mib(need("after_rss_kib")?)),
    ];
    if let Some(pow_peak) = get("pow_load_peak_rss_kib") {
        rows.push(
            Row::info(
                "server peak RSS during the load with the default proof of work",
                format!(
                    "{} (idle {}, after {})",
                    mib(pow_peak),
                    mib(get("pow_idle_rss_kib").unwrap_or(0.0)),
                    mib(get("pow_after_rss_kib").unwrap_or(0.0))
                ),
            )
            .goal("< 64 MiB", pow_peak < 64.0 * 1024.0),
        );
    }
    let memory = Section {
        title: "5. Server memory at idle and under that load".into(),
        note: String::new(),
        rows,
    };

    let mut sections = vec![load, memory];
    if let Some(att) = get("att_bytes") {
        let att_mib = get("att_mib").unwrap_or(att / MIB);
        let up = need("att_up_peak_rss_kib")? - need("att_idle_rss_kib")?;
        let down = need("att_down_peak_rss_kib")? - need("att_down_idle_rss_kib")?;
        let limit = 16.0 * 1024.0;
        sections.push(Section {
            title: format!(
                "6. Server memory while a {att_mib:.0} MiB attachment ({att:.0} B envelope) is uploaded and downloaded"
            ),
            note: "Reporter API (`PUT`/`GET /api/v1/case/attachments/{id}`), one request at a time \
                   after the load above; peak VmRSS sampled every 10 ms minus VmRSS just before."
                .into(),
            rows: vec![
                Row::info(
                    format!("upload {att_mib:.0} MiB: peak RSS growth over idle"),
                    format!("+{} (at {})", mib(up.max(0.0)), fmt_rate(need("att_up_mib_s")?)),
                )
                .goal("constant memory: < 16 MiB", up < limit),
                Row::info(
                    format!("download {att_mib:.0} MiB: peak RSS growth over idle"),
                    format!("+{} (at {})", mib(down.max(0.0)), fmt_rate(need("att_down_mib_s")?)),
                )
                .goal("constant memory: < 16 MiB", down < limit),
            ],
        });
    }
    Ok(sections)
}

// ---------------------------------------------------------------------------------------------
// 7. browser: the reporter test's measurements

fn bench_browser(work: &Path) -> Result<Section> {
    build_release_bins()?;
    // The web build exactly as `cargo xtask build-client` makes it when the target directory is
    // the default one (its paths are fixed); the same steps otherwise.
    let www = root().join("client-wasm").join("www");
    if target_dir() == root().join("target") {
        crate::build_client()?;
    } else {
        build_wasm(
            "web",
            &www.join("pkg"),
            &["--remove-name-section", "--remove-producers-section"],
        )?;
    }
    setup::ensure_chromium()?;
    let browser = root().join("tests").join("browser");
    setup::ensure_npm_packages(&browser)?;
    let out = output(
        Command::new("node")
            .args([
                "--test",
                "--test-concurrency=1",
                "--test-reporter=tap",
                "--test-name-pattern=measurements",
                "reporter.test.js",
            ])
            .current_dir(&browser)
            .env("TEST_MELDPUNT_BIN", release_bin("meldpunt"))
            .env("TEST_MELDPUNT_TESTKIT", release_bin("meldpunt-testkit"))
            .env("TEST_MELDPUNT_WWW", &www)
            .env("SCREENSHOT_DIR", work.join("browser-artifacts"))
            .env("CHROMIUM", "/usr/bin/chromium"),
    )?;
    // Node's TAP reporter prints console.log lines as comments, `#` escaped as `\#`.
    let _ = fs::write(work.join("browser.log"), &out);
    let find = |needle: &str| out.lines().find(|l| l.contains(needle)).map(str::to_owned);
    let mut rows = Vec::new();
    let page = find("report page load:").ok_or_else(|| format!("no page-load line in:\n{out}"))?;
    let bytes: f64 = page
        .split("responses, ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("cannot read the byte count in `{page}`"))?;
    let responses = page
        .split("load: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or("?");
    let wasm_bytes = out
        .lines()
        .find(|l| l.trim_end().ends_with(".wasm"))
        .and_then(|l| {
            l.trim_start_matches(['#', ' ', '\\'])
                .split_whitespace()
                .next()
        })
        .unwrap_or("?");
    rows.push(
        Row::info(
            format!("bytes to load the report page (`/o/{{slug}}`, {responses} responses, headers included; the `.wasm` {wasm_bytes} B)"),
            format!("{bytes:.0} B ({:.1} KiB)", bytes / 1024.0),
        )
        .goal("≤ 400 KiB (the reporter client's aim)", bytes <= 400.0 * 1024.0),
    );
    let send = find("send → code, nothing held")
        .ok_or_else(|| format!("no send → code line in:\n{out}"))?;
    let wall = send
        .split("wall ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or("?");
    let measures = send.split("measures ms: ").nth(1).unwrap_or("").trim();
    let total = measures
        .find("\"total\"")
        .and_then(|i| json_num(measures.get(i..).unwrap_or_default(), "\"total\""));
    rows.push(Row::info(
        format!("send → pickup code shown, one report with a small JPEG (test server: PoW difficulty 2, m 64 KiB); phases in ms: `{measures}`"),
        format!(
            "{} ms (page's `meldpunt:total`); {wall} ms from the click to the code on screen",
            total.map_or_else(|| "?".into(), |t| format!("{t:.0}"))
        ),
    ));
    if let Some(seal) = find("WASM seal (Chromium") {
        let rate = seal
            .split(" = ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or("?");
        rows.push(Row::info(
            "WASM seal in Chromium's main thread, 10 MiB to 3 recipients",
            format!("{rate} MiB/s"),
        ));
    }
    Ok(Section {
        title: "7. Reporter page in headless Chromium".into(),
        note:
            "`node --test --test-name-pattern=measurements reporter.test.js` (tests/browser) with \
               the release server and the `build-client` WASM build; Debian's Chromium, loopback, \
               no TLS, no compression, fresh browser context."
                .into(),
        rows,
    })
}
