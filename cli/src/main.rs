//! `meldpunt`: the Meldpunt server and its administration commands. Parses the command line
//! and dispatches: the server's commands to `meldpunt_server::cli`, `advisor` to the advisor.

use meldpunt_advisor as advisor;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use meldpunt_server::cli::{self, DemoAdvisor};
use zeroize::Zeroizing;

/// Meldpunt: anonymous, end-to-end encrypted reporting.
#[derive(Debug, Parser)]
#[command(name = "meldpunt", version, about)]
struct Cli {
    /// TOML configuration file (settings not in it take their defaults; MELDPUNT_* variables
    /// override both).
    #[arg(long, global = true, env = "MELDPUNT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Server(cli::Command),
    /// For confidential advisors: keys, cases, replies and the yearly overview, on your own
    /// device.
    Advisor(advisor::AdvisorArgs),
}

/// The demo's advisors get their keyrings from the advisor CLI.
fn enrol(
    path: &std::path::Path,
    passphrase: Zeroizing<String>,
    a: DemoAdvisor,
) -> anyhow::Result<()> {
    advisor::init_with_passphrase(
        path,
        passphrase,
        advisor::InitArgs {
            server: a.server,
            invite: a.invite,
            name: Some(a.name),
            bio: a.bio,
            photo: None,
            languages: a.languages,
            external: a.external,
        },
    )
}

/// Admin passphrases are read like keyring passphrases.
fn new_secret(fd: Option<u32>, intro: &str) -> anyhow::Result<Zeroizing<String>> {
    let source = match fd {
        Some(fd) => advisor::PassSource::Fd(fd),
        None => advisor::PassSource::Prompt,
    };
    source.new_secret(intro)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        // The advisor commands run on the advisor's device and need no server configuration.
        Command::Advisor(args) => advisor::run(args),
        Command::Server(command) => cli::run(
            command,
            cli.config.as_deref(),
            &cli::Hooks {
                enrol: &enrol,
                new_secret: &new_secret,
            },
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "meldpunt: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
