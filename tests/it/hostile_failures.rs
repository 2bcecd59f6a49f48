//! Failures say what happened, fast: deleted repositories, missing
//! `--repo` names, unreachable registries, a full disk, errors that cannot
//! heal, and hostile shapes (deep and wide indexes, repeated names).

use crate::hostile_auth::{index, last_run, run, run_texts};
use crate::support::cli::Env;
use crate::support::fake_hostile::*;
use crate::support::fixtures::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// ACR's recorded answer to a request whose URI contains `uri_part`.
fn recorded(file: &str, uri_part: &str, status: u16) -> Handler {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/acr-recordings"))
        .find(|d| d.is_dir())
        .expect("../shared/acr-recordings");
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let entry = doc["Entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["RequestUri"].as_str().unwrap().contains(uri_part) && e["StatusCode"] == status)
        .unwrap_or_else(|| panic!("{file} has no {status} for {uri_part}"))
        .clone();
    let body = serde_json::to_vec(&entry["ResponseBody"]).unwrap();
    fixed(
        StatusCode::from_u16(status).unwrap(),
        &[("content-type", "application/json; charset=utf-8".into())],
        body,
    )
}

fn acr_tags(h: &Hostile, repo: &str, tags: &[(&str, &str)]) {
    let tags: Vec<Value> = tags
        .iter()
        .map(|(t, d)| json!({"name": t, "digest": d, "lastUpdateTime": "2024-01-24T06:16:24.927259Z"}))
        .collect();
    h.on(
        &format!("/acr/v1/{repo}/_tags"),
        json_reply(
            StatusCode::OK,
            json!({"registry": h.host(), "imageName": repo, "tags": tags}),
        ),
    );
    h.on(
        &format!("/acr/v1/{repo}"),
        json_reply(
            StatusCode::OK,
            json!({"imageName": repo, "lastUpdateTime": "2024-01-24T06:18:29.6664957Z"}),
        ),
    );
}

fn current_tags(env: &Env) -> Vec<String> {
    let q = run(env, &["query", "--format", "json"]).success().json();
    let mut t: Vec<String> = q
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["repository"].as_str().unwrap(),
                r["tag"].as_str().unwrap()
            )
        })
        .collect();
    t.sort();
    t
}

/// Current tags in the database, indexes included.
fn stored_tags(env: &Env) -> Vec<String> {
    let db = rusqlite::Connection::open(env.db()).unwrap();
    let mut q = db
        .prepare(
            "SELECT r.name || ':' || t.name FROM tags t JOIN repositories r ON r.id = t.repository_id
             WHERE t.removed_at IS NULL ORDER BY 1",
        )
        .unwrap();
    let rows = q.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_acr_repository_retires_its_tags_and_is_not_a_failure() {
    let h = Hostile::start().await;
    let gone = h.image("gone", "v1", json!({}));
    let kept = h.image("kept", "v1", json!({}));
    h.on(
        "/acr/v1/_catalog",
        json_reply(StatusCode::OK, json!({"repositories": ["gone", "kept"]})),
    );
    acr_tags(&h, "gone", &[("v1", &gone)]);
    acr_tags(&h, "kept", &[("v1", &kept)]);
    let env = Env::new();
    index(&env, &h, &["--api", "acr"]).success();
    assert_eq!(current_tags(&env), ["gone:v1", "kept:v1"]);

    // Deleted; the catalog still names it (ACR's catalog lags), and the
    // repository and its tags answer ACR's recorded 404 NAME_UNKNOWN.
    h.on(
        "/acr/v1/gone",
        recorded("go-errors.json", "/acr/v1/wrong-name?", 404),
    );
    h.on(
        "/acr/v1/gone/_tags",
        recorded("go-errors.json", "/acr/v1/wrong-name/_tags", 404),
    );
    for _ in 0..2 {
        let out = index(&env, &h, &["--api", "acr"]).success();
        assert_eq!(last_run(&env).0, "ok", "{}", out.stderr);
        assert_eq!(current_tags(&env), ["kept:v1"]);
    }
    // History kept: the retired tag is still in the database.
    let db = rusqlite::Connection::open(env.db()).unwrap();
    let removed: i64 = db
        .query_row(
            "SELECT count(*) FROM tags WHERE name = 'v1' AND removed_at IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(removed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_repo_name_is_a_failure_with_a_warning() {
    let h = Hostile::start().await;
    h.image("app", "v1", json!({}));
    h.listing(&[("app", &["v1"])]);
    let env = Env::new();
    let out = index(
        &env,
        &h,
        &["--api", "v2", "--repo", "app", "--repo", "nosuch"],
    )
    .expect_code(3);
    assert!(out.stderr.contains("nosuch"), "{}", out.stderr);
    assert!(run_texts(&env).contains("repository nosuch does not exist"));
    // On ACR too, with its recorded 404.
    h.on(
        "/acr/v1/nosuch/_tags",
        recorded("go-errors.json", "/acr/v1/wrong-name/_tags", 404),
    );
    let env = Env::new();
    index(&env, &h, &["--api", "acr", "--repo", "nosuch"]).expect_code(3);
    assert_eq!(last_run(&env).0, "partial");
}

/// The single `acr-index:` line of a failed run.
fn the_error_line(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("acr-index:"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    // Nothing was retried (the summary line would say so).
    assert!(!stderr.contains("requests were retried"), "{stderr}");
    lines[0].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_registry_fails_fast_with_one_line_that_says_what_to_do() {
    let env = Env::new();
    let out = run(&env, &["index", "--registry", "myacr"]).expect_code(1);
    let line = the_error_line(&out.stderr);
    assert!(line.contains("--registry myacr.azurecr.io"), "{line}");
    assert_eq!(last_run(&env).0, "failed");

    // https:// against a plain-HTTP registry.
    let h = Hostile::start().await;
    h.listing(&[]);
    let https = format!("https://{}", h.host());
    let out = run(&env, &["index", "--registry", &https, "--api", "v2"]).expect_code(1);
    let line = the_error_line(&out.stderr);
    assert!(
        line.contains(&format!("--registry http://{}", h.host())),
        "{line}"
    );

    // A certificate from an unknown CA.
    let acr = crate::support::fake_acr::FakeAcr::start_tls(Default::default()).await;
    let out = run(&env, &["index", "--registry", &acr.base]).expect_code(1);
    let line = the_error_line(&out.stderr);
    assert!(line.contains("--ca-file"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_that_cannot_heal_are_not_retried() {
    let h = Hostile::start().await;
    h.image("app", "v1", json!({}));
    h.listing(&[("app", &["v1", "v2"])]);
    h.on(
        "/v2/app/manifests/v2",
        json_reply(
            StatusCode::BAD_REQUEST,
            json!({"errors": [{"code": "MANIFEST_INVALID"}]}),
        ),
    );
    let env = Env::new();
    index(&env, &h, &["--api", "v2"]).expect_code(3);
    assert_eq!(h.count("/v2/app/manifests/v2"), 1);
}

/// A chain of `depth` indexes over one image, served under `tag`.
fn chain(h: &Hostile, repo: &str, tag: &str, depth: usize) {
    let top = h.image(repo, "base", json!({}));
    let mut child = Descriptor {
        media_type: DOCKER_MANIFEST.into(),
        digest: top,
        size: 1,
        platform: None,
        annotations: Default::default(),
        artifact_type: None,
    };
    for _ in 0..depth {
        let (body, _) =
            index_manifest(Kind::Oci, std::slice::from_ref(&child), &Default::default());
        let d = h.manifest(repo, "unused", OCI_INDEX, body.clone());
        child = Descriptor::of(OCI_INDEX, &body);
        assert_eq!(child.digest, d);
    }
    h.manifest(repo, tag, OCI_INDEX, {
        let (body, _) = index_manifest(Kind::Oci, &[child], &Default::default());
        body
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_and_wide_indexes_fail_their_item_only() {
    let h = Hostile::start().await;
    chain(&h, "deep", "v1", 4000);
    chain(&h, "ok", "v1", 2);
    let base = h.image("wide", "base", json!({}));
    let children: Vec<Descriptor> = (0..2000)
        .map(|_| Descriptor {
            media_type: DOCKER_MANIFEST.into(),
            digest: base.clone(),
            size: 1,
            platform: None,
            annotations: Default::default(),
            artifact_type: None,
        })
        .collect();
    let (body, _) = index_manifest(Kind::Oci, &children, &Default::default());
    h.manifest("wide", "v1", OCI_INDEX, body);
    h.listing(&[("deep", &["v1"]), ("ok", &["v1"]), ("wide", &["v1"])]);
    let env = Env::new();
    index(&env, &h, &["--api", "v2"]).expect_code(3);
    let texts = run_texts(&env);
    assert!(texts.contains("nested more than"), "{texts}");
    assert!(texts.contains("more than the 1024 allowed"), "{texts}");
    assert_eq!(stored_tags(&env), ["ok:v1"], "{texts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_catalog_names_are_visited_once() {
    let h = Hostile::start().await;
    h.image("app", "v1", json!({}));
    h.on(
        "/v2/_catalog",
        json_reply(
            StatusCode::OK,
            json!({"repositories": ["app", "app", "app"]}),
        ),
    );
    h.on(
        "/v2/app/tags/list",
        json_reply(StatusCode::OK, json!({"name": "app", "tags": ["v1", "v1"]})),
    );
    let env = Env::new();
    index(&env, &h, &["--api", "v2"]).success();
    assert_eq!(h.count("/v2/app/tags/list"), 1);
}

/// The digest of a signed schema 1 manifest is its payload's (the body
/// without the signatures), as docker computes it; real corpus manifests.
#[test]
fn signed_schema1_is_verified_by_its_payload() {
    use acr_index::oci::{manifest_digest, verify_manifest, Digest, Manifest};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/realworld-corpus/manifests/containers-image"))
        .find(|d| d.is_dir())
        .expect("../shared/realworld-corpus");
    let read = |n: &str| std::fs::read(dir.join(n)).unwrap();
    let (signed, unsigned) = (
        read("v2s1.manifest.json"),
        read("v2s1-unsigned.manifest.json"),
    );
    let digest = Digest::sha256_of(&unsigned);
    assert_ne!(Digest::sha256_of(&signed), digest);
    assert_eq!(manifest_digest(&signed), digest);
    assert_eq!(manifest_digest(&unsigned), digest);
    verify_manifest(&digest, &signed).unwrap();
    verify_manifest(&digest, &unsigned).unwrap();
    assert!(verify_manifest(&digest, &read("schema1.json")).is_err());
    assert!(matches!(
        Manifest::parse(None, &signed).unwrap(),
        Manifest::Schema1 {
            config: Some(_),
            ..
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_schema1_manifests_index_by_their_payload() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/realworld-corpus/manifests/containers-image"))
        .find(|d| d.is_dir())
        .unwrap();
    let signed = std::fs::read(dir.join("v2s1.manifest.json")).unwrap();
    let unsigned = std::fs::read(dir.join("v2s1-unsigned.manifest.json")).unwrap();
    let payload_digest = digest_of(&unsigned);
    let h = Hostile::start().await;
    // As distribution does: the signed body, the payload's digest.
    let headers = [
        (
            "content-type",
            "application/vnd.docker.distribution.manifest.v1+prettyjws".to_string(),
        ),
        ("docker-content-digest", payload_digest.clone()),
    ];
    h.on("/v2/", fixed(StatusCode::OK, &[], b"{}".to_vec()));
    h.on(
        "/v2/old/manifests/v1",
        fixed(StatusCode::OK, &headers, signed.clone()),
    );
    h.on(
        &format!("/v2/old/manifests/{payload_digest}"),
        fixed(StatusCode::OK, &headers, signed),
    );
    h.listing(&[("old", &["v1"])]);
    let env = Env::new();
    index(&env, &h, &["--api", "v2"]).success();
    let q = run(&env, &["query", "--format", "json"]).success().json();
    assert_eq!(q[0]["digest"], payload_digest.as_str(), "{q}");
    assert_eq!(h.count("/v2/old/manifests/v1"), 1, "no retries");
}

#[test]
fn numeric_flags_out_of_range_are_usage_errors() {
    let env = Env::new();
    for bad in [
        ["--max-rps", "1e-20"],
        ["--max-rps", "NaN"],
        ["--lock-timeout", "18446744073709551615"],
        ["--timeout", "0"],
        ["--retries", "1000"],
    ] {
        let mut args = vec!["index", "--registry", "127.0.0.1:9"];
        args.extend_from_slice(&bad);
        let out = env.run(&args).expect_code(2);
        assert!(out.stderr.contains(bad[0]), "{}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
    let help = env.run(&["index", "--help"]).success();
    assert!(help.stdout.contains("0.001 to 100000"), "{}", help.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_summarised_once_at_the_default_level() {
    let h = Hostile::start().await;
    h.image("app", "v1", json!({}));
    h.listing(&[("app", &["v1"])]);
    let first = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    h.on(
        "/v2/app/tags/list",
        with(move |_| {
            if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &[("retry-after", "0".into())],
                    Vec::new(),
                )
            } else {
                let body = json!({"name": "app", "tags": ["v1"]}).to_string();
                reply(StatusCode::OK, &[], body.into_bytes())
            }
        }),
    );
    let env = Env::new();
    let out = index(&env, &h, &["--api", "v2"]).success();
    assert_eq!(
        out.stderr.matches("requests were retried").count(),
        1,
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("retried=1"), "{}", out.stderr);
}
