//! SLSA provenance predicates as BuildKit writes them (v0.2 and v1), read
//! from in-toto statements: commit, source, branch and the build URL.

use super::links::{fragment_branch, http_link};
use super::{Origin, Partial};
use serde_json::Value;

pub const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// Whether a predicate type is a SLSA provenance this module reads.
pub fn is_provenance(predicate_type: &str) -> bool {
    predicate_type == SLSA_V02 || predicate_type == SLSA_V1
}

/// One in-toto statement with a SLSA provenance predicate, and where it
/// was found (a BuildKit attestation manifest, or a referrer).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub origin: Origin,
    pub predicate_type: String,
    pub predicate: Value,
}

impl Statement {
    /// Parse a statement; None unless it is an in-toto statement with a
    /// SLSA provenance predicate.
    pub fn parse(body: &[u8], origin: Origin) -> Option<Statement> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let ty = v.get("_type").and_then(Value::as_str)?;
        if !ty.starts_with("https://in-toto.io/Statement/") {
            return None;
        }
        let predicate_type = v.get("predicateType").and_then(Value::as_str)?;
        if !is_provenance(predicate_type) {
            return None;
        }
        Some(Statement {
            origin,
            predicate_type: predicate_type.to_string(),
            predicate: v.get("predicate").cloned().unwrap_or(Value::Null),
        })
    }
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    let s = cur.as_str()?.trim();
    // Bounded: a statement is hostile input; a commit or URL is short.
    (!s.is_empty() && s.len() <= 2048).then(|| s.to_string())
}

/// What one statement says.
pub fn partial(st: &Statement) -> Partial {
    let p = &st.predicate;
    let (config, vcs, builder) = if st.predicate_type == SLSA_V1 {
        (
            p.pointer("/buildDefinition/externalParameters/configSource"),
            p.pointer("/runDetails/metadata/buildkit_metadata/vcs"),
            text(p, &["runDetails", "builder", "id"]),
        )
    } else {
        (
            p.pointer("/invocation/configSource"),
            p.get("metadata")
                .and_then(|m| m.get("https://mobyproject.org/buildkit@v1#metadata"))
                .and_then(|m| m.get("vcs")),
            text(p, &["builder", "id"]),
        )
    };
    let null = Value::Null;
    let config = config.unwrap_or(&null);
    let vcs = vcs.unwrap_or(&null);
    let config_uri = text(config, &["uri"]);
    let commit = text(vcs, &["revision"]).or_else(|| text(config, &["digest", "sha1"]));
    let build_url = builder.as_deref().and_then(http_link);
    // GitHub Actions: .../actions/runs/<id>[/attempts/<n>]
    let build_id = build_url.as_deref().and_then(|u| {
        let rest = u.split("/actions/runs/").nth(1)?;
        let id = rest.split('/').next()?;
        id.chars()
            .all(|c| c.is_ascii_digit())
            .then(|| id.to_string())
    });
    Partial {
        family: Some("buildkit"),
        commit,
        source: text(vcs, &["source"]).or_else(|| config_uri.clone()),
        branch: config_uri.as_deref().and_then(fragment_branch),
        build_id,
        build_url,
        ..Partial::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SHA: &str = "4b220de5058abfd01ff619c9d2ff6b09a049bea0";

    #[test]
    fn v02_vcs_metadata_and_builder() {
        let body = json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": SLSA_V02,
            "subject": [],
            "predicate": {
                "builder": {"id": "https://github.com/acme/app/actions/runs/3709599520"},
                "buildType": "https://mobyproject.org/buildkit@v1",
                "invocation": {"configSource": {"uri": "https://github.com/acme/app.git#refs/heads/main", "digest": {"sha1": SHA}, "entryPoint": "Dockerfile"}},
                "metadata": {"https://mobyproject.org/buildkit@v1#metadata": {"vcs": {"source": "https://github.com/acme/app.git", "revision": SHA}}}
            }
        });
        let st = Statement::parse(body.to_string().as_bytes(), Origin::Attestation).unwrap();
        let p = partial(&st);
        assert_eq!(p.commit.as_deref(), Some(SHA));
        assert_eq!(p.source.as_deref(), Some("https://github.com/acme/app.git"));
        assert_eq!(p.branch.as_deref(), Some("main"));
        assert_eq!(p.build_id.as_deref(), Some("3709599520"));
        assert_eq!(
            p.build_url.as_deref(),
            Some("https://github.com/acme/app/actions/runs/3709599520")
        );
    }

    #[test]
    fn v1_config_source_without_vcs() {
        let body = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "predicateType": SLSA_V1,
            "predicate": {
                "buildDefinition": {"externalParameters": {"configSource": {"uri": "https://github.com/moby/buildkit.git#refs/tags/v0.11.0", "digest": {"sha1": SHA}, "path": "Dockerfile"}}},
                "runDetails": {"builder": {"id": "javascript:alert(1)"}, "metadata": {}}
            }
        });
        let st = Statement::parse(body.to_string().as_bytes(), Origin::Attestation).unwrap();
        let p = partial(&st);
        assert_eq!(p.commit.as_deref(), Some(SHA));
        assert_eq!(p.branch, None, "a tag is not a branch");
        assert_eq!(p.build_url, None, "only http(s) builder ids are links");
    }

    #[test]
    fn other_statements_are_not_provenance() {
        let sbom = json!({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://spdx.dev/Document", "predicate": {}});
        assert!(Statement::parse(sbom.to_string().as_bytes(), Origin::Attestation).is_none());
        assert!(Statement::parse(b"[1,2]", Origin::Attestation).is_none());
        assert!(Statement::parse(b"not json", Origin::Attestation).is_none());
    }
}
