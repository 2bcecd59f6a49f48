//! The read half for referrers: what refers to an image (and to what
//! refers to it), and what the indexer needs to know before a run.

use super::{Result, Store};
use crate::oci::Digest;
use rusqlite::params;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Referrers of referrers are followed this deep (image -> SBOM ->
/// signature on the SBOM -> ...); the indexer lists no deeper either.
pub const MAX_REFERRER_DEPTH: usize = 3;

/// One referrer of an image, as every JSON output carries it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReferrerEntry {
    pub digest: String,
    pub artifact_type: Option<String>,
    pub annotations: BTreeMap<String, String>,
    /// What it refers to: the image, its index, or another referrer.
    pub subject: String,
    /// signature | sbom | attestation | other
    pub kind: String,
    /// cosign | notation, spdx | cyclonedx, the predicate type, else the artifact type.
    pub format: Option<String>,
    pub media_type: String,
    pub created: Option<String>,
    /// api | tag-schema | cosign-tag
    pub source: String,
    /// The in-toto statement of a SLSA provenance attestation.
    #[serde(skip)]
    pub statement: Option<String>,
}

/// What the indexer reads once before a run.
#[derive(Debug, Default)]
pub struct ReferrerState {
    /// (repository, subject) -> when its referrers were last listed.
    pub checks: HashMap<(String, Digest), String>,
    /// index -> its platform children (attestation manifests left out).
    pub children: HashMap<Digest, Vec<Digest>>,
    /// Referrers already stored with what their content says (predicate
    /// type), so their content is not fetched again.
    pub read: HashSet<Digest>,
}

impl Store {
    pub fn referrer_state(&self, registry: &str) -> Result<ReferrerState> {
        let mut state = ReferrerState::default();
        let mut stmt = self.conn.prepare(
            "SELECT r.name, c.subject_digest, c.checked_at FROM referrer_checks c
             JOIN repositories r ON r.id = c.repository_id JOIN registries g ON g.id = r.registry_id
             WHERE g.host = ?1",
        )?;
        let rows = stmt.query_map([registry], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (repo, digest, at) = row?;
            if let Ok(d) = digest.parse() {
                state.checks.insert((repo, d), at);
            }
        }
        let mut stmt = self.conn.prepare(
            "SELECT m.digest, c.child_digest FROM index_children c JOIN manifests m ON m.id = c.index_id
             WHERE c.is_attestation = 0 ORDER BY c.index_id, c.position",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (index, child) = row?;
            if let (Ok(i), Ok(c)) = (index.parse(), child.parse()) {
                state.children.entry(i).or_insert_with(Vec::new).push(c);
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT digest FROM referrers WHERE predicate_type IS NOT NULL")?;
        for d in stmt.query_map([], |r| r.get::<_, String>(0))? {
            if let Ok(d) = d?.parse() {
                state.read.insert(d);
            }
        }
        Ok(state)
    }

    /// The referrers of `subjects` and, up to [`MAX_REFERRER_DEPTH`], the
    /// referrers of those; in one repository when `repo` (registry,
    /// repository) is given, else in any. Each referrer once.
    pub fn referrers_of(
        &self,
        subjects: &[&str],
        repo: Option<(&str, &str)>,
    ) -> Result<Vec<ReferrerEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.id, f.digest, f.artifact_type, f.kind, f.format, f.media_type, f.created,
                    l.source, f.statement
             FROM referrer_links l JOIN referrers f ON f.id = l.referrer_id
             JOIN repositories r ON r.id = l.repository_id JOIN registries g ON g.id = r.registry_id
             WHERE l.subject_digest = ?1 AND (?2 IS NULL OR (g.host = ?2 AND r.name = ?3))
             ORDER BY f.kind, f.digest",
        )?;
        let (host, name) = match repo {
            Some((h, n)) => (Some(h), Some(n)),
            None => (None, None),
        };
        let mut out: Vec<ReferrerEntry> = Vec::new();
        let mut ids: Vec<i64> = Vec::new();
        let mut seen: HashSet<String> = subjects.iter().map(|s| s.to_string()).collect();
        let mut level: Vec<String> = subjects.iter().map(|s| s.to_string()).collect();
        for _ in 0..MAX_REFERRER_DEPTH {
            let mut next = Vec::new();
            for subject in &level {
                let rows = stmt.query_map(params![subject, host, name], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        ReferrerEntry {
                            digest: r.get(1)?,
                            artifact_type: r.get(2)?,
                            annotations: BTreeMap::new(),
                            subject: subject.clone(),
                            kind: r.get(3)?,
                            format: r.get(4)?,
                            media_type: r.get(5)?,
                            created: r.get(6)?,
                            source: r.get(7)?,
                            statement: r.get(8)?,
                        },
                    ))
                })?;
                for row in rows {
                    let (id, entry) = row?;
                    if seen.insert(entry.digest.clone()) {
                        next.push(entry.digest.clone());
                        ids.push(id);
                        out.push(entry);
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            level = next;
        }
        let mut ann = self
            .conn
            .prepare_cached("SELECT key, value FROM referrer_annotations WHERE referrer_id = ?1")?;
        for (entry, id) in out.iter_mut().zip(ids) {
            let rows = ann.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            entry.annotations = rows.collect::<rusqlite::Result<_>>()?;
        }
        Ok(out)
    }
}

/// `query --signed / --unsigned / --artifact-type` as SQL on `image_rows`:
/// a referrer in the row's repository whose subject is the image or its index.
pub(super) fn filter_sql(
    filter: &super::RowFilter,
    sql: &mut String,
    args: &mut Vec<rusqlite::types::Value>,
) {
    const HAS: &str =
        "EXISTS (SELECT 1 FROM referrer_links l JOIN referrers f ON f.id = l.referrer_id
        JOIN repositories rr ON rr.id = l.repository_id JOIN registries rg ON rg.id = rr.registry_id
        WHERE rg.host = image_rows.registry AND rr.name = image_rows.repository
          AND l.subject_digest IN (image_rows.digest, image_rows.index_digest)";
    match filter.signed {
        Some(true) => sql.push_str(&format!(" AND {HAS} AND f.kind = 'signature')")),
        Some(false) => sql.push_str(&format!(" AND NOT {HAS} AND f.kind = 'signature')")),
        None => {}
    }
    for t in &filter.artifact_types {
        args.push(t.clone().into());
        let n = args.len();
        sql.push_str(&format!(
            " AND {HAS} AND (f.artifact_type = ?{n} OR f.kind = ?{n} OR f.format = ?{n}))"
        ));
    }
}

impl Store {
    /// The referrers a query row carries: those of its manifest and of the
    /// index the tag points at (signatures are usually made on the index).
    pub fn row_referrers(&self, row: &super::ImageRow) -> Result<Vec<ReferrerEntry>> {
        let mut subjects = vec![row.digest.as_str()];
        subjects.extend(row.index_digest.as_deref());
        self.referrers_of(&subjects, Some((&row.registry, &row.repository)))
    }
}

/// A signature refers straight to one of `subjects` (the image or its
/// index); one on an SBOM does not make the image signed.
pub fn is_signed(refs: &[ReferrerEntry], subjects: &[&str]) -> bool {
    refs.iter()
        .any(|r| r.kind == "signature" && subjects.contains(&r.subject.as_str()))
}

/// An SBOM (or an SBOM attestation) refers straight to one of `subjects`.
pub fn has_sbom(refs: &[ReferrerEntry], subjects: &[&str]) -> bool {
    refs.iter().any(|r| {
        let format = r.format.as_deref().unwrap_or("").to_ascii_lowercase();
        subjects.contains(&r.subject.as_str())
            && (r.kind == "sbom"
                || (r.kind == "attestation"
                    && (format.contains("spdx") || format.contains("cyclonedx"))))
    })
}

impl Store {
    /// The seam to provenance (origin `referrer`): the in-toto statements
    /// (JSON) of the SLSA provenance attestations that refer to `subject`
    /// in any repository, oldest first. `provenance::Statement::parse(text,
    /// Origin::Referrer)` reads each.
    pub fn referrer_statements(&self, subject: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT f.statement, f.id FROM referrer_links l JOIN referrers f ON f.id = l.referrer_id
             WHERE l.subject_digest = ?1 AND f.statement IS NOT NULL ORDER BY f.id",
        )?;
        let rows = stmt.query_map([subject], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
