//! Threat-intelligence exchange. So far: [`stix`], STIX 2.1 content read
//! without loss (unknown and custom properties kept, so a bundle
//! round-trips) and checked against the specification's MUST rules, with
//! vocabulary checks as warnings. TAXII, MISP, IODEF and the indicator
//! store build on it (issue 5).

pub mod client;
mod error;
pub mod federation;
pub mod indicators;
pub mod markings;
pub mod misp;
pub mod misp_export;
pub mod pattern;
pub mod stix;
pub mod taxii;
pub mod warninglists;

pub use error::IntelError;
