//! Counters in the Prometheus text format, and those of the purge and the vacuum: a leaf that
//! [`crate::service::metrics`], [`crate::service::notify`] and [`crate::service::retention`] use.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::{Purged, Vacuumed};

/// Counters of the purge and the vacuum, instance-wide.
#[derive(Debug, Default)]
pub struct RetentionMetrics {
    pub(crate) cases: AtomicU64,
    pub(crate) messages: AtomicU64,
    pub(crate) attachments: AtomicU64,
    pub(crate) stanzas: AtomicU64,
    pub(crate) sessions: AtomicU64,
    pub(crate) invites: AtomicU64,
    pub(crate) uploads: AtomicU64,
    pub(crate) purge_failures: AtomicU64,
    pub(crate) vacuum_runs: AtomicU64,
    pub(crate) vacuum_pages: AtomicU64,
    pub(crate) vacuum_failures: AtomicU64,
}

/// Writes one counter in the Prometheus text format.
pub(crate) fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    let _ = writeln!(out, "{name} {value}");
}

impl RetentionMetrics {
    /// Adds what a purge deleted.
    pub fn purged(&self, p: &Purged) {
        for (c, n) in [
            (&self.cases, p.cases),
            (&self.messages, p.messages),
            (&self.attachments, p.attachments),
            (&self.stanzas, p.stanzas),
            (&self.sessions, p.sessions),
            (&self.invites, p.invites),
            (&self.uploads, p.uploads),
        ] {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Adds a vacuum run.
    pub fn vacuumed(&self, v: &Vacuumed) {
        self.vacuum_runs.fetch_add(1, Ordering::Relaxed);
        self.vacuum_pages
            .fetch_add(v.pages_freed, Ordering::Relaxed);
    }

    /// Appends the health counters to a `/metrics` answer. What a purge deleted (cases,
    /// messages, shares, sessions, invites) and the pages a vacuum freed are not exported: they
    /// would tell how many cases an organisation had and when one reached its deletion date.
    pub fn render(&self, out: &mut String) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        for (name, help, c) in [
            (
                "meldpunt_retention_purge_failures_total",
                "Purges that failed (see the log).",
                &self.purge_failures,
            ),
            (
                "meldpunt_vacuum_runs_total",
                "Database vacuum runs (free pages given back, write-ahead log truncated).",
                &self.vacuum_runs,
            ),
            (
                "meldpunt_vacuum_failures_total",
                "Vacuum runs that failed (see the log).",
                &self.vacuum_failures,
            ),
        ] {
            counter(out, name, help, get(c));
        }
    }
}

