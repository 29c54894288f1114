//! Retention and database upkeep: closed cases are deleted `retention_days` after closing
//! (per organisation), with every message, attachment (and its chunks) and detached stanza;
//! then the write-ahead log is truncated so that no old copy of a deleted page stays in it,
//! and on a schedule free pages are given back to the file system (incremental vacuum, in
//! steps that run between write batches). Every deletion is counted for `/metrics`.
//!
//! `meldpunt purge` runs the same on a stopped server's database (see [`purge_now`]).

use std::sync::atomic::Ordering;

pub use crate::config::retention::{RetentionSettings, validate};
use crate::day::{Day, now_secs};
pub use crate::service::counters::RetentionMetrics;
use crate::service::state::AppState;
use crate::store::{Purged, Store, StoreResult, Vacuumed};

/// Purge as of `today`; after deletions the WAL is truncated.
fn purge_on(store: &dyn Store, today: Day, all_uploads: bool) -> StoreResult<(Purged, bool)> {
    let p = store.purge(today, now_secs(), all_uploads)?;
    let truncated = if p.cases > 0 {
        store.checkpoint()?
    } else {
        false
    };
    Ok((p, truncated))
}

fn log_purge(p: &Purged, what: &str) {
    tracing::info!(
        cases = p.cases,
        messages = p.messages,
        attachments = p.attachments,
        stanzas = p.stanzas,
        sessions = p.sessions,
        invites = p.invites,
        uploads = p.uploads,
        advisor_events = p.events,
        "{what}"
    );
}

/// The purge at start (unfinished uploads included), before the server listens.
pub fn startup_purge(store: &dyn Store) -> StoreResult<Purged> {
    let (p, _) = purge_on(store, Day::today(), true)?;
    log_purge(&p, "startup purge");
    Ok(p)
}

/// The vacuum at start (if vacuum is on), before the server listens; logged and counted.
pub fn startup_vacuum(state: &AppState) {
    let s = &state.settings.retention;
    if s.vacuum_interval_hours == 0 {
        return;
    }
    let r = state.store.vacuum(s.vacuum_step_pages);
    record_vacuum(state, r);
}

fn record_vacuum(state: &AppState, r: StoreResult<Vacuumed>) {
    let m = &state.metrics.retention;
    match r {
        Ok(v) => {
            m.vacuumed(&v);
            tracing::info!(
                full = v.full,
                steps = v.steps,
                pages_freed = v.pages_freed,
                wal_truncated = v.wal_truncated,
                "vacuum"
            );
        }
        Err(e) => {
            m.vacuum_failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "vacuum failed");
        }
    }
}

/// One housekeeping minute: the purge every `purge_interval_minutes`, the vacuum every
/// `vacuum_interval_hours` (minute `n` counts from the start; minute 0 is the start itself,
/// where [`startup_purge`] and [`startup_vacuum`] already ran).
pub async fn tick(state: &std::sync::Arc<AppState>, n: u64) {
    if n == 0 {
        return;
    }
    let s = state.settings.retention.clone();
    if n.is_multiple_of(u64::from(s.purge_interval_minutes)) {
        let r = state
            .db(|st| purge_on(st, Day::today(), false).map(|(p, _)| p))
            .await;
        match r {
            Ok(p) => {
                state.metrics.retention.purged(&p);
                if p.cases > 0 {
                    log_purge(&p, "purge");
                }
            }
            Err(e) => {
                state
                    .metrics
                    .retention
                    .purge_failures
                    .fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "purge failed");
            }
        }
    }
    let every = u64::from(s.vacuum_interval_hours) * 60;
    if every > 0 && n.is_multiple_of(every) {
        let store = std::sync::Arc::clone(&state.store);
        let step = s.vacuum_step_pages;
        let r = tokio::task::spawn_blocking(move || store.vacuum(step)).await;
        match r {
            Ok(r) => record_vacuum(state, r),
            Err(e) => {
                state
                    .metrics
                    .retention
                    .vacuum_failures
                    .fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "vacuum could not run");
            }
        }
    }
}

/// What `meldpunt purge` did.
#[derive(Debug, Clone, Copy)]
pub struct PurgeReport {
    /// Deleted.
    pub purged: Purged,
    /// The vacuum.
    pub vacuumed: Vacuumed,
}

/// `meldpunt purge`: the purge as of `today` (default: today) on a database no server is
/// running on, then a vacuum and a truncating checkpoint.
pub fn purge_now(store: &dyn Store, today: Day, step_pages: u32) -> StoreResult<PurgeReport> {
    let (purged, _) = purge_on(store, today, true)?;
    let vacuumed = store.vacuum(step_pages)?;
    Ok(PurgeReport { purged, vacuumed })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Settings;

    /// The shipped example documents the defaults of `[retention]` and `[notify]`.
    #[test]
    fn example_config_has_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../meldpunt.example.toml");
        let s = Settings::load_from(Some(&path), Vec::new()).unwrap();
        let d = Settings::default();
        assert_eq!(
            s.retention.purge_interval_minutes,
            d.retention.purge_interval_minutes
        );
        assert_eq!(
            s.retention.vacuum_interval_hours,
            d.retention.vacuum_interval_hours
        );
        assert_eq!(s.retention.vacuum_step_pages, d.retention.vacuum_step_pages);
        assert!(s.tls.is_none());
        assert_eq!(s.notify.enabled, d.notify.enabled);
        assert_eq!(s.notify.smtp_port, d.notify.smtp_port);
        assert_eq!(s.notify.tls, d.notify.tls);
        assert_eq!(s.notify.delay_secs, d.notify.delay_secs);
        assert_eq!(s.notify.min_interval_secs, d.notify.min_interval_secs);
        assert_eq!(s.notify.timeout_secs, d.notify.timeout_secs);
    }

    #[test]
    fn settings_are_range_checked() {
        let env = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        for (k, v, name) in [
            (
                "MELDPUNT_RETENTION__PURGE_INTERVAL_MINUTES",
                "0",
                "retention.purge_interval_minutes",
            ),
            (
                "MELDPUNT_RETENTION__VACUUM_INTERVAL_HOURS",
                "9000",
                "retention.vacuum_interval_hours",
            ),
            (
                "MELDPUNT_RETENTION__VACUUM_STEP_PAGES",
                "1",
                "retention.vacuum_step_pages",
            ),
            ("MELDPUNT_NOTIFY__TLS", "sometimes", "notify.tls"),
            ("MELDPUNT_NOTIFY__ENABLED", "true", "notify.smtp_host"),
            ("MELDPUNT_TLS__CERT", "/nonexistent/cert.pem", "tls"),
        ] {
            let e = Settings::load_from(None, env(k, v))
                .unwrap_err()
                .to_string();
            assert!(e.contains(name), "{k}: {e}");
        }
    }
}
