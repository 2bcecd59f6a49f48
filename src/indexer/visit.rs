//! Visiting the repositories: each one a task of its own, started ahead
//! of the request cap, each name once, until the listing ends or the run
//! is stopped.

use super::outcome;
use super::progress::Counts;
use super::repo::{self, RepoContext};
use super::source::Source;
use crate::registry::RegistryError;
use futures::stream::{self, StreamExt};
use std::collections::HashSet;
use std::sync::Arc;
use tracing::Instrument;

/// Visit every repository `source` names. A listing error that stops the
/// run is kept in `ctx.fatal`.
pub async fn repositories(ctx: &Arc<RepoContext>, source: Source) {
    let (client, filter, counts) = (&ctx.fetcher.client, &ctx.opts.filter, &ctx.counts);
    let repos = source.stream(client, filter, ctx.opts.page_size);
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
        .take_while(|_| std::future::ready(!ctx.shutdown.is_triggered()))
        .chain(listed.filter_map(|()| async { None }))
        .map(spawn_repo)
        // Repositories are started ahead of the request cap: their tag
        // listings find the work that keeps every permit busy, so the run
        // does not trail off with a few late repositories in flight.
        .buffer_unordered(ctx.opts.concurrency.max(1).saturating_mul(4).min(1024))
        .for_each(|()| async { Counts::add(&counts.repositories_done, 1) })
        .await;
}
