//! SIGTERM ends every kind of wait: the binary exits 130 and records the
//! run as interrupted. Timeouts here are generous (a hang fails the test);
//! durations are not asserted.

use crate::hostile_auth::last_run;
use crate::support::cli::Env;
use crate::support::fake_hostile::*;
use axum::http::StatusCode;
use serde_json::json;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const GENEROUS: Duration = Duration::from_secs(40);

fn spawn(env: &Env, h: &Hostile, extra: &[&str]) -> Child {
    let registry = h.url.clone();
    let mut args = vec!["index", "--registry", registry.as_str(), "--api", "v2"];
    args.extend_from_slice(extra);
    env.command(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("acr-index starts")
}

/// Poll (loopback, short steps) until `ready` holds.
async fn until(what: &str, ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < GENEROUS, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// SIGTERM, then the exit status (killing the child if it hangs).
async fn terminate(mut child: Child) -> (Option<i32>, String) {
    signal(&child, "-TERM");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            return (status.code(), err);
        }
        if start.elapsed() > GENEROUS {
            let _ = child.kill();
            panic!("acr-index did not exit after SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn assert_interrupted(env: &Env, child: Child) {
    let (code, stderr) = terminate(child).await;
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(last_run(env).0, "interrupted", "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_a_429_back_off_and_a_503_retry_sleep() {
    for status in [
        StatusCode::TOO_MANY_REQUESTS,
        StatusCode::SERVICE_UNAVAILABLE,
    ] {
        let h = Hostile::start().await;
        h.on(
            "/v2/_catalog",
            fixed(status, &[("retry-after", "60".into())], Vec::new()),
        );
        let env = Env::new();
        let child = spawn(&env, &h, &[]);
        until("the catalog request", || h.count("/v2/_catalog") > 0).await;
        assert_interrupted(&env, child).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_a_rate_limit_wait() {
    let h = Hostile::start().await;
    h.image("app", "v1", json!({}));
    h.listing(&[("app", &["v1"])]);
    let env = Env::new();
    // One request per 1000 s: the second waits.
    let child = spawn(&env, &h, &["--max-rps", "0.001"]);
    until("the first request", || !h.log().is_empty()).await;
    assert_interrupted(&env, child).await;
    assert_eq!(h.log().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_a_hanging_token_request_and_a_hanging_answer() {
    let h = Hostile::start().await;
    h.gate_bearer(&format!(r#"Bearer realm="{}/token",service="s""#, h.url));
    h.on("/token", hang());
    let env = Env::new();
    let child = spawn(&env, &h, &[]);
    until("the token request", || h.count("/token") > 0).await;
    assert_interrupted(&env, child).await;

    let h = Hostile::start().await;
    h.on("/v2/_catalog", hang());
    let env = Env::new();
    let child = spawn(&env, &h, &[]);
    until("the catalog request", || h.count("/v2/_catalog") > 0).await;
    assert_interrupted(&env, child).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once() {
    let h = Hostile::start().await;
    h.on("/v2/_catalog", hang());
    let env = Env::new();
    let child = spawn(&env, &h, &[]);
    until("the catalog request", || h.count("/v2/_catalog") > 0).await;
    signal(&child, "-INT");
    let (code, stderr) = terminate(child).await;
    assert_eq!(code, Some(130), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_a_credential_helper() {
    use std::os::unix::fs::PermissionsExt;
    let h = Hostile::start().await;
    let env = Env::new();
    let bin = env.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let started = env.path().join("helper-started");
    let script = bin.join("docker-credential-hang");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ntouch {}\nexec sleep 60\n", started.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = env.path().join("docker");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.json"), r#"{"credsStore":"hang"}"#).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let env = env
        .var("PATH", &path)
        .var("DOCKER_CONFIG", &config.display().to_string());
    let child = spawn(&env, &h, &[]);
    until("the helper", || started.exists()).await;
    assert_interrupted(&env, child).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_lock_wait() {
    let h = Hostile::start().await;
    let env = Env::new();
    let lock = std::fs::File::create(format!("{}.lock", env.db().display())).unwrap();
    lock.lock().unwrap();
    let mut child = spawn(&env, &h, &["--lock-timeout", "600"]);
    // The waiting message says it is in the wait.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("waiting") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(GENEROUS).expect("the lock wait");
    signal(&child, "-TERM");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < GENEROUS, "no exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Some(130));
    // Without the lock nothing may be written, so no run is left `running`.
    assert!(h.log().is_empty());
    drop(lock);
}
