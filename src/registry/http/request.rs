//! What goes into the layer and what comes out: settings, a request, a
//! response, and the auth layer's hook for one request.

use super::body::Verify;
use super::rate::RateControl;
use crate::registry::counters::RequestKind;
use crate::registry::RegistryError;
use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::Url;

/// How the layer behaves; validated by the caller.
#[derive(Clone)]
pub struct Settings {
    pub concurrency: usize,
    pub max_rps: Option<f64>,
    pub max_retries: u32,
    /// For a whole request: connection, redirects and body.
    pub timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// PEM bundle of extra trusted CAs.
    pub ca_pem: Option<Vec<u8>>,
    /// Replaces the fixed `--max-rps` ceiling (an adaptive controller).
    pub rate: Option<Arc<dyn RateControl>>,
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
            rate: None,
        }
    }
}

/// One request as the layer sends it.
pub struct HttpRequest<'a> {
    pub method: Method,
    pub url: Url,
    pub accept: Option<&'a str>,
    pub kind: RequestKind,
    pub max_body: usize,
    pub verify: Verify<'a>,
    /// An `application/x-www-form-urlencoded` body (token requests).
    pub form: Option<String>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl<'a> HttpRequest<'a> {
    pub fn get(url: Url, kind: RequestKind, max_body: usize) -> HttpRequest<'a> {
        HttpRequest {
            method: Method::GET,
            url,
            accept: None,
            kind,
            max_body,
            verify: Verify::Nothing,
            form: None,
            headers: Vec::new(),
        }
    }

    pub fn post_form(
        url: Url,
        kind: RequestKind,
        max_body: usize,
        form: &[(&str, &str)],
    ) -> HttpRequest<'a> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        HttpRequest {
            method: Method::POST,
            form: Some(body),
            ..HttpRequest::get(url, kind, max_body)
        }
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Where the answer finally came from (after redirects).
    pub url: Url,
}

impl Response {
    /// The server's clock (`Date`), to judge token lifetimes by it.
    pub fn date(&self) -> Option<SystemTime> {
        let v = self.headers.get(reqwest::header::DATE)?.to_str().ok()?;
        let t = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
        let secs = u64::try_from(t.timestamp()).ok()?;
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
    }
}

/// Credentials for one request, supplied by the auth layer above.
pub trait Authorize: Send + Sync {
    /// The Authorization header to send now, if any.
    fn header(&self) -> BoxFuture<'_, Result<Option<HeaderValue>, RegistryError>>;
    /// The origin's 401: learn its challenge / renew the token.
    fn renew<'a>(&'a self, challenge: Option<&'a str>) -> BoxFuture<'a, Result<(), RegistryError>>;
    /// Whether a 401 can be answered at all.
    fn renewable(&self) -> bool {
        true
    }
}

/// A fixed header (or none): token requests, Entra ID, IMDS.
pub struct Fixed(pub Option<HeaderValue>);

impl Authorize for Fixed {
    fn header(&self) -> BoxFuture<'_, Result<Option<HeaderValue>, RegistryError>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
    fn renew<'a>(&'a self, _: Option<&'a str>) -> BoxFuture<'a, Result<(), RegistryError>> {
        Box::pin(async { Ok(()) })
    }
    fn renewable(&self) -> bool {
        false
    }
}
