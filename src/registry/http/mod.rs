//! The one HTTP layer every request goes through: registry requests, token
//! endpoints, the ACR exchange, Entra ID, IMDS and storage redirects. It
//! owns origin rules (credentials only to the origin they belong to, no
//! https -> http downgrade), body caps, one timeout per request including
//! its redirects, the retry policy (`policy::decide`), the limiter, request
//! counters and shutdown. It knows nothing of how credentials are made:
//! the auth layer above hands it an [`Authorize`].

pub mod adaptive;
mod body;
pub mod policy;
pub mod rate;
mod request;

pub use body::{header_digest, Verify};
pub use rate::{FixedRate, RateControl};
pub use request::{Authorize, Fixed, HttpRequest, Response, Settings};

use super::counters::{Counters, RequestKind};
use super::shutdown::Shutdown;
use super::{display_url, RegistryError};
use body::Failed;
use policy::{Ctx, Observed, Step};
use rate::Limiter;
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER,
    WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::Url;

pub struct Http {
    client: reqwest::Client,
    limiter: Limiter,
    counters: Arc<Counters>,
    shutdown: Shutdown,
    settings: Settings,
    seed: AtomicU64,
}

const MAX_REDIRECTS: usize = 5;
/// Error bodies are read (bounded) only to keep the connection reusable.
const MAX_ERROR_BODY: usize = 64 * 1024;

impl Http {
    pub fn new(settings: Settings, shutdown: Shutdown) -> Result<Http, RegistryError> {
        let client = build_client(&settings)?;
        let rate = settings
            .rate
            .clone()
            .unwrap_or_else(|| Arc::new(adaptive::AdaptiveRate::new(settings.max_rps)));
        Ok(Http {
            client,
            limiter: Limiter::new(settings.concurrency, rate),
            counters: Arc::new(Counters::default()),
            shutdown,
            settings,
            seed: AtomicU64::new(0x9e37_79b9),
        })
    }

    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Send with retries and backoff. `auth`'s header goes only to the
    /// request URL's own origin, never to a redirect target elsewhere.
    /// Returns any final response, success or not; exhausted 429/5xx and
    /// network errors become errors.
    pub async fn send(
        &self,
        req: &HttpRequest<'_>,
        auth: &dyn Authorize,
    ) -> Result<Response, RegistryError> {
        let mut attempt = 0u32;
        // A 401 to a request without credentials teaches the scheme; a 401
        // to one with credentials earns one renewal. Then it is final.
        let (mut learned, mut renewed) = (false, false);
        loop {
            if self.shutdown.is_triggered() {
                return Err(RegistryError::Interrupted);
            }
            let header = self.interruptible(auth.header()).await??;
            let result = {
                let _permit = self.interruptible(self.limiter.acquire()).await?;
                let once = tokio::time::timeout(self.settings.timeout, self.once(req, &header));
                match self.interruptible(once).await? {
                    Ok(r) => r,
                    Err(_) => Err(Failed {
                        healable: true,
                        error: RegistryError::Network {
                            url: display_url(&req.url),
                            detail: format!(
                                "no complete answer within {}s (--timeout)",
                                self.settings.timeout.as_secs()
                            ),
                        },
                    }),
                }
            };
            let now = tokio::time::Instant::now();
            let observed = match &result {
                Ok(resp) => {
                    self.counters.responded();
                    self.limiter.rate().observe(
                        Some(resp.status.as_u16()),
                        Some(&resp.headers),
                        now,
                    );
                    Observed::Status {
                        status: resp.status.as_u16(),
                        retry_after: retry_after(&resp.headers),
                        from_origin: resp.url.origin() == req.url.origin(),
                    }
                }
                Err(f) => {
                    self.limiter.rate().observe(None, None, now);
                    // Until anything has answered, a timeout or a refused
                    // connection means "cannot reach it": fail fast
                    // instead of retrying a host that is not there.
                    Observed::Error {
                        healable: f.healable && self.counters.responses() > 0,
                    }
                }
            };
            let budget = if header.is_some() { renewed } else { learned };
            let step = policy::decide(
                observed,
                Ctx {
                    attempt,
                    max_retries: self.settings.max_retries,
                    can_renew: auth.renewable() && !budget,
                    backoff: self.backoff(attempt),
                },
            );
            let delay = match step {
                Step::Return => return result.map_err(|f| f.error),
                Step::Fail => return Err(final_error(result, req)),
                Step::RenewAuth => {
                    if header.is_some() {
                        renewed = true;
                    } else {
                        learned = true;
                    }
                    let resp = result.as_ref().ok();
                    let challenge = resp
                        .and_then(|r| r.headers.get(WWW_AUTHENTICATE))
                        .and_then(|v| v.to_str().ok());
                    self.interruptible(auth.renew(challenge)).await??;
                    continue;
                }
                Step::BackOffAll(d) => {
                    self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                    self.limiter.back_off_all(d);
                    Duration::ZERO
                }
                Step::Retry(d) => d,
            };
            attempt += 1;
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(url = %display_url(&req.url), attempt, ?delay, "retrying");
            self.interruptible(tokio::time::sleep(delay)).await?;
        }
    }

    /// Run `f` unless shutdown comes first.
    pub async fn interruptible<F: std::future::Future>(
        &self,
        f: F,
    ) -> Result<F::Output, RegistryError> {
        tokio::select! {
            r = f => Ok(r),
            _ = self.shutdown.wait() => Err(RegistryError::Interrupted),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let seed = self
            .seed
            .fetch_add(0x6a09_e667, Ordering::Relaxed)
            .wrapping_mul(2_654_435_761);
        policy::backoff(
            attempt,
            self.settings.backoff_base,
            self.settings.backoff_cap,
            seed >> 7,
        )
    }

    /// One attempt: the request and its redirects, body read under the cap.
    async fn once(
        &self,
        req: &HttpRequest<'_>,
        auth: &Option<HeaderValue>,
    ) -> Result<Response, Failed> {
        let origin = req.url.origin();
        let mut url = req.url.clone();
        let mut kind = req.kind;
        for _ in 0..=MAX_REDIRECTS {
            self.counters.count(kind);
            let mut builder = self.client.request(req.method.clone(), url.clone());
            if let Some(accept) = req.accept {
                builder = builder.header(ACCEPT, accept);
            }
            for (k, v) in &req.headers {
                builder = builder.header(k, v);
            }
            if let Some(form) = &req.form {
                builder = builder
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.clone());
            }
            // Credentials only ever go to the origin they belong to: storage
            // redirects (ACR -> blob.core.windows.net) must not see them.
            if let Some(h) = auth.as_ref().filter(|_| url.origin() == origin) {
                builder = builder.header(AUTHORIZATION, h.clone());
            }
            let resp = builder.send().await.map_err(|e| body::network(&url, e))?;
            let status = resp.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                url = redirect_target(&resp, &url)?;
                if kind == RequestKind::BlobGet {
                    kind = RequestKind::Storage;
                }
                continue;
            }
            let headers = resp.headers().clone();
            let body = if req.method == Method::HEAD || !status.is_success() {
                body::read_capped(resp, &url, MAX_ERROR_BODY.min(req.max_body.max(4096)))
                    .await
                    .unwrap_or_default()
            } else {
                let body = body::read_capped(resp, &url, req.max_body).await?;
                body::verify(req.verify, &headers, &body, &url)?;
                body
            };
            return Ok(Response {
                status,
                headers,
                body,
                url,
            });
        }
        Err(Failed::fatal(RegistryError::InvalidResponse {
            url: display_url(&req.url),
            detail: "too many redirects".into(),
        }))
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| policy::parse_retry_after(v, SystemTime::now()))
}

/// A redirect's Location, resolved; a downgrade from https is refused.
fn redirect_target(resp: &reqwest::Response, url: &Url) -> Result<Url, Failed> {
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| url.join(l).ok())
        .ok_or_else(|| {
            Failed::fatal(RegistryError::InvalidResponse {
                url: display_url(url),
                detail: format!("HTTP {status} without a usable Location"),
            })
        })?;
    let allowed = matches!(
        (url.scheme(), location.scheme()),
        (_, "https") | ("http", "http")
    );
    if !allowed {
        return Err(Failed::fatal(RegistryError::InvalidResponse {
            url: display_url(url),
            detail: format!(
                "refusing a redirect from {} to {}",
                url.scheme(),
                location.scheme()
            ),
        }));
    }
    Ok(location)
}

/// The error for a request given up on.
fn final_error(result: Result<Response, Failed>, req: &HttpRequest<'_>) -> RegistryError {
    let resp = match result {
        Ok(resp) => resp,
        Err(f) => return f.error,
    };
    let url = display_url(&req.url);
    match resp.status {
        StatusCode::TOO_MANY_REQUESTS => RegistryError::RateLimited {
            url,
            retry_after: retry_after(&resp.headers),
        },
        s => RegistryError::Status {
            url,
            status: s.as_u16(),
        },
    }
}

fn build_client(settings: &Settings) -> Result<reqwest::Client, RegistryError> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("acr-index/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10).min(settings.timeout))
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

#[cfg(test)]
mod tests;
