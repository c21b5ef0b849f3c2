//! Integration tests of the child-online-protection core: PDQ against the
//! reference hashes of the PDQ project's test images, hostile images, and
//! the Hamming index against a linear scan; and the hotline on both
//! databases: intake, assessment, tracing, referral, takedown, hash lists,
//! guidance.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod guidance;
mod hotline;
mod index;
mod lists;
mod pdq;
mod support;
mod trace;
