//! Request economy against the ACR fake (support/fake_acr_economy*.rs):
//! token requests for whole runs with and without ABAC, warm runs that make
//! no manifest or blob request, a throttled registry that fails no item,
//! and `--concurrency` as a hard cap on requests in flight.

use crate::support::cli::Env;
use crate::support::fake_acr_economy::{Config, FakeAcrEconomy, Stats, AAD_TOKEN};
use std::time::Duration;

async fn fake(config: Config, images: usize, repos: usize) -> FakeAcrEconomy {
    let f = FakeAcrEconomy::start(config).await;
    f.populate(images, repos);
    f
}

/// One cold-then-warm index run; the fake's counters for it.
async fn index(env: &Env, f: &FakeAcrEconomy, extra: &[&str]) -> (Stats, serde_json::Value) {
    f.reset_stats();
    let mut args = vec!["index", "--registry", &f.base, "--api", "acr"];
    args.extend_from_slice(extra);
    let args: Vec<String> = args.into_iter().map(str::to_string).collect();
    let env_vars = env.vars.clone();
    let db = env.db();
    let home = env.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_acr-index"));
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home.join("home"))
            .env("ACR_INDEX_DB", &db)
            .args(&args);
        for (k, v) in env_vars {
            c.env(k, v);
        }
        c.output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "index failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = env
        .run(&["runs", "--format", "json", "--limit", "1"])
        .success();
    (f.stats(), runs.json()[0].clone())
}

fn registry_requests(s: &Stats) -> u64 {
    s.total() - s.count("storage")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_wildcard_token_serves_a_whole_run_cold_and_warm() {
    let (repos, images) = (6, 12);
    let f = fake(Config::default(), images, repos).await;
    let env = Env::new().var("ACR_INDEX_REFRESH_TOKEN", &f.refresh_token());

    let (cold, run) = index(&env, &f, &[]).await;
    assert_eq!(run["failures"], 0);
    assert_eq!(cold.count("token"), 1, "{cold:?}");
    let asked = &cold.token_scopes[0];
    assert!(
        asked.contains(&"registry:catalog:*".to_string()),
        "{asked:?}"
    );
    assert!(
        asked.contains(&"repository:*:pull,metadata_read".to_string()),
        "{asked:?}"
    );
    // Listing pages + one GET per manifest and per config + the token. No
    // challenge: with ACR credentials the token is asked for straight away.
    // This fake has no referrers API: at most one failed probe per
    // repository (counted as "other"), then the tag schema.
    let minimum = 1 + repos as u64 + 2 * images as u64;
    let probes = cold.count("other");
    assert!(probes <= repos as u64, "{cold:?}");
    assert_eq!(registry_requests(&cold) - probes, minimum + 1, "{cold:?}");
    assert_eq!(cold.unauthorized, 0, "{cold:?}");
    // acr-index counts the token request in its own figures too.
    assert_eq!(run["requests"]["token"], 1, "{run}");

    // The run after a cold one may look each repository up once more; the
    // one after that makes catalog pages + one lookup per repository.
    let (_, _) = index(&env, &f, &[]).await;
    let (warm, run) = index(&env, &f, &[]).await;
    assert_eq!(run["failures"], 0);
    assert_eq!(
        warm.count("manifest") + warm.count("blob") + warm.count("other"),
        0,
        "{warm:?}"
    );
    assert_eq!(warm.count("token"), 1, "{warm:?}");
    assert_eq!(registry_requests(&warm), 1 + repos as u64 + 1, "{warm:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abac_registries_get_many_repository_scopes_per_token_request() {
    let (repos, images) = (40, 40);
    let f = fake(
        Config {
            abac: true,
            ..Config::default()
        },
        images,
        repos,
    )
    .await;
    // Through the Entra exchange: the refresh token it returns says ABAC.
    let env = Env::new().var("ACR_INDEX_AAD_TOKEN", AAD_TOKEN);
    let (cold, run) = index(&env, &f, &[]).await;
    assert_eq!(run["failures"], 0, "{run}");
    assert_eq!(
        env.run(&["query", "--format", "json"])
            .success()
            .json()
            .as_array()
            .unwrap()
            .len(),
        images
    );
    // The catalog's token, then 40 repositories in batches of at most 32.
    let tokens = cold.count("token");
    assert!(
        (2..=4).contains(&tokens),
        "{tokens} token requests: {:?}",
        cold.token_scopes
    );
    assert_eq!(cold.count("exchange"), 1);
    for scopes in &cold.token_scopes {
        assert!(scopes.len() <= 33, "{scopes:?}");
        assert!(
            scopes
                .iter()
                .all(|s| !s.contains('*') || s == "registry:catalog:*"),
            "{scopes:?}"
        );
    }
    assert!(
        cold.token_scopes.iter().any(|s| s.len() >= 30),
        "{:?}",
        cold.token_scopes
    );

    let (_, _) = index(&env, &f, &[]).await;
    let (warm, run) = index(&env, &f, &[]).await;
    assert_eq!(run["failures"], 0);
    assert_eq!(
        warm.count("manifest") + warm.count("blob") + warm.count("other"),
        0,
        "{warm:?}"
    );
    assert!(warm.count("token") <= 4, "{:?}", warm.token_scopes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_registry_fails_no_item() {
    let (repos, images) = (10, 30);
    let f = fake(
        Config {
            throttle_rps: Some(40.0),
            ..Config::default()
        },
        images,
        repos,
    )
    .await;
    let env = Env::new().var("ACR_INDEX_REFRESH_TOKEN", &f.refresh_token());
    let (cold, run) = index(&env, &f, &["--concurrency", "16"]).await;
    assert_eq!(run["failures"], 0, "{run}");
    assert_eq!(run["status"], "ok", "{run}");
    assert_eq!(
        env.run(&["query", "--format", "json"])
            .success()
            .json()
            .as_array()
            .unwrap()
            .len(),
        images
    );
    // Everything the run needed was admitted once.
    let probes = cold.count("other");
    assert!(probes <= repos as u64, "{cold:?}");
    assert_eq!(
        registry_requests(&cold) - cold.throttled - probes,
        1 + repos as u64 + 2 * images as u64 + 1,
        "{cold:?}"
    );
    // And with a ceiling at the registry's limit.
    let env = Env::new().var("ACR_INDEX_REFRESH_TOKEN", &f.refresh_token());
    let (_, run) = index(&env, &f, &["--max-rps", "40"]).await;
    assert_eq!(run["failures"], 0, "{run}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_caps_every_request_in_flight() {
    let f = fake(
        Config {
            latency: Duration::from_millis(5),
            ..Config::default()
        },
        60,
        20,
    )
    .await;
    let env = Env::new().var("ACR_INDEX_REFRESH_TOKEN", &f.refresh_token());
    let (s, run) = index(&env, &f, &["--concurrency", "3"]).await;
    assert_eq!(run["failures"], 0);
    assert!(s.peak_in_flight <= 3, "{s:?}");
}
