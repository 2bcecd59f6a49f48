//! The referrers stage: after a repository's tags are resolved, list what
//! refers to its manifests (OCI 1.1 referrers API; the tag schema where the
//! registry has no API) and tie cosign's `.sig`/`.att`/`.sbom` tags to their
//! subjects. Economy and bounds are decided here (see docs/referrers.md):
//! - a subject is listed when it is new to the repository, when its
//!   referrers tag appeared or moved, on ACR when the repository changed
//!   (ACR bumps lastUpdateTime when a referrer is pushed, and an unchanged
//!   repository never reaches this stage), elsewhere when its last listing
//!   is older than [`RECHECK_DAYS`]; re-checks are capped per run;
//! - a repository whose registry answers 404 pays that one probe per run,
//!   then reads the tag schema, which costs a request only where the tag
//!   listing shows a `sha256-<hex>` tag;
//! - pages, referrers per subject and nesting are capped; a breach is a
//!   failure of that subject.

use super::fetch::Fetcher;
use super::progress::Counts;
use super::referrers_statement;
use crate::oci::{Descriptor, Digest};
use crate::registry::{
    cosign_tag, fallback_subject, fallback_tag, CosignTag, RegistryError, Shutdown,
};
use crate::store::{
    may_hold_statement, Failure, Record, ReferrerLinks, ReferrerRecord, ReferrerSource,
    ReferrerState, MAX_REFERRER_DEPTH,
};
use futures::future::{BoxFuture, FutureExt};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use tokio::sync::mpsc;

mod list;

/// A subject's referrers are listed again when its last listing is older.
pub const RECHECK_DAYS: i64 = 7;
/// Re-checks (subjects listed before) per run, over all repositories.
pub const RECHECK_PER_RUN: i64 = 1000;
/// Referrers API pages followed per subject.
pub const MAX_PAGES: usize = 20;
/// Referrers kept per subject.
pub const MAX_PER_SUBJECT: usize = 1000;
const MAX_ANNOTATIONS: usize = 64;
const MAX_KEY: usize = 256;
const MAX_VALUE: usize = 4096;
const MAX_TYPE: usize = 255;

pub struct Referrers {
    state: ReferrerState,
    full: bool,
    /// Checks older than this (RFC 3339, same format as stored) are due.
    stale_before: String,
    budget: AtomicI64,
    /// Statements read this run (a referrer shared by subjects is read once).
    read: Mutex<HashSet<Digest>>,
    /// Whether the registry offers the referrers API, once one listing has
    /// told (an answer, or the 404 the spec reserves for "no API"): the
    /// run probes once, not once per repository, and every later subject
    /// is listed the known way at once.
    api: tokio::sync::OnceCell<bool>,
    shutdown: Shutdown,
}

/// What the repository task hands this stage.
pub struct RepoInput<'a> {
    pub repo: &'a str,
    /// The tags as resolved this run.
    pub tags: &'a [(String, Option<Digest>)],
    /// The repository's tag -> digest mapping before this run.
    pub previous: &'a HashMap<(String, String), Digest>,
    /// ACR: listed with its API, and the repository's lastUpdateTime.
    pub acr: bool,
    pub pushed: Option<&'a str>,
    /// No tag failed, so the listing is the whole repository.
    pub complete: bool,
}

type Found = Vec<(Digest, ReferrerRecord)>;
/// A subject's referrers (nested included) and every subject listed on the way.
type Listed = Result<(Found, Vec<Digest>), String>;

impl Referrers {
    pub fn new(state: ReferrerState, full: bool, shutdown: Shutdown) -> Referrers {
        let stale = chrono::Utc::now() - chrono::Duration::days(RECHECK_DAYS);
        Referrers {
            state,
            full,
            stale_before: stale.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            budget: AtomicI64::new(RECHECK_PER_RUN),
            read: Mutex::new(HashSet::new()),
            api: tokio::sync::OnceCell::new(),
            shutdown,
        }
    }

    /// Run the stage for one repository. False when something is left for
    /// a later run (a failure or the re-check cap), so ACR's skip must not
    /// take the repository as done.
    pub async fn index_repo(
        &self,
        fetcher: &Fetcher,
        input: RepoInput<'_>,
        tx: &mpsc::Sender<Record>,
        counts: &Counts,
        concurrency: usize,
    ) -> bool {
        let repo = input.repo;
        let tags: HashMap<&str, &Digest> = input
            .tags
            .iter()
            .filter_map(|(t, d)| d.as_ref().map(|d| (t.as_str(), d)))
            .collect();
        let mut done = true;
        if input.complete {
            done &= self.cosign_tags(fetcher, repo, &tags, tx, counts).await;
        }
        let (due, capped) = self.due(fetcher, &input, &tags);
        done &= !capped;
        if due.is_empty() {
            return done;
        }
        // Until the run knows whether the registry offers the API, one
        // subject is listed alone while the other repositories wait for
        // what it shows: a registry without the API answers one 404 per
        // run, and every other subject goes straight to the tag schema.
        let mut due: Vec<Digest> = due;
        let api = if let Some(&known) = self.api.get() {
            known
        } else {
            let first = due.pop().expect("not empty");
            let mut probed: Option<(Listed, bool)> = None;
            let decided = self
                .api
                .get_or_try_init(|| async {
                    let mut offered = true;
                    let r = self
                        .list(fetcher, repo, &tags, &first, 0, &mut offered)
                        .await;
                    // An error other than the 404 tells nothing: the next
                    // repository probes again.
                    let tells = r.is_ok() || !offered;
                    probed = Some((r, offered));
                    if tells {
                        Ok(offered)
                    } else {
                        Err(())
                    }
                })
                .await
                .ok()
                .copied();
            match probed {
                Some((r, offered)) => {
                    done &= self.send(repo, vec![(first, r)], offered, tx, counts).await;
                    if due.is_empty() {
                        return done;
                    }
                    offered
                }
                // Another repository's listing told: this one's first
                // subject goes with the rest.
                None => {
                    due.push(first);
                    decided.unwrap_or(true)
                }
            }
        };
        let results: Vec<(Digest, Listed)> = stream::iter(due)
            .map(|subject| async {
                let mut api = api;
                let r = self.list(fetcher, repo, &tags, &subject, 0, &mut api).await;
                (subject, r)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        done &= self.send(repo, results, api, tx, counts).await;
        done
    }

    /// The subjects to list now; true when the re-check cap left some out.
    fn due(
        &self,
        fetcher: &Fetcher,
        input: &RepoInput<'_>,
        tags: &HashMap<&str, &Digest>,
    ) -> (Vec<Digest>, bool) {
        let mut subjects: Vec<Digest> = Vec::new();
        let mut seen = HashSet::new();
        for (tag, digest) in tags {
            // Tags that hold referrers are not images of their own.
            if fallback_subject(tag).is_some() || cosign_tag(tag).is_some() {
                continue;
            }
            if seen.insert((*digest).clone()) {
                subjects.push((*digest).clone());
            }
            let children = fetcher
                .children_of(digest)
                .or_else(|| self.state.children.get(*digest).cloned())
                .unwrap_or_default();
            for c in children {
                if seen.insert(c.clone()) {
                    subjects.push(c);
                }
            }
        }
        subjects.sort();
        let mut capped = false;
        let due = subjects
            .into_iter()
            .filter(|s| {
                let key = (input.repo.to_string(), s.clone());
                let Some(checked_at) = self.state.checks.get(&key) else {
                    return true;
                };
                // The tag schema's tag appeared or moved: a free signal.
                let ft = fallback_tag(s);
                if tags.get(ft.as_str()).copied()
                    != input.previous.get(&(input.repo.to_string(), ft.clone()))
                {
                    return true;
                }
                let recheck = self.full
                    || if input.acr {
                        pushed_since(input.pushed, checked_at)
                    } else {
                        *checked_at < self.stale_before
                    };
                if !recheck {
                    return false;
                }
                if self.budget.fetch_sub(1, Ordering::Relaxed) > 0 {
                    true
                } else {
                    capped = true;
                    false
                }
            })
            .collect();
        (due, capped)
    }

    /// Tie `sha256-<hex>.sig` / `.att` / `.sbom` tags to their subjects; they
    /// come from the listing already made, so they cost no listing request.
    async fn cosign_tags(
        &self,
        fetcher: &Fetcher,
        repo: &str,
        tags: &HashMap<&str, &Digest>,
        tx: &mpsc::Sender<Record>,
        counts: &Counts,
    ) -> bool {
        let mut links: Found = Vec::new();
        let mut done = true;
        for (tag, digest) in tags {
            let Some((subject, kind)) = cosign_tag(tag) else {
                continue;
            };
            let mut r = ReferrerRecord {
                digest: (*digest).clone(),
                media_type: crate::oci::media::OCI_MANIFEST.into(),
                artifact_type: Some(kind.artifact_type().into()),
                annotations: BTreeMap::new(),
                created: None,
                predicate_type: None,
                statement: None,
            };
            // Only `.att` holds a statement; `.sig` and `.sbom` need no fetch.
            let read = match kind {
                CosignTag::Attestation => self.read_statement(fetcher, repo, &mut r).await,
                _ => Ok(()),
            };
            if let Err(message) = read {
                done = false;
                fail(tx, counts, repo, tag, message).await;
            }
            links.push((subject, r));
        }
        let record = ReferrerLinks {
            repository: repo.to_string(),
            source: ReferrerSource::CosignTag,
            checked: None,
            links,
        };
        let _ = tx.send(Record::Referrers(Box::new(record))).await;
        done
    }

    async fn send(
        &self,
        repo: &str,
        results: Vec<(Digest, Listed)>,
        api: bool,
        tx: &mpsc::Sender<Record>,
        counts: &Counts,
    ) -> bool {
        let mut record = ReferrerLinks {
            repository: repo.to_string(),
            source: if api {
                ReferrerSource::Api
            } else {
                ReferrerSource::TagSchema
            },
            checked: Some(Vec::new()),
            links: Vec::new(),
        };
        let mut done = true;
        for (subject, r) in results {
            match r {
                Ok((found, checked)) => {
                    record.links.extend(found);
                    record.checked.as_mut().expect("set above").extend(checked);
                }
                // An interrupted run is not a failure of the item.
                Err(_) if self.shutdown.is_triggered() => done = false,
                Err(message) => {
                    done = false;
                    fail(tx, counts, repo, subject.as_str(), message).await;
                }
            }
        }
        let _ = tx.send(Record::Referrers(Box::new(record))).await;
        done
    }
}

/// Clock difference between ACR and this host that the ACR rule absorbs.
const SKEW_SECONDS: i64 = 60;

/// ACR: was anything pushed to the repository after (or about when) the
/// subject was last listed? ACR bumps lastUpdateTime when a referrer is
/// pushed; the margin absorbs clock skew between ACR and this host.
fn pushed_since(pushed: Option<&str>, checked_at: &str) -> bool {
    use chrono::DateTime;
    let (Some(p), Ok(c)) = (pushed, DateTime::parse_from_rfc3339(checked_at)) else {
        return false;
    };
    match DateTime::parse_from_rfc3339(p) {
        Ok(p) => p + chrono::Duration::seconds(SKEW_SECONDS) > c,
        // A time we cannot read: list again rather than miss a signature.
        Err(_) => true,
    }
}

async fn fail(
    tx: &mpsc::Sender<Record>,
    counts: &Counts,
    repo: &str,
    reference: &str,
    message: String,
) {
    tracing::warn!(repository = %repo, reference = %reference, error = %message, "cannot list referrers");
    Counts::add(&counts.failures, 1);
    let _ = tx
        .send(Record::Failure(Failure {
            repository: Some(repo.to_string()),
            reference: Some(reference.to_string()),
            message,
        }))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_pushes_after_a_check_make_it_due() {
        let checked = "2024-05-01T12:00:00.000Z";
        assert!(!pushed_since(Some("2024-05-01T10:00:00.1234567Z"), checked));
        assert!(pushed_since(Some("2024-05-01T12:30:00Z"), checked));
        assert!(
            pushed_since(Some("2024-05-01T11:59:30Z"), checked),
            "within the skew margin"
        );
        assert!(pushed_since(Some("yesterday"), checked));
        assert!(!pushed_since(None, checked));
    }
}
