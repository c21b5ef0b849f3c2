//! Cyberdrills: tabletop scenarios delivered as timed injects and hands-on
//! technical challenges, run for many countries' teams at once.
//!
//! - [`scenario`]: the scenario format (objectives, injects, expectations,
//!   challenges), its validation, and MSEL spreadsheet import.
//! - [`flags`]: static (hashed) and regular-expression flags.
//! - [`scoring`]: CTFd-compatible dynamic values and the ranking rule.
//! - [`timeline`]: the exercise clock and which injects are due.
//! - [`service`], [`play`], [`evaluate`], [`report`]: all of it over the
//!   store, with access checks and audit, for organisers, players,
//!   evaluators and the after-action report.

mod error;
pub mod evaluate;
pub mod flags;
pub mod play;
pub mod report;
pub mod scenario;
pub mod scoring;
pub mod service;
pub mod timeline;

pub use error::DrillsError;
pub use service::Drills;
