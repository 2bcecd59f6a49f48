//! `serve`'s JSON API answers exactly what the commands print with
//! `--format json` on the same database; errors are JSON with 400, 404 and
//! 503; the token guards /api/ only; responses carry the safety headers.

use super::answers_fixture::{dg, Env, API_SHA, REG};
use crate::support::serve::{header, Server};

const PODS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pods.json");

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The API's body for `path` equals the command's stdout, byte for byte.
async fn same(server: &Server, env: &Env, path: &str, args: &[&str]) {
    let (status, ct, body) = server.get(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    let cli = env.run(args).stdout;
    assert_eq!(
        body,
        cli,
        "{path} differs from acr-index {}",
        args.join(" ")
    );
    if ct.starts_with("application/json") {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(v.is_array() || v.is_object());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn api_objects_are_the_commands_json() {
    let env = Env::provenance();
    let server = Server::start(&env.db, &[]);
    same(
        &server,
        &env,
        "/api/v1/images",
        &["query", "--format", "json"],
    )
    .await;
    same(
        &server,
        &env,
        &format!(
            "/api/v1/images?label={}&repo=team%2F*",
            enc("sourceversion=13c0*")
        ),
        &[
            "query",
            "--label",
            "sourceversion=13c0*",
            "--repo",
            "team/*",
            "--format",
            "json",
        ],
    )
    .await;
    same(
        &server,
        &env,
        "/api/v1/images?tag=latest&tag=v2&since=2024-01-01",
        &[
            "query",
            "--tag",
            "latest",
            "--tag",
            "v2",
            "--since",
            "2024-01-01",
            "--format",
            "json",
        ],
    )
    .await;
    same(
        &server,
        &env,
        "/api/v1/images?repo=team%2Fapi&format=csv",
        &["query", "--repo", "team/api", "--format", "csv"],
    )
    .await;
    // A digest prefix resolves as `query --digest` resolves it.
    let prefix = &dg("web-index").to_string()[..19];
    same(
        &server,
        &env,
        &format!("/api/v1/images?digest={}", enc(prefix)),
        &["query", "--digest", prefix, "--format", "json"],
    )
    .await;
    // commit= (a prefix) gives what the label that carries it gives.
    same(
        &server,
        &env,
        &format!("/api/v1/images?commit={}", &API_SHA[..7]),
        &[
            "query",
            "--label",
            &format!("sourceversion={}*", &API_SHA[..7]),
            "--format",
            "json",
        ],
    )
    .await;
    same(
        &server,
        &env,
        "/api/v1/images?branch=release%2F2.0",
        &[
            "query",
            "--label",
            "sourcebranch=refs/heads/release/2.0",
            "--format",
            "json",
        ],
    )
    .await;
    for reference in [
        format!("{REG}/team/api:latest"),
        "team/api:latest".to_string(),
        dg("web-index").to_string(),
        format!("team/web@{}", dg("web-arm64")),
        dg("api-1.2-config").to_string(),
    ] {
        same(
            &server,
            &env,
            &format!("/api/v1/images/{}", enc(&reference)),
            &["show", &reference, "--format", "json"],
        )
        .await;
    }
    // Slashes need not be encoded.
    same(
        &server,
        &env,
        "/api/v1/images/team/api:1.2",
        &["show", "team/api:1.2", "--format", "json"],
    )
    .await;
    same(&server, &env, "/api/v1/runs", &["runs", "--format", "json"]).await;
    same(
        &server,
        &env,
        "/api/v1/runs?limit=1",
        &["runs", "--limit", "1", "--format", "json"],
    )
    .await;

    let pods = std::fs::read(PODS).unwrap();
    let r = reqwest::Client::new()
        .post(server.url("/api/v1/running"))
        .body(pods)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cli = env
        .run(&["running", "--pods", PODS, "--format", "json"])
        .stdout;
    assert_eq!(r.text().await.unwrap(), cli);
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_json_with_their_status_and_no_path() {
    let env = Env::provenance();
    let server = Server::start(&env.db, &[]);
    let tmp = env.dir.path().display().to_string();
    for (path, status, says) in [
        (
            "/api/v1/images/team%2Fapi%3Anope",
            404,
            "no image matches team/api:nope",
        ),
        (
            "/api/v1/images/team%2Fapi%40sha256%3Azz",
            400,
            "invalid digest",
        ),
        ("/api/v1/images?label=%3Dx", 400, "label"),
        ("/api/v1/images?since=yesterday", 400, "since"),
        ("/api/v1/images?nope=1", 400, "unknown parameter"),
        ("/api/v1/runs?limit=0", 400, "limit"),
        ("/api/v1/nothing", 404, "no such endpoint"),
    ] {
        let (got, ct, body) = server.get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(ct, "application/json", "{path}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let msg = v["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: {body}"));
        assert!(msg.contains(says), "{path}: {msg}");
        assert!(!body.contains(&tmp), "{path} leaks a path: {body}");
    }
    let client = reqwest::Client::new();
    let r = client
        .post(server.url("/api/v1/running"))
        .body("{\"kind\":\"Node\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client
        .post(server.url("/api/v1/running"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Bodies are capped: a pods listing larger than 16 MiB is refused unread.
    let big = vec![b' '; 17 * 1024 * 1024];
    let r = client
        .post(server.url("/api/v1/running"))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // The server closes that connection unread: go on with a new client.
    let client = reqwest::Client::new();
    // Nothing writes: other methods are refused.
    let r = client
        .delete(server.url("/api/v1/images/team%2Fapi%3Alatest"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = client
        .post(server.url("/api/v1/images"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_database_is_503_and_not_ready_until_it_appears() {
    let env = Env::empty();
    let server = Server::start(&env.db, &[]);
    assert_eq!(server.get("/healthz").await.0, 200);
    let (status, _, body) = server.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    let (status, _, body) = server.get("/api/v1/images").await;
    assert_eq!(status, 503);
    assert_eq!(
        body.trim(),
        r#"{
  "error": "the database cannot be read"
}"#
    );
    assert!(!body.contains(&env.dir.path().display().to_string()));
    // The first index run writes the database: no restart needed.
    let (first, _) = super::answers_fixture::provenance_records();
    super::answers_fixture::build_db(&env.db, &[first]);
    assert_eq!(server.get("/readyz").await.0, 200);
    let (status, _, body) = server.get("/api/v1/images?repo=team%2Fweb").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("web-shop") || body.contains("team/web"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_guards_the_api_but_not_the_probes() {
    let env = Env::provenance();
    let token_file = env.dir.path().join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let server = Server::start(&env.db, &["--token-file", token_file.to_str().unwrap()]);
    let client = reqwest::Client::new();
    let get = |auth: Option<&'static str>, path: &'static str| {
        let mut req = client.get(server.url(path));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Bearer s3cret-toke"),
        Some("Basic s3cret-token"),
    ] {
        let r = get(auth, "/api/v1/runs").await.unwrap();
        assert_eq!(r.status(), 401, "{auth:?}");
        assert_eq!(header(&r, "www-authenticate"), "Bearer");
        let body = r.text().await.unwrap();
        assert!(body.contains("\"error\""), "{body}");
        assert!(!body.contains("s3cret"), "{body}");
    }
    let r = get(Some("Bearer s3cret-token"), "/api/v1/runs")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cli = env.run(&["runs", "--format", "json"]).stdout;
    assert_eq!(r.text().await.unwrap(), cli);
    assert_eq!(get(None, "/healthz").await.unwrap().status(), 200);
    assert_eq!(get(None, "/readyz").await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_and_api_carry_the_safety_headers() {
    let env = Env::provenance();
    let server = Server::start(&env.db, &[]);
    for path in [
        "/",
        "/images/team%2Fapi%3Alatest",
        "/runs",
        "/api/v1/runs",
        "/nope",
    ] {
        let r = reqwest::get(server.url(path)).await.unwrap();
        let csp = header(&r, "content-security-policy");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(
            !csp.contains("script-src"),
            "{path}: no script source is allowed: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_give_per_registry_figures_and_request_counts() {
    let env = Env::provenance();
    let server = Server::start(&env.db, &[]);
    assert_eq!(server.get("/api/v1/runs").await.0, 200);
    let (status, ct, text) = server.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(ct.contains("openmetrics-text"), "{ct}");
    let value = |name: &str| -> f64 {
        let prefix = format!("{name}{{registry=\"{REG}\"}} ");
        let line = text
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"));
        line[prefix.len()..].parse().unwrap()
    };
    // base/dotnet:7.0, team/api:{1.2,latest,sbom}, team/web:{v2,latest}, oss/tool:1.0
    assert_eq!(value("acr_index_tags"), 7.0);
    // Distinct digests they point at: base, api-1.2, sbom, web-index, tool.
    assert_eq!(value("acr_index_images"), 5.0);
    // The fixture's last run had no failures; the first had one.
    assert_eq!(value("acr_index_last_run_failures"), 0.0);
    assert!(value("acr_index_last_success_age_seconds") >= 0.0);
    assert!(text.contains("acr_index_database_up 1"), "{text}");
    assert!(
        text.contains(
            r#"acr_index_http_requests_total{method="GET",route="/api/v1/runs",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains("acr_index_http_request_duration_seconds_bucket{"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_go_on_while_a_writer_holds_the_database() {
    let env = Env::provenance();
    let server = Server::start(&env.db, &[]);
    let writer = acr_index::store::Store::open_rw(&env.db).unwrap();
    writer
        .connection()
        .execute_batch(
            "BEGIN IMMEDIATE; INSERT INTO registries (host) VALUES ('uncommitted.example');",
        )
        .unwrap();
    let (status, _, body) = server.get("/api/v1/images?tag=latest").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("team/api"));
    let (_, _, metrics) = server.get("/metrics").await;
    assert!(!metrics.contains("uncommitted.example"));
    assert_eq!(server.get("/readyz").await.0, 200);
    writer.connection().execute_batch("ROLLBACK").unwrap();
}
