//! The test kit of the workspace: what the server's integration tests, `meldpunt-testkit` (the
//! browser tests' advisor and reporter) and `meldpunt-loadgen` share.
//!
//! - [`Server`]: the real `meldpunt serve` process on a free loopback port with its own
//!   configuration, database and log ([`free_port`], [`DEFAULT_EXTRA`]);
//! - HTTP helpers: [`expect`] (status and error code), [`b64`]/[`unb64`], [`now`];
//! - [`Advisor`] and [`Reporter`] played with the real crypto crate ([`seal`], [`statement`],
//!   [`recipients`]);
//! - [`admin`]: operators, org-admin invites, logins and TOTP codes;
//! - the CLI runner ([`run_with_stdin`], [`advisor_cli_with`]) and [`meldpunt_bin`], the
//!   `meldpunt` binary under test;
//! - [`relay`]: the hostile relay that `meldpunt-testkit relay` runs and the server's tests
//!   start in process.
//!
//! The kit talks to the server over HTTP and the command line only: it does not depend on
//! `meldpunt-server`.

mod actors;
pub mod admin;
mod cli;
mod http;
pub mod relay;
mod server;

pub use actors::{
    Advisor, Reporter, bundles_of, detached_stanzas, first_key, ids_of, listed, map_messages, recipients,
    revocations_of, seal, statement, year_keyring,
};
pub use cli::{KillOnDrop, advisor_cli_with, advisor_command, meldpunt_bin, output_text, run_with_stdin};
pub use http::{
    AttachmentUpload, b64, day_from_today, expect, guess_case_token, now, refused, unb64, with_case_token,
};
pub use server::{DEFAULT_EXTRA, Server, UA, cheap_pow_sections, free_port};

/// Prints past the test harness's output capture, so that the figures show in every run.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => {{
        use ::std::io::Write as _;
        let _ = writeln!(::std::io::stderr(), $($t)*);
    }};
}
