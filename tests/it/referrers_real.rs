//! Real referrers layouts (notation's e2e signatures, regclient's fallback
//! tags) pushed into the real docker-registry, which has no referrers API:
//! the fallback to the tag schema is the real path here.

use crate::support::cli::Env;
use crate::support::layout::{corpus_layout, push_layout};
use crate::support::registry::RealRegistry;
use crate::support::seed::Seeder;
use serde_json::Value;

const NOTATION: &str = "application/vnd.cncf.notary.signature";

fn rows<'a>(q: &'a Value, repo: &str, tag: &str) -> Vec<&'a Value> {
    q.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["repository"] == repo && r["tag"] == tag)
        .collect()
}

fn digests(refs: &Value) -> Vec<String> {
    let mut d: Vec<String> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} -> {} ({})",
                r["subject"].as_str().unwrap(),
                r["digest"].as_str().unwrap(),
                r["artifact_type"].as_str().unwrap_or("-")
            )
        })
        .collect();
    d.sort();
    d
}

#[tokio::test(flavor = "multi_thread")]
async fn notation_and_regclient_layouts_through_the_tag_schema() {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());
    for (repo, layout) in [
        ("notation/valid", "notation-e2e-valid-signature"),
        ("notation/multi", "notation-e2e-valid-multiple-signatures"),
    ] {
        let pushed = push_layout(&s, &corpus_layout(layout), repo).await;
        assert!(pushed.refused.is_empty(), "{repo}: {:?}", pushed.refused);
    }
    let rc = push_layout(&s, &corpus_layout("regclient-testrepo"), "regclient").await;
    let env = Env::new();
    let url = reg.base_url();
    env.run(&["index", "--registry", &url, "--concurrency", "4"])
        .success();
    let runs = env
        .run(&["runs", "--format", "json", "--limit", "1"])
        .success()
        .json();
    let requests = &runs[0]["requests"];
    // One failed probe for the run (docker-registry has no referrers API),
    // then one GET per sha256-<hex> tag whose subject is an image
    // (mirror's tag holds no index; it is read and ignored).
    assert_eq!(reg.request_count("GET", "/referrers/"), 1, "{requests}");

    let q = env.run(&["query", "--format", "json"]).success().json();
    // notation sign: the signature untagged, the referrers index tagged sha256-<hex>.
    let v1 = rows(&q, "notation/valid", "v1");
    let sig = &v1[0]["referrers"][0];
    assert_eq!(v1[0]["referrers"].as_array().unwrap().len(), 1);
    assert_eq!(
        sig["digest"],
        "sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f"
    );
    assert_eq!(sig["artifact_type"], NOTATION);
    assert_eq!(sig["format"], "notation");
    assert_eq!(sig["source"], "tag-schema");
    assert_eq!(sig["created"], "2023-06-27T05:30:33Z");
    assert!(sig["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"].is_string());
    // The second signature of "multiple signatures" is only in the layout,
    // not in its referrers tag: a registry without the API cannot show it.
    let multi = rows(&q, "notation/multi", "v1");
    assert_eq!(
        multi[0]["referrers"].as_array().unwrap().len(),
        1,
        "{}",
        multi[0]["referrers"]
    );

    // regclient: v2 (an index) has an SBOM and a signature by its referrers tag;
    // each platform child row carries them, and its own (example.arms on amd64).
    let v2 = rows(&q, "regclient", "v2");
    assert_eq!(v2.len(), 3);
    let index = rc.digest_of("v2").expect("v2 pushed");
    for r in &v2 {
        let d = digests(&r["referrers"]);
        assert!(d.contains(&format!("{index} -> sha256:0484e93c23cddf24a8400547119558312023295af241d4cd1eaf1b27145c5026 (application/example.sbom)")), "{d:?}");
        assert!(d.contains(&format!("{index} -> sha256:741132f956e196c3858dab17e50ea977056f2f1ce1ad2900f11f4c8ff2d4203b (application/example.signature)")), "{d:?}");
    }
    let amd = v2.iter().find(|r| r["platform"] == "linux/amd64").unwrap();
    assert!(digests(&amd["referrers"])
        .iter()
        .any(|d| d.ends_with("(application/example.arms)")));
    // mirror's sha256-<hex> tag points at a plain manifest, itself: no referrers.
    assert_eq!(
        rows(&q, "regclient", "mirror")[0]["referrers"],
        serde_json::json!([])
    );
    // loop: an index referring to its own child; kept once, no cycle.
    let child = rows(&q, "regclient", "child");
    assert_eq!(
        digests(&child[0]["referrers"]).len(),
        1,
        "{}",
        child[0]["referrers"]
    );

    let signed = env
        .run(&[
            "query",
            "--signed",
            "--repo",
            "notation/*",
            "--format",
            "json",
        ])
        .success()
        .json();
    assert_eq!(
        signed
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["tag"] == "v1")
            .count(),
        2
    );
    let show = env.run(&["show", "notation/valid:v1"]).success().stdout;
    assert!(
        show.contains("signatures\n  notation  sha256:90ceaff2"),
        "{show}"
    );

    // Warm: nothing new and nothing due, so no probe and no tag GET.
    let before = reg.request_count("GET", "/referrers/");
    env.run(&["index", "--registry", &url, "--concurrency", "4"])
        .success();
    assert_eq!(reg.request_count("GET", "/referrers/"), before);
    let runs = env
        .run(&["runs", "--format", "json", "--limit", "1"])
        .success()
        .json();
    assert_eq!(
        runs[0]["requests"].get("referrers"),
        None,
        "{}",
        runs[0]["requests"]
    );
}
