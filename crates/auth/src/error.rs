use rampart_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AuthError {
    /// Wrong e-mail or password; deliberately does not say which.
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    #[error("too many failed attempts; try again after {until}")]
    Locked { until: String },
    #[error("this account is disabled")]
    Disabled,
    #[error("the code is not valid")]
    InvalidCode,
    #[error("not signed in")]
    Unauthenticated,
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed")]
    Hashing,
    #[error("the system random source failed")]
    Random,
}
