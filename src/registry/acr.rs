//! Azure Container Registry's listing API (`/acr/v1/`): tags come with
//! their digests, so no request per tag is needed, and a repository's
//! lastUpdateTime tells whether it changed since the last complete run.

use super::client::{expect_success, parse_json, Client};
use super::page::next_link;
use super::transport::RequestKind;
use super::{RegistryError, RepoPage};
use crate::oci::Digest;
use reqwest::StatusCode;
use url::Url;

/// One page of `/acr/v1/<repo>/_tags`.
pub struct AcrTagPage {
    pub tags: Vec<(String, Option<Digest>)>,
    pub next: Option<Url>,
}

/// Whether the registry offers the ACR API, learned from its catalog.
pub enum AcrCatalog {
    Page(RepoPage),
    /// `/acr/v1/_catalog` is not there: not ACR.
    Absent,
}

/// ACR's own listing pages are asked for at most 100 entries, the size
/// ACR uses when `n` is absent: a larger `n` is not documented for
/// `/acr/v1/`, and a refused page would fail the whole run.
const ACR_MAX_PAGE: usize = 100;

fn metadata_scope(repo: &str) -> String {
    format!("repository:{repo}:metadata_read")
}

/// True for Azure's registry host names.
pub fn is_acr_host(host: &str) -> bool {
    let h = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    [".azurecr.io", ".azurecr.cn", ".azurecr.us", ".azurecr.de"]
        .iter()
        .any(|s| h.ends_with(s))
}

impl Client {
    pub fn acr_catalog_url(&self, page_size: usize) -> Url {
        let n = page_size.min(ACR_MAX_PAGE);
        self.url(&format!("/acr/v1/_catalog?n={n}"))
    }

    pub async fn acr_catalog_page(&self, url: Url) -> Result<AcrCatalog, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Option<Vec<String>>,
        }
        let resp = self
            .get_json(url.clone(), "registry:catalog:*", RequestKind::Catalog)
            .await?;
        if resp.status == StatusCode::NOT_FOUND {
            return Ok(AcrCatalog::Absent);
        }
        let resp = expect_success(resp)?;
        let c: Catalog = parse_json(&resp)?;
        let link = resp.headers.get("link").and_then(|v| v.to_str().ok());
        Ok(AcrCatalog::Page(RepoPage {
            repositories: c.repositories.unwrap_or_default(),
            next: next_link(link, &url),
        }))
    }

    /// The repository's lastUpdateTime, or None when ACR does not say.
    pub async fn acr_repository_updated(
        &self,
        repo: &str,
    ) -> Result<Option<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Repo {
            #[serde(default)]
            last_update_time: Option<String>,
        }
        let url = self.url(&format!("/acr/v1/{repo}"));
        let resp = expect_success(
            self.get_json(url, &metadata_scope(repo), RequestKind::Repository)
                .await?,
        )?;
        Ok(parse_json::<Repo>(&resp)?.last_update_time)
    }

    pub fn acr_tags_url(&self, repo: &str, page_size: usize) -> Url {
        let n = page_size.min(ACR_MAX_PAGE);
        self.url(&format!("/acr/v1/{repo}/_tags?n={n}"))
    }

    /// A page of tags with their digests. The next link is followed as
    /// given: ACR's `last` may be opaque and its links carry `orderby=`.
    pub async fn acr_tags_page(&self, repo: &str, url: Url) -> Result<AcrTagPage, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<Tag>>,
        }
        #[derive(serde::Deserialize)]
        struct Tag {
            name: String,
            #[serde(default)]
            digest: Option<String>,
        }
        let resp = self
            .get_json(url.clone(), &metadata_scope(repo), RequestKind::Tags)
            .await?;
        // 404 (NAME_UNKNOWN: the repository was deleted) is `NotFound`.
        let resp = expect_success(resp)?;
        let t: Tags = parse_json(&resp)?;
        let link = resp.headers.get("link").and_then(|v| v.to_str().ok());
        Ok(AcrTagPage {
            tags: t
                .tags
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t.name, t.digest.and_then(|d| d.parse().ok())))
                .collect(),
            next: next_link(link, &url),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn acr_hosts() {
        assert!(super::is_acr_host("myacr.azurecr.io"));
        assert!(super::is_acr_host("MyAcr.AzureCR.io:443"));
        assert!(!super::is_acr_host("azurecr.io.example.com"));
        assert!(!super::is_acr_host("127.0.0.1:5000"));
    }
}
