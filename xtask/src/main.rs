//! `cargo xtask …`: the project's build, test, demo and benchmark entry points.
//!
//! Each command installs what it needs and the machine lacks (the wasm32 target, a pinned
//! `wasm-bindgen-cli`, npm packages for the browser tests, Debian's `chromium`), so that a fresh
//! Debian machine with only the Rust toolchain needs nothing else. Only `std` is used, so this
//! crate builds in seconds.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod arch;
mod bench;
mod client;
mod fuzz;
mod setup;
mod util;

use client::build_client;
use util::{Result, cargo, root, run, target_dir};

const USAGE: &str = "\
cargo xtask <command>

  test            run every test: crypto (native + wasm32 build), server, client, end-to-end
  demo            build everything and start a seeded demo instance on http://127.0.0.1:8080
  bench [crypto|cli|wasm|server|browser]
                  run the benchmarks and print the figures for docs/performance.md
  fuzz --minutes N [TARGET...]
                  run every cargo-fuzz target (crypto/fuzz, server/fuzz) for N minutes each,
                  one at a time, and print executions and findings per target
  crash --minutes N
                  the crash-safety test (SIGKILL at random moments under load) for N minutes
                  against a release build of the server
  build-client    build the WASM client and its web pages into client-wasm/www/pkg
  arch            the architecture check: import circles, the server's layering, file lengths
                  (docs/architecture.md; `test` runs it first)
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("arch") => arch::arch(&args[1..]),
        Some("demo") => demo(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("crash") => crash(&args[1..]),
        Some("build-client") => build_client().map(|_| ()),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the release server binary that the crash-safety test kills; returns its path.
fn release_server() -> Result<PathBuf> {
    run(cargo().args(["build", "--release", "--package", "meldpunt", "--bin", "meldpunt"]))?;
    let bin = target_dir().join("release").join("meldpunt");
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!("{} was not built", bin.display()))
    }
}

/// `cargo xtask crash --minutes N`: only the crash-safety test, for N minutes of kills, against
/// the release binary.
fn crash(args: &[String]) -> Result {
    let minutes: f64 = match args {
        [flag, n] if flag == "--minutes" => n.parse().map_err(|_| format!("bad minutes `{n}`"))?,
        _ => return Err("usage: cargo xtask crash --minutes N".into()),
    };
    if !minutes.is_finite() || minutes <= 0.0 {
        return Err("usage: cargo xtask crash --minutes N (N > 0)".into());
    }
    let bin = release_server()?;
    let seconds = ((minutes * 60.0).round() as u64).max(1);
    run(cargo()
        .args([
            "test",
            "--package",
            "meldpunt-server",
            "--test",
            "crash_safety",
            "--",
            "crash_safety_under_sigkill",
            "--exact",
            "--nocapture",
        ])
        .env("TEST_MELDPUNT_RELEASE_BIN", &bin)
        .env("TEST_MELDPUNT_CRASH_SECONDS", seconds.to_string()))
}

fn test(_args: &[String]) -> Result {
    let started = Instant::now();
    let mut ran = Suites::default();
    // The architecture figures of docs/architecture.md: no import circle, the server's layering,
    // no source file over 800 lines outside tests.
    ran.step("architecture check (import circles, layering, file lengths)", || arch::arch(&[]))?;
    setup::ensure_wasm_target()?;

    // The crypto crate and the client core must build for the browser (getrandom's wasm_js
    // backend); this also compiles the wasm32 dependencies that the wasm-bindgen tests use.
    ran.step("wasm32 build of meldpunt-crypto and meldpunt-client", || {
        run(cargo().args([
            "build",
            "--package",
            "meldpunt-crypto",
            "--package",
            "meldpunt-client",
            "--target",
            "wasm32-unknown-unknown",
        ]))
    })?;

    // Web client: WASM build and wasm-bindgen. Missing pages are an error, never a skip.
    let www = ran.step("web client (wasm-release, wasm-bindgen)", build_client)?;
    let browser = root().join("tests").join("browser");
    if !browser.join("package.json").exists() {
        return Err(format!("{} is missing: the browser tests cannot run", browser.join("package.json").display()));
    }
    setup::ensure_cargo_nextest()?;

    // Every native test in the workspace: crypto (vectors, differential, proptest), client core,
    // server (real process, real SQLite file, crash safety, resource exhaustion), end-to-end
    // tests. cargo-nextest runs tests of different binaries at the same time (one process per
    // test); `.config/nextest.toml` keeps the load tests one at a time. The crash-safety test
    // kills this debug build of the server (dependencies at opt-level 3); `cargo xtask crash`
    // runs it for longer against a release build. The same build makes the `meldpunt` and
    // `meldpunt-testkit` binaries that the browser tests run (their packages' integration
    // tests need them), with the same features, so nothing is compiled twice.
    ran.step("native tests (cargo nextest, every workspace target)", || {
        // `cargo test`/nextest builds a package's binaries only for that package's own
        // integration tests: the `meldpunt` binary (package `meldpunt`) that the server's tests
        // start is built here, with the same targets and features as the test build, so the
        // tests never run a stale binary and nothing is compiled twice.
        run(cargo().args(["build", "--workspace", "--all-targets"]))?;
        run(cargo()
            .args(["nextest", "run", "--workspace", "--all-targets", "--no-fail-fast", "--profile", "xtask"])
            .env("TEST_MELDPUNT_WWW", &www))
    })?;
    // Doctests are not run by nextest.
    ran.step("doctests", || run(cargo().args(["test", "--workspace", "--doc"])))?;

    // The client's wasm-bindgen tests, in WASM under Node.
    let runner = setup::ensure_wasm_bindgen_test_runner()?;
    ran.step("wasm-bindgen tests (meldpunt-client-wasm under Node)", || {
        run(cargo()
            .args(["test", "--package", "meldpunt-client-wasm", "--target", "wasm32-unknown-unknown"])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner))
    })?;

    // The browser tests drive the real server binary and the testkit in headless Chromium.
    setup::ensure_chromium()?;
    setup::ensure_npm_packages(&browser)?;
    let bin = target_dir().join("debug");
    for exe in ["meldpunt", "meldpunt-testkit"] {
        if !bin.join(exe).exists() {
            return Err(format!("{} was not built by the native tests", bin.join(exe).display()));
        }
    }
    let files = browser_test_files(&browser)?;
    ran.step(&format!("browser tests ({} files in headless Chromium)", files.len()), || {
        run(Command::new("node")
            .args(["--test", "--test-concurrency=1"])
            .args(&files)
            .current_dir(&browser)
            .env("TEST_MELDPUNT_BIN", bin.join("meldpunt"))
            .env("TEST_MELDPUNT_TESTKIT", bin.join("meldpunt-testkit"))
            .env("TEST_MELDPUNT_WWW", &www)
            .env("CHROMIUM", "/usr/bin/chromium"))
    })?;

    ran.print();
    eprintln!("\nxtask test: every suite ran and passed in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The suites `cargo xtask test` ran, with their times: printed at the end, so that a suite
/// that did not run is visible (and `.ci/run` checks that each one is listed).
#[derive(Default)]
struct Suites(Vec<(String, f64)>);

impl Suites {
    fn step<T>(&mut self, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let t = Instant::now();
        eprintln!("\n== xtask test: {name}");
        let out = f().map_err(|e| format!("{name}: {e}"))?;
        self.0.push((name.to_owned(), t.elapsed().as_secs_f64()));
        Ok(out)
    }

    fn print(&self) {
        eprintln!("\nxtask test: suites run");
        for (name, secs) in &self.0 {
            eprintln!("  ran  {secs:>6.0} s  {name}");
        }
    }
}

/// Every `*.test.js` file of the browser tests; none is an error (a silent skip otherwise).
fn browser_test_files(dir: &Path) -> Result<Vec<String>> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".test.js"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no *.test.js in {}", dir.display()));
    }
    Ok(files)
}

fn demo(_args: &[String]) -> Result {
    build_client()?;
    run(cargo().args(["build", "--release", "--bin", "meldpunt"]))?;
    let bin = target_dir().join("release").join("meldpunt");
    let data = root().join("demo-data");
    run(Command::new(&bin)
        .args(["demo", "--data-dir"])
        .arg(&data)
        .args(["--listen", "127.0.0.1:8080"]))
}

