//! What a referrer is, from its artifactType (or config media type) and,
//! for attestations, its in-toto predicate type. Decided once, when it is
//! stored, so `query --signed` is a plain column test.

/// signature | sbom | attestation | other, and the format within the kind.
pub fn classify(
    artifact_type: Option<&str>,
    predicate_type: Option<&str>,
) -> (&'static str, String) {
    let t = artifact_type.unwrap_or("").to_ascii_lowercase();
    let other = || artifact_type.unwrap_or("unknown").to_string();
    if t == "application/vnd.cncf.notary.signature" {
        return ("signature", "notation".into());
    }
    if t == "application/vnd.dev.cosign.artifact.sig.v1+json"
        || t == "application/vnd.dev.cosign.simplesigning.v1+json"
    {
        return ("signature", "cosign".into());
    }
    if let Some(p) = predicate_type {
        return ("attestation", p.to_string());
    }
    // A sigstore bundle without a predicate is a `cosign sign` signature.
    if t.starts_with("application/vnd.dev.sigstore.bundle") {
        return ("signature", "cosign".into());
    }
    if t == "application/vnd.in-toto+json"
        || t == "application/vnd.dsse.envelope.v1+json"
        || t == "application/vnd.dev.cosign.artifact.att.v1+json"
    {
        return ("attestation", "in-toto".into());
    }
    if t.starts_with("application/spdx") || t.starts_with("text/spdx") {
        return ("sbom", "spdx".into());
    }
    if t.contains("cyclonedx") {
        return ("sbom", "cyclonedx".into());
    }
    if t == "application/vnd.dev.cosign.artifact.sbom.v1+json" {
        return ("sbom", "cosign".into());
    }
    if t.contains("sbom") || t.contains("syft") {
        return ("sbom", other());
    }
    if t.contains("signature") {
        return ("signature", other());
    }
    ("other", other())
}

/// Does a referrer of this artifact type carry an in-toto statement worth
/// reading (its predicate type, and SLSA provenance)?
pub fn may_hold_statement(artifact_type: Option<&str>) -> bool {
    let t = artifact_type.unwrap_or("").to_ascii_lowercase();
    t == "application/vnd.in-toto+json"
        || t == "application/vnd.dsse.envelope.v1+json"
        || t == "application/vnd.dev.cosign.artifact.att.v1+json"
        || t.starts_with("application/vnd.dev.sigstore.bundle")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let c = |t: &str| classify(Some(t), None);
        assert_eq!(c("application/vnd.cncf.notary.signature").1, "notation");
        assert_eq!(
            c("application/vnd.dev.cosign.artifact.sig.v1+json"),
            ("signature", "cosign".into())
        );
        assert_eq!(c("application/spdx+json"), ("sbom", "spdx".into()));
        assert_eq!(c("text/spdx"), ("sbom", "spdx".into()));
        assert_eq!(
            c("application/vnd.cyclonedx+json"),
            ("sbom", "cyclonedx".into())
        );
        assert_eq!(c("application/example.sbom").0, "sbom");
        assert_eq!(c("application/example.signature").0, "signature");
        assert_eq!(c("application/vnd.in-toto+json").0, "attestation");
        assert_eq!(
            classify(
                Some("application/vnd.in-toto+json"),
                Some("https://slsa.dev/provenance/v1")
            ),
            ("attestation", "https://slsa.dev/provenance/v1".into())
        );
        assert_eq!(
            c("application/example.arms"),
            ("other", "application/example.arms".into())
        );
        assert_eq!(classify(None, None), ("other", "unknown".into()));
    }
}
