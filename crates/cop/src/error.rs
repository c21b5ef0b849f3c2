use rampart_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CopError {
    /// An image that cannot or may not be decoded.
    #[error("image: {0}")]
    Image(String),
    /// A hash in text form that is not 64 hexadecimal digits.
    #[error("hash: {0}")]
    Hash(String),
    /// Input that breaks a rule; `field` names what to fix.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// A MaxMind database that cannot be opened or read.
    #[error("geolocation database: {0}")]
    GeoDatabase(String),
    /// A file refused as a whole, with every bad row named.
    #[error("{} bad row(s), nothing imported; {}", .0.len(), .0.first().cloned().unwrap_or_default())]
    Rows(Vec<String>),
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PartialEq for CopError {
    /// Tests compare the pure errors; store errors are never equal.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (CopError::Image(a), CopError::Image(b)) | (CopError::Hash(a), CopError::Hash(b)) => a == b,
            (CopError::Invalid { field: f1, message: m1 }, CopError::Invalid { field: f2, message: m2 }) => f1 == f2 && m1 == m2,
            (CopError::GeoDatabase(a), CopError::GeoDatabase(b)) => a == b,
            (CopError::Forbidden, CopError::Forbidden) => true,
            (CopError::Rows(a), CopError::Rows(b)) => a == b,
            (CopError::NotFound(a), CopError::NotFound(b)) => a == b,
            _ => false,
        }
    }
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> CopError {
    CopError::Invalid { field, message: message.into() }
}
