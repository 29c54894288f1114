//! Workspace-level end-to-end tests, and the pieces the test tools share: the hostile relay
//! ([`relay`]) that `meldpunt-testkit relay` runs and the server's integration tests start in
//! process, and [`meldpunt_bin`], the `meldpunt` binary under test.

pub mod relay;

use std::path::PathBuf;

/// The `meldpunt` binary of this build, which the integration tests start as a process.
///
/// `MELDPUNT_BIN` names it explicitly; otherwise it is the one Cargo built beside the running
/// test executable (`target/<profile>/meldpunt`, the test itself being in
/// `target/<profile>/deps/`). `cargo xtask test` (nextest over `--workspace --all-targets`)
/// builds it before any test runs; a bare `cargo test -p …` of one crate may not, and then
/// this panics with the command to run.
///
/// # Panics
/// When the binary is not there.
#[must_use]
pub fn meldpunt_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("MELDPUNT_BIN") {
        return PathBuf::from(p);
    }
    #[allow(clippy::expect_used)]
    let exe = std::env::current_exe().expect("the test executable's path");
    let mut dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join(format!("meldpunt{}", std::env::consts::EXE_SUFFIX));
    #[allow(clippy::panic)]
    if !bin.is_file() {
        panic!(
            "{} does not exist: build it first (`cargo build --bin meldpunt`, or run the tests \
             with `cargo xtask test`), or name it in MELDPUNT_BIN",
            bin.display()
        );
    }
    bin
}
