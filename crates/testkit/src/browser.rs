//! A real headless Chromium driven over WebDriver (Debian's chromium and
//! chromium-driver, which `.ci/run` installs), and the few steps every
//! browser test takes: sign in, fill, select, click and wait, read, snap.

#![allow(clippy::panic, clippy::expect_used, reason = "test fixtures: failing loudly is the point")]

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Driver {
    process: tokio::process::Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.start_kill();
    }
}

pub async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr").port()
}

pub async fn start_driver() -> Driver {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "the browser tests need Debian's chromium and chromium-driver: apt-get install chromium chromium-driver (.ci/run does this)"
    );
    let port = free_port().await;
    let process = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Driver { process, port };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

pub async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900", "--lang=en-GB", format!("--user-data-dir={}", profile.display())
            ]
        }),
    );
    ClientBuilder::rustls()
        .expect("tls connector")
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("start a Chromium session")
}

pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

pub async fn snap(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

pub async fn fill(client: &Client, css: &str, text: &str) {
    let element = client.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}"));
    element.clear().await.expect("clear");
    element.send_keys(text).await.expect("type");
}

/// Clicks something that submits a form or follows a link, and waits until
/// the browser has left the page, so the next step never races the
/// navigation.
pub async fn click(client: &Client, css: &str) {
    let old_page = client.find(Locator::Css("html")).await.expect("page");
    client.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}")).click().await.expect("click");
    for _ in 0..100 {
        if old_page.tag_name().await.is_err() {
            // The old document is gone; wait for the new one to finish loading.
            client.wait().for_element(Locator::Css("footer")).await.expect("new page loaded");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("clicking {css} did not leave the page");
}

pub async fn text_of(client: &Client, css: &str) -> String {
    client.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}")).text().await.expect("text")
}

pub async fn sign_in(client: &Client, base: &str, email: &str, password: &str) {
    client.goto(&format!("{base}/login")).await.expect("login page");
    fill(client, "#email", email).await;
    fill(client, "#password", password).await;
    click(client, "#sign-in").await;
}

pub async fn select(client: &Client, css: &str, value: &str) {
    client.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}")).select_by_value(value).await.expect("select");
}
