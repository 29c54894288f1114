//! `[notify]`: advisor notifications by e-mail (SMTP).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use lettre::SmtpTransport;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use zeroize::Zeroizing;

use super::ConfigError;

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, required (usually port 587).
    Starttls,
    /// No encryption: only for a relay on the same machine (`127.0.0.1:25`). No login.
    None,
}

/// A password: zeroized on drop, never printed.
#[derive(Clone)]
pub struct Password(pub(crate) Zeroizing<String>);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(redacted)")
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Password(Zeroizing::new(s)))
    }
}

/// `[notify]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySettings {
    /// Send notifications at all (off by default).
    pub enabled: bool,
    /// SMTP server host name.
    pub smtp_host: String,
    /// SMTP server port.
    pub smtp_port: u16,
    /// `tls`, `starttls` or `none`.
    pub tls: SmtpTls,
    /// Extra CA certificate (PEM) to trust for the SMTP server, besides the public roots.
    pub ca_file: Option<PathBuf>,
    /// SMTP login name.
    pub username: Option<String>,
    /// SMTP password (`MELDPUNT_NOTIFY__PASSWORD` keeps it out of the file).
    pub password: Option<Password>,
    /// Sender, e.g. `Meldpunt <meldpunt@example.nl>`.
    pub from: String,
    /// The instance's public address; the mail links to `{base_url}/advisor/`.
    pub base_url: String,
    /// Seconds between an advisor's first event and the mail, so that a burst becomes one mail.
    pub delay_secs: u32,
    /// At most one mail per advisor per this many seconds.
    pub min_interval_secs: u32,
    /// SMTP connection and command timeout, seconds.
    pub timeout_secs: u32,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            enabled: false,
            smtp_host: String::new(),
            smtp_port: 587,
            tls: SmtpTls::Starttls,
            ca_file: None,
            username: None,
            password: None,
            from: String::new(),
            base_url: String::new(),
            delay_secs: 60,
            min_interval_secs: 900,
            timeout_secs: 30,
        }
    }
}

/// An invalid `notify.{name}`.
pub(crate) fn setting(name: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Setting {
        setting: format!("notify.{name}"),
        message: message.into(),
    }
}

/// Range and consistency checks of `[notify]`; with `enabled`, the transport is built (no
/// connection is made) so that every mistake shows at start.
pub fn validate(s: &NotifySettings) -> Result<(), ConfigError> {
    if s.delay_secs > 3600 {
        return Err(setting("delay_secs", "must be between 0 and 3600"));
    }
    if s.min_interval_secs > 86_400 {
        return Err(setting("min_interval_secs", "must be between 0 and 86400"));
    }
    if !(1..=300).contains(&s.timeout_secs) {
        return Err(setting("timeout_secs", "must be between 1 and 300"));
    }
    if !s.enabled {
        return Ok(());
    }
    mailer_parts(s).map(|_| ())
}

/// The link in the mail: `{base_url}/advisor/`; `base_url` must be an http(s) address
/// without query or fragment.
pub(crate) fn advisor_link(base_url: &str) -> Result<(String, String), ConfigError> {
    let base = base_url.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(base).map_err(|_| {
        setting(
            "base_url",
            "must be the instance's address, like https://meldpunt.example.nl",
        )
    })?;
    if !matches!(url.scheme(), "https" | "http")
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(setting(
            "base_url",
            "must be an https:// (or http://) address without user, query or fragment",
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| setting("base_url", "has no host"))?
        .to_owned();
    Ok((format!("{base}/advisor/"), host))
}

/// Whether an SMTP host names this machine: `localhost`, or a loopback IP address (IPv6 with
/// or without brackets). A name that merely resolves to loopback does not count.
fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The SMTP transport, the sender and the mail body of `s` (no connection is made).
pub(crate) fn mailer_parts(
    s: &NotifySettings,
) -> Result<(SmtpTransport, Mailbox, String), ConfigError> {
    let host = s.smtp_host.trim();
    if host.is_empty() {
        return Err(setting(
            "smtp_host",
            "must be set when notify.enabled = true",
        ));
    }
    if s.smtp_port == 0 {
        return Err(setting("smtp_port", "must be between 1 and 65535"));
    }
    if s.tls == SmtpTls::None && !is_loopback(host) {
        return Err(setting(
            "tls",
            format!(
                "tls = \"none\" is only allowed for a relay on this machine \
                 (smtp_host = \"127.0.0.1\", \"::1\" or \"localhost\"), not {host:?}: \
                 use \"tls\" or \"starttls\""
            ),
        ));
    }
    let from: Mailbox = s.from.parse().map_err(|_| {
        setting(
            "from",
            "must be an address like `Meldpunt <meldpunt@example.nl>`",
        )
    })?;
    let (link, ehlo) = advisor_link(&s.base_url)?;
    let tls = match s.tls {
        SmtpTls::None => None,
        SmtpTls::Tls | SmtpTls::Starttls => {
            let mut b = TlsParameters::builder(host.to_owned());
            if let Some(ca) = &s.ca_file {
                let pem = std::fs::read(ca).map_err(|e| {
                    setting("ca_file", format!("cannot read {}: {e}", ca.display()))
                })?;
                let cert = Certificate::from_pem(&pem).map_err(|_| {
                    setting(
                        "ca_file",
                        format!("{}: not a PEM certificate", ca.display()),
                    )
                })?;
                b = b.add_root_certificate(cert);
            }
            Some(
                b.build_rustls()
                    .map_err(|e| setting("tls", format!("cannot set up TLS: {e}")))?,
            )
        }
    };
    let mut builder = SmtpTransport::builder_dangerous(host)
        .port(s.smtp_port)
        .timeout(Some(Duration::from_secs(u64::from(s.timeout_secs))))
        .hello_name(ClientId::Domain(ehlo));
    builder = match (s.tls, tls) {
        (SmtpTls::Tls, Some(p)) => builder.tls(Tls::Wrapper(p)),
        (SmtpTls::Starttls, Some(p)) => builder.tls(Tls::Required(p)),
        _ => builder.tls(Tls::None),
    };
    match (&s.username, &s.password) {
        (Some(_), _) if s.tls == SmtpTls::None => {
            return Err(setting(
                "username",
                "a login needs tls = \"tls\" or \"starttls\" (the password would go in clear text)",
            ));
        }
        (Some(u), Some(p)) => {
            builder = builder.credentials(Credentials::new(u.clone(), p.0.as_str().to_owned()));
        }
        (None, None) => {}
        _ => return Err(setting("password", "username and password go together")),
    }
    let body = format!(
        "Er is nieuwe activiteit in je Meldpunt-inbox.\r\n\
         Log in om te lezen: {link}\r\n\
         \r\n\
         There is new activity in your Meldpunt inbox.\r\n\
         Log in to read it: {link}\r\n\
         \r\n\
         --\r\n\
         Deze e-mail zegt bewust niets over de inhoud.\r\n\
         This e-mail deliberately says nothing about the content.\r\n\
         Uitzetten / turn off: meldpunt advisor notify --off\r\n"
    );
    Ok((builder.build(), from, body))
}
