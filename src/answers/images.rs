//! `query` and `export`: images as seen through their tags, and the
//! provenance columns of the CSV report.

use crate::provenance::Provenance;
use crate::store::{ImageRow, RowFilter, Store, StoreError};
use std::collections::BTreeMap;

/// The JSON array `query --format json` prints and `GET /api/v1/images` returns.
pub fn rows(store: &Store, filter: &RowFilter) -> Result<Vec<ImageRow>, StoreError> {
    store.image_rows(filter)
}

/// `GET /api/v1/images` and the search page: the filter, plus a commit
/// (a full SHA, or a prefix: shorter than 40 or ending in `*`) and a
/// branch, each matched in any of the label keys that carry it.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub filter: RowFilter,
    pub commit: Option<String>,
    pub branch: Option<String>,
}

/// The rows of `search`: the commit and branch go through the same
/// stored-provenance filters as `query --commit` / `--branch`.
pub fn search(store: &Store, s: &Search) -> anyhow::Result<Vec<ImageRow>> {
    // A digest prefix becomes the digest it names, as `query --digest` does.
    let mut filter = s.filter.clone();
    super::reference::resolve_filter(store, &mut filter)?;
    if let Some(c) = s.commit.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        filter.commit = Some(crate::config::commit_match(store, c)?);
    }
    if let Some(b) = s.branch.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        filter.branch = Some(b.to_string());
    }
    Ok(store.image_rows(&filter)?)
}

/// The same rows one at a time, so a report of every image stays flat in memory.
pub fn for_each<E: From<StoreError>>(
    store: &Store,
    filter: &RowFilter,
    f: impl FnMut(ImageRow) -> Result<(), E>,
) -> Result<(), E> {
    store.for_each_image_row(filter, f)
}

/// The columns every CSV row starts with.
pub const BASE_COLUMNS: [&str; 7] = [
    "registry",
    "repository",
    "tag",
    "digest",
    "index_digest",
    "platform",
    "created",
];

/// A label column of the wide CSV.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// A label (or annotation) key as the user wrote it: the exact key or
    /// its last dot-separated segments, as `--label` matches.
    Key(String),
    /// `org.opencontainers.image.revision` or `*.sourceversion`.
    Commit,
    /// `*.sourcebranchname`, or `*.sourcebranch` without `refs/heads/`.
    Branch,
    /// `*.buildnumber`, else `*.builduri`.
    Build,
    /// `org.opencontainers.image.source` or `*.repository.uri`.
    Source,
    /// A signature refers to the image or its index (true/false).
    Signed,
    /// An SBOM refers to the image or its index (true/false).
    Sbom,
}

/// The wide CSV's columns when `--columns` is not given.
pub const DEFAULT_COLUMNS: [Column; 6] = [
    Column::Commit,
    Column::Branch,
    Column::Build,
    Column::Source,
    Column::Signed,
    Column::Sbom,
];

impl Column {
    /// A `--columns` name: the referrer columns of the default set by
    /// name, anything else a label key.
    pub fn named(name: &str) -> Column {
        match name {
            "signed" => Column::Signed,
            "sbom" => Column::Sbom,
            k => Column::Key(k.to_string()),
        }
    }

    pub fn header(&self) -> &str {
        match self {
            Column::Key(k) => k,
            Column::Commit => "commit",
            Column::Branch => "branch",
            Column::Build => "build",
            Column::Source => "source",
            Column::Signed => "signed",
            Column::Sbom => "sbom",
        }
    }

    /// This column's cell for `row` whose provenance is `p` (empty when absent).
    pub fn value(&self, row: &ImageRow, p: &Provenance) -> String {
        let v = match self {
            Column::Key(k) => find_key(&row.labels, k).or_else(|| find_key(&row.annotations, k)),
            Column::Commit => p.commit.as_deref(),
            Column::Branch => p.branch.as_deref(),
            Column::Build => p.build(),
            Column::Source => p.source.as_deref(),
            Column::Signed => return super::referrers::row_signed(row).to_string(),
            Column::Sbom => return super::referrers::row_sbom(row).to_string(),
        };
        v.unwrap_or("").to_string()
    }
}

/// The value of `key` matched exactly, else as the last dot-separated
/// segments of a key (the first such key in key order).
pub fn find_key<'a>(map: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    if let Some(v) = map.get(key) {
        return Some(v);
    }
    let suffix = format!(".{key}");
    map.iter()
        .find(|(k, _)| k.ends_with(&suffix))
        .map(|(_, v)| v.as_str())
}

/// Provenance of one row, as stored when it was indexed (src/provenance).
pub fn provenance(row: &ImageRow) -> &Provenance {
    &row.provenance
}

/// The base columns of one row, in `BASE_COLUMNS` order (empty for null).
pub fn base_cells(r: &ImageRow) -> [&str; 7] {
    [
        &r.registry,
        &r.repository,
        &r.tag,
        &r.digest,
        r.index_digest.as_deref().unwrap_or(""),
        r.platform.as_deref().unwrap_or(""),
        r.created.as_deref().unwrap_or(""),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_exactly_or_by_suffix() {
        let m: BTreeMap<String, String> = [
            ("com.visualstudio.myorg.image.build.sourceversion", "abc"),
            ("version", "1"),
            ("org.opencontainers.image.version", "2"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(find_key(&m, "sourceversion"), Some("abc"));
        assert_eq!(find_key(&m, "build.sourceversion"), Some("abc"));
        assert_eq!(find_key(&m, "version"), Some("1"));
        assert_eq!(find_key(&m, "ourceversion"), None);
    }
}
