//! Credentials stay home and no secret reaches any message, against a
//! registry that tries to get them.

use crate::support::cli::{Env, Run};
use crate::support::fake_hostile::*;
use axum::http::StatusCode;
use serde_json::json;

pub fn run(env: &Env, args: &[&str]) -> Run {
    tokio::task::block_in_place(|| env.run(args))
}

pub fn index(env: &Env, h: &Hostile, extra: &[&str]) -> Run {
    let registry = h.url.clone();
    let mut args = vec![
        "index",
        "--registry",
        registry.as_str(),
        "--concurrency",
        "2",
    ];
    args.extend_from_slice(extra);
    run(env, &args)
}

/// Everything the database holds as text about runs.
pub fn run_texts(env: &Env) -> String {
    let db = rusqlite::Connection::open(env.db()).unwrap();
    let mut out = String::new();
    let mut q = db
        .prepare("SELECT coalesce(message, '') FROM run_errors UNION ALL SELECT coalesce(message, '') FROM runs")
        .unwrap();
    for m in q.query_map([], |r| r.get::<_, String>(0)).unwrap() {
        out.push_str(&m.unwrap());
        out.push('\n');
    }
    out
}

#[allow(dead_code)]
pub fn last_run(env: &Env) -> (String, Option<String>) {
    let db = rusqlite::Connection::open(env.db()).unwrap();
    db.query_row(
        "SELECT status, message FROM runs ORDER BY id DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_host_with_its_own_realm_gets_no_credentials() {
    let registry = Hostile::start().await;
    let storage = Hostile::start().await;
    let password = "s3cret-basic-pw";
    registry.gate_basic("user", password);
    let (_, config) = registry.image_and_config("app", "v1", json!({"a": "b"}));
    // The config blob answers with a redirect to storage...
    let storage_url = storage.url.clone();
    registry.on(
        &format!("/v2/app/blobs/{config}"),
        with(move |s| {
            let path = s.target.clone();
            reply(
                StatusCode::TEMPORARY_REDIRECT,
                &[("location", format!("{storage_url}/store{path}"))],
                Vec::new(),
            )
        }),
    );
    // ...where storage answers 401 with a Bearer realm of its own.
    let realm = format!("{}/token", storage.url);
    storage.on_prefix(
        "/store/",
        fixed(
            StatusCode::UNAUTHORIZED,
            &[(
                "www-authenticate",
                format!(r#"Bearer realm="{realm}",service="storage",scope="x""#),
            )],
            Vec::new(),
        ),
    );
    storage.on("/token", json_reply(StatusCode::OK, json!({"token": "t"})));
    registry.listing(&[("app", &["v1"])]);
    let env = Env::new()
        .var("ACR_INDEX_USERNAME", "user")
        .var("ACR_INDEX_PASSWORD", password);
    let out = index(&env, &registry, &["--api", "v2"]).expect_code(3);
    assert_eq!(storage.count("/token"), 0, "storage's realm got a request");
    for s in storage.log() {
        assert_eq!(s.authorization, None, "storage saw credentials: {s:?}");
        assert!(!s.target.contains(password));
    }
    assert!(out.stderr.contains("401"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_names_and_tags_are_failures_not_urls_or_scopes() {
    let h = Hostile::start().await;
    let evil_repo = "evil registry:catalog:* repository:victim:push,pull,delete";
    let evil_tag = "../../../../v2/_catalog";
    h.image("good", "v1", json!({}));
    h.listing(&[("good", &["v1", evil_tag]), (evil_repo, &["v1"])]);
    // A Bearer registry, to see which scopes are asked for.
    let realm = format!("{}/token", h.url);
    h.gate_bearer(&format!(r#"Bearer realm="{realm}",service="svc""#));
    h.on(
        "/token",
        json_reply(StatusCode::OK, json!({"token": "tok"})),
    );
    let env = Env::new();
    let out = index(&env, &h, &["--api", "v2"]).expect_code(3);
    assert!(h.count("/token") > 0);
    for s in h.log() {
        assert!(!s.target.contains("victim"), "{s:?}");
        assert!(!s.target.contains("evil"), "{s:?}");
    }
    // The catalog was fetched once (a 401, then with the token): the tag
    // did not fetch it again.
    assert_eq!(h.count("/v2/_catalog"), 2);
    let texts = run_texts(&env);
    assert!(texts.contains("invalid repository name"), "{texts}");
    assert!(texts.contains("invalid tag"), "{texts}");
    assert!(out.stderr.contains("invalid tag"), "{}", out.stderr);
    // The good image is indexed all the same.
    let q = run(&env, &["query", "--format", "json"]).success().json();
    assert_eq!(q.as_array().unwrap().len(), 1, "{q}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echoing_token_endpoint_leaks_no_secret() {
    let h = Hostile::start().await;
    let realm = format!("{}/token", h.url);
    h.gate_bearer(&format!(r#"Bearer realm="{realm}",service="svc""#));
    // Answers with what it got, in an error code, a body and as bad JSON.
    h.on(
        "/token",
        with(|s| {
            let echoed = format!("{} {}", s.body, s.authorization.clone().unwrap_or_default());
            // The bare secret as the OAuth error code: a short plain word,
            // exactly what an error message would quote.
            let code = secret_sent(&s);
            let body = json!({"error": code, "error_description": echoed}).to_string();
            reply(StatusCode::BAD_REQUEST, &[], body.into_bytes())
        }),
    );
    let cases = [
        (
            "ACR_INDEX_USERNAME",
            "user",
            "ACR_INDEX_PASSWORD",
            "pw-s3cret-basic",
        ),
        ("ACR_INDEX_REFRESH_TOKEN", "rt-s3cret-refresh", "", ""),
    ];
    for (k1, v1, k2, v2) in cases {
        let mut env = Env::new().var(k1, v1);
        if !k2.is_empty() {
            env = env.var(k2, v2);
        }
        let secret = if v2.is_empty() { v1 } else { v2 };
        let out = index(&env, &h, &["--api", "v2", "-v"]);
        assert_ne!(out.status, Some(0));
        assert!(!out.stderr.contains(secret), "{}", out.stderr);
        assert!(!run_texts(&env).contains(secret));
        // Nor in base64 (a Basic header echoed).
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("user:{secret}"));
        assert!(!out.stderr.contains(&b64), "{}", out.stderr);
    }
    // A token answer that is not JSON but quotes the request.
    h.on(
        "/token",
        with(|s| {
            reply(
                StatusCode::OK,
                &[],
                format!("{{\"token\": {}", s.body).into_bytes(),
            )
        }),
    );
    let env = Env::new().var("ACR_INDEX_REFRESH_TOKEN", "rt-s3cret-two");
    let out = index(&env, &h, &["--api", "v2"]);
    assert!(!out.stderr.contains("rt-s3cret-two"), "{}", out.stderr);
    assert!(!run_texts(&env).contains("rt-s3cret-two"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_token_bodies_and_absurd_lifetimes_do_not_crash() {
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let jwt = format!("{}.{}.sig", e.encode("{}"), e.encode(r#"{"exp":1e300}"#));
    let answers = [
        json!({"token": "t1", "expires_in": 18446744073709551615u64}),
        json!({"token": "t2", "expires_in": 1e300}),
        json!({"token": jwt}),
        json!({"token": "t3", "expires_in": -7}),
        json!({"token": "t4", "expires_in": "soon"}),
    ];
    for answer in answers {
        let gate = Hostile::start().await;
        gate.image("app", "v1", json!({}));
        gate.listing(&[("app", &["v1"])]);
        let realm = format!("{}/token", gate.url);
        let challenge = format!(r#"Bearer realm="{realm}",service="svc""#);
        gate.gate_bearer(&challenge);
        gate.on("/token", json_reply(StatusCode::OK, answer.clone()));
        let env = Env::new();
        let out = index(&env, &gate, &["--api", "v2"]);
        assert_eq!(out.status, Some(0), "{answer}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
    // 2 MiB of token: refused, not read whole; a failed run, no crash.
    let h = Hostile::start().await;
    h.image("app", "v1", json!({}));
    h.listing(&[("app", &["v1"])]);
    let challenge = format!(r#"Bearer realm="{}/token",service="svc""#, h.url);
    h.gate_bearer(&challenge);
    h.on(
        "/token",
        with(|_| {
            let body = format!(r#"{{"token":"{}"}}"#, "x".repeat(2 << 20));
            reply(StatusCode::OK, &[], body.into_bytes())
        }),
    );
    let env = Env::new();
    let out = index(&env, &h, &["--api", "v2"]).expect_code(1);
    assert!(out.stderr.contains("limit"), "{}", out.stderr);
}

/// The password or refresh token a token request carried.
fn secret_sent(s: &Seen) -> String {
    use base64::Engine;
    if let Some(b) = s
        .authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Basic "))
    {
        let raw = base64::engine::general_purpose::STANDARD.decode(b).unwrap();
        let raw = String::from_utf8(raw).unwrap();
        return raw.split_once(':').unwrap().1.to_string();
    }
    url::form_urlencoded::parse(s.body.as_bytes())
        .find(|(k, _)| k == "refresh_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_and_federated_tokens_echoed_back_are_scrubbed() {
    let h = Hostile::start().await;
    h.gate_bearer(&format!(
        r#"Bearer realm="{}/oauth2/token",service="{}""#,
        h.url,
        h.host()
    ));
    // Entra ID and the ACR exchange both answer with the secret they got
    // as the OAuth error code.
    let echo = with(|s| {
        let code = url::form_urlencoded::parse(s.body.as_bytes())
            .find(|(k, _)| k == "access_token" || k == "client_assertion")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let body = json!({"error": code, "error_description": s.body}).to_string();
        reply(StatusCode::UNAUTHORIZED, &[], body.into_bytes())
    });
    h.on("/oauth2/exchange", echo.clone());
    h.on("/tenant1/oauth2/v2.0/token", echo);
    let env = Env::new().var("ACR_INDEX_AAD_TOKEN", "aad-s3cret-token");
    let out = index(&env, &h, &["--api", "v2", "-v"]).expect_code(1);
    assert!(h.count("/oauth2/exchange") > 0);
    assert!(!out.stderr.contains("aad-s3cret-token"), "{}", out.stderr);
    assert!(!run_texts(&env).contains("aad-s3cret-token"));

    let env = Env::new();
    let file = env.path().join("federated");
    std::fs::write(&file, "fed-s3cret-assertion\n").unwrap();
    let env = env
        .var("AZURE_FEDERATED_TOKEN_FILE", &file.display().to_string())
        .var("AZURE_CLIENT_ID", "client1")
        .var("AZURE_TENANT_ID", "tenant1")
        .var("AZURE_AUTHORITY_HOST", &h.url);
    let out = index(&env, &h, &["--api", "v2", "-v"]).expect_code(1);
    assert!(h.count("/tenant1/oauth2/v2.0/token") > 0);
    assert!(
        !out.stderr.contains("fed-s3cret-assertion"),
        "{}",
        out.stderr
    );
    assert!(!run_texts(&env).contains("fed-s3cret-assertion"));
}
