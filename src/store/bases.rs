//! Base images: what each image was built on (from its provenance), what
//! that base name points at now, and the HEAD answers `index
//! --resolve-bases` recorded for bases in other registries.

use super::model::RowFilter;
use super::{now, Result, Store, StoreError};
use crate::oci::{ImageRef, RefTarget};
use rusqlite::{params, OptionalExtension};

/// One image (as seen through one tag) that names its base.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BaseRow {
    pub registry: String,
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub base_name: Option<String>,
    /// The base digest the image was built on.
    pub base_digest: Option<String>,
    /// The digest the base name points at now, when known.
    pub current_digest: Option<String>,
    /// `index` (the base's registry is indexed in this database) or
    /// `registry` (a HEAD by `index --resolve-bases`), null when unknown.
    pub current_from: Option<&'static str>,
    /// When `current_digest` was learned.
    pub checked_at: Option<String>,
    /// Built on a digest the name no longer points at; null when unknown.
    pub stale: Option<bool>,
}

/// The answer to one HEAD of a base reference.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseCheck {
    pub reference: String,
    pub digest: Option<String>,
    pub error: Option<String>,
}

impl Store {
    /// Distinct base names that are tag references (what `--resolve-bases` asks).
    pub fn base_references(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT base_name FROM provenance WHERE base_name IS NOT NULL ORDER BY base_name",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Record what a HEAD of each base reference answered, now.
    pub fn record_base_checks(&mut self, run_id: Option<i64>, checks: &[BaseCheck]) -> Result<()> {
        let tx = self.conn.transaction()?;
        let ts = now();
        for c in checks {
            tx.execute(
                "INSERT INTO base_checks (reference, digest, error, checked_at, run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![c.reference, c.digest, c.error, ts, run_id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Where `name` points now: the index when its registry is indexed here,
    /// else the newest successful HEAD recorded for it.
    fn base_now(&self, name: &str) -> Result<Option<(String, &'static str, Option<String>)>> {
        if let Ok(ImageRef {
            registry: Some(host),
            repository: Some(repo),
            target: RefTarget::Tag(tag),
        }) = ImageRef::parse(name)
        {
            let indexed: Option<(String, String)> = self
                .conn
                .prepare_cached(
                    "SELECT digest, last_seen FROM current_tags
                     WHERE registry = ?1 AND repository = ?2 AND tag = ?3",
                )?
                .query_row(params![host, repo, tag], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((d, seen)) = indexed {
                return Ok(Some((d, "index", Some(seen))));
            }
        }
        let checked: Option<(String, String)> = self
            .conn
            .prepare_cached(
                "SELECT digest, checked_at FROM base_checks
                 WHERE reference = ?1 AND digest IS NOT NULL
                 ORDER BY checked_at DESC, id DESC LIMIT 1",
            )?
            .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(checked.map(|(d, at)| (d, "registry", Some(at))))
    }

    /// Whether `built_on` is `now` or a manifest the index `now` lists.
    fn same_base(&self, built_on: &str, now: &str) -> Result<bool> {
        if built_on == now {
            return Ok(true);
        }
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM index_children c JOIN manifests m ON m.id = c.index_id
                 WHERE m.digest = ?1 AND c.child_digest = ?2",
            )?
            .exists(params![now, built_on])?)
    }

    /// Every image row that names a base, with what the base points at now.
    pub fn bases(&self, filter: &RowFilter) -> Result<Vec<BaseRow>> {
        let mut out = Vec::new();
        let filter = RowFilter {
            has_base: true,
            ..filter.clone()
        };
        self.for_each_image_row(&filter, |row| {
            let p = &row.provenance;
            if p.base_name.is_none() && p.base_digest.is_none() {
                return Ok::<(), StoreError>(());
            }
            let found = match &p.base_name {
                Some(n) => self.base_now(n)?,
                None => None,
            };
            let stale = match (&p.base_digest, &found) {
                (Some(b), Some((d, _, _))) => Some(!self.same_base(b, d)?),
                _ => None,
            };
            let (current_digest, current_from, checked_at) = match found {
                Some((d, from, at)) => (Some(d), Some(from), at),
                None => (None, None, None),
            };
            out.push(BaseRow {
                registry: row.registry,
                repository: row.repository,
                tag: row.tag,
                digest: row.digest,
                base_name: p.base_name.clone(),
                base_digest: p.base_digest.clone(),
                current_digest,
                current_from,
                checked_at,
                stale,
            });
            Ok(())
        })?;
        Ok(out)
    }
}
