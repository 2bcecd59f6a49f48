//! The only place that sends HTTP to the registry: credentials, retries,
//! backoff, throttling, redirects and body-size caps live here.

use super::auth::{Auth, Credential};
pub use super::counters::{Counters, RequestKind};
use super::limiter::Limiter;
use super::retry;
pub use super::shutdown::Shutdown;
use super::{display_url, RegistryError};
use crate::oci::{Digest, DigestError};
use bytes::Bytes;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::Url;

/// How the transport behaves; validated by the caller.
#[derive(Clone, Debug)]
pub struct Settings {
    pub concurrency: usize,
    pub max_rps: Option<f64>,
    pub max_retries: u32,
    pub timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// PEM bundle of extra trusted CAs.
    pub ca_pem: Option<Vec<u8>>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            concurrency: 16,
            max_rps: None,
            max_retries: 5,
            timeout: Duration::from_secs(60),
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(30),
            ca_pem: None,
        }
    }
}

pub struct Request<'a> {
    pub method: Method,
    pub url: Url,
    pub accept: Option<&'a str>,
    /// Token scope, e.g. `repository:team/api:pull`.
    pub scope: &'a str,
    pub kind: RequestKind,
    pub max_body: usize,
    pub verify: Verify<'a>,
}

/// What a successful body must hash to. A mismatch is retried like a cut
/// body (a proxy or a flaky link can garble a transfer), then reported.
#[derive(Clone, Copy)]
pub enum Verify<'a> {
    Nothing,
    Digest(&'a Digest),
    /// The response's own Docker-Content-Digest, when it sends one.
    Announced,
}

/// The Docker-Content-Digest header, when present and valid.
pub fn header_digest(headers: &HeaderMap) -> Option<Digest> {
    headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub url: Url,
}

pub struct Transport {
    http: reqwest::Client,
    origin: Url,
    auth: Auth,
    limiter: Limiter,
    counters: Arc<Counters>,
    settings: Settings,
    shutdown: Shutdown,
    seed: AtomicU64,
}

const MAX_REDIRECTS: usize = 5;

impl Transport {
    pub fn new(
        registry: Url,
        credential: Credential,
        settings: Settings,
        shutdown: Shutdown,
    ) -> Result<Transport, RegistryError> {
        let http = build_http(&settings)?;
        let counters = Arc::new(Counters::default());
        let auth = Auth::new(http.clone(), registry.clone(), credential, counters.clone());
        Ok(Transport {
            limiter: Limiter::new(settings.concurrency, settings.max_rps),
            http,
            origin: registry,
            auth,
            counters,
            settings,
            shutdown,
            seed: AtomicU64::new(0x9e37_79b9),
        })
    }

    pub fn registry(&self) -> &Url {
        &self.origin
    }

    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// Send with auth, retries and backoff; returns any final response,
    /// success or not, except that exhausted 429/5xx become errors.
    pub async fn send(&self, req: &Request<'_>) -> Result<Response, RegistryError> {
        let mut attempt = 0u32;
        // A 401 to a request without credentials teaches us the scheme; a
        // 401 to one with credentials earns one renewal. Then it is final.
        let (mut learned, mut renewed) = (false, false);
        loop {
            if self.shutdown.is_triggered() {
                return Err(RegistryError::Interrupted);
            }
            let auth_header = self.auth.header_for(req.scope).await?;
            let result = {
                let _permit = self.limiter.acquire().await;
                tokio::select! {
                    r = self.once(req, auth_header.as_ref()) => r,
                    _ = self.shutdown.wait() => return Err(RegistryError::Interrupted),
                }
            };
            let retry_after = match result {
                Ok(resp)
                    if resp.status == StatusCode::UNAUTHORIZED
                        && !(if auth_header.is_some() {
                            renewed
                        } else {
                            learned
                        }) =>
                {
                    if auth_header.is_some() {
                        renewed = true;
                    } else {
                        learned = true;
                    }
                    let challenge = resp
                        .headers
                        .get(WWW_AUTHENTICATE)
                        .and_then(|v| v.to_str().ok());
                    self.auth.on_challenge(challenge, req.scope).await?;
                    continue;
                }
                Ok(resp) if retry::is_retryable_status(resp.status) => {
                    let after = resp
                        .headers
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
                    if attempt >= self.settings.max_retries {
                        return Err(match resp.status {
                            StatusCode::TOO_MANY_REQUESTS => RegistryError::RateLimited {
                                url: display_url(&req.url),
                                retry_after: after,
                            },
                            s => RegistryError::Status {
                                url: display_url(&req.url),
                                status: s.as_u16(),
                            },
                        });
                    }
                    if resp.status == StatusCode::TOO_MANY_REQUESTS {
                        self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                        let delay = after
                            .unwrap_or_else(|| self.backoff(attempt))
                            .min(Duration::from_secs(300));
                        self.limiter.back_off_all(delay);
                        Some(Duration::ZERO)
                    } else {
                        after
                    }
                }
                Ok(resp) => return Ok(resp),
                Err(e) if e.retryable && attempt < self.settings.max_retries => None,
                Err(e) => return Err(e.error),
            };
            let delay = retry_after.unwrap_or_else(|| self.backoff(attempt));
            attempt += 1;
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(url = %display_url(&req.url), attempt, ?delay, "retrying");
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.shutdown.wait() => return Err(RegistryError::Interrupted),
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let seed = self
            .seed
            .fetch_add(0x6a09_e667, Ordering::Relaxed)
            .wrapping_mul(2_654_435_761);
        retry::backoff(
            attempt,
            self.settings.backoff_base,
            self.settings.backoff_cap,
            seed >> 7,
        )
    }

    /// One attempt: the request and its redirects, body read under the cap.
    async fn once(
        &self,
        req: &Request<'_>,
        auth: Option<&reqwest::header::HeaderValue>,
    ) -> Result<Response, Attempt> {
        let mut url = req.url.clone();
        let mut kind = req.kind;
        for _ in 0..=MAX_REDIRECTS {
            self.counters.count(kind);
            let mut builder = self.http.request(req.method.clone(), url.clone());
            if let Some(accept) = req.accept {
                builder = builder.header(ACCEPT, accept);
            }
            // Credentials only ever go to the registry's own origin: storage
            // redirects (ACR -> blob.core.windows.net) reject them.
            if let Some(h) = auth.filter(|_| url.origin() == self.origin.origin()) {
                builder = builder.header(AUTHORIZATION, h.clone());
            }
            let resp = builder
                .send()
                .await
                .map_err(|e| Attempt::network(&url, e))?;
            let status = resp.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let location = resp
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| {
                        Attempt::fatal(RegistryError::InvalidResponse {
                            url: display_url(&url),
                            detail: format!("HTTP {} without a usable Location", status.as_u16()),
                        })
                    })?;
                if location.scheme() != "https" && location.scheme() != url.scheme() {
                    return Err(Attempt::fatal(RegistryError::InvalidResponse {
                        url: display_url(&url),
                        detail: "redirect downgrades https to http".into(),
                    }));
                }
                url = location;
                kind = if kind == RequestKind::BlobGet {
                    RequestKind::Storage
                } else {
                    kind
                };
                continue;
            }
            let headers = resp.headers().clone();
            let body = if req.method == Method::HEAD || !status.is_success() {
                // Error bodies are read (bounded) only to keep the connection reusable.
                read_capped(resp, &url, 64 * 1024).await.unwrap_or_default()
            } else {
                let body = read_capped(resp, &url, req.max_body).await?;
                verify(req.verify, &headers, &body, &url)?;
                body
            };
            return Ok(Response {
                status,
                headers,
                body,
                url,
            });
        }
        Err(Attempt::fatal(RegistryError::InvalidResponse {
            url: display_url(&req.url),
            detail: "too many redirects".into(),
        }))
    }
}

fn verify(how: Verify<'_>, headers: &HeaderMap, body: &[u8], url: &Url) -> Result<(), Attempt> {
    let expected = match how {
        Verify::Nothing => None,
        Verify::Digest(d) => Some(d.clone()),
        Verify::Announced => header_digest(headers),
    };
    match expected.map(|d| d.verify(body)) {
        Some(Err(DigestError::Mismatch { expected, actual })) => Err(Attempt {
            retryable: true,
            error: RegistryError::DigestMismatch {
                url: display_url(url),
                expected,
                actual,
            },
        }),
        _ => Ok(()),
    }
}

/// The outcome of a failed attempt: retry it or give up.
struct Attempt {
    error: RegistryError,
    retryable: bool,
}

impl Attempt {
    fn fatal(error: RegistryError) -> Attempt {
        Attempt {
            error,
            retryable: false,
        }
    }
    fn network(url: &Url, e: reqwest::Error) -> Attempt {
        Attempt {
            retryable: e.is_timeout()
                || e.is_connect()
                || e.is_request()
                || e.is_body()
                || e.is_decode(),
            error: RegistryError::Network {
                url: display_url(url),
                detail: error_chain(&e.without_url()),
            },
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// Read a body, refusing more than `limit` bytes; a short body (fewer bytes
/// than Content-Length) is a retryable network error.
async fn read_capped(
    mut resp: reqwest::Response,
    url: &Url,
    limit: usize,
) -> Result<Bytes, Attempt> {
    let too_large = || {
        Attempt::fatal(RegistryError::TooLarge {
            url: display_url(url),
            limit,
        })
    };
    let declared = resp.content_length();
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut buf = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = resp.chunk().await.map_err(|e| Attempt::network(url, e))? {
        if buf.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    if declared.is_some_and(|n| n != buf.len() as u64) {
        return Err(Attempt {
            retryable: true,
            error: RegistryError::Network {
                url: display_url(url),
                detail: "response body shorter than its Content-Length".into(),
            },
        });
    }
    Ok(Bytes::from(buf))
}

fn build_http(settings: &Settings) -> Result<reqwest::Client, RegistryError> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("acr-index/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(settings.timeout)
        .connect_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(settings.concurrency.max(1));
    if let Some(pem) = &settings.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| RegistryError::Auth(format!("cannot read --ca-file: {e}")))?;
        if certs.is_empty() {
            return Err(RegistryError::Auth(
                "--ca-file holds no PEM certificate".into(),
            ));
        }
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    b.build().map_err(|e| RegistryError::Network {
        url: String::new(),
        detail: e.to_string(),
    })
}
