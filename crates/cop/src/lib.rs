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
//! Architecture invariant: no IO beyond the bytes handed in; images are never
//! stored.

pub mod decode;
mod error;
pub mod hashlist;
pub mod index;
pub mod matcher;
pub mod pdq;

pub use error::CopError;
pub use pdq::{Hash256, PdqHash};
