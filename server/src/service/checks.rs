//! Checks shared by the service parts (text fields, languages, envelope recipients) and the
//! store error as answered.

use meldpunt_api::ErrorCode;

use crate::service::error::{ServiceError, ServiceResult};
use crate::store::{AdvisorKeys, StoreError};

/// Largest advisor photo, bytes.
pub const MAX_PHOTO: usize = 64 * 1024;

pub(crate) fn check_text(field: &str, value: &str, max: usize) -> ServiceResult<()> {
    if value.chars().count() > max {
        return Err(ServiceError::bad_request(
            ErrorCode::TooLong,
            format!("`{field}` is longer than {max} characters"),
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ServiceError::bad_request(
            ErrorCode::BadText,
            format!("`{field}` contains control characters"),
        ));
    }
    Ok(())
}

pub(crate) fn check_languages(langs: &[String]) -> ServiceResult<()> {
    if langs.len() > 16 {
        return Err(ServiceError::bad_request(ErrorCode::TooMany, "at most 16 languages"));
    }
    for l in langs {
        if l.is_empty() || l.len() > 8 || !l.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            return Err(ServiceError::bad_request(
                ErrorCode::BadLanguage,
                "languages are codes like `nl` or `en`",
            ));
        }
    }
    Ok(())
}

/// A store error as answered. `Busy` (busy database, full write queue, or a write that could
/// not be committed: disk full, I/O error) is a 503 that says the change may not be saved.
pub(crate) fn store_error(e: StoreError) -> ServiceError {
    match e {
        StoreError::Busy => ServiceError::storage_busy(),
        other => other.into(),
    }
}

/// Checks the recipients of a reporter's envelope: every advisor in `advisors` has a stanza
/// for one of its currently valid keys, and at most one stanza is for some other key (the
/// reporter's own reply key, so the reporter can re-read what they sent).
pub(crate) fn check_stanzas(key_ids: &[[u8; 16]], advisors: &[&AdvisorKeys], now: i64) -> ServiceResult<()> {
    for a in advisors {
        if !key_ids.iter().any(|k| a.has_valid_key(k, now)) {
            return Err(ServiceError::conflict(
                ErrorCode::StaleKeys,
                "the envelope is not sealed to a valid key of every addressed advisor; fetch the keys again",
            ));
        }
    }
    let foreign = key_ids
        .iter()
        .filter(|k| !advisors.iter().any(|a| a.has_valid_key(k, now)))
        .count();
    if foreign > 1 {
        return Err(ServiceError::bad_request(
            ErrorCode::BadEnvelope,
            "the envelope is sealed to unknown keys",
        ));
    }
    Ok(())
}
