//! The JSON wire types of Meldpunt's `/api/v1` (see `docs/api/openapi.json`): requests
//! ([`CreateCase`], [`Register`], ...), answers ([`OrgPage`], [`CaseView`], ...), the stable
//! error codes of every error answer ([`ErrorCode`]) and the base64url helpers ([`b64`]).
//!
//! This crate depends on no server code: the server converts its stored types into these.
//! Requests deny unknown fields; byte fields travel as base64url strings (no padding) and are
//! decoded and length-checked by the server, which answers `bad_base64`, `bad_length` or
//! `payload_too_large` per field.
#![forbid(unsafe_code)]

pub mod b64;
mod error_code;
mod wire;
pub mod openapi;

pub use b64::{b64, unb64};
pub use error_code::ErrorCode;
pub use wire::*;
