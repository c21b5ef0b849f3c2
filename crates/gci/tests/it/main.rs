//! Integration tests of the GCI: the shipped editions' shape, framework
//! files with bad rows, scoring, the published GCI 2020 ranks reproduced
//! from the corpus, the uncertainty analysis, and the campaign cycle on
//! both databases.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod campaigns;
mod framework;
mod published;
mod support;
mod uncertainty;
