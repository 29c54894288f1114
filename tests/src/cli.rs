//! Running the `meldpunt` binary as a command-line tool: piped standard streams, input on
//! standard input, and the advisor CLI with its passphrase on a pipe (`--passphrase-fd 0`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// Runs `cmd` with piped standard streams and `stdin` written to its standard input (a
/// process that exits before reading it all is no error); returns what it wrote and its status.
pub fn run_with_stdin(mut cmd: Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut pipe = child.stdin.take().unwrap();
        let _ = pipe.write_all(stdin);
    }
    child.wait_with_output().unwrap()
}

/// `meldpunt advisor --keyring K --passphrase-fd 0 ARGS…` as a command, with no keyring or
/// configuration from the environment.
#[must_use]
pub fn advisor_command(keyring: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(meldpunt_bin());
    cmd.arg("advisor")
        .arg("--keyring")
        .arg(keyring)
        .arg("--passphrase-fd")
        .arg("0")
        .args(args)
        .env_remove("MELDPUNT_KEYRING")
        .env_remove("MELDPUNT_CONFIG");
    cmd
}

/// Runs `meldpunt advisor --keyring K --passphrase-fd 0 ARGS…` with `pass` (and `stdin_extra`
/// after it) on standard input.
pub fn advisor_cli_with(keyring: &Path, pass: &str, stdin_extra: &str, args: &[&str]) -> Output {
    run_with_stdin(
        advisor_command(keyring, args),
        format!("{pass}\n{stdin_extra}").as_bytes(),
    )
}

/// Standard output and standard error of a finished command, for failure messages.
#[must_use]
pub fn output_text(out: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A child process that is killed (and reaped) when this is dropped, also when a test fails.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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
