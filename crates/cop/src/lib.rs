//! Child online protection: the pieces a hotline needs to recognise known
//! material while looking at as little of it as possible.
//!
//! - [`pdq`]: Rampart's own PDQ implementation (256-bit perceptual hash,
//!   quality score, the eight dihedral variants);
//! - [`decode`]: image decoding with limits, for images given only to be
//!   hashed and then dropped;
//! - [`hashlist`]: hash lists (PDQ, MD5, SHA-256) in the CSV and JSON
//!   shapes hash-sharing programmes use;
//! - [`index`]: an exact Hamming-radius index over 256-bit hashes
//!   (multi-index hashing).
//!
//! and the hotline built on them:
//!
//! - [`hotline`]: public and partner reports, assessment, tracing
//!   ([`trace`], MaxMind DB), referral and takedown tracking, retention;
//! - [`lists`]: stored hash lists with TLP and sharing, and matching;
//! - [`guidance`]: the guidance pages for each audience;
//! - [`urls`]: reported URLs and their duplicate-detection key.
//!
//! Architecture invariant: images are never stored. The pure modules do no
//! IO beyond the bytes handed in; images given for hashing are dropped as
//! soon as they are hashed.

pub mod decode;
mod error;
pub mod guidance;
pub mod hashlist;
pub mod hotline;
pub mod index;
pub mod lists;
pub mod matcher;
pub mod pdq;
pub mod trace;
pub mod urls;

pub use error::CopError;
pub use pdq::{Hash256, PdqHash};
