//! Integration tests of the CIRT desk.
//!
//! One test binary. Every test runs against a fresh SQLite file, and against
//! a fresh PostgreSQL schema too when `RAMPART_TEST_POSTGRES_URL` is set; the
//! auth service and the desk share a manual clock, so SLA timers are tested
//! by moving time. Each test ends by verifying the audit chain.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod advisories;
mod attachments;
mod csaf;
mod incidents;
mod intake;
mod iodef;
mod leaks;
mod notices;
mod registry;
mod reports;
mod sla;
mod support;
mod visibility;
