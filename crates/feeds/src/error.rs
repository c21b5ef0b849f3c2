use rampart_store::StoreError;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum FeedError {
    /// A value that breaks a field's rule; `field` is the event field or
    /// the configuration key to fix.
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    /// A line of an input or configuration file that cannot be read.
    #[error("{source_name} line {line}: {message}")]
    Line { source_name: String, line: u64, message: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The on-disk journal is damaged beyond the torn tail a crash leaves.
    #[error("journal: {0}")]
    Journal(String),
    /// A MaxMind database that cannot be opened or read.
    #[error("geolocation database: {0}")]
    Geo(String),
    /// A polled report or a webhook that could not be reached or refused.
    #[error("http: {0}")]
    Http(String),
    /// The JetStream server of the distributed mode refused or did not answer.
    #[error("queue: {0}")]
    Queue(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FeedError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> FeedError {
        FeedError::Field { field: field.into(), message: message.into() }
    }

    pub fn line(source_name: impl Into<String>, line: u64, message: impl Into<String>) -> FeedError {
        FeedError::Line { source_name: source_name.into(), line, message: message.into() }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> FeedError {
        FeedError::Io { path: path.into(), source }
    }
}
