//! Integration tests of the strategy module: the shipped data and its
//! checks, the gap report against the GCI scoring engine, the action plan's
//! rules, SIM3, and the whole service on both databases.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod data;
mod gaps;
mod service;
mod support;
