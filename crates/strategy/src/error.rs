use rampart_gci::GciError;
use rampart_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StrategyError {
    /// A shipped data file that breaks a rule; `line` is 1-based in its file.
    #[error("{file} line {line}: {message}")]
    Data { file: String, line: usize, message: String },
    /// Input that breaks a rule; `field` names what to fix.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Gci(#[from] GciError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> StrategyError {
    StrategyError::Invalid { field: field.into(), message: message.into() }
}
