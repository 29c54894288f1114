//! The store's error and result types.

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist (or is not visible to the caller).
    #[error("not found")]
    NotFound,
    /// A uniqueness or state conflict.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A size or count limit would be exceeded.
    #[error("limit: {0}")]
    Limit(String),
    /// A storage quota (`[quota]`) would be exceeded: `code` is `case_full` or
    /// `org_storage_full` (413).
    #[error("quota: {message}")]
    Quota {
        /// The API error code.
        code: &'static str,
        /// What is full.
        message: String,
    },
    /// The database is busy, the write queue is full, or a write could not be committed
    /// (disk full, I/O error): the change may not have been saved; try again later (503).
    #[error("database busy or unavailable")]
    Busy,
    /// Any other database error (a server fault).
    #[error("database error: {0}")]
    Db(String),
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;
