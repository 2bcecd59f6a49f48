//! A hostile registry: every answer is whatever the test says, so it can
//! send what no honest server sends (a storage host with its own Bearer
//! realm, endless pages, absurd durations, huge bodies, deep indexes,
//! echoed secrets, answers that never come). Requests are logged with
//! their Authorization header and body so tests can prove what left the
//! program. Anything not routed is the distribution spec's 404 NAME_UNKNOWN.

use super::fixtures::*;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Router;
use futures::future::BoxFuture;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a handler sees of a request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub authorization: Option<String>,
    pub body: String,
}

pub type Handler = Arc<dyn Fn(Seen) -> BoxFuture<'static, Response> + Send + Sync>;

/// Credentials every `/v2/` request must carry.
#[derive(Clone)]
enum Gate {
    /// The exact Authorization header; else 401 with a Basic challenge.
    Basic(String),
    /// Any Bearer token; else 401 with this challenge.
    Bearer(String),
}

#[derive(Default)]
struct Shared {
    gate: Mutex<Option<Gate>>,
    /// Exact path (no query) -> handler; checked before `prefixes`.
    routes: Mutex<HashMap<String, Handler>>,
    prefixes: Mutex<Vec<(String, Handler)>>,
    log: Mutex<Vec<Seen>>,
}

/// One listener; start two for a registry and its "storage".
#[derive(Clone)]
pub struct Hostile {
    pub url: String,
    shared: Arc<Shared>,
}

impl Hostile {
    pub async fn start() -> Hostile {
        let shared = Arc::new(Shared::default());
        let app = Router::new().fallback(dispatch).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Hostile {
            url: format!("http://{addr}"),
            shared,
        }
    }

    /// host:port, as `--registry` and the database know it.
    pub fn host(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    pub fn on(&self, path: &str, h: Handler) -> &Self {
        self.shared
            .routes
            .lock()
            .unwrap()
            .insert(path.to_string(), h);
        self
    }

    pub fn on_prefix(&self, prefix: &str, h: Handler) -> &Self {
        self.shared
            .prefixes
            .lock()
            .unwrap()
            .push((prefix.to_string(), h));
        self
    }

    /// Require basic auth for `user:password` on every `/v2/` request.
    pub fn gate_basic(&self, user: &str, password: &str) {
        use base64::Engine;
        let h = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        *self.shared.gate.lock().unwrap() = Some(Gate::Basic(format!("Basic {h}")));
    }

    /// Require a Bearer token on every `/v2/` request; `challenge` is the
    /// WWW-Authenticate value of the 401.
    pub fn gate_bearer(&self, challenge: &str) {
        *self.shared.gate.lock().unwrap() = Some(Gate::Bearer(challenge.to_string()));
    }

    pub fn log(&self) -> Vec<Seen> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Requests whose path and query start with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.log()
            .iter()
            .filter(|s| s.target.starts_with(prefix))
            .count()
    }

    /// Serve `/v2/` and an image `repo:tag` (manifest by tag and digest,
    /// config blob); returns the manifest digest.
    pub fn image(&self, repo: &str, tag: &str, labels: Value) -> String {
        self.image_and_config(repo, tag, labels).0
    }

    /// [`Hostile::image`], also returning the config blob's digest.
    pub fn image_and_config(&self, repo: &str, tag: &str, labels: Value) -> (String, String) {
        let (config, config_digest) = image_config(Some(labels), "linux", "amd64", None, None);
        let cd = Descriptor::of(DOCKER_CONFIG, &config);
        let (manifest, digest) = image_manifest(Kind::Docker, &cd, &[], &Default::default(), None);
        self.manifest(repo, tag, DOCKER_MANIFEST, manifest);
        self.on(
            &format!("/v2/{repo}/blobs/{config_digest}"),
            fixed(StatusCode::OK, &[], config),
        );
        (digest, config_digest)
    }

    /// Serve a manifest body under `tag` and under its digest.
    pub fn manifest(&self, repo: &str, tag: &str, media_type: &str, body: Vec<u8>) -> String {
        let digest = digest_of(&body);
        let headers = [
            ("content-type", media_type.to_string()),
            ("docker-content-digest", digest.clone()),
        ];
        let h = fixed(StatusCode::OK, &headers, body);
        self.on(&format!("/v2/{repo}/manifests/{tag}"), h.clone());
        self.on(&format!("/v2/{repo}/manifests/{digest}"), h);
        self.on("/v2/", fixed(StatusCode::OK, &[], b"{}".to_vec()));
        digest
    }

    /// `/v2/_catalog` and `/v2/<repo>/tags/list` answering these lists.
    pub fn listing(&self, repos: &[(&str, &[&str])]) {
        let names: Vec<&str> = repos.iter().map(|(r, _)| *r).collect();
        self.on(
            "/v2/_catalog",
            json_reply(StatusCode::OK, json!({ "repositories": names })),
        );
        for (repo, tags) in repos {
            self.on(
                &format!("/v2/{repo}/tags/list"),
                json_reply(StatusCode::OK, json!({ "name": repo, "tags": tags })),
            );
        }
    }
}

async fn dispatch(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        authorization: header(&parts.headers, "authorization"),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    shared.log.lock().unwrap().push(seen.clone());
    let path = parts.uri.path().to_string();
    let gate = shared.gate.lock().unwrap().clone();
    if path.starts_with("/v2/") {
        let auth = seen.authorization.as_deref().unwrap_or("");
        let refused = match &gate {
            Some(Gate::Basic(expected)) if auth != expected => {
                Some(r#"Basic realm="registry""#.to_string())
            }
            Some(Gate::Bearer(challenge)) if !auth.starts_with("Bearer ") => {
                Some(challenge.clone())
            }
            _ => None,
        };
        if let Some(challenge) = refused {
            return reply(
                StatusCode::UNAUTHORIZED,
                &[("www-authenticate", challenge)],
                Vec::new(),
            );
        }
    }
    let exact = shared.routes.lock().unwrap().get(&path).cloned();
    let handler = exact.or_else(|| {
        let prefixes = shared.prefixes.lock().unwrap();
        prefixes
            .iter()
            .filter(|(p, _)| path.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, h)| h.clone())
    });
    match handler {
        Some(h) => h(seen).await,
        None => name_unknown(),
    }
}

fn header(h: &HeaderMap, k: &str) -> Option<String> {
    h.get(k).and_then(|v| v.to_str().ok()).map(str::to_string)
}

pub fn reply(status: StatusCode, headers: &[(&str, String)], body: Vec<u8>) -> Response {
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b.body(Body::from(body)).unwrap()
}

fn name_unknown() -> Response {
    let body = json!({"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}]});
    reply(
        StatusCode::NOT_FOUND,
        &[("content-type", "application/json".into())],
        serde_json::to_vec(&body).unwrap(),
    )
}

/// Always the same answer.
pub fn fixed(status: StatusCode, headers: &[(&str, String)], body: Vec<u8>) -> Handler {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Arc::new(move |_| {
        let (headers, body) = (headers.clone(), body.clone());
        Box::pin(async move {
            let h: Vec<(&str, String)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            reply(status, &h, body)
        })
    })
}

pub fn json_reply(status: StatusCode, v: Value) -> Handler {
    fixed(
        status,
        &[("content-type", "application/json".into())],
        serde_json::to_vec(&v).unwrap(),
    )
}

/// Any answer computed from the request.
pub fn with<F>(f: F) -> Handler
where
    F: Fn(Seen) -> Response + Send + Sync + 'static,
{
    let f = Arc::new(f);
    Arc::new(move |s| {
        let f = f.clone();
        Box::pin(async move { f(s) })
    })
}

/// An answer that never comes.
pub fn hang() -> Handler {
    Arc::new(|_| {
        Box::pin(async {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            reply(StatusCode::OK, &[], Vec::new())
        })
    })
}
