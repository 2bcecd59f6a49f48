//! The indexing pipeline, and the only module that knows its stage order:
//! repositories -> tags -> manifests -> configs -> store.

mod fetch;
mod listing;
mod progress;
mod sink;

pub use listing::RepoFilter;
pub use progress::Progress;

use crate::oci::Digest;
use crate::registry::{Client, RegistryError, Shutdown};
use crate::store::{Failure, Record, RunSummary, Store, TagListing};
use fetch::Fetcher;
use futures::stream::{self, StreamExt};
use progress::Counts;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub struct Options {
    /// host[:port], as stored.
    pub registry_host: String,
    pub filter: RepoFilter,
    /// Repositories named outright (`--repos-from`), visited without the catalog.
    pub explicit_repos: Vec<String>,
    pub full: bool,
    pub concurrency: usize,
    pub page_size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Partial,
    Failed,
    Interrupted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Partial => "partial",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
        }
    }
}

pub struct Outcome {
    pub run_id: i64,
    pub status: Status,
    pub summary: RunSummary,
    pub requests: BTreeMap<String, u64>,
    pub elapsed: Duration,
    /// Why the run failed, when it did.
    pub fatal: Option<String>,
}

type TagMap = HashMap<(String, String), Digest>;

pub async fn run(
    mut store: Store,
    client: Client,
    opts: Options,
    shutdown: Shutdown,
    progress: Progress,
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let run_id = store.begin_run(&opts.registry_host, opts.full)?;
    let known = store.known_digests()?;
    let current = store.current_tags(&opts.registry_host)?;
    tracing::info!(run_id, registry = %opts.registry_host, known = known.len(), "index run started");

    let (sink, tx) = sink::Sink::spawn(store, opts.registry_host.clone(), run_id);
    let fetcher = Fetcher::new(client, known, opts.full, tx.clone());
    let counts = progress.counts.clone();
    let fatal: Mutex<Option<String>> = Mutex::new(None);

    let explicit: Vec<String> = opts
        .filter
        .explicit_names()
        .unwrap_or_default()
        .into_iter()
        .chain(
            opts.explicit_repos
                .iter()
                .filter(|r| opts.filter.matches(r))
                .cloned(),
        )
        .collect();
    let repos = if !explicit.is_empty() || !opts.explicit_repos.is_empty() {
        stream::iter(explicit.into_iter().map(Ok)).boxed()
    } else {
        listing::catalog(&fetcher.client, opts.page_size).boxed()
    };
    let repos = repos.filter_map(|r| {
        let keep = match r {
            Ok(name) if opts.filter.matches(&name) => Some(name),
            Ok(_) => None,
            Err(e) => {
                if !matches!(e, RegistryError::Interrupted) {
                    *fatal.lock().unwrap() = Some(catalog_error(e));
                }
                None
            }
        };
        if keep.is_some() {
            Counts::add(&counts.repositories, 1);
        }
        async move { keep }
    });
    repos
        .map(|repo| index_repo(&fetcher, &current, repo, &opts, &tx, &counts, &shutdown))
        .buffer_unordered(opts.concurrency.max(1))
        .for_each(|()| async { Counts::add(&counts.repositories_done, 1) })
        .await;

    let requests = fetcher.client.counters().snapshot();
    let manifests_new = Counts::get(&fetcher.stats.manifests_new);
    let manifests_known = Counts::get(&fetcher.stats.manifests_known);
    drop(fetcher);
    drop(tx);
    progress.finish();
    let (mut store, failures) = sink.finish()?;

    let fatal = fatal.into_inner().unwrap();
    let status = if shutdown.is_triggered() {
        Status::Interrupted
    } else if fatal.is_some() {
        Status::Failed
    } else if failures > 0 {
        Status::Partial
    } else {
        Status::Ok
    };
    let summary = RunSummary {
        status: status.as_str().to_string(),
        repositories: Counts::get(&counts.repositories_done),
        tags: Counts::get(&counts.tags),
        manifests_new,
        manifests_known,
        failures,
        requests: serde_json::to_string(&requests)?,
        message: fatal.clone(),
    };
    store.finish_run(run_id, &summary)?;
    Ok(Outcome {
        run_id,
        status,
        summary,
        requests,
        elapsed: started.elapsed(),
        fatal,
    })
}

fn catalog_error(e: RegistryError) -> String {
    match e {
        RegistryError::Unauthorized { .. } | RegistryError::Forbidden { .. } => format!(
            "the registry refused to list its catalog ({e}); credentials scoped to repositories cannot list it: name the repositories with --repo NAME or --repos-from FILE"
        ),
        e => format!("listing the catalog: {e}"),
    }
}

async fn index_repo(
    fetcher: &Fetcher,
    current: &TagMap,
    repo: String,
    opts: &Options,
    tx: &mpsc::Sender<Record>,
    counts: &Counts,
    shutdown: &Shutdown,
) {
    let fail = |reference: Option<String>, message: String| Failure {
        repository: Some(repo.clone()),
        reference,
        message,
    };
    let tags = match listing::tags(&fetcher.client, &repo, opts.page_size).await {
        Ok(t) => t,
        Err(RegistryError::Interrupted) => return,
        Err(e) => {
            tracing::warn!(repository = %repo, error = %e, "cannot list tags");
            Counts::add(&counts.failures, 1);
            let _ = tx
                .send(Record::Failure(fail(None, format!("listing tags: {e}"))))
                .await;
            return;
        }
    };
    Counts::add(&counts.tags, tags.len() as i64);
    let resolved: Vec<(String, Result<Digest, String>)> = stream::iter(tags)
        .map(|tag| async {
            let r = resolve_tag(fetcher, current, &repo, &tag, opts.full).await;
            Counts::add(&counts.tags_done, 1);
            (tag, r)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    let mut listing = TagListing {
        repository: repo.clone(),
        tags: Vec::with_capacity(resolved.len()),
        complete: !shutdown.is_triggered(),
        last_update_time: None,
    };
    for (tag, r) in resolved {
        match r {
            Ok(d) => listing.tags.push((tag, Some(d))),
            Err(message) => {
                listing.tags.push((tag.clone(), None));
                if shutdown.is_triggered() {
                    continue;
                }
                tracing::warn!(repository = %repo, tag = %tag, error = %message, "cannot index");
                Counts::add(&counts.failures, 1);
                let _ = tx.send(Record::Failure(fail(Some(tag), message))).await;
            }
        }
    }
    let _ = tx.send(Record::Tags(listing)).await;
}

/// Learn the digest a tag points at and make sure that digest is indexed.
/// A tag seen before is checked with HEAD (cheap when nothing changed); a
/// new tag is fetched with GET straight away, which also gives its digest.
async fn resolve_tag(
    fetcher: &Fetcher,
    current: &TagMap,
    repo: &str,
    tag: &str,
    full: bool,
) -> Result<Digest, String> {
    let seen_before = current.contains_key(&(repo.to_string(), tag.to_string()));
    if seen_before && !full {
        let digest = fetcher
            .client
            .head_manifest(repo, tag)
            .await
            .map_err(|e| e.to_string())?;
        fetcher.ensure(repo, &digest, None).await?;
        return Ok(digest);
    }
    let fetched = fetcher
        .client
        .get_manifest(repo, tag)
        .await
        .map_err(|e| e.to_string())?;
    let digest = fetched.digest.clone();
    fetcher.ensure(repo, &digest, Some(fetched)).await?;
    Ok(digest)
}
