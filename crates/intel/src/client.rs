//! A TAXII 2.1 client for peer servers: list collections, page through a
//! collection's objects and add envelopes. Federation (`federation`) is
//! built on it; it speaks to any TAXII 2.1 server (Rampart, medallion, …).
//!
//! Peers are reached over HTTPS with the system's trust roots; plain HTTP
//! is accepted only for loopback addresses, so a test or a local proxy can
//! use it but a credential never crosses a network in clear.

use crate::IntelError;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::time::Duration;
use url::{Host, Url};

pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// A peer's answer larger than this is refused (the same bound as documents we accept).
const MAX_ANSWER_BYTES: usize = crate::stix::MAX_DOCUMENT_BYTES;
/// How long a request may take unless `with_timeout` says otherwise.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How to authenticate to a peer.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    #[default]
    None,
    /// An API token sent as `Authorization: Bearer` (Rampart peers).
    Bearer(String),
    /// HTTP Basic (medallion and most other servers).
    Basic { username: String, password: String },
}

// Credentials never appear in logs or debug output.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Bearer(_) => f.write_str("Bearer(…)"),
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, …)"),
        }
    }
}

/// One page of objects from a peer.
#[derive(Debug, Clone)]
pub struct ObjectsPage {
    pub objects: Vec<Value>,
    pub more: bool,
    pub next: Option<String>,
    /// `X-TAXII-Date-Added-Last`: where the next pull starts.
    pub last_added: Option<String>,
}

#[derive(Clone)]
pub struct TaxiiClient {
    api_root: Url,
    authorization: Option<HeaderValue>,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

fn peer_error(url: &Url, message: impl Into<String>) -> IntelError {
    IntelError::Peer { url: url.to_string(), message: message.into() }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

impl TaxiiClient {
    /// A client for the API root at `api_root` (e.g. `https://peer.example/taxii2/api/`).
    pub fn new(api_root: &str, credentials: &Credentials) -> Result<TaxiiClient, IntelError> {
        let invalid = |message: String| IntelError::Invalid { path: "api_root".into(), message };
        let mut api_root = Url::parse(api_root).map_err(|err| invalid(format!("{api_root:?} is not a URL: {err}")))?;
        match api_root.scheme() {
            "https" => {}
            "http" if is_loopback(&api_root) => {}
            "http" => return Err(invalid("use https: plain http is accepted only for loopback addresses".into())),
            other => return Err(invalid(format!("the scheme must be https, not {other}"))),
        }
        if !api_root.username().is_empty() || api_root.password().is_some() {
            return Err(invalid("put credentials in the peer's settings, not in the URL".into()));
        }
        if !api_root.path().ends_with('/') {
            let path = format!("{}/", api_root.path());
            api_root.set_path(&path);
        }
        let authorization = match credentials {
            Credentials::None => None,
            Credentials::Bearer(token) => Some(format!("Bearer {token}")),
            Credentials::Basic { username, password } => {
                Some(format!("Basic {}", data_encoding::BASE64.encode(format!("{username}:{password}").as_bytes())))
            }
        }
        .map(|text| {
            let mut value = HeaderValue::from_str(&text)
                .map_err(|_| IntelError::Invalid { path: "credentials".into(), message: "contains characters a header cannot".into() })?;
            value.set_sensitive(true);
            Ok::<_, IntelError>(value)
        })
        .transpose()?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .map_err(|err| IntelError::Peer { url: api_root.to_string(), message: format!("no trust roots: {err}") })?
            .https_or_http()
            .enable_http1()
            .build();
        let http = Client::builder(TokioExecutor::new()).build(connector);
        Ok(TaxiiClient { api_root, authorization, http, timeout: REQUEST_TIMEOUT })
    }

    /// The same client with another bound on each request's duration.
    pub fn with_timeout(mut self, timeout: Duration) -> TaxiiClient {
        self.timeout = timeout;
        self
    }

    pub fn api_root(&self) -> &str {
        self.api_root.as_str()
    }

    /// The API root with these path segments (each percent-encoded as a
    /// segment) and a trailing slash, as TAXII addresses end.
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, IntelError> {
        let mut url = self.api_root.clone();
        url.path_segments_mut()
            .map_err(|()| peer_error(&self.api_root, "this address cannot hold a path"))?
            .pop_if_empty()
            .extend(segments)
            .push("");
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Sends one request and returns the status, the headers and the JSON body.
    async fn send(&self, method: Method, url: &Url, body: Option<&Value>) -> Result<(StatusCode, hyper::HeaderMap, Value), IntelError> {
        let (status, headers, bytes) = self.send_raw(method, url, body).await?;
        let value: Value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        if value.is_null() && !bytes.is_empty() {
            return Err(peer_error(url, "the answer is not JSON"));
        }
        Ok((status, headers, value))
    }

    /// A page of a collection's objects, counted but not kept: what a load
    /// generator needs to follow `next` without building every object.
    pub async fn objects_count(&self, collection: &str, next: Option<&str>, limit: usize) -> Result<(usize, Option<String>), IntelError> {
        #[derive(serde::Deserialize)]
        struct Envelope {
            #[serde(default)]
            more: bool,
            next: Option<String>,
            #[serde(default)]
            objects: Vec<serde::de::IgnoredAny>,
        }
        let limit = limit.to_string();
        let mut query = vec![("match[version]", "all"), ("limit", limit.as_str())];
        if let Some(next) = next {
            query.push(("next", next));
        }
        let url = self.url(&["collections", collection, "objects"], &query)?;
        let (_, _, bytes) = self.send_raw(Method::GET, &url, None).await?;
        let page: Envelope = serde_json::from_slice(&bytes).map_err(|err| peer_error(&url, format!("not an envelope: {err}")))?;
        Ok((page.objects.len(), if page.more { page.next } else { None }))
    }

    /// Sends one request and returns the status, the headers and the body's bytes.
    async fn send_raw(&self, method: Method, url: &Url, body: Option<&Value>) -> Result<(StatusCode, hyper::HeaderMap, Bytes), IntelError> {
        let mut request = Request::builder().method(method).uri(url.as_str()).header(ACCEPT, MEDIA_TYPE);
        if let Some(value) = &self.authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        let payload = match body {
            Some(body) => {
                request = request.header(CONTENT_TYPE, MEDIA_TYPE);
                Full::new(Bytes::from(body.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(payload).map_err(|err| peer_error(url, err.to_string()))?;
        let exchange = async {
            let response = self.http.request(request).await.map_err(|err| peer_error(url, format!("cannot reach the peer: {err}")))?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|err| peer_error(url, format!("reading the answer: {err}")))?
                .to_bytes();
            Ok::<_, IntelError>((parts, bytes))
        };
        let (parts, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| peer_error(url, format!("no answer within {} s", self.timeout.as_secs_f64())))??;
        if !parts.status.is_success() {
            let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            // TAXII error objects carry a title and often a description.
            let detail = [value.get("title"), value.get("description")]
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(": ");
            let detail = if detail.is_empty() { String::from_utf8_lossy(&bytes).chars().take(200).collect() } else { detail };
            return Err(peer_error(url, format!("HTTP {}: {detail}", parts.status.as_u16())));
        }
        Ok((parts.status, parts.headers, bytes))
    }

    /// The API root's collections (`collections` of the TAXII answer).
    pub async fn collections(&self) -> Result<Vec<Value>, IntelError> {
        let url = self.url(&["collections"], &[])?;
        let (_, _, body) = self.send(Method::GET, &url, None).await?;
        Ok(body.get("collections").and_then(Value::as_array).cloned().unwrap_or_default())
    }

    /// One page of a collection's objects, every version, added after `added_after`.
    pub async fn objects(
        &self,
        collection: &str,
        added_after: Option<&str>,
        next: Option<&str>,
        limit: usize,
    ) -> Result<ObjectsPage, IntelError> {
        let limit = limit.to_string();
        let mut query = vec![("match[version]", "all"), ("limit", limit.as_str())];
        if let Some(after) = added_after {
            query.push(("added_after", after));
        }
        if let Some(next) = next {
            query.push(("next", next));
        }
        let url = self.url(&["collections", collection, "objects"], &query)?;
        let (_, headers, mut body) = self.send(Method::GET, &url, None).await?;
        if body.is_null() {
            return Ok(ObjectsPage { objects: Vec::new(), more: false, next: None, last_added: None });
        }
        // Taken out of the page rather than copied: pages are large.
        let objects = match body.get_mut("objects").map(Value::take) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(peer_error(&url, "objects is not a list")),
        };
        Ok(ObjectsPage {
            objects,
            more: body.get("more").and_then(Value::as_bool).unwrap_or(false),
            next: body.get("next").and_then(|n| n.as_str().map(str::to_owned).or_else(|| n.as_i64().map(|n| n.to_string()))),
            last_added: headers.get("x-taxii-date-added-last").and_then(|v| v.to_str().ok()).map(str::to_owned),
        })
    }

    /// Adds an envelope's objects; returns the peer's status resource.
    pub async fn add(&self, collection: &str, objects: &[Value]) -> Result<Value, IntelError> {
        let url = self.url(&["collections", collection, "objects"], &[])?;
        let envelope = serde_json::json!({ "objects": objects });
        let (_, _, status) = self.send(Method::POST, &url, Some(&envelope)).await?;
        Ok(status)
    }
}
