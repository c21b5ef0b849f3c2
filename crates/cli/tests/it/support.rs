//! Running the real `rampart` binary in a scratch directory with a clean
//! environment, and speaking raw HTTP/1.1 to a server it started.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_rampart");

/// Long enough for the slowest command (the demo seed hashes fourteen
/// passwords); a hung binary fails the test instead of hanging the run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(180);

/// How a finished command ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing both streams when it is wrong.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "exit code\n--- stdout ---\n{}\n--- stderr ---\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Run {
        self.expect_code(0)
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", self.stdout))
    }

    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// A scratch directory (the child's current directory) holding the
/// database `r.db`.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = dir.path().join("r.db");
        Sandbox { dir, db }
    }

    /// A sandbox whose database exists and is migrated.
    pub fn migrated() -> Sandbox {
        let sandbox = Sandbox::new();
        sandbox.run(&["migrate", "--create"]).ok();
        sandbox
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn db_text(&self) -> String {
        self.db.to_str().expect("UTF-8 path").to_owned()
    }

    /// The binary with no environment but PATH and HOME (so no RAMPART_*
    /// variable of the developer's leaks in), run in the sandbox.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(BIN);
        command.env_clear().current_dir(self.dir.path()).args(args).stdin(Stdio::null());
        for key in ["PATH", "HOME"] {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        for (key, value) in env {
            command.env(key, value);
        }
        command
    }

    /// `rampart --database <sandbox>/r.db ARGS`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let db = self.db_text();
        let mut all = vec!["--database", db.as_str()];
        all.extend_from_slice(args);
        self.run_raw(&all, env)
    }

    /// The binary with exactly these arguments (no `--database`).
    pub fn run_raw(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        finish(self.command(args, env), args)
    }

    /// Runs a closure against the sandbox database through the store
    /// crate, for tampering with it the way an attacker with file access
    /// could.
    pub fn with_store<T>(&self, db: &Path, work: impl AsyncFnOnce(&rampart_store::Store) -> T) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let location = rampart_store::Location::Sqlite(db.to_path_buf());
            let store = rampart_store::Store::open(&location, rampart_store::OpenMode::ExistingOnly).await.expect("open database");
            let result = work(&store).await;
            store.close().await;
            result
        })
    }

    /// Executes raw SQL on a database file; returns the rows affected.
    pub fn execute_sql(&self, db: &Path, sql: &str) -> u64 {
        self.with_store(db, async |store| store.execute_raw_for_tests(sql).await.expect("raw SQL"))
    }
}

fn finish(mut command: Command, args: &[&str]) -> Run {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start rampart");
    let stdout = drain(child.stdout.take().expect("stdout"));
    let stderr = drain(child.stderr.take().expect("stderr"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > COMMAND_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rampart {args:?} did not finish within {COMMAND_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run { code: status.code().unwrap_or(-1), stdout: stdout.join().expect("stdout reader"), stderr: stderr.join().expect("stderr reader") }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The TAXII 2.1 media type, for requests the TAXII tests send by hand.
pub const TAXII_MEDIA: &str = "application/taxii+json;version=2.1";
/// The password the threat-intelligence tests give their users.
const TEST_PASSWORD: &str = "a long enough password";

/// Set-up through the command line, as an operator would do it.
impl Sandbox {
    /// A national CIRT.
    pub fn add_cirt(&self, name: &str, country: &str) {
        self.run(&["org", "create", "--name", name, "--kind", "national_cirt", "--country", country]).ok();
    }

    pub fn add_user(&self, email: &str, org: &str, role: &str) {
        self.run(&["user", "create", "--email", email, "--name", email, "--org", org, "--password", TEST_PASSWORD, "--role", role]).ok();
    }

    /// A new API token of `email` carrying `role`.
    pub fn token(&self, email: &str, role: &str) -> String {
        let run = self.run(&["user", "token", email, "--name", "taxii", "--role", role, "--json"]);
        run.ok();
        run.json()["token"].as_str().expect("token").to_owned()
    }

    /// A TAXII collection made by `acting`; its id.
    pub fn taxii_collection(&self, acting: &str, title: &str, readers: &[&str], writers: &[&str]) -> String {
        let mut args = vec!["intel", "collection-create", "--as", acting, "--title", title];
        for reader in readers {
            args.extend(["--reader", reader]);
        }
        for writer in writers {
            args.extend(["--writer", writer]);
        }
        let run = self.run(&args);
        run.ok();
        run.stdout.trim().to_owned()
    }
}

/// A running `rampart serve`; killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    /// Everything printed on stdout after the banner, line by line.
    pub lines: mpsc::Receiver<String>,
    log: PathBuf,
}

pub const START_TIMEOUT: Duration = Duration::from_secs(60);

impl Server {
    /// Starts `rampart --database <db> serve --bind 127.0.0.1:0 ARGS` and
    /// waits (at most a minute) for the line announcing the address.
    pub fn start(sandbox: &Sandbox, args: &[&str]) -> Server {
        let db = sandbox.db_text();
        let mut all = vec!["--database", db.as_str(), "serve", "--bind", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let log = sandbox.path(&format!("serve-{}.log", next_log_number()));
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut child =
            sandbox.command(&all, &[]).stdout(Stdio::piped()).stderr(Stdio::from(log_file)).spawn().expect("start rampart serve");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let banner = match receiver.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("rampart serve printed no address ({err}); its log:\n{log_text}");
            }
        };
        let prefix = "Rampart is serving at http://127.0.0.1:";
        let rest = banner.strip_prefix(prefix).unwrap_or_else(|| panic!("unexpected first line: {banner}"));
        let (port, after) = rest.split_once('/').unwrap_or_else(|| panic!("no port in: {banner}"));
        let port: u16 = port.parse().unwrap_or_else(|_| panic!("bad port in: {banner}"));
        assert_ne!(port, 0, "{banner}");
        assert_eq!(after, format!("  (database: sqlite:{db})"), "{banner}");
        Server { child, port, lines: receiver, log }
    }

    /// The next stdout line, waiting at most a few seconds.
    pub fn next_line(&self) -> String {
        self.lines.recv_timeout(Duration::from_secs(10)).expect("another line on stdout")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        http(self.port, "GET", path, headers, None)
    }

    pub fn post_form(&self, path: &str, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        let mut all = headers.to_vec();
        all.push(("Content-Type", "application/x-www-form-urlencoded"));
        http(self.port, "POST", path, &all, Some(body))
    }

    /// GETs /login for a CSRF cookie, then posts the sign-in form with it.
    pub fn login(&self, email: &str, password: &str) -> HttpResponse {
        let form = self.get("/login", &[]);
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.cookie("rampart_csrf").expect("GET /login sets the CSRF cookie");
        assert!(form.body.contains(&format!("name=\"csrf\" value=\"{csrf}\"")), "the form carries the cookie's token");
        let cookie = format!("rampart_csrf={csrf}");
        let body = format!("email={}&password={}&csrf={}", form_encode(email), form_encode(password), form_encode(&csrf));
        self.post_form("/login", &[("Cookie", &cookie)], &body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A per-call number so two servers in one sandbox log to different files.
fn next_log_number() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn form_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(byte)),
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The value a `Set-Cookie` header gives the cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(key, _)| key == "set-cookie")
            .filter_map(|(_, value)| value.split(';').next()?.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    }
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`).
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> HttpResponse {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to rampart");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("read timeout");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nUser-Agent: rampart-cli-test\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or("");
    if method != "GET" {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| panic!("no header end in {raw:?}"));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body_bytes = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    assert_eq!(parts.next(), Some("HTTP/1.1"), "{status_line}");
    let status: u16 = parts.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("bad status line {status_line}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(body_bytes) } else { body_bytes.to_vec() };
    if let Some(length) = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse::<usize>().ok()) {
        assert_eq!(body.len(), length, "body length matches Content-Length");
    }
    HttpResponse { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

fn dechunk(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = bytes.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).expect("chunk size");
        bytes = &bytes[end + 2..];
        if size == 0 {
            break;
        }
        out.extend_from_slice(&bytes[..size]);
        bytes = &bytes[size + 2..];
    }
    out
}
