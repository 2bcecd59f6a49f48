//! The one test environment for running the built binary (jj's
//! TestEnvironment): a cleared environment, a temporary HOME, database
//! and bin/ directory, optional standard input, and a `#[must_use]` run
//! result whose failure message and snapshot carry the command, the exit
//! status, stdout and stderr. `auth_env` and `answers_fixture` are thin
//! facades over this type that keep their older call forms.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_acr-index");

/// What one run of the binary did. Every function that returns one is
/// `#[must_use]`: a run nobody looks at is a test that checks nothing. The
/// checks (`success`, `ok`, ...) hand it back for further asserts, and may
/// end a statement.
#[derive(Debug, Clone)]
pub struct Run {
    pub args: Vec<String>,
    /// The exit status; None when a signal ended the process.
    pub status: Option<i32>,
    /// The same as `status`, under the name older tests use.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "command: acr-index {}\n{}",
            self.args.join(" "),
            self.snapshot()
        )
    }

    /// Exit status, stdout and stderr, as a snapshot shows them.
    pub fn snapshot(&self) -> String {
        let status = match self.status {
            Some(c) => c.to_string(),
            None => "killed by a signal".into(),
        };
        format!(
            "exit: {status}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.stdout, self.stderr
        )
    }

    #[track_caller]
    pub fn success(self) -> Run {
        self.expect_code(0)
    }

    #[track_caller]
    pub fn expect_code(self, code: i32) -> Run {
        if self.status != Some(code) {
            panic!("expected exit {code}\n{}", self.describe());
        }
        self
    }

    /// Exit status 0 (the form the auth tests use).
    #[track_caller]
    pub fn ok(self) -> Run {
        self.expect_code(0)
    }

    /// Any exit status but 0.
    #[track_caller]
    pub fn fails(self) -> Run {
        if self.status == Some(0) {
            panic!("expected a failure\n{}", self.describe());
        }
        self
    }

    /// The exit status (`status` and `code` hold the same value).
    #[allow(clippy::misnamed_getters)]
    pub fn code(&self) -> Option<i32> {
        self.code
    }

    pub fn stdout(&self) -> String {
        self.stdout.clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.clone()
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.describe()))
    }
}

/// A hermetic environment for the binary: its own HOME, database and bin/.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub vars: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
    /// PATH is only the environment's bin/ (for fake `az`, credential
    /// helpers) instead of the test process's PATH.
    isolated_path: bool,
}

impl Default for Env {
    fn default() -> Self {
        Env::new()
    }
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("acr-index-test-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        Env {
            dir,
            vars: Vec::new(),
            stdin: None,
            isolated_path: false,
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("index.db")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the environment's directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn bin_dir(&self) -> PathBuf {
        self.file("bin")
    }

    pub fn var(mut self, k: &str, v: &str) -> Env {
        self.vars.push((k.into(), v.into()));
        self
    }

    pub fn set_var(&mut self, k: &str, v: impl AsRef<str>) -> &mut Env {
        self.vars.push((k.to_string(), v.as_ref().to_string()));
        self
    }

    pub fn set_stdin(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Env {
        self.stdin = Some(bytes.into());
        self
    }

    /// PATH holds only bin/ from now on.
    pub fn isolate_path(&mut self) -> &mut Env {
        self.isolated_path = true;
        self
    }

    /// Write `contents` to `name` inside the environment, making parents.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.file(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// An executable script named `name` in bin/ with `body` (after `#!/bin/sh`).
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let to = self.bin_dir().join(name);
        std::fs::write(&to, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
        to
    }

    /// Copy an executable fixture into bin/.
    pub fn script_on_path(&self, name: &str, fixture: &Path) {
        use std::os::unix::fs::PermissionsExt;
        let to = self.bin_dir().join(name);
        std::fs::copy(fixture, &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        let path = if self.isolated_path {
            self.bin_dir().into_os_string()
        } else {
            let mut p = self.bin_dir().into_os_string();
            p.push(":");
            p.push(std::env::var_os("PATH").unwrap_or_default());
            p
        };
        c.env_clear()
            .env("PATH", path)
            .env("HOME", self.file("home"))
            .env("ACR_INDEX_DB", self.db())
            .current_dir(self.dir.path())
            .args(args)
            .stdin(Stdio::null());
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    #[must_use = "check the exit status: .success(), .expect_code(n), .ok() or .fails()"]
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_command(args, self.command(args))
    }

    /// Run a prepared command (extra env, another stdin), feeding the
    /// environment's stdin when one was set.
    #[must_use = "check the exit status: .success(), .expect_code(n), .ok() or .fails()"]
    pub fn run_command(&self, args: &[&str], mut cmd: Command) -> Run {
        let out = match &self.stdin {
            None => cmd.output().expect("acr-index runs"),
            Some(bytes) => {
                use std::io::Write;
                cmd.stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let mut child = cmd.spawn().expect("acr-index starts");
                let mut pipe = child.stdin.take().unwrap();
                // A command that exits early closes the pipe: not our failure.
                let _ = pipe.write_all(bytes);
                drop(pipe);
                child.wait_with_output().expect("acr-index ends")
            }
        };
        to_run(args, out)
    }

    /// `s` with this environment's paths and the volatile parts of output
    /// (times, durations, ports) replaced, for exact comparisons.
    pub fn redact(&self, s: &str) -> String {
        let mut s = s.to_string();
        for (from, to) in self.replacements() {
            s = s.replace(&from, &to);
        }
        redact_volatile(&s)
    }

    fn replacements(&self) -> Vec<(String, String)> {
        let dir = self.dir.path().display().to_string();
        let mut v = vec![(dir.clone(), "[TMP]".to_string())];
        // macOS and some Linux setups reach the temp dir through a symlink.
        if let Ok(real) = self.dir.path().canonicalize() {
            let real = real.display().to_string();
            if real != dir {
                v.push((real, "[TMP]".into()));
            }
        }
        v
    }

    /// insta settings that hide what changes from run to run: this
    /// environment's paths, times, durations and loopback ports.
    pub fn settings(&self) -> insta::Settings {
        let mut s = insta::Settings::clone_current();
        for (from, to) in self.replacements() {
            s.add_filter(&regex_escape(&from), to);
        }
        for (re, to) in VOLATILE {
            s.add_filter(re, *to);
        }
        s.set_prepend_module_to_snapshot(true);
        s
    }
}

/// Regexes for what differs between runs, and what replaces them.
pub const VOLATILE: &[(&str, &str)] = &[
    (
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3,9}(Z|[+-]\d{2}:\d{2})",
        "[TIME]",
    ),
    (r"\b\d+\.\d+s\b", "[SECS]"),
    (r"(127\.0\.0\.1|localhost|\[::1\]):\d{2,5}", "$1:[PORT]"),
    (r#""seconds": ?[0-9.]+"#, r#""seconds": [SECS]"#),
];

/// The [`VOLATILE`] replacements on a string (for tests that compare
/// without insta).
pub fn redact_volatile(s: &str) -> String {
    let mut s = s.to_string();
    for (re, to) in VOLATILE {
        s = regex::Regex::new(re)
            .unwrap()
            .replace_all(&s, *to)
            .into_owned();
    }
    s
}

fn regex_escape(s: &str) -> String {
    regex::escape(s)
}

pub fn to_run(args: &[&str], out: Output) -> Run {
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        status: out.status.code(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
