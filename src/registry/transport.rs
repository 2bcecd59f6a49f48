//! Registry requests: the auth layer on top of the HTTP layer (the
//! go-containerregistry shape, http under auth under transport). Endpoint
//! code (`client`, `acr`) describes requests; this attaches the scope.

use super::auth::{Auth, Credential};
pub use super::counters::{Counters, RequestKind};
pub use super::http::{header_digest, Response, Settings, Verify};
use super::http::{Http, HttpRequest};
pub use super::shutdown::Shutdown;
use super::RegistryError;
use reqwest::Method;
use std::sync::Arc;
use url::Url;

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

pub struct Transport {
    http: Arc<Http>,
    origin: Url,
    auth: Auth,
}

impl Transport {
    pub fn new(
        registry: Url,
        credential: Credential,
        settings: Settings,
        shutdown: Shutdown,
    ) -> Result<Transport, RegistryError> {
        let http = Arc::new(Http::new(settings, shutdown)?);
        let auth = Auth::new(http.clone(), registry.clone(), credential);
        Ok(Transport {
            http,
            origin: registry,
            auth,
        })
    }

    pub fn registry(&self) -> &Url {
        &self.origin
    }

    pub fn counters(&self) -> &Arc<Counters> {
        self.http.counters()
    }

    /// Repositories the run visits next (see `Auth::hint`).
    pub fn hint(&self, repos: &[String]) {
        self.auth.hint(repos);
    }

    /// The registry is ACR: ask its token endpoint without a challenge first.
    pub fn assume_acr(&self) {
        self.auth.assume_acr();
    }

    /// Send with credentials for the request's scope; the HTTP layer
    /// retries, throttles, follows redirects and answers 401 through auth.
    pub async fn send(&self, req: &Request<'_>) -> Result<Response, RegistryError> {
        let http_req = HttpRequest {
            method: req.method.clone(),
            url: req.url.clone(),
            accept: req.accept,
            kind: req.kind,
            max_body: req.max_body,
            verify: req.verify,
            form: None,
            headers: Vec::new(),
        };
        self.http
            .send(&http_req, &self.auth.scoped(req.scope))
            .await
    }
}
