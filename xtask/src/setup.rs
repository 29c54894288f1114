//! Installs what the tests and the demo need and a fresh machine lacks. Each step checks first
//! and does nothing when the tool is already there.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Result, cargo, root, run};

fn have(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `rustup target add wasm32-unknown-unknown` unless it is installed.
pub fn ensure_wasm_target() -> Result {
    let installed = have("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match the library exactly.
fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_string());
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

/// A `wasm-bindgen` CLI of exactly the locked version, installed with `cargo install` into
/// `$CARGO_HOME/meldpunt-tools/wasm-bindgen-VERSION`, so that it never clashes with another project's version.
pub fn ensure_wasm_bindgen() -> Result<PathBuf> {
    let version = locked_wasm_bindgen_version()?;
    // Installed per version under CARGO_HOME, so that a fresh clone (CI) reuses an earlier
    // install of the same version instead of compiling it again.
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| root().join("target"));
    let tools = cargo_home.join("meldpunt-tools").join(format!("wasm-bindgen-{version}"));
    let bin = tools.join("bin").join("wasm-bindgen");
    let current = have(&bin.to_string_lossy(), &["--version"]).unwrap_or_default();
    if current.split_whitespace().nth(1) == Some(version.as_str()) {
        return Ok(bin);
    }
    let locked = run(cargo()
        .args(["install", "--locked", "wasm-bindgen-cli", "--version", &version, "--root"])
        .arg(&tools));
    if locked.is_err() {
        // The CLI's own lock file can name a dependency version that the registry (or its
        // mirror) does not serve; the CLI version itself is what must match.
        eprintln!("(retrying without --locked)");
        run(cargo()
            .args(["install", "wasm-bindgen-cli", "--version", &version, "--root"])
            .arg(&tools))?;
    }
    Ok(bin)
}

/// Debian's Chromium at /usr/bin/chromium.
pub fn ensure_chromium() -> Result {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let (first, rest) = all.split_first().map(|(f, r)| (*f, r.to_vec())).unwrap_or(("apt-get", vec![]));
        let mut cmd = Command::new(first);
        cmd.args(rest).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run(&mut apt(&["update", "-q"]))?;
    run(&mut apt(&["install", "-y", "-q", "--no-install-recommends", "chromium", "fonts-dejavu-core"]))
}

fn is_root() -> bool {
    have("id", &["-u"]).map(|s| s.trim() == "0").unwrap_or(false)
}

/// `npm ci` (or `npm install` without a lock file) for the browser tests, if not done yet.
pub fn ensure_npm_packages(dir: &Path) -> Result {
    let lock = dir.join("package-lock.json");
    let stamp = dir.join("node_modules").join(".meldpunt-installed");
    let lock_text = std::fs::read_to_string(&lock).unwrap_or_default();
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(lock_text.as_str()) && !lock_text.is_empty() {
        return Ok(());
    }
    let verb = if lock.exists() { "ci" } else { "install" };
    run(Command::new("npm").args([verb, "--no-audit", "--no-fund"]).current_dir(dir))?;
    let lock_text = std::fs::read_to_string(&lock).unwrap_or_default();
    std::fs::write(&stamp, lock_text).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

/// The `wasm-bindgen-test-runner` that comes with the pinned CLI (runs the client's
/// `wasm-bindgen-test` tests under Node).
pub fn ensure_wasm_bindgen_test_runner() -> Result<PathBuf> {
    let bindgen = ensure_wasm_bindgen()?;
    Ok(bindgen.with_file_name("wasm-bindgen-test-runner"))
}

/// `cargo install cargo-fuzz` unless present.
pub fn ensure_cargo_fuzz() -> Result {
    if have("cargo", &["fuzz", "--version"]).is_some() {
        return Ok(());
    }
    run(cargo().args(["install", "--locked", "cargo-fuzz"]))
}

/// The cargo-nextest version `cargo xtask test` is written for (`.config/nextest.toml`).
const NEXTEST_VERSION: &str = "0.9.143";

/// `cargo nextest` (which runs the workspace's tests), installed with `cargo install` unless
/// present. Any 0.9 release reads `.config/nextest.toml`; a missing one gets the pinned version.
pub fn ensure_cargo_nextest() -> Result {
    if have("cargo", &["nextest", "--version"]).is_some_and(|v| v.contains("nextest 0.9.")) {
        return Ok(());
    }
    run(cargo().args(["install", "--locked", "cargo-nextest", "--version", NEXTEST_VERSION]))
}
