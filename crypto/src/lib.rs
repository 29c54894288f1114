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

/// `impl Debug` for a secret `$ty` that shows its name only: `$ty(<redacted>)`.
macro_rules! debug_redacted {
    ($($ty:ident),+ $(,)?) => {$(
        impl core::fmt::Debug for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($ty), "(<redacted>)"))
            }
        }
    )+};
}

/// Constant-time `ConstantTimeEq`, and `PartialEq`/`Eq` through it, for a newtype `$ty` over
/// bytes (`self.0`).
macro_rules! ct_eq_by_bytes {
    ($($ty:ident),+ $(,)?) => {$(
        impl subtle::ConstantTimeEq for $ty {
            fn ct_eq(&self, other: &Self) -> subtle::Choice {
                subtle::ConstantTimeEq::ct_eq(self.0.as_slice(), other.0.as_slice())
            }
        }

        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                subtle::ConstantTimeEq::ct_eq(self, other).into()
            }
        }

        impl Eq for $ty {}
    )+};
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
