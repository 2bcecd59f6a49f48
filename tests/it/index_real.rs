//! The whole flow against the real CNCF distribution registry: seed it
//! through its push API, index it, and compare the index with what was
//! pushed, image for image and label for label.

use crate::support::cli::Env;
use crate::support::registry::RealRegistry;
use crate::support::seed::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// One expected query row: (repository, tag, digest, index_digest, platform, labels).
type Row = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Value,
);

fn row(
    repo: &str,
    tag: &str,
    digest: &str,
    index: Option<&str>,
    platform: Option<&str>,
    labels: Value,
) -> Row {
    (
        repo.into(),
        tag.into(),
        digest.into(),
        index.map(Into::into),
        platform.map(Into::into),
        labels,
    )
}

fn rows_of(query: &Value) -> BTreeSet<String> {
    query
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            serde_json::to_string(&(
                &r["repository"],
                &r["tag"],
                &r["digest"],
                &r["index_digest"],
                &r["platform"],
                &r["labels"],
            ))
            .unwrap()
        })
        .collect()
}

fn expected(rows: &[Row]) -> BTreeSet<String> {
    rows.iter()
        .map(|(repo, tag, d, i, p, l)| serde_json::to_string(&(repo, tag, d, i, p, l)).unwrap())
        .collect()
}

const TRICKY: &str = "a,b \"quoted\"\nline two ünïcødé 🚀";

fn devops_labels(sha: &str) -> Value {
    json!({
        "com.visualstudio.myorg.image.build.sourceversion": sha,
        "com.visualstudio.myorg.image.build.sourcebranchname": "main",
        "com.visualstudio.myorg.image.build.builduri": "vstfs:///Build/Build/127294",
        "com.visualstudio.myorg.image.build.repository.uri": "https://myorg.visualstudio.com/p/_git/r",
        "tricky": TRICKY,
        "formula": "=HYPERLINK(\"x\")",
        "empty": "",
    })
}

/// Seeds every kind of manifest the index must understand and returns the
/// rows `query` must give for them.
async fn seed_everything(s: &Seeder) -> Vec<Row> {
    let mut rows = Vec::new();
    let sha = "13c0f2b5a2ab438dd9dab2a669fef68b61f18bed";

    let api = s
        .push_image(
            "team/app/api",
            "v1",
            &ImageSpec::docker().labels(devops_labels(sha)),
        )
        .await;
    s.tag_existing("team/app/api", "v1-alias", &api.manifest, DOCKER_MANIFEST)
        .await;
    for tag in ["v1", "v1-alias"] {
        rows.push(row(
            "team/app/api",
            tag,
            &api.manifest_digest,
            None,
            Some("linux/amd64"),
            devops_labels(sha),
        ));
    }

    let oci = s
        .push_image(
            "oci/annotated",
            "1",
            &ImageSpec::oci()
                .label("org.opencontainers.image.revision", "abc123")
                .label("org.opencontainers.image.source", "https://github.com/o/r")
                .annotation("org.opencontainers.image.revision", "abc123")
                .platform(Platform::linux_arm64().variant("v8")),
        )
        .await;
    rows.push(row(
        "oci/annotated",
        "1",
        &oci.manifest_digest,
        None,
        Some("linux/arm64/v8"),
        json!({"org.opencontainers.image.revision": "abc123", "org.opencontainers.image.source": "https://github.com/o/r"}),
    ));

    for (repo, kind) in [
        ("multi/oci", IndexSpec::oci().with_attestations()),
        ("multi/docker", IndexSpec::docker()),
    ] {
        let spec = kind
            .image(
                ImageSpec::oci()
                    .label("arch", "amd64")
                    .label("com.azure.dev.image.build.sourceversion", "feed01"),
            )
            .image(
                ImageSpec::oci()
                    .label("arch", "arm64")
                    .label("com.azure.dev.image.build.sourceversion", "feed01")
                    .platform(Platform::linux_arm64().variant("v8")),
            )
            .annotation("org.opencontainers.image.created", "2024-01-01T00:00:00Z");
        let spec = if repo == "multi/docker" {
            let mut s = spec;
            s.children = s
                .children
                .into_iter()
                .map(|c| match c {
                    IndexChild::Image(i) => IndexChild::Image(ImageSpec {
                        kind: Kind::Docker,
                        annotations: Default::default(),
                        ..i
                    }),
                    other => other,
                })
                .collect();
            s.annotations.clear();
            s
        } else {
            spec
        };
        let idx = s.push_index(repo, "latest", &spec).await;
        let images: Vec<&PushedChild> = idx
            .children
            .iter()
            .filter(|c| c.attests.is_none())
            .collect();
        assert_eq!(images.len(), 2);
        rows.push(row(
            repo,
            "latest",
            &images[0].digest,
            Some(&idx.digest),
            Some("linux/amd64"),
            json!({"arch": "amd64", "com.azure.dev.image.build.sourceversion": "feed01"}),
        ));
        rows.push(row(
            repo,
            "latest",
            &images[1].digest,
            Some(&idx.digest),
            Some("linux/arm64/v8"),
            json!({"arch": "arm64", "com.azure.dev.image.build.sourceversion": "feed01"}),
        ));
    }

    let nested = s
        .push_index(
            "nested/idx",
            "1",
            &IndexSpec::oci()
                .image(ImageSpec::oci().label("level", "top"))
                .index(
                    IndexSpec::oci().image(
                        ImageSpec::oci()
                            .label("level", "inner")
                            .platform(Platform::new("linux", "s390x")),
                    ),
                ),
        )
        .await;
    rows.push(row(
        "nested/idx",
        "1",
        &nested.children[0].digest,
        Some(&nested.digest),
        Some("linux/amd64"),
        json!({"level": "top"}),
    ));
    let inner = nested.children[1].index.as_ref().expect("inner index");
    rows.push(row(
        "nested/idx",
        "1",
        &inner.children[0].digest,
        Some(&nested.digest),
        Some("linux/s390x"),
        json!({"level": "inner"}),
    ));

    let helm = s
        .push_artifact(
            "charts/helm",
            "0.1.0",
            &ArtifactSpec::helm_chart("demo", "0.1.0"),
        )
        .await;
    rows.push(row(
        "charts/helm",
        "0.1.0",
        &helm.manifest_digest,
        None,
        None,
        json!({}),
    ));
    let sbom = s
        .push_artifact(
            "sbom/empty",
            "1",
            &ArtifactSpec::empty_config("application/vnd.example.sbom.v1+json"),
        )
        .await;
    rows.push(row(
        "sbom/empty",
        "1",
        &sbom.manifest_digest,
        None,
        None,
        json!({}),
    ));

    for (repo, spec) in [
        ("nolabels/absent", ImageSpec::docker()),
        ("nolabels/null", ImageSpec::docker().labels(Value::Null)),
        ("nolabels/empty", ImageSpec::oci().labels(json!({}))),
    ] {
        let i = s.push_image(repo, "1", &spec).await;
        rows.push(row(
            repo,
            "1",
            &i.manifest_digest,
            None,
            Some("linux/amd64"),
            json!({}),
        ));
    }

    // More than two catalog pages at --page-size 50.
    for n in 0..110 {
        let repo = format!("bulk/r{n:03}");
        let i = s
            .push_image(
                &repo,
                "1",
                &ImageSpec::docker().label("n", &(n % 7).to_string()),
            )
            .await;
        rows.push(row(
            &repo,
            "1",
            &i.manifest_digest,
            None,
            Some("linux/amd64"),
            json!({"n": (n % 7).to_string()}),
        ));
    }
    rows
}

fn index(env: &Env, reg: &RealRegistry, extra: &[&str]) -> crate::support::cli::Run {
    let url = reg.base_url();
    let mut args = vec![
        "index",
        "--registry",
        url.as_str(),
        "--page-size",
        "50",
        "--concurrency",
        "8",
    ];
    args.extend_from_slice(extra);
    env.run(&args)
}

fn last_run(env: &Env) -> Value {
    env.run(&["runs", "--format", "json", "--limit", "1"])
        .success()
        .json()[0]
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn index_matches_what_was_pushed_and_second_run_fetches_nothing() {
    let reg = RealRegistry::start();
    let seeder = Seeder::new(&reg.base_url());
    let rows = seed_everything(&seeder).await;
    let env = Env::new();

    index(&env, &reg, &[]).success();
    let got = env.run(&["query", "--format", "json"]).success().json();
    assert_eq!(
        rows_of(&got),
        expected(&rows),
        "index differs from what was pushed"
    );
    for r in got.as_array().unwrap() {
        assert_eq!(r["registry"], reg.host());
    }
    let run1 = last_run(&env);
    assert_eq!(run1["status"], "ok");
    assert!(
        run1["requests"]["catalog"].as_u64().unwrap() >= 3,
        "catalog paged: {run1}"
    );

    // Artifacts, attestations and annotations are kept for what they are.
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let kinds: Vec<(String, Option<String>)> = conn
        .prepare("SELECT kind, artifact_type FROM manifests WHERE kind = 'artifact' ORDER BY artifact_type")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("artifact".into(), Some(HELM_CONFIG.into())),
            (
                "artifact".into(),
                Some("application/vnd.example.sbom.v1+json".into())
            ),
        ]
    );
    let attestations: i64 = conn
        .query_row(
            "SELECT count(*) FROM index_children WHERE is_attestation = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(attestations, 2);
    let index_annotation: String = conn
        .query_row(
            "SELECT a.value FROM annotations a JOIN manifests m ON m.id = a.manifest_id
             WHERE m.kind = 'index' AND a.key = 'org.opencontainers.image.created'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(index_annotation, "2024-01-01T00:00:00Z");
    let oci_annotation: i64 = conn
        .query_row(
            "SELECT count(*) FROM annotations WHERE key = 'org.opencontainers.image.revision' AND value = 'abc123'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(oci_annotation, 1);
    drop(conn);

    // Label queries: dotted-suffix keys, prefixes, has-key, AND.
    let q = |args: &[&str]| {
        let mut a = vec!["query", "--format", "json"];
        a.extend_from_slice(args);
        env.run(&a).success().json().as_array().unwrap().len()
    };
    assert_eq!(
        q(&[
            "--label",
            "sourceversion=13c0f2b5a2ab438dd9dab2a669fef68b61f18bed"
        ]),
        2
    );
    assert_eq!(q(&["--label", "sourceversion=13c0f2*"]), 2);
    assert_eq!(q(&["--label", "sourceversion=13c0f3*"]), 0);
    assert_eq!(q(&["--label", "sourceversion"]), 6);
    assert_eq!(
        q(&["--label", "sourceversion=feed01", "--label", "arch=arm64"]),
        2
    );
    assert_eq!(q(&["--label", "tricky=".to_string().as_str()]), 0);
    assert_eq!(q(&["--label", &format!("tricky={TRICKY}")]), 2);
    assert_eq!(
        q(&["--label", "ion=x"]),
        0,
        "a suffix must be whole segments"
    );
    assert_eq!(q(&["--repo", "bulk/*", "--label", "n=3"]), 16);

    // Second run over the unchanged registry: no manifest or blob GET.
    let gets_before = reg.request_count("GET", "/manifests/") + reg.request_count("GET", "/blobs/");
    index(&env, &reg, &[]).success();
    let gets_after = reg.request_count("GET", "/manifests/") + reg.request_count("GET", "/blobs/");
    assert_eq!(
        gets_after, gets_before,
        "warm run fetched manifests or blobs"
    );
    let run2 = last_run(&env);
    assert_eq!(run2["manifests_new"], 0);
    assert_eq!(run2["requests"].get("manifest_get"), None, "{run2}");
    assert_eq!(run2["requests"].get("blob_get"), None, "{run2}");
    assert_eq!(
        rows_of(&env.run(&["query", "--format", "json"]).success().json()),
        expected(&rows)
    );

    // --full re-checks every digest.
    index(&env, &reg, &["--full"]).success();
    assert!(last_run(&env)["requests"]["manifest_get"].as_u64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn moved_and_deleted_tags_keep_their_history() {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());
    let env = Env::new();
    let a = s
        .push_image("app", "stable", &ImageSpec::docker().label("v", "1"))
        .await;
    s.push_image("app", "keep", &ImageSpec::docker().label("v", "k"))
        .await;
    let gone = s
        .push_image("gone", "1", &ImageSpec::docker().label("v", "g"))
        .await;
    index(&env, &reg, &[]).success();

    let b = s
        .push_image("app", "stable", &ImageSpec::docker().label("v", "2"))
        .await;
    s.delete_manifest("gone", &gone.manifest_digest).await;
    index(&env, &reg, &[]).success();

    let now = env
        .run(&["query", "--format", "json", "--tag", "stable"])
        .success()
        .json();
    assert_eq!(now.as_array().unwrap().len(), 1);
    assert_eq!(now[0]["digest"], b.manifest_digest);
    assert_eq!(
        env.run(&["query", "--format", "json", "--repo", "gone"])
            .success()
            .json(),
        json!([])
    );

    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let history: Vec<(String, String, bool)> = conn
        .prepare(
            "SELECT t.name, t.digest, t.removed_at IS NOT NULL FROM tags t
             JOIN repositories r ON r.id = t.repository_id ORDER BY t.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        history.contains(&("stable".into(), a.manifest_digest.clone(), true)),
        "{history:?}"
    );
    assert!(
        history.contains(&("stable".into(), b.manifest_digest.clone(), false)),
        "{history:?}"
    );
    assert!(
        history.contains(&("1".into(), gone.manifest_digest.clone(), true)),
        "{history:?}"
    );
    // The old image's labels are still there for `show` and history.
    let old: i64 = conn
        .query_row(
            "SELECT count(*) FROM manifests WHERE digest = ?1",
            [&a.manifest_digest],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 1);
}
