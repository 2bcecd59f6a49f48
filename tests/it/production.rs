//! Unattended operation: SIGTERM mid-run, one writer at a time, readers
//! while a run writes.

use crate::support::cli::{to_run, Env};
use crate::support::fake_registry::{FakeRegistry, Faults, Options};
use serde_json::json;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

async fn slow_registry(repos: usize) -> FakeRegistry {
    let fake = FakeRegistry::start(Options::default()).await;
    for i in 0..repos {
        fake.put_image(
            &format!("svc{i:02}"),
            "1",
            json!({"sourceversion": format!("{i:040}")}),
        );
    }
    fake.set_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    fake
}

fn spawn_index(env: &Env, fake: &FakeRegistry, extra: &[&str]) -> Child {
    let mut args = vec![
        "index",
        "--registry",
        fake.url.as_str(),
        "--concurrency",
        "2",
    ];
    args.extend_from_slice(extra);
    env.command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn manifests_stored(env: &Env) -> i64 {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(env.db(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row("SELECT count(*) FROM manifests", [], |r| r.get(0))
        .unwrap_or(0)
}

/// Poll (bounded) until `cond` holds; a liveness guard, not a timing check.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn finish(child: Child, what: &str) -> crate::support::cli::Run {
    let out = child.wait_with_output().unwrap();
    to_run(&[what], out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_commits_what_is_complete_and_the_next_run_finishes() {
    let fake = slow_registry(30).await;
    let env = Env::new();
    let child = spawn_index(&env, &fake, &[]);
    tokio::task::block_in_place(|| {
        wait_for("a first image to be committed", || {
            manifests_stored(&env) > 0
        })
    });
    let sent = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = tokio::task::block_in_place(|| finish(child, "index (terminated)"));
    let took = sent.elapsed();
    eprintln!("shutdown after SIGTERM took {took:?}");
    let out = out.expect_code(130);
    assert!(out.stderr.contains("interrupted"), "{}", out.stderr);

    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let status: String = conn
        .query_row(
            "SELECT status FROM runs ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "interrupted");
    let partial = manifests_stored(&env);
    // The summary on stderr is read back from the run record, so it
    // states what was committed, not what was in flight.
    let new: i64 = conn
        .query_row(
            "SELECT manifests_new FROM runs ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(new, partial, "the record counts what is stored");
    assert!(
        out.stderr.contains(": interrupted in ")
            && out
                .stderr
                .contains(&format!(", {new} new and 0 known manifests")),
        "{}",
        out.stderr
    );
    assert!(
        partial > 0 && partial < 30,
        "{partial} of 30 stored before the signal"
    );
    drop(conn);

    fake.set_faults(Faults::default());
    tokio::task::block_in_place(|| env.run(&["index", "--registry", &fake.url]).success());
    let rows =
        tokio::task::block_in_place(|| env.run(&["query", "--format", "json"]).success().json());
    assert_eq!(rows.as_array().unwrap().len(), 30);
    assert_eq!(manifests_stored(&env), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_writer_at_a_time_and_readers_are_never_blocked() {
    let fake = slow_registry(12).await;
    let env = Env::new();
    let first = spawn_index(&env, &fake, &[]);
    tokio::task::block_in_place(|| {
        wait_for("the first run to write", || manifests_stored(&env) > 0)
    });

    // A reader answers while the writer works.
    let q =
        tokio::task::block_in_place(|| env.run(&["query", "--format", "json"]).success().json());
    assert!(!q.as_array().unwrap().is_empty() || manifests_stored(&env) > 0);

    // A second writer that will not wait gives up with a clear message...
    let second = tokio::task::block_in_place(|| {
        env.run(&["index", "--registry", &fake.url, "--lock-timeout", "0"])
    });
    let second = second.expect_code(1);
    assert!(
        second
            .stderr
            .contains("another `acr-index index` run is writing"),
        "{}",
        second.stderr
    );
    // ...and one that waits runs after the first, never interleaved.
    let third = spawn_index(&env, &fake, &["--lock-timeout", "120"]);
    let first = tokio::task::block_in_place(|| finish(first, "index (first)")).success();
    let third = tokio::task::block_in_place(|| finish(third, "index (waiting)")).success();
    assert!(
        third
            .stderr
            .contains("another index run holds the database"),
        "{}",
        third.stderr
    );
    let _ = first;

    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let runs: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT status, started_at, finished_at FROM runs ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(runs.len(), 2, "the refused run recorded nothing: {runs:?}");
    assert!(runs.iter().all(|r| r.0 == "ok"), "{runs:?}");
    assert!(
        runs[0].2.as_deref().unwrap() <= runs[1].1.as_str(),
        "runs overlapped: {runs:?}"
    );
    assert_eq!(manifests_stored(&env), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_and_metrics_file_for_the_cluster() {
    let fake = FakeRegistry::start(Options::default()).await;
    fake.put_image("svc", "1", json!({"sourceversion": "abc"}));
    let env = Env::new();
    let metrics = env.path().join("acr-index.prom");
    let out = tokio::task::block_in_place(|| {
        env.run(&[
            "--log-format",
            "json",
            "index",
            "--registry",
            &fake.url,
            "--metrics-file",
            metrics.to_str().unwrap(),
        ])
    })
    .success();
    let lines: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let summary = lines
        .iter()
        .find(|l| l["message"] == "index run finished")
        .expect("a summary line");
    assert_eq!(summary["status"], "ok");
    assert_eq!(summary["manifests_new"], 1);
    assert_eq!(summary["run_id"], 1);
    // Typed fields: a number of seconds, the requests as an object.
    assert!(summary["seconds"].is_f64(), "{summary}");
    assert!(summary["requests"]["manifest_get"].is_u64(), "{summary}");
    let prom = std::fs::read_to_string(&metrics).unwrap();
    let registry = fake.url.trim_start_matches("http://");
    for expected in [
        format!("acr_index_last_run_success{{registry=\"{registry}\"}} 1"),
        format!("acr_index_last_run_manifests_new{{registry=\"{registry}\"}} 1"),
        format!("acr_index_last_run_requests{{registry=\"{registry}\",kind=\"manifest_get\"}} 1"),
        "# TYPE acr_index_last_run_failures gauge".to_string(),
    ] {
        assert!(prom.contains(&expected), "{expected} missing:\n{prom}");
    }
}
