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

/// Pages followed per listing at most: a registry whose `next` links never
/// end (or keep inventing new ones) must not keep a run going for ever.
pub const MAX_PAGES: usize = 10_000;
/// Entries per listing at most (repositories in a catalog, tags in a
/// repository), so memory stays bounded whatever a registry sends.
pub const MAX_ENTRIES: usize = 1_000_000;

/// Follow pages from `first` until there is no next page or a URL repeats;
/// past [`MAX_PAGES`] pages or [`MAX_ENTRIES`] entries the listing fails.
pub fn pages<'a, T: 'a, F, Fut>(
    first: Url,
    fetch: F,
) -> impl Stream<Item = Result<Vec<T>, RegistryError>> + 'a
where
    F: Fn(Url) -> Fut + 'a,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<Url>), RegistryError>> + 'a,
{
    let state = (Some(first), HashSet::new(), 0usize);
    stream::unfold(
        (state, fetch),
        |((next, mut seen, entries), fetch)| async move {
            let url = next?;
            if !seen.insert(url.to_string()) {
                return None;
            }
            if seen.len() > MAX_PAGES {
                let e = too_long(&url, format!("more than {MAX_PAGES} pages"));
                return Some((Err(e), ((None, seen, entries), fetch)));
            }
            match fetch(url.clone()).await {
                Ok((page, next)) => {
                    let entries = entries + page.len();
                    if entries > MAX_ENTRIES {
                        let e = too_long(&url, format!("more than {MAX_ENTRIES} entries"));
                        return Some((Err(e), ((None, seen, entries), fetch)));
                    }
                    Some((Ok(page), ((next, seen, entries), fetch)))
                }
                Err(e) => Some((Err(e), ((None, seen, entries), fetch))),
            }
        },
    )
}

fn too_long(url: &Url, what: String) -> RegistryError {
    RegistryError::InvalidResponse {
        url: crate::registry::display_url(url),
        detail: format!("the listing goes on past {what}; stopped"),
    }
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

    #[tokio::test]
    async fn endless_pagination_stops() {
        // Every page links to a new one, as a hostile registry can.
        let first = Url::parse("http://r.test/v2/_catalog?n=1").unwrap();
        let fetch = |url: Url| async move {
            let n: usize = url
                .query_pairs()
                .find(|(k, _)| k == "last")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let next =
                Url::parse(&format!("http://r.test/v2/_catalog?n=1&last={}", n + 1)).unwrap();
            Ok((vec![n], Some(next)))
        };
        let results: Vec<_> = pages(first, fetch).collect().await;
        assert_eq!(results.len(), MAX_PAGES + 1);
        assert!(results[..MAX_PAGES].iter().all(Result::is_ok));
        let err = results[MAX_PAGES].as_ref().err().unwrap();
        assert!(err.to_string().contains("more than 10000 pages"), "{err}");
        // Huge pages: bounded by entries.
        let first = Url::parse("http://r.test/v2/_catalog").unwrap();
        let fetch = |url: Url| async move {
            let next = Url::parse(&format!("{url}x")).unwrap();
            Ok((vec![0u8; MAX_ENTRIES / 3], Some(next)))
        };
        let results: Vec<_> = pages(first, fetch).collect().await;
        assert_eq!(results.len(), 4);
        assert!(results[3].is_err());
    }

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
