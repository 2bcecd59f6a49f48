//! Turning digests into verified manifest records, each digest fetched at
//! most once per run however many tags and repositories share it.

use super::error::{ItemError, Shared, MAX_INDEX_CHILDREN, MAX_INDEX_DEPTH};
use super::progress::Counts;
use crate::oci::{media, Digest, ImageConfig, Manifest};
use crate::registry::{Client, FetchedManifest};
use crate::store::{ChildRecord, ManifestRecord, Record};
use futures::future::{BoxFuture, FutureExt};
use futures::stream::{self, StreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, OnceCell};

/// Configs kept for re-use by other manifests in the same run.
const MAX_CACHED_CONFIGS: usize = 4096;
/// Children of one index fetched at once: with the repository and tag
/// fan-out above, a wide index must not multiply what is held in memory.
const CHILD_CONCURRENCY: usize = 4;

type Cell<T> = Arc<OnceCell<Shared<T>>>;

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
    /// Read BuildKit attestation layers (`--no-attestations` clears it).
    pub attestations: bool,
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
            attestations: true,
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
    ) -> BoxFuture<'a, Shared<()>> {
        self.ensure_at(repo, digest, prefetched, 0)
    }

    /// `depth`: how many indexes lead to this digest.
    fn ensure_at<'a>(
        &'a self,
        repo: &'a str,
        digest: &'a Digest,
        prefetched: Option<FetchedManifest>,
        depth: usize,
    ) -> BoxFuture<'a, Shared<()>> {
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
            cell.get_or_init(|| self.index_manifest(repo, digest, prefetched, depth))
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
        depth: usize,
    ) -> Shared<()> {
        let fetched = match prefetched {
            Some(f) => f,
            None => self
                .client
                .get_manifest(repo, digest.as_str())
                .await
                .map_err(ItemError::from)?,
        };
        let manifest =
            Manifest::parse(fetched.content_type.as_deref(), &fetched.body).map_err(|e| {
                ItemError::Manifest {
                    digest: digest.clone(),
                    detail: e.to_string(),
                }
            })?;
        let size = fetched.body.len() as i64;
        // The body is parsed: do not hold it while children are fetched.
        drop(fetched);
        let mut record = ManifestRecord::new(
            digest.clone(),
            manifest.media_type().to_string(),
            "image",
            size,
        );
        match manifest {
            Manifest::Image {
                config,
                artifact_type,
                annotations,
                layers,
                ..
            } => {
                record.annotations = annotations;
                record.config_digest = Some(config.digest.clone());
                record.config_media_type = Some(config.media_type.clone());
                record.artifact_type = artifact_type.clone();
                let placeholder = super::attest::read(self, repo, &layers, &mut record).await?;
                let image = match placeholder {
                    Some(c) => Some(c),
                    None => self.image_config(repo, &config).await?,
                };
                if let Some(c) = image {
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
                artifact_type,
                ..
            } => {
                record.kind = "index";
                record.annotations = annotations;
                record.artifact_type = artifact_type;
                if depth >= MAX_INDEX_DEPTH {
                    return Err(ItemError::TooDeep {
                        digest: digest.clone(),
                    }
                    .into());
                }
                if manifests.len() > MAX_INDEX_CHILDREN {
                    return Err(ItemError::TooWide {
                        digest: digest.clone(),
                        count: manifests.len(),
                    }
                    .into());
                }
                // Futures do nothing until polled: at most CHILD_CONCURRENCY run.
                let children: Vec<_> = manifests
                    .iter()
                    .map(|child| self.ensure_at(repo, &child.digest, None, depth + 1))
                    .collect();
                let results: Vec<Shared<()>> = stream::iter(children)
                    .buffer_unordered(CHILD_CONCURRENCY)
                    .collect()
                    .await;
                let failed: Vec<Arc<ItemError>> =
                    results.into_iter().filter_map(Result::err).collect();
                if !failed.is_empty() {
                    // Not stored, so the next run tries the index again.
                    return Err(ItemError::Children {
                        digest: digest.clone(),
                        failed,
                    }
                    .into());
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
                        annotations: c.annotations,
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
            .map_err(|_| Arc::new(ItemError::WriterStopped))
    }

    /// The platform children of an index fetched this run.
    pub fn children_of(&self, index: &Digest) -> Option<Vec<Digest>> {
        self.children.lock().unwrap().get(index).cloned()
    }

    /// The image config a manifest names: by its media type, or, under
    /// `application/octet-stream` (older builders), when the blob reads as
    /// one (os and architecture set). None: an artifact.
    async fn image_config(
        &self,
        repo: &str,
        config: &crate::oci::Descriptor,
    ) -> Shared<Option<ImageConfig>> {
        if media::is_image_config(&config.media_type) {
            return self.config(repo, &config.digest).await.map(Some);
        }
        let small = (0..=crate::registry::MAX_CONFIG_BYTES as i64).contains(&config.size);
        if media::essence(&config.media_type) != media::OCTET_STREAM || !small {
            return Ok(None);
        }
        match self.config(repo, &config.digest).await {
            Ok(c) => Ok(Some(c)
                .filter(|c| !c.platform.os.is_empty() && !c.platform.architecture.is_empty())),
            // Not JSON of that shape: an artifact. A failed request fails.
            Err(e) if matches!(*e, ItemError::Config { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn config(&self, repo: &str, digest: &Digest) -> Shared<ImageConfig> {
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
                .map_err(|e| Arc::new(ItemError::from(e)))?;
            bump(&self.counts.configs);
            ImageConfig::parse(&body).map_err(|e| {
                Arc::new(ItemError::Config {
                    digest: digest.clone(),
                    detail: e.to_string(),
                })
            })
        })
        .await
        .clone()
    }
}
