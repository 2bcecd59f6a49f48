//! What refers to a manifest (signatures, SBOMs, attestations): OCI 1.1's
//! referrers API, and the referrers tag schema for registries without it.
//! These endpoints only describe requests; the transport sends them.

use super::client::{expect_success, parse_json, pull_scope, Client};
use super::page::next_link;
use super::transport::{RequestKind, Verify};
use super::RegistryError;
use crate::oci::{media, Descriptor, Digest, Manifest};
use reqwest::StatusCode;
use url::Url;

/// A referrers page or a tag-schema index larger than this is refused.
pub const MAX_REFERRER_BYTES: usize = 4 * 1024 * 1024;

/// One page of a subject's referrers.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferrersPage {
    pub descriptors: Vec<Descriptor>,
    pub next: Option<Url>,
}

#[derive(serde::Deserialize)]
struct IndexBody {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

/// The tag the referrers tag schema keeps a subject's referrers under:
/// `<alg>-<hex>` (OCI distribution spec 1.1, "Referrers Tag Schema").
pub fn fallback_tag(subject: &Digest) -> String {
    subject.as_str().replacen(':', "-", 1)
}

/// What cosign's suffix tags hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CosignTag {
    Signature,
    Attestation,
    Sbom,
}

impl CosignTag {
    /// The artifactType cosign gives the same content in its OCI 1.1 mode,
    /// so both ways of attaching read alike.
    pub fn artifact_type(self) -> &'static str {
        match self {
            CosignTag::Signature => "application/vnd.dev.cosign.artifact.sig.v1+json",
            CosignTag::Attestation => "application/vnd.dev.cosign.artifact.att.v1+json",
            CosignTag::Sbom => "application/vnd.dev.cosign.artifact.sbom.v1+json",
        }
    }
}

/// `sha256-<hex>.sig` / `.att` / `.sbom`: the subject and what the tag holds.
pub fn cosign_tag(tag: &str) -> Option<(Digest, CosignTag)> {
    let (base, suffix) = tag.rsplit_once('.')?;
    let kind = match suffix {
        "sig" => CosignTag::Signature,
        "att" => CosignTag::Attestation,
        "sbom" => CosignTag::Sbom,
        _ => return None,
    };
    Some((fallback_subject(base)?, kind))
}

/// The subject a `sha256-<hex>` tag names, if it is one.
pub fn fallback_subject(tag: &str) -> Option<Digest> {
    let (alg, hex) = tag.split_once('-')?;
    format!("{alg}:{hex}").parse().ok()
}

/// Keep what a requested `artifactType` filter lets through. The registry
/// is trusted to have filtered only when it says so (`OCI-Filters-Applied`).
pub fn apply_filter(
    descriptors: Vec<Descriptor>,
    requested: Option<&str>,
    applied_header: Option<&str>,
) -> Vec<Descriptor> {
    let Some(wanted) = requested else {
        return descriptors;
    };
    let applied = applied_header.is_some_and(|h| {
        h.split(',')
            .any(|f| f.trim().eq_ignore_ascii_case("artifactType"))
    });
    if applied {
        return descriptors;
    }
    descriptors
        .into_iter()
        .filter(|d| d.artifact_type.as_deref() == Some(wanted))
        .collect()
}

impl Client {
    /// `GET /v2/<repo>/referrers/<digest>[?artifactType=...]`.
    pub fn referrers_url(&self, repo: &str, subject: &Digest, artifact_type: Option<&str>) -> Url {
        let mut url = self.url(&format!("/v2/{repo}/referrers/{subject}"));
        if let Some(t) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", t);
        }
        url
    }

    /// One page of referrers; None when the registry has no referrers API
    /// (the spec forbids 404 from a registry that has it: an unknown subject
    /// gets an empty index).
    pub async fn referrers_page(
        &self,
        repo: &str,
        url: Url,
    ) -> Result<Option<ReferrersPage>, RegistryError> {
        let requested: Option<String> = url
            .query_pairs()
            .find(|(k, _)| k == "artifactType")
            .map(|(_, v)| v.into_owned());
        let resp = self
            .get(
                url.clone(),
                &pull_scope(repo),
                RequestKind::Referrers,
                Some(media::OCI_INDEX),
                MAX_REFERRER_BYTES,
                Verify::Nothing,
            )
            .await?;
        if resp.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let resp = expect_success(resp)?;
        let body: IndexBody = parse_json(&resp)?;
        let applied = resp
            .headers
            .get("oci-filters-applied")
            .and_then(|v| v.to_str().ok());
        let descriptors = apply_filter(body.manifests, requested.as_deref(), applied);
        let link = resp.headers.get("link").and_then(|v| v.to_str().ok());
        Ok(Some(ReferrersPage {
            descriptors,
            next: next_link(link, &url),
        }))
    }

    /// The referrers tag schema: the index tagged `sha256-<hex>`. None when
    /// the tag is gone or holds something other than an index.
    pub async fn referrers_tag(
        &self,
        repo: &str,
        subject: &Digest,
    ) -> Result<Option<Vec<Descriptor>>, RegistryError> {
        let url = self.url(&format!("/v2/{repo}/manifests/{}", fallback_tag(subject)));
        let resp = self
            .get(
                url,
                &pull_scope(repo),
                RequestKind::Referrers,
                Some(media::MANIFEST_ACCEPT),
                MAX_REFERRER_BYTES,
                Verify::Announced,
            )
            .await?;
        if resp.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let resp = expect_success(resp)?;
        let content_type = resp
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        match Manifest::parse(content_type, &resp.body) {
            Ok(Manifest::Index { manifests, .. }) => Ok(Some(manifests)),
            Ok(_) => {
                tracing::debug!(repository = %repo, %subject, "referrers tag holds no index; ignored");
                Ok(None)
            }
            Err(e) => Err(RegistryError::InvalidResponse {
                url: super::display_url(&resp.url),
                detail: format!("referrers tag: {e}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

    fn desc(t: Option<&str>) -> Descriptor {
        serde_json::from_value(serde_json::json!({
            "mediaType": media::OCI_MANIFEST,
            "digest": format!("sha256:{HEX}"),
            "size": 1,
            "artifactType": t,
        }))
        .unwrap()
    }

    #[test]
    fn tag_names() {
        let d: Digest = format!("sha256:{HEX}").parse().unwrap();
        assert_eq!(fallback_tag(&d), format!("sha256-{HEX}"));
        assert_eq!(fallback_subject(&fallback_tag(&d)), Some(d.clone()));
        assert_eq!(
            cosign_tag(&format!("sha256-{HEX}.sig")),
            Some((d.clone(), CosignTag::Signature))
        );
        assert_eq!(
            cosign_tag(&format!("sha256-{HEX}.att")).map(|c| c.1),
            Some(CosignTag::Attestation)
        );
        assert_eq!(
            cosign_tag(&format!("sha256-{HEX}.sbom")).map(|c| c.1),
            Some(CosignTag::Sbom)
        );
        // regclient's `.meta` tags and short or odd names are not ours.
        assert_eq!(
            cosign_tag(&format!("sha256-{HEX}.6fe828b32b9b4572.meta")),
            None
        );
        assert_eq!(cosign_tag("sha256-abc.sig"), None);
        assert_eq!(fallback_subject("v1.2"), None);
        assert_eq!(fallback_subject("latest"), None);
    }

    #[test]
    fn filter_is_trusted_only_when_the_registry_says_it_applied_it() {
        let all = || vec![desc(Some("a/sig")), desc(Some("b/sbom")), desc(None)];
        assert_eq!(apply_filter(all(), None, None).len(), 3);
        assert_eq!(apply_filter(all(), Some("a/sig"), None).len(), 1);
        assert_eq!(apply_filter(all(), Some("a/sig"), Some("other")).len(), 1);
        // Applied: what the registry sent is taken as is.
        assert_eq!(
            apply_filter(all(), Some("a/sig"), Some("foo, artifactType")).len(),
            3
        );
    }
}
