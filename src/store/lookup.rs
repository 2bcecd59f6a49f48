//! The read side of `show` and `running`: resolve a reference or digest to
//! manifests and gather everything known about them. Every query here is
//! served by an index (digest UNIQUE, manifests_config_digest, tags_digest,
//! index_children_child, tags_repo_name, repositories_name).

use super::read::platform_string;
use super::{Result, Store};
use crate::provenance::Provenance;
use rusqlite::{params, Row};
use std::collections::BTreeMap;

/// How a reference was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolvedBy {
    Digest,
    ConfigDigest,
    Tag,
}

/// One manifest with everything the index holds about it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImageDetail {
    pub digest: String,
    /// image | index | artifact | schema1
    pub kind: String,
    pub media_type: String,
    pub status: String,
    pub artifact_type: Option<String>,
    pub config_digest: Option<String>,
    pub config_media_type: Option<String>,
    pub platform: Option<String>,
    pub os_version: Option<String>,
    pub created: Option<String>,
    pub size: i64,
    pub indexed_at: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Every tag that points or pointed at it, or at an index holding it.
    pub tags: Vec<TagEntry>,
    /// The indexes that list it.
    pub indexes: Vec<ParentEntry>,
    /// For an index: what it lists.
    pub children: Vec<ChildEntry>,
    /// Derived once, when the manifest was written (src/provenance); the
    /// same object `query` and `export` print for it.
    pub provenance: Provenance,
    #[serde(skip)]
    pub id: i64,
    /// os, architecture, variant of the manifest's own config.
    #[serde(skip)]
    raw_platform: [Option<String>; 3],
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TagEntry {
    pub registry: String,
    pub repository: String,
    pub tag: String,
    /// The digest the tag points at (an index when `via_index`).
    pub digest: String,
    pub via_index: bool,
    pub current: bool,
    pub first_seen: String,
    pub last_seen: String,
    pub removed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ParentEntry {
    pub digest: String,
    /// The platform the index gives for this child.
    pub platform: Option<String>,
    pub attestation: bool,
    #[serde(skip)]
    pub annotations: BTreeMap<String, String>,
    /// os, architecture, variant as the index gives them.
    #[serde(skip)]
    raw_platform: [Option<String>; 3],
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChildEntry {
    pub digest: String,
    pub media_type: String,
    pub platform: Option<String>,
    pub attestation: bool,
    /// The child manifest itself is in the database.
    pub indexed: bool,
}

const MANIFEST_COLUMNS: &str = "id, digest, kind, media_type, status, artifact_type, config_digest,
    config_media_type, os, architecture, variant, os_version, created, size, indexed_at";

fn manifest_row(r: &Row) -> rusqlite::Result<ImageDetail> {
    Ok(ImageDetail {
        id: r.get(0)?,
        digest: r.get(1)?,
        kind: r.get(2)?,
        media_type: r.get(3)?,
        status: r.get(4)?,
        artifact_type: r.get(5)?,
        config_digest: r.get(6)?,
        config_media_type: r.get(7)?,
        platform: platform_string(r.get(8)?, r.get(9)?, r.get(10)?),
        raw_platform: [r.get(8)?, r.get(9)?, r.get(10)?],
        os_version: r.get(11)?,
        created: r.get(12)?,
        size: r.get(13)?,
        indexed_at: r.get(14)?,
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        tags: Vec::new(),
        indexes: Vec::new(),
        children: Vec::new(),
        provenance: Provenance::default(),
    })
}

impl Store {
    /// The manifest with this digest, or the manifests whose config has it.
    pub fn resolve_digest(&self, digest: &str) -> Result<Option<(ResolvedBy, Vec<ImageDetail>)>> {
        let by_digest = self.manifests_where("digest = ?1", digest)?;
        if !by_digest.is_empty() {
            return Ok(Some((ResolvedBy::Digest, self.expand(by_digest)?)));
        }
        let by_config = self.manifests_where("config_digest = ?1", digest)?;
        if !by_config.is_empty() {
            return Ok(Some((ResolvedBy::ConfigDigest, self.expand(by_config)?)));
        }
        Ok(None)
    }

    /// The digests `[registry/]repository:tag` points at now, or, when the
    /// tag is gone, pointed at last (one per registry holding that name).
    pub fn resolve_tag(
        &self,
        registry: Option<&str>,
        repository: &str,
        tag: &str,
    ) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT g.host, t.digest, t.removed_at IS NULL
             FROM repositories r
             JOIN registries g ON g.id = r.registry_id
             JOIN tags t ON t.repository_id = r.id AND t.name = ?2
             WHERE r.name = ?1
             ORDER BY g.host, t.removed_at IS NULL DESC, t.last_seen DESC, t.id DESC",
        )?;
        let rows = stmt.query_map(params![repository, tag], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut seen_hosts: Vec<String> = Vec::new();
        let mut digests = Vec::new();
        for row in rows {
            let (host, digest) = row?;
            if registry.is_some_and(|want| want != host) || seen_hosts.contains(&host) {
                continue;
            }
            seen_hosts.push(host);
            if !digests.contains(&digest) {
                digests.push(digest);
            }
        }
        Ok(digests)
    }

    /// Every digest `[registry/]repository:tag` has pointed at, oldest first.
    pub fn tag_history(
        &self,
        registry: Option<&str>,
        repository: &str,
        tag: &str,
    ) -> Result<Vec<TagEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT g.host, r.name, t.name, t.digest, t.first_seen, t.last_seen, t.removed_at
             FROM repositories r
             JOIN registries g ON g.id = r.registry_id
             JOIN tags t ON t.repository_id = r.id AND t.name = ?2
             WHERE r.name = ?1
             ORDER BY g.host, t.first_seen, t.id",
        )?;
        let rows = stmt.query_map(params![repository, tag], tag_entry)?;
        let all: Vec<TagEntry> = rows.collect::<rusqlite::Result<_>>()?;
        Ok(all
            .into_iter()
            .filter(|t| registry.is_none_or(|want| want == t.registry))
            .collect())
    }

    /// Whether a manifest with this digest is indexed.
    pub fn has_manifest(&self, digest: &str) -> Result<bool> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM manifests WHERE digest = ?1")?;
        Ok(stmt.exists([digest])?)
    }

    /// Tags that point or pointed straight at `digest`, current ones first.
    pub fn tags_of(&self, digest: &str) -> Result<Vec<TagEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT g.host, r.name, t.name, t.digest, t.first_seen, t.last_seen, t.removed_at
             FROM tags t
             JOIN repositories r ON r.id = t.repository_id
             JOIN registries g ON g.id = r.registry_id
             WHERE t.digest = ?1
             ORDER BY t.removed_at IS NOT NULL, g.host, r.name, t.name, t.first_seen",
        )?;
        let rows = stmt.query_map([digest], tag_entry)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn manifests_where(&self, condition: &str, value: &str) -> Result<Vec<ImageDetail>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MANIFEST_COLUMNS} FROM manifests WHERE {condition} ORDER BY digest"
        ))?;
        let rows = stmt.query_map([value], manifest_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn parents_of(&self, digest: &str) -> Result<Vec<ParentEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT im.id, im.digest, c.os, c.architecture, c.variant, c.is_attestation
             FROM index_children c JOIN manifests im ON im.id = c.index_id
             WHERE c.child_digest = ?1 ORDER BY im.digest",
        )?;
        let rows = stmt.query_map([digest], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                ParentEntry {
                    digest: r.get(1)?,
                    platform: platform_string(r.get(2)?, r.get(3)?, r.get(4)?),
                    attestation: r.get(5)?,
                    annotations: BTreeMap::new(),
                    raw_platform: [r.get(2)?, r.get(3)?, r.get(4)?],
                },
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, mut parent) = row?;
            parent.annotations = self.annotations_of(id)?;
            out.push(parent);
        }
        Ok(out)
    }

    fn children_of(&self, index_id: i64) -> Result<Vec<ChildEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.child_digest, c.media_type, c.os, c.architecture, c.variant,
                    c.is_attestation, EXISTS (SELECT 1 FROM manifests m WHERE m.digest = c.child_digest)
             FROM index_children c WHERE c.index_id = ?1 ORDER BY c.position",
        )?;
        let rows = stmt.query_map([index_id], |r| {
            Ok(ChildEntry {
                digest: r.get(0)?,
                media_type: r.get(1)?,
                platform: platform_string(r.get(2)?, r.get(3)?, r.get(4)?),
                attestation: r.get(5)?,
                indexed: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Fill in labels, annotations, tags (direct and through the indexes
    /// that hold it, two levels up), parents and children. An index is
    /// followed by its indexed children, so each platform shows in full.
    fn expand(&self, found: Vec<ImageDetail>) -> Result<Vec<ImageDetail>> {
        let mut out: Vec<ImageDetail> = Vec::new();
        for mut m in found {
            self.fill(&mut m)?;
            let children: Vec<String> = m
                .children
                .iter()
                .filter(|c| c.indexed)
                .map(|c| c.digest.clone())
                .collect();
            out.push(m);
            for child in children {
                if out.iter().any(|d| d.digest == child) {
                    continue;
                }
                for mut c in self.manifests_where("digest = ?1", &child)? {
                    self.fill(&mut c)?;
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    fn fill(&self, m: &mut ImageDetail) -> Result<()> {
        m.labels = self.labels_of(m.id)?;
        m.annotations = self.annotations_of(m.id)?;
        m.tags = self.tags_of(&m.digest)?;
        m.indexes = self.parents_of(&m.digest)?;
        let mut via: Vec<String> = m.indexes.iter().map(|p| p.digest.clone()).collect();
        for p in &m.indexes {
            via.extend(self.parents_of(&p.digest)?.into_iter().map(|g| g.digest));
        }
        via.dedup();
        for index in via {
            for mut t in self.tags_of(&index)? {
                t.via_index = true;
                m.tags.push(t);
            }
        }
        m.tags.sort_by(|a, b| {
            (
                !a.current,
                &a.registry,
                &a.repository,
                &a.tag,
                &a.first_seen,
            )
                .cmp(&(
                    !b.current,
                    &b.registry,
                    &b.repository,
                    &b.tag,
                    &b.first_seen,
                ))
        });
        if m.kind == "index" {
            m.children = self.children_of(m.id)?;
        }
        // As `query` shows a child: the index's platform, field by field
        // over the config's (the same coalesce as the image_rows view).
        if let Some(p) = m.indexes.iter().find(|p| !p.attestation) {
            let [os, arch, variant] = std::array::from_fn(|i| {
                p.raw_platform[i]
                    .clone()
                    .or_else(|| m.raw_platform[i].clone())
            });
            m.platform = platform_string(os, arch, variant);
        }
        m.provenance = super::derive::stored(&self.conn, m.id)?;
        Ok(())
    }
}

/// A tag row: host, repository, tag, digest, first_seen, last_seen, removed_at.
fn tag_entry(r: &rusqlite::Row) -> rusqlite::Result<TagEntry> {
    let removed_at: Option<String> = r.get(6)?;
    Ok(TagEntry {
        registry: r.get(0)?,
        repository: r.get(1)?,
        tag: r.get(2)?,
        digest: r.get(3)?,
        via_index: false,
        current: removed_at.is_none(),
        first_seen: r.get(4)?,
        last_seen: r.get(5)?,
        removed_at,
    })
}
