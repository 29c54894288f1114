//! The one error type of the service layer: what went wrong ([`Kind`]), a stable
//! [`ErrorCode`] and an English message. No HTTP type: the HTTP layer maps a [`Kind`] to a
//! status (`crate::http::error`). Messages never contain stored data.

use meldpunt_api::ErrorCode;

use crate::store::StoreError;

/// What kind of failure (the HTTP layer answers each with one status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Malformed request (400).
    BadRequest,
    /// No or wrong credential (401).
    Unauthorized,
    /// Authenticated but not allowed (403).
    Forbidden,
    /// Unknown, or not visible to the caller (404).
    NotFound,
    /// Conflicts with the current state (409).
    Conflict,
    /// Gone for now: a suspended organisation (410).
    Gone,
    /// Too large, or past a quota (413).
    TooLarge,
    /// A media type that is not accepted (415).
    UnsupportedMediaType,
    /// Rate limited (429).
    RateLimited,
    /// A fault of the server, never caused by input (500).
    Internal,
    /// Overloaded or storage busy (503).
    Unavailable,
}

/// A failure of the service layer.
#[derive(Debug, Clone)]
pub struct ServiceError {
    /// What kind of failure.
    pub kind: Kind,
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// Human-readable explanation (English).
    pub message: String,
    /// Seconds to wait before trying again (login throttling).
    pub retry_after: Option<u64>,
}

/// Result of the service layer.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// An error of any kind.
    pub fn new(kind: Kind, code: ErrorCode, message: impl Into<String>) -> Self {
        ServiceError {
            kind,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    /// The same error with a `retry_after` (seconds).
    #[must_use]
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
    /// Malformed request.
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(Kind::BadRequest, code, message)
    }
    /// No or wrong credential.
    pub fn unauthorized(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(Kind::Unauthorized, code, message)
    }
    /// Authenticated but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, ErrorCode::Forbidden, message)
    }
    /// Unknown, or not visible to the caller (the two are never told apart).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, ErrorCode::NotFound, message)
    }
    /// Conflicts with the current state.
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, code, message)
    }
    /// Too large.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(Kind::TooLarge, ErrorCode::PayloadTooLarge, message)
    }
    /// Rate limited.
    pub fn rate_limited() -> Self {
        Self::new(
            Kind::RateLimited,
            ErrorCode::RateLimited,
            "too many requests; try again later",
        )
    }
    /// A fault of the server.
    pub fn internal() -> Self {
        Self::new(Kind::Internal, ErrorCode::Internal, "internal error")
    }
    /// Overloaded.
    pub fn unavailable() -> Self {
        Self::new(
            Kind::Unavailable,
            ErrorCode::Unavailable,
            "server busy; try again later",
        )
    }
    /// Storage busy: the change may not have been saved.
    pub fn storage_busy() -> Self {
        Self::new(
            Kind::Unavailable,
            ErrorCode::Unavailable,
            "storage busy or unavailable; the change may not have been saved, try again later",
        )
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ServiceError {}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::not_found("not found"),
            StoreError::Conflict(what) => ServiceError::conflict(ErrorCode::Conflict, what),
            StoreError::Limit(what) => ServiceError::too_large(what),
            StoreError::Quota { code, message } => ServiceError::new(
                Kind::TooLarge,
                ErrorCode::parse(code).unwrap_or(ErrorCode::PayloadTooLarge),
                message,
            ),
            StoreError::Busy => ServiceError::unavailable(),
            StoreError::Db(msg) => {
                tracing::error!(error = %msg, "storage error");
                ServiceError::internal()
            }
        }
    }
}

impl From<tokio::task::JoinError> for ServiceError {
    /// A blocking task that did not finish (the pool shut down, or it panicked).
    fn from(_: tokio::task::JoinError) -> Self {
        ServiceError::unavailable()
    }
}
