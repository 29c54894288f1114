//! `meldpunt-client`: every trust decision a Meldpunt client makes, in one place.
//!
//! The reporter's page, the advisor's page, `meldpunt advisor` (CLI and local app) and the
//! test kit all call this crate; none of them decides a rule of `docs/protocol.md` itself.
//! What lives here:
//!
//! - [`advisors`]: verifying an advisor as the server lists them (identity, signed key
//!   bundles, revocations, pins, §1.2–§1.4) and choosing the key to seal to;
//! - [`case`]: opening a case: each envelope with its expected purpose and organisation (§3),
//!   the transcript checks of §5.1 and their ranking, and **case membership** (§10): who may
//!   write replies and whom every later message is sealed to, decided by signed statements
//!   inside the encryption and never by a list from the server;
//! - [`seal`]: building and sealing reports, follow-ups, replies and membership statements to
//!   exactly the members of a case;
//! - [`membership`]: the byte layout of a membership statement (§10.1);
//! - [`colleagues`]: colleagues an advisor confirmed out of band, remembered in the keyring;
//! - [`body`]: the typed application bodies (§6);
//! - [`filename`]: file names that are safe to show and to save.
//!
//! No I/O: the callers fetch from the server and hand the answers in; this crate treats every
//! one of those answers as hostile. Builds for native targets and `wasm32-unknown-unknown`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod advisors;
pub mod body;
pub mod case;
pub mod colleagues;
pub mod filename;
pub mod membership;
pub mod seal;

pub use meldpunt_crypto as crypto;

use base64ct::{Base64UrlUnpadded, Encoding};

/// Decodes base64url without padding (constant time in the data).
///
/// # Errors
/// [`BadBase64`] if `s` is not base64url without padding.
pub fn unb64(s: &str) -> Result<Vec<u8>, BadBase64> {
    Base64UrlUnpadded::decode_vec(s).map_err(|_| BadBase64)
}

/// Encodes base64url without padding (constant time in the data).
#[must_use]
pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// A value that is not base64url without padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not base64url")]
pub struct BadBase64;
