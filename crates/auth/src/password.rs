//! Passwords: argon2id with the crate's default (OWASP-recommended) cost,
//! stored as PHC strings so the cost can rise later without a migration.

use crate::AuthError;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

pub const MIN_LENGTH: usize = 12;

pub fn hash(password: &str) -> Result<String, AuthError> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|_| AuthError::Hashing)
}

pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real verification, so a login for an unknown
/// e-mail cannot be told apart from a wrong password by timing.
pub fn verify_dummy(password: &str) {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0eH1VOKgbWWaFp8Z5zw5U2XC0MvCtS7q04Y36/ZCdwQ";
    let _ = verify(password, DUMMY);
}

/// The password policy: long rather than complex (NIST SP 800-63B).
pub fn check_policy(password: &str, email: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(AuthError::Invalid { field: "password", message: format!("must be at least {MIN_LENGTH} characters") });
    }
    if password.chars().count() > 256 {
        return Err(AuthError::Invalid { field: "password", message: "must be at most 256 characters".into() });
    }
    if password.to_lowercase().contains(&email.to_lowercase()) {
        return Err(AuthError::Invalid { field: "password", message: "must not contain the e-mail address".into() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let one = hash("correct horse battery").unwrap();
        let two = hash("correct horse battery").unwrap();
        assert!(one.starts_with("$argon2id$"));
        assert_ne!(one, two);
        assert!(verify("correct horse battery", &one));
        assert!(!verify("correct horse batterz", &one));
        assert!(!verify("anything", "not a phc string"));
        verify_dummy("x");
    }

    #[test]
    fn policy_names_the_field() {
        assert!(check_policy("short", "a@b.c").is_err());
        assert!(check_policy("alice@example.org-long", "alice@example.org").is_err());
        assert!(check_policy("a long enough passphrase", "alice@example.org").is_ok());
    }
}
