//! Pure builders for image configs, manifests and indexes with real sha256
//! digests. JSON is serialised compactly with sorted keys (serde_json's
//! default map), so the same inputs always give the same bytes and digest.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
pub const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
pub const HELM_CHART: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
/// Every manifest media type, as a client should send it in `Accept`.
pub const ACCEPT_ALL: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";
/// A fixed `created` used when a spec does not choose one.
pub const DEFAULT_CREATED: &str = "2024-01-02T03:04:05Z";

/// `sha256:<hex>` of `bytes`.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Deterministic JSON bytes and their digest.
pub fn encode(v: &Value) -> (Vec<u8>, String) {
    let bytes = serde_json::to_vec(v).expect("serialise JSON");
    let d = digest_of(&bytes);
    (bytes, d)
}

/// Which manifest family an image or index is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Docker,
    Oci,
}

impl Kind {
    pub fn manifest_type(self) -> &'static str {
        match self {
            Kind::Docker => DOCKER_MANIFEST,
            Kind::Oci => OCI_MANIFEST,
        }
    }
    pub fn index_type(self) -> &'static str {
        match self {
            Kind::Docker => DOCKER_LIST,
            Kind::Oci => OCI_INDEX,
        }
    }
    fn config_type(self) -> &'static str {
        match self {
            Kind::Docker => DOCKER_CONFIG,
            Kind::Oci => OCI_CONFIG,
        }
    }
    fn layer_type(self) -> &'static str {
        match self {
            Kind::Docker => DOCKER_LAYER,
            Kind::Oci => OCI_LAYER,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    pub os_version: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str) -> Self {
        Platform {
            os: os.into(),
            architecture: architecture.into(),
            variant: None,
            os_version: None,
        }
    }
    pub fn linux_amd64() -> Self {
        Self::new("linux", "amd64")
    }
    pub fn linux_arm64() -> Self {
        Self::new("linux", "arm64").variant("v8")
    }
    pub fn variant(mut self, v: &str) -> Self {
        self.variant = Some(v.into());
        self
    }
    pub fn os_version(mut self, v: &str) -> Self {
        self.os_version = Some(v.into());
        self
    }
    /// The `platform` object of an index entry.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("architecture".into(), json!(self.architecture));
        m.insert("os".into(), json!(self.os));
        if let Some(v) = &self.variant {
            m.insert("variant".into(), json!(v));
        }
        if let Some(v) = &self.os_version {
            m.insert("os.version".into(), json!(v));
        }
        Value::Object(m)
    }
}

/// A content descriptor as it appears in manifests and indexes.
#[derive(Debug, Clone)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: usize,
    pub platform: Option<Platform>,
    pub annotations: BTreeMap<String, String>,
    pub artifact_type: Option<String>,
}

impl Descriptor {
    pub fn of(media_type: &str, bytes: &[u8]) -> Self {
        Descriptor {
            media_type: media_type.into(),
            digest: digest_of(bytes),
            size: bytes.len(),
            platform: None,
            annotations: BTreeMap::new(),
            artifact_type: None,
        }
    }
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("mediaType".into(), json!(self.media_type));
        m.insert("digest".into(), json!(self.digest));
        m.insert("size".into(), json!(self.size));
        if let Some(p) = &self.platform {
            m.insert("platform".into(), p.to_json());
        }
        if !self.annotations.is_empty() {
            m.insert("annotations".into(), json!(self.annotations));
        }
        if let Some(t) = &self.artifact_type {
            m.insert("artifactType".into(), json!(t));
        }
        Value::Object(m)
    }
}

/// A small layer: a valid gzip stream (stored block) of 256 bytes derived
/// from `seed`, so equal seeds give equal blobs and different seeds differ.
pub struct Layer {
    pub gzip: Vec<u8>,
    /// sha256 of the uncompressed payload, for `rootfs.diff_ids`.
    pub diff_id: String,
}

pub fn layer(seed: &str) -> Layer {
    let mut payload = Vec::with_capacity(256);
    let mut block = Sha256::digest(seed.as_bytes());
    while payload.len() < 256 {
        payload.extend_from_slice(&block);
        block = Sha256::digest(block);
    }
    Layer {
        diff_id: digest_of(&payload),
        gzip: gzip_stored(&payload),
    }
}

fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).expect("stored block <= 65535 bytes");
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.push(1); // BFINAL=1, BTYPE=00 (stored)
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// An image config with a fixed placeholder diff_id; see
/// [`image_config_for`] to tie it to a real layer.
pub fn image_config(
    labels: Option<Value>,
    os: &str,
    arch: &str,
    variant: Option<&str>,
    created: Option<&str>,
) -> (Vec<u8>, String) {
    let mut p = Platform::new(os, arch);
    p.variant = variant.map(str::to_owned);
    image_config_for(labels, &p, created, &layer("placeholder").diff_id)
}

/// A realistic image config. `labels`: `None` leaves `config.Labels` out,
/// `Some(Value::Null)` writes `"Labels": null`, an object is written as is.
/// `created: None` leaves `created` out (and out of `history`).
pub fn image_config_for(
    labels: Option<Value>,
    platform: &Platform,
    created: Option<&str>,
    diff_id: &str,
) -> (Vec<u8>, String) {
    let mut config = Map::new();
    config.insert(
        "Env".into(),
        json!(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]),
    );
    config.insert("Cmd".into(), json!(["/bin/sh"]));
    config.insert("WorkingDir".into(), json!("/"));
    if let Some(l) = labels {
        config.insert("Labels".into(), l);
    }
    let mut history = Map::new();
    history.insert(
        "created_by".into(),
        json!("/bin/sh -c #(nop) ADD file:seed in / "),
    );
    let mut root = Map::new();
    root.insert("architecture".into(), json!(platform.architecture));
    root.insert("os".into(), json!(platform.os));
    if let Some(v) = &platform.variant {
        root.insert("variant".into(), json!(v));
    }
    if let Some(v) = &platform.os_version {
        root.insert("os.version".into(), json!(v));
    }
    if let Some(c) = created {
        root.insert("created".into(), json!(c));
        history.insert("created".into(), json!(c));
    }
    root.insert("config".into(), Value::Object(config));
    root.insert(
        "rootfs".into(),
        json!({"type": "layers", "diff_ids": [diff_id]}),
    );
    root.insert("history".into(), json!([Value::Object(history)]));
    encode(&Value::Object(root))
}

/// A docker v2 schema 2 or OCI image manifest (also used for artifacts).
/// Annotations and `artifactType` are only written for OCI.
pub fn image_manifest(
    kind: Kind,
    config: &Descriptor,
    layers: &[Descriptor],
    annotations: &BTreeMap<String, String>,
    artifact_type: Option<&str>,
) -> (Vec<u8>, String) {
    assert!(
        kind == Kind::Oci || (annotations.is_empty() && artifact_type.is_none()),
        "docker schema 2 manifests carry no annotations or artifactType"
    );
    let mut m = Map::new();
    m.insert("schemaVersion".into(), json!(2));
    m.insert("mediaType".into(), json!(kind.manifest_type()));
    if let Some(t) = artifact_type {
        m.insert("artifactType".into(), json!(t));
    }
    m.insert("config".into(), config.to_json());
    let layers: Vec<Value> = layers.iter().map(Descriptor::to_json).collect();
    m.insert("layers".into(), Value::Array(layers));
    if !annotations.is_empty() {
        m.insert("annotations".into(), json!(annotations));
    }
    encode(&Value::Object(m))
}

/// An OCI image index or docker manifest list over `children`.
pub fn index_manifest(
    kind: Kind,
    children: &[Descriptor],
    annotations: &BTreeMap<String, String>,
) -> (Vec<u8>, String) {
    assert!(
        kind == Kind::Oci || annotations.is_empty(),
        "docker manifest lists carry no annotations"
    );
    let mut m = Map::new();
    m.insert("schemaVersion".into(), json!(2));
    m.insert("mediaType".into(), json!(kind.index_type()));
    let children: Vec<Value> = children.iter().map(Descriptor::to_json).collect();
    m.insert("manifests".into(), Value::Array(children));
    if !annotations.is_empty() {
        m.insert("annotations".into(), json!(annotations));
    }
    encode(&Value::Object(m))
}

/// Config descriptor type and layer type for an image of `kind`.
pub fn image_types(kind: Kind) -> (&'static str, &'static str) {
    (kind.config_type(), kind.layer_type())
}

/// The in-toto statement BuildKit stores in an attestation manifest.
pub fn in_toto_statement(subject_name: &str, subject_digest: &str) -> Vec<u8> {
    let hex = subject_digest.trim_start_matches("sha256:");
    encode(&json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": subject_name, "digest": {"sha256": hex}}],
        "predicate": {"buildType": "https://mobyproject.org/buildkit@v1"},
    }))
    .0
}
