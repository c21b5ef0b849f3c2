use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CopError {
    /// An image that cannot or may not be decoded.
    #[error("image: {0}")]
    Image(String),
    /// A hash in text form that is not 64 hexadecimal digits.
    #[error("hash: {0}")]
    Hash(String),
}
