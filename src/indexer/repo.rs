//! One repository: list its tags (or learn it is gone), resolve each tag
//! to a digest, make sure the digests are indexed, and hand the listing and
//! any failures to the sink.

use super::error::ItemError;
use super::fetch::Fetcher;
use super::outcome::{fatal_message, registry_unreachable};
use super::progress::Counts;
use super::{listing, Options};
use crate::oci::{is_valid_repository, is_valid_tag, Digest};
use crate::registry::{RegistryError, Shutdown};
use crate::store::{Failure, Record, TagListing};
use futures::stream::{self, StreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

pub type TagMap = HashMap<(String, String), Digest>;

/// What every repository task shares (behind an Arc: each repository
/// is a task of its own).
pub struct RepoContext {
    pub fetcher: Fetcher,
    pub current: TagMap,
    /// ACR lastUpdateTime per repository at its last complete listing.
    pub updated: HashMap<String, String>,
    /// Repositories with tags in the index already.
    pub seen_repos: HashSet<String>,
    /// Repositories the user named (`--repo NAME`, `--repos-from`): one
    /// that does not exist is a failure, not a deletion.
    pub named: HashSet<String>,
    pub opts: Options,
    pub tx: mpsc::Sender<Record>,
    pub counts: Arc<Counts>,
    pub shutdown: Shutdown,
    /// Set when the whole run must stop (the registry cannot be reached).
    pub fatal: Mutex<Option<String>>,
    pub use_acr: bool,
    pub referrers: super::referrers::Referrers,
}

enum Listed {
    Tags(Vec<(String, Option<Digest>)>, Option<String>),
    /// Unchanged since the last complete run (ACR's lastUpdateTime).
    Unchanged,
    /// 404 NAME_UNKNOWN: the repository is not there (any more).
    Gone,
}

/// The failure record for an item, its text scrubbed of every secret the
/// program holds (server text in an error can echo a request).
pub fn failure(repo: Option<&str>, reference: Option<String>, e: &ItemError) -> Record {
    Record::Failure(Failure {
        repository: repo.map(str::to_string),
        reference,
        message: crate::registry::auth::scrub(&e.to_string()).into_owned(),
    })
}

impl RepoContext {
    /// Record a failure (unless the run is being interrupted).
    async fn fail(&self, repo: &str, reference: Option<String>, e: &ItemError) {
        if self.shutdown.is_triggered() || e.is_interrupted() {
            return;
        }
        if let ItemError::Registry(r) = e {
            let registry = self.fetcher.client.registry();
            if registry_unreachable(r, registry) {
                // Every other request would fail the same way: stop now.
                self.fatal
                    .lock()
                    .unwrap()
                    .get_or_insert_with(|| fatal_message(r, registry));
                self.shutdown.stop();
                return;
            }
        }
        let shown = crate::registry::auth::scrub(&e.to_string()).into_owned();
        match &reference {
            Some(tag) => {
                tracing::debug!(repository = %repo, tag = %tag, error = %shown, "cannot index")
            }
            None => tracing::debug!(repository = %repo, error = %shown, "cannot index"),
        }
        Counts::add(&self.counts.failures, 1);
        let _ = self.tx.send(failure(Some(repo), reference, e)).await;
    }
}

/// List a repository's tags: with ACR's API (digests included, and the
/// repository skipped when unchanged since its last complete listing) or /v2.
async fn list_tags(ctx: &RepoContext, repo: &str) -> Result<Listed, RegistryError> {
    let client = &ctx.fetcher.client;
    let gone = |r: Result<Listed, RegistryError>| match r {
        Err(RegistryError::NotFound { .. }) => Ok(Listed::Gone),
        other => other,
    };
    if !ctx.use_acr {
        let tags = listing::tags(client, repo, ctx.opts.page_size).await;
        return gone(tags.map(|t| Listed::Tags(t.into_iter().map(|t| (t, None)).collect(), None)));
    }
    // A repository indexed before is checked first and skipped when
    // unchanged; a new one is listed straight away (a cold run pays no
    // lookup; its time is stored from the next run on).
    let updated = if ctx.seen_repos.contains(repo) {
        match client.acr_repository_updated(repo).await {
            Err(RegistryError::NotFound { .. }) => return Ok(Listed::Gone),
            r => r?,
        }
    } else {
        None
    };
    if !ctx.opts.full && updated.is_some() && ctx.updated.get(repo) == updated.as_ref() {
        tracing::debug!(repository = %repo, "unchanged since the last complete run");
        return Ok(Listed::Unchanged);
    }
    let tags = listing::acr_tags(client, repo, ctx.opts.page_size).await;
    gone(tags.map(|t| Listed::Tags(t, updated)))
}

pub async fn index_repo(ctx: &RepoContext, repo: String) {
    if !is_valid_repository(&repo) {
        let e = ItemError::InvalidName(repo.clone());
        return ctx.fail(&repo, None, &e).await;
    }
    let (tags, last_update_time) = match list_tags(ctx, &repo).await {
        Ok(Listed::Tags(t, updated)) => (t, updated),
        Ok(Listed::Unchanged) => return,
        Ok(Listed::Gone) if ctx.named.contains(&repo) => {
            let e = ItemError::NoSuchRepository(repo.clone());
            return ctx.fail(&repo, None, &e).await;
        }
        Ok(Listed::Gone) => {
            // Deleted: a complete, empty listing retires its tags (their
            // history stays). Not a failure.
            tracing::info!(repository = %repo, "repository is gone; its tags are retired");
            (Vec::new(), None)
        }
        Err(e) => return ctx.fail(&repo, None, &ItemError::from(e)).await,
    };
    let (tags, invalid): (Vec<_>, Vec<_>) = tags.into_iter().partition(|(t, _)| is_valid_tag(t));
    for (tag, _) in invalid {
        let e = ItemError::InvalidTag(tag.clone());
        ctx.fail(&repo, Some(tag), &e).await;
    }
    Counts::add(&ctx.counts.tags, tags.len() as i64);
    let resolved: Vec<(String, Result<Digest, Arc<ItemError>>)> = stream::iter(tags)
        .map(|(tag, listed)| async {
            let r = resolve_tag(ctx, &repo, &tag, listed).await;
            Counts::add(&ctx.counts.tags_done, 1);
            (tag, r)
        })
        .buffer_unordered(ctx.opts.concurrency.max(1))
        .collect()
        .await;
    let mut listing = TagListing {
        repository: repo.clone(),
        tags: Vec::with_capacity(resolved.len()),
        complete: !ctx.shutdown.is_triggered(),
        last_update_time: None,
    };
    let mut failed = false;
    for (tag, r) in resolved {
        match r {
            Ok(d) => listing.tags.push((tag, Some(d))),
            Err(e) => {
                listing.tags.push((tag.clone(), None));
                failed = true;
                ctx.fail(&repo, Some(tag), &e).await;
            }
        }
    }
    let input = super::referrers::RepoInput {
        repo: &repo,
        tags: &listing.tags,
        previous: &ctx.current,
        acr: ctx.use_acr,
        pushed: last_update_time.as_deref(),
        complete: !failed && listing.complete,
    };
    let referrers_done = ctx
        .referrers
        .index_repo(
            &ctx.fetcher,
            input,
            &ctx.tx,
            &ctx.counts,
            ctx.opts.concurrency,
        )
        .await;
    // Only a repository indexed without failures may be skipped next time.
    if !failed && referrers_done {
        listing.last_update_time = last_update_time;
    }
    if ctx.shutdown.is_triggered() && listing.tags.iter().all(|(_, d)| d.is_none()) {
        return;
    }
    let _ = ctx.tx.send(Record::Tags(listing)).await;
}

/// Learn the digest a tag points at and make sure that digest is indexed.
/// ACR's listing gives the digest; otherwise a tag seen before is checked
/// with HEAD (cheap when nothing changed) and a new tag is fetched with GET
/// straight away, which also gives its digest.
async fn resolve_tag(
    ctx: &RepoContext,
    repo: &str,
    tag: &str,
    listed: Option<Digest>,
) -> Result<Digest, Arc<ItemError>> {
    let fetcher = &ctx.fetcher;
    let registry = |e: RegistryError| Arc::new(ItemError::from(e));
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
            Err(e) => return Err(registry(e)),
        }
    }
    let fetched = fetcher
        .client
        .get_manifest(repo, tag)
        .await
        .map_err(registry)?;
    let digest = fetched.digest.clone();
    fetcher.ensure(repo, &digest, Some(fetched)).await?;
    Ok(digest)
}
