//! Referrers in the answers, on the fixture database: "which running
//! images are unsigned", query filters, CSV columns and show's groups.

use super::answers_fixture::Env;
use serde_json::Value;

const PODS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pods.json");

fn images(rows: &Value) -> Vec<String> {
    let mut v: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["repository"].as_str().unwrap(),
                r["tag"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn which_running_images_are_unsigned() {
    let env = Env::provenance();
    let running: Value = serde_json::from_str(
        &env.run(&["running", "--pods", PODS, "--format", "json"])
            .stdout,
    )
    .unwrap();
    let mut unsigned: Vec<String> = running
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["signed"] == false)
        .map(|r| {
            format!(
                "{}/{}",
                r["pod"].as_str().unwrap(),
                r["container"].as_str().unwrap()
            )
        })
        .collect();
    unsigned.sort();
    // team/api is unsigned (an SBOM is no signature); the web platform
    // children count as signed through their index; the tool by cosign tag.
    assert_eq!(
        unsigned,
        ["api-7d9f8-abcde/api", "api-7d9f8-abcde/migrate (init)"]
    );
    let not_indexed: Vec<&Value> = running
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["known"] == false)
        .collect();
    assert!(
        not_indexed.iter().all(|r| r["signed"].is_null()),
        "unknown images are neither"
    );
    let web = running
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pod"] == "web-arm-6f7c8-qwe34")
        .unwrap();
    assert_eq!(web["referrers"][0]["format"], "notation");
    let table = env.run(&["running", "--pods", PODS]).stdout;
    assert_eq!(table.matches("UNSIGNED").count(), 2, "{table}");

    // The same answer from the index side.
    let rows: Value =
        serde_json::from_str(&env.run(&["query", "--unsigned", "--format", "json"]).stdout)
            .unwrap();
    assert_eq!(
        images(&rows),
        [
            "base/dotnet:7.0",
            "team/api:1.2",
            "team/api:latest",
            "team/api:sbom"
        ]
    );
    let rows: Value =
        serde_json::from_str(&env.run(&["query", "--signed", "--format", "json"]).stdout).unwrap();
    assert_eq!(
        images(&rows),
        ["oss/tool:1.0", "team/web:latest", "team/web:v2"]
    );
    // Both platform rows of the signed index carry the index's signature.
    let web: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["tag"] == "v2")
        .collect();
    assert_eq!(web.len(), 2);
    assert!(web
        .iter()
        .all(|r| r["referrers"][0]["subject"] == r["index_digest"]));
    let rows: Value = serde_json::from_str(
        &env.run(&[
            "query",
            "--artifact-type",
            "application/spdx+json",
            "--format",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(images(&rows), ["team/api:1.2", "team/api:latest"]);
}

#[test]
fn csv_default_columns_say_signed_and_sbom() {
    let env = Env::provenance();
    let csv = env.run(&["export", "--format", "csv"]).stdout;
    let mut lines = csv.lines();
    assert!(
        lines.next().unwrap().ends_with(",source,signed,sbom"),
        "{csv}"
    );
    let api = csv.lines().find(|l| l.contains("team/api,1.2,")).unwrap();
    assert!(api.ends_with(",false,true"), "{api}");
    let tool = csv.lines().find(|l| l.contains("oss/tool,1.0,")).unwrap();
    assert!(tool.ends_with(",true,false"), "{tool}");
    let named = env
        .run(&["export", "--format", "csv", "--columns", "signed,sbom"])
        .stdout;
    assert!(
        named
            .lines()
            .next()
            .unwrap()
            .ends_with(",created,signed,sbom"),
        "{named}"
    );
}

#[test]
fn show_groups_referrers() {
    let env = Env::provenance();
    let text = env.run(&["show", "team/web:v2"]).stdout;
    assert!(text.contains("signatures\n  notation"), "{text}");
    let text = env.run(&["show", "team/api:1.2"]).stdout;
    assert!(text.contains("sboms\n  spdx"), "{text}");
    let text = env.run(&["show", "base/dotnet:7.0"]).stdout;
    assert!(text.contains("none (unsigned, no SBOM)"), "{text}");
}
