//! The CLI's errors and the one place they become exit codes.

use crate::config::ConfigError;
use rampart_auth::AuthError;
use rampart_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Database(String),
    #[error("audit chain broken: {0}")]
    AuditBroken(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// The same error, its message prefixed with where it arose (a file name).
    pub fn within(self, place: &str) -> CliError {
        match self {
            CliError::NotFound(m) => CliError::NotFound(format!("{place}: {m}")),
            CliError::Invalid(m) => CliError::Invalid(format!("{place}: {m}")),
            CliError::Other(m) => CliError::Other(format!("{place}: {m}")),
            other => other,
        }
    }

    /// 0 success; 1 other failure; 2 usage (clap); 3 configuration; 4 database
    /// missing or unreachable; 5 audit chain broken; 6 not found; 7 invalid input.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Other(_) => 1,
            CliError::Config(_) => 3,
            CliError::Database(_) => 4,
            CliError::AuditBroken(_) => 5,
            CliError::NotFound(_) => 6,
            CliError::Invalid(_) => 7,
        }
    }
}

impl From<StoreError> for CliError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { entity } => CliError::NotFound(format!("{entity} not found")),
            StoreError::Conflict { field, message } => CliError::Invalid(format!("{field}: {message}")),
            StoreError::InvalidCursor => CliError::Invalid(err.to_string()),
            StoreError::MissingDatabase(_) | StoreError::Database(_) | StoreError::Io { .. } | StoreError::Migration(_) => {
                CliError::Database(err.to_string())
            }
            other => CliError::Other(other.to_string()),
        }
    }
}

impl From<AuthError> for CliError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Store(store) => store.into(),
            AuthError::Invalid { field, message } => CliError::Invalid(format!("{field}: {message}")),
            other => CliError::Other(other.to_string()),
        }
    }
}

impl From<crate::demo::DemoError> for CliError {
    fn from(err: crate::demo::DemoError) -> Self {
        match err {
            crate::demo::DemoError::Auth(auth) => auth.into(),
            crate::demo::DemoError::Store(store) => store.into(),
            crate::demo::DemoError::Desk(desk) => CliError::Other(desk.to_string()),
            other => CliError::Invalid(other.to_string()),
        }
    }
}
