//! `meldpunt`: the Meldpunt server and its administration commands.

mod admin_cli;
mod demo;
mod ops;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use meldpunt_server::config::Settings;
use meldpunt_server::serve;

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
    /// Run the server.
    Serve {
        /// Listen address (overrides `listen`).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Database file (overrides `database`).
        #[arg(long)]
        database: Option<PathBuf>,
    },
    /// Administer the instance (works on the database file directly).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// For confidential advisors: keys, cases, replies and the yearly overview, on your own
    /// device.
    Advisor(meldpunt_advisor::AdvisorArgs),
    /// Start a seeded demo instance (fresh data folder; printed passphrases: not for production).
    Demo(DemoArgs),
    /// Write a consistent copy of the database (safe while the server runs).
    Backup {
        /// The copy to write (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup in place of the database: checked first, swapped atomically. Refused
    /// while a server runs on the database.
    Restore(ops::RestoreArgs),
    /// Delete closed cases past retention now, then vacuum (the server must be stopped; a
    /// running server does this by itself).
    Purge(ops::PurgeArgs),
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Folder for the demo database and keyring files (emptied first).
    #[arg(long, default_value = "demo-data")]
    data_dir: PathBuf,
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The web client's folder (default: client-wasm/www of this build tree, if built).
    #[arg(long)]
    www: Option<PathBuf>,
}

use admin_cli::AdminCommand;

fn init_logging(settings: &Settings) {
    // actix-server logs its listen address at info level; the log carries no addresses.
    let filter = format!("actix_server=warn,actix_http=warn,{}", settings.log);
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // The advisor commands run on the advisor's device and need no server configuration.
    let command = match cli.command {
        Command::Advisor(args) => return meldpunt_advisor::run(args),
        Command::Demo(d) => {
            // `--config` and `MELDPUNT_*` apply to the demo too (e.g. `[pow]`, `[rate_limit]`);
            // the demo sets only its listen address, database and pages.
            let settings = Settings::load(cli.config.as_deref()).context("configuration")?;
            return demo::run(settings, &d.data_dir, d.listen, d.www);
        }
        other => other,
    };
    let mut settings = Settings::load(cli.config.as_deref()).context("configuration")?;
    match command {
        Command::Advisor(_) | Command::Demo(_) => {}
        Command::Serve { listen, database } => {
            if let Some(l) = listen {
                settings.listen = l;
            }
            if let Some(d) = database {
                settings.database = d;
            }
            init_logging(&settings);
            actix_web::rt::System::new().block_on(serve::serve(settings))?;
        }
        Command::Admin { command } => {
            let store = serve::open_store(&settings)?;
            admin_cli::run(command, &settings, &*store)?;
        }
        Command::Restore(args) => ops::restore(&settings, &args)?,
        Command::Purge(args) => ops::purge(&settings, &args)?,
        Command::Backup { to } => {
            anyhow::ensure!(!to.exists(), "{} exists; choose a new file", to.display());
            let store = serve::open_store(&settings)?;
            store.backup(&to)?;
            writeln!(std::io::stdout(), "wrote {}", to.display())?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "meldpunt: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
