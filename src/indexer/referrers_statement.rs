//! Reading an attestation referrer's in-toto statement: its predicate type
//! (how `show` groups attestations) and, for SLSA provenance, the statement
//! itself (a provenance source with origin `referrer`). The statement is a
//! layer: plain in-toto JSON, a DSSE envelope (payload base64), or a
//! sigstore bundle holding a DSSE envelope.

use crate::oci::{Descriptor, Digest};
use crate::registry::Client;
use base64::Engine;
use serde_json::Value;

/// A statement layer larger than this is not read.
pub const MAX_STATEMENT_BYTES: usize = 4 * 1024 * 1024;
/// Layers looked at per attestation manifest.
const MAX_LAYERS: usize = 8;

#[derive(Debug, Default, PartialEq)]
pub struct Statement {
    pub predicate_type: Option<String>,
    /// The statement JSON, kept for SLSA provenance predicates only.
    pub slsa: Option<String>,
}

#[derive(serde::Deserialize)]
struct Layers {
    #[serde(default)]
    layers: Vec<Descriptor>,
}

fn is_statement_layer(media_type: &str) -> bool {
    let t = media_type.to_ascii_lowercase();
    t.contains("in-toto")
        || t.contains("dsse")
        || t.contains("sigstore.bundle")
        || t.ends_with("json")
}

/// Fetch the attestation manifest and its statement layer.
pub async fn read(client: &Client, repo: &str, digest: &Digest) -> Result<Statement, String> {
    let m = client
        .get_manifest(repo, digest.as_str())
        .await
        .map_err(|e| e.to_string())?;
    let Ok(layers) = serde_json::from_slice::<Layers>(&m.body) else {
        return Ok(Statement::default());
    };
    for layer in layers.layers.iter().take(MAX_LAYERS) {
        if !is_statement_layer(&layer.media_type) {
            continue;
        }
        if layer.size > MAX_STATEMENT_BYTES as i64 {
            return Err(format!(
                "attestation {digest}: statement layer of {} bytes is over the {MAX_STATEMENT_BYTES}-byte limit",
                layer.size
            ));
        }
        let body = client
            .get_blob(repo, &layer.digest, MAX_STATEMENT_BYTES)
            .await
            .map_err(|e| e.to_string())?;
        let s = parse(&body);
        if s.predicate_type.is_some() {
            return Ok(s);
        }
        // cosign names the predicate on the layer even when the body says nothing useful.
        if let Some(p) = layer.annotations.get("predicateType") {
            return Ok(Statement {
                predicate_type: Some(p.clone()),
                slsa: None,
            });
        }
    }
    Ok(Statement::default())
}

/// The statement in a layer body, unwrapping DSSE and sigstore bundles.
pub fn parse(body: &[u8]) -> Statement {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Statement::default();
    };
    let envelope = v.get("dsseEnvelope").unwrap_or(&v);
    let statement = match envelope.get("payload").and_then(Value::as_str) {
        Some(p) => match base64::engine::general_purpose::STANDARD
            .decode(p.trim())
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        {
            Some(s) => s,
            None => return Statement::default(),
        },
        None => v,
    };
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty() && p.len() <= 512)
        .map(str::to_string);
    let slsa = predicate_type
        .as_deref()
        .filter(|p| p.starts_with("https://slsa.dev/provenance/"))
        .map(|_| statement.to_string());
    Statement {
        predicate_type,
        slsa,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_dsse_and_bundle() {
        let st = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "predicateType": "https://slsa.dev/provenance/v1",
            "subject": [{"name": "x", "digest": {"sha256": "ab"}}],
            "predicate": {"buildDefinition": {}}
        });
        let plain = parse(st.to_string().as_bytes());
        assert_eq!(
            plain.predicate_type.as_deref(),
            Some("https://slsa.dev/provenance/v1")
        );
        assert!(plain.slsa.is_some());
        let payload = base64::engine::general_purpose::STANDARD.encode(st.to_string());
        let dsse = serde_json::json!({"payloadType": "application/vnd.in-toto+json", "payload": payload, "signatures": []});
        assert_eq!(parse(dsse.to_string().as_bytes()), plain);
        let bundle = serde_json::json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "dsseEnvelope": dsse});
        assert_eq!(parse(bundle.to_string().as_bytes()), plain);
        let spdx =
            serde_json::json!({"predicateType": "https://spdx.dev/Document", "predicate": {}});
        let s = parse(spdx.to_string().as_bytes());
        assert_eq!(
            s.predicate_type.as_deref(),
            Some("https://spdx.dev/Document")
        );
        assert_eq!(s.slsa, None, "only SLSA provenance is kept");
        assert_eq!(parse(b"not json"), Statement::default());
        assert_eq!(parse(br#"{"payload":"!!!"}"#), Statement::default());
    }
}
