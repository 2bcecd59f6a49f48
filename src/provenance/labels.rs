//! What one key/value map (config labels, or one set of annotations) says:
//! Azure DevOps, OCI, label-schema and OpenShift key families.

use super::links::{azure_build_link, branch_name, build_id};
use super::Partial;
use std::collections::BTreeMap;

fn nonempty(map: &BTreeMap<String, String>, key: &str) -> Option<String> {
    map.get(key)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The Azure DevOps prefixes present (`com.visualstudio.<org>.image.` and
/// `com.azure.dev.image.`), in key order.
fn azure_prefixes(map: &BTreeMap<String, String>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for k in map.keys() {
        let Some(prefix) = ["build.sourceversion", "build.builduri", "build.buildnumber"]
            .iter()
            .find_map(|s| k.strip_suffix(s))
        else {
            continue;
        };
        let azure = prefix == "com.azure.dev.image."
            || (prefix.starts_with("com.visualstudio.") && prefix.ends_with(".image."));
        if azure && !out.contains(&prefix) {
            out.push(prefix);
        }
    }
    out
}

fn azure(map: &BTreeMap<String, String>, prefix: &str) -> Partial {
    let get = |suffix: &str| nonempty(map, &format!("{prefix}{suffix}"));
    let build_uri = get("build.builduri");
    let build_id = build_uri.as_deref().and_then(build_id);
    let build_url = match (
        get("system.teamfoundationcollectionuri"),
        get("system.teamproject"),
        &build_id,
    ) {
        (Some(c), Some(p), Some(id)) => azure_build_link(&c, &p, id),
        _ => None,
    };
    Partial {
        family: Some("azure-devops"),
        commit: get("build.sourceversion"),
        source: get("build.repository.uri"),
        branch: get("build.sourcebranchname")
            .or_else(|| get("build.sourcebranch").map(|b| branch_name(&b))),
        build_number: get("build.buildnumber"),
        build_id,
        build_uri,
        build_url,
        ..Partial::default()
    }
}

/// One partial per key family present, in the order a commit is taken from
/// them: Azure DevOps, OCI, label-schema, OpenShift.
pub fn families(map: &BTreeMap<String, String>) -> Vec<Partial> {
    let mut out: Vec<Partial> = azure_prefixes(map)
        .into_iter()
        .map(|p| azure(map, p))
        .collect();
    let oci = Partial {
        family: Some("oci"),
        commit: nonempty(map, "org.opencontainers.image.revision"),
        source: nonempty(map, "org.opencontainers.image.source"),
        ..Partial::default()
    };
    let label_schema = Partial {
        family: Some("label-schema"),
        commit: nonempty(map, "org.label-schema.vcs-ref"),
        source: nonempty(map, "org.label-schema.vcs-url"),
        ..Partial::default()
    };
    let openshift = Partial {
        family: Some("openshift"),
        commit: nonempty(map, "io.openshift.build.commit.id"),
        source: nonempty(map, "io.openshift.build.source-location"),
        branch: nonempty(map, "io.openshift.build.commit.ref").map(|b| branch_name(&b)),
        ..Partial::default()
    };
    let base = Partial {
        base_name: nonempty(map, "image.base.ref.name")
            .or_else(|| nonempty(map, "org.opencontainers.image.base.name")),
        base_digest: nonempty(map, "image.base.digest")
            .or_else(|| nonempty(map, "org.opencontainers.image.base.digest")),
        ..Partial::default()
    };
    out.extend([oci, label_schema, openshift, base]);
    out.retain(|p| !p.is_empty());
    out
}
