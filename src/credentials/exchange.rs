//! ACR's exchange: an Entra ID access token is traded at
//! `POST {registry}/oauth2/exchange` for an ACR refresh token, which the
//! auth layer then trades for access tokens per scope. The refresh token's
//! lifetime comes from its JWT `exp`; when it runs out, the auth layer asks
//! again and this source fetches a new Entra token and exchanges it anew.

use super::entra::AadSource;
use crate::registry::auth::{fetch_token, token_request, RefreshTokenSource, Token};
use crate::registry::http::{Fixed, Http};
use crate::registry::RegistryError;
use futures::future::BoxFuture;
use url::Url;

pub struct AadExchange {
    source: AadSource,
    tenant: Option<String>,
}

impl AadExchange {
    pub fn new(source: AadSource, tenant: Option<String>) -> AadExchange {
        AadExchange { source, tenant }
    }

    pub fn describe_source(&self) -> String {
        format!(
            "{}, exchanged for an ACR refresh token",
            self.source.describe()
        )
    }

    async fn exchange(
        &self,
        http: &Http,
        registry: &Url,
        service: &str,
    ) -> Result<Token, RegistryError> {
        let aad = self.source.access_token(http).await?;
        let url = registry
            .join("/oauth2/exchange")
            .expect("registry URL is a valid base");
        let host = registry.host_str().unwrap_or_default().to_string();
        let service = if service.is_empty() {
            host.as_str()
        } else {
            service
        };
        let mut form: Vec<(&str, &str)> =
            vec![("grant_type", "access_token"), ("service", service)];
        if let Some(t) = &self.tenant {
            form.push(("tenant", t));
        }
        form.push(("access_token", aad.expose()));
        let req = token_request(url, Some(&form));
        tracing::debug!(source = %self.source.describe(), "exchanging an Entra ID token at the registry");
        fetch_token(http, &req, &Fixed(None)).await.map_err(|e| match e {
            RegistryError::Auth(m) => RegistryError::Auth(format!(
                "{m}: the registry refused the Entra ID token from {} (does the identity have a pull role on the registry?)",
                self.source.describe()
            )),
            e => e,
        })
    }
}

impl RefreshTokenSource for AadExchange {
    fn refresh_token<'a>(
        &'a self,
        http: &'a Http,
        registry: &'a Url,
        service: &'a str,
    ) -> BoxFuture<'a, Result<Token, RegistryError>> {
        Box::pin(self.exchange(http, registry, service))
    }

    fn describe(&self) -> String {
        self.describe_source()
    }
}
