//! The store's one integration-test binary. Every test runs against SQLite,
//! and against PostgreSQL too when `RAMPART_TEST_POSTGRES_URL` is set; each
//! run gets a fresh database file or a fresh schema.

// Tests stop at the first broken expectation; helpers outside #[test]
// functions may do the same.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod platform;
mod support;
