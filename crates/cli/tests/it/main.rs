//! Integration tests of the `rampart` binary: each test runs the built
//! executable in its own scratch directory with a clean environment and
//! checks exit codes and output exactly. `serve` tests talk raw HTTP/1.1 to
//! the real server over loopback.

// Tests stop at the first broken expectation; helpers outside #[test]
// functions may do the same.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod audit;
mod backup;
mod cirt;
mod config;
mod cop;
mod distributed;
mod drills;
mod federation;
mod feeds;
mod gci;
mod interop;
mod serve;
mod strategy;
mod support;
mod usage;
