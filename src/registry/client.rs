//! Registry endpoints: each method describes a request and interprets the
//! answer; the transport does the sending.

use super::auth::Credential;
use super::page::next_link;
use super::transport::{
    header_digest, Request, RequestKind, Response, Settings, Shutdown, Transport, Verify,
};
use super::{display_url, Counters, RegistryError};
use crate::oci::{media, Digest};
use bytes::Bytes;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use std::sync::Arc;
use url::Url;

/// Manifests larger than this are refused (the distribution registry's own limit is 4 MiB).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// Image configs larger than this are refused.
pub const MAX_CONFIG_BYTES: usize = 8 * 1024 * 1024;
const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

pub struct Client {
    transport: Transport,
}

/// One page of a repository listing and where the next one is.
pub struct RepoPage {
    pub repositories: Vec<String>,
    pub next: Option<Url>,
}

/// One page of a tag listing.
pub struct TagPage {
    pub tags: Vec<String>,
    pub next: Option<Url>,
}

/// A manifest fetched and verified against its digest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub digest: Digest,
    pub content_type: Option<String>,
    pub body: Bytes,
}

impl Client {
    pub fn new(
        registry: Url,
        credential: Credential,
        settings: Settings,
        shutdown: Shutdown,
    ) -> Result<Client, RegistryError> {
        Ok(Client {
            transport: Transport::new(registry, credential, settings, shutdown)?,
        })
    }

    pub fn counters(&self) -> &Arc<Counters> {
        self.transport.counters()
    }

    /// Repositories the run visits next, in order: on registries that need
    /// a token per repository, their scopes share token requests.
    pub fn hint_repositories(&self, repos: &[String]) {
        self.transport.hint(repos);
    }

    /// The registry is ACR (by its host or `--api acr`): with ACR
    /// credentials its token is asked for without meeting a 401 first.
    pub fn assume_acr(&self) {
        self.transport.assume_acr();
    }

    pub fn registry(&self) -> &Url {
        self.transport.registry()
    }

    pub fn url(&self, path_and_query: &str) -> Url {
        self.registry()
            .join(path_and_query)
            .expect("registry URL is a valid base")
    }

    pub(super) async fn get(
        &self,
        url: Url,
        scope: &str,
        kind: RequestKind,
        accept: Option<&str>,
        max_body: usize,
        verify: Verify<'_>,
    ) -> Result<Response, RegistryError> {
        let req = Request {
            method: Method::GET,
            url,
            accept,
            scope,
            kind,
            max_body,
            verify,
        };
        self.transport.send(&req).await
    }

    /// The first catalog page URL for a page size.
    pub fn catalog_url(&self, page_size: usize) -> Url {
        self.url(&format!("/v2/_catalog?n={page_size}"))
    }

    pub async fn catalog_page(&self, url: Url) -> Result<RepoPage, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Option<Vec<String>>,
        }
        let resp = self
            .get(
                url.clone(),
                "registry:catalog:*",
                RequestKind::Catalog,
                Some("application/json"),
                MAX_LIST_BYTES,
                Verify::Nothing,
            )
            .await?;
        let resp = expect_success(resp)?;
        let c: Catalog = parse_json(&resp)?;
        let repositories = c.repositories.unwrap_or_default();
        let next = next_page(&resp.headers, &url, &repositories);
        Ok(RepoPage { repositories, next })
    }

    pub fn tags_url(&self, repo: &str, page_size: usize) -> Url {
        self.url(&format!("/v2/{repo}/tags/list?n={page_size}"))
    }

    /// A page of tags (`tags: null` is an empty page); a repository that
    /// is not there (404 NAME_UNKNOWN) is `NotFound`, for the caller to retire.
    pub async fn tags_page(&self, repo: &str, url: Url) -> Result<TagPage, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let scope = pull_scope(repo);
        let resp = self
            .get(
                url.clone(),
                &scope,
                RequestKind::Tags,
                Some("application/json"),
                MAX_LIST_BYTES,
                Verify::Nothing,
            )
            .await?;
        let resp = expect_success(resp)?;
        let t: Tags = parse_json(&resp)?;
        let tags = t.tags.unwrap_or_default();
        let next = next_page(&resp.headers, &url, &tags);
        Ok(TagPage { tags, next })
    }

    /// HEAD a manifest to learn the digest a tag points at.
    pub async fn head_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Digest, RegistryError> {
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"));
        let req = Request {
            method: Method::HEAD,
            url: url.clone(),
            accept: Some(media::MANIFEST_ACCEPT),
            scope: &pull_scope(repo),
            kind: RequestKind::ManifestHead,
            max_body: 0,
            verify: Verify::Nothing,
        };
        let resp = expect_success(self.transport.send(&req).await?)?;
        header_digest(&resp.headers).ok_or_else(|| RegistryError::InvalidResponse {
            url: display_url(&url),
            detail: "no valid Docker-Content-Digest header".into(),
        })
    }

    /// GET a manifest by tag or digest with the full Accept list and verify
    /// it: against the requested digest, and against Docker-Content-Digest.
    pub async fn get_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<FetchedManifest, RegistryError> {
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"));
        let requested: Option<Digest> = reference.parse().ok();
        let check = requested
            .as_ref()
            .map_or(Verify::Announced, Verify::Manifest);
        let resp = self
            .get(
                url.clone(),
                &pull_scope(repo),
                RequestKind::ManifestGet,
                Some(media::MANIFEST_ACCEPT),
                MAX_MANIFEST_BYTES,
                check,
            )
            .await?;
        let resp = expect_success(resp)?;
        let announced = header_digest(&resp.headers);
        let expected = requested.or(announced.clone());
        let digest = match expected {
            Some(d) => {
                verify_manifest(&d, &resp.body, &url)?;
                if let Some(a) = announced.filter(|a| a.algorithm() == d.algorithm()) {
                    verify_manifest(&a, &resp.body, &url)?;
                }
                d
            }
            None => crate::oci::manifest_digest(&resp.body),
        };
        let content_type = resp
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(FetchedManifest {
            digest,
            content_type,
            body: resp.body,
        })
    }

    /// GET a blob (an image config), following the storage redirect
    /// without credentials, and verify it.
    pub async fn get_blob(
        &self,
        repo: &str,
        digest: &Digest,
        max_body: usize,
    ) -> Result<Bytes, RegistryError> {
        let url = self.url(&format!("/v2/{repo}/blobs/{digest}"));
        let resp = self
            .get(
                url.clone(),
                &pull_scope(repo),
                RequestKind::BlobGet,
                None,
                max_body,
                Verify::Digest(digest),
            )
            .await?;
        let resp = expect_success(resp)?;
        verify(digest, &resp.body, &url)?;
        Ok(resp.body)
    }

    /// GET a JSON document on the registry (the ACR listing API).
    pub async fn get_json(
        &self,
        url: Url,
        scope: &str,
        kind: RequestKind,
    ) -> Result<Response, RegistryError> {
        self.get(
            url,
            scope,
            kind,
            Some("application/json"),
            MAX_LIST_BYTES,
            Verify::Nothing,
        )
        .await
    }
}

pub fn pull_scope(repo: &str) -> String {
    format!("repository:{repo}:pull")
}

fn verify(expected: &Digest, body: &[u8], url: &Url) -> Result<(), RegistryError> {
    digest_error(expected.verify(body), url)
}

/// Like `verify`, but a signed schema 1 manifest is checked by its payload.
fn verify_manifest(expected: &Digest, body: &[u8], url: &Url) -> Result<(), RegistryError> {
    digest_error(crate::oci::verify_manifest(expected, body), url)
}

fn digest_error(r: Result<(), crate::oci::DigestError>, url: &Url) -> Result<(), RegistryError> {
    r.map_err(|e| match e {
        crate::oci::DigestError::Mismatch { expected, actual } => RegistryError::DigestMismatch {
            url: display_url(url),
            expected,
            actual,
        },
        other => RegistryError::InvalidResponse {
            url: display_url(url),
            detail: other.to_string(),
        },
    })
}

/// Map a non-success status to a named error.
pub fn expect_success(resp: Response) -> Result<Response, RegistryError> {
    let url = display_url(&resp.url);
    match resp.status {
        s if s.is_success() => Ok(resp),
        StatusCode::UNAUTHORIZED => Err(RegistryError::Unauthorized {
            url,
            hint: String::new(),
        }),
        StatusCode::FORBIDDEN => Err(RegistryError::Forbidden { url }),
        StatusCode::NOT_FOUND => Err(RegistryError::NotFound { url }),
        s => Err(RegistryError::Status {
            url,
            status: s.as_u16(),
        }),
    }
}

pub fn parse_json<T: serde::de::DeserializeOwned>(resp: &Response) -> Result<T, RegistryError> {
    serde_json::from_slice(&resp.body).map_err(|e| RegistryError::InvalidResponse {
        url: display_url(&resp.url),
        detail: e.to_string(),
    })
}

/// The next page: the Link header when there is one; otherwise, when the
/// page was full (as many entries as `n` asked for), `last=<final entry>`
/// for registries that paginate without Link.
fn next_page(headers: &HeaderMap, url: &Url, entries: &[String]) -> Option<Url> {
    let link = headers.get("link").and_then(|v| v.to_str().ok());
    if link.is_some() {
        return next_link(link, url);
    }
    let n: usize = url.query_pairs().find(|(k, _)| k == "n")?.1.parse().ok()?;
    let last = entries.last().filter(|_| entries.len() >= n)?;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "last")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut next = url.clone();
    next.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair("last", last);
    Some(next)
}
