//! `query` in its three formats, and --since / --until.

use super::answers_fixture::{Env, API_SHA};

#[test]
fn query_table_json_csv_snapshots() {
    let env = Env::provenance();
    insta::assert_snapshot!("query_table", env.run(&["query"]).stdout);
    insta::assert_snapshot!("query_csv", env.run(&["query", "--format", "csv"]).stdout);
    let json = env
        .run(&["query", "--format", "json", "--repo", "team/*"])
        .stdout;
    insta::assert_snapshot!("query_json", json);
}

#[test]
fn json_keeps_the_contract_fields_in_order() {
    let env = Env::provenance();
    let out = env.run(&[
        "query",
        "--format",
        "json",
        "--label",
        &format!("sourceversion={API_SHA}"),
    ]);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    // api-1.2 is tagged 1.2 and latest (latest moved to it).
    assert_eq!(rows.len(), 2, "{}", out.stdout);
    // Field order as SPEC.md lists it (checked on the text; Value sorts keys).
    let first = &out.stdout[..out.stdout.find("\n  },").unwrap()];
    let at = |k: &str| {
        first
            .find(&format!("\n    \"{k}\": "))
            .unwrap_or_else(|| panic!("{k}"))
    };
    let keys = [
        "registry",
        "repository",
        "tag",
        "digest",
        "index_digest",
        "platform",
        "media_type",
        "created",
        "labels",
        "annotations",
    ];
    assert!(keys.windows(2).all(|w| at(w[0]) < at(w[1])), "{first}");
    assert_eq!(rows[1]["tag"], "latest");
}

#[test]
fn prefix_and_index_children() {
    let env = Env::provenance();
    let out = env.run(&[
        "query",
        "--format",
        "json",
        "--label",
        "sourceversion=9f8e7d*",
    ]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let platforms: Vec<&str> = rows
        .iter()
        .map(|r| r["platform"].as_str().unwrap())
        .collect();
    // Two tags on the index, two platforms each; the attestation is no row.
    assert_eq!(
        platforms,
        [
            "linux/amd64",
            "linux/arm64/v8",
            "linux/amd64",
            "linux/arm64/v8"
        ]
    );
    assert!(rows.iter().all(|r| r["index_digest"].as_str().is_some()));
}

#[test]
fn since_and_until_bound_created_time() {
    let env = Env::provenance();
    let tags = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["query", "--format", "json"];
        a.extend_from_slice(args);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&env.run(&a).stdout).unwrap();
        rows.iter()
            .map(|r| {
                format!(
                    "{}:{}",
                    r["repository"].as_str().unwrap(),
                    r["tag"].as_str().unwrap()
                )
            })
            .collect()
    };
    // (team/api:sbom is an artifact: no created time, first seen now.)
    assert_eq!(
        tags(&["--since", "2024-05-01"]),
        ["oss/tool:1.0", "team/api:sbom"]
    );
    assert_eq!(
        tags(&["--until", "2023-10-31T23:59:59Z"]),
        ["base/dotnet:7.0"]
    );
    assert_eq!(
        tags(&[
            "--since",
            "2023-11-21",
            "--until",
            "2024-03-01T12:00:00Z",
            "--repo",
            "team/*"
        ]),
        [
            "team/api:1.2",
            "team/api:latest",
            "team/web:latest",
            "team/web:latest",
            "team/web:v2",
            "team/web:v2"
        ]
    );
    // An artifact has no created time: its tag's first-seen time (now) counts.
    assert_eq!(
        tags(&["--since", "2025-01-01", "--repo", "team/api"]),
        ["team/api:sbom"]
    );
    let bad = env.run_code(&["query", "--since", "last week"], 2);
    assert!(bad.stderr.contains("--since"), "{}", bad.stderr);
}

#[test]
fn table_fits_columns() {
    let env = Env::provenance();
    let mut cmd = env.cmd(&["query"]);
    cmd.env("COLUMNS", "80");
    let out = env.run_with(cmd, 0);
    assert!(
        out.stdout.lines().all(|l| l.chars().count() <= 80),
        "{}",
        out.stdout
    );
    // Columns go whole, by priority, before anything is cut: at 80 columns
    // the branch stays and commits are their first 12 hex digits.
    let header: Vec<&str> = out
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["IMAGE", "DIGEST", "COMMIT", "BRANCH"],
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  13c0f2b5a2ab  main\n"),
        "{}",
        out.stdout
    );
    insta::assert_snapshot!("query_table_80", out.stdout);
}
