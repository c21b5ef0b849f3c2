//! Real peers for tests. Used only as a dev-dependency.

#![allow(clippy::expect_used)]

pub mod browser;
pub mod postgres;
pub mod smtp;
pub mod stores;
