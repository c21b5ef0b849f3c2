//! The CSAF 2.0 provider layout, for CSAF tools and aggregators:
//!
//! - `/.well-known/csaf/provider-metadata.json`: the provider of the CIRT
//!   that first published here (a national deployment has one);
//! - `/csaf/{org}/provider-metadata.json` for every publishing CIRT;
//! - `/csaf/{org}/{white|green|amber|red}/` with `index.txt`,
//!   `changes.csv`, `csaf-feed-tlp-{label}.json` (ROLIE) and
//!   `{year}/{file}.json` with `.sha256`, `.sha512` and, when a signing key
//!   is configured, `.asc`;
//! - `/csaf/{org}/openpgp/{fingerprint}.asc`: the signing key.
//!
//! TLP:WHITE is open to anyone. The other folders need a session or an API
//! token (Bearer, or Basic with the token as password) and list only what
//! the access layer lets the reader see; anonymous requests for them get
//! 401 so a CSAF downloader knows to authenticate.

use crate::AppState;
use crate::error::{PageError, WebError};
use crate::viewer::{Viewer, bearer_token};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rampart_auth::Principal;
use rampart_cirt::provider::{self, Listed, Place, PublicKey};
use rampart_store::Organisation;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/csaf/provider-metadata.json", get(well_known))
        .route("/.well-known/security.txt", get(security_txt))
        .route("/csaf/{org}/provider-metadata.json", get(metadata))
        .route("/csaf/{org}/{folder}/{name}", get(folder_file))
        .route("/csaf/{org}/{folder}/{year}/{file}", get(document))
}

/// The reader: an API token if one is presented, else the session. A token
/// that is wrong or expired gets the downloader a 401 (never the HTML
/// sign-in page), so it knows to renew its credentials.
async fn reader(state: &AppState, viewer: &Viewer, headers: &HeaderMap) -> Result<Result<Option<Principal>, Response>, PageError> {
    if let Some(token) = bearer_token(headers) {
        return Ok(match state.auth().token_principal(&token).await? {
            Some(principal) => Ok(Some(principal)),
            None => Err(unauthenticated()),
        });
    }
    Ok(Ok(viewer.principal.clone().filter(|p| !p.must_set_up_mfa)))
}

fn place(state: &AppState, org: &Organisation, well_known: bool) -> Place {
    let base_url = state.desk().public_url();
    let base = format!("{base_url}/csaf/{}", org.id);
    let metadata_url =
        if well_known { format!("{base_url}/.well-known/csaf/provider-metadata.json") } else { format!("{base}/provider-metadata.json") };
    Place { base, metadata_url }
}

fn with_type(body: String, content_type: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn json_response(value: &serde_json::Value) -> Result<Response, PageError> {
    let body = serde_json::to_string_pretty(value).map_err(|err| WebError::Internal(err.to_string()))?;
    Ok(with_type(body, "application/json"))
}

/// A 401 that names the scheme, for CSAF downloaders.
fn unauthenticated() -> Response {
    let mut response = (StatusCode::UNAUTHORIZED, "authentication required for this TLP\n").into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"rampart-csaf\""));
    response
}

async fn provider(state: &AppState, key: &str) -> Result<Organisation, PageError> {
    Ok(state.desk().provider_org(key).await?)
}

fn public_key(state: &AppState, org: &Organisation) -> Option<PublicKey> {
    let signer = state.desk().signer()?;
    let base = place(state, org, false).base;
    Some(PublicKey { fingerprint: signer.fingerprint().to_owned(), url: format!("{base}/openpgp/{}.asc", signer.fingerprint()) })
}

async fn metadata_of(state: &AppState, org: &Organisation, reader: Option<&Principal>, well_known: bool) -> Result<Response, PageError> {
    let listed = state.desk().provider_listing(reader, org).await?;
    let now = rampart_core::time::format(state.auth().now());
    let publisher = state.desk().provider_publisher(org).await?;
    let document = provider::metadata(&place(state, org, well_known), &publisher, &listed, public_key(state, org).as_ref(), &now);
    json_response(&document)
}

async fn well_known(State(state): State<AppState>, viewer: Viewer, headers: HeaderMap) -> Result<Response, PageError> {
    let reader = match reader(&state, &viewer, &headers).await? {
        Ok(reader) => reader,
        Err(refused) => return Ok(refused),
    };
    let org = state.desk().primary_provider().await?;
    metadata_of(&state, &org, reader.as_ref(), true).await
}

async fn metadata(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Result<Response, PageError> {
    let reader = match reader(&state, &viewer, &headers).await? {
        Ok(reader) => reader,
        Err(refused) => return Ok(refused),
    };
    let org = provider(&state, &org).await?;
    metadata_of(&state, &org, reader.as_ref(), false).await
}

/// RFC 9116 security.txt, pointing CSAF tools at the provider metadata.
async fn security_txt(State(state): State<AppState>) -> Result<Response, PageError> {
    let org = state.desk().primary_provider().await?;
    let base = state.desk().public_url();
    let contact = state.desk().store().contacts_of(&org.id).await?.into_iter().next().map(|c| c.email);
    let mut text = String::new();
    if let Some(email) = contact {
        text.push_str(&format!("Contact: mailto:{email}\n"));
    }
    let expires = state.auth().now() + chrono::Duration::days(180);
    text.push_str(&format!("Expires: {}\n", expires.format("%Y-%m-%dT%H:%M:%SZ")));
    text.push_str(&format!("CSAF: {base}/.well-known/csaf/provider-metadata.json\n"));
    Ok(with_type(text, "text/plain; charset=utf-8"))
}

const FOLDERS: [&str; 4] = ["white", "green", "amber", "red"];

/// The releases of one TLP folder that the reader may see; an anonymous
/// reader asking for a protected folder is told to authenticate.
async fn folder_listing(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    org: &str,
    folder: &str,
) -> Result<Result<(Organisation, Vec<Listed>, Option<Principal>), Response>, PageError> {
    if !FOLDERS.contains(&folder) {
        return Err(PageError(WebError::NotFound("folder")));
    }
    let reader = match reader(state, viewer, headers).await? {
        Ok(reader) => reader,
        Err(refused) => return Ok(Err(refused)),
    };
    if folder != "white" && reader.is_none() {
        return Ok(Err(unauthenticated()));
    }
    let org = provider(state, org).await?;
    let listed: Vec<Listed> = state
        .desk()
        .provider_listing(reader.as_ref(), &org)
        .await?
        .into_iter()
        .filter(|l| rampart_cirt::advisory::tlp_folder(l.tlp) == folder)
        .collect();
    Ok(Ok((org, listed, reader)))
}

async fn folder_file(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((org, folder, name)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    if folder == "openpgp" {
        provider(&state, &org).await?;
        let signer = state.desk().signer().ok_or(WebError::NotFound("key"))?;
        if name != format!("{}.asc", signer.fingerprint()) {
            return Err(PageError(WebError::NotFound("key")));
        }
        return Ok(with_type(signer.public_armored().to_owned(), "application/pgp-keys"));
    }
    let (org, listed, _) = match folder_listing(&state, &viewer, &headers, &org, &folder).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    match name.as_str() {
        "index.txt" => Ok(with_type(provider::index_txt(&listed, &folder), "text/plain; charset=utf-8")),
        "changes.csv" => Ok(with_type(provider::changes_csv(&listed, &folder), "text/csv; charset=utf-8")),
        feed if feed == format!("csaf-feed-tlp-{folder}.json") => {
            let now = rampart_core::time::format(state.auth().now());
            json_response(&provider::rolie_feed(&place(&state, &org, false), &listed, &folder, &now))
        }
        _ => Err(PageError(WebError::NotFound("file"))),
    }
}

async fn document(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((org, folder, year, file)): Path<(String, String, String, String)>,
) -> Result<Response, PageError> {
    let (_, listed, _) = match folder_listing(&state, &viewer, &headers, &org, &folder).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    let year: i64 = year.parse().map_err(|_| WebError::NotFound("file"))?;
    let (base, kind) = if let Some(base) = file.strip_suffix(".sha256") {
        (base, "sha256")
    } else if let Some(base) = file.strip_suffix(".sha512") {
        (base, "sha512")
    } else if let Some(base) = file.strip_suffix(".asc") {
        (base, "asc")
    } else {
        (file.as_str(), "json")
    };
    let found = listed.iter().find(|l| l.release.year == year && l.release.file_name == base).ok_or(WebError::NotFound("file"))?;
    match kind {
        "sha256" => Ok(with_type(provider::hash_file(&found.release.sha256, base), "text/plain; charset=utf-8")),
        "sha512" => Ok(with_type(provider::hash_file(&found.release.sha512, base), "text/plain; charset=utf-8")),
        "asc" => match &found.release.signature {
            Some(signature) => Ok(with_type(signature.clone(), "application/pgp-signature")),
            None => Err(PageError(WebError::NotFound("signature"))),
        },
        _ => {
            let (_, content) = state.desk().store().release_content(&found.release.advisory_id, &found.release.version).await?;
            Ok(with_type(content, "application/json"))
        }
    }
}
