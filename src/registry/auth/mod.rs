//! Registry authentication: the challenge flow and token cache. Where
//! credentials come from is decided elsewhere (`Credential` is the
//! hand-over); this module only applies them.

pub mod challenge;
mod endpoint;
mod secret;
mod token;

pub use endpoint::{error_code, fetch_token, token_request, with_header, MAX_TOKEN_BYTES};
pub use secret::{register as register_secret, scrub, Secret};
pub use token::{jwt_remaining, Token};

use super::http::{Authorize, Fixed, Http};
use super::{display_url, RegistryError};
use futures::future::BoxFuture;
use reqwest::header::HeaderValue;
use std::collections::HashMap;
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
    Bearer { realm: Url, service: String },
}

type TokenSlot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// Applies a credential to requests: basic header, or bearer tokens
/// fetched per scope, cached until shortly before expiry.
pub struct Auth {
    http: Arc<Http>,
    registry: Url,
    credential: Credential,
    scheme: Mutex<Scheme>,
    /// request scope -> the scope the registry asked for (ACR may ask for
    /// `metadata_read` where we guessed `pull`).
    scope_alias: Mutex<HashMap<String, String>>,
    tokens: Mutex<HashMap<String, TokenSlot>>,
    refresh: tokio::sync::Mutex<Option<Token>>,
}

impl Auth {
    pub fn new(http: Arc<Http>, registry: Url, credential: Credential) -> Auth {
        Auth {
            http,
            registry,
            credential,
            scheme: Mutex::new(Scheme::Unknown),
            scope_alias: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            refresh: tokio::sync::Mutex::new(None),
        }
    }

    /// Credentials for one request in `scope`, for the HTTP layer.
    pub fn scoped<'a>(&'a self, scope: &'a str) -> Scoped<'a> {
        Scoped { auth: self, scope }
    }

    /// The Authorization header for a request in `scope`, fetching a token
    /// first when the registry is known to want one.
    pub async fn header_for(&self, scope: &str) -> Result<Option<HeaderValue>, RegistryError> {
        let scheme = self.scheme.lock().unwrap().clone();
        match scheme {
            Scheme::Unknown => Ok(None),
            Scheme::Basic => Ok(self.basic_header()),
            Scheme::Bearer { realm, service } => {
                let token = self.token(&realm, &service, scope, false).await?;
                Ok(Some(sensitive(&format!("Bearer {}", token.value.expose()))))
            }
        }
    }

    /// React to a 401: learn the scheme from the challenge and get fresh
    /// credentials for `scope`. The caller retries the request once.
    pub async fn on_challenge(
        &self,
        www_authenticate: Option<&str>,
        scope: &str,
    ) -> Result<(), RegistryError> {
        let challenges = challenge::parse(www_authenticate.unwrap_or(""));
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            let realm = bearer.param("realm").ok_or_else(|| {
                RegistryError::Auth("the registry's Bearer challenge names no realm".into())
            })?;
            let realm = self.check_realm(realm)?;
            let service = bearer.param("service").unwrap_or("").to_string();
            if let Some(asked) = bearer.param("scope").filter(|s| !s.is_empty()) {
                let mut aliases = self.scope_alias.lock().unwrap();
                let before = aliases.get(scope).map(String::as_str).unwrap_or(scope);
                let merged = merge_scope(before, asked);
                tracing::debug!(scope, asked, using = %merged, "token scope from the challenge");
                aliases.insert(scope.to_string(), merged);
            }
            *self.scheme.lock().unwrap() = Scheme::Bearer {
                realm: realm.clone(),
                service: service.clone(),
            };
            self.token(&realm, &service, scope, true).await?;
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
        force: bool,
    ) -> Result<Token, RegistryError> {
        let slot = {
            let mut tokens = self.tokens.lock().unwrap();
            tokens.entry(scope.to_string()).or_default().clone()
        };
        let mut guard = slot.lock().await;
        if let Some(t) = guard.as_ref().filter(|t| t.is_fresh() && !force) {
            return Ok(t.clone());
        }
        let asked = self
            .scope_alias
            .lock()
            .unwrap()
            .get(scope)
            .cloned()
            .unwrap_or_else(|| scope.to_string());
        let token = self.fetch_token(realm, service, &asked).await?;
        *guard = Some(token.clone());
        Ok(token)
    }

    async fn fetch_token(
        &self,
        realm: &Url,
        service: &str,
        scope: &str,
    ) -> Result<Token, RegistryError> {
        let refresh = match &self.credential {
            Credential::RefreshToken(t) => Some(t.clone()),
            Credential::Exchange(source) => Some(
                self.exchanged_refresh_token(source.as_ref(), service)
                    .await?,
            ),
            _ => None,
        };
        let scopes: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
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
}

impl Authorize for Scoped<'_> {
    fn header(&self) -> BoxFuture<'_, Result<Option<HeaderValue>, RegistryError>> {
        Box::pin(self.auth.header_for(self.scope))
    }
    fn renew<'a>(&'a self, challenge: Option<&'a str>) -> BoxFuture<'a, Result<(), RegistryError>> {
        Box::pin(self.auth.on_challenge(challenge, self.scope))
    }
}

/// The scope to ask for after a challenge named `asked` for a request we
/// scoped as `before`. ACR asks for `repository:<r>:metadata_read` on tag
/// listings and `pull` on manifests and blobs; both requests share one
/// cache slot, so the actions are united (`pull,metadata_read`) rather than
/// swapped back and forth. A token server grants what it can of them.
fn merge_scope(before: &str, asked: &str) -> String {
    let split = |s: &str| -> Option<(String, String, Vec<String>)> {
        let (rest, actions) = s.rsplit_once(':')?;
        let (kind, name) = rest.split_once(':')?;
        Some((
            kind.to_string(),
            name.to_string(),
            actions.split(',').map(str::to_string).collect(),
        ))
    };
    if before.contains(' ') || asked.contains(' ') {
        return asked.to_string();
    }
    match (split(before), split(asked)) {
        (Some((k1, n1, mut a1)), Some((k2, n2, a2))) if k1 == k2 && n1 == n2 => {
            for a in a2 {
                if !a1.contains(&a) {
                    a1.push(a);
                }
            }
            format!("{k1}:{n1}:{}", a1.join(","))
        }
        _ => asked.to_string(),
    }
}

fn sensitive(v: &str) -> HeaderValue {
    let mut h = HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static(""));
    h.set_sensitive(true);
    h
}

#[cfg(test)]
mod tests {
    use super::merge_scope;

    #[test]
    fn challenge_scopes_are_united_per_repository() {
        assert_eq!(
            merge_scope(
                "repository:team/api:pull",
                "repository:team/api:metadata_read"
            ),
            "repository:team/api:pull,metadata_read"
        );
        assert_eq!(
            merge_scope(
                "repository:team/api:pull,metadata_read",
                "repository:team/api:pull"
            ),
            "repository:team/api:pull,metadata_read"
        );
        // Another repository or resource: ask for what the challenge says.
        assert_eq!(
            merge_scope("repository:a:pull", "repository:b:pull"),
            "repository:b:pull"
        );
        assert_eq!(
            merge_scope("registry:catalog:*", "registry:catalog:*"),
            "registry:catalog:*"
        );
    }
}
