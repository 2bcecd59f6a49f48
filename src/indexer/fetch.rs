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

const NOT_A_CONFIG: &str = "not a valid image config";

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
            .map_err(|_| "the database writer stopped".to_string())
    }

    /// The image config a manifest names: by its media type, or, under
    /// `application/octet-stream` (older builders), when the blob reads as
    /// one (os and architecture set). None: an artifact.
    async fn image_config(
        &self,
        repo: &str,
        config: &crate::oci::Descriptor,
    ) -> Result<Option<ImageConfig>, String> {
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
            Err(e) if e.contains(NOT_A_CONFIG) => Ok(None),
            Err(e) => Err(e),
        }
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
            ImageConfig::parse(&body).map_err(|e| format!("config {digest}: {NOT_A_CONFIG}: {e}"))
        })
        .await
        .clone()
    }
}

pub fn describe(e: &RegistryError) -> String {
    e.to_string()
}
