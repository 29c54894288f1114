//! Advisor identity keys, fingerprints, signed key bundles and revocations
//! (`docs/protocol.md` §1.2–§1.5).
//!
//! An advisor's [`IdentityKey`] (Ed25519) signs [`KeyBundle`]s that publish X25519 encryption
//! keys and [`Revocation`]s that withdraw them. A sender calls
//! [`KeyBundle::verify_for_sealing`] and seals only to the
//! [`RecipientKey`](crate::recipient::RecipientKey) it returns.

mod bundle;
mod identity;

pub use bundle::{BUNDLE_LEN, KeyBundle, REVOCATION_LEN, Revocation};
pub use identity::{Fingerprint, IdentityKey, IdentityPublicKey, KeyError, SIGNATURE_LEN};
pub(crate) use identity::{crockford_symbol, crockford_value};
