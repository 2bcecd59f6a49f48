use super::config::{ImageConfig, Platform};
use super::digest::{Digest, DigestError};
use super::media;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A content descriptor as it appears in manifests and indexes.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: Digest,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// BuildKit stores provenance and SBOM attestations as index children
    /// with platform unknown/unknown and this annotation.
    pub fn is_attestation(&self) -> bool {
        self.annotations
            .get("vnd.docker.reference.type")
            .is_some_and(|t| t == "attestation-manifest")
    }
}

/// A parsed manifest, its kind decided by media type.
#[derive(Debug, Clone, PartialEq)]
pub enum Manifest {
    /// Docker v2 schema 2 or OCI image manifest (including OCI artifacts,
    /// which are image manifests whose config is not an image config).
    Image {
        media_type: String,
        config: Descriptor,
        artifact_type: Option<String>,
        annotations: BTreeMap<String, String>,
        /// Layer descriptors: read only for BuildKit's in-toto attestation layers.
        layers: Vec<Descriptor>,
    },
    /// Docker manifest list or OCI image index.
    Index {
        media_type: String,
        manifests: Vec<Descriptor>,
        artifact_type: Option<String>,
        annotations: BTreeMap<String, String>,
    },
    /// Docker schema 1: no config blob; what the config would hold is in
    /// `history[0].v1Compatibility`. `config` is None when that is unreadable.
    Schema1 {
        media_type: String,
        config: Option<ImageConfig>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unsupported manifest media type {0:?}")]
    UnsupportedMediaType(String),
    #[error("manifest has no media type and an unrecognisable shape")]
    UnknownShape,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    schema_version: Option<i64>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
    #[serde(default)]
    config: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageManifestJson {
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexJson {
    #[serde(default)]
    manifests: Vec<Descriptor>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Schema1Json {
    #[serde(default)]
    history: Vec<Schema1History>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Schema1History {
    #[serde(default)]
    v1_compatibility: String,
}

impl Manifest {
    /// Parse a manifest body. The kind comes from the body's `mediaType`,
    /// else from the response's Content-Type, else (OCI allows omitting
    /// `mediaType`) from the fields the spec makes mandatory for each kind.
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Manifest, ManifestError> {
        let probe: Probe = serde_json::from_slice(body)?;
        let header = content_type
            .map(media::essence)
            .filter(|t| is_manifest_type(t));
        let media_type = match (probe.media_type.clone(), header) {
            (Some(t), _) if !t.is_empty() => t,
            (_, Some(t)) => t.to_string(),
            _ if probe.schema_version == Some(1) => media::DOCKER_SCHEMA1.to_string(),
            _ if probe.manifests.is_some() => media::OCI_INDEX.to_string(),
            _ if probe.config.is_some() => media::OCI_MANIFEST.to_string(),
            _ => return Err(ManifestError::UnknownShape),
        };
        match media_type.as_str() {
            media::DOCKER_MANIFEST | media::OCI_MANIFEST => {
                let m: ImageManifestJson = serde_json::from_slice(body)?;
                Ok(Manifest::Image {
                    media_type,
                    config: m.config,
                    artifact_type: m.artifact_type,
                    annotations: m.annotations,
                    layers: m.layers,
                })
            }
            media::DOCKER_MANIFEST_LIST | media::OCI_INDEX => {
                let m: IndexJson = serde_json::from_slice(body)?;
                Ok(Manifest::Index {
                    media_type,
                    manifests: m.manifests,
                    artifact_type: m.artifact_type,
                    annotations: m.annotations,
                })
            }
            media::DOCKER_SCHEMA1 | media::DOCKER_SCHEMA1_SIGNED => {
                let m: Schema1Json = serde_json::from_slice(body)?;
                let config = m
                    .history
                    .first()
                    .and_then(|h| ImageConfig::parse(h.v1_compatibility.as_bytes()).ok());
                Ok(Manifest::Schema1 { media_type, config })
            }
            other => Err(ManifestError::UnsupportedMediaType(other.to_string())),
        }
    }

    pub fn media_type(&self) -> &str {
        match self {
            Manifest::Image { media_type, .. }
            | Manifest::Index { media_type, .. }
            | Manifest::Schema1 { media_type, .. } => media_type,
        }
    }
}

/// Check a manifest body against its digest. A signed schema 1 manifest
/// (a JWS) is identified by its payload without the signatures, as docker
/// does: distribution signs it anew on every GET, so the body differs each
/// time while the payload's digest does not.
pub fn verify_manifest(expected: &Digest, body: &[u8]) -> Result<(), DigestError> {
    match expected.verify(body) {
        Err(mismatch) => match schema1_payload(body) {
            Some(payload) => expected.verify(&payload).map_err(|_| mismatch),
            None => Err(mismatch),
        },
        ok => ok,
    }
}

/// The digest a manifest is known by: its payload's for a signed schema 1
/// manifest, else the body's.
pub fn manifest_digest(body: &[u8]) -> Digest {
    match schema1_payload(body) {
        Some(payload) => Digest::sha256_of(&payload),
        None => Digest::sha256_of(body),
    }
}

/// The signed payload of a schema 1 JWS manifest: the body up to the
/// first signature's `formatLength`, followed by its `formatTail`.
pub fn schema1_payload(body: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    #[derive(Deserialize)]
    struct Signed {
        #[serde(rename = "schemaVersion")]
        schema_version: Option<i64>,
        #[serde(default)]
        signatures: Vec<Signature>,
    }
    #[derive(Deserialize)]
    struct Signature {
        protected: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Protected {
        format_length: usize,
        format_tail: String,
    }
    let signed: Signed = serde_json::from_slice(body).ok()?;
    if signed.schema_version != Some(1) {
        return None;
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let protected = signed.signatures.first()?.protected.trim_end_matches('=');
    let protected: Protected = serde_json::from_slice(&b64.decode(protected).ok()?).ok()?;
    let head = body.get(..protected.format_length)?;
    let tail = b64
        .decode(protected.format_tail.trim_end_matches('='))
        .ok()?;
    Some([head, &tail].concat())
}

fn is_manifest_type(t: &str) -> bool {
    matches!(
        t,
        media::DOCKER_MANIFEST
            | media::DOCKER_MANIFEST_LIST
            | media::OCI_MANIFEST
            | media::OCI_INDEX
            | media::DOCKER_SCHEMA1
            | media::DOCKER_SCHEMA1_SIGNED
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // The real signed and unsigned schema 1 manifests of the corpus are
    // checked in tests/it/hostile_failures.rs: only tests read the corpus.
    #[test]
    fn schema1_payload_refuses_what_is_not_a_signed_schema1() {
        assert!(schema1_payload(br#"{"schemaVersion":2}"#).is_none());
        assert!(schema1_payload(br#"{"schemaVersion":1,"signatures":[{"protected":"eyJmb3JtYXRMZW5ndGgiOjk5OTk5OTksImZvcm1hdFRhaWwiOiIifQ"}]}"#).is_none());
        assert!(schema1_payload(b"not json").is_none());
    }

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn docker_image_by_body_media_type() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","size":7,"digest":"{D1}"}},"layers":[]}}"#,
            media::DOCKER_MANIFEST,
            media::DOCKER_CONFIG
        );
        let m = Manifest::parse(Some("application/json"), body.as_bytes()).unwrap();
        match m {
            Manifest::Image { config, .. } => {
                assert_eq!(config.digest.as_str(), D1);
                assert!(media::is_image_config(&config.media_type));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn oci_index_without_media_type_uses_header_then_shape() {
        let body = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{}","digest":"{D1}","size":1,"platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}},{{"mediaType":"{}","digest":"{D2}","size":1,"platform":{{"os":"unknown","architecture":"unknown"}},"annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}}],"annotations":{{"a":"b"}}}}"#,
            media::OCI_MANIFEST,
            media::OCI_MANIFEST
        );
        for ct in [Some(media::OCI_INDEX), None] {
            match Manifest::parse(ct, body.as_bytes()).unwrap() {
                Manifest::Index {
                    media_type,
                    manifests,
                    annotations,
                    ..
                } => {
                    assert_eq!(media_type, media::OCI_INDEX);
                    assert_eq!(manifests.len(), 2);
                    assert!(!manifests[0].is_attestation());
                    assert!(manifests[1].is_attestation());
                    assert_eq!(
                        manifests[0].platform.as_ref().unwrap().to_string(),
                        "linux/arm64/v8"
                    );
                    assert_eq!(annotations["a"], "b");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn artifact_keeps_artifact_type() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","artifactType":"application/vnd.example.sbom","config":{{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"{D1}"}},"layers":[],"annotations":{{"org.opencontainers.image.revision":"abc"}}}}"#,
            media::OCI_MANIFEST
        );
        match Manifest::parse(None, body.as_bytes()).unwrap() {
            Manifest::Image {
                config,
                artifact_type,
                annotations,
                ..
            } => {
                assert!(!media::is_image_config(&config.media_type));
                assert_eq!(
                    artifact_type.as_deref(),
                    Some("application/vnd.example.sbom")
                );
                assert_eq!(annotations["org.opencontainers.image.revision"], "abc");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn index_artifact_type_descriptor_annotations_and_layers() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","artifactType":"application/vnd.example.bundle","manifests":[{{"mediaType":"{}","digest":"{D1}","size":1,"annotations":{{"org.opencontainers.image.revision":"abc"}}}}]}}"#,
            media::OCI_INDEX,
            media::OCI_MANIFEST
        );
        match Manifest::parse(None, body.as_bytes()).unwrap() {
            Manifest::Index {
                artifact_type,
                manifests,
                ..
            } => {
                assert_eq!(
                    artifact_type.as_deref(),
                    Some("application/vnd.example.bundle")
                );
                assert_eq!(
                    manifests[0].annotations["org.opencontainers.image.revision"],
                    "abc"
                );
            }
            other => panic!("{other:?}"),
        }
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","size":2,"digest":"{D1}"}},"layers":[{{"mediaType":"application/vnd.in-toto+json","size":9,"digest":"{D2}","annotations":{{"in-toto.io/predicate-type":"https://slsa.dev/provenance/v0.2"}}}}]}}"#,
            media::OCI_MANIFEST,
            media::OCI_CONFIG
        );
        match Manifest::parse(None, body.as_bytes()).unwrap() {
            Manifest::Image { layers, .. } => {
                assert_eq!(layers.len(), 1);
                assert_eq!(layers[0].media_type, "application/vnd.in-toto+json");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn schema1_reads_labels_from_v1_compatibility() {
        let compat = r#"{"architecture":"amd64","os":"linux","created":"2020-01-02T03:04:05.5Z","config":{"Labels":{"x":"y"}}}"#;
        let body = serde_json::json!({
            "schemaVersion": 1, "name": "a", "tag": "b",
            "history": [{"v1Compatibility": compat}]
        })
        .to_string();
        match Manifest::parse(Some(media::DOCKER_SCHEMA1_SIGNED), body.as_bytes()).unwrap() {
            Manifest::Schema1 {
                config: Some(c), ..
            } => {
                assert_eq!(c.labels["x"], "y");
                assert_eq!(c.platform.architecture, "amd64");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_types_are_errors_not_guesses() {
        let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.example+json"}"#;
        assert!(matches!(
            Manifest::parse(None, body),
            Err(ManifestError::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            Manifest::parse(None, br#"{"schemaVersion":2}"#),
            Err(ManifestError::UnknownShape)
        ));
        assert!(Manifest::parse(None, b"not json").is_err());
    }
}
