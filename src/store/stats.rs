//! Figures for `serve`'s /readyz and /metrics: whether the schema is the
//! one this binary writes, and per registry what an alert needs.

use super::{migrate, Result, Store};
use std::collections::BTreeMap;

/// Per registry: what the index holds now and how its runs went.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RegistryStats {
    pub registry: String,
    /// Distinct digests that current tags point at (an index counts once).
    pub images: i64,
    /// Current tags.
    pub tags: i64,
    /// When the last run that finished ok or partial ended (RFC 3339).
    pub last_success: Option<String>,
    /// Failures of the last finished run.
    pub last_failures: i64,
}

impl Store {
    /// The schema is exactly the one this binary's migrations give.
    pub fn schema_current(&self) -> Result<bool> {
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(found == migrate::MIGRATIONS.len() as i64)
    }

    /// One entry per registry that has a run or a current tag.
    pub fn registry_stats(&self) -> Result<Vec<RegistryStats>> {
        let mut out: BTreeMap<String, RegistryStats> = BTreeMap::new();
        let mut stmt = self.conn.prepare(
            "SELECT g.host, count(*), count(DISTINCT t.digest)
             FROM tags t JOIN repositories r ON r.id = t.repository_id
             JOIN registries g ON g.id = r.registry_id
             WHERE t.removed_at IS NULL GROUP BY g.host",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        for row in rows {
            let (host, tags, images): (String, i64, i64) = row?;
            let e = entry(&mut out, host);
            e.tags = tags;
            e.images = images;
        }
        let mut stmt = self.conn.prepare(
            "SELECT registry, max(finished_at) FROM runs
             WHERE status IN ('ok', 'partial') AND finished_at IS NOT NULL GROUP BY registry",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        for row in rows {
            let (host, at): (String, Option<String>) = row?;
            entry(&mut out, host).last_success = at;
        }
        let mut stmt = self.conn.prepare(
            "SELECT registry, failures FROM runs WHERE id IN
                 (SELECT max(id) FROM runs WHERE finished_at IS NOT NULL GROUP BY registry)",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        for row in rows {
            let (host, failures): (String, i64) = row?;
            entry(&mut out, host).last_failures = failures;
        }
        Ok(out.into_values().collect())
    }
}

fn entry(map: &mut BTreeMap<String, RegistryStats>, host: String) -> &mut RegistryStats {
    map.entry(host.clone()).or_insert_with(|| RegistryStats {
        registry: host,
        ..RegistryStats::default()
    })
}
