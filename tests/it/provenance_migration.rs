//! Migration 0003 on a database written by the previous schema (kept as
//! tests/fixtures/schema2.db, made by `write_fixture_db` before the
//! change): provenance is derived from what it already holds, equal to
//! what a fresh database gives, and its indexes are fetched once more.

use super::answers_fixture::{build_db, provenance_records};
use acr_index::store::Store;
use serde_json::Value;
use std::path::Path;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema2.db")
}

fn query(db: &Path) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_acr-index"))
        .env_clear()
        .args(["--db", db.to_str().unwrap(), "query", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn schema2_database_migrates_with_the_same_provenance_as_a_fresh_one() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.db");
    std::fs::copy(fixture(), &old).unwrap();
    let version = |p: &Path| -> i64 {
        rusqlite::Connection::open(p)
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(&old), 2, "the fixture is the previous schema");

    // Read-only commands do not upgrade it; they say how.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_acr-index"))
        .env_clear()
        .args(["--db", old.to_str().unwrap(), "query"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("older than this acr-index") && err.contains("acr-index index"),
        "{err}"
    );
    assert_eq!(version(&old), 2);

    let store = Store::open_rw(&old).unwrap();
    let conn = store.connection();
    let refetch: Vec<(String, String)> = conn
        .prepare("SELECT kind, digest FROM manifests WHERE refetch = 1 ORDER BY kind")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // The index (for its descriptor annotations) and its attestation (for its layers).
    assert_eq!(
        refetch.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["artifact", "index"],
        "{refetch:?}"
    );
    drop(store);

    let fresh = dir.path().join("fresh.db");
    let (first, second) = provenance_records();
    build_db(&fresh, &[first, second]);
    let (migrated, fresh) = (query(&old), query(&fresh));
    let prov = |v: &Value| -> Vec<(Value, Value)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| (r["digest"].clone(), r["provenance"].clone()))
            .collect()
    };
    assert_eq!(prov(&migrated), prov(&fresh));
    let with_commit = prov(&migrated)
        .iter()
        .filter(|(_, p)| p["origin"] == "label" && !p["commit"].is_null())
        .count();
    assert!(with_commit >= 4, "{migrated:#}");
}
