//! The OCI 1.1 referrers API for the fake registry, as the distribution
//! spec describes it ("Listing Referrers"): `GET /v2/<name>/referrers/<digest>`
//! answers an image index of descriptors of the manifests in the repository
//! whose `subject` is that digest (an empty index for an unknown digest,
//! never 404), each with `artifactType` (else the config media type) and
//! the manifest's annotations; large answers are paged with a Link header;
//! `?artifactType=` is honoured only in the `filters` mode, which then
//! says so with `OCI-Filters-Applied: artifactType`. Without the API the
//! fake answers 404, as docker-registry does. Helpers push referrers the
//! way `notation sign`, `oras attach` and cosign do.

use super::fake_registry::FakeRegistry;
use super::fixtures::*;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Clone, Debug)]
pub struct ReferrersApi {
    /// Descriptors per page; more gives a Link to the next.
    pub page_size: usize,
    /// Apply `artifactType` filters (and say so).
    pub filters: bool,
}

impl Default for ReferrersApi {
    fn default() -> Self {
        ReferrersApi {
            page_size: 100,
            filters: true,
        }
    }
}

pub fn answer(
    api: &ReferrersApi,
    manifests: &HashMap<String, (String, Vec<u8>)>,
    pushed: &HashSet<String>,
    path: &str,
    query: &str,
    subject: &str,
) -> Response {
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if !subject.starts_with("sha256:") || subject.len() != 71 {
        return reply(
            StatusCode::BAD_REQUEST,
            &[],
            br#"{"errors":[{"code":"DIGEST_INVALID"}]}"#.to_vec(),
        );
    }
    let mut found: Vec<(String, Value)> = Vec::new();
    for digest in pushed {
        let Some((media_type, body)) = manifests.get(digest) else {
            continue;
        };
        let Ok(m) = serde_json::from_slice::<Value>(body) else {
            continue;
        };
        if m["subject"]["digest"].as_str() != Some(subject) {
            continue;
        }
        let artifact_type = m["artifactType"]
            .as_str()
            .or_else(|| m["config"]["mediaType"].as_str())
            .unwrap_or_default();
        let mut d = json!({
            "mediaType": media_type,
            "digest": digest,
            "size": body.len(),
            "artifactType": artifact_type,
        });
        if let Some(a) = m.get("annotations").filter(|a| a.is_object()) {
            d["annotations"] = a.clone();
        }
        found.push((digest.clone(), d));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let mut headers: Vec<(&str, String)> = vec![("content-type", OCI_INDEX.into())];
    if let (Some(wanted), true) = (params.get("artifactType"), api.filters) {
        found.retain(|(_, d)| d["artifactType"].as_str() == Some(wanted.as_str()));
        headers.push(("oci-filters-applied", "artifactType".into()));
    }
    let start = params
        .get("last")
        .map(|l| found.partition_point(|(d, _)| d <= l))
        .unwrap_or(0);
    let end = (start + api.page_size).min(found.len());
    if end < found.len() {
        let mut q: Vec<(String, String)> =
            params.into_iter().filter(|(k, _)| k != "last").collect();
        q.push(("last".into(), found[end - 1].0.clone()));
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(q)
            .finish();
        headers.push(("link", format!("<{path}?{q}>; rel=\"next\"")));
    }
    let page: Vec<&Value> = found[start..end].iter().map(|(_, d)| d).collect();
    let body = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": page});
    reply(StatusCode::OK, &headers, body.to_string().into_bytes())
}

fn reply(status: StatusCode, headers: &[(&str, String)], body: Vec<u8>) -> Response {
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b.body(Body::from(body)).unwrap()
}

pub const NOTATION: &str = "application/vnd.cncf.notary.signature";
pub const SPDX: &str = "application/spdx+json";
pub const CYCLONEDX: &str = "application/vnd.cyclonedx+json";
pub const DSSE: &str = "application/vnd.dsse.envelope.v1+json";
pub const COSIGN_SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// A referrer as `oras attach` / `notation sign` push it: an OCI manifest
/// with `artifactType`, an empty config, one layer and `subject`; untagged.
pub fn push_referrer(
    reg: &FakeRegistry,
    repo: &str,
    subject: &str,
    artifact_type: &str,
    layer_type: &str,
    layer: &[u8],
    annotations: &[(&str, &str)],
) -> String {
    let (subject_type, subject_size) = reg.manifest_info(subject);
    let m = referrer_manifest(
        artifact_type,
        layer_type,
        layer,
        subject,
        &subject_type,
        subject_size,
        annotations,
    );
    reg.put_blob(b"{}");
    reg.put_blob(layer);
    reg.put_manifest(repo, None, OCI_MANIFEST, &m)
}

pub fn referrer_manifest(
    artifact_type: &str,
    layer_type: &str,
    layer: &[u8],
    subject: &str,
    subject_type: &str,
    subject_size: usize,
    annotations: &[(&str, &str)],
) -> Vec<u8> {
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": Descriptor::of(OCI_EMPTY, b"{}").to_json(),
        "layers": [Descriptor::of(layer_type, layer).to_json()],
        "subject": {"mediaType": subject_type, "digest": subject, "size": subject_size},
    });
    if !annotations.is_empty() {
        let a: BTreeMap<&str, &str> = annotations.iter().copied().collect();
        m["annotations"] = json!(a);
    }
    encode(&m).0
}

/// A DSSE envelope around an in-toto statement (payload base64).
pub fn dsse(statement: &Value) -> Vec<u8> {
    use base64::Engine;
    let payload = base64::engine::general_purpose::STANDARD.encode(statement.to_string());
    encode(&json!({"payloadType": "application/vnd.in-toto+json", "payload": payload, "signatures": [{"sig": "c2ln"}]})).0
}

/// A SLSA v1 provenance statement for `subject`, as BuildKit writes it
/// (`docker buildx build --attest type=provenance` then `oras attach`).
pub fn slsa_statement(subject: &str, repo_url: &str, commit: &str) -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "image", "digest": {"sha256": subject.trim_start_matches("sha256:")}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://mobyproject.org/buildkit@v1",
                "externalParameters": {"configSource": {"uri": format!("{repo_url}.git#refs/heads/main"), "digest": {"sha1": commit}}}
            },
            "runDetails": {
                "builder": {"id": format!("{repo_url}/actions/runs/4242")},
                "metadata": {"buildkit_metadata": {"vcs": {"source": format!("{repo_url}.git"), "revision": commit}}}
            }
        }
    })
}

/// cosign's tag mode: a simple-signing manifest tagged `sha256-<hex>.sig`.
pub fn push_cosign_signature(reg: &FakeRegistry, repo: &str, subject: &str) -> String {
    let payload = encode(&json!({"critical": {"identity": {"docker-reference": repo}, "image": {"docker-manifest-digest": subject}, "type": "cosign container image signature"}, "optional": null})).0;
    let (config, _) = encode(
        &json!({"architecture": "", "os": "", "config": {}, "rootfs": {"type": "layers", "diff_ids": [digest_of(&payload)]}}),
    );
    reg.put_blob(&config);
    reg.put_blob(&payload);
    let mut layer = Descriptor::of(COSIGN_SIMPLESIGNING, &payload);
    layer.annotations.insert(
        "dev.cosignproject.cosign/signature".into(),
        "MEUCIQ-fake".into(),
    );
    let m = encode(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": Descriptor::of(OCI_CONFIG, &config).to_json(),
        "layers": [layer.to_json()],
    }))
    .0;
    let tag = format!("{}.sig", subject.replacen(':', "-", 1));
    reg.put_manifest(repo, Some(&tag), OCI_MANIFEST, &m)
}

/// The referrers tag schema: an index of `referrers` tagged `sha256-<hex>`.
pub fn push_fallback_index(
    reg: &FakeRegistry,
    repo: &str,
    subject: &str,
    referrers: &[Value],
) -> String {
    let m = encode(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": referrers})).0;
    reg.put_manifest(repo, Some(&subject.replacen(':', "-", 1)), OCI_INDEX, &m)
}
