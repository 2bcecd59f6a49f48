//! Entra ID (Azure AD) access tokens for the ACR exchange: a token given
//! outright (source 3), Azure workload identity (source 4) and managed
//! identity through IMDS (source 5). Each is a small HTTP flow sent
//! through the registry's HTTP layer (so the rate limit, caps, retries and
//! shutdown hold for it); see README.md ("Why no Azure SDK or docker-credential crate") for why no
//! Azure SDK crate is used.

use super::Lookup;
use crate::cli::CredentialArgs;
use crate::config::UsageError;
use crate::registry::auth::{error_code, register_secret, token_request, with_header, Secret};
use crate::registry::http::{Fixed, Http, HttpRequest};
use crate::registry::{display_url, RegistryError, RequestKind};
use anyhow::Context;
use std::path::PathBuf;
use url::Url;

/// The resource / scope ACR tokens are issued for.
pub const ACR_RESOURCE: &str = "https://containerregistry.azure.net";
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com/";
const DEFAULT_IMDS: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
/// Overrides the IMDS token endpoint (tests, or a sidecar that emulates it).
pub const IMDS_ENDPOINT_VAR: &str = "ACR_INDEX_IMDS_ENDPOINT";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Where an Entra ID access token comes from.
pub enum AadSource {
    /// `ACR_INDEX_AAD_TOKEN` or `--aad-token-file` (read once).
    Static { token: Secret, from: String },
    /// Federated credential: the file is read again for every request,
    /// since the kubelet rotates it.
    Workload {
        token_file: PathBuf,
        client_id: String,
        tenant: String,
        authority: Url,
    },
    /// Managed identity through the instance metadata service.
    Imds {
        endpoint: Url,
        client_id: Option<String>,
    },
}

pub fn static_token(args: &CredentialArgs, env: &Lookup<'_>) -> anyhow::Result<Option<AadSource>> {
    if let Some(t) = env("ACR_INDEX_AAD_TOKEN") {
        return Ok(Some(AadSource::Static {
            token: Secret::new(t.trim()),
            from: "ACR_INDEX_AAD_TOKEN".into(),
        }));
    }
    let Some(path) = &args.aad_token_file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --aad-token-file {}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        anyhow::bail!(UsageError(format!(
            "--aad-token-file {} is empty",
            path.display()
        )));
    }
    Ok(Some(AadSource::Static {
        token: Secret::new(token),
        from: format!("--aad-token-file {}", path.display()),
    }))
}

pub fn workload_identity(env: &Lookup<'_>) -> anyhow::Result<Option<AadSource>> {
    let Some(file) = env("AZURE_FEDERATED_TOKEN_FILE") else {
        return Ok(None);
    };
    let need = |k: &str| {
        env(k).ok_or_else(|| {
            UsageError(format!(
                "AZURE_FEDERATED_TOKEN_FILE is set but {k} is not: Azure workload identity needs AZURE_CLIENT_ID and AZURE_TENANT_ID (the webhook injects them when the pod's service account is annotated)"
            ))
        })
    };
    let client_id = need("AZURE_CLIENT_ID")?;
    let tenant = need("AZURE_TENANT_ID")?;
    let authority = authority(env("AZURE_AUTHORITY_HOST").as_deref())?;
    Ok(Some(AadSource::Workload {
        token_file: PathBuf::from(file),
        client_id,
        tenant,
        authority,
    }))
}

pub fn managed_identity(env: &Lookup<'_>) -> anyhow::Result<AadSource> {
    let raw = env(IMDS_ENDPOINT_VAR).unwrap_or_else(|| DEFAULT_IMDS.into());
    let endpoint = Url::parse(&raw)
        .map_err(|e| UsageError(format!("{IMDS_ENDPOINT_VAR} {raw:?} is not a URL: {e}")))?;
    Ok(AadSource::Imds {
        endpoint,
        client_id: env("AZURE_CLIENT_ID"),
    })
}

/// `AZURE_AUTHORITY_HOST` with a trailing slash; https only, except plain
/// http to a loopback host (a local test endpoint).
fn authority(raw: Option<&str>) -> anyhow::Result<Url> {
    let raw = raw.unwrap_or(DEFAULT_AUTHORITY);
    let with_slash = if raw.ends_with('/') {
        raw.to_string()
    } else {
        format!("{raw}/")
    };
    let url = Url::parse(&with_slash)
        .map_err(|e| UsageError(format!("AZURE_AUTHORITY_HOST {raw:?} is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        anyhow::bail!(UsageError(format!(
            "AZURE_AUTHORITY_HOST {raw:?} must be an https:// URL"
        )));
    }
    Ok(url)
}

impl AadSource {
    /// For logs: where the token comes from, never the token.
    pub fn describe(&self) -> String {
        match self {
            AadSource::Static { from, .. } => format!("Entra ID token from {from}"),
            AadSource::Workload {
                token_file,
                client_id,
                ..
            } => format!(
                "Azure workload identity (client {client_id}, token file {})",
                token_file.display()
            ),
            AadSource::Imds { client_id, .. } => match client_id {
                Some(c) => format!("managed identity (IMDS, client {c})"),
                None => "managed identity (IMDS)".into(),
            },
        }
    }

    /// A fresh Entra ID access token for ACR.
    pub async fn access_token(&self, http: &Http) -> Result<Secret, RegistryError> {
        match self {
            AadSource::Static { token, .. } => Ok(token.clone()),
            AadSource::Workload {
                token_file,
                client_id,
                tenant,
                authority,
            } => {
                let read = tokio::fs::read_to_string(token_file);
                let assertion = http.interruptible(read).await?.map_err(|e| {
                    RegistryError::Auth(format!(
                        "reading AZURE_FEDERATED_TOKEN_FILE {}: {e}",
                        token_file.display()
                    ))
                })?;
                let url = authority
                    .join(&format!("{tenant}/oauth2/v2.0/token"))
                    .map_err(|e| RegistryError::Auth(format!("AZURE_TENANT_ID: {e}")))?;
                // The kubelet rotates it: each one read is a secret to scrub.
                register_secret(assertion.trim());
                let scope = format!("{ACR_RESOURCE}/.default");
                let form = [
                    ("client_id", client_id.as_str()),
                    ("scope", scope.as_str()),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", assertion.trim()),
                    ("grant_type", "client_credentials"),
                ];
                let mut req = token_request(url, Some(&form));
                req.kind = RequestKind::Identity;
                read_access_token(http, &req, "Entra ID").await
            }
            AadSource::Imds {
                endpoint,
                client_id,
            } => {
                let mut url = endpoint.clone();
                {
                    let mut q = url.query_pairs_mut();
                    q.append_pair("api-version", "2018-02-01");
                    q.append_pair("resource", ACR_RESOURCE);
                    if let Some(c) = client_id {
                        q.append_pair("client_id", c);
                    }
                }
                let mut req = with_header(token_request(url, None), "metadata", "true");
                req.kind = RequestKind::Identity;
                read_access_token(http, &req, "IMDS").await
            }
        }
    }
}

/// Send a token request and read `access_token`. Error bodies are reduced
/// to their `error` code: descriptions may echo request details.
async fn read_access_token(
    http: &Http,
    req: &HttpRequest<'_>,
    who: &str,
) -> Result<Secret, RegistryError> {
    let shown = display_url(&req.url);
    let resp = http.send(req, &Fixed(None)).await?;
    if !resp.status.is_success() {
        return Err(RegistryError::Auth(format!(
            "{who} token endpoint {shown} answered HTTP {}{}",
            resp.status.as_u16(),
            error_code(&resp.body)
        )));
    }
    let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    json.get("access_token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or_else(|| {
            RegistryError::Auth(format!(
                "{who} token endpoint {shown} returned no access_token"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_is_https_or_loopback_http() {
        assert_eq!(authority(None).unwrap().as_str(), DEFAULT_AUTHORITY);
        assert_eq!(
            authority(Some("https://login.microsoftonline.us"))
                .unwrap()
                .as_str(),
            "https://login.microsoftonline.us/"
        );
        assert!(authority(Some("http://127.0.0.1:8080/")).is_ok());
        assert!(authority(Some("http://localhost:8080")).is_ok());
        assert!(authority(Some("http://login.example.com/")).is_err());
    }
}
