//! Built-in TLS: `[tls] cert = "fullchain.pem"`, `key = "privkey.pem"` makes `meldpunt serve`
//! answer HTTPS itself (rustls with the ring provider, TLS 1.2 and 1.3), for instances without
//! a reverse proxy. HSTS is then sent on every answer. The files are read at start; after a
//! certificate renewal, restart the server (see `docs/operations.md`).

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use crate::config::tls::{TlsSettings, validate};
use crate::config::{ConfigError, setting};

/// The rustls server configuration from the PEM files; errors name the setting.
pub fn server_config(s: &TlsSettings) -> Result<rustls::ServerConfig, ConfigError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&s.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            setting(
                "tls.cert",
                format!("{}: not a PEM certificate chain ({e})", s.cert.display()),
            )
        })?;
    if certs.is_empty() {
        return Err(setting(
            "tls.cert",
            format!("{}: no certificate in the file", s.cert.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&s.key).map_err(|e| {
        setting(
            "tls.key",
            format!("{}: not a PEM private key ({e})", s.key.display()),
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| setting("tls", e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            setting(
                "tls.key",
                format!("the key does not fit the certificate, or is unsupported ({e})"),
            )
        })
}
