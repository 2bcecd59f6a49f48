//! Benchmark tooling: build a database of N images (default 100,000) with
//! about ten labels each, in the key families real registries carry, by the
//! store's own write path in big transactions.
//!
//!     cargo run --release --example gen_db -- bench/out/100k.db [N]
//!
//! Prints sample values (a commit, a manifest digest, a config digest, an
//! index digest) to query the result with.
//!
//!     cargo run --release --example gen_db -- --plans bench/out/100k.db
//!
//! prints EXPLAIN QUERY PLAN of the read queries with the SQLite that
//! acr-index bundles (its planner differs from an older `sqlite3` shell).

use acr_index::oci::{Digest, Platform};
use acr_index::store::{ChildRecord, ManifestRecord, Record, RunSummary, Store, TagListing};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

const REGISTRY: &str = "bench.azurecr.io";
const REPOS: usize = 500;
const BATCH: usize = 10_000;

fn hex(seed: &str) -> String {
    Digest::sha256_of(seed.as_bytes()).as_str()["sha256:".len()..].to_string()
}

fn commit(i: usize) -> String {
    hex(&format!("commit-{}", i / 2))[..40].to_string()
}

fn labels(i: usize) -> BTreeMap<String, String> {
    let sha = commit(i);
    let repo = format!("svc-{}", i % REPOS);
    let base = Digest::sha256_of(format!("base-{}", i % 20).as_bytes()).to_string();
    let mut m = BTreeMap::new();
    let mut put = |k: String, v: String| {
        m.insert(k, v);
    };
    match i % 5 {
        // Azure DevOps Docker task, com.visualstudio.<org>.image.* (60%)
        0..=2 => {
            let p = format!("com.visualstudio.org{}.image.", i % 3);
            put(
                format!("{p}build.buildnumber"),
                format!("2024{:04}.{}", i % 1231, i % 7),
            );
            put(
                format!("{p}build.builduri"),
                format!("vstfs:///Build/Build/{}", 100_000 + i),
            );
            put(format!("{p}build.definitionname"), format!("{repo} image"));
            put(format!("{p}build.repository.name"), repo.clone());
            put(
                format!("{p}build.repository.uri"),
                format!("https://org{}.visualstudio.com/proj/_git/{repo}", i % 3),
            );
            put(
                format!("{p}build.sourcebranchname"),
                ["main", "develop", "release"][i % 3].into(),
            );
            put(format!("{p}build.sourceversion"), sha);
            put(
                format!("{p}system.teamfoundationcollectionuri"),
                format!("https://org{}.visualstudio.com/", i % 3),
            );
            put(format!("{p}system.teamproject"), "proj".into());
            put("image.base.digest".into(), base);
        }
        // com.azure.dev.image.* (20%)
        3 => {
            let p = "com.azure.dev.image.";
            put(
                format!("{p}build.buildnumber"),
                format!("2024{:04}.{}", i % 1231, i % 5),
            );
            put(
                format!("{p}build.builduri"),
                format!("vstfs:///Build/Build/{}", 500_000 + i),
            );
            put(
                format!("{p}build.repository.uri"),
                format!("https://dev.azure.com/contoso/shop/_git/{repo}"),
            );
            put(format!("{p}build.sourcebranch"), "refs/heads/main".into());
            put(format!("{p}build.sourceversion"), sha);
            put(
                format!("{p}system.teamfoundationcollectionuri"),
                "https://dev.azure.com/contoso/".into(),
            );
            put(format!("{p}system.teamproject"), "shop".into());
            put(
                "image.base.ref.name".into(),
                "mcr.microsoft.com/dotnet/aspnet:8.0".into(),
            );
            put("image.base.digest".into(), base);
            put("maintainer".into(), "platform-team@contoso.com".into());
        }
        // OCI annotations as labels, GitHub Actions style (20%)
        _ => {
            let p = "org.opencontainers.image.";
            put(
                format!("{p}source"),
                format!("https://github.com/acme/{repo}"),
            );
            put(format!("{p}revision"), sha);
            put(format!("{p}version"), format!("1.{}.{}", i % 50, i % 13));
            put(format!("{p}created"), "2024-06-01T00:00:00Z".into());
            put(format!("{p}title"), repo.clone());
            put(format!("{p}description"), format!("The {repo} service"));
            put(format!("{p}licenses"), "MIT".into());
            put(format!("{p}vendor"), "ACME".into());
            put(format!("{p}url"), format!("https://github.com/acme/{repo}"));
            put(
                format!("{p}base.name"),
                "docker.io/library/alpine:3.20".into(),
            );
        }
    }
    m
}

fn image(i: usize, arch: &str) -> ManifestRecord {
    ManifestRecord {
        digest: Digest::sha256_of(format!("image-{i}").as_bytes()),
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        kind: "image",
        status: "ok",
        artifact_type: None,
        config_digest: Some(Digest::sha256_of(format!("config-{i}").as_bytes())),
        config_media_type: Some("application/vnd.oci.image.config.v1+json".into()),
        created: Some(format!(
            "2024-{:02}-{:02}T12:00:00Z",
            1 + i % 12,
            1 + i % 28
        )),
        platform: Some(Platform {
            os: "linux".into(),
            architecture: arch.into(),
            variant: None,
            os_version: None,
        }),
        size: 1500,
        labels: labels(i),
        annotations: BTreeMap::new(),
        children: Vec::new(),
        attestations: Vec::new(),
        refetch: false,
    }
}

/// Every tenth pair of images (i, i+1) is one multi-platform index.
fn index(i: usize) -> ManifestRecord {
    let child = |j: usize, arch: &str| ChildRecord {
        digest: Digest::sha256_of(format!("image-{j}").as_bytes()),
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        platform: Some(Platform {
            os: "linux".into(),
            architecture: arch.into(),
            variant: None,
            os_version: None,
        }),
        is_attestation: false,
        annotations: BTreeMap::new(),
    };
    ManifestRecord {
        children: vec![child(i, "amd64"), child(i + 1, "arm64")],
        ..ManifestRecord::new(
            Digest::sha256_of(format!("index-{i}").as_bytes()),
            "application/vnd.oci.image.index.v1+json".into(),
            "index",
            700,
        )
    }
}

/// The read queries of query, show and running, as the store runs them.
const PLANS: &[(&str, &str)] = &[
    ("label_keys suffix match (a small table, scanned by design)",
     "SELECT id FROM label_keys WHERE key = ?1 OR (length(key) > length(?1)
        AND substr(key, -length(?1) - 1) = '.' || ?1)"),
    ("query --label sourceversion=<sha>",
     "SELECT registry, repository, tag, digest, index_digest, os, architecture, variant,
        media_type, created, manifest_id, tag_since FROM image_rows WHERE 1 = 1
        AND manifest_id IN (SELECT manifest_id FROM labels WHERE key_id IN ({sourceversion}) AND value = ?1)
        ORDER BY registry, repository, tag, os, architecture, variant, digest"),
    ("query --label revision=abc*",
     "SELECT registry, repository, tag, digest FROM image_rows WHERE 1 = 1
        AND manifest_id IN (SELECT manifest_id FROM labels WHERE key_id IN ({revision})
            AND value >= ?1 AND value < ?1 || char(1114111) AND substr(value, 1, length(?1)) = ?1)
        ORDER BY registry, repository, tag, os, architecture, variant, digest"),
    ("query --commit <sha> (stored provenance, 0003)",
     "SELECT registry, repository, tag, digest, index_digest, os, architecture, variant,
        media_type, created, manifest_id, tag_since FROM image_rows WHERE 1 = 1
        AND commit_sha = ?1
        ORDER BY registry, repository, tag, os, architecture, variant, digest"),
    ("query --commit <prefix>* (stored provenance, 0003)",
     "SELECT registry, repository, tag, digest FROM image_rows WHERE 1 = 1
        AND commit_sha >= ?1 AND commit_sha < ?1 || char(1114111) AND substr(commit_sha, 1, length(?1)) = ?1
        ORDER BY registry, repository, tag, os, architecture, variant, digest"),
    ("show <digest>", "SELECT id FROM manifests WHERE digest = ?1 ORDER BY digest"),
    ("show <config digest>", "SELECT id FROM manifests WHERE config_digest = ?1 ORDER BY digest"),
    ("show: tags of a digest",
     "SELECT g.host, r.name, t.name, t.digest, t.first_seen, t.last_seen, t.removed_at
        FROM tags t JOIN repositories r ON r.id = t.repository_id
        JOIN registries g ON g.id = r.registry_id WHERE t.digest = ?1
        ORDER BY t.removed_at IS NOT NULL, g.host, r.name, t.name, t.first_seen"),
    ("show: indexes holding a manifest",
     "SELECT im.id, im.digest, c.os, c.architecture, c.variant, c.is_attestation
        FROM index_children c JOIN manifests im ON im.id = c.index_id
        WHERE c.child_digest = ?1 ORDER BY im.digest"),
    ("show: children of an index",
     "SELECT c.child_digest, EXISTS (SELECT 1 FROM manifests m WHERE m.digest = c.child_digest)
        FROM index_children c WHERE c.index_id = ?1 ORDER BY c.position"),
    ("show repo:tag (resolve_tag, tag_history)",
     "SELECT g.host, t.digest FROM repositories r JOIN registries g ON g.id = r.registry_id
        JOIN tags t ON t.repository_id = r.id AND t.name = ?1 WHERE r.name = ?1
        ORDER BY g.host, t.removed_at IS NULL DESC, t.last_seen DESC, t.id DESC"),
];

fn plans(path: &std::path::Path) -> anyhow::Result<()> {
    let store = Store::open_ro(path)?;
    let conn = store.connection();
    let version: String = conn.query_row("SELECT sqlite_version()", [], |r| r.get(0))?;
    println!("SQLite {version}");
    let ids = |key: &str| -> anyhow::Result<String> {
        let mut stmt = conn.prepare(PLANS[0].1)?;
        let ids = stmt.query_map([key], |r| r.get::<_, i64>(0))?;
        Ok(ids
            .map(|i| Ok(i?.to_string()))
            .collect::<anyhow::Result<Vec<_>>>()?
            .join(","))
    };
    let (sv, rev) = (ids("sourceversion")?, ids("revision")?);
    for (title, sql) in PLANS {
        println!("\n-- {title}");
        let sql = sql
            .replace("{sourceversion}", &sv)
            .replace("{revision}", &rev);
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let rows = stmt.query_map(["x"], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut depth: Vec<(i64, usize)> = Vec::new();
        for row in rows {
            let (id, parent, detail) = row?;
            let level = depth
                .iter()
                .find(|(i, _)| *i == parent)
                .map_or(0, |(_, l)| l + 1);
            depth.push((id, level));
            println!("{}{detail}", "  ".repeat(level));
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--plans") {
        args.next();
        let path = PathBuf::from(args.next().unwrap_or_else(|| "bench/out/gen.db".into()));
        return plans(&path);
    }
    let path = PathBuf::from(args.next().unwrap_or_else(|| "bench/out/gen.db".into()));
    let n: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let started = Instant::now();
    let mut store = Store::open_rw(&path)?;
    let run = store.begin_run(REGISTRY, true)?;
    let mut labels_total = 0usize;
    let mut batch: Vec<Record> = Vec::with_capacity(BATCH + REPOS);
    let mut tags: Vec<Vec<(String, Option<Digest>)>> = vec![Vec::new(); REPOS];
    for i in 0..n {
        let in_index = i % 20 == 0 && i + 1 < n;
        let second_of_index = i % 20 == 1;
        let arch = if second_of_index { "arm64" } else { "amd64" };
        let m = image(i, arch);
        labels_total += m.labels.len();
        if in_index {
            let idx = index(i);
            tags[i % REPOS].push((format!("b{i}"), Some(idx.digest.clone())));
            batch.push(Record::Manifest(Box::new(idx)));
        } else if !second_of_index {
            tags[i % REPOS].push((format!("b{i}"), Some(m.digest.clone())));
        }
        batch.push(Record::Manifest(Box::new(m)));
        if batch.len() >= BATCH {
            store.write_batch(REGISTRY, run, &batch)?;
            batch.clear();
        }
    }
    for (r, t) in tags.into_iter().enumerate() {
        batch.push(Record::Tags(TagListing {
            repository: format!("team{}/svc-{r}", r % 10),
            tags: t,
            complete: true,
            last_update_time: None,
        }));
    }
    store.write_batch(REGISTRY, run, &batch)?;
    store.finish_run(
        run,
        &RunSummary {
            repositories: REPOS as i64,
            manifests_new: n as i64,
            ..RunSummary::default()
        },
    )?;
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    eprintln!(
        "{n} images, {labels_total} labels in {:.1}s -> {}",
        started.elapsed().as_secs_f64(),
        path.display()
    );
    let k = n / 2 + 5; // a com.visualstudio image, tagged directly
    println!("commit={}", commit(k));
    println!(
        "digest={}",
        Digest::sha256_of(format!("image-{k}").as_bytes())
    );
    println!(
        "config={}",
        Digest::sha256_of(format!("config-{k}").as_bytes())
    );
    println!(
        "index={}",
        Digest::sha256_of(format!("index-{}", n / 2).as_bytes())
    );
    println!(
        "child={}",
        Digest::sha256_of(format!("image-{}", n / 2 + 1).as_bytes())
    );
    Ok(())
}
