//! Against an in-process registry: what the real one cannot show.

use crate::support::cli::{Env, Run};
use crate::support::fake_registry::{FakeRegistry, Faults, Options};
use serde_json::json;

fn run(env: &Env, args: &[&str]) -> Run {
    tokio::task::block_in_place(|| env.run(args))
}

fn index(env: &Env, fake: &FakeRegistry, extra: &[&str]) -> Run {
    let mut args = vec![
        "index",
        "--registry",
        fake.url.as_str(),
        "--concurrency",
        "4",
    ];
    args.extend_from_slice(extra);
    run(env, &args)
}

fn plain() -> Options {
    Options::default()
}

fn digests(env: &Env) -> Vec<String> {
    let q = run(env, &["query", "--format", "json"]).success().json();
    let mut d: Vec<String> = q
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}:{}@{}", r["repository"], r["tag"], r["digest"]))
        .collect();
    d.sort();
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_lists_are_followed_across_pages() {
    let fake = FakeRegistry::start(Options {
        tag_page: Some(10),
        ..plain()
    })
    .await;
    for t in 0..25 {
        fake.put_image("paged", &format!("t{t:02}"), json!({"t": t.to_string()}));
    }
    let env = Env::new();
    index(&env, &fake, &[]).success();
    assert_eq!(digests(&env).len(), 25);
    assert_eq!(fake.count("GET", "/tags/list"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_redirect_to_storage_carries_no_credentials() {
    let opts = Options {
        basic: Some(("user".into(), "s3cret-pass".into())),
        ..plain()
    };
    let fake = FakeRegistry::start(opts).await;
    fake.put_image(
        "app",
        "1",
        json!({"org.opencontainers.image.revision": "cafe"}),
    );
    let env = Env::new()
        .var("ACR_INDEX_USERNAME", "user")
        .var("ACR_INDEX_PASSWORD", "s3cret-pass");
    let out = index(&env, &fake, &["-vv"]).success();
    let storage: Vec<_> = fake
        .log()
        .into_iter()
        .filter(|(_, p, _)| p.starts_with("/blob/"))
        .collect();
    assert_eq!(storage.len(), 1, "{storage:?}");
    assert!(!storage[0].2, "storage received an Authorization header");
    assert_eq!(
        run(
            &env,
            &["query", "--format", "json", "--label", "revision=cafe"]
        )
        .success()
        .json()
        .as_array()
        .unwrap()
        .len(),
        1
    );
    for secret in [
        "s3cret-pass",
        "SECRET-SAS-SIGNATURE",
        "dXNlcjpzM2NyZXQtcGFzcw",
    ] {
        assert!(
            !out.stderr.contains(secret),
            "{secret} leaked:\n{}",
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_digest_fails_that_image_only_and_the_next_run_finishes() {
    let fake = FakeRegistry::start(plain()).await;
    let (_, bad_config) = fake.put_image("bad", "1", json!({"x": "1"}));
    fake.put_image("good", "1", json!({"x": "2"}));
    fake.set_faults(Faults {
        always_corrupt: vec![bad_config],
        ..Faults::default()
    });
    let env = Env::new();
    let out = index(&env, &fake, &["--retries", "1"]).expect_code(3);
    assert!(
        out.stderr.contains("does not match its digest"),
        "{}",
        out.stderr
    );
    assert_eq!(digests(&env).len(), 1, "only the good image is stored");
    let runs = run(&env, &["runs", "--format", "json"]).success().json();
    assert_eq!(runs[0]["status"], "partial");
    assert_eq!(runs[0]["errors"][0]["repository"], "bad");

    fake.set_faults(Faults::default());
    index(&env, &fake, &[]).success();
    assert_eq!(digests(&env).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bodies_are_retried_and_oversized_manifests_refused() {
    let fake = FakeRegistry::start(plain()).await;
    for i in 0..6 {
        fake.put_image(&format!("r{i}"), "1", json!({"i": i.to_string()}));
    }
    let huge = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2},
        "layers": [],
        "annotations": {"padding": "x".repeat(5 * 1024 * 1024)}
    });
    fake.put_manifest(
        "huge",
        Some("1"),
        "application/vnd.oci.image.manifest.v1+json",
        huge.to_string().as_bytes(),
    );

    let env = Env::new();
    fake.set_faults(Faults {
        truncate: 1.0,
        ..Faults::default()
    });
    let out = index(&env, &fake, &["--retries", "2"]).expect_code(3);
    assert!(
        out.stderr.contains("shorter than its Content-Length") || out.stderr.contains("request to"),
        "{}",
        out.stderr
    );
    assert!(digests(&env).is_empty());

    fake.set_faults(Faults {
        truncate: 0.3,
        ..Faults::default()
    });
    let out = index(&env, &fake, &["--retries", "8"]).expect_code(3);
    assert_eq!(digests(&env).len(), 6, "retries got every image through");
    assert!(
        out.stderr.contains("larger than the 4194304-byte limit"),
        "{}",
        out.stderr
    );
    let runs = run(&env, &["runs", "--format", "json", "--limit", "1"])
        .success()
        .json();
    assert_eq!(runs[0]["errors"].as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["errors"][0]["repository"], "huge");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_never_change_what_is_stored() {
    let clean = FakeRegistry::start(plain()).await;
    // Tokens live one second: the run outlasts several of them.
    let noisy = FakeRegistry::start(Options {
        token_lifetime: Some(std::time::Duration::from_secs(1)),
        ..plain()
    })
    .await;
    for fake in [&clean, &noisy] {
        for i in 0..40 {
            fake.put_image(
                &format!("team/r{:02}", i % 8),
                &format!("v{i}"),
                json!({"i": i.to_string(), "sourceversion": format!("{i:040}")}),
            );
        }
    }
    noisy.set_faults(Faults {
        server_error: 0.05,
        throttle: 0.05,
        truncate: 0.05,
        corrupt: 0.05,
        latency: std::time::Duration::from_millis(40),
        ..Faults::default()
    });
    let (a, b) = (Env::new(), Env::new());
    index(&a, &clean, &[]).success();
    let first = index(&b, &noisy, &["--retries", "6"]);
    assert!(
        matches!(first.status, Some(0) | Some(3)),
        "{}",
        first.stderr
    );
    if first.status == Some(3) {
        index(&b, &noisy, &["--retries", "6"]).success();
    }
    let strip = |env: &Env| {
        let mut v = run(env, &["query", "--format", "json"]).success().json();
        for r in v.as_array_mut().unwrap() {
            r["registry"] = json!("");
        }
        v
    };
    assert_eq!(strip(&a), strip(&b));
    let tokens = noisy.count("GET", "/token");
    assert!(tokens >= 2, "tokens were renewed during the run: {tokens}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acr_api_lists_tags_with_digests_and_skips_unchanged_repositories() {
    let fake = FakeRegistry::start(Options {
        acr_api: true,
        tag_page: Some(4),
        ..Options::default()
    })
    .await;
    for r in 0..5 {
        for t in 0..6 {
            fake.put_image(
                &format!("team/r{r}"),
                &format!("v{t}"),
                json!({"sourceversion": format!("{r}{t}")}),
            );
        }
    }
    // The same image under a second tag and in a second repository.
    let (shared, _) = fake.put_image("team/r0", "v0", json!({"sourceversion": "00"}));
    let env = Env::new();
    index(&env, &fake, &["--api", "acr"]).success();
    assert_eq!(digests(&env).len(), 30);
    assert!(digests(&env).iter().any(|d| d.contains(&shared)));
    let cold = run(&env, &["runs", "--format", "json", "--limit", "1"])
        .success()
        .json()[0]["requests"]
        .clone();
    // At most one GET per unique manifest and one per unique config, no HEAD, no /v2 tag list.
    assert_eq!(cold["manifest_get"], 30, "{cold}");
    assert_eq!(cold["blob_get"], 30, "{cold}");
    assert_eq!(cold.get("manifest_head"), None, "{cold}");
    assert_eq!(fake.count("GET", "/v2/team/r0/tags/list"), 0);
    assert_eq!(cold["tags"], 10, "two pages of 4 per repository: {cold}");

    assert_eq!(
        cold.get("repository"),
        None,
        "a cold run pays no repository lookup: {cold}"
    );

    // Second run: each repository's time is looked up and, unknown so far,
    // its tags listed once more (digests known: no manifest or blob GET).
    index(&env, &fake, &["--api", "auto"]).success();
    let second = run(&env, &["runs", "--format", "json", "--limit", "1"])
        .success()
        .json()[0]["requests"]
        .clone();
    assert_eq!(second.get("manifest_get"), None, "{second}");
    assert_eq!(second.get("blob_get"), None, "{second}");
    assert_eq!(second["repository"], 5, "{second}");

    // Steady state: nothing changed, so only the catalog and one lookup per repository.
    index(&env, &fake, &[]).success();
    let warm = run(&env, &["runs", "--format", "json", "--limit", "1"])
        .success()
        .json()[0]["requests"]
        .clone();
    assert_eq!(warm.get("manifest_get"), None, "{warm}");
    assert_eq!(warm.get("blob_get"), None, "{warm}");
    assert_eq!(warm.get("tags"), None, "{warm}");
    assert_eq!(warm["repository"], 5, "{warm}");

    // One repository changes: only it is listed again.
    fake.put_image("team/r3", "v9", json!({"sourceversion": "39"}));
    index(&env, &fake, &[]).success();
    let third = run(&env, &["runs", "--format", "json", "--limit", "1"])
        .success()
        .json()[0]["requests"]
        .clone();
    assert_eq!(third["tags"], 2, "{third}");
    assert_eq!(third["manifest_get"], 1, "{third}");
    assert_eq!(digests(&env).len(), 31);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema1_labels_come_from_v1_compatibility() {
    let fake = FakeRegistry::start(Options::default()).await;
    let compat = json!({"architecture": "amd64", "os": "linux", "created": "2019-05-06T07:08:09Z",
        "config": {"Labels": {"org.opencontainers.image.revision": "old1"}}});
    let manifest = json!({"schemaVersion": 1, "name": "legacy", "tag": "1", "architecture": "amd64",
        "fsLayers": [], "history": [{"v1Compatibility": compat.to_string()}], "signatures": []});
    let media = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    fake.put_manifest("legacy", Some("1"), media, manifest.to_string().as_bytes());
    fake.put_manifest(
        "legacy",
        Some("2"),
        media,
        json!({"schemaVersion": 1, "history": []})
            .to_string()
            .as_bytes(),
    );
    let env = Env::new();
    index(&env, &fake, &[]).success();
    let rows = run(&env, &["query", "--format", "json", "--repo", "legacy"])
        .success()
        .json();
    assert_eq!(
        rows[0]["labels"]["org.opencontainers.image.revision"],
        "old1"
    );
    assert_eq!(rows[0]["platform"], "linux/amd64");
    assert_eq!(rows[0]["created"], "2019-05-06T07:08:09Z");
    assert_eq!(rows[1]["labels"], json!({}));
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let statuses: Vec<String> = conn
        .prepare("SELECT status FROM manifests WHERE kind = 'schema1' ORDER BY status")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(statuses, ["ok", "unsupported"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_without_digest_falls_back_to_get() {
    let fake = FakeRegistry::start(plain()).await;
    for i in 0..3 {
        fake.put_image("old", &format!("t{i}"), json!({"i": i.to_string()}));
    }
    let env = Env::new();
    index(&env, &fake, &[]).success();
    fake.set_faults(Faults {
        head_without_digest: true,
        ..Faults::default()
    });
    index(&env, &fake, &[]).success();
    let warm = run(&env, &["runs", "--format", "json", "--limit", "1"])
        .success()
        .json()[0]
        .clone();
    assert_eq!(warm["status"], "ok");
    assert_eq!(warm["requests"]["manifest_head"], 3, "{warm}");
    assert_eq!(warm["requests"]["manifest_get"], 3, "{warm}");
    assert_eq!(warm["requests"].get("blob_get"), None, "{warm}");
    assert_eq!(digests(&env).len(), 3);
}
