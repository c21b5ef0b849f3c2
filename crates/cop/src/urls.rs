//! Reported URLs: taking what a reporter pasted (often defanged, sometimes
//! without a scheme) and reducing it to a key under which the same content
//! reported twice is recognised, so an analyst never assesses it again.

use crate::CopError;
use crate::error::invalid;

/// A reported URL, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedUrl {
    /// As it will be shown to analysts (refanged, parsed and re-serialised).
    pub url: String,
    /// The duplicate-detection key.
    pub normalised: String,
    /// The host name or address, lower case.
    pub host: String,
}

/// Undoes the usual defanging: `hxxp`, `[.]`, `(.)`, `[:]`.
fn refang(text: &str) -> String {
    let mut out = text.trim().replace("[.]", ".").replace("(.)", ".").replace("{.}", ".").replace("[:]", ":").replace("[/]", "/");
    for (from, to) in [("hxxps://", "https://"), ("hxxp://", "http://"), ("hXXps://", "https://"), ("hXXp://", "http://")] {
        if out.len() >= from.len() && out[..from.len()].eq_ignore_ascii_case(from) {
            out = format!("{to}{}", &out[from.len()..]);
        }
    }
    out
}

/// Parses one reported URL. A missing scheme means `http`; only web
/// addresses are accepted.
pub fn parse(text: &str) -> Result<ReportedUrl, CopError> {
    let refanged = refang(text);
    if refanged.is_empty() {
        return Err(invalid("urls", "is empty"));
    }
    if refanged.chars().count() > 4096 {
        return Err(invalid("urls", "a URL is longer than 4096 characters"));
    }
    // `mailto:x`, `javascript:x`: a scheme without `//` is not a web
    // address (`host:8080/x` is: a port starts with a digit).
    if let Some((scheme, rest)) = refanged.split_once(':')
        && !rest.starts_with("//")
        && !scheme.is_empty()
        && scheme.chars().all(|c| c.is_ascii_alphabetic())
        && !rest.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(invalid("urls", format!("`{}` is not an http or https address", text.trim())));
    }
    let with_scheme = if refanged.contains("://") { refanged } else { format!("http://{refanged}") };
    let url = url::Url::parse(&with_scheme).map_err(|err| invalid("urls", format!("`{}` is not a web address: {err}", text.trim())))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("urls", format!("`{}` is not an http or https address", text.trim())));
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| invalid("urls", format!("`{}` has no host", text.trim())))?;
    let host = host.to_ascii_lowercase();
    // Content on the web has a public name or address; a single word is a
    // typo or part of a sentence, not a host.
    if !host.contains('.') && !host.contains(':') {
        return Err(invalid("urls", format!("`{}` has no domain name", text.trim())));
    }
    Ok(ReportedUrl { normalised: normalise(&url, &host), url: url.to_string(), host })
}

/// The key: host without `www.`, the port if not the default, the path
/// without a trailing slash, the query with tracking parameters removed and
/// the rest sorted; no scheme (the same content is usually served over both)
/// and no fragment (it never reaches the server).
fn normalise(url: &url::Url, host: &str) -> String {
    let host = host.strip_prefix("www.").unwrap_or(host);
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = url.path();
    let path = if path.len() > 1 { path.trim_end_matches('/') } else { "" };
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !key.starts_with("utm_") && key != "fbclid" && key != "gclid")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    let query = if pairs.is_empty() {
        String::new()
    } else {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &pairs {
            serializer.append_pair(key, value);
        }
        format!("?{}", serializer.finish())
    };
    format!("{host}{port}{path}{query}")
}

/// Splits a pasted block (one URL per line, or separated by spaces) into
/// URLs, each parsed; the first bad one is named.
pub fn parse_many(text: &str) -> Result<Vec<ReportedUrl>, CopError> {
    let mut urls: Vec<ReportedUrl> = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        for word in line.split_whitespace() {
            let parsed = parse(word).map_err(|err| match err {
                CopError::Invalid { message, .. } => invalid("urls", format!("line {}: {message}", line_no + 1)),
                other => other,
            })?;
            if !urls.iter().any(|u| u.normalised == parsed.normalised) {
                urls.push(parsed);
            }
        }
    }
    if urls.is_empty() {
        return Err(invalid("urls", "give at least one web address"));
    }
    if urls.len() > 50 {
        return Err(invalid("urls", "at most 50 addresses per report"));
    }
    Ok(urls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> String {
        parse(text).map(|u| u.normalised).unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn the_same_page_written_differently_has_one_key() {
        let forms = [
            "http://Example.com/a/b/",
            "https://www.example.com/a/b",
            "hxxps://www[.]example[.]com/a/b#top",
            "example.com/a/b?utm_source=x",
            "HTTP://EXAMPLE.COM:80/a/./b",
        ];
        for form in forms {
            assert_eq!(key(form), "example.com/a/b", "{form}");
        }
        assert_eq!(key("http://example.com/?b=2&a=1"), "example.com?a=1&b=2");
        assert_eq!(key("http://example.com:8080/x"), "example.com:8080/x");
        assert_ne!(key("http://example.com/a"), key("http://example.com/A"), "paths are case-sensitive");
        assert_eq!(key("http://Bücher.example/"), "xn--bcher-kva.example");
    }

    #[test]
    fn refuses_what_is_not_a_web_address_and_names_the_line() {
        assert!(parse("ftp://example.com/x").is_err());
        assert!(parse("mailto:someone@example.com").is_err());
        assert!(parse("   ").is_err());
        assert!(parse("http://").is_err());
        let err = parse_many("http://a.example/1\nhttp://exa mple.com/\nhttp://[::1/").map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("line 2"), "a word is not a host: {err}");
        let err = parse_many("http://a.example/1\nhttp://[::1/").map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(parse("http://[2001:db8::1]/x").is_ok() && parse("203.0.113.9/x").is_ok());
        assert!(parse_many("").is_err());
        let urls = parse_many("http://a.example/1 https://a.example/1/\nhttp://b.example").unwrap_or_default();
        assert_eq!(urls.len(), 2, "duplicates within one report collapse");
    }
}
