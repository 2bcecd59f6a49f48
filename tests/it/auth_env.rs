//! The auth tests' view of the one test environment (support::cli::Env):
//! PATH is only the environment's bin/ (fake credential helpers, a fake
//! `az`), runs are awaited from async tests, and `index`/`rows` shorten
//! the common calls.

use serde_json::Value;
use std::path::{Path, PathBuf};

pub use crate::support::cli::Run;

pub struct Env {
    pub core: crate::support::cli::Env,
}

impl std::ops::Deref for Env {
    type Target = crate::support::cli::Env;
    fn deref(&self) -> &Self::Target {
        &self.core
    }
}

impl Env {
    pub fn new() -> Env {
        let mut core = crate::support::cli::Env::new();
        core.isolate_path();
        Env { core }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.core.file(name)
    }

    pub fn db(&self) -> String {
        self.core.db().display().to_string()
    }

    pub fn set(&mut self, k: &str, v: impl AsRef<str>) -> &mut Env {
        self.core.set_var(k, v);
        self
    }

    pub fn stdin(&mut self, s: &str) -> &mut Env {
        self.core.set_stdin(s);
        self
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        self.core.write(name, contents)
    }

    /// Put an executable script on the test PATH.
    pub fn script_on_path(&self, name: &str, fixture: &Path) {
        self.core.script_on_path(name, fixture)
    }

    #[must_use = "check the exit status: .ok() or .fails()"]
    pub async fn run(&self, args: &[&str]) -> Run {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let cmd = self.core.command(&refs);
        // The blocking run goes to a blocking thread; the fakes it talks to
        // live on this runtime.
        let core = &self.core;
        tokio::task::block_in_place(|| core.run_command(&refs, cmd))
    }

    /// `index --registry URL` plus extra args.
    #[must_use = "check the exit status: .ok() or .fails()"]
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
