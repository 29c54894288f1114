//! `[tls]`: the certificate and key files of built-in TLS.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, setting};

/// `[tls]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM file with the certificate chain (leaf first).
    pub cert: PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

fn readable(name: &str, path: &Path) -> Result<(), ConfigError> {
    std::fs::File::open(path)
        .map(|_| ())
        .map_err(|e| setting(name, format!("cannot read {}: {e}", path.display())))
}

/// Checks that both files can be read (their contents are checked by [`server_config`]).
pub fn validate(s: &TlsSettings) -> Result<(), ConfigError> {
    readable("tls.cert", &s.cert)?;
    readable("tls.key", &s.key)
}

