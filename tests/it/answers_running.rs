//! `running`: containers from `kubectl get pods -A -o json` to provenance.

use super::answers_fixture::{dg, Env, API_SHA, TOOL_SHA, WEB_SHA};
use serde_json::Value;

const PODS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pods.json");

#[test]
fn running_snapshots() {
    let env = Env::provenance();
    insta::assert_snapshot!(
        "running_table",
        env.run(&["running", "--pods", PODS]).stdout
    );
    insta::assert_snapshot!(
        "running_csv",
        env.run(&["running", "--pods", PODS, "--format", "csv"])
            .stdout
    );
    insta::assert_snapshot!(
        "running_json",
        env.run(&["running", "--pods", PODS, "--format", "json"])
            .stdout
    );
}

#[test]
fn every_imageid_form_resolves() {
    let env = Env::provenance();
    let rows: Vec<Value> = serde_json::from_str(
        &env.run(&["running", "--pods", PODS, "--format", "json"])
            .stdout,
    )
    .unwrap();
    let by = |pod: &str, container: &str| -> &Value {
        rows.iter()
            .find(|r| r["pod"].as_str().unwrap().starts_with(pod) && r["container"] == container)
            .unwrap_or_else(|| panic!("{pod}/{container} missing"))
    };
    // docker-pullable:// with the manifest digest
    let api = by("api-", "api");
    assert_eq!(
        (api["known"].as_bool(), api["commit"].as_str()),
        (Some(true), Some(API_SHA))
    );
    assert_eq!(api["tag"], "1.2");
    // a bare config digest (containerd)
    let migrate = by("api-", "migrate (init)");
    assert_eq!(migrate["digest"], dg("api-1.2-config").as_str());
    assert_eq!(
        (migrate["commit"].as_str(), migrate["tag"].as_str()),
        (Some(API_SHA), Some("latest"))
    );
    // repo@index digest: provenance from the linux/amd64 child
    let web = by("web-5c6b7", "web");
    assert_eq!(web["manifest"], dg("web-amd64").as_str());
    assert_eq!(web["commit"], WEB_SHA);
    assert_eq!(
        web["build_url"],
        "https://dev.azure.com/contoso/Web%20Shop/_build/results?buildId=5150"
    );
    // repo@platform manifest digest
    let arm = by("web-arm", "web");
    assert_eq!(arm["manifest"], dg("web-arm64").as_str());
    assert_eq!(
        (arm["tag"].as_str(), arm["branch"].as_str()),
        (Some("v2"), Some("release/2.0"))
    );
    // no imageID yet: the image reference is looked up
    let tool = by("tool-", "tool");
    assert_eq!(
        (tool["known"].as_bool(), tool["commit"].as_str()),
        (Some(true), Some(TOOL_SHA))
    );
    assert_eq!(tool["digest"], dg("tool").as_str());
    // not in the index
    for (pod, c) in [("web-5c6b7", "debugger (ephemeral)"), ("tool-", "proxy")] {
        let r = by(pod, c);
        assert_eq!(r["known"], false, "{r}");
        assert!(r["commit"].is_null());
    }
    assert_eq!(rows.len(), 7);
}

#[test]
fn pods_from_stdin_and_bad_input() {
    let env = Env::provenance();
    let mut cmd = env.cmd(&["running", "--pods", "-", "--format", "csv"]);
    cmd.stdin(std::fs::File::open(PODS).unwrap());
    let out = env.run_with(cmd, 0);
    assert_eq!(
        out.stdout,
        env.run(&["running", "--pods", PODS, "--format", "csv"])
            .stdout
    );
    let bad = env.dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"kind":"Deployment"}"#).unwrap();
    let out = env.run_code(&["running", "--pods", bad.to_str().unwrap()], 2);
    assert!(
        out.stderr.contains("kubectl get pods -A -o json"),
        "{}",
        out.stderr
    );
}
