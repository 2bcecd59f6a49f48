//! Request economy against the ACR fake (support/fake_acr_economy*.rs):
//! token requests for whole runs with and without ABAC, ABAC batches that
//! keep within the front end's header limit, warm runs that make no
//! manifest, blob or referrers request, a throttled registry that fails no item,
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

/// Rows `query` answers: every image the run indexed.
fn rows_in_index(env: &Env) -> usize {
    env.run(&["query", "--format", "json"])
        .success()
        .json()
        .as_array()
        .unwrap()
        .len()
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
    // Listing pages + one GET per manifest and per config + one referrers
    // listing per new manifest + the token. No challenge: with ACR
    // credentials the token is asked for straight away.
    let minimum = 1 + repos as u64 + 3 * images as u64;
    assert_eq!(cold.count("referrers"), images as u64, "{cold:?}");
    assert_eq!(cold.count("other"), 0, "{cold:?}");
    assert_eq!(registry_requests(&cold), minimum + 1, "{cold:?}");
    assert_eq!(cold.unauthorized, 0, "{cold:?}");
    // acr-index counts the token request in its own figures too.
    assert_eq!(run["requests"]["token"], 1, "{run}");

    // The run after a cold one may look each repository up once more; the
    // one after that makes catalog pages + one lookup per repository.
    let (_, _) = index(&env, &f, &[]).await;
    let (warm, run) = index(&env, &f, &[]).await;
    assert_eq!(run["failures"], 0);
    assert_eq!(
        warm.count("manifest") + warm.count("blob") + warm.count("referrers") + warm.count("other"),
        0,
        "{warm:?}"
    );
    assert_eq!(warm.count("token"), 1, "{warm:?}");
    assert_eq!(registry_requests(&warm), 1 + repos as u64 + 1, "{warm:?}");
}

fn abac() -> Config {
    Config {
        abac: true,
        ..Config::default()
    }
}

/// Every scope an ABAC registry is asked for names a repository (or the catalog).
fn no_wildcard(s: &Stats) {
    for scopes in &s.token_scopes {
        assert!(
            scopes
                .iter()
                .all(|x| !x.contains('*') || x == "registry:catalog:*"),
            "{scopes:?}"
        );
    }
}

fn covered(scopes: &[String]) -> usize {
    scopes
        .iter()
        .filter(|s| s.starts_with("repository:"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abac_registries_get_many_repository_scopes_per_token_request() {
    // The benchmark's shape: 100 repositories named `bench/svcNNNN`.
    let (repos, images) = (100, 100);
    let f = fake(abac(), images, repos).await;
    // Through the Entra exchange: the refresh token it returns says ABAC.
    let env = Env::new().var("ACR_INDEX_AAD_TOKEN", AAD_TOKEN);
    let (cold, run) = index(&env, &f, &[]).await;
    assert_eq!(run["failures"], 0, "{run}");
    assert_eq!(rows_in_index(&env), images);
    assert_eq!(cold.count("exchange"), 1);
    no_wildcard(&cold);
    // Cold: the catalog's token (nothing known yet to ride along), then
    // the 100 repositories the catalog named in two requests: a token
    // whose Authorization header stays under nginx's 8 KiB holds 52 of
    // these names by the planner's estimate (src/registry/auth/scopes.rs).
    assert_eq!(cold.count("token"), 3, "{:?}", cold.token_scopes);
    assert_eq!(cold.token_scopes[0], ["registry:catalog:*"]);
    // Repository tasks run in parallel: either batch may be asked first.
    let mut sizes: Vec<usize> = cold.token_scopes[1..].iter().map(|s| covered(s)).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [48, 52], "{:?}", cold.token_scopes);

    // The next runs know the repositories from the store before the
    // catalog: its token request names the first 52 too, and one more
    // request covers the other 48. Two token requests.
    for run_no in ["second", "warm"] {
        let (warm, run) = index(&env, &f, &[]).await;
        assert_eq!(run["failures"], 0, "{run_no}: {run}");
        no_wildcard(&warm);
        assert_eq!(warm.count("token"), 2, "{run_no}: {:?}", warm.token_scopes);
        assert_eq!(warm.token_scopes[0][0], "registry:catalog:*");
        assert_eq!(covered(&warm.token_scopes[0]), 52, "{run_no}");
        assert_eq!(covered(&warm.token_scopes[1]), 48, "{run_no}");
        if run_no == "warm" {
            assert_eq!(
                warm.count("manifest")
                    + warm.count("blob")
                    + warm.count("referrers")
                    + warm.count("other"),
                0,
                "{warm:?}"
            );
            // The catalog page (no 401 first), a lookup per repository,
            // the two tokens and the Entra exchange.
            assert_eq!(
                registry_requests(&warm),
                1 + repos as u64 + 2 + 1,
                "{warm:?}"
            );
        }
    }
}

/// A repository name of `len` characters as the distribution grammar
/// allows: lowercase alphanumeric components joined by `/`, `-` inside.
fn long_name(i: usize, len: usize) -> String {
    let mut n = format!("team{i:02}");
    let mut k = 0;
    while n.len() < len {
        n.push_str(&format!("/platform-services-component{k}"));
        k += 1;
    }
    n.truncate(len);
    n.trim_end_matches(['-', '/']).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abac_batches_keep_the_token_header_under_the_front_ends_limit() {
    let f = fake(abac(), 0, 0).await;
    // The fake's front end refuses what nginx would: one header line over 8 KiB.
    let r = reqwest::Client::new()
        .get(format!("{}/v2/", f.base))
        .header("authorization", format!("Bearer {}", "x".repeat(8200)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Request Header Or Cookie Too Large"));

    // 40 repositories of 180 to 235 characters: a token naming 32 of them
    // would make a header of about 14 KiB.
    let names: Vec<String> = (0..40).map(|i| long_name(i, 180 + i * 55 / 39)).collect();
    for (i, n) in names.iter().enumerate() {
        assert!((175..=235).contains(&n.len()), "{n}");
        f.put_image(n, "v1", serde_json::json!({"build": i.to_string()}));
    }
    f.reset_stats();
    let env = Env::new().var("ACR_INDEX_REFRESH_TOKEN", &f.refresh_token());
    for run_no in ["cold", "second"] {
        let (s, run) = index(&env, &f, &[]).await;
        assert_eq!(run["failures"], 0, "{run_no}: {run}");
        assert_eq!(s.too_large, 0, "{run_no}: {s:?}");
        no_wildcard(&s);
        // Still batched: several repositories per token request.
        let most = s.token_scopes.iter().map(|x| covered(x)).max().unwrap();
        assert!((8..32).contains(&most), "{run_no}: {:?}", s.token_scopes);
        let all: usize = s.token_scopes.iter().map(|x| covered(x)).sum();
        assert_eq!(all, names.len(), "{run_no}: each repository named once");
    }
    assert_eq!(rows_in_index(&env), names.len());
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
    assert_eq!(rows_in_index(&env), images);
    // Everything the run needed was admitted once (one referrers listing
    // per new manifest included).
    assert_eq!(
        registry_requests(&cold) - cold.throttled,
        1 + repos as u64 + 3 * images as u64 + 1,
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
