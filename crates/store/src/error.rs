use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database file {0} does not exist (pass --create to make a new one)")]
    MissingDatabase(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    #[error("{field}: {message}")]
    Conflict { field: &'static str, message: String },
    /// A client passed a cursor that is not one this list produced.
    #[error("cursor: is not a cursor from this list")]
    InvalidCursor,
    #[error("stored data is invalid: {0}")]
    InvalidData(String),
    #[error("a write transaction was committed without an audit entry")]
    Unaudited,
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            let field = unique_field(db.message());
            return StoreError::Conflict { field, message: "already exists".into() };
        }
        StoreError::Database(err)
    }
}

/// Names the field of a unique violation from either database's message, so
/// the user is told which value is taken.
fn unique_field(message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    if lower.contains("email") {
        "email"
    } else if (lower.contains("organisations") && lower.contains("name")) || lower.contains("sharing_groups") {
        "name"
    } else if lower.contains("role_grants") {
        "role"
    } else {
        "id"
    }
}
