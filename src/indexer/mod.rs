//! The indexing pipeline, and the only module that knows its stage order:
//! repositories -> tags -> manifests -> configs -> store.

mod fetch;
mod listing;
mod progress;
mod referrers;
mod referrers_statement;
mod sink;

pub use listing::RepoFilter;
pub use progress::Progress;

use crate::oci::Digest;
use crate::registry::{Client, RegistryError, Shutdown};
use crate::store::{Failure, Record, RunSummary, Store, TagListing};
use fetch::Fetcher;
use futures::stream::{self, StreamExt};
use progress::Counts;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::Instrument;

pub struct Options {
    /// host[:port], as stored.
    pub registry_host: String,
    pub filter: RepoFilter,
    /// Repositories named outright (`--repos-from`), visited without the catalog.
    pub explicit_repos: Vec<String>,
    pub full: bool,
    pub concurrency: usize,
    pub page_size: usize,
    pub api: Api,
}

/// Which listing API to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// ACR's `/acr/v1/` when the host is ACR's or the API answers, else `/v2/`.
    Auto,
    Acr,
    V2,
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
    // Every log line of the run carries its id and registry.
    let span = tracing::info_span!("run", run_id, registry = %opts.registry_host);
    run_stages(store, client, opts, shutdown, progress, run_id, started)
        .instrument(span)
        .await
}

async fn run_stages(
    store: Store,
    client: Client,
    opts: Options,
    shutdown: Shutdown,
    progress: Progress,
    run_id: i64,
    started: Instant,
) -> anyhow::Result<Outcome> {
    let known = store.known_digests()?;
    let current = store.current_tags(&opts.registry_host)?;
    let updated = store.repository_update_times(&opts.registry_host)?;
    let seen_repos: HashSet<String> = current.keys().map(|(repo, _)| repo.clone()).collect();
    let referrers = referrers::Referrers::new(
        store.referrer_state(&opts.registry_host)?,
        opts.full,
        shutdown.clone(),
    );
    tracing::info!(known = known.len(), "index run started");

    let (sink, tx) = sink::Sink::spawn(store, opts.registry_host.clone(), run_id);
    let counts = progress.counts.clone();
    let fetcher = Fetcher::new(client, known, opts.full, tx.clone(), counts.clone());
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
    let use_acr = match opts.api {
        Api::Acr => true,
        Api::V2 => false,
        Api::Auto => crate::registry::is_acr_host(&opts.registry_host),
    };
    let named = !explicit.is_empty() || !opts.explicit_repos.is_empty();
    let (repos, use_acr) = if named {
        fetcher.client.hint_repositories(&explicit);
        (stream::iter(explicit.into_iter().map(Ok)).boxed(), use_acr)
    } else if use_acr || opts.api == Api::Auto {
        // The first ACR catalog page tells whether the API is there.
        match listing::acr_catalog_probe(&fetcher.client, &opts.filter, opts.page_size).await {
            Ok(Some(first)) => (
                listing::acr_catalog_rest(&fetcher.client, &opts.filter, first).boxed(),
                true,
            ),
            Ok(None) if !use_acr => (
                listing::catalog(&fetcher.client, &opts.filter, opts.page_size).boxed(),
                false,
            ),
            Ok(None) => (
                stream::iter([Err(RegistryError::NotFound {
                    url: "/acr/v1/_catalog (the registry does not offer the ACR API; use --api v2)"
                        .into(),
                })])
                .boxed(),
                true,
            ),
            Err(e) if use_acr => (stream::iter([Err(e)]).boxed(), true),
            Err(_) => (
                listing::catalog(&fetcher.client, &opts.filter, opts.page_size).boxed(),
                false,
            ),
        }
    } else {
        (
            listing::catalog(&fetcher.client, &opts.filter, opts.page_size).boxed(),
            false,
        )
    };
    tracing::debug!(api = if use_acr { "acr" } else { "v2" }, "listing");
    let ctx = RepoContext {
        fetcher: &fetcher,
        current: &current,
        updated: &updated,
        seen_repos: &seen_repos,
        opts: &opts,
        tx: &tx,
        counts: &counts,
        shutdown: &shutdown,
        use_acr,
        referrers: &referrers,
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
    // Progress shows the catalog's size as a total only once it is final.
    let listed = stream::once(async {
        counts
            .catalog_listed
            .store(true, std::sync::atomic::Ordering::Relaxed)
    });
    repos
        .chain(listed.filter_map(|()| async { None }))
        .map(|repo| index_repo(&ctx, repo))
        .buffer_unordered(opts.concurrency.max(1))
        .for_each(|()| async { Counts::add(&counts.repositories_done, 1) })
        .await;

    let requests = fetcher.client.counters().snapshot();
    let manifests_new = Counts::get(&counts.manifests);
    let manifests_known = Counts::get(&counts.manifests_known);
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
            "the registry refused to list its catalog ({e}): credentials scoped to repositories cannot list it, so name the repositories with --repo NAME or --repos-from FILE (or check the credentials)"
        ),
        e => format!("listing the catalog: {e}"),
    }
}

/// What every repository task shares.
struct RepoContext<'a> {
    fetcher: &'a Fetcher,
    current: &'a TagMap,
    /// ACR lastUpdateTime per repository at its last complete listing.
    updated: &'a HashMap<String, String>,
    /// Repositories with tags in the index already.
    seen_repos: &'a HashSet<String>,
    opts: &'a Options,
    tx: &'a mpsc::Sender<Record>,
    counts: &'a Counts,
    shutdown: &'a Shutdown,
    use_acr: bool,
    referrers: &'a referrers::Referrers,
}

/// List a repository's tags: with ACR's API (digests included, and the
/// repository skipped when unchanged since its last complete listing) or /v2.
async fn list_tags(
    ctx: &RepoContext<'_>,
    repo: &str,
) -> Result<Option<(Vec<(String, Option<Digest>)>, Option<String>)>, RegistryError> {
    let client = &ctx.fetcher.client;
    if !ctx.use_acr {
        let tags = listing::tags(client, repo, ctx.opts.page_size).await?;
        return Ok(Some((tags.into_iter().map(|t| (t, None)).collect(), None)));
    }
    // A repository indexed before is checked first and skipped when
    // unchanged; a new one is listed straight away (a cold run pays no
    // lookup; its time is stored from the next run on).
    let updated = if ctx.seen_repos.contains(repo) {
        client.acr_repository_updated(repo).await?
    } else {
        None
    };
    if !ctx.opts.full && updated.is_some() && ctx.updated.get(repo) == updated.as_ref() {
        tracing::debug!(repository = %repo, "unchanged since the last complete run");
        return Ok(None);
    }
    Ok(Some((
        listing::acr_tags(client, repo, ctx.opts.page_size).await?,
        updated,
    )))
}

async fn index_repo(ctx: &RepoContext<'_>, repo: String) {
    let (counts, tx, shutdown) = (ctx.counts, ctx.tx, ctx.shutdown);
    let fail = |reference: Option<String>, message: String| Failure {
        repository: Some(repo.clone()),
        reference,
        message,
    };
    let (tags, last_update_time) = match list_tags(ctx, &repo).await {
        Ok(Some(t)) => t,
        Ok(None) => return,
        Err(RegistryError::Interrupted) => return,
        Err(e) => {
            tracing::debug!(repository = %repo, error = %e, "cannot list tags");
            Counts::add(&counts.failures, 1);
            let _ = tx
                .send(Record::Failure(fail(None, format!("listing tags: {e}"))))
                .await;
            return;
        }
    };
    Counts::add(&counts.tags, tags.len() as i64);
    let resolved: Vec<(String, Result<Digest, String>)> = stream::iter(tags)
        .map(|(tag, listed)| async {
            let r = resolve_tag(ctx, &repo, &tag, listed).await;
            Counts::add(&counts.tags_done, 1);
            (tag, r)
        })
        .buffer_unordered(ctx.opts.concurrency.max(1))
        .collect()
        .await;
    let mut listing = TagListing {
        repository: repo.clone(),
        tags: Vec::with_capacity(resolved.len()),
        complete: !shutdown.is_triggered(),
        last_update_time: None,
    };
    let mut failed = false;
    for (tag, r) in resolved {
        match r {
            Ok(d) => listing.tags.push((tag, Some(d))),
            Err(message) => {
                listing.tags.push((tag.clone(), None));
                if shutdown.is_triggered() {
                    continue;
                }
                failed = true;
                tracing::debug!(repository = %repo, tag = %tag, error = %message, "cannot index");
                Counts::add(&counts.failures, 1);
                let _ = tx.send(Record::Failure(fail(Some(tag), message))).await;
            }
        }
    }
    let input = referrers::RepoInput {
        repo: &repo,
        tags: &listing.tags,
        previous: ctx.current,
        acr: ctx.use_acr,
        pushed: last_update_time.as_deref(),
        complete: !failed && listing.complete,
    };
    let referrers_done = (ctx.referrers)
        .index_repo(ctx.fetcher, input, tx, counts, ctx.opts.concurrency)
        .await;
    // Only a repository indexed without failures may be skipped next time.
    if !failed && referrers_done {
        listing.last_update_time = last_update_time;
    }
    let _ = tx.send(Record::Tags(listing)).await;
}

/// Learn the digest a tag points at and make sure that digest is indexed.
/// ACR's listing gives the digest; otherwise a tag seen before is checked
/// with HEAD (cheap when nothing changed) and a new tag is fetched with GET
/// straight away, which also gives its digest.
async fn resolve_tag(
    ctx: &RepoContext<'_>,
    repo: &str,
    tag: &str,
    listed: Option<Digest>,
) -> Result<Digest, String> {
    let fetcher = ctx.fetcher;
    if let Some(digest) = listed {
        fetcher.ensure(repo, &digest, None).await?;
        return Ok(digest);
    }
    let seen_before = ctx
        .current
        .contains_key(&(repo.to_string(), tag.to_string()));
    if seen_before && !ctx.opts.full {
        match fetcher.client.head_manifest(repo, tag).await {
            Ok(digest) => {
                fetcher.ensure(repo, &digest, None).await?;
                return Ok(digest);
            }
            // A registry whose HEAD gives no Docker-Content-Digest: GET it.
            Err(RegistryError::InvalidResponse { .. }) => {}
            Err(e) => return Err(e.to_string()),
        }
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
