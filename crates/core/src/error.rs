use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CoreError {
    #[error("{field}: unknown value `{value}`")]
    UnknownValue { field: &'static str, value: String },
    #[error("countries data line {line}: {message}")]
    CountryData { line: usize, message: String },
}
