use rampart_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum GciError {
    /// A framework file that breaks a rule; `line` is 1-based in its file.
    #[error("{file} line {line}: {message}")]
    Framework { file: String, line: usize, message: String },
    /// Input that breaks a rule; `field` names what to fix.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A file refused as a whole, with every bad row named.
    #[error("{} bad row(s), nothing imported; {}", .0.len(), .0.first().cloned().unwrap_or_default())]
    Rows(Vec<String>),
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The record is in a state that does not allow the change.
    #[error("{0}")]
    State(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> GciError {
    GciError::Invalid { field: field.into(), message: message.into() }
}
