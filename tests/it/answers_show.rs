//! `show` by tag and by each digest form, its links, and its errors.

use super::answers_fixture::{dg, Env, API_SHA, REG, TOOL_SHA, WEB_SHA};
use serde_json::Value;

fn show_json(env: &Env, reference: &str) -> Value {
    serde_json::from_str(&env.run(&["show", reference, "--format", "json"]).stdout).unwrap()
}

#[test]
fn show_text_and_json_snapshots() {
    let env = Env::provenance();
    let text = env.run(&["show", &format!("{REG}/team/api:latest")]).stdout;
    insta::assert_snapshot!("show_api_text", env.redact(&text));
    let json = env
        .run(&["show", "team/api:latest", "--format", "json"])
        .stdout;
    insta::assert_snapshot!("show_api_json", env.redact(&json));
    let index = env.run(&["show", dg("web-index").as_str()]).stdout;
    insta::assert_snapshot!("show_index_text", env.redact(&index));
    let artifact = env.run(&["show", "team/api:sbom"]).stdout;
    insta::assert_snapshot!("show_artifact_text", env.redact(&artifact));
}

#[test]
fn index_digest_gives_the_index_and_its_platforms() {
    let env = Env::provenance();
    let v = show_json(&env, dg("web-index").as_str());
    assert_eq!(v["resolved_by"], "digest");
    let images = v["images"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = images
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap(),
                i["platform"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("index", "-"),
            ("image", "linux/amd64"),
            ("image", "linux/arm64/v8"),
            ("artifact", "-")
        ]
    );
    let children = images[0]["children"].as_array().unwrap();
    assert_eq!(children.len(), 3);
    assert_eq!(children[2]["attestation"], true);
    // Tags reach the children through their index.
    let amd = &images[1];
    let tags: Vec<(&str, bool)> = amd["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tag"].as_str().unwrap(),
                t["via_index"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(tags, [("latest", true), ("v2", true)]);
}

#[test]
fn platform_manifest_digest_gives_its_index_and_azure_dev_links() {
    let env = Env::provenance();
    let v = show_json(&env, &format!("{REG}/team/web@{}", dg("web-arm64")));
    assert_eq!(v["resolved_by"], "digest");
    let img = &v["images"][0];
    assert_eq!(img["platform"], "linux/arm64/v8");
    assert_eq!(img["indexes"][0]["digest"], dg("web-index").as_str());
    assert_eq!(img["indexes"][0]["platform"], "linux/arm64/v8");
    let p = &img["provenance"];
    assert_eq!(p["family"], "azure-devops");
    assert_eq!(p["commit"], WEB_SHA);
    assert_eq!(
        p["commit_url"],
        format!("https://dev.azure.com/contoso/Web%20Shop/_git/web/commit/{WEB_SHA}")
    );
    assert_eq!(
        p["build_url"],
        "https://dev.azure.com/contoso/Web%20Shop/_build/results?buildId=5150"
    );
    assert_eq!(p["branch"], "release/2.0");
    assert_eq!(p["build_number"], "20240301.4");
}

#[test]
fn config_digest_gives_the_image_and_visualstudio_links() {
    let env = Env::provenance();
    let v = show_json(&env, dg("api-1.2-config").as_str());
    assert_eq!(v["resolved_by"], "config_digest");
    let img = &v["images"][0];
    assert_eq!(img["digest"], dg("api-1.2").as_str());
    let p = &img["provenance"];
    assert_eq!(
        p["commit_url"],
        format!("https://myorg.visualstudio.com/myproj/_git/api/commit/{API_SHA}")
    );
    assert_eq!(
        p["build_url"],
        "https://myorg.visualstudio.com/myproj/_build/results?buildId=127294"
    );
    assert_eq!(p["branch"], "main");
    // The base image is in the index, with its tag.
    assert_eq!(img["base_image"]["indexed"], true);
    assert_eq!(
        img["base_image"]["tags"][0],
        format!("{REG}/base/dotnet:7.0")
    );
    // Tag history: latest moved here from api-old.
    let tags: Vec<(&str, bool)> = img["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tag"].as_str().unwrap(), t["current"].as_bool().unwrap()))
        .collect();
    assert_eq!(tags, [("1.2", true), ("latest", true)]);
    let old = show_json(&env, dg("api-old").as_str());
    let old_tag = &old["images"][0]["tags"][0];
    assert_eq!(
        (old_tag["tag"].as_str(), old_tag["current"].as_bool()),
        (Some("latest"), Some(false))
    );
    assert!(old_tag["removed_at"].is_string());
}

#[test]
fn github_link_from_oci_labels() {
    let env = Env::provenance();
    let v = show_json(&env, "oss/tool:1.0");
    let p = &v["images"][0]["provenance"];
    assert_eq!(p["family"], "github");
    assert_eq!(
        p["commit_url"],
        format!("https://github.com/acme/tool/commit/{TOOL_SHA}")
    );
    assert_eq!(p["source"], "https://github.com/acme/tool");
}

#[test]
fn unknown_reference_is_one_line_and_exit_1() {
    let env = Env::provenance();
    let out = env.run_code(&["show", "team/api:nope"], 1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        env.redact(&out.stderr),
        "acr-index: no image matches team/api:nope in [TMP]/index.db\n"
    );
    let unknown = dg("nothing").to_string();
    let out = env.run_code(&["show", &unknown], 1);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn invalid_reference_is_usage_error() {
    let env = Env::provenance();
    let out = env.run_code(&["show", "Team/API:x"], 2);
    assert!(
        out.stderr.starts_with("acr-index: invalid image reference"),
        "{}",
        out.stderr
    );
    let _ = env.run_code(&["show", "app@sha256:abc"], 2);
}

#[test]
fn a_moved_tag_shows_its_history() {
    let env = Env::provenance();
    let v = show_json(&env, "team/api:latest");
    let history: Vec<(&str, bool)> = v["tag_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["digest"].as_str().unwrap(),
                t["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            (dg("api-old").as_str(), false),
            (dg("api-1.2").as_str(), true)
        ]
    );
    assert_eq!(v["images"][0]["digest"], dg("api-1.2").as_str());
}
