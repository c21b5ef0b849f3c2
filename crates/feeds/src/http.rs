//! HTTP for the pipeline's edges: polling a report from a URL (with a
//! conditional GET, so an unchanged report is not read again) and
//! delivering stored events to a webhook. HTTPS with the system's trust
//! roots; plain HTTP only to loopback addresses. Answers are bounded in
//! size and time.

use crate::FeedError;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, USER_AGENT};
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;
use url::{Host, Url};

/// The largest report a poll reads; bigger ones belong in a folder.
pub const MAX_REPORT_BYTES: usize = 256 << 20;
/// The most of a webhook's answer that is read (for its error message).
const MAX_ANSWER_BYTES: usize = 64 << 10;

/// Checks an address given in a configuration: https anywhere, http only
/// to loopback, no credentials inside it.
pub fn check_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|err| format!("`{text}` is not a URL: {err}"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err("use https: plain http is accepted only for loopback addresses".into()),
        other => return Err(format!("the scheme must be https, not {other}")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("put credentials in `token`, not in the URL".into());
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

/// An HTTP(S) client with an optional bearer token.
#[derive(Clone)]
pub struct HttpClient {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    authorization: Option<HeaderValue>,
    timeout: Duration,
}

/// What a poll found.
#[derive(Debug)]
pub enum Polled {
    /// The server says the report has not changed since the last poll.
    Unchanged,
    Fresh {
        body: Bytes,
        validators: Validators,
    },
}

/// What the server said identifies the version it sent, for the next
/// conditional request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

fn http_error(url: &Url, message: impl std::fmt::Display) -> FeedError {
    FeedError::Http(format!("{url}: {message}"))
}

impl HttpClient {
    pub fn new(token: Option<&str>, timeout: Duration) -> Result<HttpClient, FeedError> {
        let authorization = token
            .map(|token| {
                let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|_| FeedError::field("token", "contains characters a header cannot"))?;
                value.set_sensitive(true);
                Ok::<_, FeedError>(value)
            })
            .transpose()?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .map_err(|err| FeedError::Http(format!("no trust roots: {err}")))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(HttpClient { http: Client::builder(TokioExecutor::new()).build(connector), authorization, timeout })
    }

    async fn exchange(
        &self,
        request: Request<Full<Bytes>>,
        url: &Url,
        limit: usize,
    ) -> Result<(hyper::http::response::Parts, Bytes), FeedError> {
        let exchange = async {
            let response = self.http.request(request).await.map_err(|err| http_error(url, format!("cannot reach it: {err}")))?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, limit)
                .collect()
                .await
                .map_err(|err| http_error(url, format!("reading the answer (at most {limit} bytes): {err}")))?
                .to_bytes();
            Ok::<_, FeedError>((parts, bytes))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| http_error(url, format!("no answer within {} s", self.timeout.as_secs())))?
    }

    fn request(&self, method: Method, url: &Url) -> hyper::http::request::Builder {
        let mut request =
            Request::builder().method(method).uri(url.as_str()).header(USER_AGENT, concat!("rampart/", env!("CARGO_PKG_VERSION")));
        if let Some(value) = &self.authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        request
    }

    /// GETs a report, conditionally on what the last poll was given.
    pub async fn poll(&self, url: &Url, last: &Validators) -> Result<Polled, FeedError> {
        let mut request = self.request(Method::GET, url);
        if let Some(etag) = &last.etag {
            request = request.header(IF_NONE_MATCH, etag.as_str());
        }
        if let Some(modified) = &last.last_modified {
            request = request.header(IF_MODIFIED_SINCE, modified.as_str());
        }
        let request = request.body(Full::new(Bytes::new())).map_err(|err| http_error(url, err))?;
        let (parts, body) = self.exchange(request, url, MAX_REPORT_BYTES).await?;
        if parts.status == StatusCode::NOT_MODIFIED {
            return Ok(Polled::Unchanged);
        }
        if !parts.status.is_success() {
            return Err(http_error(url, format!("HTTP {}", parts.status.as_u16())));
        }
        let header = |name| parts.headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned);
        Ok(Polled::Fresh { body, validators: Validators { etag: header(ETAG), last_modified: header(LAST_MODIFIED) } })
    }

    /// POSTs a JSON document; any answer but 2xx is an error naming the
    /// status and the start of the answer.
    pub async fn post_json(&self, url: &Url, body: Vec<u8>) -> Result<(), FeedError> {
        let request = self
            .request(Method::POST, url)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|err| http_error(url, err))?;
        let (parts, answer) = self.exchange(request, url, MAX_ANSWER_BYTES).await?;
        if !parts.status.is_success() {
            let text: String = String::from_utf8_lossy(&answer).chars().take(200).collect();
            return Err(http_error(url, format!("HTTP {}: {text}", parts.status.as_u16())));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_https_or_loopback_http_without_credentials() {
        assert!(check_url("https://feeds.example/report.csv").is_ok());
        assert!(check_url("http://127.0.0.1:8080/hook").is_ok());
        assert!(check_url("http://[::1]/hook").is_ok());
        assert!(check_url("http://feeds.example/report.csv").unwrap_err().contains("loopback"));
        assert!(check_url("ftp://feeds.example/report.csv").unwrap_err().contains("https"));
        assert!(check_url("https://user:secret@feeds.example/").unwrap_err().contains("token"));
        assert!(check_url("not a url").is_err());
    }
}
