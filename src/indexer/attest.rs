//! BuildKit provenance attestations: the `application/vnd.in-toto+json`
//! layers of an attestation manifest whose predicate is SLSA provenance
//! (v0.2 or v1). Each is fetched once, with the manifest that names it
//! (a digest indexed before is never fetched again), verified against its
//! digest by the client, size-capped, and kept as the store's source for
//! `crate::provenance`. SBOM and other predicates are not fetched.

use super::error::{ItemError, Shared};
use crate::oci::{media, Descriptor, ImageConfig, Platform};
use crate::provenance::{slsa, Origin, Statement};
use crate::registry::Client;
use crate::store::AttestationRecord;
use std::sync::Arc;

/// BuildKit's provenance is a few KiB (`mode=max` with materials, tens);
/// anything past this is not a statement worth keeping.
pub const MAX_STATEMENT_BYTES: usize = 1024 * 1024;
/// An attestation manifest holds one statement per predicate; a handful.
pub const MAX_LAYERS: usize = 8;

/// The annotation BuildKit puts on each attestation layer.
const PREDICATE_TYPE: &str = "in-toto.io/predicate-type";

/// The layers of a manifest that hold SLSA provenance statements.
pub fn provenance_layers(layers: &[Descriptor]) -> Vec<&Descriptor> {
    layers
        .iter()
        .filter(|l| media::essence(&l.media_type) == media::IN_TOTO)
        .filter(|l| {
            l.annotations
                .get(PREDICATE_TYPE)
                .is_some_and(|t| slsa::is_provenance(t))
        })
        .take(MAX_LAYERS)
        .collect()
}

/// Fill `record.attestations` from a manifest's provenance layers, or,
/// under `--no-attestations`, mark the manifest to be fetched again by a
/// run that reads them. For a BuildKit attestation manifest (every layer
/// an in-toto statement) returns the config BuildKit writes for it, which
/// its docs say to ignore: the config GET is saved.
pub async fn read(
    fetcher: &super::fetch::Fetcher,
    repo: &str,
    layers: &[Descriptor],
    record: &mut AttestationTarget,
) -> Shared<Option<ImageConfig>> {
    let only_statements = !layers.is_empty()
        && layers
            .iter()
            .all(|l| media::essence(&l.media_type) == media::IN_TOTO);
    let placeholder = only_statements.then(|| ImageConfig {
        platform: Platform {
            os: "unknown".into(),
            architecture: "unknown".into(),
            ..Platform::default()
        },
        ..ImageConfig::default()
    });
    let wanted = provenance_layers(layers);
    if wanted.is_empty() {
        return Ok(placeholder);
    }
    if !fetcher.attestations {
        record.refetch = true;
        return Ok(placeholder);
    }
    record.attestations = fetch(&fetcher.client, repo, &wanted).await?;
    Ok(placeholder)
}

type AttestationTarget = crate::store::ManifestRecord;

/// Fetch and check the provenance statements among `layers`. A layer that
/// is too large or is not a SLSA statement is skipped with a warning (the
/// image is still indexed); a request that fails fails the manifest, so
/// the next run tries again.
pub async fn fetch(
    client: &Client,
    repo: &str,
    layers: &[&Descriptor],
) -> Shared<Vec<AttestationRecord>> {
    let mut out = Vec::new();
    for layer in layers {
        if layer.size < 0 || layer.size as usize > MAX_STATEMENT_BYTES {
            tracing::warn!(repo, layer = %layer.digest, size = layer.size, "attestation layer larger than the limit; skipped");
            continue;
        }
        let body = match client
            .get_blob(repo, &layer.digest, MAX_STATEMENT_BYTES)
            .await
        {
            Ok(b) => b,
            Err(crate::registry::RegistryError::TooLarge { .. }) => {
                tracing::warn!(repo, layer = %layer.digest, "attestation layer larger than the limit; skipped");
                continue;
            }
            Err(e) => return Err(Arc::new(ItemError::from(e))),
        };
        let Some(st) = Statement::parse(&body, Origin::Attestation) else {
            tracing::warn!(repo, layer = %layer.digest, "attestation layer is not a SLSA provenance statement; skipped");
            continue;
        };
        let Ok(text) = String::from_utf8(body.to_vec()) else {
            continue;
        };
        out.push(AttestationRecord {
            layer_digest: layer.digest.clone(),
            predicate_type: st.predicate_type,
            statement: text,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(media_type: &str, predicate: Option<&str>) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest: crate::oci::Digest::sha256_of(media_type.as_bytes()),
            size: 10,
            platform: None,
            annotations: predicate
                .map(|p| [(PREDICATE_TYPE.to_string(), p.to_string())].into())
                .unwrap_or_default(),
            artifact_type: None,
        }
    }

    #[test]
    fn only_slsa_in_toto_layers() {
        let layers = [
            layer(media::IN_TOTO, Some(slsa::SLSA_V02)),
            layer(media::IN_TOTO, Some("https://spdx.dev/Document")),
            layer("application/vnd.oci.image.layer.v1.tar+gzip", None),
            layer(media::IN_TOTO, Some(slsa::SLSA_V1)),
            layer(media::IN_TOTO, None),
        ];
        let got = provenance_layers(&layers);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].annotations[PREDICATE_TYPE], slsa::SLSA_V02);
        assert_eq!(got[1].annotations[PREDICATE_TYPE], slsa::SLSA_V1);
    }
}
