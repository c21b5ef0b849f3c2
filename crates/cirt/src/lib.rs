//! The CIRT incident desk: what a national CIRT does every day.
//!
//! Architecture invariant: rules and services only. Storage goes through
//! `rampart_store`, permission and TLP questions through
//! `rampart_auth::access`; no HTTP, no SQL. Time comes from the clock the
//! service is given, so SLA timers are testable.

pub mod advisories;
pub mod advisory;
pub mod constituency;
pub mod csaf;
pub mod desk;
pub mod encryption;
mod error;
pub mod feed_incidents;
pub mod intake;
pub mod iodef;
pub mod notify;
pub mod observables;
pub mod playbook;
pub mod priority;
pub mod provider;
pub mod rsit;
pub mod signing;
pub mod sla;
pub mod stats;
pub mod workflow;

pub use desk::{Channel, Desk, DeskError, IncidentView, ListFilter, NewIncident, NewReport, Queue};
pub use error::CirtError;
pub use priority::{Level, Priority, PriorityMatrix};
pub use workflow::Status;
