//! Randomness. Functions that need randomness take `&mut R where R: CryptoRng + ?Sized`, so tests
//! can pass a seeded RNG; applications pass [`os_rng()`], the operating system's CSPRNG (the
//! browser's `crypto.getRandomValues` on `wasm32-unknown-unknown`).

pub use rand_core::{CryptoRng, Rng};

/// The operating system's CSPRNG. Failure to read it is unrecoverable and aborts the
/// operation with a panic inside `rand_core`, never silently weak randomness.
pub type OsRng = rand_core::UnwrapErr<getrandom::SysRng>;

/// A handle to the operating system's CSPRNG.
#[must_use]
pub fn os_rng() -> OsRng {
    rand_core::UnwrapErr(getrandom::SysRng)
}
