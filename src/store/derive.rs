//! Stored provenance: gathers every source the database holds for one
//! manifest, hands them to the one derivation (`crate::provenance::derive`)
//! and keeps the answer in the `provenance` table, which every reader
//! joins. Called by the writer for each manifest it writes (and for the
//! children of each index), and once by the migration that added the table.

use super::Result;
use crate::provenance::{derive, Origin, Provenance, Sources, Statement};
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::BTreeMap;

/// The descriptor annotation BuildKit uses to name an attestation's subject.
const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";

fn pairs(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<BTreeMap<String, String>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(p, |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn labels(conn: &Connection, id: i64) -> Result<BTreeMap<String, String>> {
    pairs(
        conn,
        "SELECT k.key, l.value FROM labels l JOIN label_keys k ON k.id = l.key_id WHERE l.manifest_id = ?1",
        [id],
    )
}

fn annotations(conn: &Connection, id: i64) -> Result<BTreeMap<String, String>> {
    pairs(
        conn,
        "SELECT key, value FROM annotations WHERE manifest_id = ?1",
        [id],
    )
}

/// BuildKit attestations in `index` whose subject is `digest`.
fn attestation_statements(conn: &Connection, index: i64, digest: &str) -> Result<Vec<Statement>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.statement FROM index_children c
         JOIN descriptor_annotations d ON d.index_id = c.index_id AND d.position = c.position
              AND d.key = ?3 AND d.value = ?2
         JOIN manifests am ON am.digest = c.child_digest
         JOIN attestations a ON a.manifest_id = am.id
         WHERE c.index_id = ?1 AND c.is_attestation = 1
         ORDER BY c.position, a.layer_digest",
    )?;
    let rows = stmt.query_map(params![index, digest, REFERENCE_DIGEST], |r| {
        r.get::<_, String>(0)
    })?;
    let mut out = Vec::new();
    for text in rows {
        if let Some(st) = Statement::parse(text?.as_bytes(), Origin::Attestation) {
            out.push(st);
        }
    }
    Ok(out)
}

/// SLSA statements attached to `digest` as referrers (origin `referrer`),
/// in any repository; the referrers writer calls [`refresh`] for a subject
/// whose statements changed.
fn referrer_statements(conn: &Connection, digest: &str) -> Result<Vec<Statement>> {
    let mut stmt = conn.prepare_cached(
        "SELECT f.statement FROM referrers f WHERE f.statement IS NOT NULL AND f.id IN
            (SELECT referrer_id FROM referrer_links WHERE subject_digest = ?1)
         ORDER BY f.id",
    )?;
    let rows = stmt.query_map([digest], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for text in rows {
        if let Some(st) = Statement::parse(text?.as_bytes(), Origin::Referrer) {
            out.push(st);
        }
    }
    Ok(out)
}

/// Derive and store the provenance of manifest `id`.
pub(crate) fn refresh(conn: &Connection, id: i64) -> Result<()> {
    let Some((digest, kind)) = conn
        .prepare_cached("SELECT digest, kind FROM manifests WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?
    else {
        return Ok(());
    };
    let own = annotations(conn, id)?;
    let mut statements = Vec::new();
    let (p, via) = if kind == "index" {
        // An index's own annotations are index annotations.
        statements.extend(referrer_statements(conn, &digest)?);
        let s = Sources {
            index_annotations: Some(&own),
            statements: &statements,
            ..Sources::default()
        };
        (derive(&s), None)
    } else {
        let labels = labels(conn, id)?;
        // The newest index that lists it as a platform child.
        let parent: Option<(i64, i64)> = conn
            .prepare_cached(
                "SELECT index_id, position FROM index_children
                 WHERE child_digest = ?1 AND is_attestation = 0
                 ORDER BY index_id DESC LIMIT 1",
            )?
            .query_row([&digest], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (descriptor, index) = match parent {
            Some((index_id, position)) => {
                statements.extend(attestation_statements(conn, index_id, &digest)?);
                (
                    pairs(
                        conn,
                        "SELECT key, value FROM descriptor_annotations WHERE index_id = ?1 AND position = ?2",
                        params![index_id, position],
                    )?,
                    annotations(conn, index_id)?,
                )
            }
            None => (BTreeMap::new(), BTreeMap::new()),
        };
        statements.extend(referrer_statements(conn, &digest)?);
        // A platform child carries its index's referrers (attestations are
        // usually attached to the index).
        if let Some((index_id, _)) = parent {
            let index_digest: String = conn
                .prepare_cached("SELECT digest FROM manifests WHERE id = ?1")?
                .query_row([index_id], |r| r.get(0))?;
            statements.extend(referrer_statements(conn, &index_digest)?);
        }
        let s = Sources {
            labels: Some(&labels),
            manifest_annotations: Some(&own),
            descriptor_annotations: Some(&descriptor),
            index_annotations: Some(&index),
            statements: &statements,
        };
        (derive(&s), parent.map(|(i, _)| i))
    };
    conn.prepare_cached(
        "INSERT OR REPLACE INTO provenance (manifest_id, via_index_id, commit_sha, commit_url,
            branch, build_number, build_id, build_uri, build_url, source, base_name,
            base_digest, family, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        id,
        via,
        p.commit,
        p.commit_url,
        p.branch,
        p.build_number,
        p.build_id,
        p.build_uri,
        p.build_url,
        p.source,
        p.base_name,
        p.base_digest,
        p.family,
        p.origin.map(Origin::as_str),
    ])?;
    Ok(())
}

/// Derive the provenance of every manifest (a migration, or a rule change).
pub(crate) fn refresh_all(conn: &Connection) -> Result<()> {
    let ids: Vec<i64> = {
        let mut stmt = conn.prepare("SELECT id FROM manifests ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for id in ids {
        refresh(conn, id)?;
    }
    Ok(())
}

/// The columns [`from_row`] reads, in order, for a `provenance p` join.
pub(crate) const COLUMNS: &str = "p.commit_sha, p.commit_url, p.branch, p.build_number,
    p.build_id, p.build_uri, p.build_url, p.source, p.base_name, p.base_digest, p.family, p.origin";

/// A stored provenance from [`COLUMNS`] starting at column `at`.
pub(crate) fn from_row(r: &Row, at: usize) -> rusqlite::Result<Provenance> {
    let origin: Option<String> = r.get(at + 11)?;
    Ok(Provenance {
        commit: r.get(at)?,
        commit_url: r.get(at + 1)?,
        branch: r.get(at + 2)?,
        build_number: r.get(at + 3)?,
        build_id: r.get(at + 4)?,
        build_uri: r.get(at + 5)?,
        build_url: r.get(at + 6)?,
        source: r.get(at + 7)?,
        base_name: r.get(at + 8)?,
        base_digest: r.get(at + 9)?,
        family: r.get(at + 10)?,
        origin: origin.as_deref().and_then(Origin::parse),
    })
}

/// The stored provenance of manifest `id` (empty when none is stored).
pub(crate) fn stored(conn: &Connection, id: i64) -> Result<Provenance> {
    let sql = format!("SELECT {COLUMNS} FROM provenance p WHERE p.manifest_id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], |r| from_row(r, 0))
        .optional()?
        .unwrap_or_default())
}
