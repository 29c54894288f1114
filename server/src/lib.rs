//! Meldpunt server: stores and routes ciphertext for anonymous, end-to-end encrypted reports.
//!
//! Layers, each in one place: [`http`] (routes, middleware, handlers) → [`service`]
//! (validation, what happens) → [`store::Store`] (SQLite now, PostgreSQL possible). The server
//! holds no secret key; [`verify`] is its whole use of `meldpunt-crypto`. See `docs/server.md`.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod admin;
pub mod adminapi;
pub mod adminauth;
pub mod api;
pub mod config;
pub mod day;
pub mod dblock;
pub mod error;
pub mod http;
pub mod limits;
pub mod markdown;
pub mod metrics;
pub mod notify;
pub mod pow;
pub mod private_file;
pub mod restore;
pub mod retention;
pub mod serve;
pub mod service;
pub mod store;
pub mod tls;
pub mod verify;
