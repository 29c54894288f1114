//! `cargo xtask build-client`: the WASM client and its web pages.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup;
use crate::util::{Result, cargo, root, run, target_dir};

/// Builds the WASM client. Returns the directory of the web pages.
pub fn build_client() -> Result<PathBuf> {
    let www = root().join("client-wasm").join("www");
    if !www.exists() {
        return Err(format!(
            "{} does not exist: the web client cannot be built",
            www.display()
        ));
    }
    // The `wasm-release` profile (root Cargo.toml): fat LTO, one codegen unit, the bindings at
    // opt-level "z" and the crypto at 3. The name section (function names for stack traces,
    // ~50 KB) is dropped: the download is what a frightened reporter on a phone waits for.
    build_wasm(
        "web",
        &www.join("pkg"),
        &["--remove-name-section", "--remove-producers-section"],
    )?;
    Ok(www)
}

/// The `wasm-release` build of the client, through wasm-bindgen for `target` into `out`.
pub fn build_wasm(target: &str, out: &Path, extra: &[&str]) -> Result {
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
