//! A real CNCF distribution registry (`docker-registry`, Debian package,
//! distribution 2.8.x) started on a free loopback port for one test.
//!
//! Storage, config, htpasswd file and the process log all live in a tempdir
//! that disappears with the `RealRegistry`. The process is killed on Drop.
//!
//! Behaviour of distribution 2.8.2 worth knowing when writing tests:
//! - `_catalog` paginates (`n` <= 1000, else 400 PAGINATION_NUMBER_INVALID;
//!   `Link: </v2/_catalog?last=X&n=N>; rel="next"`, relative, absent on the
//!   last page); `tags/list` ignores `n`/`last`, never sends `Link`, and its
//!   order is not sorted. Tag pagination needs a fake server.
//! - GET manifest answers `Content-Type` = the manifest's `mediaType`. An OCI
//!   manifest or index whose type is not in `Accept` gives 404
//!   MANIFEST_UNKNOWN; a docker list is answered with its linux/amd64 child
//!   and a schema 2 image without `Accept` is converted to signed schema 1
//!   (other digest!). Schema 1 pushes are rejected (400 MANIFEST_INVALID).
//! - PUT checks `Content-Type` against `mediaType`, and that config, layers
//!   and index children exist (400 MANIFEST_BLOB_UNKNOWN); nested indexes
//!   and OCI children in a docker list are accepted.
//! - DELETE of a manifest by digest also removes its tags; the repository
//!   stays in the catalog and `tags/list` then says `"tags": null`.
//! - Blobs are served directly (no redirect) by the filesystem driver.
//! - stdout gets a combined-format access log, stderr logrus lines; both go
//!   to `log()`, and `request_count` reads the access-log lines only.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = "docker-registry";
const READY_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_INTERVAL: Duration = Duration::from_millis(25);
const START_ATTEMPTS: usize = 3;

/// `auth: token` settings; the test provides the token server itself.
#[derive(Debug, Clone)]
pub struct TokenAuthConfig {
    pub realm: String,
    pub service: String,
    pub issuer: String,
    /// PEM file with the certificate(s) whose keys sign the tokens.
    pub rootcertbundle_path: PathBuf,
}

#[derive(Debug, Clone)]
enum Auth {
    Anonymous,
    Htpasswd { user: String, password: String },
    Token(TokenAuthConfig),
}

pub struct RealRegistry {
    child: Child,
    port: u16,
    log_path: PathBuf,
    // Dropped after `child` is killed (see Drop); keeps storage alive.
    dir: tempfile::TempDir,
}

impl RealRegistry {
    /// Anonymous registry, storage delete enabled.
    pub fn start() -> Self {
        Self::launch(Auth::Anonymous)
    }

    /// Registry behind `auth: htpasswd` with a single bcrypt user.
    pub fn start_with_htpasswd(user: &str, password: &str) -> Self {
        Self::launch(Auth::Htpasswd {
            user: user.to_owned(),
            password: password.to_owned(),
        })
    }

    /// Registry behind `auth: token`; only the config is written here.
    pub fn start_with_token_auth(cfg: TokenAuthConfig) -> Self {
        Self::launch(Auth::Token(cfg))
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The tempdir holding config, storage and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything the process wrote so far (stdout and stderr: application
    /// log lines and the combined-format access log).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Access-log lines (combined log format) for requests whose method is
    /// `method` and whose request target contains `path_contains`.
    pub fn access_log_lines(&self, method: &str, path_contains: &str) -> Vec<String> {
        let needle = format!("\"{method} ");
        self.log()
            .lines()
            .filter(|l| {
                l.find(&needle).is_some_and(|i| {
                    let target = l[i + needle.len()..].split(' ').next().unwrap_or("");
                    target.contains(path_contains)
                })
            })
            .map(str::to_owned)
            .collect()
    }

    /// Number of access-log entries matching `method` and `path_contains`.
    pub fn request_count(&self, method: &str, path_contains: &str) -> usize {
        self.access_log_lines(method, path_contains).len()
    }

    fn launch(auth: Auth) -> Self {
        let Some(binary) = which(BINARY) else {
            panic!(
                "`{BINARY}` not found on PATH: the integration tests need a real registry; \
                 install it with `apt-get install docker-registry`"
            );
        };
        let dir = tempfile::Builder::new()
            .prefix("acr-index-registry-")
            .tempdir()
            .expect("create registry tempdir");
        let log_path = dir.path().join("registry.log");
        let mut last_err = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let config_path = write_config(dir.path(), port, &auth);
            let log = File::create(&log_path).expect("create registry log");
            let mut child = Command::new(&binary)
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone log handle"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("spawn `{BINARY}` (apt-get install docker-registry): {e}")
                });
            match wait_ready(&mut child, port) {
                Ok(()) => {
                    return RealRegistry {
                        child,
                        port,
                        log_path,
                        dir,
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = fs::read_to_string(&log_path).unwrap_or_default();
                    last_err = format!("{e}\n--- registry log ---\n{log}");
                    // Only a port lost to a race is worth another try.
                    if !log.contains("address already in use") {
                        break;
                    }
                }
            }
        }
        panic!("docker-registry did not become ready: {last_err}");
    }
}

impl Drop for RealRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_ready(child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("docker-registry exited early with {status}"));
        }
        if probe(addr) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("not ready after {READY_TIMEOUT:?}"));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Any HTTP answer on GET /v2/ (200 anonymous, 401 with auth) means ready.
fn probe(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let req = format!("GET /v2/ HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).is_ok() && &buf == b"HTTP/"
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

fn which(bin: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(bin))
        .find(|p| p.is_file())
}

fn write_config(dir: &Path, port: u16, auth: &Auth) -> PathBuf {
    let storage = dir.join("storage");
    fs::create_dir_all(&storage).expect("create storage dir");
    let auth_yaml = match auth {
        Auth::Anonymous => String::new(),
        Auth::Htpasswd { user, password } => {
            let hash = bcrypt::hash(password, 4).expect("bcrypt hash");
            let file = dir.join("htpasswd");
            fs::write(&file, format!("{user}:{hash}\n")).expect("write htpasswd");
            format!(
                "auth:\n  htpasswd:\n    realm: acr-index-test\n    path: {}\n",
                yaml_str(&file.display().to_string())
            )
        }
        Auth::Token(t) => format!(
            "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            yaml_str(&t.realm),
            yaml_str(&t.service),
            yaml_str(&t.issuer),
            yaml_str(&t.rootcertbundle_path.display().to_string()),
        ),
    };
    let config = format!(
        "version: 0.1\n\
         log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\n\
         storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n  \
         cache:\n    blobdescriptor: inmemory\n  maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: acr-index-test-secret\n\
         {auth_yaml}",
        storage = yaml_str(&storage.display().to_string()),
    );
    let path = dir.join("config.yml");
    fs::write(&path, config).expect("write registry config");
    path
}

/// A double-quoted YAML scalar (JSON string syntax is valid YAML).
fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).expect("string to JSON")
}
