//! Listening: plain HTTP (behind a TLS-terminating proxy, or on loopback),
//! or HTTPS with rustls from certificate and key files.

use crate::{AppState, router};
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::ServiceExt;

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{path}: {message}")]
    Tls { path: PathBuf, message: String },
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Loads and checks the certificate chain and key; called once at start so
/// a bad file stops start-up with its name.
pub fn load_tls(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, ServeError> {
    let read = |path: &PathBuf| std::fs::read(path).map_err(|err| ServeError::Tls { path: path.clone(), message: err.to_string() });
    let cert_bytes = read(&files.certificate)?;
    let key_bytes = read(&files.key)?;
    let certs = rustls_pemfile::certs(&mut cert_bytes.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| ServeError::Tls { path: files.certificate.clone(), message: err.to_string() })?;
    if certs.is_empty() {
        return Err(ServeError::Tls { path: files.certificate.clone(), message: "no PEM certificate found".into() });
    }
    let key = rustls_pemfile::private_key(&mut key_bytes.as_slice())
        .map_err(|err| ServeError::Tls { path: files.key.clone(), message: err.to_string() })?
        .ok_or_else(|| ServeError::Tls { path: files.key.clone(), message: "no PEM private key found".into() })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| ServeError::Tls { path: files.certificate.clone(), message: err.to_string() })?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|err| ServeError::Tls { path: files.key.clone(), message: err.to_string() })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

pub async fn serve(
    state: AppState,
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = router(state);
    match tls {
        None => {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await?;
            Ok(())
        }
        Some(config) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            tokio::pin!(shutdown);
            loop {
                let (stream, peer) = tokio::select! {
                    accepted = listener.accept() => accepted?,
                    () = &mut shutdown => return Ok(()),
                };
                let acceptor = acceptor.clone();
                let app = app.clone();
                tokio::spawn(async move {
                    let Ok(tls_stream) = acceptor.accept(stream).await else { return };
                    let service = app.map_request(move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                        request.extensions_mut().insert(ConnectInfo(peer));
                        request
                    });
                    let hyper_service = TowerToHyperService::new(service);
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls_stream), hyper_service)
                        .await;
                });
            }
        }
    }
}
