//! Instance-wide health counters for `/metrics` (Prometheus text format), served only on the
//! metrics listener. Nothing per organisation, per advisor or per client, and no counter that
//! moves because one report was filed, answered, read or deleted (cases, messages, attachments,
//! successful logins, proof-of-work challenges issued (one per write), notification mails sent and retention purges are not exported): an
//! operator learns health, not activity.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Responses 2xx.
    pub http_2xx: AtomicU64,
    /// Responses 3xx.
    pub http_3xx: AtomicU64,
    /// Responses 4xx.
    pub http_4xx: AtomicU64,
    /// Responses 5xx.
    pub http_5xx: AtomicU64,
    /// Failed advisor logins.
    pub advisor_login_failures: AtomicU64,
    /// PoW challenges issued.
    pub pow_issued: AtomicU64,
    /// PoW solutions refused.
    pub pow_rejected: AtomicU64,
    /// Requests refused by a rate limit.
    pub rate_limited: AtomicU64,
    /// Failed case-token lookups.
    pub case_token_failures: AtomicU64,
    /// Retention purges and vacuums (only vacuum runs are exported).
    pub retention: crate::service::counters::RetentionMetrics,
    /// Advisor notifications (shared with the notification thread).
    pub notify: std::sync::Arc<crate::service::notify::NotifyMetrics>,
}

impl Metrics {
    /// Adds one.
    pub fn inc(&self, c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n`.
    pub fn add(&self, c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts a response by status class.
    pub fn response(&self, status: u16) {
        let c = match status {
            200..=299 => &self.http_2xx,
            300..=399 => &self.http_3xx,
            400..=499 => &self.http_4xx,
            _ => &self.http_5xx,
        };
        self.inc(c);
    }

    /// The Prometheus text exposition.
    #[must_use]
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP meldpunt_http_responses_total HTTP responses by status class."
        );
        let _ = writeln!(out, "# TYPE meldpunt_http_responses_total counter");
        for (class, c) in [
            ("2xx", &self.http_2xx),
            ("3xx", &self.http_3xx),
            ("4xx", &self.http_4xx),
            ("5xx", &self.http_5xx),
        ] {
            let _ = writeln!(
                out,
                "meldpunt_http_responses_total{{class=\"{class}\"}} {}",
                get(c)
            );
        }
        let simple: [(&str, &str, &AtomicU64); 4] = [
            (
                "meldpunt_advisor_login_failures_total",
                "Failed advisor logins.",
                &self.advisor_login_failures,
            ),
            (
                "meldpunt_pow_rejected_total",
                "Proof-of-work solutions refused.",
                &self.pow_rejected,
            ),
            (
                "meldpunt_rate_limited_total",
                "Requests refused by a rate limit.",
                &self.rate_limited,
            ),
            (
                "meldpunt_case_token_failures_total",
                "Failed case-token lookups.",
                &self.case_token_failures,
            ),
        ];
        for (name, help, c) in simple {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", get(c));
        }
        self.retention.render(&mut out);
        self.notify.render(&mut out);
        out
    }
}
