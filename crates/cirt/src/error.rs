use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CirtError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// Input refused at a path inside a structured body (`references[1].url`).
    #[error("{path}: {message}")]
    Field { path: String, message: String },
    #[error("cannot move an incident from {from} to {to}")]
    Transition { from: &'static str, to: &'static str },
}
