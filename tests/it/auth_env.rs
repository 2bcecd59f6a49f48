//! A hermetic environment for running the built binary in the auth tests:
//! cleared environment, HOME and PATH pointing into a tempdir, and a helper
//! that panics with the command, exit status, stdout and stderr.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_acr-index");

pub struct Env {
    pub dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
    stdin: Option<String>,
}

/// `run`/`index` are `#[must_use]`; `.ok()` / `.fails()` consume that.
pub struct Run {
    pub args: Vec<String>,
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
    fn describe(&self) -> String {
        format!(
            "acr-index {:?}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args,
            self.output.status,
            self.stdout(),
            self.stderr()
        )
    }
    pub fn ok(self) -> Self {
        assert!(self.output.status.success(), "{}", self.describe());
        self
    }
    pub fn fails(self) -> Self {
        assert!(
            !self.output.status.success(),
            "expected failure: {}",
            self.describe()
        );
        self
    }
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("acr-index-auth-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        Env {
            dir,
            vars: Vec::new(),
            stdin: None,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn db(&self) -> String {
        self.path("index.db").display().to_string()
    }

    pub fn set(&mut self, k: &str, v: impl AsRef<str>) -> &mut Env {
        self.vars.push((k.to_string(), v.as_ref().to_string()));
        self
    }

    pub fn stdin(&mut self, s: &str) -> &mut Env {
        self.stdin = Some(s.to_string());
        self
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// Put an executable script on the test PATH.
    pub fn script_on_path(&self, name: &str, fixture: &Path) {
        use std::os::unix::fs::PermissionsExt;
        let to = self.path("bin").join(name);
        std::fs::copy(fixture, &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[must_use]
    pub async fn run(&self, args: &[&str]) -> Run {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut cmd = Command::new(BIN);
        cmd.args(&args)
            .env_clear()
            .env("HOME", self.path("home"))
            .env("PATH", self.path("bin"))
            .current_dir(self.dir.path())
            .envs(self.vars.iter().map(|(k, v)| (k, v)));
        let stdin = self.stdin.clone();
        let output = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            use std::process::Stdio;
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn acr-index");
            let mut pipe = child.stdin.take().unwrap();
            if let Some(s) = stdin {
                pipe.write_all(s.as_bytes()).unwrap();
            }
            drop(pipe);
            child.wait_with_output().expect("wait for acr-index")
        })
        .await
        .unwrap();
        Run { args, output }
    }

    /// `index --registry URL` plus extra args; must succeed.
    #[must_use]
    pub async fn index(&self, registry: &str, extra: &[&str]) -> Run {
        let db = self.db();
        let mut args = vec!["index", "--registry", registry, "--db", db.as_str()];
        args.extend_from_slice(extra);
        self.run(&args).await
    }

    /// `query --format json`: one element per image and tag.
    pub async fn rows(&self) -> Vec<Value> {
        let db = self.db();
        let r = self
            .run(&["query", "--format", "json", "--db", &db])
            .await
            .ok();
        serde_json::from_str(&r.stdout()).expect("query --format json output")
    }
}

/// (repository, tag, revision label) of every row, sorted.
pub fn summary(rows: &[Value]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r["repository"].as_str().unwrap_or("").to_string(),
                r["tag"].as_str().unwrap_or("").to_string(),
                r["labels"]["org.opencontainers.image.revision"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

pub fn triples(v: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = v
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    v.sort();
    v
}
