//! What every admin part shares: limits, [`AdminError`] and the [`Actor`] of a change.

use meldpunt_api::ErrorCode;

use crate::store::StoreError;
use crate::store::admin::NewAudit;

/// Most characters of an organisation's name.
pub const MAX_NAME: usize = 200;
/// Most characters of an introduction text (per language).
pub const MAX_INTRO: usize = 10_000;
/// Most characters of a code of conduct (per language).
pub const MAX_CONDUCT: usize = 20_000;
/// Most categories.
pub const MAX_CATEGORIES: usize = 50;
/// Most characters of a category label.
pub const MAX_CATEGORY_LABEL: usize = 100;
pub use crate::config::retention::RETENTION_DAYS;
/// Languages the reporting pages exist in.
pub const LANGUAGES: [&str; 2] = ["nl", "en"];
/// Largest logo, bytes.
pub const MAX_LOGO: usize = 256 * 1024;
/// Most audit entries per request.
pub const MAX_AUDIT: u32 = 500;

/// Admin errors. Each maps to one HTTP status and a stable code (see [`AdminError::code`]).
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Invalid input (400), with a field-specific code such as `bad_slug`.
    #[error("{message}")]
    Invalid {
        /// Stable code.
        code: ErrorCode,
        /// Explanation.
        message: String,
    },
    /// Unknown, or not visible to the caller (404).
    #[error("{0}")]
    NotFound(String),
    /// Not allowed (403).
    #[error("{message}")]
    Forbidden {
        /// Stable code.
        code: ErrorCode,
        /// Explanation.
        message: String,
    },
    /// Conflicts with the current state (409), e.g. `slug_taken`.
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: ErrorCode,
        /// Explanation.
        message: String,
    },
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Output failure (CLI).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub(crate) fn invalid(code: ErrorCode, message: impl Into<String>) -> AdminError {
    AdminError::Invalid {
        code,
        message: message.into(),
    }
}

/// Who makes a change, as the audit log names them: `cli` or a username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    /// The operator's shell.
    #[must_use]
    pub fn cli() -> Self {
        Actor("cli".into())
    }
    pub(crate) fn audit(&self, org_id: Option<i64>, action: &str, detail: impl Into<String>) -> NewAudit {
        NewAudit {
            actor: self.0.clone(),
            org_id,
            action: action.into(),
            detail: detail.into(),
        }
    }
}
