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
mod source;
mod visit;

pub use error::ItemError;
pub use listing::RepoFilter;
pub use outcome::{Outcome, Status};
pub use progress::Progress;

use crate::registry::{Client, Shutdown};
use crate::store::{RunSummary, Store};
use fetch::Fetcher;
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

    let plan = source::plan(&fetcher.client, &opts, &seen_repos).await;
    let ctx = Arc::new(RepoContext {
        fetcher,
        current,
        updated,
        seen_repos,
        named: plan.named,
        opts,
        tx: tx.clone(),
        counts: counts.clone(),
        shutdown: shutdown.clone(),
        fatal: Mutex::new(None),
        use_acr: plan.use_acr,
        referrers,
    });
    visit::repositories(&ctx, plan.source).await;

    // Every repository task has ended: this is the last holder.
    let ctx = Arc::into_inner(ctx).expect("no repository task outlives the stream");
    let counters = ctx.fetcher.client.counters().clone();
    let manifests_known = Counts::get(&counts.manifests_known);
    let mut fatal = ctx.fatal.into_inner().unwrap();
    drop(ctx.fetcher);
    drop(ctx.tx);
    drop(tx);
    progress.finish();
    let sink::Finished {
        mut store,
        folded,
        error,
    } = sink.finish();

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
