//! Integration tests of the drills module on both databases: scenarios and
//! MSEL import, an exercise from start to after-action report, flags under
//! racing submissions, and who may do what.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod concurrency;
mod flow;
mod scenarios;
mod support;
