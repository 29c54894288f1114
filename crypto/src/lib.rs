//! Meldpunt cryptography: everything that touches a key, and nothing that touches the network
//! or the disk. The byte formats are specified in `docs/protocol.md`; module docs name the
//! section each module implements.
//!
//! Names follow one rule: `derive_*` is deterministic, `make_*`/`generate` draws from the RNG
//! that the caller passes in (see [`rng`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

/// `impl Debug` for `$ty` that shows only the listed values, each computed from the value
/// bound to `$s`; `..` at the end marks that the rest (secrets among them) is left out
/// (`finish_non_exhaustive`). Defined before the modules so that all of them can use it.
macro_rules! debug_fields {
    ($ty:ident($s:ident) { $($name:ident: $value:expr),* $(,)? }) => {
        debug_fields!(@impl $ty($s) { $($name: $value),* } finish);
    };
    ($ty:ident($s:ident) { $($name:ident: $value:expr),* $(,)? } ..) => {
        debug_fields!(@impl $ty($s) { $($name: $value),* } finish_non_exhaustive);
    };
    (@impl $ty:ident($s:ident) { $($name:ident: $value:expr),* } $finish:ident) => {
        impl core::fmt::Debug for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                let $s = self;
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($name), &$value))*
                    .$finish()
            }
        }
    };
}

pub mod envelope;
pub mod hpke;
pub mod keyring;
pub mod keys;
pub mod message;
pub mod pickup;
pub mod pow;
pub mod recipient;
pub mod rng;
