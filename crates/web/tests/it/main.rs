//! The web crate's one integration-test binary: the real router and server
//! on a fresh database, the API and its OpenAPI document, security
//! behaviour, the message catalogues, and the browser tests in a real
//! headless Chromium.

// Tests stop at the first broken expectation; helpers outside #[test]
// functions may do the same.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod advisories;
mod api;
mod browser;
mod catalogues;
mod cirt;
mod drills;
mod feeds;
mod gci;
mod hotline;
mod indicators;
mod security;
mod strategy;
mod support;
mod taxii;
mod tls;
