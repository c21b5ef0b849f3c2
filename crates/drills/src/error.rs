use rampart_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DrillsError {
    /// Input that breaks a rule; `field` names what to fix (for files, the
    /// line and column or the JSON path).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The action does not fit the exercise's state (e.g. a flag after the end).
    #[error("{0}")]
    State(String),
    /// Too many wrong flags in the last minute; try again after the given seconds.
    #[error("too many wrong submissions; wait {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> DrillsError {
    DrillsError::Invalid { field: field.into(), message: message.into() }
}
