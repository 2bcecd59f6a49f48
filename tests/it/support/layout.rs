//! Pushes an OCI image layout (index.json + blobs/sha256/...) from the
//! shared real-world corpus into a registry through the distribution API,
//! so digests stay the fixtures' own. Manifests are pushed children first
//! and tagged by their `org.opencontainers.image.ref.name`; what the
//! registry refuses (a blob the layout leaves out) is returned, not hidden.

use super::seed::Seeder;
use reqwest::Method;
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The shared corpus, `../shared/realworld-corpus` next to the checkout
/// (or next to an ancestor, for a git worktree); never copied into it.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(1)
        .map(|a| a.join("shared/realworld-corpus"))
        .find(|p| p.is_dir())
        .expect("../shared/realworld-corpus next to the checkout")
}

/// One layout of the corpus, `layouts/<name>`.
pub fn corpus_layout(name: &str) -> PathBuf {
    let dir = corpus().join("layouts").join(name);
    assert!(
        dir.join("index.json").exists(),
        "corpus layout {name} not found"
    );
    dir
}

fn blob(dir: &Path, digest: &str) -> Option<Vec<u8>> {
    let hex = digest.strip_prefix("sha256:")?;
    std::fs::read(dir.join("blobs/sha256").join(hex)).ok()
}

/// What a push did: tags pushed, and what the registry refused.
#[derive(Debug, Default)]
pub struct Pushed {
    pub tags: Vec<(String, String)>,
    pub refused: Vec<String>,
}

impl Pushed {
    /// The digest a tag was pushed as.
    pub fn digest_of(&self, tag: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(t, _)| t == tag)
            .map(|(_, d)| d.as_str())
    }
}

/// Push every tagged manifest of the layout at `dir` into `repo`.
pub async fn push_layout(seeder: &Seeder, dir: &Path, repo: &str) -> Pushed {
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("index.json"))
            .expect("index.json is JSON");
    let mut done = HashSet::new();
    let mut out = Pushed::default();
    for d in index["manifests"].as_array().cloned().unwrap_or_default() {
        let digest = d["digest"].as_str().unwrap_or_default().to_string();
        let media_type = d["mediaType"].as_str().unwrap_or_default().to_string();
        if !push_manifest(seeder, dir, repo, &digest, &media_type, &mut done, &mut out).await {
            continue;
        }
        if let Some(tag) = d["annotations"]["org.opencontainers.image.ref.name"].as_str() {
            let body = blob(dir, &digest).expect("tagged manifest blob");
            let ok = put(seeder, repo, tag, &media_type, &body).await;
            if ok {
                out.tags.push((tag.to_string(), digest.clone()));
            } else {
                out.refused.push(format!("{repo}:{tag}"));
            }
        }
    }
    out
}

async fn put(seeder: &Seeder, repo: &str, reference: &str, media_type: &str, body: &[u8]) -> bool {
    let resp = seeder
        .request(Method::PUT, &format!("/v2/{repo}/manifests/{reference}"))
        .header("content-type", media_type)
        .body(body.to_vec())
        .send()
        .await
        .expect("registry answers");
    resp.status().is_success()
}

/// Push one manifest by digest, its blobs and children first.
fn push_manifest<'a>(
    seeder: &'a Seeder,
    dir: &'a Path,
    repo: &'a str,
    digest: &'a str,
    media_type: &'a str,
    done: &'a mut HashSet<String>,
    out: &'a mut Pushed,
) -> futures::future::BoxFuture<'a, bool> {
    Box::pin(async move {
        if done.contains(digest) {
            return true;
        }
        let Some(body) = blob(dir, digest) else {
            out.refused.push(format!("{digest} (not in the layout)"));
            return false;
        };
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let media_type = v["mediaType"].as_str().unwrap_or(media_type).to_string();
        for child in v["manifests"].as_array().cloned().unwrap_or_default() {
            let cd = child["digest"].as_str().unwrap_or_default();
            let ct = child["mediaType"].as_str().unwrap_or_default();
            push_manifest(seeder, dir, repo, cd, ct, done, out).await;
        }
        let blobs = v["config"].as_object().into_iter().chain(
            v["layers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_object),
        );
        for b in blobs {
            if let Some(bytes) = b
                .get("digest")
                .and_then(Value::as_str)
                .and_then(|d| blob(dir, d))
            {
                seeder.push_blob(repo, &bytes).await;
            }
        }
        let ok = put(seeder, repo, digest, &media_type, &body).await;
        if ok {
            done.insert(digest.to_string());
        } else {
            out.refused.push(format!("{repo}@{digest}"));
        }
        ok
    })
}
