//! `meldpunt restore` and `meldpunt purge`: operations on the database file of a stopped
//! server (`docs/operations.md`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use crate::config::Settings;
use crate::day::Day;
use crate::cli::restore;
use crate::service::retention;
use crate::{dblock, serve};

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file (made by `meldpunt backup --to`); it is only read.
    #[arg(long)]
    from: PathBuf,
    /// Database file to restore into (overrides `database`).
    #[arg(long)]
    database: Option<PathBuf>,
    /// Replace an existing database.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Purge as if today were this day (YYYY-MM-DD), e.g. to see what a retention change
    /// will delete on a copy of the database. Default: today.
    #[arg(long)]
    today: Option<String>,
    /// Database file (overrides `database`).
    #[arg(long)]
    database: Option<PathBuf>,
}

pub fn restore(settings: &Settings, args: &RestoreArgs) -> anyhow::Result<()> {
    let db = args
        .database
        .clone()
        .unwrap_or_else(|| settings.database.clone());
    let r = restore::restore(&args.from, &db, args.force)?;
    writeln!(
        std::io::stdout(),
        "restored {} to {}: schema version {}, {} organisations, {} cases; start the server \
         (it migrates the schema if needed)",
        args.from.display(),
        db.display(),
        r.schema_version,
        r.organisations,
        r.cases
    )?;
    Ok(())
}

pub fn purge(settings: &Settings, args: &PurgeArgs) -> anyhow::Result<()> {
    let mut settings = settings.clone();
    if let Some(d) = &args.database {
        settings.database = d.clone();
    }
    let today = match &args.today {
        Some(s) => Day::parse(s).context("--today must be a date like 2026-01-31")?,
        None => Day::today(),
    };
    let _lock = dblock::try_lock(&settings.database)?;
    let store = serve::open_store(&settings)?;
    let r = retention::purge_now(&*store, today, settings.retention.vacuum_step_pages)?;
    let p = r.purged;
    let v = r.vacuumed;
    writeln!(
        std::io::stdout(),
        "purged as of {today}: {} cases ({} messages, {} attachments, {} stanzas), {} sessions, \
         {} invites, {} unfinished uploads; vacuum: {} pages freed{}, log truncated: {}",
        p.cases,
        p.messages,
        p.attachments,
        p.stanzas,
        p.sessions,
        p.invites,
        p.uploads,
        v.pages_freed,
        if v.full { " (full vacuum)" } else { "" },
        if v.wal_truncated { "yes" } else { "no" },
    )?;
    Ok(())
}
