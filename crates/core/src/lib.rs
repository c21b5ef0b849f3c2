//! Domain types shared by every Rampart crate.
//!
//! Architecture invariant: this crate does no IO and knows nothing of HTTP,
//! SQL or wire formats beyond serde derives. Everything here is plain data
//! and pure rules, so every other crate can depend on it cheaply.

pub mod clock;
pub mod country;
pub mod error;
pub mod id;
pub mod org;
pub mod role;
pub mod spreadsheet;
pub mod time;
pub mod tlp;

pub use clock::{Clock, ManualClock, SystemClock};
pub use country::{Country, ItuRegion};
pub use error::CoreError;
pub use id::new_id;
pub use org::{OrgKind, Sector};
pub use role::{Permission, Role};
pub use tlp::Tlp;
