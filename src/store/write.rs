//! The write half, used only by the indexer's single writer.

use super::model::{Failure, ManifestRecord, Record, RunSummary, TagListing};
use super::{now, Result, Store};
use crate::oci::Digest;
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::{HashMap, HashSet};

impl Store {
    /// Record the start of a run. Runs left `running` by a crashed process
    /// are marked `abandoned` (the caller holds the writer lock).
    pub fn begin_run(&mut self, registry: &str, full: bool) -> Result<i64> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE runs SET status = 'abandoned' WHERE status = 'running'",
            [],
        )?;
        tx.execute(
            "INSERT INTO runs (registry, started_at, status, full) VALUES (?1, ?2, 'running', ?3)",
            params![registry, now(), full],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    pub fn finish_run(&mut self, run_id: i64, s: &RunSummary) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET finished_at = ?2, status = ?3, repositories = ?4, tags = ?5,
                manifests_new = ?6, manifests_known = ?7, failures = ?8, requests = ?9, message = ?10
             WHERE id = ?1",
            params![
                run_id,
                now(),
                s.status.as_str(),
                s.repositories,
                s.tags,
                s.manifests_new,
                s.manifests_known,
                s.failures,
                serde_json::to_string(&s.requests).unwrap_or_else(|_| "{}".into()),
                s.message
            ],
        )?;
        Ok(())
    }

    /// Digests already indexed: the indexer never fetches these again,
    /// except those marked to be fetched again (`refetch` 1: once, after
    /// migration 0003; 2: by a run that reads attestations).
    pub fn known_digests(&self, attestations: bool) -> Result<HashSet<Digest>> {
        let mut stmt = self.conn.prepare(
            "SELECT digest FROM manifests WHERE refetch = 0 OR (refetch = 2 AND NOT ?1)",
        )?;
        let rows = stmt.query_map([attestations], |r| r.get::<_, String>(0))?;
        let mut set = HashSet::new();
        for d in rows {
            if let Ok(d) = d?.parse() {
                set.insert(d);
            }
        }
        Ok(set)
    }

    /// The current tag -> digest mappings of a registry, keyed by (repository, tag).
    pub fn current_tags(&self, registry: &str) -> Result<HashMap<(String, String), Digest>> {
        let mut stmt = self
            .conn
            .prepare("SELECT repository, tag, digest FROM current_tags WHERE registry = ?1")?;
        let rows = stmt.query_map([registry], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut map = HashMap::new();
        for row in rows {
            let (repo, tag, digest) = row?;
            if let Ok(d) = digest.parse() {
                map.insert((repo, tag), d);
            }
        }
        Ok(map)
    }

    /// ACR lastUpdateTime per repository as of the last complete listing.
    pub fn repository_update_times(&self, registry: &str) -> Result<HashMap<String, String>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.name, r.last_update_time FROM repositories r JOIN registries g ON g.id = r.registry_id
             WHERE g.host = ?1 AND r.last_update_time IS NOT NULL",
        )?;
        let rows = stmt.query_map([registry], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Write a batch of records in one transaction.
    pub fn write_batch(&mut self, registry: &str, run_id: i64, records: &[Record]) -> Result<()> {
        let tx = self.conn.transaction()?;
        let registry_id = registry_id(&tx, registry)?;
        let ts = now();
        for record in records {
            match record {
                Record::Manifest(m) => write_manifest(&tx, run_id, m, &ts)?,
                Record::Tags(t) => write_tags(&tx, registry_id, t, &ts)?,
                Record::Failure(f) => write_failure(&tx, run_id, f)?,
                Record::Referrers(r) => {
                    super::referrers_write::write_links(&tx, registry_id, r, &ts)?
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}

fn registry_id(tx: &Transaction, host: &str) -> Result<i64> {
    tx.execute(
        "INSERT INTO registries (host) VALUES (?1) ON CONFLICT (host) DO NOTHING",
        [host],
    )?;
    Ok(
        tx.query_row("SELECT id FROM registries WHERE host = ?1", [host], |r| {
            r.get(0)
        })?,
    )
}

fn write_manifest(tx: &Transaction, run_id: i64, m: &ManifestRecord, ts: &str) -> Result<()> {
    let p = m.platform.as_ref();
    let id: i64 = tx
        .prepare_cached(
            "INSERT INTO manifests (digest, media_type, kind, status, artifact_type, config_digest,
                config_media_type, created, os, architecture, variant, os_version, size, indexed_at, run_id,
                refetch)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT (digest) DO UPDATE SET media_type = excluded.media_type, kind = excluded.kind,
                status = excluded.status, artifact_type = excluded.artifact_type,
                config_digest = excluded.config_digest, config_media_type = excluded.config_media_type,
                created = excluded.created, os = excluded.os, architecture = excluded.architecture,
                variant = excluded.variant, os_version = excluded.os_version, size = excluded.size,
                indexed_at = excluded.indexed_at, run_id = excluded.run_id,
                refetch = excluded.refetch
             RETURNING id",
        )?
        .query_row(
            params![
                m.digest.as_str(),
                m.media_type,
                m.kind,
                m.status,
                m.artifact_type,
                m.config_digest.as_ref().map(|d| d.as_str()),
                m.config_media_type,
                m.created,
                p.map(|p| p.os.as_str()),
                p.map(|p| p.architecture.as_str()),
                p.and_then(|p| p.variant.as_deref()),
                p.and_then(|p| p.os_version.as_deref()),
                m.size,
                ts,
                run_id,
                if m.refetch { 2 } else { 0 }
            ],
            |r| r.get(0),
        )?;
    // A re-check (--full) replaces what the manifest said before.
    for table in [
        "labels",
        "annotations",
        "index_children",
        "descriptor_annotations",
        "attestations",
    ] {
        let column = if table.contains("children") || table.starts_with("descriptor") {
            "index_id"
        } else {
            "manifest_id"
        };
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE {column} = ?1"))?
            .execute([id])?;
    }
    for (key, value) in &m.labels {
        let key_id = label_key_id(tx, key)?;
        tx.prepare_cached("INSERT INTO labels (manifest_id, key_id, value) VALUES (?1, ?2, ?3)")?
            .execute(params![id, key_id, value])?;
    }
    for (key, value) in &m.annotations {
        tx.prepare_cached("INSERT INTO annotations (manifest_id, key, value) VALUES (?1, ?2, ?3)")?
            .execute(params![id, key, value])?;
    }
    for (position, c) in m.children.iter().enumerate() {
        let p = c.platform.as_ref();
        tx.prepare_cached(
            "INSERT INTO index_children (index_id, position, child_digest, media_type, os,
                architecture, variant, os_version, is_attestation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            id,
            position as i64,
            c.digest.as_str(),
            c.media_type,
            p.map(|p| p.os.as_str()).filter(|s| !s.is_empty()),
            p.map(|p| p.architecture.as_str()).filter(|s| !s.is_empty()),
            p.and_then(|p| p.variant.as_deref()),
            p.and_then(|p| p.os_version.as_deref()),
            c.is_attestation
        ])?;
        for (key, value) in &c.annotations {
            tx.prepare_cached(
                "INSERT INTO descriptor_annotations (index_id, position, key, value)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, position as i64, key, value])?;
        }
    }
    for a in &m.attestations {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO attestations (manifest_id, layer_digest, predicate_type, statement)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            id,
            a.layer_digest.as_str(),
            a.predicate_type,
            a.statement
        ])?;
    }
    // An index is reached before its children: one whose child is to be
    // fetched again (attestation layers skipped) is fetched again too.
    tx.prepare_cached(
        "UPDATE manifests SET refetch = (
             SELECT max(cm.refetch) FROM index_children c JOIN manifests cm ON cm.digest = c.child_digest
             WHERE c.index_id = ?1)
         WHERE id = ?1 AND refetch = 0 AND EXISTS (
             SELECT 1 FROM index_children c JOIN manifests cm ON cm.digest = c.child_digest
             WHERE c.index_id = ?1 AND cm.refetch > 0)",
    )?
    .execute([id])?;
    // The provenance of this manifest, and of the children an index names
    // (their descriptor, index and attestations are known only now).
    super::derive::refresh(tx, id)?;
    for c in m.children.iter().filter(|c| !c.is_attestation) {
        let child: Option<i64> = tx
            .prepare_cached("SELECT id FROM manifests WHERE digest = ?1")?
            .query_row([c.digest.as_str()], |r| r.get(0))
            .optional()?;
        if let Some(child) = child {
            super::derive::refresh(tx, child)?;
        }
    }
    Ok(())
}

fn label_key_id(tx: &Transaction, key: &str) -> Result<i64> {
    let found = tx
        .prepare_cached("SELECT id FROM label_keys WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    tx.prepare_cached("INSERT INTO label_keys (key) VALUES (?1)")?
        .execute([key])?;
    Ok(tx.last_insert_rowid())
}

fn write_tags(tx: &Transaction, registry_id: i64, t: &TagListing, ts: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO repositories (registry_id, name) VALUES (?1, ?2)
         ON CONFLICT (registry_id, name) DO NOTHING",
    )?
    .execute(params![registry_id, t.repository])?;
    let repo_id: i64 = tx
        .prepare_cached("SELECT id FROM repositories WHERE registry_id = ?1 AND name = ?2")?
        .query_row(params![registry_id, t.repository], |r| r.get(0))?;
    let mut stored: HashMap<String, (i64, String)> = HashMap::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT id, name, digest FROM tags WHERE repository_id = ?1 AND removed_at IS NULL",
        )?;
        let rows = stmt.query_map([repo_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        for row in rows {
            let (id, name, digest): (i64, String, String) = row?;
            stored.insert(name, (id, digest));
        }
    }
    for (tag, digest) in &t.tags {
        let current = stored.remove(tag);
        let Some(digest) = digest else { continue };
        match current {
            Some((id, old)) if old == digest.as_str() => {
                tx.prepare_cached("UPDATE tags SET last_seen = ?2 WHERE id = ?1")?
                    .execute(params![id, ts])?;
            }
            moved => {
                if let Some((id, _)) = moved {
                    close_tag(tx, id, ts)?;
                }
                tx.prepare_cached(
                    "INSERT INTO tags (repository_id, name, digest, first_seen, last_seen)
                     VALUES (?1, ?2, ?3, ?4, ?4)",
                )?
                .execute(params![repo_id, tag, digest.as_str(), ts])?;
            }
        }
    }
    if t.complete {
        for (id, _) in stored.values() {
            close_tag(tx, *id, ts)?;
        }
        tx.prepare_cached("UPDATE repositories SET last_update_time = ?2 WHERE id = ?1")?
            .execute(params![repo_id, t.last_update_time])?;
    }
    Ok(())
}

fn close_tag(tx: &Transaction, id: i64, ts: &str) -> Result<()> {
    tx.prepare_cached("UPDATE tags SET removed_at = ?2 WHERE id = ?1")?
        .execute(params![id, ts])?;
    Ok(())
}

fn write_failure(tx: &Transaction, run_id: i64, f: &Failure) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO run_errors (run_id, repository, reference, message) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![run_id, f.repository, f.reference, f.message])?;
    Ok(())
}
