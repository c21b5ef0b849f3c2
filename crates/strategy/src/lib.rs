//! National cybersecurity strategy and CIRT maturity.
//!
//! - [`data`]: the ITU guide's principles, focus areas and good-practice
//!   elements (each mapped to the GCI indicators that measure it), the SIM3
//!   model and the FIRST CSIRT Services Framework, as versioned data files.
//! - [`gaps`]: the gap report, which runs the GCI scoring engine on the
//!   country's answers to show how closing each gap moves its pillar scores
//!   and tier.
//! - [`plan`]: the action plan's rules: overdue actions, KPI progress, the
//!   monitoring and evaluation summary, CSV export.
//! - [`maturity`]: SIM3 assessments, target profiles and their gaps.
//! - [`service`]: all of it over the store, with access checks and audit.

pub mod data;
mod error;
pub mod gaps;
pub mod maturity;
pub mod plan;
pub mod service;

pub use error::StrategyError;
pub use service::Strategy;
