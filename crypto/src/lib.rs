//! Meldpunt cryptography: everything that touches a key, and nothing that touches the network
//! or the disk. The byte formats are specified in `docs/protocol.md`; module docs name the
//! section each module implements.
//!
//! Names follow one rule: `derive_*` is deterministic, `make_*`/`generate` draws from the RNG
//! that the caller passes in (see [`rng`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod envelope;
pub mod hpke;
pub mod keyring;
pub mod keys;
pub mod message;
pub mod pickup;
pub mod pow;
pub mod recipient;
pub mod rng;
