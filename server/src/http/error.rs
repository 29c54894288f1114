//! The one error type of the HTTP layer (service errors become it through their [`Kind`]): every failure is answered with a status and a JSON
//! body `{"error": code, "message": text}`. Messages never contain request data beyond what
//! the client itself sent, and never any stored data.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use meldpunt_api::ErrorCode;
use serde::Serialize;

use crate::service::admin::AdminError;
use crate::service::error::{Kind, ServiceError};

/// What [`ApiError`] constructors take as the code: an [`ErrorCode`], or (for code outside this
/// layer that still names codes as text) its `snake_case` name.
pub trait IntoCode {
    /// The code.
    fn into_code(self) -> ErrorCode;
}

impl IntoCode for ErrorCode {
    fn into_code(self) -> ErrorCode {
        self
    }
}

impl IntoCode for &'static str {
    fn into_code(self) -> ErrorCode {
        let code = ErrorCode::parse(self);
        debug_assert!(code.is_some(), "`{self}` is not an ErrorCode");
        code.unwrap_or(ErrorCode::Error)
    }
}

/// An error answered to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code, e.g. `invalid_json`.
    pub code: ErrorCode,
    /// Human-readable explanation (English).
    pub message: String,
    /// Seconds to wait before trying again (429 answers of the admin login; also sent as
    /// `Retry-After`).
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: ErrorCode,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, code: impl IntoCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into_code(),
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
    /// 400: malformed request.
    pub fn bad_request(code: impl IntoCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 401: no or wrong credential.
    pub fn unauthorized(code: impl IntoCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }
    /// 403: authenticated but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ServiceError::forbidden(message).into()
    }
    /// 404: unknown, or not visible to the caller (the two are never told apart).
    pub fn not_found(message: impl Into<String>) -> Self {
        ServiceError::not_found(message).into()
    }
    /// 409: conflicts with the current state.
    pub fn conflict(code: impl IntoCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    /// 413: too large.
    pub fn too_large(message: impl Into<String>) -> Self {
        ServiceError::too_large(message).into()
    }
    /// 429: rate limited.
    pub fn rate_limited() -> Self {
        ServiceError::rate_limited().into()
    }
    /// 500: a fault of the server (never caused by input).
    pub fn internal() -> Self {
        ServiceError::internal().into()
    }
    /// 503: overloaded.
    pub fn unavailable() -> Self {
        ServiceError::unavailable().into()
    }

    /// The JSON response.
    #[must_use]
    pub fn to_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            res.insert_header((actix_web::http::header::RETRY_AFTER, secs.to_string()));
        }
        res.json(Body {
            error: self.code,
            message: &self.message,
            retry_after: self.retry_after,
        })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        self.to_response()
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let status = match e.kind {
            Kind::BadRequest => StatusCode::BAD_REQUEST,
            Kind::Unauthorized => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::Conflict => StatusCode::CONFLICT,
            Kind::Gone => StatusCode::GONE,
            Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError {
            status,
            code: e.code,
            message: e.message,
            retry_after: e.retry_after,
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::unavailable()
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
