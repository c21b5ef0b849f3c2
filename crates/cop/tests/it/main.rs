//! Integration tests of the child-online-protection core: PDQ against the
//! reference hashes of the PDQ project's test images, hostile images, and
//! the Hamming index against a linear scan.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod index;
mod pdq;
