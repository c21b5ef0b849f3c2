//! Identity and access.
//!
//! Architecture invariant: every permission and TLP decision in Rampart is
//! made by `access` in this crate; handlers and exports ask it, they never
//! re-implement a rule. This crate knows no HTTP: the web crate turns cookies
//! and headers into the calls here.

pub mod access;
mod error;
pub mod password;
pub mod ratelimit;
pub mod secret;
pub mod service;
pub mod totp;

pub use access::{Grant, Principal, Scope, Shareable, Target, Via};
pub use error::AuthError;
pub use service::{AuthConfig, AuthService, LoginOutcome, NewUserRequest};
