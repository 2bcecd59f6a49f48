//! Against the real distribution registry (docker-registry 2.8): htpasswd
//! basic auth, and `auth: token` with a token server in this file that
//! signs RS256 JWTs (x5c header) with the TEST-ONLY key in
//! tests/fixtures/token-auth/ — the flow of Docker Hub, GHCR and Harbor.

use crate::auth_env::Env;
use crate::support::registry::{RealRegistry, TokenAuthConfig};
use crate::support::seed::{ImageSpec, Seeder};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const SERVICE: &str = "acr-index-test-registry";
const ISSUER: &str = "acr-index-test-issuer";
const USER: &str = "indexer";
const PASSWORD: &str = "registry-pw-SECRET";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/token-auth")
        .join(name)
}

/// Seed `repos` x `tags` images into a registry; returns the expected
/// (repository, tag, revision) rows.
async fn seed(s: &Seeder, repos: &[&str], tags: usize) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    for repo in repos {
        for i in 0..tags {
            let (tag, rev) = (format!("v{i}"), format!("{repo}-rev-{i}"));
            let spec = ImageSpec::docker().label("org.opencontainers.image.revision", &rev);
            s.push_image(repo, &tag, &spec).await;
            rows.push((repo.to_string(), tag, rev));
        }
    }
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn htpasswd_basic_auth_indexes_everything() {
    let reg = RealRegistry::start_with_htpasswd(USER, PASSWORD);
    let s = Seeder::with_basic(&reg.base_url(), USER, PASSWORD);
    let expected = seed(&s, &["team/api", "team/web"], 2).await;
    let mut env = Env::new();
    env.set("ACR_INDEX_USERNAME", USER)
        .set("ACR_INDEX_PASSWORD", PASSWORD);
    let r = env.index(&reg.base_url(), &[]).await.ok();
    assert!(!r.stderr().contains(PASSWORD));
    assert_eq!(crate::auth_env::summary(&env.rows().await), expected);
    // Wrong password: a clear failure, not a panic or a hang.
    let mut bad = Env::new();
    bad.set("ACR_INDEX_USERNAME", USER)
        .set("ACR_INDEX_PASSWORD", "wrong-pw-SECRET");
    let r = bad.index(&reg.base_url(), &[]).await.fails();
    assert_eq!(r.code(), Some(1));
    assert!(
        r.stderr()
            .contains("the registry refused the username and password"),
        "{}",
        r.stderr()
    );
    assert!(!r.stderr().contains("wrong-pw-SECRET"));
}

/// How the token server dates its tokens.
#[derive(Clone, Copy)]
struct Lifetimes {
    /// `expires_in` in the response.
    expires_in: u64,
    /// JWT `exp` relative to now (distribution accepts 60 s past it).
    exp_offset: i64,
    /// The first token for each scope is already stale for the registry
    /// while `expires_in` still calls it fresh (clock skew): the registry's
    /// 401 must make the client renew it.
    stale_first: bool,
}

#[derive(Default)]
struct Issued {
    /// Scope strings of each token issued, in order.
    scopes: Vec<String>,
    refused: usize,
}

struct TokenServer {
    realm: String,
    issued: Arc<Mutex<Issued>>,
}

impl TokenServer {
    async fn start(lifetimes: Lifetimes) -> TokenServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let realm = format!("http://{}/token", listener.local_addr().unwrap());
        let issued = Arc::new(Mutex::new(Issued::default()));
        let state = (issued.clone(), lifetimes);
        let app = axum::Router::new()
            .route("/token", axum::routing::get(token))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TokenServer { realm, issued }
    }

    fn registry(&self) -> RealRegistry {
        RealRegistry::start_with_token_auth(TokenAuthConfig {
            realm: self.realm.clone(),
            service: SERVICE.into(),
            issuer: ISSUER.into(),
            rootcertbundle_path: fixture("cert.pem"),
        })
    }

    fn scopes(&self) -> Vec<String> {
        self.issued.lock().unwrap().scopes.clone()
    }
}

type TokenState = (Arc<Mutex<Issued>>, Lifetimes);

async fn token(
    State((issued, life)): State<TokenState>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    );
    let authorized = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&expected);
    let service_ok = q.iter().any(|(k, v)| k == "service" && v == SERVICE);
    if !authorized || !service_ok {
        issued.lock().unwrap().refused += 1;
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let scopes: Vec<String> = q
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .collect();
    let access: Vec<Value> = scopes
        .iter()
        .filter_map(|s| {
            let (rest, actions) = s.rsplit_once(':')?;
            let (kind, name) = rest.split_once(':')?;
            Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
        })
        .collect();
    let key = scopes.join(" ");
    let first = {
        let mut i = issued.lock().unwrap();
        let first = !i.scopes.contains(&key);
        i.scopes.push(key.clone());
        first
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // The run's first request goes out without credentials and uses its one
    // retry on the challenge, so only repository tokens are made stale.
    let exp = if first && life.stale_first && key.starts_with("repository:") {
        now - 120
    } else {
        now + life.exp_offset
    };
    let n = issued.lock().unwrap().scopes.len();
    let claims = json!({
        "iss": ISSUER, "sub": USER, "aud": SERVICE, "exp": exp,
        "nbf": now - 300, "iat": now - 300, "jti": format!("jti-{n}"), "access": access,
    });
    let pem = std::fs::read_to_string(fixture("cert.pem")).unwrap();
    let der_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut header = Header::new(Algorithm::RS256);
    header.x5c = Some(vec![der_b64]);
    let key = EncodingKey::from_rsa_pem(&std::fs::read(fixture("key.pem")).unwrap()).unwrap();
    let jwt = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    axum::Json(json!({"token": jwt, "access_token": jwt, "expires_in": life.expires_in}))
        .into_response()
}

/// A token-auth registry holding the images: seeded through an anonymous
/// registry whose storage is then copied (the Seeder speaks basic only).
async fn seeded_token_registry(
    server: &TokenServer,
    repos: &[&str],
    tags: usize,
) -> (RealRegistry, Vec<(String, String, String)>) {
    let anon = RealRegistry::start();
    let expected = seed(&Seeder::new(&anon.base_url()), repos, tags).await;
    let reg = server.registry();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(anon.dir().join("storage/."))
        .arg(reg.dir().join("storage"))
        .status()
        .unwrap();
    assert!(status.success());
    (reg, expected)
}

fn index_env() -> Env {
    let mut env = Env::new();
    env.set("ACR_INDEX_USERNAME", USER)
        .set("ACR_INDEX_PASSWORD", PASSWORD);
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn token_auth_indexes_everything_and_reuses_tokens() {
    let server = TokenServer::start(Lifetimes {
        expires_in: 300,
        exp_offset: 300,
        stale_first: false,
    })
    .await;
    let (reg, expected) = seeded_token_registry(&server, &["a/one", "b/two", "c/three"], 3).await;
    let env = index_env();
    env.index(&reg.base_url(), &["--concurrency", "4"])
        .await
        .ok();
    assert_eq!(crate::auth_env::summary(&env.rows().await), expected);
    let scopes = server.scopes();
    // The catalog's token, then one token request naming every repository
    // the catalog listed (several `scope` parameters, as the spec allows).
    assert_eq!(scopes.len(), 2, "{scopes:?}");
    assert!(scopes.contains(&"registry:catalog:*".to_string()));
    // In whichever order the repository tasks asked first.
    let mut named: Vec<&str> = scopes[1].split(' ').collect();
    named.sort();
    assert_eq!(
        named,
        [
            "repository:a/one:pull",
            "repository:b/two:pull",
            "repository:c/three:pull"
        ]
    );
    let requests = reg.request_count("GET", "/v2/");
    assert!(requests >= 20, "{requests}");
    assert_eq!(server.issued.lock().unwrap().refused, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_auth_renews_expiring_tokens_during_a_run() {
    // Tokens say `expires_in: 1`, and their exp is set so that the
    // registry (60 s leeway) accepts them for 1-2 s. The run is stretched
    // past that by the product's own --max-rps, not by sleeping here.
    let server = TokenServer::start(Lifetimes {
        expires_in: 1,
        exp_offset: -58,
        stale_first: false,
    })
    .await;
    let (reg, expected) = seeded_token_registry(&server, &["slow/repo"], 5).await;
    let env = index_env();
    env.index(&reg.base_url(), &["--concurrency", "1", "--max-rps", "5"])
        .await
        .ok();
    assert_eq!(crate::auth_env::summary(&env.rows().await), expected);
    let repo_tokens = server
        .scopes()
        .iter()
        .filter(|s| *s == "repository:slow/repo:pull")
        .count();
    assert!(repo_tokens >= 2, "no renewal: {:?}", server.scopes());
    // Renewed before expiry: the registry never refused a token we sent
    // (the only 401 is the first, credential-less request).
    let refused = reg
        .access_log_lines("GET", "/v2/")
        .iter()
        .chain(reg.access_log_lines("HEAD", "/v2/").iter())
        .filter(|l| l.contains("\" 401 ") && l.contains("acr-index/"))
        .count();
    assert_eq!(refused, 1, "{}", reg.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn token_auth_renews_a_token_the_registry_calls_expired() {
    let server = TokenServer::start(Lifetimes {
        expires_in: 300,
        exp_offset: 300,
        stale_first: true,
    })
    .await;
    let (reg, expected) = seeded_token_registry(&server, &["skew/one", "skew/two"], 2).await;
    let env = index_env();
    env.index(&reg.base_url(), &[]).await.ok();
    assert_eq!(crate::auth_env::summary(&env.rows().await), expected);
    // Each repository's scope was asked for twice: in the stale token,
    // then in its renewal (batched or not).
    let scopes = server.scopes();
    for s in ["repository:skew/one:pull", "repository:skew/two:pull"] {
        let asked = scopes
            .iter()
            .filter(|x| x.split(' ').any(|y| y == s))
            .count();
        assert_eq!(asked, 2, "{scopes:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_when_nothing_is_configured() {
    let reg = RealRegistry::start();
    let expected = seed(&Seeder::new(&reg.base_url()), &["pub/one"], 2).await;
    let env = Env::new();
    let r = env.index(&reg.base_url(), &[]).await.ok();
    assert!(
        r.stderr().contains("credentials=anonymous"),
        "{}",
        r.stderr()
    );
    assert_eq!(crate::auth_env::summary(&env.rows().await), expected);
    // Nothing is sent to a registry that never asked.
    assert!(reg
        .access_log_lines("GET", "/v2/")
        .iter()
        .all(|l| !l.contains("\" 401 ") || !l.contains("acr-index/")));
}
