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

mod bench;
mod fuzz;
mod setup;

type Result<T = ()> = std::result::Result<T, String>;

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
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("demo") => demo(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("crash") => crash(&args[1..]),
        Some("build-client") => build_client(false).map(|_| ()),
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

/// The workspace root (the parent of this crate's directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs a command in the workspace root, echoing it, and fails on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result {
    let shown = format!("{cmd:?}").replace('"', "");
    eprintln!("\n==> {shown}");
    let started = Instant::now();
    let status = cmd
        .current_dir(cmd.get_current_dir().map(Path::to_path_buf).unwrap_or_else(root))
        .status()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    eprintln!("<== {:.1}s {shown}", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

pub fn cargo() -> Command {
    Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Cargo's target directory (`CARGO_TARGET_DIR`, else `target/` in the workspace root).
pub fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root().join(p) })
        .unwrap_or_else(|| root().join("target"))
}

/// Builds the release server binary that the crash-safety test kills; returns its path.
fn release_server() -> Result<PathBuf> {
    run(cargo().args(["build", "--release", "--package", "meldpunt-server", "--bin", "meldpunt"]))?;
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
    setup::ensure_wasm_target()?;

    // The crypto crate must build for the browser, with getrandom's wasm_js backend.
    run(cargo().args([
        "build",
        "--package",
        "meldpunt-crypto",
        "--target",
        "wasm32-unknown-unknown",
    ]))?;

    // Web client: WASM build, wasm-bindgen, then its own tests under Node and in Chromium.
    let client = build_client(true)?;

    // The crash-safety test kills the release build of the server (what production runs).
    let release = release_server()?;

    // Every native test in the workspace: crypto (vectors, differential, proptest), server
    // (real process, real SQLite file, crash safety, resource exhaustion), end-to-end tests.
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--all-targets", "--no-fail-fast"]);
    cmd.env("TEST_MELDPUNT_RELEASE_BIN", &release);
    if let Some(www) = &client {
        cmd.env("TEST_MELDPUNT_WWW", www);
    }
    run(&mut cmd)?;
    // Doctests are not part of --all-targets.
    run(cargo().args(["test", "--workspace", "--doc"]))?;

    if let Some(www) = &client {
        // The client's wasm-bindgen tests, in WASM under Node.
        let runner = setup::ensure_wasm_bindgen_test_runner()?;
        run(cargo()
            .args(["test", "--package", "meldpunt-client-wasm", "--target", "wasm32-unknown-unknown"])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner))?;

        // The browser tests drive the real server binary and the testkit advisor.
        setup::ensure_chromium()?;
        let browser = root().join("tests").join("browser");
        if browser.join("package.json").exists() {
            // `cargo test` above already built the server binary (its integration tests run
            // it); building it again with `cargo build` would recompile it with a different
            // feature set for nothing. The testkit is only a binary, so it is built here.
            let bin = target_dir().join("debug");
            if !bin.join("meldpunt").exists() {
                return Err(format!("{} was not built by cargo test", bin.join("meldpunt").display()));
            }
            run(cargo().args(["build", "--package", "meldpunt-tests", "--bin", "meldpunt-testkit"]))?;
            setup::ensure_npm_packages(&browser)?;
            run(Command::new("node")
                .args(["--test", "--test-concurrency=1"])
                .current_dir(&browser)
                .env("TEST_MELDPUNT_BIN", bin.join("meldpunt"))
                .env("TEST_MELDPUNT_TESTKIT", bin.join("meldpunt-testkit"))
                .env("TEST_MELDPUNT_WWW", www)
                .env("CHROMIUM", "/usr/bin/chromium"))?;
        }
    }

    eprintln!("\nxtask test: everything passed in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Builds the WASM client if the crate has one. Returns the directory of the web pages.
fn build_client(quiet_if_missing: bool) -> Result<Option<PathBuf>> {
    let www = root().join("client-wasm").join("www");
    if !www.exists() {
        if !quiet_if_missing {
            return Err("client-wasm/www does not exist yet: the web client is not built".into());
        }
        eprintln!("(client-wasm has no web pages yet; skipping the WASM client build)");
        return Ok(None);
    }
    setup::ensure_wasm_target()?;
    let bindgen = setup::ensure_wasm_bindgen()?;
    // The `wasm-release` profile (root Cargo.toml): fat LTO, one codegen unit, the bindings at
    // opt-level "z" and the crypto at 3. The name section (function names for stack traces,
    // ~50 KB) is dropped: the download is what a frightened reporter on a phone waits for.
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
    let out = www.join("pkg");
    run(Command::new(bindgen).args([
        "--target",
        "web",
        "--no-typescript",
        "--remove-name-section",
        "--remove-producers-section",
        "--out-dir",
        &out.to_string_lossy(),
        &wasm.to_string_lossy(),
    ]))?;
    Ok(Some(www))
}

fn demo(_args: &[String]) -> Result {
    let server_main = root().join("server").join("src").join("main.rs");
    let ready = std::fs::read_to_string(&server_main)
        .map(|s| s.contains("Demo("))
        .unwrap_or(false);
    if !ready {
        println!(
            "The demo is not ready yet: `meldpunt demo` (seeding organisations, advisors and\n\
             their keyrings) does not exist.\n\
             What exists: the crypto crate (`cargo test -p meldpunt-crypto`) and the server\n\
             (`cargo run --bin meldpunt -- --help`, see docs/server.md)."
        );
        return Ok(());
    }
    let _ = build_client(true)?;
    run(cargo().args(["build", "--release", "--bin", "meldpunt"]))?;
    let bin = target_dir().join("release").join("meldpunt");
    let data = root().join("demo-data");
    run(Command::new(&bin)
        .args(["demo", "--data-dir"])
        .arg(&data)
        .args(["--listen", "127.0.0.1:8080"]))
}

