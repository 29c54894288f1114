//! What the server does, between the HTTP handlers (which parse and answer) and the
//! [`crate::store::Store`] (which keeps). Validation of uploaded bytes happens here, before any write.

mod advisor;
pub mod admin;
mod checks;
mod counters;
pub mod error;
mod ids;
pub mod limits;
pub mod metrics;
pub mod notify;
pub mod orgs;
pub mod pow;
mod reporter;
pub mod retention;
mod state;
pub mod verify;
pub mod wire;

pub use checks::MAX_PHOTO;
pub use ids::{normalise_invite, random_id, random32, sha256};
pub use state::AppState;
