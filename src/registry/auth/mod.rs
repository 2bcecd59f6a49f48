//! Registry authentication: the challenge flow and token cache. Where
//! credentials come from is decided elsewhere (`Credential` is the
//! hand-over); this module only applies them.

mod batch_size;
mod cache;
pub mod challenge;
mod endpoint;
pub mod scopes;
mod secret;
mod token;

pub use endpoint::{error_code, fetch_token, token_request, with_header, MAX_TOKEN_BYTES};
pub use secret::{register as register_secret, scrub, Secret};
pub use token::{jwt_remaining, Token};

use super::http::{Authorize, Fixed, Http};
use super::{display_url, RegistryError};
use futures::future::BoxFuture;
use reqwest::header::HeaderValue;
use std::sync::{Arc, Mutex};
use url::Url;

/// Yields an ACR refresh token on demand (for example by exchanging an
/// Entra ID access token at `/oauth2/exchange`).
pub trait RefreshTokenSource: Send + Sync {
    fn refresh_token<'a>(
        &'a self,
        http: &'a Http,
        registry: &'a Url,
        service: &'a str,
    ) -> BoxFuture<'a, Result<Token, RegistryError>>;
    /// Where the credential came from, for logs (never the secret).
    fn describe(&self) -> String;
}

/// The credential applied to one registry.
#[derive(Clone)]
pub enum Credential {
    Anonymous,
    /// Basic auth; also how ACR admin users and repository-scoped tokens
    /// get bearer tokens from `/oauth2/token`.
    Basic {
        username: String,
        password: Secret,
    },
    /// An ACR refresh token, or a docker `identitytoken`.
    RefreshToken(Secret),
    /// A source of refresh tokens (Entra ID exchange).
    Exchange(Arc<dyn RefreshTokenSource>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Anonymous => f.write_str("Anonymous"),
            Credential::Basic { username, .. } => write!(f, "Basic({username}, [redacted])"),
            Credential::RefreshToken(_) => f.write_str("RefreshToken([redacted])"),
            Credential::Exchange(s) => write!(f, "Exchange({})", s.describe()),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Scheme {
    Unknown,
    Basic,
    /// `assumed`: not learnt from a challenge but taken to be ACR's own
    /// token endpoint (see `Auth::assume_acr`).
    Bearer {
        realm: Url,
        service: String,
        assumed: bool,
    },
}

/// Applies a credential to requests: basic header, or bearer tokens
/// fetched per scope, cached until shortly before expiry.
pub struct Auth {
    http: Arc<Http>,
    registry: Url,
    credential: Credential,
    scheme: Mutex<Scheme>,
    /// Bearer tokens, as few as the registry allows (see `scopes`).
    tokens: cache::Tokens,
    refresh: tokio::sync::Mutex<Option<Token>>,
}

impl Auth {
    pub fn new(http: Arc<Http>, registry: Url, credential: Credential) -> Auth {
        Auth {
            http,
            registry,
            credential,
            scheme: Mutex::new(Scheme::Unknown),
            tokens: cache::Tokens::default(),
            refresh: tokio::sync::Mutex::new(None),
        }
    }

    /// The registry is ACR and the credential is ACR's (a refresh token,
    /// or one to be exchanged for): its token endpoint is known to be
    /// `/oauth2/token` with the registry's host as the service, so the
    /// run asks for its token straight away instead of first meeting a
    /// 401 (one request and one round trip fewer, as Azure's acr-cli
    /// does). Should that endpoint not answer, the challenge flow takes over.
    pub fn assume_acr(&self) {
        let acr_credential = matches!(
            self.credential,
            Credential::RefreshToken(_) | Credential::Exchange(_)
        );
        let mut scheme = self.scheme.lock().unwrap();
        if !acr_credential || *scheme != Scheme::Unknown {
            return;
        }
        let (Ok(realm), Some(host)) = (
            self.registry.join("/oauth2/token"),
            self.registry.host_str(),
        ) else {
            return;
        };
        let service = match self.registry.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        self.tokens.start(true);
        *scheme = Scheme::Bearer {
            realm,
            service,
            assumed: true,
        };
    }

    /// Credentials for one request in `scope`, for the HTTP layer.
    pub fn scoped<'a>(&'a self, scope: &'a str) -> Scoped<'a> {
        Scoped {
            auth: self,
            scope,
            sent: Mutex::new(None),
        }
    }

    /// The Authorization header for a request in `scope`, fetching a token
    /// first when the registry is known to want one.
    pub async fn header_for(&self, scope: &str) -> Result<Option<HeaderValue>, RegistryError> {
        Ok(self.bearer_for(scope).await?.map(|(h, _)| h))
    }

    /// The header and, for a bearer token, the token it carries.
    async fn bearer_for(
        &self,
        scope: &str,
    ) -> Result<Option<(HeaderValue, Option<Secret>)>, RegistryError> {
        let scheme = self.scheme.lock().unwrap().clone();
        match scheme {
            Scheme::Unknown => Ok(None),
            Scheme::Basic => Ok(self.basic_header().map(|h| (h, None))),
            Scheme::Bearer {
                realm,
                service,
                assumed,
            } => {
                let token = match self.token(&realm, &service, scope, None).await {
                    Ok(t) => t,
                    Err(e) if assumed && !matches!(e, RegistryError::Interrupted) => {
                        // Not ACR's endpoint after all: let the registry's
                        // 401 say where tokens come from.
                        tracing::debug!(error = %scrub(&e.to_string()), "the assumed ACR token endpoint failed; asking the registry");
                        let mut s = self.scheme.lock().unwrap();
                        if matches!(*s, Scheme::Bearer { assumed: true, .. }) {
                            *s = Scheme::Unknown;
                        }
                        return Ok(None);
                    }
                    Err(e) => return Err(e),
                };
                let h = sensitive(&format!("Bearer {}", token.value.expose()));
                Ok(Some((h, Some(token.value))))
            }
        }
    }

    /// React to a 401: learn the scheme from the challenge and get fresh
    /// credentials for `scope`. The caller retries the request once.
    /// React to a 401 to a request that carried `sent` (its bearer token,
    /// if any): learn the scheme and get fresh credentials for `scope`.
    pub async fn on_challenge(
        &self,
        www_authenticate: Option<&str>,
        scope: &str,
        sent: Option<&Secret>,
    ) -> Result<(), RegistryError> {
        let challenges = challenge::parse(www_authenticate.unwrap_or(""));
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            let realm = bearer.param("realm").ok_or_else(|| {
                RegistryError::Auth("the registry's Bearer challenge names no realm".into())
            })?;
            let realm = self.check_realm(realm)?;
            let service = bearer.param("service").unwrap_or("").to_string();
            // ACR's realm is its own /oauth2/token: its token economy applies.
            let acr = self.registry.host_str().is_some_and(super::is_acr_host)
                || realm.path() == "/oauth2/token";
            self.tokens.start(acr);
            if let Some(asked) = bearer.param("scope").filter(|s| !s.is_empty()) {
                tracing::debug!(scope, asked, "token scope from the challenge");
                self.tokens.learn_challenge(asked);
            }
            let had_token = matches!(*self.scheme.lock().unwrap(), Scheme::Bearer { .. });
            if had_token && bearer.param("error") == Some("insufficient_scope") {
                self.tokens.refused(scope);
            }
            *self.scheme.lock().unwrap() = Scheme::Bearer {
                realm: realm.clone(),
                service: service.clone(),
                assumed: false,
            };
            self.token(&realm, &service, scope, Some(sent.map(Secret::expose)))
                .await?;
            return Ok(());
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            if self.basic_header().is_none() {
                return Err(RegistryError::Auth(
                    "the registry asks for a username and password; set ACR_INDEX_USERNAME and ACR_INDEX_PASSWORD (or see README: Credentials)".into(),
                ));
            }
            let mut scheme = self.scheme.lock().unwrap();
            if *scheme == Scheme::Basic {
                return Err(RegistryError::Auth(
                    "the registry refused the username and password".into(),
                ));
            }
            *scheme = Scheme::Basic;
            return Ok(());
        }
        Err(RegistryError::Auth(
            "the registry answered 401 without a usable WWW-Authenticate challenge".into(),
        ))
    }

    fn basic_header(&self) -> Option<HeaderValue> {
        use base64::Engine;
        match &self.credential {
            Credential::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                let enc = base64::engine::general_purpose::STANDARD.encode(raw);
                secret::register(&enc);
                Some(sensitive(&format!("Basic {enc}")))
            }
            _ => None,
        }
    }

    /// Token realms must be https unless the registry itself is plain http.
    fn check_realm(&self, realm: &str) -> Result<Url, RegistryError> {
        let url = Url::parse(realm)
            .map_err(|e| RegistryError::Auth(format!("invalid token realm {realm:?}: {e}")))?;
        if url.scheme() != "https" && self.registry.scheme() == "https" {
            return Err(RegistryError::Auth(format!(
                "refusing to send credentials to non-https token realm {}",
                display_url(&url)
            )));
        }
        Ok(url)
    }

    async fn token(
        &self,
        realm: &Url,
        service: &str,
        scope: &str,
        refused: Option<Option<&str>>,
    ) -> Result<Token, RegistryError> {
        // The refresh token first (once): an ABAC registry's says so, and
        // the planner must know before it names scopes.
        if !self.tokens.knows_refresh_token() {
            if let Some(r) = self.refresh_token(service).await? {
                self.tokens.learn_refresh_token(r.expose());
            }
        }
        self.tokens
            .get(scope, refused, |scopes| async move {
                self.fetch_token(realm, service, &scopes).await
            })
            .await
    }

    /// Repositories the run is about to visit: their scopes may ride along
    /// in token requests made for earlier ones.
    pub fn hint(&self, repos: &[String]) {
        self.tokens.hint(repos);
    }

    async fn fetch_token(
        &self,
        realm: &Url,
        service: &str,
        scopes: &[String],
    ) -> Result<Token, RegistryError> {
        let refresh = self.refresh_token(service).await?;
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        if let Some(refresh) = refresh {
            let mut form: Vec<(&str, &str)> = vec![
                ("grant_type", "refresh_token"),
                ("service", service),
                ("refresh_token", refresh.expose()),
                ("client_id", "acr-index"),
            ];
            form.extend(scopes.iter().map(|s| ("scope", *s)));
            let req = token_request(realm.clone(), Some(&form));
            fetch_token(&self.http, &req, &Fixed(None)).await
        } else {
            let mut url = realm.clone();
            {
                let mut q = url.query_pairs_mut();
                if !service.is_empty() {
                    q.append_pair("service", service);
                }
                for s in &scopes {
                    q.append_pair("scope", s);
                }
            }
            let req = token_request(url, None);
            fetch_token(&self.http, &req, &Fixed(self.basic_header())).await
        }
    }

    async fn refresh_token(&self, service: &str) -> Result<Option<Secret>, RegistryError> {
        Ok(match &self.credential {
            Credential::RefreshToken(t) => Some(t.clone()),
            Credential::Exchange(source) => Some(
                self.exchanged_refresh_token(source.as_ref(), service)
                    .await?,
            ),
            _ => None,
        })
    }

    async fn exchanged_refresh_token(
        &self,
        source: &dyn RefreshTokenSource,
        service: &str,
    ) -> Result<Secret, RegistryError> {
        let mut cached = self.refresh.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| t.is_fresh()) {
            return Ok(t.value.clone());
        }
        let t = source
            .refresh_token(&self.http, &self.registry, service)
            .await?;
        // The exchanged refresh token is a credential of the whole run.
        secret::register(t.value.expose());
        let value = t.value.clone();
        *cached = Some(t);
        Ok(value)
    }
}

/// The auth layer's side of one request: the header for its scope, and a
/// renewal when the registry's own origin answers 401.
pub struct Scoped<'a> {
    auth: &'a Auth,
    scope: &'a str,
    /// The token this request last carried: a 401 renews it only if no
    /// other request has renewed it already.
    sent: Mutex<Option<Secret>>,
}

impl Authorize for Scoped<'_> {
    fn header(&self) -> BoxFuture<'_, Result<Option<HeaderValue>, RegistryError>> {
        Box::pin(async move {
            let found = self.auth.bearer_for(self.scope).await?;
            let (header, token) = match found {
                Some((h, t)) => (Some(h), t),
                None => (None, None),
            };
            *self.sent.lock().unwrap() = token;
            Ok(header)
        })
    }
    fn renew<'a>(&'a self, challenge: Option<&'a str>) -> BoxFuture<'a, Result<(), RegistryError>> {
        Box::pin(async move {
            let sent = self.sent.lock().unwrap().clone();
            self.auth
                .on_challenge(challenge, self.scope, sent.as_ref())
                .await
        })
    }
}

fn sensitive(v: &str) -> HeaderValue {
    let mut h = HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static(""));
    h.set_sensitive(true);
    h
}

#[cfg(test)]
mod assumed_tests;
