//! HTTPS with rustls from certificate and key files: a real handshake over
//! loopback with a client that trusts only the test's own certificate, and
//! clear errors for bad files.

use crate::support::World;
use rampart_web::TlsFiles;
use rampart_web::server::load_tls;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn write_certificate(dir: &std::path::Path) -> (TlsFiles, Vec<u8>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let certificate = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&certificate, certified.cert.pem()).expect("write cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write key");
    (TlsFiles { certificate, key }, certified.cert.der().to_vec())
}

#[tokio::test]
async fn serves_https_with_the_configured_certificate() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("dir");
    let (files, der) = write_certificate(dir.path());
    let config = load_tls(&files).expect("certificate and key load");
    let world = World::new().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = tokio::spawn(rampart_web::serve(world.state.clone(), listener, Some(config), std::future::pending()));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(der)).expect("trust the test certificate");
    let client_config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.expect("write");
    let mut response = Vec::new();
    tls.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("ok"), "{text}");

    // A plain-HTTP request to the TLS port is not answered as HTTP.
    let mut plain = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    plain.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("write");
    let mut buffer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), plain.read_to_end(&mut buffer)).await;
    assert!(!String::from_utf8_lossy(&buffer).contains("200 OK"));
    server.abort();
}

#[test]
fn bad_certificate_files_are_named() {
    let dir = tempfile::tempdir().expect("dir");
    let (files, _) = write_certificate(dir.path());
    let missing = TlsFiles { certificate: dir.path().join("absent.pem"), key: files.key.clone() };
    let err = load_tls(&missing).expect_err("missing file");
    assert!(err.to_string().contains("absent.pem"), "{err}");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").expect("write");
    let err = load_tls(&TlsFiles { certificate: garbage.clone(), key: files.key.clone() }).expect_err("garbage cert");
    assert!(err.to_string().contains("garbage.pem") && err.to_string().contains("no PEM certificate"), "{err}");

    let err = load_tls(&TlsFiles { certificate: files.certificate.clone(), key: garbage }).expect_err("garbage key");
    assert!(err.to_string().contains("garbage.pem") && err.to_string().contains("no PEM private key"), "{err}");
}
