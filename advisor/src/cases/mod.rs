//! Case commands: `inbox`, `read`, `attachments`, `decrypt`, `reply`, `status`, `overview`.
//! Everything is decrypted here, on the advisor's device, with the keys of the keyring; every
//! trust decision (which messages are trusted, who is a member, whom a reply is sealed to) is
//! made by `meldpunt-client` through [`crate::judge`].

mod attachments;
pub(crate) mod common;
mod inbox;
mod overview;
mod read;
mod reply;

pub use attachments::{attachments, decrypt};
pub use inbox::inbox;
pub use overview::overview;
pub use read::read;
pub use reply::{reply, status};
