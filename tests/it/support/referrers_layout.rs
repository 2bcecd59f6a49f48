//! Pushing an OCI image layout from the shared real-world corpus into a
//! registry through the distribution API, so digests stay the fixtures'
//! own: blobs first, an index's children before the index, then tags from
//! `org.opencontainers.image.ref.name`.

use super::seed::Seeder;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// A layout of `../shared/realworld-corpus/layouts/` (the checkout's
/// sibling, or its parent's for a worktree under a sub-directory).
pub fn corpus_layout(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for shared in [root.join("../shared"), root.join("../../shared")] {
        let p = shared.join("realworld-corpus/layouts").join(name);
        if p.join("index.json").exists() {
            return p;
        }
    }
    panic!("corpus layout {name} not found beside {}", root.display());
}

fn blob(layout: &Path, digest: &str) -> Option<Vec<u8>> {
    let (alg, hex) = digest.split_once(':')?;
    std::fs::read(layout.join("blobs").join(alg).join(hex)).ok()
}

/// Push every manifest `index.json` names, and tag those it names with
/// `ref.name`; returns tag -> digest.
pub async fn push_layout(seeder: &Seeder, repo: &str, layout: &Path) -> BTreeMap<String, String> {
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let mut pushed = HashSet::new();
    let mut tags = BTreeMap::new();
    for d in index["manifests"].as_array().unwrap() {
        let digest = d["digest"].as_str().unwrap();
        let media_type = d["mediaType"].as_str().unwrap_or_default();
        push_manifest(seeder, repo, layout, digest, media_type, &mut pushed).await;
        if let Some(tag) = d["annotations"]["org.opencontainers.image.ref.name"].as_str() {
            let body = blob(layout, digest).unwrap();
            seeder
                .push_manifest(repo, tag, &media_type_of(&body, media_type), &body)
                .await;
            tags.insert(tag.to_string(), digest.to_string());
        }
    }
    tags
}

fn media_type_of(body: &[u8], fallback: &str) -> String {
    let v: Value = serde_json::from_slice(body).unwrap();
    v["mediaType"].as_str().unwrap_or(fallback).to_string()
}

async fn push_manifest(
    seeder: &Seeder,
    repo: &str,
    layout: &Path,
    digest: &str,
    media_type: &str,
    pushed: &mut HashSet<String>,
) {
    if !pushed.insert(digest.to_string()) {
        return;
    }
    let body = blob(layout, digest)
        .unwrap_or_else(|| panic!("{digest} missing from {}", layout.display()));
    let m: Value = serde_json::from_slice(&body).unwrap();
    if let Some(children) = m["manifests"].as_array() {
        for c in children {
            let cd = c["digest"].as_str().unwrap();
            Box::pin(push_manifest(
                seeder,
                repo,
                layout,
                cd,
                c["mediaType"].as_str().unwrap_or_default(),
                pushed,
            ))
            .await;
        }
    }
    let mut blobs: Vec<&Value> = m["layers"]
        .as_array()
        .map(|l| l.iter().collect())
        .unwrap_or_default();
    blobs.extend(m.get("config"));
    for b in blobs {
        let bd = b["digest"].as_str().unwrap();
        let bytes = blob(layout, bd)
            .unwrap_or_else(|| panic!("blob {bd} missing from {}", layout.display()));
        seeder.push_blob(repo, &bytes).await;
    }
    seeder
        .push_manifest(repo, digest, &media_type_of(&body, media_type), &body)
        .await;
}
