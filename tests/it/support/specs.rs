//! What the Seeder pushes (specs, builder style) and what it reports back.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::Value;

use super::fixtures::*;

/// What to push as a single-platform image.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub kind: Kind,
    /// `None`: no `Labels` key; `Some(Value::Null)`: `"Labels": null`.
    pub labels: Option<Value>,
    /// Manifest annotations (OCI only).
    pub annotations: BTreeMap<String, String>,
    pub platform: Platform,
    pub created: Option<String>,
}

impl ImageSpec {
    pub fn docker() -> Self {
        Self::new(Kind::Docker)
    }
    pub fn oci() -> Self {
        Self::new(Kind::Oci)
    }
    pub fn new(kind: Kind) -> Self {
        ImageSpec {
            kind,
            labels: None,
            annotations: BTreeMap::new(),
            platform: Platform::linux_amd64(),
            created: Some(DEFAULT_CREATED.into()),
        }
    }
    /// Sets `config.Labels` to `labels` exactly (an object, `{}` or null).
    pub fn labels(mut self, labels: Value) -> Self {
        self.labels = Some(labels);
        self
    }
    /// Adds one label (turning absent or null `Labels` into an object).
    pub fn label(mut self, k: &str, v: &str) -> Self {
        match &mut self.labels {
            Some(Value::Object(m)) => {
                m.insert(k.into(), v.into());
            }
            other => *other = Some(serde_json::json!({ k: v })),
        }
        self
    }
    pub fn annotation(mut self, k: &str, v: &str) -> Self {
        self.annotations.insert(k.into(), v.into());
        self
    }
    pub fn platform(mut self, p: Platform) -> Self {
        self.platform = p;
        self
    }
    pub fn created(mut self, c: &str) -> Self {
        self.created = Some(c.into());
        self
    }
    pub fn no_created(mut self) -> Self {
        self.created = None;
        self
    }
}

/// A multi-platform index (OCI image index or docker manifest list).
#[derive(Debug, Clone)]
pub struct IndexSpec {
    pub kind: Kind,
    pub children: Vec<IndexChild>,
    /// Index annotations (OCI only).
    pub annotations: BTreeMap<String, String>,
    /// Add one BuildKit-style attestation manifest per image child.
    pub attestations: bool,
}

#[derive(Debug, Clone)]
pub enum IndexChild {
    Image(ImageSpec),
    Index(IndexSpec),
}

impl IndexSpec {
    pub fn oci() -> Self {
        Self::new(Kind::Oci)
    }
    pub fn docker() -> Self {
        Self::new(Kind::Docker)
    }
    pub fn new(kind: Kind) -> Self {
        IndexSpec {
            kind,
            children: Vec::new(),
            annotations: BTreeMap::new(),
            attestations: false,
        }
    }
    pub fn image(mut self, spec: ImageSpec) -> Self {
        self.children.push(IndexChild::Image(spec));
        self
    }
    pub fn index(mut self, spec: IndexSpec) -> Self {
        self.children.push(IndexChild::Index(spec));
        self
    }
    pub fn annotation(mut self, k: &str, v: &str) -> Self {
        self.annotations.insert(k.into(), v.into());
        self
    }
    pub fn with_attestations(mut self) -> Self {
        self.attestations = true;
        self
    }
}

/// An OCI artifact: an OCI manifest whose config is not an image config.
#[derive(Debug, Clone)]
pub struct ArtifactSpec {
    pub config_media_type: String,
    pub config: Vec<u8>,
    pub artifact_type: Option<String>,
    /// (media type, bytes); none means one empty-descriptor layer.
    pub layers: Vec<(String, Vec<u8>)>,
    pub annotations: BTreeMap<String, String>,
}

impl ArtifactSpec {
    pub fn new(config_media_type: &str, config: &[u8]) -> Self {
        ArtifactSpec {
            config_media_type: config_media_type.into(),
            config: config.to_vec(),
            artifact_type: None,
            layers: Vec::new(),
            annotations: BTreeMap::new(),
        }
    }
    /// What `helm push` writes (no artifactType).
    pub fn helm_chart(name: &str, version: &str) -> Self {
        let config = encode(&serde_json::json!({
            "apiVersion": "v2", "name": name, "version": version,
        }))
        .0;
        Self::new(HELM_CONFIG, &config)
            .layer(HELM_CHART, &layer(&format!("helm {name} {version}")).gzip)
            .annotation("org.opencontainers.image.title", name)
            .annotation("org.opencontainers.image.version", version)
    }
    /// OCI 1.1 artifact with the empty config `{}` and an `artifactType`.
    pub fn empty_config(artifact_type: &str) -> Self {
        Self::new(OCI_EMPTY, b"{}").artifact_type(artifact_type)
    }
    pub fn artifact_type(mut self, t: &str) -> Self {
        self.artifact_type = Some(t.into());
        self
    }
    pub fn layer(mut self, media_type: &str, bytes: &[u8]) -> Self {
        self.layers.push((media_type.into(), bytes.to_vec()));
        self
    }
    pub fn annotation(mut self, k: &str, v: &str) -> Self {
        self.annotations.insert(k.into(), v.into());
        self
    }
}

/// A pushed image or artifact manifest.
#[derive(Debug, Clone)]
pub struct PushedImage {
    pub manifest_digest: String,
    pub config_digest: String,
    pub media_type: String,
    pub manifest: Vec<u8>,
}

/// A pushed index and, in order, what its `manifests` list points at.
#[derive(Debug, Clone)]
pub struct PushedIndex {
    pub digest: String,
    pub media_type: String,
    pub manifest: Vec<u8>,
    pub children: Vec<PushedChild>,
}

#[derive(Debug, Clone)]
pub struct PushedChild {
    pub digest: String,
    pub media_type: String,
    /// As written in the index (`unknown/unknown` for attestations).
    pub platform: Option<Platform>,
    /// For image and attestation children.
    pub config_digest: Option<String>,
    /// For attestation children: the image digest it attests.
    pub attests: Option<String>,
    /// For a child that is itself an index.
    pub index: Option<Box<PushedIndex>>,
}

/// A manifest as read back with every manifest type in `Accept`.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub digest: Option<String>,
    pub body: Vec<u8>,
}
