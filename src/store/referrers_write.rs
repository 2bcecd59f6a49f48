//! The write half for referrers: one row per referrer digest, its links
//! to subjects per repository, and when each subject was last listed.

use super::model::{ReferrerLinks, ReferrerRecord, ReferrerSource};
use super::referrers_kind::classify;
use super::Result;
use rusqlite::{params, Transaction};

fn repository_id(tx: &Transaction, registry_id: i64, name: &str) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO repositories (registry_id, name) VALUES (?1, ?2)
         ON CONFLICT (registry_id, name) DO NOTHING",
    )?
    .execute(params![registry_id, name])?;
    Ok(tx
        .prepare_cached("SELECT id FROM repositories WHERE registry_id = ?1 AND name = ?2")?
        .query_row(params![registry_id, name], |r| r.get(0))?)
}

/// Insert a referrer, or fill in what an earlier sighting lacked (a
/// statement read later); its content is addressed by digest, so nothing
/// else changes.
fn referrer_id(tx: &Transaction, r: &ReferrerRecord, ts: &str) -> Result<i64> {
    let (kind, format) = classify(r.artifact_type.as_deref(), r.predicate_type.as_deref());
    let id: i64 = tx
        .prepare_cached(
            "INSERT INTO referrers (digest, media_type, artifact_type, created, kind, format,
                predicate_type, statement, first_seen)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (digest) DO UPDATE SET
                artifact_type = coalesce(referrers.artifact_type, excluded.artifact_type),
                created = coalesce(referrers.created, excluded.created),
                predicate_type = coalesce(excluded.predicate_type, referrers.predicate_type),
                statement = coalesce(excluded.statement, referrers.statement),
                kind = CASE WHEN excluded.predicate_type IS NOT NULL OR referrers.kind = 'other'
                            THEN excluded.kind ELSE referrers.kind END,
                format = CASE WHEN excluded.predicate_type IS NOT NULL OR referrers.kind = 'other'
                              THEN excluded.format ELSE referrers.format END
             RETURNING id",
        )?
        .query_row(
            params![
                r.digest.as_str(),
                r.media_type,
                r.artifact_type,
                r.created,
                kind,
                format,
                r.predicate_type,
                r.statement,
                ts
            ],
            |row| row.get(0),
        )?;
    for (k, v) in &r.annotations {
        tx.prepare_cached(
            "INSERT INTO referrer_annotations (referrer_id, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (referrer_id, key) DO NOTHING",
        )?
        .execute(params![id, k, v])?;
    }
    Ok(id)
}

pub(super) fn write_links(
    tx: &Transaction,
    registry_id: i64,
    l: &ReferrerLinks,
    ts: &str,
) -> Result<()> {
    let repo_id = repository_id(tx, registry_id, &l.repository)?;
    let cosign = ReferrerSource::CosignTag.as_str();
    // Links are replaced, so a deleted signature stops counting; the
    // first_seen of those that remain is kept.
    tx.execute_batch("CREATE TEMP TABLE IF NOT EXISTS kept_links (subject TEXT, referrer_id INTEGER); DELETE FROM kept_links;")?;
    let mut ids = Vec::with_capacity(l.links.len());
    for (subject, r) in &l.links {
        let id = referrer_id(tx, r, ts)?;
        ids.push(id);
        tx.prepare_cached("INSERT INTO kept_links (subject, referrer_id) VALUES (?1, ?2)")?
            .execute(params![subject.as_str(), id])?;
    }
    // Subjects whose SLSA statements may change with this write: their
    // stored provenance (origin `referrer`) is derived again below.
    let mut provenance: std::collections::BTreeSet<String> = l
        .links
        .iter()
        .filter(|(_, r)| r.statement.is_some())
        .map(|(s, _)| s.to_string())
        .collect();
    for s in l.checked.iter().flatten() {
        let had: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM referrer_links k JOIN referrers f ON f.id = k.referrer_id
                 WHERE k.repository_id = ?1 AND k.subject_digest = ?2 AND f.statement IS NOT NULL)",
            )?
            .query_row(params![repo_id, s.as_str()], |r| r.get(0))?;
        if had {
            provenance.insert(s.to_string());
        }
    }
    match &l.checked {
        Some(subjects) => {
            for s in subjects {
                tx.prepare_cached(
                    "DELETE FROM referrer_links WHERE repository_id = ?1 AND subject_digest = ?2
                        AND source <> ?3 AND NOT EXISTS (SELECT 1 FROM kept_links k
                        WHERE k.subject = ?2 AND k.referrer_id = referrer_links.referrer_id)",
                )?
                .execute(params![repo_id, s.as_str(), cosign])?;
                tx.prepare_cached(
                    "INSERT INTO referrer_checks (repository_id, subject_digest, checked_at)
                     VALUES (?1, ?2, ?3)
                     ON CONFLICT (repository_id, subject_digest) DO UPDATE SET checked_at = excluded.checked_at",
                )?
                .execute(params![repo_id, s.as_str(), ts])?;
            }
        }
        None => {
            tx.prepare_cached(
                "DELETE FROM referrer_links WHERE repository_id = ?1 AND source = ?2
                    AND NOT EXISTS (SELECT 1 FROM kept_links k WHERE k.subject = referrer_links.subject_digest
                    AND k.referrer_id = referrer_links.referrer_id)",
            )?
            .execute(params![repo_id, cosign])?;
        }
    }
    for ((subject, _), id) in l.links.iter().zip(ids) {
        tx.prepare_cached(
            "INSERT INTO referrer_links (repository_id, subject_digest, referrer_id, source, first_seen)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (repository_id, subject_digest, referrer_id) DO NOTHING",
        )?
        .execute(params![repo_id, subject.as_str(), id, l.source.as_str(), ts])?;
    }
    for subject in &provenance {
        refresh_provenance(tx, subject)?;
    }
    Ok(())
}

/// Derive again the provenance of `subject` and, for an index, of its
/// platform children (which carry the index's referrers).
fn refresh_provenance(tx: &Transaction, subject: &str) -> Result<()> {
    let ids: Vec<i64> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id FROM manifests WHERE digest = ?1
             UNION SELECT m.id FROM index_children c JOIN manifests im ON im.id = c.index_id
                JOIN manifests m ON m.digest = c.child_digest
             WHERE im.digest = ?1 AND c.is_attestation = 0",
        )?;
        let rows = stmt.query_map([subject], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for id in ids {
        super::derive::refresh(tx, id)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::model::{ManifestRecord, Record, TagListing};
    use super::super::Store;
    use super::*;
    use crate::oci::Digest;

    fn d(s: &str) -> Digest {
        Digest::sha256_of(s.as_bytes())
    }

    fn referrer(name: &str, t: &str) -> ReferrerRecord {
        ReferrerRecord {
            digest: d(name),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            artifact_type: Some(t.into()),
            annotations: [(
                "org.opencontainers.image.created".to_string(),
                "2024-01-01T00:00:00Z".to_string(),
            )]
            .into(),
            created: Some("2024-01-01T00:00:00Z".into()),
            predicate_type: None,
            statement: None,
        }
    }

    fn links(
        checked: Option<Vec<Digest>>,
        source: ReferrerSource,
        l: Vec<(Digest, ReferrerRecord)>,
    ) -> Record {
        Record::Referrers(Box::new(ReferrerLinks {
            repository: "app".into(),
            source,
            checked,
            links: l,
        }))
    }

    #[test]
    fn links_are_replaced_per_subject_and_nested_ones_read_back() {
        let mut store = Store::open_in_memory().unwrap();
        let run = store.begin_run("reg", false).unwrap();
        let img = ManifestRecord::new(
            d("img"),
            "application/vnd.oci.image.manifest.v1+json".into(),
            "image",
            1,
        );
        let tags = TagListing {
            repository: "app".into(),
            tags: vec![("v1".into(), Some(d("img")))],
            complete: true,
            last_update_time: None,
        };
        let sbom = referrer("sbom", "application/spdx+json");
        let sig = referrer("sig", "application/vnd.cncf.notary.signature");
        let sig_on_sbom = referrer("sig2", "application/vnd.cncf.notary.signature");
        store
            .write_batch(
                "reg",
                run,
                &[
                    Record::Manifest(Box::new(img)),
                    Record::Tags(tags),
                    links(
                        Some(vec![d("img"), d("sbom")]),
                        ReferrerSource::Api,
                        vec![(d("img"), sbom), (d("img"), sig), (d("sbom"), sig_on_sbom)],
                    ),
                    links(
                        None,
                        ReferrerSource::CosignTag,
                        vec![(
                            d("img"),
                            referrer("c", "application/vnd.dev.cosign.artifact.sig.v1+json"),
                        )],
                    ),
                ],
            )
            .unwrap();
        let found = store
            .referrers_of(&[d("img").as_str()], Some(("reg", "app")))
            .unwrap();
        let kinds: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|r| {
                (
                    r.kind.as_str(),
                    r.format.as_deref().unwrap(),
                    r.subject.as_str(),
                )
            })
            .collect();
        assert_eq!(found.len(), 4, "{kinds:?}");
        assert!(kinds.contains(&("sbom", "spdx", d("img").as_str())));
        assert!(
            kinds.contains(&("signature", "notation", d("sbom").as_str())),
            "nested kept as such"
        );
        assert!(kinds.contains(&("signature", "cosign", d("img").as_str())));
        assert_eq!(found[0].annotations.len(), 1);
        assert!(store
            .referrers_of(&[d("img").as_str()], Some(("reg", "other")))
            .unwrap()
            .is_empty());

        // The next listing no longer has the notation signature: it goes,
        // the cosign tag link (another source) stays.
        store
            .write_batch(
                "reg",
                run,
                &[links(
                    Some(vec![d("img")]),
                    ReferrerSource::Api,
                    vec![(d("img"), referrer("sbom", "application/spdx+json"))],
                )],
            )
            .unwrap();
        let found = store.referrers_of(&[d("img").as_str()], None).unwrap();
        let digests: Vec<&str> = found.iter().map(|r| r.digest.as_str()).collect();
        assert!(!digests.contains(&d("sig").as_str()));
        assert!(digests.contains(&d("c").as_str()) && digests.contains(&d("sig2").as_str()));
        let state = store.referrer_state("reg").unwrap();
        assert_eq!(state.checks.len(), 2);
    }
}
