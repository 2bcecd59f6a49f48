//! What `index` reports, against the real registry: one JSON summary on
//! stdout with --format json (typed counts, requests as an object, seconds
//! as a number, failures grouped by cause), a human line on stderr, and
//! the glob dialect `query` shares.

use crate::support::cli::Env;
use crate::support::registry::RealRegistry;
use crate::support::seed::{ImageSpec, Seeder};

async fn seeded() -> RealRegistry {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());
    for repo in ["team/app/api", "team/app/web", "team/app/db", "other/x"] {
        let spec = ImageSpec::docker().label("org.opencontainers.image.revision", repo);
        s.push_image(repo, "v1", &spec).await;
    }
    reg
}

#[tokio::test(flavor = "multi_thread")]
async fn json_summary_on_stdout_and_braces_in_both_index_and_query() {
    let reg = seeded().await;
    let env = Env::new();
    let url = reg.base_url();
    let run = tokio::task::block_in_place(|| {
        env.run(&[
            "index",
            "--registry",
            &url,
            "--repo",
            "team/app/{api,web}",
            "--format",
            "json",
        ])
    })
    .success();
    let s: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    assert_eq!(s["status"], "ok", "{s}");
    assert_eq!(s["repositories"], 2, "{s}");
    assert_eq!(s["tags"], 2, "{s}");
    assert_eq!(s["manifests_new"], 2, "{s}");
    assert_eq!(s["failures"], 0);
    assert!(s["seconds"].is_f64(), "{s}");
    assert!(s["requests"]["manifest_get"].is_u64(), "{s}");
    assert!(s["requests_total"].as_u64().unwrap() >= 4, "{s}");
    assert_eq!(s["failures_by_cause"], serde_json::json!([]));
    // The human line stays on stderr.
    let human = run.stderr.lines().last().unwrap_or("");
    assert!(
        human.contains(": ok in ")
            && human.contains("2 repositories, 2 tags, 2 new and 0 known manifests"),
        "{}",
        run.stderr
    );
    // The same glob in query selects the same repositories.
    let q = env
        .run(&["query", "--repo", "team/app/{api,web}", "--format", "json"])
        .success()
        .json();
    let repos: Vec<&str> = q
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repository"].as_str().unwrap())
        .collect();
    assert_eq!(repos, ["team/app/api", "team/app/web"]);

    // Warm: the known count is said.
    let warm = tokio::task::block_in_place(|| {
        env.run(&[
            "index",
            "--registry",
            &url,
            "--repo",
            "team/app/*",
            "--format",
            "json",
        ])
    })
    .success()
    .json();
    assert_eq!(warm["manifests_new"], 1, "db is new: {warm}");
    assert_eq!(warm["manifests_known"], 2, "{warm}");
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_grouped_by_cause_once_not_warned_per_tag() {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());
    // Two images whose config blob is gone: two failures, one cause.
    for (repo, rev) in [("broken/one", "b1"), ("broken/two", "b2")] {
        let spec = ImageSpec::docker().label("org.opencontainers.image.revision", rev);
        let pushed = s.push_image(repo, "v1", &spec).await;
        let del = s.request(
            reqwest::Method::DELETE,
            &format!("/v2/{repo}/blobs/{}", pushed.config_digest),
        );
        assert!(del.send().await.unwrap().status().is_success());
    }
    let spec = ImageSpec::docker().label("org.opencontainers.image.revision", "ok");
    s.push_image("fine/app", "v1", &spec).await;
    let env = Env::new();
    let url = reg.base_url();
    let run = tokio::task::block_in_place(|| {
        env.run(&[
            "index",
            "--registry",
            &url,
            "--retries",
            "0",
            "--format",
            "json",
        ])
    })
    .expect_code(3);
    let s: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(s["status"], "partial", "{s}");
    assert_eq!(s["failures"], 2, "{s}");
    let groups = s["failures_by_cause"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "one cause for both: {s}");
    assert_eq!(groups[0]["count"], 2);
    assert_eq!(
        groups[0]["examples"],
        serde_json::json!(["broken/one:v1", "broken/two:v1"])
    );
    // stderr: no WARN per tag, one grouped block naming `runs show`.
    assert!(!run.stderr.contains("WARN"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "2 images could not be indexed, by cause (all of them: acr-index runs show 1):"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("    2 × "), "{}", run.stderr);
    // Every failure is still in the run record.
    let one = env
        .run(&["runs", "show", "1", "--format", "json"])
        .success()
        .json();
    assert_eq!(one["errors"].as_array().unwrap().len(), 2, "{one}");
}
