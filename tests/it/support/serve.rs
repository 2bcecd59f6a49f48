//! `acr-index serve` as a child process on a free loopback port, found
//! from its own "serving" log line, and killed on Drop.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Server {
    pub child: Child,
    pub base: String,
    /// Every log line the server wrote so far arrives here.
    pub log: mpsc::Receiver<String>,
}

impl Server {
    /// `acr-index --db DB serve --listen 127.0.0.1:0 EXTRA...`, ready to answer.
    pub fn start(db: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_acr-index"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", db.parent().unwrap())
            .arg("--db")
            .arg(db)
            .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting acr-index serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let base = loop {
            let line = log
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("serve did not start; log:\n{}", seen.join("\n")));
            if let Some(rest) = line.split("\"listen\":\"").nth(1) {
                let addr = rest.split('"').next().unwrap();
                break format!("http://{addr}");
            }
            seen.push(line);
        };
        Server { child, base, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET `path`: status, content type, body.
    pub async fn get(&self, path: &str) -> (u16, String, String) {
        let r = reqwest::get(self.url(path)).await.unwrap();
        let status = r.status().as_u16();
        let ct = header(&r, "content-type");
        (status, ct, r.text().await.unwrap())
    }

    /// SIGTERM, then the exit status (None when killed by a signal).
    pub fn terminate(&mut self) -> Option<i32> {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM failed");
        self.child.wait().unwrap().code()
    }
}

pub fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
