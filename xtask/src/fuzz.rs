//! `cargo xtask fuzz --minutes N [TARGET...]`: every cargo-fuzz target of every fuzz crate
//! (`crypto/fuzz`, `server/fuzz`), one after the other, each for N minutes in one libFuzzer
//! process, then a table of executions and findings per target.
//!
//! Findings are the files libFuzzer leaves in `<crate>/fuzz/artifacts/<target>/` during the run
//! (`crash-…`, `leak-…`, `timeout-…`, `oom-…`) or a non-zero exit. Executions come from
//! libFuzzer's final statistics (`-print_final_stats=1`). The full output of each run is kept
//! in `$CARGO_TARGET_DIR/fuzz-logs/<crate>-<target>.log`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::setup;
use crate::util::{Result, cargo, root, run, target_dir};

/// The fuzz crates, relative to the workspace root.
const CRATES: &[&str] = &["crypto/fuzz", "server/fuzz"];

/// Extra libFuzzer flags of a target.
fn extra_flags(target: &str) -> &'static [&'static str] {
    match target {
        // Argon2id of at least 19 MiB per input that reaches the AEAD (crypto/fuzz/README.md).
        "keyring" => &["-rss_limit_mb=4096"],
        _ => &[],
    }
}

/// What one target's run gave.
#[derive(Debug)]
struct Outcome {
    krate: String,
    target: String,
    seconds: f64,
    executions: Option<u64>,
    /// Coverage counters (`cov:`) and corpus size (`corp:`) at the end.
    coverage: Option<String>,
    findings: Vec<PathBuf>,
    exit_ok: bool,
}

fn usage() -> String {
    "usage: cargo xtask fuzz --minutes N [TARGET...]   (N may be a fraction, e.g. 0.5)".into()
}

pub fn fuzz(args: &[String]) -> Result {
    let mut minutes: f64 = 1.0;
    let mut only: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--minutes" => {
                let n = it.next().ok_or_else(usage)?;
                minutes = n.parse().map_err(|_| format!("bad minutes `{n}`\n{}", usage()))?;
                if !minutes.is_finite() || minutes <= 0.0 {
                    return Err(usage());
                }
            }
            other if other.starts_with('-') => return Err(format!("unknown flag `{other}`\n{}", usage())),
            target => only.push(target.to_owned()),
        }
    }
    let seconds = (minutes * 60.0).round().max(1.0) as u64;
    setup::ensure_cargo_fuzz()?;

    let logs = target_dir().join("fuzz-logs");
    fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    let mut outcomes = Vec::new();
    let mut seen = BTreeSet::new();
    for krate in CRATES {
        let dir = root().join(krate);
        if !dir.join("Cargo.toml").exists() {
            eprintln!("({krate} does not exist; skipped)");
            continue;
        }
        let targets: Vec<String> = list_targets(&dir)?
            .into_iter()
            .filter(|t| only.is_empty() || only.contains(t))
            .collect();
        if targets.is_empty() {
            continue;
        }
        // Build once, so that the fuzzing time is fuzzing.
        run(fuzz_cmd(&dir).args(["build", "-O"]))?;
        for target in targets {
            seen.insert(target.clone());
            outcomes.push(run_target(krate, &dir, &target, seconds, &logs)?);
        }
    }
    if let Some(missing) = only.iter().find(|t| !seen.contains(*t)) {
        return Err(format!("no fuzz target `{missing}` in {}", CRATES.join(", ")));
    }
    if outcomes.is_empty() {
        return Err("no fuzz targets found".into());
    }

    println!("\nFuzzing summary ({minutes} min per target, one libFuzzer process each):\n");
    println!("| crate | target | minutes | executions | exec/s | coverage / corpus | findings |");
    println!("|---|---|---|---|---|---|---|");
    for o in &outcomes {
        let execs = o.executions.map_or_else(|| "?".to_owned(), |n| n.to_string());
        let rate = o
            .executions
            .map_or_else(|| "?".to_owned(), |n| format!("{:.0}", n as f64 / o.seconds.max(1.0)));
        let findings = if o.findings.is_empty() && o.exit_ok {
            "0".to_owned()
        } else if o.findings.is_empty() {
            "exit status not 0 (see log)".to_owned()
        } else {
            let names: Vec<String> = o.findings.iter().map(|p| p.display().to_string()).collect();
            format!("{}: {}", o.findings.len(), names.join(", "))
        };
        println!(
            "| {} | `{}` | {:.1} | {} | {} | {} | {} |",
            o.krate,
            o.target,
            o.seconds / 60.0,
            execs,
            rate,
            o.coverage.as_deref().unwrap_or("?"),
            findings
        );
    }
    println!("\nLogs: {}", logs.display());
    let bad: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.findings.is_empty() || !o.exit_ok)
        .map(|o| o.target.as_str())
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "findings in {}; reproduce with `cargo fuzz run -O TARGET artifacts/TARGET/FILE` in the crate's fuzz directory",
            bad.join(", ")
        ))
    }
}

/// `cargo fuzz` in `dir`, on stable rustc (cargo-fuzz passes `-Z` flags).
fn fuzz_cmd(dir: &Path) -> Command {
    let mut cmd = cargo();
    cmd.arg("fuzz").current_dir(dir).env("RUSTC_BOOTSTRAP", "1");
    cmd
}

fn list_targets(dir: &Path) -> Result<Vec<String>> {
    let out = fuzz_cmd(dir)
        .arg("list")
        .output()
        .map_err(|e| format!("cargo fuzz list in {}: {e}", dir.display()))?;
    if !out.status.success() {
        return Err(format!(
            "cargo fuzz list in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Files in the target's artifact directory that report a finding.
fn findings(dir: &Path, target: &str) -> BTreeSet<PathBuf> {
    let Ok(entries) = fs::read_dir(dir.join("artifacts").join(target)) else {
        return BTreeSet::new();
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| ["crash-", "leak-", "timeout-", "oom-"].iter().any(|k| n.starts_with(k)))
        })
        .collect()
}

/// Seconds libFuzzer itself fuzzed ("Done 30212 runs in 21 second(s)"); the wall time around it
/// also holds the build check and a wait for cargo's build lock.
fn fuzz_seconds(log: &str) -> Option<f64> {
    log.lines().rev().find_map(|l| {
        let rest = l.strip_prefix("Done ")?;
        let (_, after) = rest.split_once(" runs in ")?;
        after.split_whitespace().next()?.parse().ok()
    })
}

/// "cov N, corpus M" from libFuzzer's last status line ("#123 DONE cov: 880 ft: 2239 corp: 17/1760b ...").
fn coverage(log: &str) -> Option<String> {
    log.lines().rev().filter(|l| l.starts_with('#')).find_map(|l| {
        let field = |name: &str| {
            let mut words = l.split_whitespace();
            words.find(|w| *w == name)?;
            words.next().map(str::to_owned)
        };
        let cov = field("cov:")?;
        let corp = field("corp:").map(|c| c.split('/').next().unwrap_or("").to_owned());
        Some(match corp {
            Some(c) => format!("{cov} / {c}"),
            None => cov,
        })
    })
}

/// libFuzzer's executions from its final statistics (or its last status line).
fn executions(log: &str) -> Option<u64> {
    let stat = log.lines().rev().find_map(|l| {
        let l = l.trim();
        l.strip_prefix("stat::number_of_executed_runs:")
            .or_else(|| l.strip_prefix("stat::number_of_executed_units:"))
            .and_then(|n| n.trim().parse().ok())
    });
    stat.or_else(|| {
        // "#12345\tpulse  cov: …" / "Done 12345 runs in …"
        log.lines().rev().find_map(|l| {
            l.strip_prefix("Done ")
                .and_then(|r| r.split_whitespace().next())
                .or_else(|| l.strip_prefix('#').and_then(|r| r.split_whitespace().next()))
                .and_then(|n| n.parse().ok())
        })
    })
}

fn run_target(krate: &str, dir: &Path, target: &str, seconds: u64, logs: &Path) -> Result<Outcome> {
    let before = findings(dir, target);
    let log_path = logs.join(format!("{}-{target}.log", krate.replace('/', "-")));
    let log = fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| format!("{}: {e}", log_path.display()))?;
    // A libFuzzer dictionary `<crate>/fuzz/<target>.dict`, if there is one.
    let dict = Some(dir.join(format!("{target}.dict"))).filter(|d| d.exists());
    let mut cmd = fuzz_cmd(dir);
    cmd.args(["run", "-O", target, "--"])
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .args(extra_flags(target))
        .args(dict.as_ref().map(|d| format!("-dict={}", d.display())))
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err));
    eprintln!(
        "\n==> fuzz {krate} {target} for {seconds} s (output: {})",
        log_path.display()
    );
    let started = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start cargo fuzz run {target}: {e}"))?;
    let wall = started.elapsed().as_secs_f64();
    let text = fs::read_to_string(&log_path).unwrap_or_default();
    let elapsed = fuzz_seconds(&text).unwrap_or(wall);
    let new: Vec<PathBuf> = findings(dir, target).difference(&before).cloned().collect();
    let outcome = Outcome {
        krate: krate.to_owned(),
        target: target.to_owned(),
        seconds: elapsed,
        executions: executions(&text),
        coverage: coverage(&text),
        findings: new,
        exit_ok: status.success(),
    };
    eprintln!(
        "<== {target}: {:.1} min, {} executions, {} findings, {status}",
        elapsed / 60.0,
        outcome.executions.map_or_else(|| "?".into(), |n| n.to_string()),
        outcome.findings.len()
    );
    if !outcome.exit_ok || !outcome.findings.is_empty() {
        // Show why, without the thousands of status lines.
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        for l in tail.iter().rev() {
            eprintln!("    {l}");
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::executions;

    #[test]
    fn parses_final_stats() {
        let log = "#100\tpulse cov: 1\nDone 30212 runs in 21 second(s)\nstat::number_of_executed_units: 30212\nstat::average_exec_per_sec:     1438\n";
        assert_eq!(executions(log), Some(30212));
        let old = "stat::number_of_executed_runs: 77\n";
        assert_eq!(executions(old), Some(77));
        assert_eq!(executions("#4096\tpulse  cov: 3 ft: 4\n"), Some(4096));
        assert_eq!(executions("nothing"), None);
        assert_eq!(super::fuzz_seconds(log), Some(21.0));
        let status = "#30212\tDONE   cov: 880 ft: 2239 corp: 17/1760b lim: 212 exec/s: 1438 rss: 105Mb\n";
        assert_eq!(super::coverage(status).as_deref(), Some("880 / 17"));
    }
}
