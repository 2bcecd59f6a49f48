//! `show`: everything known about one image, its tags and their history,
//! its index or children, its base image and the links its labels give.

use crate::config::UsageError;
use crate::oci::{ImageRef, RefTarget};
use crate::provenance::Provenance;
use crate::store::{ImageDetail, ResolvedBy, Store, TagEntry};

/// What `show --format json` prints and `GET /api/v1/images/{ref}` returns.
#[derive(Debug, serde::Serialize)]
pub struct ShowOutput {
    pub reference: String,
    pub resolved_by: ResolvedBy,
    /// For a tag reference: every digest the tag has pointed at, oldest first.
    pub tag_history: Vec<TagEntry>,
    pub images: Vec<ShowImage>,
}

#[derive(Debug, serde::Serialize)]
pub struct ShowImage {
    /// With its stored `provenance` (the same object query and export print).
    #[serde(flatten)]
    pub detail: ImageDetail,
    pub base_image: Option<BaseImage>,
    /// What refers to it or to an index holding it, in any repository.
    pub referrers: Vec<crate::store::ReferrerEntry>,
}

#[derive(Debug, serde::Serialize)]
pub struct BaseImage {
    pub name: Option<String>,
    pub digest: Option<String>,
    /// The base image's digest is in this database.
    pub indexed: bool,
    /// Where the index has it now (`registry/repository:tag`).
    pub tags: Vec<String>,
}

/// Everything known about `reference`, or None when nothing matches. A
/// reference that does not parse is a `UsageError`.
pub fn show(store: &Store, reference: &str) -> anyhow::Result<Option<ShowOutput>> {
    // A digest prefix (12+ hex digits) or bare hex names one digest, or is
    // an error listing the candidates.
    let expanded = super::reference::expand(store, reference)?;
    let parsed = ImageRef::parse(&expanded).map_err(UsageError)?;
    let Some((resolved_by, details)) = resolve(store, &parsed)? else {
        return Ok(None);
    };
    let mut images = Vec::new();
    for detail in details {
        let base_image = base_image(store, &detail.provenance)?;
        let referrers = store.referrers_of(&super::referrers::subjects(&detail), None)?;
        images.push(ShowImage {
            detail,
            base_image,
            referrers,
        });
    }
    let tag_history = match (&parsed.target, &parsed.repository) {
        (RefTarget::Tag(tag), Some(repo)) => {
            store.tag_history(parsed.registry.as_deref(), repo, tag)?
        }
        _ => Vec::new(),
    };
    Ok(Some(ShowOutput {
        reference: reference.to_string(),
        resolved_by,
        tag_history,
        images,
    }))
}

/// Resolve a parsed reference: a digest as manifest, index or config
/// digest; a tag to what it points at now (or last, when removed).
pub fn resolve(
    store: &Store,
    r: &ImageRef,
) -> anyhow::Result<Option<(ResolvedBy, Vec<ImageDetail>)>> {
    match &r.target {
        RefTarget::Digest(d) => Ok(store.resolve_digest(d.as_str())?),
        RefTarget::Tag(tag) => {
            let repo = r.repository.as_deref().unwrap_or_default();
            let mut images: Vec<ImageDetail> = Vec::new();
            for digest in store.resolve_tag(r.registry.as_deref(), repo, tag)? {
                if let Some((_, found)) = store.resolve_digest(&digest)? {
                    for f in found {
                        if !images.iter().any(|i| i.digest == f.digest) {
                            images.push(f);
                        }
                    }
                }
            }
            Ok((!images.is_empty()).then_some((ResolvedBy::Tag, images)))
        }
    }
}

/// Provenance of one manifest, as stored when it was indexed (src/provenance).
pub fn provenance_of(d: &ImageDetail) -> Provenance {
    d.provenance.clone()
}

fn base_image(store: &Store, p: &Provenance) -> anyhow::Result<Option<BaseImage>> {
    if p.base_name.is_none() && p.base_digest.is_none() {
        return Ok(None);
    }
    let (indexed, tags) = match &p.base_digest {
        Some(d) if store.has_manifest(d)? => {
            let tags = store
                .tags_of(d)?
                .into_iter()
                .filter(|t| t.current)
                .map(|t| format!("{}/{}:{}", t.registry, t.repository, t.tag))
                .collect();
            (true, tags)
        }
        _ => (false, Vec::new()),
    };
    Ok(Some(BaseImage {
        name: p.base_name.clone(),
        digest: p.base_digest.clone(),
        indexed,
        tags,
    }))
}
