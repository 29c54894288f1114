//! Meldpunt server: stores and routes ciphertext for anonymous, end-to-end encrypted reports.
//!
//! Layers, each in one folder: [`http`] (routes, request guards, handlers) → [`service`]
//! (validation, what happens; admin in [`service::admin`]) → [`store::Store`] (SQLite now,
//! PostgreSQL possible), all on the base ([`config`], [`day`], ...); [`serve`] and [`cli`]
//! compose them. The server
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

// Base: imports no other layer of the crate.
pub mod config;
pub mod day;
pub mod dblock;
pub mod markdown;
pub mod private_file;
pub mod tls;

// Storage: imports only the base.
pub mod store;

// Service layer: validation and what happens; no HTTP type.
pub mod service;

// HTTP layer: routes, request guards, thin handlers, errors as HTTP answers.
pub mod http;

// Composition root: builds the layers and runs them.
pub mod cli;
pub mod serve;

// Old paths, kept for the fuzz target (`server/fuzz/fuzz_targets/json_bodies.rs`).
pub use service::wire as api;
pub use service::verify;
