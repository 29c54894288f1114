//! `[retention]`: purge and vacuum schedule, and the retention floor of organisation admins.

use serde::Deserialize;

use super::{ConfigError, setting};

/// Retention of closed cases, days.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;

/// `[retention]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Minutes between two purges (closed cases past retention, expired sessions and invites).
    pub purge_interval_minutes: u32,
    /// Hours between two vacuums (and one at start); 0 = never vacuum.
    pub vacuum_interval_hours: u32,
    /// Pages (4 KiB each) given back per vacuum step; the writer serves other writes between
    /// two steps.
    pub vacuum_step_pages: u32,
    /// The shortest `retention_days` an organisation admin may set; below it only the operator
    /// (`meldpunt admin org set --retention-days`) can go.
    pub org_admin_min_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            purge_interval_minutes: 60,
            vacuum_interval_hours: 24,
            vacuum_step_pages: 1024,
            org_admin_min_days: 30,
        }
    }
}

/// Range checks of `[retention]`.
pub fn validate(s: &RetentionSettings) -> Result<(), ConfigError> {
    if !(1..=1440).contains(&s.purge_interval_minutes) {
        return Err(setting(
            "retention.purge_interval_minutes",
            "must be between 1 and 1440",
        ));
    }
    if s.vacuum_interval_hours > 8760 {
        return Err(setting(
            "retention.vacuum_interval_hours",
            "must be between 0 (never) and 8760",
        ));
    }
    if !(16..=1_000_000).contains(&s.vacuum_step_pages) {
        return Err(setting(
            "retention.vacuum_step_pages",
            "must be between 16 and 1000000",
        ));
    }
    if !RETENTION_DAYS.contains(&s.org_admin_min_days) {
        return Err(setting(
            "retention.org_admin_min_days",
            "must be between 1 and 3650",
        ));
    }
    Ok(())
}

