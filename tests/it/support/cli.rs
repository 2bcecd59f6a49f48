//! Running the built binary in a hermetic environment: a cleared env, a
//! temp HOME, and a panic message with everything needed to debug.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Run {
    pub args: Vec<String>,
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn success(self) -> Run {
        self.expect_code(0)
    }

    #[track_caller]
    pub fn expect_code(self, code: i32) -> Run {
        if self.status != Some(code) {
            panic!(
                "expected exit {code}, got {:?}\ncommand: acr-index {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.status,
                self.args.join(" "),
                self.stdout,
                self.stderr
            );
        }
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A hermetic environment for the binary: its own HOME and database.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub vars: Vec<(String, String)>,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Env {
            dir,
            vars: Vec::new(),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("index.db")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn var(mut self, k: &str, v: &str) -> Env {
        self.vars.push((k.into(), v.into()));
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_acr-index"));
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("ACR_INDEX_DB", self.db())
            .current_dir(self.dir.path())
            .args(args)
            .stdin(Stdio::null());
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("acr-index runs");
        to_run(args, out)
    }
}

pub fn to_run(args: &[&str], out: Output) -> Run {
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
