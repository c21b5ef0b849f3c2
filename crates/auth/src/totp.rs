//! RFC 6238 time-based one-time passwords: SHA-1, 6 digits, 30-second steps,
//! as every authenticator app expects; one step of clock skew either way.

use crate::AuthError;
use chrono::{DateTime, Utc};
use totp_rs::{Algorithm, Builder, Secret, Totp};

pub const STEP_SECONDS: u64 = 30;

fn build(secret_base32: &str, email: &str) -> Result<Totp, AuthError> {
    let secret = Secret::try_from_base32(secret_base32).map_err(|_| AuthError::InvalidCode)?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret)
        .with_issuer(Some("Rampart"))
        .with_account_name(email)
        .build()
        .map_err(|_| AuthError::InvalidCode)
}

/// A new 160-bit secret, base32 encoded.
pub fn new_secret() -> Result<String, AuthError> {
    let bytes = crate::secret::random_bytes::<20>()?;
    Ok(Secret::from(bytes.to_vec()).to_base32())
}

/// The `otpauth://` URI an authenticator app imports.
pub fn provisioning_uri(secret_base32: &str, email: &str) -> Result<String, AuthError> {
    build(secret_base32, email)?.to_url().map_err(|_| AuthError::InvalidCode)
}

fn unix_seconds(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or(0)
}

/// The code for a moment; used by tests and the browser test's "phone".
pub fn code_at(secret_base32: &str, at: DateTime<Utc>) -> Result<String, AuthError> {
    Ok(build(secret_base32, "x")?.generate(unix_seconds(at)).to_string())
}

/// Checks a code against the current step and its neighbours and returns the
/// step it matched, so the caller can refuse a replay of the same step.
pub fn verify(secret_base32: &str, code: &str, at: DateTime<Utc>) -> Result<Option<i64>, AuthError> {
    let totp = build(secret_base32, "x")?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    Ok(totp.check(&code, unix_seconds(at)).map(|step| i64::try_from(step).unwrap_or(i64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rfc_6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s gives
        // 94287082 with 8 digits; the last 6 digits are what a 6-digit app shows.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let at = Utc.timestamp_opt(59, 0).single().unwrap();
        assert_eq!(code_at(&secret, at).unwrap(), "287082");
        let at = Utc.timestamp_opt(1_111_111_109, 0).single().unwrap();
        assert_eq!(code_at(&secret, at).unwrap(), "081804");
    }

    #[test]
    fn accepts_one_step_of_skew_and_reports_the_step() {
        let secret = new_secret().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 10).single().unwrap();
        let step = now.timestamp() / 30;
        let code = code_at(&secret, now).unwrap();
        assert_eq!(verify(&secret, &code, now).unwrap(), Some(step));
        let late = now + chrono::Duration::seconds(30);
        assert_eq!(verify(&secret, &code, late).unwrap(), Some(step));
        let too_late = now + chrono::Duration::seconds(90);
        assert_eq!(verify(&secret, &code, too_late).unwrap(), None);
        assert!(provisioning_uri(&secret, "a@b.org").unwrap().starts_with("otpauth://totp/Rampart:a%40b.org?"));
    }
}
