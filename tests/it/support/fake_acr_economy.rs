//! A fake Azure Container Registry for request economy: ACR's listing API,
//! its token endpoints, ABAC behaviour and its read throttle, with
//! counters for assertions and for the benchmark. Built from ACR's
//! documents and the recordings in ../shared/acr-recordings, not from what
//! acr-index sends:
//! - every `/v2/` and `/acr/v1/` request needs a bearer token allowing the
//!   action (catalog `registry:catalog:*`, listings `metadata_read`,
//!   manifests and blobs `pull`); otherwise 401 with a challenge naming
//!   the scope (`error="insufficient_scope"` when a token was sent);
//! - `POST /oauth2/exchange` trades an Entra token for a refresh token;
//!   `POST /oauth2/token` (grant_type=refresh_token, `scope` repeated or
//!   space-separated) gives access tokens whose `access` claim is spelt as
//!   ACR spells it (`Type`/`Name`/`Actions`), without `expires_in`;
//! - normal mode honours `repository:*:<actions>`; ABAC mode silently drops
//!   wildcard repository scopes and its refresh tokens carry `aad_identity`;
//! - throttling: at most R requests in any 1 s window, token requests
//!   included; above it 429 with `Retry-After`; every answer carries
//!   `x-ms-ratelimit-remaining-calls-per-second`, which ACR computes as
//!   what is left of the window's budget per second;
//! - the OCI 1.1 referrers API (`GET /v2/<repo>/referrers/<digest>`, pull
//!   scope) answers an empty image index: these images have no referrers;
//! - the front end (openresty) refuses a request line or a header line
//!   over 8 KiB (nginx's default buffers) with its HTML 414 / 400 page;
//! - blob GETs answer 307 to a storage listener that refuses Authorization.

use super::fake_acr_economy_routes as routes;
use super::fixtures::*;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
pub struct Config {
    /// Wildcard repository scopes silently ignored; refresh tokens carry `aad_identity`.
    pub abac: bool,
    /// Requests per second admitted (None: no throttle).
    pub throttle_rps: Option<f64>,
    /// Added before every answer (registry, tokens and storage).
    pub latency: Duration,
    /// Access token lifetime (ACR: 1200 s).
    pub access_lifetime: Option<Duration>,
}

#[derive(Default)]
pub struct Repo {
    pub tags: BTreeMap<String, String>,
    pub updated: String,
}

#[derive(Default)]
pub struct Content {
    pub repos: BTreeMap<String, Repo>,
    /// digest -> (media type, bytes)
    pub manifests: HashMap<String, (String, Vec<u8>)>,
    pub blobs: HashMap<String, Vec<u8>>,
    clock: u64,
}

/// What the fake saw, for assertions and the benchmark.
#[derive(Default, Clone, Debug, serde::Serialize)]
pub struct Stats {
    /// Requests by kind: token, exchange, catalog, tags, repository,
    /// manifest, referrers, blob, storage, other (answered 401 and 429 included).
    pub requests: BTreeMap<String, u64>,
    pub unauthorized: u64,
    pub throttled: u64,
    /// Refused by the front end: a request or header line over 8 KiB.
    pub too_large: u64,
    pub peak_in_flight: u64,
    /// Sum over requests of the time from arrival to answer, seconds.
    pub busy_seconds: f64,
    /// Seconds from the first to the last request.
    pub span_seconds: f64,
    /// Scopes asked for per token request (first 1000 requests).
    pub token_scopes: Vec<Vec<String>>,
    /// Mean requests in flight per 100 ms from the first request: where
    /// a run ramps up and where it trails off.
    pub timeline: Vec<f64>,
}

impl Stats {
    pub fn total(&self) -> u64 {
        self.requests.values().sum()
    }
    pub fn count(&self, kind: &str) -> u64 {
        self.requests.get(kind).copied().unwrap_or(0)
    }
}

pub struct State {
    pub config: Config,
    pub content: Mutex<Content>,
    pub stats: Mutex<Stats>,
    pub host: String,
    pub base: String,
    pub storage_base: String,
    in_flight: AtomicU64,
    window: Mutex<VecDeque<Instant>>,
    first_last: Mutex<Option<(Instant, Instant)>>,
    /// (arrival, answer) of each request, bounded.
    intervals: Mutex<Vec<(Instant, Instant)>>,
}

/// Bound on the intervals kept for the timeline.
const MAX_INTERVALS: usize = 1_000_000;
/// Width of one timeline bucket.
const BUCKET: Duration = Duration::from_millis(100);

pub struct FakeAcrEconomy {
    pub state: Arc<State>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

/// The Entra token `/oauth2/exchange` accepts.
pub const AAD_TOKEN: &str = "aad-economy-token-SECRET";

impl FakeAcrEconomy {
    pub async fn start(config: Config) -> FakeAcrEconomy {
        let reg = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sto = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = reg.local_addr().unwrap().to_string();
        let state = Arc::new(State {
            config,
            content: Mutex::default(),
            stats: Mutex::default(),
            base: format!("http://{host}"),
            storage_base: format!("http://{}", sto.local_addr().unwrap()),
            host,
            in_flight: AtomicU64::new(0),
            window: Mutex::default(),
            first_last: Mutex::default(),
            intervals: Mutex::default(),
        });
        let (r, s) = (
            routes::registry(state.clone()),
            routes::storage(state.clone()),
        );
        tokio::spawn(async move { axum::serve(reg, r).await.unwrap() });
        tokio::spawn(async move { axum::serve(sto, s).await.unwrap() });
        FakeAcrEconomy {
            base: state.base.clone(),
            state,
        }
    }

    pub fn host(&self) -> String {
        self.state.host.clone()
    }

    /// A refresh token as `/oauth2/exchange` would issue it.
    pub fn refresh_token(&self) -> String {
        routes::mint_refresh(&self.state)
    }

    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    pub fn reset_stats(&self) {
        self.state.reset();
    }

    /// A docker image tagged `repo:tag` with `labels`; returns its digest.
    pub fn put_image(&self, repo: &str, tag: &str, labels: serde_json::Value) -> String {
        let (config, config_digest) =
            image_config(Some(labels), "linux", "amd64", None, Some(DEFAULT_CREATED));
        let l = layer(&format!("{repo}:{tag}"));
        let (manifest, digest) = image_manifest(
            Kind::Docker,
            &Descriptor::of(DOCKER_CONFIG, &config),
            &[Descriptor::of(DOCKER_LAYER, &l.gzip)],
            &BTreeMap::new(),
            None,
        );
        let mut c = self.state.content.lock().unwrap();
        c.blobs.insert(config_digest, config);
        c.blobs.insert(digest_of(&l.gzip), l.gzip);
        c.manifests
            .insert(digest.clone(), (DOCKER_MANIFEST.into(), manifest));
        c.clock += 1;
        let updated = format!(
            "2024-01-01T{:02}:{:02}:{:02}.0000000Z",
            c.clock / 3600 % 24,
            c.clock / 60 % 60,
            c.clock % 60
        );
        let r = c.repos.entry(repo.into()).or_default();
        r.tags.insert(tag.into(), digest.clone());
        r.updated = updated;
        digest
    }

    /// `images` images spread over `repos` repositories (`bench/svcNNNN:vK`).
    pub fn populate(&self, images: usize, repos: usize) {
        let repos = repos.max(1);
        for i in 0..images {
            let sha = format!("{:040x}", i as u128 * 0x9e37_79b9_7f4a_7c15);
            self.put_image(
                &format!("bench/svc{:04}", i % repos),
                &format!("v{}", i / repos),
                serde_json::json!({
                    "org.opencontainers.image.revision": sha,
                    "com.visualstudio.myorg.image.build.sourceversion": sha,
                    "com.visualstudio.myorg.image.build.buildnumber": format!("2024.{i}"),
                }),
            );
        }
    }
}

impl State {
    pub fn stats(&self) -> Stats {
        let mut s = self.stats.lock().unwrap().clone();
        if let Some((a, b)) = *self.first_last.lock().unwrap() {
            s.span_seconds = b.duration_since(a).as_secs_f64();
            s.timeline = timeline(a, &self.intervals.lock().unwrap());
        }
        s
    }

    pub fn reset(&self) {
        *self.stats.lock().unwrap() = Stats::default();
        *self.first_last.lock().unwrap() = None;
        self.intervals.lock().unwrap().clear();
    }

    /// A request arrives: count it in flight. Returns its arrival time.
    pub fn enter(&self, kind: &str) -> Instant {
        let now = Instant::now();
        let n = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let mut s = self.stats.lock().unwrap();
        *s.requests.entry(kind.to_string()).or_default() += 1;
        s.peak_in_flight = s.peak_in_flight.max(n);
        let mut fl = self.first_last.lock().unwrap();
        let first = fl.map_or(now, |(a, _)| a);
        *fl = Some((first, now));
        now
    }

    pub fn leave(&self, arrived: Instant, status: u16) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let now = Instant::now();
        let mut s = self.stats.lock().unwrap();
        s.busy_seconds += now.duration_since(arrived).as_secs_f64();
        let mut iv = self.intervals.lock().unwrap();
        if iv.len() < MAX_INTERVALS {
            iv.push((arrived, now));
        }
        match status {
            401 => s.unauthorized += 1,
            429 => s.throttled += 1,
            _ => {}
        }
        let mut fl = self.first_last.lock().unwrap();
        if let Some((a, _)) = *fl {
            *fl = Some((a, now));
        }
    }

    /// The throttle: Ok(remaining per second) when admitted, Err(retry
    /// after, whole seconds) when over the budget of the last second.
    pub fn admit(&self) -> Result<Option<f64>, u64> {
        let Some(rps) = self.config.throttle_rps else {
            return Ok(None);
        };
        let budget = rps.max(1.0).floor() as usize;
        let now = Instant::now();
        let mut w = self.window.lock().unwrap();
        while w
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            w.pop_front();
        }
        if w.len() >= budget {
            return Err(1);
        }
        w.push_back(now);
        Ok(Some((budget - w.len()) as f64))
    }
}

/// Mean requests in flight per BUCKET, from `start`.
fn timeline(start: Instant, intervals: &[(Instant, Instant)]) -> Vec<f64> {
    let width = BUCKET.as_secs_f64();
    let mut buckets: Vec<f64> = Vec::new();
    for (a, b) in intervals {
        let (a, b) = (
            a.duration_since(start).as_secs_f64(),
            b.duration_since(start).as_secs_f64(),
        );
        let last = (b / width) as usize;
        if buckets.len() <= last {
            buckets.resize(last + 1, 0.0);
        }
        for (i, slot) in buckets.iter_mut().enumerate().skip((a / width) as usize) {
            let (lo, hi) = (i as f64 * width, (i + 1) as f64 * width);
            *slot += (b.min(hi) - a.max(lo)).max(0.0) / width;
            if hi >= b {
                break;
            }
        }
    }
    buckets
}
