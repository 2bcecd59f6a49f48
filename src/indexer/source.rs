//! Where a run's repositories come from: named by the user, ACR's catalog
//! (its first page tells whether the API is there) or the distribution
//! catalog. Decided once, before any repository is visited.

use super::{listing, Api, Options, RepoFilter};
use crate::registry::{Client, RegistryError, RepoPage};
use futures::stream::{self, BoxStream, StreamExt};
use std::collections::HashSet;

pub enum Source {
    /// Named by the user: no catalog.
    Named(Vec<String>),
    /// ACR's catalog, its first page read already.
    Acr(RepoPage),
    /// The distribution catalog.
    Catalog,
    /// Listing cannot start: the run's one (fatal) error.
    Failed(RegistryError),
}

pub struct Plan {
    pub source: Source,
    /// Listed with ACR's API (and its lastUpdateTime skip).
    pub use_acr: bool,
    /// Repositories the user named: one that does not exist is a failure.
    pub named: HashSet<String>,
}

/// Choose the source; `seen` are the repositories the last run saw, hinted
/// to the token layer before the catalog names them.
pub async fn plan(client: &Client, opts: &Options, seen: &HashSet<String>) -> Plan {
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
        client.assume_acr();
    }
    let named = !explicit.is_empty() || !opts.explicit_repos.is_empty();
    let named_set: HashSet<String> = explicit.iter().cloned().collect();
    if !named {
        // The last run's repositories, before the catalog names them: on
        // ABAC registries the catalog's token request covers the first of
        // them too (a repository gone since costs one scope entry).
        let mut last: Vec<String> = seen
            .iter()
            .filter(|r| opts.filter.matches(r))
            .cloned()
            .collect();
        last.sort();
        client.hint_repositories(&last);
    }
    let source = if named {
        Source::Named(explicit)
    } else if use_acr || opts.api == Api::Auto {
        // The first ACR catalog page tells whether the API is there.
        match listing::acr_catalog_probe(client, &opts.filter, opts.page_size).await {
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
    Plan {
        source,
        use_acr,
        named: named_set,
    }
}

impl Source {
    /// The repository names, in the source's order.
    pub fn stream<'a>(
        self,
        client: &'a Client,
        filter: &'a RepoFilter,
        page_size: usize,
    ) -> BoxStream<'a, Result<String, RegistryError>> {
        match self {
            Source::Named(names) => {
                client.hint_repositories(&names);
                stream::iter(names.into_iter().map(Ok)).boxed()
            }
            Source::Acr(first) => listing::acr_catalog_rest(client, filter, first).boxed(),
            Source::Catalog => listing::catalog(client, filter, page_size).boxed(),
            Source::Failed(e) => stream::iter([Err(e)]).boxed(),
        }
    }
}
