//! The read half: everything query, show and export need.

use super::model::{CommitMatch, LabelFilter, RowFilter, ValueMatch};
use super::{Result, Store, StoreError};
use crate::provenance::Provenance;
use rusqlite::types::Value;
use std::collections::BTreeMap;

/// One image as seen through one current tag (the JSON contract of `query`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImageRow {
    pub registry: String,
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub index_digest: Option<String>,
    pub platform: Option<String>,
    pub media_type: String,
    pub created: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Derived once, when the manifest was written (src/provenance).
    pub provenance: Provenance,
    /// What refers to the image or to its index (and to those, nested).
    pub referrers: Vec<super::ReferrerEntry>,
    #[serde(skip)]
    pub manifest_id: i64,
    #[serde(skip)]
    pub tag_since: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunRow {
    pub id: i64,
    pub registry: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub full: bool,
    pub repositories: i64,
    pub tags: i64,
    pub manifests_new: i64,
    pub manifests_known: i64,
    pub failures: i64,
    pub requests: serde_json::Value,
    pub message: Option<String>,
    pub errors: Vec<RunError>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunError {
    pub repository: Option<String>,
    pub reference: Option<String>,
    pub message: String,
}

/// `os/arch[/variant]`, or None when the manifest has no platform.
pub(crate) fn platform_string(
    os: Option<String>,
    arch: Option<String>,
    variant: Option<String>,
) -> Option<String> {
    match known(os, arch) {
        (Some(os), Some(arch)) if !os.is_empty() && !arch.is_empty() => Some(match variant {
            Some(v) if !v.is_empty() => format!("{os}/{arch}/{v}"),
            _ => format!("{os}/{arch}"),
        }),
        _ => None,
    }
}

/// `os`/`architecture` as shown: unknown/unknown (BuildKit attestations,
/// regclient's builder children) is no platform.
fn known(os: Option<String>, arch: Option<String>) -> (Option<String>, Option<String>) {
    match (os.as_deref(), arch.as_deref()) {
        (Some("unknown"), Some("unknown")) => (None, None),
        _ => (os, arch),
    }
}

/// `--annotation KEY[=VALUE]` as SQL over manifest annotations (alias `a`),
/// with `--label`'s key rules: KEY exactly or as the last dot-separated segments.
fn annotation_match(sql: &mut String, args: &mut Vec<Value>, f: &LabelFilter) {
    args.push(f.key.clone().into());
    let k = args.len();
    sql.push_str(&format!(
        "(a.key = ?{k} OR (length(a.key) > length(?{k}) AND substr(a.key, -length(?{k}) - 1) = '.' || ?{k}))"
    ));
    match &f.value {
        None => {}
        Some(ValueMatch::Exact(v)) => bind(sql, args, " AND a.value = ?", v.clone().into()),
        Some(ValueMatch::Prefix(p)) => {
            args.push(p.clone().into());
            let n = args.len();
            sql.push_str(&format!(" AND substr(a.value, 1, length(?{n})) = ?{n}"));
        }
    }
}

/// Append `clause` with its `?` numbered as the next bound argument.
fn bind(sql: &mut String, args: &mut Vec<Value>, clause: &str, v: Value) {
    args.push(v);
    sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
}

/// `AND column IN (names)` for plain names when every pattern is one;
/// otherwise the compiled globs for the caller to match (any may match).
fn any_of(
    sql: &mut String,
    args: &mut Vec<Value>,
    column: &str,
    pats: &[String],
) -> std::result::Result<Option<globset::GlobSet>, globset::Error> {
    if pats.is_empty() {
        return Ok(None);
    }
    if pats.iter().all(|p| super::glob::is_literal(p)) {
        sql.push_str(&format!(" AND {column} IN ("));
        for (i, p) in pats.iter().enumerate() {
            args.push(p.clone().into());
            let sep = if i == 0 { "" } else { ", " };
            sql.push_str(&format!("{sep}?{}", args.len()));
        }
        sql.push(')');
        return Ok(None);
    }
    super::glob::compile(pats).map(Some)
}

impl Store {
    /// Manifest and config digests that start with `prefix` (`sha256:` and
    /// at least a few hex digits), at most `limit`, sorted. The unique
    /// indexes on both columns serve the range.
    pub fn digests_with_prefix(&self, prefix: &str, limit: i64) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT digest FROM manifests WHERE digest >= ?1 AND digest < ?2
             UNION
             SELECT config_digest FROM manifests WHERE config_digest >= ?1 AND config_digest < ?2
             ORDER BY 1 LIMIT ?3",
        )?;
        let upper = format!("{prefix}\u{10FFFF}");
        let rows = stmt.query_map(rusqlite::params![prefix, upper, limit], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Label key ids matching KEY exactly or as its last dot-separated segments.
    fn matching_key_ids(&self, key: &str) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM label_keys WHERE key = ?1 OR (length(key) > length(?1)
                 AND substr(key, -length(?1) - 1) = '.' || ?1)",
        )?;
        let ids = stmt.query_map([key], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    /// Rows matching the filter, ordered by registry, repository, tag, platform.
    pub fn image_rows(&self, filter: &RowFilter) -> Result<Vec<ImageRow>> {
        let mut out = Vec::new();
        self.for_each_image_row(filter, |row| {
            out.push(row);
            Ok::<(), StoreError>(())
        })?;
        Ok(out)
    }

    /// The rows of [`Store::image_rows`], handed to `f` one at a time as
    /// they are read, so a whole-registry export needs no more memory than
    /// one row.
    pub fn for_each_image_row<E: From<StoreError>>(
        &self,
        filter: &RowFilter,
        mut f: impl FnMut(ImageRow) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let db = |e: rusqlite::Error| E::from(StoreError::from(e));
        let mut sql = String::from(
            "SELECT registry, repository, tag, digest, index_digest, os, architecture, variant,
                    media_type, created, manifest_id, tag_since
             FROM image_rows WHERE 1 = 1",
        );
        let mut args: Vec<Value> = Vec::new();
        for label in &filter.labels {
            let ids = self.matching_key_ids(&label.key)?;
            if ids.is_empty() {
                return Ok(());
            }
            let id_list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            sql.push_str(&format!(
                " AND manifest_id IN (SELECT manifest_id FROM labels WHERE key_id IN ({id_list})"
            ));
            match &label.value {
                None => {}
                Some(ValueMatch::Exact(v)) => {
                    bind(&mut sql, &mut args, " AND value = ?", v.clone().into())
                }
                Some(ValueMatch::Prefix(p)) => {
                    // A range the (key_id, value) index can serve, then an exact check.
                    args.push(p.clone().into());
                    let n = args.len();
                    args.push(format!("{p}\u{10FFFF}").into());
                    sql.push_str(&format!(
                        " AND value >= ?{n} AND value < ?{} AND substr(value, 1, length(?{n})) = ?{n}",
                        n + 1
                    ));
                }
            }
            sql.push(')');
        }
        // Repeated --repo / --tag: any may match. Plain names go to SQLite
        // (served by its indexes); globs are matched below, in Rust, in the
        // dialect `index --repo` uses.
        let glob_err = |e: globset::Error| E::from(StoreError::Filter(e.to_string()));
        let repo_globs =
            any_of(&mut sql, &mut args, "repository", &filter.repos).map_err(glob_err)?;
        let tag_globs = any_of(&mut sql, &mut args, "tag", &filter.tags).map_err(glob_err)?;
        if let Some(r) = &filter.registry {
            bind(&mut sql, &mut args, " AND registry = ?", r.clone().into());
        }
        match &filter.commit {
            None => {}
            Some(CommitMatch::Exact(c)) => {
                bind(&mut sql, &mut args, " AND commit_sha = ?", c.clone().into())
            }
            Some(CommitMatch::Prefix(p)) => {
                // A range the provenance_commit index can serve, then an exact check.
                args.push(p.clone().into());
                let n = args.len();
                args.push(format!("{p}\u{10FFFF}").into());
                sql.push_str(&format!(
                    " AND commit_sha >= ?{n} AND commit_sha < ?{} AND substr(commit_sha, 1, length(?{n})) = ?{n}",
                    n + 1
                ));
            }
        }
        if filter.has_base {
            sql.push_str(
                " AND manifest_id IN (SELECT manifest_id FROM provenance
                   WHERE base_name IS NOT NULL OR base_digest IS NOT NULL)",
            );
        }
        if let Some(b) = &filter.branch {
            bind(&mut sql, &mut args, " AND branch = ?", b.clone().into());
        }
        if let Some(src) = &filter.source {
            bind(&mut sql, &mut args, " AND source = ?", src.clone().into());
        }
        for f in &filter.annotations {
            // On the manifest, on its index, or on the descriptor naming it.
            sql.push_str(" AND (manifest_id IN (SELECT a.manifest_id FROM annotations a WHERE ");
            annotation_match(&mut sql, &mut args, f);
            sql.push_str(") OR index_digest IN (SELECT m.digest FROM annotations a JOIN manifests m ON m.id = a.manifest_id WHERE ");
            annotation_match(&mut sql, &mut args, f);
            sql.push_str(") OR digest IN (SELECT c.child_digest FROM descriptor_annotations a JOIN index_children c ON c.index_id = a.index_id AND c.position = a.position WHERE ");
            annotation_match(&mut sql, &mut args, f);
            sql.push_str("))");
        }
        if let Some(d) = &filter.digest {
            // A manifest, the index a tag points at, or an image config.
            args.push(d.clone().into());
            let n = args.len();
            sql.push_str(&format!(
                " AND (digest = ?{n} OR index_digest = ?{n}
                   OR manifest_id IN (SELECT id FROM manifests WHERE config_digest = ?{n}))"
            ));
        }
        // Instants, not text: `...:05.5Z` is after `...:05Z`, and offsets count.
        const WHEN: &str = "unixepoch(coalesce(created, tag_since), 'subsec')";
        if let Some(s) = &filter.since {
            bind(
                &mut sql,
                &mut args,
                &format!(" AND {WHEN} >= unixepoch(?, 'subsec')"),
                s.clone().into(),
            );
        }
        if let Some(u) = &filter.until {
            bind(
                &mut sql,
                &mut args,
                &format!(" AND {WHEN} <= unixepoch(?, 'subsec')"),
                u.clone().into(),
            );
        }
        super::referrers_read::filter_sql(filter, &mut sql, &mut args);
        sql.push_str(" ORDER BY registry, repository, tag, os, architecture, variant, digest");

        let mut stmt = self.conn.prepare(&sql).map_err(db)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args)).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            let read = || -> rusqlite::Result<ImageRow> {
                Ok(ImageRow {
                    registry: r.get(0)?,
                    repository: r.get(1)?,
                    tag: r.get(2)?,
                    digest: r.get(3)?,
                    index_digest: r.get(4)?,
                    platform: platform_string(r.get(5)?, r.get(6)?, r.get(7)?),
                    media_type: r.get(8)?,
                    created: r.get(9)?,
                    labels: BTreeMap::new(),
                    annotations: BTreeMap::new(),
                    provenance: Provenance::default(),
                    referrers: Vec::new(),
                    manifest_id: r.get(10)?,
                    tag_since: r.get(11)?,
                })
            };
            let mut row = read().map_err(db)?;
            if !repo_globs
                .as_ref()
                .is_none_or(|g| g.is_match(&row.repository))
                || !tag_globs.as_ref().is_none_or(|g| g.is_match(&row.tag))
            {
                continue;
            }
            row.labels = self.labels_of(row.manifest_id)?;
            row.annotations = self.annotations_of(row.manifest_id)?;
            row.provenance = super::derive::stored(&self.conn, row.manifest_id)?;
            row.referrers = self.row_referrers(&row)?;
            f(row)?;
        }
        Ok(())
    }

    /// Distinct stored commits starting with `prefix`, at most `limit`
    /// (for `--commit` with a short SHA: it must name one commit).
    pub fn commits_with_prefix(&self, prefix: &str, limit: i64) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT commit_sha FROM provenance
             WHERE commit_sha >= ?1 AND commit_sha < ?1 || char(1114111)
               AND substr(commit_sha, 1, length(?1)) = ?1
             ORDER BY commit_sha LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![prefix, limit], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn labels_of(&self, manifest_id: i64) -> Result<BTreeMap<String, String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT k.key, l.value FROM labels l JOIN label_keys k ON k.id = l.key_id
             WHERE l.manifest_id = ?1",
        )?;
        let rows = stmt.query_map([manifest_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn annotations_of(&self, manifest_id: i64) -> Result<BTreeMap<String, String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM annotations WHERE manifest_id = ?1")?;
        let rows = stmt.query_map([manifest_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Past runs, newest first, with their recorded errors.
    pub fn runs(&self, limit: i64) -> Result<Vec<RunRow>> {
        self.runs_where("1 = 1 ORDER BY id DESC LIMIT ?1", limit)
    }

    /// One run with its recorded errors.
    pub fn run(&self, id: i64) -> Result<Option<RunRow>> {
        Ok(self.runs_where("id = ?1", id)?.pop())
    }

    fn runs_where(&self, clause: &str, arg: i64) -> Result<Vec<RunRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT id, registry, started_at, finished_at, status, full, repositories, tags,
                    manifests_new, manifests_known, failures, requests, message
             FROM runs WHERE {clause}"
        ))?;
        let rows = stmt.query_map([arg], |r| {
            let requests: String = r.get(11)?;
            Ok(RunRow {
                id: r.get(0)?,
                registry: r.get(1)?,
                started_at: r.get(2)?,
                finished_at: r.get(3)?,
                status: r.get(4)?,
                full: r.get(5)?,
                repositories: r.get(6)?,
                tags: r.get(7)?,
                manifests_new: r.get(8)?,
                manifests_known: r.get(9)?,
                failures: r.get(10)?,
                requests: serde_json::from_str(&requests).unwrap_or(serde_json::Value::Null),
                message: r.get(12)?,
                errors: Vec::new(),
            })
        })?;
        let mut out: Vec<RunRow> = rows.collect::<rusqlite::Result<_>>()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT repository, reference, message FROM run_errors WHERE run_id = ?1",
        )?;
        for run in &mut out {
            let errs = stmt.query_map([run.id], |r| {
                Ok(RunError {
                    repository: r.get(0)?,
                    reference: r.get(1)?,
                    message: r.get(2)?,
                })
            })?;
            run.errors = errs.collect::<rusqlite::Result<_>>()?;
        }
        Ok(out)
    }
}
