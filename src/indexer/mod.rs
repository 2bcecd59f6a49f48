//! The indexing pipeline, and the only module that knows its stage order:
//! repositories -> tags -> manifests -> configs -> store.

mod attest;
mod error;
mod fetch;
mod listing;
mod outcome;
mod progress;
mod referrers;
mod referrers_statement;
mod repo;
mod sink;

pub use error::ItemError;
pub use listing::RepoFilter;
pub use outcome::{Outcome, Status};
pub use progress::Progress;

use crate::registry::{Client, RegistryError, Shutdown};
use crate::store::{RunSummary, Store};
use fetch::Fetcher;
use futures::stream::{self, StreamExt};
use progress::Counts;
use repo::RepoContext;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;
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
    /// Read BuildKit attestation layers (SLSA provenance); `--no-attestations` clears it.
    pub attestations: bool,
}

/// Where the run's repositories come from.
enum Source {
    /// Named by the user: no catalog.
    Named(Vec<String>),
    /// ACR's catalog, its first page read already.
    Acr(crate::registry::RepoPage),
    /// The distribution catalog.
    Catalog,
    /// Listing cannot start: the run's one (fatal) error.
    Failed(RegistryError),
}

/// Which listing API to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// ACR's `/acr/v1/` when the host is ACR's or the API answers, else `/v2/`.
    Auto,
    Acr,
    V2,
}

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
    let known = store.known_digests(opts.attestations)?;
    let current = store.current_tags(&opts.registry_host)?;
    let updated = store.repository_update_times(&opts.registry_host)?;
    let seen_repos: HashSet<String> = current.keys().map(|(repo, _)| repo.clone()).collect();
    let referrers = referrers::Referrers::new(
        store.referrer_state(&opts.registry_host)?,
        opts.full,
        shutdown.clone(),
    );
    tracing::info!(known = known.len(), "index run started");

    let (sink, tx) = sink::Sink::spawn(store, opts.registry_host.clone(), run_id, shutdown.clone());
    let counts = progress.counts.clone();
    let mut fetcher = Fetcher::new(client, known, opts.full, tx.clone(), counts.clone());
    fetcher.attestations = opts.attestations;

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
    if use_acr {
        fetcher.client.assume_acr();
    }
    let named = !explicit.is_empty() || !opts.explicit_repos.is_empty();
    let named_set: HashSet<String> = explicit.iter().cloned().collect();
    if !named {
        // The last run's repositories, before the catalog names them: on
        // ABAC registries the catalog's token request covers the first of
        // them too (a repository gone since costs one scope entry).
        let mut last: Vec<String> = seen_repos
            .iter()
            .filter(|r| opts.filter.matches(r))
            .cloned()
            .collect();
        last.sort();
        fetcher.client.hint_repositories(&last);
    }
    let source = if named {
        Source::Named(explicit)
    } else if use_acr || opts.api == Api::Auto {
        // The first ACR catalog page tells whether the API is there.
        match listing::acr_catalog_probe(&fetcher.client, &opts.filter, opts.page_size).await {
            Ok(Some(first)) => Source::Acr(first),
            Ok(None) if !use_acr => Source::Catalog,
            Ok(None) => Source::Failed(RegistryError::NotFound {
                url: "/acr/v1/_catalog (the registry does not offer the ACR API; use --api v2)"
                    .into(),
            }),
            Err(e) if use_acr => Source::Failed(e),
            Err(_) => Source::Catalog,
        }
    } else {
        Source::Catalog
    };
    let use_acr = match &source {
        Source::Named(_) => use_acr,
        Source::Acr(_) | Source::Failed(_) => true,
        Source::Catalog => false,
    };
    tracing::debug!(api = if use_acr { "acr" } else { "v2" }, "listing");
    let ctx = Arc::new(RepoContext {
        fetcher,
        current,
        updated,
        seen_repos,
        named: named_set,
        opts,
        tx: tx.clone(),
        counts: counts.clone(),
        shutdown: shutdown.clone(),
        fatal: Mutex::new(None),
        use_acr,
        referrers,
    });
    let (client, filter) = (&ctx.fetcher.client, &ctx.opts.filter);
    let repos = match source {
        Source::Named(names) => {
            client.hint_repositories(&names);
            stream::iter(names.into_iter().map(Ok)).boxed()
        }
        Source::Acr(first) => listing::acr_catalog_rest(client, filter, first).boxed(),
        Source::Catalog => listing::catalog(client, filter, ctx.opts.page_size).boxed(),
        Source::Failed(e) => stream::iter([Err(e)]).boxed(),
    };
    let registry = client.registry().clone();
    // A catalog that repeats a name (across pages or not) visits it once.
    let mut visited: HashSet<String> = HashSet::new();
    let repos = repos.filter_map(|r| {
        let keep = match r {
            Ok(name) if filter.matches(&name) && visited.insert(name.clone()) => Some(name),
            Ok(_) => None,
            Err(e) => {
                if !matches!(e, RegistryError::Interrupted) {
                    let message = outcome::fatal_message(&e, &registry);
                    ctx.fatal.lock().unwrap().get_or_insert(message);
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
    // Each repository is a task of its own: the runtime's workers share
    // the parsing and bookkeeping, so answers that arrive together (a
    // registry with even latency answers in waves) are turned into the
    // next requests sooner.
    let spawn_repo = |repo: String| {
        let ctx = ctx.clone();
        let task =
            tokio::spawn(async move { repo::index_repo(&ctx, repo).await }.in_current_span());
        async move {
            if let Err(e) = task.await {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
    };
    repos
        .take_while(|_| std::future::ready(!shutdown.is_triggered()))
        .chain(listed.filter_map(|()| async { None }))
        .map(spawn_repo)
        // Repositories are started ahead of the request cap: their tag
        // listings find the work that keeps every permit busy, so the run
        // does not trail off with a few late repositories in flight.
        .buffer_unordered(ctx.opts.concurrency.max(1).saturating_mul(4).min(1024))
        .for_each(|()| async { Counts::add(&counts.repositories_done, 1) })
        .await;

    // Every repository task has ended: this is the last holder.
    let ctx = Arc::into_inner(ctx).expect("no repository task outlives the stream");
    let counters = ctx.fetcher.client.counters().clone();
    let manifests_known = Counts::get(&counts.manifests_known);
    let fatal = ctx.fatal.into_inner().unwrap();
    drop(ctx.fetcher);
    drop(ctx.tx);
    drop(tx);
    progress.finish();
    let sink::Finished {
        mut store,
        folded,
        error,
    } = sink.finish();

    let mut fatal = fatal;
    if let Some(e) = &error {
        fatal = Some(format!(
            "writing the database failed ({e}); the run stopped at once: free space and run again"
        ));
    }
    if counters.retries() > 0 {
        // Once per run at the default level; each retry is a debug line.
        tracing::info!(
            retried = counters.retries(),
            throttled = counters.throttled(),
            "requests were retried (429 or transient errors); -v shows each"
        );
    }
    let status = if shutdown.by_signal() {
        Status::Interrupted
    } else if fatal.is_some() {
        Status::Failed
    } else if folded.failures > 0 {
        Status::Partial
    } else {
        Status::Ok
    };
    let summary = RunSummary {
        status,
        repositories: Counts::get(&counts.repositories_done),
        tags: folded.tags,
        manifests_new: folded.manifests,
        manifests_known,
        failures: folded.failures,
        requests: counters.snapshot(),
        message: fatal.map(|m| crate::registry::auth::scrub(&m).into_owned()),
    };
    store.finish_run(run_id, &summary)?;
    Ok(Outcome {
        run_id,
        summary,
        elapsed: started.elapsed(),
    })
}
