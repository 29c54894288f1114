//! Advisor notifications (optional, off by default): when a case is filed or a reporter
//! writes a follow-up, every advisor on the case who has set a notification address gets a
//! content-free e-mail, "Er is nieuwe activiteit in je Meldpunt-inbox / There is new activity
//! in your Meldpunt inbox", with a link to the instance's `/advisor/` page. The mail names no
//! organisation, no case and no number: the same text for every event. The same mail goes out
//! for advisor events (an advisor joined, was suspended or unsuspended, or the advisors of an
//! organisation were reordered: `GET /api/v1/advisor/events`) to every other advisor of that
//! organisation and every branch-wide advisor, when the change is made through the running
//! server (the `meldpunt admin` CLI records the event, but sends no mail). It names nobody.
//!
//! The request that causes an event never waits for mail: it puts the advisor ids on a
//! bounded queue (`try_send`; a full queue drops the event and counts it) and returns. One
//! background thread batches: an advisor's first event schedules a mail `delay_secs` later,
//! and at most one mail goes to an advisor per `min_interval_secs`; events meanwhile join the
//! scheduled one. SMTP runs through `lettre` over rustls (implicit TLS, STARTTLS, or none for a
//! relay on the same machine). Failures are logged by kind and SMTP code only, never with an
//! address or the server's answer text; transient failures are tried again (after 1, 5 and
//! 15 minutes). Pending mails are lost when the server stops (in memory only).
//!
//! Addresses are stored per advisor by the [`Store`] (`advisor_notify` table) and set by the
//! advisor (`PUT /api/v1/advisor/notify`, `meldpunt advisor notify`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{Address, Message, SmtpTransport, Transport};



use crate::config::ConfigError;
pub use crate::config::notify::{NotifySettings, Password, SmtpTls};
use crate::config::notify::setting;
use crate::store::{Id, Store};

/// Subject of every notification.
pub const SUBJECT: &str =
    "Nieuwe activiteit in je Meldpunt-inbox / New activity in your Meldpunt inbox";

/// Events waiting for the background thread; more are dropped (and counted).
const QUEUE: usize = 1024;
/// Waits before trying a transiently failed mail again.
const RETRY: [Duration; 3] = [
    Duration::from_secs(60),
    Duration::from_secs(300),
    Duration::from_secs(900),
];

/// Checks `[notify]`: the ranges (as at load), and with `enabled` the transport is built (no
/// connection is made) so that every mistake shows at start.
pub fn validate(s: &NotifySettings) -> Result<(), ConfigError> {
    crate::config::notify::validate(s)
}

/// Checks an advisor's notification address: one plain address (no name, no list), at
/// most 254 bytes. Returns it trimmed.
pub fn check_address(email: &str) -> Result<String, &'static str> {
    let e = email.trim();
    if e.len() < 3 || e.len() > 254 {
        return Err("an e-mail address has 3 to 254 characters");
    }
    if e.chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '"'))
    {
        return Err("give one plain e-mail address, like name@example.nl");
    }
    e.parse::<Address>()
        .map_err(|_| "not a valid e-mail address")?;
    Ok(e.to_owned())
}

/// The SMTP transport and the fixed message parts.
struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    body: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mailer")
    }
}

impl Mailer {
    fn new(s: &NotifySettings) -> Result<Mailer, ConfigError> {
        let (transport, from, body) = crate::config::notify::mailer_parts(s)?;
        Ok(Mailer {
            transport,
            from,
            body,
        })
    }

    fn send(&self, to: &str) -> Result<(), Failure> {
        let to: Mailbox = to
            .parse::<Address>()
            .map(|a| Mailbox::new(None, a))
            .map_err(|_| Failure::Permanent("stored address is not valid"))?;
        let mut id = [0u8; 16];
        meldpunt_crypto::rng::Rng::fill_bytes(&mut meldpunt_crypto::rng::os_rng(), &mut id);
        let msg = Message::builder()
            .message_id(Some(format!(
                "<{}@{}>",
                crate::service::wire::b64(&id),
                self.from.email.domain()
            )))
            .from(self.from.clone())
            .to(to)
            .subject(SUBJECT)
            .header(ContentType::TEXT_PLAIN)
            .body(self.body.clone())
            .map_err(|_| Failure::Permanent("cannot build the message"))?;
        self.transport.send(&msg).map(|_| ()).map_err(|e| {
            tracing::warn!(
                transient = e.is_transient(),
                permanent = e.is_permanent(),
                timeout = e.is_timeout(),
                tls = e.is_tls(),
                code = %e.status().map(|c| c.to_string()).unwrap_or_default(),
                "notification mail not sent"
            );
            if e.is_permanent() {
                Failure::Permanent("refused by the mail server")
            } else {
                Failure::Transient
            }
        })
    }
}

enum Failure {
    Transient,
    Permanent(&'static str),
}

/// Counters of the notifications.
#[derive(Debug, Default)]
pub struct NotifyMetrics {
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

impl NotifyMetrics {
    /// Appends the health counters to a `/metrics` answer (mails sent are not exported: that
    /// number moves with each report and reply).
    pub fn render(&self, out: &mut String) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        crate::service::counters::counter(
            out,
            "meldpunt_notify_mail_failures_total",
            "Notification mails that failed (each try counts; see the log).",
            get(&self.failed),
        );
        crate::service::counters::counter(
            out,
            "meldpunt_notify_events_dropped_total",
            "Activity events dropped because the notification queue was full.",
            get(&self.dropped),
        );
    }
}

/// The handle the request handlers use.
#[derive(Debug)]
pub struct Notifier {
    queue: Option<SyncSender<Vec<Id>>>,
    metrics: Arc<NotifyMetrics>,
}

impl Notifier {
    /// Starts the background thread when `[notify] enabled = true`; otherwise a notifier that
    /// does nothing (no thread, no connection).
    pub fn start(
        s: &NotifySettings,
        store: Arc<dyn Store>,
        metrics: Arc<NotifyMetrics>,
    ) -> Result<Notifier, ConfigError> {
        if !s.enabled {
            return Ok(Notifier {
                queue: None,
                metrics,
            });
        }
        let mailer = Mailer::new(s)?;
        let (tx, rx) = sync_channel(QUEUE);
        let worker = Worker {
            mailer,
            store,
            metrics: Arc::clone(&metrics),
            delay: Duration::from_secs(u64::from(s.delay_secs)),
            min_interval: Duration::from_secs(u64::from(s.min_interval_secs)),
        };
        std::thread::Builder::new()
            .name("meldpunt-notify".into())
            .spawn(move || worker.run(&rx))
            .map_err(|e| {
                setting(
                    "enabled",
                    format!("cannot start the notification thread: {e}"),
                )
            })?;
        tracing::info!("advisor notifications on");
        Ok(Notifier {
            queue: Some(tx),
            metrics,
        })
    }

    /// Whether notifications are on.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.queue.is_some()
    }

    /// New activity on a case for these advisors. Never blocks.
    pub fn activity(&self, advisors: &[Id]) {
        let Some(q) = &self.queue else { return };
        if advisors.is_empty() {
            return;
        }
        match q.try_send(advisors.to_vec()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.metrics.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => {
                self.metrics.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::error!("the notification thread has stopped");
            }
        }
    }
}

struct Worker {
    mailer: Mailer,
    store: Arc<dyn Store>,
    metrics: Arc<NotifyMetrics>,
    delay: Duration,
    min_interval: Duration,
}

struct Due {
    at: Instant,
    attempt: usize,
}

impl Worker {
    fn run(&self, rx: &Receiver<Vec<Id>>) {
        let mut due: HashMap<Id, Due> = HashMap::new();
        let mut last: HashMap<Id, Instant> = HashMap::new();
        loop {
            let now = Instant::now();
            let wait = due
                .values()
                .map(|d| d.at.saturating_duration_since(now))
                .min()
                .unwrap_or(Duration::from_secs(3600));
            match rx.recv_timeout(wait) {
                Ok(ids) => {
                    let now = Instant::now();
                    for id in ids {
                        due.entry(id).or_insert_with(|| {
                            let mut at = now + self.delay;
                            if let Some(l) = last.get(&id) {
                                at = at.max(*l + self.min_interval);
                            }
                            Due { at, attempt: 0 }
                        });
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            let now = Instant::now();
            let ready: Vec<(Id, usize)> = due
                .iter()
                .filter(|(_, d)| d.at <= now)
                .map(|(id, d)| (*id, d.attempt))
                .collect();
            for (id, attempt) in ready {
                due.remove(&id);
                let address = match self.store.notify_email(&id) {
                    Ok(Some(a)) => a,
                    Ok(None) => continue,
                    Err(e) => {
                        self.metrics.failed.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(error = %e, "cannot read a notification address");
                        continue;
                    }
                };
                match self.mailer.send(&address) {
                    Ok(()) => {
                        self.metrics.sent.fetch_add(1, Ordering::Relaxed);
                        last.insert(id, Instant::now());
                    }
                    Err(f) => {
                        self.metrics.failed.fetch_add(1, Ordering::Relaxed);
                        match (f, RETRY.get(attempt)) {
                            (Failure::Transient, Some(wait)) => {
                                due.insert(
                                    id,
                                    Due {
                                        at: Instant::now() + *wait,
                                        attempt: attempt + 1,
                                    },
                                );
                            }
                            (Failure::Permanent(why), _) => {
                                tracing::warn!(why, "notification mail given up");
                            }
                            (Failure::Transient, None) => {
                                tracing::warn!("notification mail given up after retries");
                            }
                        }
                    }
                }
            }
            let keep = self.min_interval;
            last.retain(|_, t| t.elapsed() < keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::notify::advisor_link;
    use zeroize::Zeroizing;
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            check_address(" anna@example.nl ").unwrap(),
            "anna@example.nl"
        );
        for bad in [
            "",
            "anna",
            "anna@",
            "Anna <anna@example.nl>",
            "a@b.nl, c@d.nl",
            "anna@example.nl\r\nBcc: x@y.nl",
            "an na@example.nl",
        ] {
            assert!(check_address(bad).is_err(), "{bad:?}");
        }
        assert!(check_address(&format!("{}@example.nl", "a".repeat(250))).is_err());
    }

    #[test]
    fn settings_are_checked_when_enabled() {
        let mut s = NotifySettings::default();
        validate(&s).unwrap();
        s.enabled = true;
        assert!(
            validate(&s)
                .unwrap_err()
                .to_string()
                .contains("notify.smtp_host")
        );
        s.smtp_host = "smtp.example.nl".into();
        s.from = "Meldpunt <meldpunt@example.nl>".into();
        s.base_url = "https://meldpunt.example.nl/".into();
        validate(&s).unwrap();
        s.base_url = "https://meldpunt.example.nl/?q=1".into();
        assert!(
            validate(&s)
                .unwrap_err()
                .to_string()
                .contains("notify.base_url")
        );
        s.base_url = "https://meldpunt.example.nl".into();
        s.tls = SmtpTls::None;
        assert!(
            validate(&s)
                .unwrap_err()
                .to_string()
                .contains("notify.tls")
        );
        for host in ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"] {
            s.smtp_host = host.into();
            validate(&s).unwrap();
        }
        for host in ["10.0.0.1", "localhost.example.nl", "0.0.0.0", "smtp.example.nl"] {
            s.smtp_host = host.into();
            assert!(validate(&s).is_err(), "{host}");
        }
        s.smtp_host = "127.0.0.1".into();
        s.username = Some("u".into());
        s.password = Some(Password(Zeroizing::new("hunter2".into())));
        assert!(
            validate(&s)
                .unwrap_err()
                .to_string()
                .contains("notify.username")
        );
        s.tls = SmtpTls::Tls;
        validate(&s).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        let (link, host) = advisor_link("https://meldpunt.example.nl/").unwrap();
        assert_eq!(link, "https://meldpunt.example.nl/advisor/");
        assert_eq!(host, "meldpunt.example.nl");
    }
}
