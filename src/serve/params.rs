//! Query parameters of `GET /api/v1/images` and the search page, mapped
//! onto the flags of `query` (repeated parameters as repeated flags) so
//! both go through the same validation.

use crate::answers::images::Search;
use crate::cli::FilterArgs;
use crate::config::UsageError;

/// How many parameters a request may carry, and how long each may be.
const MAX_PARAMS: usize = 64;
const MAX_VALUE: usize = 1024;

/// The image search and the response format it asked for.
#[derive(Debug, Default)]
pub struct ImagesQuery {
    pub search: Search,
    pub csv: bool,
    pub raw: bool,
}

impl ImagesQuery {
    /// Whether anything narrows the search (the page lists nothing without).
    pub fn is_empty(&self) -> bool {
        let f = &self.search.filter;
        self.search.commit.is_none()
            && self.search.branch.is_none()
            && f.labels.is_empty()
            && f.repos.is_empty()
            && f.tags.is_empty()
            && f.registry.is_none()
            && f.digest.is_none()
            && f.since.is_none()
            && f.until.is_none()
    }
}

/// The decoded pairs of a query string. Empty values are dropped, as a
/// form submits every field whether filled or not.
pub fn pairs(query: Option<&str>) -> Result<Vec<(String, String)>, UsageError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.trim().to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if pairs.len() > MAX_PARAMS {
        return Err(UsageError(format!("more than {MAX_PARAMS} parameters")));
    }
    if let Some((k, _)) = pairs.iter().find(|(_, v)| v.len() > MAX_VALUE) {
        return Err(UsageError(format!("{k}: longer than {MAX_VALUE} bytes")));
    }
    Ok(pairs)
}

pub fn images_query(pairs: &[(String, String)]) -> anyhow::Result<ImagesQuery> {
    let mut args = FilterArgs::default();
    let mut q = ImagesQuery::default();
    let once = |slot: &mut Option<String>, k: &str, v: &str| {
        if slot.replace(v.to_string()).is_some() {
            return Err(UsageError(format!("{k}: given more than once")));
        }
        Ok(())
    };
    for (k, v) in pairs {
        match k.as_str() {
            "label" => args.labels.push(v.clone()),
            "repo" => args.repos.push(v.clone()),
            "tag" => args.tags.push(v.clone()),
            "registry" => once(&mut args.registry, k, v)?,
            "digest" => once(&mut args.digest, k, v)?,
            "since" => once(&mut args.since, k, v)?,
            "until" => once(&mut args.until, k, v)?,
            "commit" => once(&mut q.search.commit, k, v)?,
            "branch" => once(&mut q.search.branch, k, v)?,
            "format" => match v.as_str() {
                "json" => q.csv = false,
                "csv" => q.csv = true,
                _ => return Err(UsageError(format!("format {v:?}: expected json or csv")).into()),
            },
            "raw" => q.raw = v == "true" || v == "1",
            _ => return Err(UsageError(format!("unknown parameter {k:?}")).into()),
        }
    }
    q.search.filter = crate::config::row_filter(&args)?;
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> anyhow::Result<ImagesQuery> {
        images_query(&pairs(Some(q))?)
    }

    #[test]
    fn repeated_parameters_are_repeated_flags() {
        let q = parse("label=a%3Db&label=c&repo=team%2F*&commit=13c0f2b&tag=&format=csv").unwrap();
        assert_eq!(q.search.filter.labels.len(), 2);
        assert_eq!(q.search.filter.labels[0].key, "a");
        assert_eq!(q.search.filter.repos, ["team/*"]);
        assert!(
            q.search.filter.tags.is_empty(),
            "empty form fields are dropped"
        );
        assert_eq!(q.search.commit.as_deref(), Some("13c0f2b"));
        assert!(q.csv);
        assert!(!q.is_empty());
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn bad_parameters_are_usage_errors() {
        for bad in [
            "nope=1",
            "label==x",
            "since=yesterday",
            "format=xml",
            "commit=a&commit=b",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.downcast_ref::<UsageError>().is_some(), "{bad}: {e}");
        }
    }
}
