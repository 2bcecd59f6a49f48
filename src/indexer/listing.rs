//! Which repositories and tags to visit: the catalog (paged, filtered) or
//! an explicit list, and each repository's tags (paged).

use crate::oci::Digest;
use crate::registry::{AcrCatalog, Client, RegistryError, RepoPage};
use futures::stream::{self, Stream, StreamExt};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::HashSet;
use url::Url;

/// `--repo` / `--exclude` globs.
#[derive(Clone, Default)]
pub struct RepoFilter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
    /// Include patterns without glob characters: names we can visit
    /// without listing the catalog.
    literal: Vec<String>,
    all_literal: bool,
}

impl RepoFilter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<RepoFilter, globset::Error> {
        let build = |pats: &[String]| -> Result<Option<GlobSet>, globset::Error> {
            if pats.is_empty() {
                return Ok(None);
            }
            let mut b = GlobSetBuilder::new();
            for p in pats {
                b.add(Glob::new(p)?);
            }
            Ok(Some(b.build()?))
        };
        let is_literal = |p: &String| !p.contains(['*', '?', '[', '{']);
        Ok(RepoFilter {
            include: build(include)?,
            exclude: build(exclude)?,
            literal: include.iter().filter(|p| is_literal(p)).cloned().collect(),
            all_literal: !include.is_empty() && include.iter().all(is_literal),
        })
    }

    pub fn matches(&self, repo: &str) -> bool {
        self.include.as_ref().is_none_or(|g| g.is_match(repo))
            && !self.exclude.as_ref().is_some_and(|g| g.is_match(repo))
    }

    /// When every include pattern is a plain name, the catalog is not needed.
    pub fn explicit_names(&self) -> Option<Vec<String>> {
        self.all_literal.then(|| {
            self.literal
                .iter()
                .filter(|r| self.matches(r))
                .cloned()
                .collect()
        })
    }
}

/// Follow pages from `first` until there is no next page or a URL repeats.
pub fn pages<'a, T: 'a, F, Fut>(
    first: Url,
    fetch: F,
) -> impl Stream<Item = Result<T, RegistryError>> + 'a
where
    F: Fn(Url) -> Fut + 'a,
    Fut: std::future::Future<Output = Result<(T, Option<Url>), RegistryError>> + 'a,
{
    let state = (Some(first), HashSet::new());
    stream::unfold((state, fetch), |((next, mut seen), fetch)| async move {
        let url = next?;
        if !seen.insert(url.to_string()) {
            return None;
        }
        match fetch(url).await {
            Ok((page, next)) => Some((Ok(page), ((next, seen), fetch))),
            Err(e) => Some((Err(e), ((None, seen), fetch))),
        }
    })
}

/// Tell the token layer which repositories come next (those the filter
/// keeps), so one token request can cover many of them.
fn hint(client: &Client, filter: &RepoFilter, repos: &[String]) {
    let kept: Vec<String> = repos
        .iter()
        .filter(|r| filter.matches(r))
        .cloned()
        .collect();
    client.hint_repositories(&kept);
}

/// Every repository in the catalog, page by page.
pub fn catalog<'a>(
    client: &'a Client,
    filter: &'a RepoFilter,
    page_size: usize,
) -> impl Stream<Item = Result<String, RegistryError>> + 'a {
    pages(client.catalog_url(page_size), move |url| async move {
        let p = client.catalog_page(url).await?;
        hint(client, filter, &p.repositories);
        Ok((p.repositories, p.next))
    })
    .flat_map(|page| {
        stream::iter(match page {
            Ok(repos) => repos.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    })
}

/// Every repository in ACR's catalog; `Ok(None)` when the registry has no
/// `/acr/v1/` API (checked on the first page).
pub async fn acr_catalog_probe(
    client: &Client,
    filter: &RepoFilter,
    page_size: usize,
) -> Result<Option<RepoPage>, RegistryError> {
    match client
        .acr_catalog_page(client.acr_catalog_url(page_size))
        .await?
    {
        AcrCatalog::Page(p) => {
            hint(client, filter, &p.repositories);
            Ok(Some(p))
        }
        AcrCatalog::Absent => Ok(None),
    }
}

/// The rest of ACR's catalog after a first page.
pub fn acr_catalog_rest<'a>(
    client: &'a Client,
    filter: &'a RepoFilter,
    first: RepoPage,
) -> impl Stream<Item = Result<String, RegistryError>> + 'a {
    let head = stream::iter(first.repositories.into_iter().map(Ok));
    let rest = match first.next {
        Some(next) => pages(next, move |url| async move {
            match client.acr_catalog_page(url).await? {
                AcrCatalog::Page(p) => {
                    hint(client, filter, &p.repositories);
                    Ok((p.repositories, p.next))
                }
                AcrCatalog::Absent => Ok((Vec::new(), None)),
            }
        })
        .boxed(),
        None => stream::empty().boxed(),
    };
    head.chain(rest.flat_map(|page| {
        stream::iter(match page {
            Ok(repos) => repos.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    }))
}

/// Every tag of a repository with its digest, from ACR's API, all pages.
pub async fn acr_tags(
    client: &Client,
    repo: &str,
    page_size: usize,
) -> Result<Vec<(String, Option<Digest>)>, RegistryError> {
    let mut out = Vec::new();
    let mut pages = std::pin::pin!(pages(
        client.acr_tags_url(repo, page_size),
        move |url| async move {
            let p = client.acr_tags_page(repo, url).await?;
            Ok((p.tags, p.next))
        }
    ));
    while let Some(page) = pages.next().await {
        out.extend(page?);
    }
    let mut seen = HashSet::new();
    out.retain(|(t, _)| seen.insert(t.clone()));
    Ok(out)
}

/// Every tag of a repository, all pages.
pub async fn tags(
    client: &Client,
    repo: &str,
    page_size: usize,
) -> Result<Vec<String>, RegistryError> {
    let mut out = Vec::new();
    let mut pages = std::pin::pin!(pages(
        client.tags_url(repo, page_size),
        move |url| async move {
            let p = client.tags_page(repo, url).await?;
            Ok((p.tags, p.next))
        }
    ));
    while let Some(page) = pages.next().await {
        out.extend(page?);
    }
    // A registry that repeats entries across pages must not double-count.
    let mut seen = HashSet::new();
    out.retain(|t| seen.insert(t.clone()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_globs() {
        let f = RepoFilter::new(&["team/*".into()], &["team/legacy-*".into()]).unwrap();
        assert!(f.matches("team/api"));
        assert!(f.matches("team/app/api"));
        assert!(!f.matches("team/legacy-x"));
        assert!(!f.matches("other"));
        assert_eq!(f.explicit_names(), None);
        let f = RepoFilter::new(&["a".into(), "b/c".into()], &["a".into()]).unwrap();
        assert_eq!(f.explicit_names(), Some(vec!["b/c".to_string()]));
        assert!(RepoFilter::new(&[], &[]).unwrap().matches("anything"));
    }
}
