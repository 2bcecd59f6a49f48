//! An in-process registry for what the real one cannot show: tag-list
//! pagination, blobs answered by a redirect to "storage" on another host
//! that rejects any Authorization header (as Azure Blob Storage does),
//! injected faults, and added latency. It speaks the distribution API as
//! the spec describes it, not as acr-index happens to call it.

use super::fixtures::*;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Faults, each decided per request by a deterministic hash of a counter.
#[derive(Clone, Default)]
pub struct Faults {
    /// Share of requests answered 500 or 503.
    pub server_error: f64,
    /// Share of requests answered 429 with `Retry-After: 0`.
    pub throttle: f64,
    /// Share of manifest/blob bodies cut short (Content-Length kept).
    pub truncate: f64,
    /// Share of manifest/blob bodies altered so they miss their digest.
    pub corrupt: f64,
    /// Digests that are always served corrupted.
    pub always_corrupt: Vec<String>,
    /// Added before every answer.
    pub latency: Duration,
    /// Answer HEAD without Docker-Content-Digest (some older registries).
    pub head_without_digest: bool,
}

#[derive(Default)]
struct Content {
    /// repo -> tag -> manifest digest
    repos: BTreeMap<String, BTreeMap<String, String>>,
    /// digest -> (media type, bytes)
    manifests: HashMap<String, (String, Vec<u8>)>,
    blobs: HashMap<String, Vec<u8>>,
    /// repo -> ACR lastUpdateTime, bumped by every push to it.
    updated: HashMap<String, String>,
    clock: u64,
    /// repo -> digests pushed to it (what its referrers API can see).
    pushed: HashMap<String, std::collections::HashSet<String>>,
}

struct Shared {
    content: Mutex<Content>,
    faults: Mutex<Faults>,
    basic: Option<String>,
    tag_page: Option<usize>,
    acr_api: bool,
    referrers: Option<super::fake_referrers::ReferrersApi>,
    token_lifetime: Option<Duration>,
    /// token -> when it stops being accepted
    tokens: Mutex<HashMap<String, std::time::Instant>>,
    origin: Mutex<String>,
    storage: Mutex<String>,
    counter: AtomicU64,
    log: Mutex<Vec<(String, String, bool)>>,
}

pub struct FakeRegistry {
    pub url: String,
    pub storage_url: String,
    shared: Arc<Shared>,
}

#[derive(Default)]
pub struct Options {
    /// Require this basic user:password on /v2/ (so an Authorization header
    /// exists that storage must not see).
    pub basic: Option<(String, String)>,
    /// Paginate tags/list at this many entries with a Link header.
    pub tag_page: Option<usize>,
    pub faults: Faults,
    /// Also serve ACR's `/acr/v1/` listing API.
    pub acr_api: bool,
    /// Serve the OCI 1.1 referrers API (None: 404, as docker-registry does).
    pub referrers: Option<super::fake_referrers::ReferrersApi>,
    /// Require bearer tokens from `/token` that expire after this long.
    pub token_lifetime: Option<Duration>,
}

impl FakeRegistry {
    pub async fn start(opts: Options) -> FakeRegistry {
        use base64::Engine;
        let shared = Arc::new(Shared {
            content: Mutex::default(),
            faults: Mutex::new(opts.faults),
            basic: opts.basic.map(|(u, p)| {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                )
            }),
            tag_page: opts.tag_page,
            acr_api: opts.acr_api,
            referrers: opts.referrers,
            token_lifetime: opts.token_lifetime,
            tokens: Mutex::default(),
            origin: Mutex::default(),
            storage: Mutex::default(),
            counter: AtomicU64::new(0),
            log: Mutex::default(),
        });
        let storage_url = serve(Router::new().fallback(storage).with_state(shared.clone())).await;
        *shared.storage.lock().unwrap() = storage_url.clone();
        let url = serve(Router::new().fallback(registry).with_state(shared.clone())).await;
        *shared.origin.lock().unwrap() = url.clone();
        FakeRegistry {
            url,
            storage_url,
            shared,
        }
    }

    pub fn set_faults(&self, f: Faults) {
        *self.shared.faults.lock().unwrap() = f;
    }

    /// Requests seen: (method, path, carried Authorization), registry and storage.
    pub fn log(&self) -> Vec<(String, String, bool)> {
        self.shared.log.lock().unwrap().clone()
    }

    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        self.log()
            .iter()
            .filter(|(m, p, _)| m == method && p.contains(path_contains))
            .count()
    }

    pub fn put_blob(&self, bytes: &[u8]) -> String {
        let d = digest_of(bytes);
        self.shared
            .content
            .lock()
            .unwrap()
            .blobs
            .insert(d.clone(), bytes.to_vec());
        d
    }

    pub fn put_manifest(
        &self,
        repo: &str,
        tag: Option<&str>,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let d = digest_of(bytes);
        let mut c = self.shared.content.lock().unwrap();
        c.manifests
            .insert(d.clone(), (media_type.into(), bytes.to_vec()));
        let tags = c.repos.entry(repo.into()).or_default();
        if let Some(t) = tag {
            tags.insert(t.into(), d.clone());
        }
        c.pushed.entry(repo.into()).or_default().insert(d.clone());
        c.clock += 1;
        // Real time, as ACR's lastUpdateTime is, kept strictly increasing.
        let when = (chrono::Utc::now() + chrono::Duration::microseconds(c.clock as i64))
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        c.updated.insert(repo.into(), when);
        d
    }

    /// (media type, size) of a stored manifest, for a referrer's `subject`.
    pub fn manifest_info(&self, digest: &str) -> (String, usize) {
        let c = self.shared.content.lock().unwrap();
        let (t, b) = c.manifests.get(digest).expect("subject pushed first");
        (t.clone(), b.len())
    }

    /// A docker image with `labels`; returns (manifest digest, config digest).
    pub fn put_image(&self, repo: &str, tag: &str, labels: serde_json::Value) -> (String, String) {
        let (config, _) = image_config(Some(labels), "linux", "amd64", None, Some(DEFAULT_CREATED));
        let config_digest = self.put_blob(&config);
        let l = layer(&format!("{repo}:{tag}"));
        self.put_blob(&l.gzip);
        let (manifest, _) = image_manifest(
            Kind::Docker,
            &Descriptor::of(DOCKER_CONFIG, &config),
            &[Descriptor::of(DOCKER_LAYER, &l.gzip)],
            &BTreeMap::new(),
            None,
        );
        (
            self.put_manifest(repo, Some(tag), DOCKER_MANIFEST, &manifest),
            config_digest,
        )
    }
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn reply(status: StatusCode, headers: &[(&str, String)], body: Vec<u8>) -> Response {
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b.body(Body::from(body)).unwrap()
}

fn error(status: StatusCode, code: &str) -> Response {
    let body = format!(r#"{{"errors":[{{"code":"{code}","message":"{code}"}}]}}"#);
    reply(
        status,
        &[("content-type", "application/json".into())],
        body.into_bytes(),
    )
}

/// A fraction in [0, 1) that differs per request and per purpose.
fn roll(n: u64, salt: u64) -> f64 {
    let x = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
        .rotate_left(29);
    (x.wrapping_mul(0x1656_67B1_9E37_79F9) >> 11) as f64 / (1u64 << 53) as f64
}

fn note(shared: &Shared, method: &Method, path: &str, headers: &HeaderMap) {
    shared.log.lock().unwrap().push((
        method.to_string(),
        path.to_string(),
        headers.contains_key(header::AUTHORIZATION),
    ));
}

async fn storage(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    note(&shared, req.method(), req.uri().path(), req.headers());
    if req.headers().contains_key(header::AUTHORIZATION) {
        let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>InvalidAuthenticationInfo</Code><Message>Authentication information is not given in the correct format. Check the value of Authorization header.</Message></Error>";
        return reply(
            StatusCode::BAD_REQUEST,
            &[("content-type", "application/xml".into())],
            xml.into(),
        );
    }
    let digest = req.uri().path().trim_start_matches("/blob/").to_string();
    let body = shared.content.lock().unwrap().blobs.get(&digest).cloned();
    match body {
        Some(b) => body_with_faults(&shared, &digest, "application/octet-stream", b, &[]),
        None => reply(StatusCode::NOT_FOUND, &[], Vec::new()),
    }
}

fn body_with_faults(
    shared: &Shared,
    digest: &str,
    media_type: &str,
    mut body: Vec<u8>,
    extra: &[(&str, String)],
) -> Response {
    let faults = shared.faults.lock().unwrap().clone();
    let n = shared.counter.fetch_add(1, Ordering::Relaxed);
    let len = body.len();
    if faults.always_corrupt.iter().any(|d| d == digest) || roll(n, 3) < faults.corrupt {
        body.push(b' ');
        body.remove(0);
        body.insert(0, b' ');
        body.pop();
    }
    let mut headers: Vec<(&str, String)> = vec![
        ("content-type", media_type.into()),
        ("docker-content-digest", digest.into()),
    ];
    headers.extend_from_slice(extra);
    if roll(n, 4) < faults.truncate && len > 1 {
        // Announce the full length, send half: the client sees a cut body.
        let half = body[..len / 2].to_vec();
        let stream = futures::stream::iter(vec![
            Ok::<_, std::io::Error>(half),
            Err(std::io::Error::other("cut")),
        ]);
        let mut b = Response::builder()
            .status(StatusCode::OK)
            .header("content-length", len.to_string());
        for (k, v) in headers {
            b = b.header(k, v);
        }
        return b.body(Body::from_stream(stream)).unwrap();
    }
    reply(StatusCode::OK, &headers, body)
}

async fn registry(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    note(&shared, &method, &path, req.headers());
    let faults = shared.faults.lock().unwrap().clone();
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if let Some(lifetime) = shared.token_lifetime {
        if let Some(r) = bearer_gate(&shared, &req, &path, lifetime) {
            return r;
        }
    }
    if let Some(expected) = &shared.basic {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if given != Some(expected.as_str()) {
            let mut r = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"fake\"".parse().unwrap(),
            );
            return r;
        }
    }
    let n = shared.counter.fetch_add(1, Ordering::Relaxed);
    if roll(n, 1) < faults.throttle {
        return reply(
            StatusCode::TOO_MANY_REQUESTS,
            &[("retry-after", "0".into())],
            Vec::new(),
        );
    }
    if roll(n, 2) < faults.server_error {
        let s = if n % 2 == 0 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        return reply(s, &[], Vec::new());
    }
    if let Some(acr) = path.strip_prefix("/acr/v1/").filter(|_| shared.acr_api) {
        return acr_api(&shared, &path, acr, &query);
    }
    let rest = path.trim_start_matches("/v2/");
    if path == "/v2/" {
        return reply(StatusCode::OK, &[], b"{}".to_vec());
    }
    if rest == "_catalog" {
        let repos = names(shared.content.lock().unwrap().repos.keys());
        return page(&path, &query, repos, "repositories", None, usize::MAX, "");
    }
    if let Some(repo) = rest.strip_suffix("/tags/list") {
        let tags = shared
            .content
            .lock()
            .unwrap()
            .repos
            .get(repo)
            .map(|t| names(t.keys()));
        let Some(tags) = tags else {
            return error(StatusCode::NOT_FOUND, "NAME_UNKNOWN");
        };
        let max = shared.tag_page.unwrap_or(usize::MAX);
        return page(&path, &query, tags, "tags", Some(repo), max, "");
    }
    if let (Some((repo, subject)), Some(api)) = (rest.rsplit_once("/referrers/"), &shared.referrers)
    {
        let c = shared.content.lock().unwrap();
        let pushed = c.pushed.get(repo).cloned().unwrap_or_default();
        return super::fake_referrers::answer(api, &c.manifests, &pushed, &path, &query, subject);
    }
    if let Some((repo, reference)) = rest.rsplit_once("/manifests/") {
        let found = {
            let c = shared.content.lock().unwrap();
            let digest = if reference.starts_with("sha256:") {
                Some(reference.to_string())
            } else {
                c.repos.get(repo).and_then(|t| t.get(reference)).cloned()
            };
            digest.and_then(|d| c.manifests.get(&d).cloned().map(|m| (d, m)))
        };
        let Some((digest, (media_type, body))) = found else {
            return error(StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN");
        };
        if method == Method::HEAD {
            let mut h = vec![
                ("content-type", media_type),
                ("content-length", body.len().to_string()),
            ];
            if !faults.head_without_digest {
                h.push(("docker-content-digest", digest));
            }
            return reply(StatusCode::OK, &h, Vec::new());
        }
        return body_with_faults(&shared, &digest, &media_type, body, &[]);
    }
    if let Some((_, digest)) = rest.rsplit_once("/blobs/") {
        if !shared.content.lock().unwrap().blobs.contains_key(digest) {
            return error(StatusCode::NOT_FOUND, "BLOB_UNKNOWN");
        }
        // Like ACR: the blob lives in storage on another host, signed URL.
        let location = format!(
            "{}/blob/{digest}?sig=SECRET-SAS-SIGNATURE&se=2030-01-01",
            shared.storage.lock().unwrap()
        );
        return reply(
            StatusCode::TEMPORARY_REDIRECT,
            &[("location", location)],
            Vec::new(),
        );
    }
    error(StatusCode::NOT_FOUND, "NAME_UNKNOWN")
}

/// Short-lived bearer tokens: `/token` issues them, everything else wants
/// a live one and challenges otherwise. None means "carry on".
fn bearer_gate(shared: &Shared, req: &Request, path: &str, lifetime: Duration) -> Option<Response> {
    let now = std::time::Instant::now();
    if path == "/token" {
        let n = shared.counter.fetch_add(1, Ordering::Relaxed);
        let token = format!("tok-{n}");
        shared
            .tokens
            .lock()
            .unwrap()
            .insert(token.clone(), now + lifetime);
        let body = serde_json::json!({"token": token, "expires_in": lifetime.as_secs().max(1)});
        return Some(reply(
            StatusCode::OK,
            &[("content-type", "application/json".into())],
            body.to_string().into_bytes(),
        ));
    }
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let live = given
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| shared.tokens.lock().unwrap().get(t).copied())
        .is_some_and(|until| until > now);
    if live {
        return None;
    }
    let realm = format!("{}/token", shared.origin.lock().unwrap());
    let mut r = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let challenge =
        format!("Bearer realm=\"{realm}\",service=\"fake\",scope=\"repository:x:pull\"");
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, challenge.parse().unwrap());
    Some(r)
}

fn names<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<(String, serde_json::Value)> {
    keys.map(|k| (k.clone(), k.as_str().into())).collect()
}

/// ACR's listing API: catalog, tags with digests, repository attributes.
fn acr_api(shared: &Shared, path: &str, rest: &str, query: &str) -> Response {
    let c = shared.content.lock().unwrap();
    if rest == "_catalog" {
        let repos = names(c.repos.keys());
        return page(path, query, repos, "repositories", None, 100, "&orderby=");
    }
    if let Some(repo) = rest.strip_suffix("/_tags") {
        let Some(tags) = c.repos.get(repo) else {
            return error(StatusCode::NOT_FOUND, "NAME_UNKNOWN");
        };
        let items = tags
            .iter()
            .map(|(t, d)| (t.clone(), serde_json::json!({"name": t, "digest": d, "createdTime": "2024-01-01T00:00:00Z", "lastUpdateTime": "2024-01-01T00:00:00Z", "signed": false})))
            .collect();
        return page(
            path,
            query,
            items,
            "tags",
            Some(repo),
            shared.tag_page.unwrap_or(100),
            "&orderby=",
        );
    }
    match (c.repos.get(rest), c.updated.get(rest)) {
        (Some(tags), Some(updated)) => {
            let body = serde_json::json!({"imageName": rest, "createdTime": "2024-01-01T00:00:00Z", "lastUpdateTime": updated, "tagCount": tags.len(), "manifestCount": tags.len()});
            reply(
                StatusCode::OK,
                &[("content-type", "application/json".into())],
                body.to_string().into_bytes(),
            )
        }
        _ => error(StatusCode::NOT_FOUND, "NAME_UNKNOWN"),
    }
}

/// A listing page honouring `n` and `last`, with a relative Link to the next.
fn page(
    path: &str,
    query: &str,
    mut items: Vec<(String, serde_json::Value)>,
    field: &str,
    repo: Option<&str>,
    max: usize,
    link_extra: &str,
) -> Response {
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let n = params
        .get("n")
        .and_then(|n| n.parse().ok())
        .unwrap_or(max)
        .min(max);
    let start = params
        .get("last")
        .map(|l| items.partition_point(|i| &i.0 <= l))
        .unwrap_or(0);
    let end = (start + n).min(items.len());
    let chunk: Vec<&serde_json::Value> = items[start..end].iter().map(|i| &i.1).collect();
    let mut body = serde_json::json!({ field: chunk });
    if let Some(r) = repo {
        body["name"] = r.into();
        body["imageName"] = r.into();
    }
    let mut headers = vec![("content-type", "application/json".to_string())];
    if end < items.len() {
        let last =
            url::form_urlencoded::byte_serialize(items[end - 1].0.as_bytes()).collect::<String>();
        headers.push((
            "link",
            format!("<{path}?last={last}&n={n}{link_extra}>; rel=\"next\""),
        ));
    }
    reply(StatusCode::OK, &headers, body.to_string().into_bytes())
}
