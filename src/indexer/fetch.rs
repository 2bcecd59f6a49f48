//! Turning digests into verified manifest records, each digest fetched at
//! most once per run however many tags and repositories share it.

use super::progress::Counts;
use crate::oci::{media, Digest, ImageConfig, Manifest};
use crate::registry::{Client, FetchedManifest, RegistryError};
use crate::store::{ChildRecord, ManifestRecord, Record};
use futures::future::{BoxFuture, FutureExt};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, OnceCell};

/// Configs kept for re-use by other manifests in the same run.
const MAX_CACHED_CONFIGS: usize = 4096;

type Cell<T> = Arc<OnceCell<Result<T, String>>>;

/// Per-run de-duplication and the path from digest to record.
pub struct Fetcher {
    pub client: Client,
    known: HashSet<Digest>,
    full: bool,
    manifests: Mutex<HashMap<Digest, Cell<()>>>,
    configs: Mutex<HashMap<Digest, Cell<ImageConfig>>>,
    /// Platform children of the indexes fetched this run (for the referrers stage).
    children: Mutex<HashMap<Digest, Vec<Digest>>>,
    sink: mpsc::Sender<Record>,
    counts: Arc<Counts>,
}

fn bump(c: &std::sync::atomic::AtomicI64) {
    Counts::add(c, 1);
}

impl Fetcher {
    pub fn new(
        client: Client,
        known: HashSet<Digest>,
        full: bool,
        sink: mpsc::Sender<Record>,
        counts: Arc<Counts>,
    ) -> Fetcher {
        Fetcher {
            client,
            known,
            full,
            manifests: Mutex::new(HashMap::new()),
            configs: Mutex::new(HashMap::new()),
            children: Mutex::new(HashMap::new()),
            sink,
            counts,
        }
    }

    /// True when the digest needs no fetch: indexed before (and not --full).
    pub fn is_known(&self, digest: &Digest) -> bool {
        !self.full && self.known.contains(digest)
    }

    /// Make sure `digest` (and, for an index, its children) is stored.
    /// `prefetched` is the body when a GET by tag already brought it.
    pub fn ensure<'a>(
        &'a self,
        repo: &'a str,
        digest: &'a Digest,
        prefetched: Option<FetchedManifest>,
    ) -> BoxFuture<'a, Result<(), String>> {
        async move {
            if self.is_known(digest) {
                bump(&self.counts.manifests_known);
                return Ok(());
            }
            let cell = self
                .manifests
                .lock()
                .unwrap()
                .entry(digest.clone())
                .or_default()
                .clone();
            cell.get_or_init(|| self.index_manifest(repo, digest, prefetched))
                .await
                .clone()
        }
        .boxed()
    }

    async fn index_manifest(
        &self,
        repo: &str,
        digest: &Digest,
        prefetched: Option<FetchedManifest>,
    ) -> Result<(), String> {
        let fetched = match prefetched {
            Some(f) => f,
            None => self
                .client
                .get_manifest(repo, digest.as_str())
                .await
                .map_err(|e| describe(&e))?,
        };
        let manifest = Manifest::parse(fetched.content_type.as_deref(), &fetched.body)
            .map_err(|e| format!("manifest {digest}: {e}"))?;
        let mut record = ManifestRecord::new(
            digest.clone(),
            manifest.media_type().to_string(),
            "image",
            fetched.body.len() as i64,
        );
        match manifest {
            Manifest::Image {
                config,
                artifact_type,
                annotations,
                ..
            } => {
                record.annotations = annotations;
                record.config_digest = Some(config.digest.clone());
                record.config_media_type = Some(config.media_type.clone());
                if media::is_image_config(&config.media_type) {
                    let c = self.config(repo, &config.digest).await?;
                    record.labels = c.labels;
                    record.created = c.created;
                    record.platform = Some(c.platform);
                } else {
                    // An OCI artifact: its config is not an image config.
                    record.kind = "artifact";
                    record.artifact_type = artifact_type.or(Some(config.media_type));
                }
            }
            Manifest::Index {
                manifests,
                annotations,
                ..
            } => {
                record.kind = "index";
                record.annotations = annotations;
                let children = futures::future::join_all(
                    manifests
                        .iter()
                        .map(|child| self.ensure(repo, &child.digest, None)),
                )
                .await;
                let failed: Vec<String> = children.into_iter().filter_map(Result::err).collect();
                if !failed.is_empty() {
                    // Not stored, so the next run tries the index again.
                    return Err(format!("index {digest}: {}", failed.join("; ")));
                }
                let platforms = manifests.iter().filter(|c| !c.is_attestation());
                let platforms = platforms.map(|c| c.digest.clone()).collect();
                self.children
                    .lock()
                    .unwrap()
                    .insert(digest.clone(), platforms);
                record.children = manifests
                    .into_iter()
                    .map(|c| ChildRecord {
                        is_attestation: c.is_attestation(),
                        digest: c.digest,
                        media_type: c.media_type,
                        platform: c.platform,
                    })
                    .collect();
            }
            Manifest::Schema1 { config, .. } => {
                record.kind = "schema1";
                match config {
                    Some(c) => {
                        record.labels = c.labels;
                        record.created = c.created;
                        record.platform = Some(c.platform);
                    }
                    None => record.status = "unsupported",
                }
            }
        }
        bump(&self.counts.manifests);
        self.sink
            .send(Record::Manifest(Box::new(record)))
            .await
            .map_err(|_| "the database writer stopped".to_string())
    }

    /// The platform children of an index fetched this run.
    pub fn children_of(&self, index: &Digest) -> Option<Vec<Digest>> {
        self.children.lock().unwrap().get(index).cloned()
    }

    async fn config(&self, repo: &str, digest: &Digest) -> Result<ImageConfig, String> {
        let cell = {
            let mut configs = self.configs.lock().unwrap();
            // Labels are kept only while sharing is likely; memory stays flat.
            if configs.len() >= MAX_CACHED_CONFIGS {
                configs.clear();
            }
            configs.entry(digest.clone()).or_default().clone()
        };
        cell.get_or_init(|| async {
            let body = self
                .client
                .get_blob(repo, digest, crate::registry::MAX_CONFIG_BYTES)
                .await
                .map_err(|e| describe(&e))?;
            bump(&self.counts.configs);
            ImageConfig::parse(&body)
                .map_err(|e| format!("config {digest}: not a valid image config: {e}"))
        })
        .await
        .clone()
    }
}

pub fn describe(e: &RegistryError) -> String {
    e.to_string()
}
