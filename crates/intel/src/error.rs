use thiserror::Error;

#[derive(Debug, Error)]
pub enum IntelError {
    /// Not JSON at all; line and column are 1-based.
    #[error("line {line}, column {column}: {message}")]
    Syntax { line: usize, column: usize, message: String },
    /// JSON that breaks a STIX rule; `path` names the property (`objects[3].created`).
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("the document is {size} bytes; at most {limit} are accepted")]
    TooLarge { size: usize, limit: usize },
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A peer TAXII server could not be reached or answered wrongly.
    #[error("{url}: {message}")]
    Peer { url: String, message: String },
    #[error(transparent)]
    Store(#[from] rampart_store::StoreError),
}
