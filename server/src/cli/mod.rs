//! The `meldpunt` commands of the server (serve, admin, demo, backup, restore, purge): the
//! composition root, which loads the settings, opens the store and starts the layers. The
//! binary (package `meldpunt`, `cli/src/main.rs`) parses the command line and dispatches here.

pub mod admin;
pub mod demo;
pub mod ops;
pub mod restore;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::config::Settings;
use crate::serve;
pub use admin::{AdminCommand, NewSecret};
pub use demo::{DemoAdvisor, Enrol};

/// The server's subcommands of `meldpunt`.
#[derive(Debug, Subcommand)]
pub enum Command {
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

/// `meldpunt demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the demo database and keyring files (emptied first).
    #[arg(long, default_value = "demo-data")]
    pub data_dir: PathBuf,
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The web client's folder (default: client-wasm/www of this build tree, if built).
    #[arg(long)]
    pub www: Option<PathBuf>,
}

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

/// What the commands need from the binary: the terminal and keyring code of the advisor CLI,
/// which the server library does not hold.
#[allow(missing_debug_implementations)]
pub struct Hooks<'a> {
    /// Registers the demo's advisors.
    pub enrol: &'a Enrol,
    /// Reads a new admin passphrase.
    pub new_secret: &'a NewSecret,
}

/// Runs `command` with the configuration file `config` (settings not in it take their
/// defaults; `MELDPUNT_*` variables override both).
pub fn run(command: Command, config: Option<&Path>, hooks: &Hooks<'_>) -> anyhow::Result<()> {
    let mut settings = Settings::load(config).context("configuration")?;
    match command {
        // `--config` and `MELDPUNT_*` apply to the demo too (e.g. `[pow]`, `[rate_limit]`);
        // the demo sets only its listen address, database and pages.
        Command::Demo(d) => demo::run(settings, &d.data_dir, d.listen, d.www, hooks.enrol)?,
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
            admin::run(command, &settings, &*store, hooks.new_secret)?;
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
