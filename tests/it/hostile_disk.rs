//! A full disk stops the crawl at once and the run is recorded failed.
//! Needs root for a small tmpfs (CI runs as root); without it the test
//! fails with that reason rather than skipping.

use crate::hostile_auth::index;
use crate::support::cli::Env;
use crate::support::fake_hostile::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size` mounted for the test's lifetime.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .ok()?
            .success();
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_the_crawl_and_fails_the_run() {
    let env = Env::new();
    let disk = Tmpfs::mount(&env.path().join("small"), "600k")
        .expect("mounting a 600k tmpfs failed: this test needs root (mount -t tmpfs)");
    let h = Hostile::start().await;
    let big = "x".repeat(40_000);
    let mut repos = Vec::new();
    for i in 0..300 {
        h.image(
            &format!("r{i:03}"),
            "v1",
            json!({ "big": format!("{big}{i}") }),
        );
        repos.push(format!("r{i:03}"));
    }
    let listing: Vec<(&str, &[&str])> = repos.iter().map(|r| (r.as_str(), &["v1"][..])).collect();
    h.listing(&listing);
    let db = disk.0.join("index.db");
    let env = env.var("ACR_INDEX_DB", &db.display().to_string());
    let out = index(&env, &h, &["--api", "v2"]).expect_code(1);
    assert!(
        out.stderr.contains("writing the database failed"),
        "{}",
        out.stderr
    );
    // Stopped at once: far from every repository was visited.
    let visited = h.count("/v2/r");
    assert!(visited < 3 * 300 / 2, "crawled on: {visited} requests");
    // Recorded as failed (read with the disk still full).
    let conn = rusqlite::Connection::open(&db).unwrap();
    let status: String = conn
        .query_row(
            "SELECT status FROM runs ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "failed", "{}", out.stderr);
}
