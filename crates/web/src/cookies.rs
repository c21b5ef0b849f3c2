//! Reading and writing the three cookies Rampart sets: the session, the
//! CSRF token and, for visitors who are not signed in, the language.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

pub const SESSION: &str = "rampart_session";
pub const CSRF: &str = "rampart_csrf";
pub const LANG: &str = "rampart_lang";

pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value. Session and CSRF cookies are HttpOnly: no script
/// of ours needs to read them (forms carry the CSRF token in the page).
pub fn set(name: &str, value: &str, secure: bool, max_age_seconds: Option<i64>) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age_seconds {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    cookie
}

pub fn clear(name: &str, secure: bool) -> String {
    set(name, "", secure, Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_a_cookie_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("a=1; rampart_session=abc; b=2"));
        assert_eq!(get(&headers, SESSION).as_deref(), Some("abc"));
        assert_eq!(get(&headers, "missing"), None);
        assert!(set(SESSION, "x", true, None).contains("; Secure"));
        assert!(clear(SESSION, false).contains("Max-Age=0"));
    }
}
