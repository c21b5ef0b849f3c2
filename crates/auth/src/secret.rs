//! Random secrets and their stored hashes. Session ids, API tokens and
//! recovery codes are 256 random bits (codes 60): a plain SHA-256 suffices to
//! store them, unlike passwords, which get argon2id.

use crate::AuthError;
use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD, HEXLOWER};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0_u8; N];
    getrandom::fill(&mut bytes).map_err(|_| AuthError::Random)?;
    Ok(bytes)
}

/// A URL-safe random token of 256 bits.
pub fn random_token() -> Result<String, AuthError> {
    Ok(BASE64URL_NOPAD.encode(&random_bytes::<32>()?))
}

pub fn sha256_hex(text: &str) -> String {
    HEXLOWER.encode(&Sha256::digest(text.as_bytes()))
}

/// A recovery code people can type: ten base32 characters in two groups.
pub fn recovery_code() -> Result<String, AuthError> {
    let encoded = BASE32_NOPAD.encode(&random_bytes::<8>()?).to_ascii_lowercase();
    Ok(format!("{}-{}", &encoded[0..5], &encoded[5..10]))
}

/// Normalises what a person typed before hashing: case and dashes vary.
pub fn normalise_code(text: &str) -> String {
    let compact: String = text.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
    if compact.len() == 10 { format!("{}-{}", &compact[0..5], &compact[5..10]) } else { compact }
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_codes_normalise() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let code = recovery_code().unwrap();
        assert_eq!(code.len(), 11);
        assert_eq!(normalise_code(&code.to_uppercase().replace('-', " ")), code);
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
