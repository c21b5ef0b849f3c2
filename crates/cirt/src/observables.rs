//! Observables extracted from free text (report bodies, e-mails, notes):
//! addresses, networks, domains, URLs, e-mail addresses, file hashes and CVE
//! ids. Defanged forms (`hxxp`, `[.]`, `[at]`, …) are refanged first, since
//! analysts and peers defang on purpose.

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Ipv4,
    Ipv6,
    Cidr,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
    Cve,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Cidr => "cidr",
            Kind::Domain => "domain",
            Kind::Url => "url",
            Kind::Email => "email",
            Kind::Md5 => "md5",
            Kind::Sha1 => "sha1",
            Kind::Sha256 => "sha256",
            Kind::Cve => "cve",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        [Kind::Ipv4, Kind::Ipv6, Kind::Cidr, Kind::Domain, Kind::Url, Kind::Email, Kind::Md5, Kind::Sha1, Kind::Sha256, Kind::Cve]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Observable {
    pub kind: Kind,
    /// Canonical value: lower-case for domains, hashes and e-mail; CVE upper.
    pub value: String,
}

struct Patterns {
    url: Regex,
    email: Regex,
    cve: Regex,
    hash: Regex,
    ipv4: Regex,
    ipv6: Regex,
    domain: Regex,
}

fn patterns() -> Option<&'static Patterns> {
    static PATTERNS: OnceLock<Option<Patterns>> = OnceLock::new();
    PATTERNS
        .get_or_init(|| {
            Some(Patterns {
                url: Regex::new(r#"(?i)\b(?:https?|ftp)://[^\s<>"'`]+"#).ok()?,
                email: Regex::new(r"(?i)\b[a-z0-9._%+-]+@(?:[a-z0-9-]+\.)+[a-z]{2,63}\b").ok()?,
                cve: Regex::new(r"(?i)\bCVE-\d{4}-\d{4,7}\b").ok()?,
                hash: Regex::new(r"\b[0-9a-fA-F]{32}(?:[0-9a-fA-F]{8})?(?:[0-9a-fA-F]{24})?\b").ok()?,
                ipv4: Regex::new(r"\b(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?\b").ok()?,
                ipv6: Regex::new(r"(?i)(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:/\d{1,3})?").ok()?,
                domain: Regex::new(r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\b").ok()?,
            })
        })
        .as_ref()
}

/// Undoes the usual defanging conventions.
pub fn refang(text: &str) -> String {
    let mut out = text.to_owned();
    for (from, to) in [
        ("hxxps://", "https://"),
        ("hxxp://", "http://"),
        ("hXXps://", "https://"),
        ("hXXp://", "http://"),
        ("HXXPS://", "https://"),
        ("HXXP://", "http://"),
        ("fxp://", "ftp://"),
        ("[://]", "://"),
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("[:]", ":"),
        ("[@]", "@"),
        ("[at]", "@"),
        ("(at)", "@"),
    ] {
        out = out.replace(from, to);
    }
    out
}

/// Words that look like domains but are file names.
const FILE_SUFFIXES: [&str; 24] = [
    "exe", "dll", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "zip", "rar", "txt", "png", "jpg", "jpeg", "gif", "js", "html", "htm", "php",
    "csv", "json", "xml", "log", "bin",
];

/// Extracts the distinct observables of a text, in order of kind then value.
pub fn extract(text: &str) -> Vec<Observable> {
    let Some(p) = patterns() else { return Vec::new() };
    let text = refang(text);
    let mut found = std::collections::BTreeSet::new();
    // Spans already claimed by URLs and e-mail addresses, so their hosts are
    // not reported a second time as bare domains.
    let mut claimed: Vec<(usize, usize)> = Vec::new();

    for m in p.url.find_iter(&text) {
        let url = m.as_str().trim_end_matches(['.', ',', ';', ':', ')', ']', '>', '!', '?', '\'', '"']);
        found.insert(Observable { kind: Kind::Url, value: url.to_owned() });
        claimed.push((m.start(), m.end()));
    }
    for m in p.email.find_iter(&text) {
        if claimed.iter().any(|(s, e)| m.start() >= *s && m.end() <= *e) {
            continue;
        }
        found.insert(Observable { kind: Kind::Email, value: m.as_str().to_ascii_lowercase() });
        claimed.push((m.start(), m.end()));
    }
    for m in p.cve.find_iter(&text) {
        found.insert(Observable { kind: Kind::Cve, value: m.as_str().to_ascii_uppercase() });
    }
    for m in p.hash.find_iter(&text) {
        let kind = match m.as_str().len() {
            32 => Kind::Md5,
            40 => Kind::Sha1,
            64 => Kind::Sha256,
            _ => continue,
        };
        found.insert(Observable { kind, value: m.as_str().to_ascii_lowercase() });
    }
    for m in p.ipv4.find_iter(&text) {
        if claimed.iter().any(|(s, e)| m.start() >= *s && m.end() <= *e) {
            continue;
        }
        let candidate = m.as_str();
        match candidate.split_once('/') {
            Some((address, length)) => {
                if let (Ok(address), Ok(length)) = (address.parse::<Ipv4Addr>(), length.parse::<u8>())
                    && let Ok(network) = ipnet::Ipv4Net::new(address, length)
                {
                    found.insert(Observable { kind: Kind::Cidr, value: network.trunc().to_string() });
                }
            }
            None => {
                if let Ok(address) = candidate.parse::<Ipv4Addr>() {
                    found.insert(Observable { kind: Kind::Ipv4, value: address.to_string() });
                }
            }
        }
        claimed.push((m.start(), m.end()));
    }
    for m in p.ipv6.find_iter(&text) {
        if claimed.iter().any(|(s, e)| m.start() >= *s && m.end() <= *e) {
            continue;
        }
        let candidate = m.as_str();
        // Times such as 12:30:45 match the shape; a real address parses.
        match candidate.split_once('/') {
            Some((address, length)) => {
                if let (Ok(address), Ok(length)) = (address.parse::<Ipv6Addr>(), length.parse::<u8>())
                    && let Ok(network) = ipnet::Ipv6Net::new(address, length)
                {
                    found.insert(Observable { kind: Kind::Cidr, value: network.trunc().to_string() });
                }
            }
            None => {
                if let Ok(address) = candidate.parse::<Ipv6Addr>() {
                    found.insert(Observable { kind: Kind::Ipv6, value: address.to_string() });
                }
            }
        }
    }
    for m in p.domain.find_iter(&text) {
        if claimed.iter().any(|(s, e)| m.start() >= *s && m.end() <= *e) {
            continue;
        }
        let domain = m.as_str().to_ascii_lowercase();
        let suffix = domain.rsplit('.').next().unwrap_or("");
        if FILE_SUFFIXES.contains(&suffix) || suffix.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        found.insert(Observable { kind: Kind::Domain, value: domain });
    }
    found.into_iter().collect()
}

/// Validates and canonicalises one observable given by a person or an API
/// client, naming what is wrong.
pub fn normalise(kind: Kind, value: &str) -> Result<Observable, String> {
    let refanged = refang(value.trim());
    let found = extract(&refanged);
    let exact = found.into_iter().find(|o| o.kind == kind);
    match exact {
        Some(observable) => Ok(observable),
        None => Err(format!("`{value}` is not a valid {}", kind.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, kind: Kind) -> Vec<String> {
        extract(text).into_iter().filter(|o| o.kind == kind).map(|o| o.value).collect()
    }

    #[test]
    fn extracts_every_kind_from_a_defanged_report() {
        let report = "Phishing kit at hxxps://login-secure[.]example[.]com/verify?id=7, contact abuse[at]example.net.\n\
            Hosts 203.0.113.7 and 198.51.100.0/24 (also 2001:db8::1 and 2001:db8:1::/48) talk to evil-c2[.]example.org.\n\
            Dropper invoice.exe md5 44D88612FEA8A8F36DE82E1278ABB02F sha1 3395856ce81f2b7382dee72602f798b642f14140\n\
            sha256 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f exploiting cve-2024-3400 at 12:30:45.";
        assert_eq!(values(report, Kind::Url), ["https://login-secure.example.com/verify?id=7"]);
        assert_eq!(values(report, Kind::Email), ["abuse@example.net"]);
        assert_eq!(values(report, Kind::Ipv4), ["203.0.113.7"]);
        assert_eq!(values(report, Kind::Cidr), ["198.51.100.0/24", "2001:db8:1::/48"]);
        assert_eq!(values(report, Kind::Ipv6), ["2001:db8::1"]);
        assert_eq!(values(report, Kind::Domain), ["evil-c2.example.org"]);
        assert_eq!(values(report, Kind::Md5), ["44d88612fea8a8f36de82e1278abb02f"]);
        assert_eq!(values(report, Kind::Sha1), ["3395856ce81f2b7382dee72602f798b642f14140"]);
        assert_eq!(values(report, Kind::Sha256), ["275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"]);
        assert_eq!(values(report, Kind::Cve), ["CVE-2024-3400"]);
    }

    #[test]
    fn rejects_lookalikes() {
        assert!(values("version 1.2.3.4567 and 999.1.1.1", Kind::Ipv4).is_empty());
        assert!(values("meeting at 10:30:00", Kind::Ipv6).is_empty());
        assert!(values("see report.pdf and setup.exe", Kind::Domain).is_empty());
        assert_eq!(values("host 10.0.0.5/8", Kind::Cidr), ["10.0.0.0/8"], "networks are truncated to their prefix");
        assert!(extract("").is_empty());
    }

    #[test]
    fn normalises_single_values() {
        assert_eq!(
            normalise(Kind::Domain, "Evil[.]Example[.]ORG"),
            Ok(Observable { kind: Kind::Domain, value: "evil.example.org".into() })
        );
        assert!(normalise(Kind::Ipv4, "300.1.1.1").is_err());
        assert!(normalise(Kind::Cve, "CVE-24-1").is_err());
    }
}
