//! Challenge flags. A static flag is stored as SHA-256 over a random salt
//! and the flag (lower-cased first when it is case-insensitive), so a copy
//! of the database or an exported scenario does not give the answers away.
//! SHA-256 rather than a slow password hash: flags are long random strings
//! chosen by organisers, not human passwords, and the server must check
//! hundreds of submissions a second. A regular-expression flag is kept as
//! written (it cannot be hashed) and must match the whole submission.

use crate::error::{DrillsError, invalid};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest submission considered; anything longer is simply wrong.
pub const MAX_SUBMISSION: usize = 1_000;
const MAX_PATTERN: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagSpec {
    /// `static` or `regex`.
    pub kind: String,
    /// The flag in clear (static, before sealing) or the pattern (regex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    #[serde(default)]
    pub case_insensitive: bool,
}

fn digest(salt: &str, flag: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update([0u8]);
    hasher.update(flag.as_bytes());
    data_encoding::HEXLOWER.encode(&hasher.finalize())
}

fn new_salt() -> Result<String, DrillsError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|err| DrillsError::State(format!("no randomness for a flag salt: {err}")))?;
    Ok(data_encoding::HEXLOWER.encode(&bytes))
}

impl FlagSpec {
    pub fn static_flag(value: &str, case_insensitive: bool) -> FlagSpec {
        FlagSpec { kind: "static".into(), value: Some(value.to_owned()), sha256: None, salt: None, case_insensitive }
    }

    pub fn regex(pattern: &str, case_insensitive: bool) -> FlagSpec {
        FlagSpec { kind: "regex".into(), value: Some(pattern.to_owned()), sha256: None, salt: None, case_insensitive }
    }

    pub(crate) fn validate(&self, at: &str) -> Result<(), DrillsError> {
        match self.kind.as_str() {
            "static" => match (&self.value, &self.sha256, &self.salt) {
                (Some(value), None, None) if !value.trim().is_empty() && value.len() <= MAX_SUBMISSION => Ok(()),
                (Some(_), None, None) => Err(invalid(format!("{at}.value"), "a flag is 1 to 1000 characters")),
                (None, Some(hash), Some(salt)) => {
                    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
                    if hex(hash, 64) && hex(salt, 32) {
                        Ok(())
                    } else {
                        Err(invalid(format!("{at}.sha256"), "a sealed flag has a 64-digit hex sha256 and a 32-digit hex salt"))
                    }
                }
                _ => Err(invalid(at, "a static flag has either a value, or a sha256 with its salt")),
            },
            "regex" => {
                let pattern = self.value.as_deref().unwrap_or("");
                if pattern.is_empty() || pattern.len() > MAX_PATTERN {
                    return Err(invalid(format!("{at}.value"), "a pattern is 1 to 1000 characters"));
                }
                self.compile().map(|_| ()).map_err(|err| invalid(format!("{at}.value"), format!("is not a regular expression: {err}")))
            }
            other => Err(invalid(format!("{at}.kind"), format!("{other:?} is not static or regex"))),
        }
    }

    fn compile(&self) -> Result<regex::Regex, regex::Error> {
        let pattern = self.value.as_deref().unwrap_or("");
        regex::RegexBuilder::new(&format!("^(?:{pattern})$")).case_insensitive(self.case_insensitive).size_limit(1 << 20).build()
    }

    /// Replaces a clear static flag by its salted hash.
    pub fn seal(&mut self) -> Result<(), DrillsError> {
        if self.kind != "static" || self.value.is_none() {
            return Ok(());
        }
        let salt = new_salt()?;
        if let Some(value) = self.value.take() {
            let flag = if self.case_insensitive { value.trim().to_lowercase() } else { value.trim().to_owned() };
            self.sha256 = Some(digest(&salt, &flag));
            self.salt = Some(salt);
        }
        Ok(())
    }

    /// Does `submission` (surrounding blanks ignored) match this flag?
    pub fn matches(&self, submission: &str) -> bool {
        let submission = submission.trim();
        if submission.is_empty() || submission.len() > MAX_SUBMISSION {
            return false;
        }
        match self.kind.as_str() {
            "static" => {
                let candidate = if self.case_insensitive { submission.to_lowercase() } else { submission.to_owned() };
                match (&self.sha256, &self.salt, &self.value) {
                    (Some(hash), Some(salt), _) => digest(salt, &candidate) == *hash,
                    (None, None, Some(value)) => {
                        let value = if self.case_insensitive { value.trim().to_lowercase() } else { value.trim().to_owned() };
                        value == candidate
                    }
                    _ => false,
                }
            }
            "regex" => self.compile().is_ok_and(|re| re.is_match(submission)),
            _ => false,
        }
    }
}

/// Does the submission match any of the challenge's flags?
pub fn any_matches(flags: &[FlagSpec], submission: &str) -> bool {
    flags.iter().any(|flag| flag.matches(submission))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_static_flags_match_without_holding_the_flag() {
        let mut strict = FlagSpec::static_flag("RAMPART{Tel3com}", false);
        strict.seal().unwrap();
        assert!(strict.value.is_none());
        assert!(!serde_json::to_string(&strict).unwrap().contains("Tel3com"));
        assert!(strict.matches("RAMPART{Tel3com}"));
        assert!(strict.matches("  RAMPART{Tel3com}\n"));
        assert!(!strict.matches("rampart{tel3com}"));
        let mut loose = FlagSpec::static_flag("RAMPART{Tel3com}", true);
        loose.seal().unwrap();
        assert!(loose.matches("rampart{TEL3COM}"));
        assert!(!loose.matches("rampart{tel3co}"));
        assert!(strict.validate("f").is_ok());
    }

    #[test]
    fn regex_flags_match_the_whole_input() {
        let flag = FlagSpec::regex(r"10\.0\.0\.\d{1,3}", false);
        assert!(flag.matches("10.0.0.7"));
        assert!(!flag.matches("x10.0.0.7"), "anchored at the start");
        assert!(!flag.matches("10.0.0.7x"), "anchored at the end");
        let alternation = FlagSpec::regex("lockbit|blackcat", true);
        assert!(alternation.matches("LockBit"));
        assert!(!alternation.matches("lockbitblackcat"), "the alternation is grouped before anchoring");
        let broken = FlagSpec::regex("(unclosed", false);
        assert!(broken.validate("challenges[0].flags[0]").unwrap_err().to_string().contains("challenges[0].flags[0].value"));
    }
}
