//! What every bench part shares: the sizes of a run, the release binaries and running a
//! command for its output.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::util::{Result, cargo, root, run};

pub(crate) const MIB: f64 = 1024.0 * 1024.0;

/// Sizes and repetitions: the real run, or the quick one that only checks the tooling.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub(crate) quick: bool,
    pub(crate) cli_mib: u64,
    pub(crate) cli_runs: usize,
    pub(crate) wasm: [(u64, usize); 2],
    pub(crate) cases: usize,
    pub(crate) reads: usize,
    pub(crate) pow_cases: usize,
    pub(crate) raw_secs: u64,
    pub(crate) attachment_mib: usize,
}

impl Sizes {
    pub(crate) fn from_env() -> Sizes {
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

/// `CARGO_TARGET_DIR` if set (relative to the workspace root), else `target/`.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => root().join(d),
        _ => root().join("target"),
    }
}

pub(crate) fn release_bin(name: &str) -> PathBuf {
    target_dir().join("release").join(name)
}

/// The release binaries the parts run, in one cargo invocation (one feature resolution, so
/// that they are not rebuilt part after part).
pub(crate) fn build_release_bins() -> Result {
    run(cargo().args([
        "build",
        "--release",
        "--package",
        "meldpunt",
        "--bin",
        "meldpunt",
        "--package",
        "meldpunt-tests",
        "--bin",
        "meldpunt-loadgen",
        "--bin",
        "meldpunt-testkit",
        "--bin",
        "meldpunt-benchkit",
    ]))
}

pub(crate) fn output(cmd: &mut Command) -> Result<String> {
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

pub(crate) fn remove(p: &std::path::Path) {
    let _ = std::fs::remove_file(p);
}
