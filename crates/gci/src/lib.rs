//! The Global Cybersecurity Index.
//!
//! Pure parts, no IO:
//! - [`framework`]: editions as data (pillars → indicators → … → questions,
//!   weights, answer types, tiers), parsed and validated;
//! - [`score`]: answers → indicator, pillar and overall scores;
//! - [`rank`]: dense, standard and fractional ranking on the published
//!   precision; [`table`]: global and regional ranks and tiers;
//! - [`published`]: published results of past editions from CSV, checked;
//! - [`uncertainty`]: Monte Carlo over weights and aggregation, rank
//!   intervals, tier probabilities, sensitivity indices, diagnostics.
//!
//! And the service over the store: [`campaigns`] (editions, campaigns,
//! answers with evidence, review, publication).

pub mod campaigns;
pub mod countries;
mod error;
pub mod framework;
pub mod published;
pub mod rank;
pub mod reminders;
pub mod score;
pub mod table;
pub mod uncertainty;

pub use error::GciError;
pub use framework::Framework;
