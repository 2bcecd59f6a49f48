//! What the indexer hands the store, and what readers ask of it.

use crate::oci::{Digest, Platform};
use std::collections::BTreeMap;

/// One verified manifest, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestRecord {
    pub digest: Digest,
    pub media_type: String,
    /// image | index | artifact | schema1
    pub kind: &'static str,
    /// ok | unsupported
    pub status: &'static str,
    pub artifact_type: Option<String>,
    pub config_digest: Option<Digest>,
    pub config_media_type: Option<String>,
    pub created: Option<String>,
    pub platform: Option<Platform>,
    pub size: i64,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub children: Vec<ChildRecord>,
    /// In-toto statements with a SLSA provenance predicate, read from the
    /// layers of a BuildKit attestation manifest.
    pub attestations: Vec<AttestationRecord>,
    /// Stored without something a later run should fetch (attestation
    /// layers skipped by `--no-attestations`): fetch it again next time.
    pub refetch: bool,
}

impl ManifestRecord {
    /// A record with nothing but what every manifest has; the indexer fills
    /// in the rest by kind.
    pub fn new(
        digest: Digest,
        media_type: String,
        kind: &'static str,
        size: i64,
    ) -> ManifestRecord {
        ManifestRecord {
            digest,
            media_type,
            kind,
            status: "ok",
            artifact_type: None,
            config_digest: None,
            config_media_type: None,
            created: None,
            platform: None,
            size,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            children: Vec::new(),
            attestations: Vec::new(),
            refetch: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChildRecord {
    pub digest: Digest,
    pub media_type: String,
    pub platform: Option<Platform>,
    pub is_attestation: bool,
    /// The descriptor's own annotations (Docker Official Images put the
    /// revision and source here; BuildKit names an attestation's subject).
    pub annotations: BTreeMap<String, String>,
}

/// One attestation layer: its digest (verified), predicate type and the
/// statement as fetched (size-capped).
#[derive(Debug, Clone, PartialEq)]
pub struct AttestationRecord {
    pub layer_digest: Digest,
    pub predicate_type: String,
    pub statement: String,
}

/// The tags a repository listing found. `digest` is None for a tag whose
/// digest could not be learned this run: its stored mapping is left alone.
#[derive(Debug, Clone, PartialEq)]
pub struct TagListing {
    pub repository: String,
    pub tags: Vec<(String, Option<Digest>)>,
    /// The listing was complete, so stored tags missing from it are gone.
    pub complete: bool,
    pub last_update_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub repository: Option<String>,
    pub reference: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Manifest(Box<ManifestRecord>),
    Tags(TagListing),
    Failure(Failure),
    Referrers(Box<ReferrerLinks>),
}

/// Where a referrer link was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrerSource {
    /// The OCI 1.1 referrers API.
    Api,
    /// The referrers tag schema (`sha256-<hex>` holding an index).
    TagSchema,
    /// cosign's `sha256-<hex>.sig` / `.att` / `.sbom` tags.
    CosignTag,
}

impl ReferrerSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ReferrerSource::Api => "api",
            ReferrerSource::TagSchema => "tag-schema",
            ReferrerSource::CosignTag => "cosign-tag",
        }
    }
}

/// One referrer manifest, as its descriptor (and, for attestations, its
/// statement) describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferrerRecord {
    pub digest: Digest,
    pub media_type: String,
    /// artifactType, else the config media type.
    pub artifact_type: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub created: Option<String>,
    pub predicate_type: Option<String>,
    /// The in-toto statement of a SLSA provenance attestation (JSON).
    pub statement: Option<String>,
}

/// What a repository's referrers look like now, for some subjects.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferrerLinks {
    pub repository: String,
    pub source: ReferrerSource,
    /// `Some`: these subjects were listed (API or tag schema); their links
    /// from those sources are replaced and their check time set.
    /// `None` (cosign tags): the repository's cosign-tag links are replaced.
    pub checked: Option<Vec<Digest>>,
    /// (subject, referrer)
    pub links: Vec<(Digest, ReferrerRecord)>,
}

/// How a run ended, as stored in `runs.status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RunStatus {
    #[default]
    Ok,
    Partial,
    Failed,
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// What a finished run records: each fact once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    pub status: RunStatus,
    pub repositories: i64,
    pub tags: i64,
    pub manifests_new: i64,
    pub manifests_known: i64,
    pub failures: i64,
    /// Request counts by kind (stored as a JSON object).
    pub requests: std::collections::BTreeMap<String, u64>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValueMatch {
    Exact(String),
    Prefix(String),
}

/// `--commit SHA`: the full value, `PREFIX*`, or (resolved by the command
/// before the rows are read) a unique prefix of at least 7 hex digits.
#[derive(Debug, Clone, PartialEq)]
pub enum CommitMatch {
    Exact(String),
    Prefix(String),
}

/// `--label KEY[=VALUE]`: KEY matches a label key exactly or as its last
/// dot-separated segments.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelFilter {
    pub key: String,
    pub value: Option<ValueMatch>,
}

/// Filters shared by query and export. Globs use SQLite GLOB syntax.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowFilter {
    pub labels: Vec<LabelFilter>,
    pub repos: Vec<String>,
    pub tags: Vec<String>,
    pub registry: Option<String>,
    pub digest: Option<String>,
    /// RFC 3339 bounds on created (or the tag's first-seen time when created is unknown).
    pub since: Option<String>,
    pub until: Option<String>,
    // Provenance filters (issue 11): over the stored provenance and over
    // manifest, descriptor and index annotations.
    pub commit: Option<CommitMatch>,
    pub branch: Option<String>,
    /// Normalised as provenance sources are (no `.git`, no fragment).
    pub source: Option<String>,
    pub annotations: Vec<LabelFilter>,
    /// Only images whose provenance names a base image (`bases`).
    pub has_base: bool,
    /// Some(true): a signature refers to the image or its index; Some(false): none does.
    pub signed: Option<bool>,
    /// Has a referrer of each of these artifact types (or kinds/formats).
    pub artifact_types: Vec<String>,
}
