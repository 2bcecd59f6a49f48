//! `serve` against a real registry: it sees each finished index run without
//! a restart, and with `--index-every` it runs the index itself on schedule
//! and stops cleanly on SIGTERM.

use crate::support::cli::Env;
use crate::support::registry::RealRegistry;
use crate::support::seed::*;
use crate::support::serve::Server;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SHA: &str = "13c0f2b5a2ab438dd9dab2a669fef68b61f18bed";

fn labels(sha: &str) -> Value {
    json!({
        "com.visualstudio.myorg.image.build.sourceversion": sha,
        "com.visualstudio.myorg.image.build.sourcebranchname": "main",
        "com.visualstudio.myorg.image.build.builduri": "vstfs:///Build/Build/127294",
        "com.visualstudio.myorg.image.build.repository.uri": "https://myorg.visualstudio.com/p/_git/r",
    })
}

async fn tags_of(server: &Server, repo: &str) -> Vec<String> {
    let (status, _, body) = server.get(&format!("/api/v1/images?repo={repo}")).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let mut tags: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag"].as_str().unwrap().to_string())
        .collect();
    tags.sort();
    tags
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finished_run_shows_without_a_restart() {
    let reg = RealRegistry::start();
    let seeder = Seeder::new(&reg.base_url());
    seeder
        .push_image("app", "v1", &ImageSpec::docker().labels(labels(SHA)))
        .await;
    let env = Env::new();
    let url = reg.base_url();
    env.run(&["index", "--registry", &url]).success();
    let server = Server::start(&env.db(), &[]);
    assert_eq!(tags_of(&server, "app").await, ["v1"]);

    seeder
        .push_image(
            "app",
            "v2",
            &ImageSpec::docker().labels(labels("ffff000000000000000000000000000000000000")),
        )
        .await;
    env.run(&["index", "--registry", &url]).success();
    assert_eq!(tags_of(&server, "app").await, ["v1", "v2"]);
    let (_, _, body) = server.get("/api/v1/images?commit=ffff0000").await;
    assert!(body.contains("\"tag\": \"v2\""), "{body}");
    let (_, _, runs) = server.get("/api/v1/runs").await;
    assert_eq!(
        serde_json::from_str::<Value>(&runs)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

fn finished_runs(db: &std::path::Path) -> Vec<(String, Option<String>)> {
    let Ok(store) = acr_index::store::Store::open_ro(db) else {
        return Vec::new();
    };
    store
        .runs(100)
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.status, r.finished_at))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn index_every_runs_on_schedule_and_stops_on_sigterm() {
    let reg = RealRegistry::start();
    let seeder = Seeder::new(&reg.base_url());
    seeder
        .push_image("app", "v1", &ImageSpec::docker().labels(labels(SHA)))
        .await;
    let env = Env::new();
    let url = reg.base_url();
    let mut server = Server::start(
        &env.db(),
        &[
            "--index-every",
            "1s",
            "--registry",
            &url,
            "--lock-timeout",
            "5",
        ],
    );
    // Two scheduled runs recorded as finished (bounded wait on loopback).
    let deadline = Instant::now() + Duration::from_secs(60);
    while finished_runs(&env.db())
        .iter()
        .filter(|(_, f)| f.is_some())
        .count()
        < 2
    {
        assert!(
            Instant::now() < deadline,
            "no two runs: {:?}",
            finished_runs(&env.db())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(tags_of(&server, "app").await, ["v1"]);
    let code = server.terminate();
    assert_eq!(code, Some(0), "serve exits 0 on SIGTERM");
    let runs = finished_runs(&env.db());
    assert!(runs.len() >= 2, "{runs:?}");
    for (status, finished) in &runs {
        assert!(finished.is_some(), "a run left unfinished: {runs:?}");
        assert!(status == "ok" || status == "interrupted", "{runs:?}");
    }
    assert!(
        runs.iter().filter(|(s, _)| s == "ok").count() >= 2,
        "{runs:?}"
    );
    // The writer's lock was released with the process.
    env.run(&["index", "--registry", &url, "--lock-timeout", "0"])
        .success();
}

#[test]
fn serve_flags_are_checked_before_listening() {
    let env = Env::new();
    for (args, says) in [
        (vec!["serve", "--listen", "nowhere"], "--listen"),
        (
            vec!["serve", "--index-every", "1s"],
            "--index-every needs --registry",
        ),
        (
            vec!["serve", "--registry", "http://127.0.0.1:1"],
            "need --index-every",
        ),
        (
            vec![
                "serve",
                "--index-every",
                "soon",
                "--registry",
                "http://127.0.0.1:1",
            ],
            "--index-every",
        ),
        (
            vec!["serve", "--token-file", "/nonexistent/token"],
            "--token-file",
        ),
    ] {
        let run = env.run(&args);
        assert_ne!(run.status, Some(0), "{args:?}");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
    let run = env.run(&["serve", "--listen", "nowhere"]).expect_code(2);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
}
