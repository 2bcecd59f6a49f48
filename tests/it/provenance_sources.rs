//! One provenance, from every place an image carries it: images whose
//! commit sits in each source SPEC.md lists (label, manifest annotation,
//! descriptor annotation, index annotation, SLSA v0.2 and v1 BuildKit
//! attestations), pushed into the real registry and indexed; query,
//! export, show and running must give the same provenance object.

use crate::support::cli::Env;
use crate::support::registry::RealRegistry;
use crate::support::seed::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

fn sha(seed: &str) -> String {
    digest_of(seed.as_bytes())["sha256:".len()..][..40].to_string()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Push an amd64 image (by digest); its descriptor for an index.
async fn image(
    s: &Seeder,
    repo: &str,
    seed: &str,
    labels: Option<Value>,
    annotations: &BTreeMap<String, String>,
) -> Descriptor {
    let l = layer(seed);
    let p = Platform::linux_amd64();
    let (config, _) = image_config_for(labels, &p, Some(DEFAULT_CREATED), &l.diff_id);
    s.push_blob(repo, &l.gzip).await;
    s.push_blob(repo, &config).await;
    let (_, layer_type) = image_types(Kind::Oci);
    let (body, digest) = image_manifest(
        Kind::Oci,
        &Descriptor::of(OCI_CONFIG, &config),
        &[Descriptor::of(layer_type, &l.gzip)],
        annotations,
        None,
    );
    s.push_manifest(repo, &digest, OCI_MANIFEST, &body).await;
    let mut d = Descriptor::of(OCI_MANIFEST, &body);
    d.platform = Some(p);
    d
}

/// A BuildKit attestation manifest for `subject` holding one SLSA statement.
async fn attestation(s: &Seeder, repo: &str, subject: &str, statement: Value) -> Descriptor {
    let (config, _) = encode(
        &json!({"architecture": "unknown", "os": "unknown", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}}),
    );
    let (st, _) = encode(&statement);
    s.push_blob(repo, &config).await;
    s.push_blob(repo, &st).await;
    let mut layer = Descriptor::of("application/vnd.in-toto+json", &st);
    layer.annotations = map(&[(
        "in-toto.io/predicate-type",
        statement["predicateType"].as_str().unwrap(),
    )]);
    let (body, digest) = image_manifest(
        Kind::Oci,
        &Descriptor::of(OCI_CONFIG, &config),
        &[layer],
        &BTreeMap::new(),
        None,
    );
    s.push_manifest(repo, &digest, OCI_MANIFEST, &body).await;
    let mut d = Descriptor::of(OCI_MANIFEST, &body);
    d.platform = Some(Platform::new("unknown", "unknown"));
    d.annotations = map(&[
        ("vnd.docker.reference.digest", subject),
        ("vnd.docker.reference.type", "attestation-manifest"),
    ]);
    d
}

fn slsa_v02(repo: &str, sha: &str) -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [],
        "predicate": {
            "builder": {"id": format!("https://github.com/acme/{repo}/actions/runs/1001")},
            "buildType": "https://mobyproject.org/buildkit@v1",
            "invocation": {"configSource": {"uri": format!("https://github.com/acme/{repo}.git#refs/heads/main"), "digest": {"sha1": sha}, "entryPoint": "Dockerfile"}},
            "metadata": {"https://mobyproject.org/buildkit@v1#metadata": {"vcs": {"source": format!("https://github.com/acme/{repo}.git"), "revision": sha}}}
        }
    })
}

fn slsa_v1(repo: &str, sha: &str) -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://slsa.dev/provenance/v1",
        "subject": [],
        "predicate": {
            "buildDefinition": {
                "buildType": "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md",
                "externalParameters": {"configSource": {"uri": format!("https://github.com/acme/{repo}.git#refs/heads/release"), "digest": {"sha1": sha}, "path": "Dockerfile"}}
            },
            "runDetails": {
                "builder": {"id": format!("https://github.com/acme/{repo}/actions/runs/2002")},
                "metadata": {"buildkit_metadata": {"vcs": {"source": format!("https://github.com/acme/{repo}.git"), "revision": sha}}}
            }
        }
    })
}

async fn index(
    s: &Seeder,
    repo: &str,
    tag: &str,
    children: &[Descriptor],
    ann: &BTreeMap<String, String>,
) {
    let (body, _) = index_manifest(Kind::Oci, children, ann);
    s.push_manifest(repo, tag, OCI_INDEX, &body).await;
}

/// (source name, repository, commit), one per SPEC source.
const CASES: [&str; 6] = [
    "label",
    "manifest-annotation",
    "descriptor-annotation",
    "index-annotation",
    "attestation-v0.2",
    "attestation-v1",
];

fn repo_of(case: &str) -> String {
    format!("src/{}", case.replace('.', ""))
}

/// Push one image per case; returns (case, child digest) pairs.
async fn seed(s: &Seeder) -> Vec<(&'static str, String)> {
    let none = BTreeMap::new();
    let mut out = Vec::new();
    for case in CASES {
        let repo = repo_of(case);
        let c = sha(case);
        let src = format!("https://github.com/acme/{}.git", case.replace('.', ""));
        let oci = map(&[
            ("org.opencontainers.image.revision", &c),
            ("org.opencontainers.image.source", &src),
        ]);
        let child = match case {
            "label" => {
                let d = image(s, &repo, case, Some(json!(oci)), &none).await;
                let body = s.get_manifest(&repo, &d.digest).await.body;
                s.push_manifest(&repo, "1", OCI_MANIFEST, &body).await;
                d
            }
            "manifest-annotation" => {
                let d = image(s, &repo, case, None, &oci).await;
                let body = s.get_manifest(&repo, &d.digest).await.body;
                s.push_manifest(&repo, "1", OCI_MANIFEST, &body).await;
                d
            }
            "descriptor-annotation" => {
                let mut d = image(s, &repo, case, None, &none).await;
                // The Docker Official Images form: a #<sha>:<dir> fragment.
                d.annotations = map(&[
                    ("org.opencontainers.image.revision", &c),
                    ("org.opencontainers.image.source", &format!("{src}#{c}:8.4")),
                ]);
                index(s, &repo, "1", std::slice::from_ref(&d), &none).await;
                d
            }
            "index-annotation" => {
                let d = image(s, &repo, case, None, &none).await;
                index(s, &repo, "1", std::slice::from_ref(&d), &oci).await;
                d
            }
            _ => {
                let d = image(s, &repo, case, None, &none).await;
                let name = case.replace('.', "");
                let st = if case.ends_with("v1") {
                    slsa_v1(&name, &c)
                } else {
                    slsa_v02(&name, &c)
                };
                let att = attestation(s, &repo, &d.digest, st).await;
                index(s, &repo, "1", &[d.clone(), att], &none).await;
                d
            }
        };
        out.push((case, child.digest));
    }
    out
}

fn pods(host: &str, images: &[(&str, String)]) -> Value {
    let items: Vec<Value> = images
        .iter()
        .map(|(case, digest)| {
            let repo = repo_of(case);
            let image = format!("{host}/{repo}:1");
            json!({
                "kind": "Pod",
                "metadata": {"namespace": "prov", "name": format!("pod-{}", case.replace('.', ""))},
                "spec": {"containers": [{"name": "app", "image": image}]},
                "status": {"containerStatuses": [{"name": "app", "image": image, "imageID": format!("docker-pullable://{host}/{repo}@{digest}")}]}
            })
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "List", "items": items})
}

fn one(v: &Value, what: &str) -> Value {
    let a = v
        .as_array()
        .unwrap_or_else(|| panic!("{what}: not an array: {v}"));
    assert_eq!(a.len(), 1, "{what}: {v:#}");
    a[0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_source_gives_the_same_provenance_in_every_output() {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());
    let images = seed(&s).await;
    let env = Env::new();
    env.run(&["index", "--registry", &reg.base_url()]).success();
    let pods_path = env.path().join("pods.json");
    std::fs::write(&pods_path, pods(&reg.host(), &images).to_string()).unwrap();
    let running = env
        .run(&[
            "running",
            "--pods",
            pods_path.to_str().unwrap(),
            "--format",
            "json",
        ])
        .success()
        .json();

    let mut seen = BTreeMap::new();
    for (i, (case, digest)) in images.iter().enumerate() {
        let c = sha(case);
        let q = one(
            &env.run(&["query", "--format", "json", "--commit", &c])
                .success()
                .json(),
            case,
        );
        assert_eq!(q["digest"], digest.as_str(), "{case}");
        let e = one(
            &env.run(&["export", "--format", "json", "--commit", &c])
                .success()
                .json(),
            case,
        );
        let show = env
            .run(&["show", "--format", "json", &format!("{}:1", repo_of(case))])
            .success()
            .json();
        let shown = show["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|img| img["digest"] == digest.as_str())
            .unwrap_or_else(|| panic!("{case}: show lacks {digest}: {show:#}"))
            .clone();
        let r = &running[i];
        assert_eq!(r["known"], true, "{case}: {r:#}");
        let p = q["provenance"].clone();
        assert_eq!(p["commit"], c.as_str(), "{case}");
        assert_eq!(p["origin"], case.split("-v").next().unwrap(), "{case}");
        assert_eq!(e["provenance"], p, "{case}: export");
        assert_eq!(shown["provenance"], p, "{case}: show");
        assert_eq!(r["provenance"], p, "{case}: running");
        // A unique short prefix finds it too.
        let short = one(
            &env.run(&["query", "--format", "json", "--commit", &c[..7]])
                .success()
                .json(),
            case,
        );
        assert_eq!(short["digest"], digest.as_str());
        if *case == "attestation-v1" {
            // The worked example in docs/provenance.md.
            let mut row = q.clone();
            row["registry"] = "registry:5000".into();
            insta::assert_json_snapshot!("attestation_only_row", row);
        }
        seen.insert(*case, p);
    }
    insta::assert_json_snapshot!("provenance_by_source", seen);

    // The source filter is normalised as the stored source is.
    let by_source = env
        .run(&[
            "query",
            "--format",
            "json",
            "--source",
            "https://github.com/acme/descriptor-annotation.git#x:y",
        ])
        .success()
        .json();
    assert_eq!(
        one(&by_source, "--source")["repository"],
        "src/descriptor-annotation"
    );
    let by_branch = env
        .run(&["query", "--format", "json", "--branch", "release"])
        .success()
        .json();
    assert_eq!(
        one(&by_branch, "--branch")["repository"],
        "src/attestation-v1"
    );
    // --annotation sees manifest, descriptor and index annotations.
    for case in [
        "manifest-annotation",
        "descriptor-annotation",
        "index-annotation",
    ] {
        let rows = env
            .run(&[
                "query",
                "--format",
                "json",
                "--annotation",
                &format!("revision={}", sha(case)),
            ])
            .success()
            .json();
        assert_eq!(one(&rows, case)["repository"], repo_of(case).as_str());
    }
    let none = env
        .run(&[
            "query",
            "--format",
            "json",
            "--label",
            &format!("revision={}", sha("index-annotation")),
        ])
        .success()
        .json();
    assert_eq!(none, json!([]), "--label stays on labels");
    // The attestation manifests are not rows.
    let all = env.run(&["query", "--format", "json"]).success().json();
    assert_eq!(all.as_array().unwrap().len(), CASES.len(), "{all:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_attestations_skips_the_layers_and_a_later_run_reads_them() {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());
    seed(&s).await;
    let env = Env::new();
    let c = sha("attestation-v1");
    env.run(&["index", "--registry", &reg.base_url(), "--no-attestations"])
        .success();
    let blobs_skipped = reg.request_count("GET", "/blobs/");
    let manifests_skipped = reg.request_count("GET", "/manifests/");
    let q = || {
        env.run(&["query", "--format", "json", "--commit", &c])
            .success()
            .json()
    };
    assert_eq!(q(), json!([]), "no attestation read yet");
    // Another run that skips them fetches nothing again.
    env.run(&["index", "--registry", &reg.base_url(), "--no-attestations"])
        .success();
    assert_eq!(reg.request_count("GET", "/blobs/"), blobs_skipped);
    assert_eq!(reg.request_count("GET", "/manifests/"), manifests_skipped);
    env.run(&["index", "--registry", &reg.base_url()]).success();
    let rows = q();
    assert_eq!(
        one(&rows, "after a run that reads them")["provenance"]["origin"],
        "attestation"
    );
    let first_with = reg.request_count("GET", "/blobs/");
    // Exactly the two SLSA statements: an attestation manifest's config
    // (which BuildKit says to ignore) is never fetched.
    assert_eq!(first_with, blobs_skipped + 2, "the statements, once each");
    // A third run fetches nothing again: each statement is read once.
    env.run(&["index", "--registry", &reg.base_url()]).success();
    assert_eq!(reg.request_count("GET", "/blobs/"), first_with);
}

#[test]
fn ambiguous_and_bad_commit_prefixes_are_usage_errors() {
    use crate::answers_fixture::{build_db, image, tags, OCI};
    use acr_index::store::Record;
    let (a, b) = (
        "abcdef1000000000000000000000000000000000",
        "abcdef1111111111111111111111111111111111",
    );
    let rev = "org.opencontainers.image.revision";
    let records = vec![
        Record::Manifest(Box::new(image("a", OCI, DEFAULT_CREATED, &[(rev, a)]))),
        Record::Manifest(Box::new(image("b", OCI, DEFAULT_CREATED, &[(rev, b)]))),
        tags("x/a", &[("1", "a")]),
        tags("x/b", &[("1", "b")]),
    ];
    let env = Env::new();
    build_db(&env.db(), &[records]);
    let q = |c: &str| env.run(&["query", "--format", "json", "--commit", c]);
    // Seven digits shared by two commits: name two and ask for more.
    let err = q("abcdef1").expect_code(2);
    assert!(
        err.stderr.contains(a) && err.stderr.contains(b),
        "{}",
        err.stderr
    );
    assert_eq!(q("abcdef1*").success().json().as_array().unwrap().len(), 2);
    assert_eq!(
        one(&q("abcdef11").success().json(), "unique")["repository"],
        "x/b"
    );
    assert_eq!(one(&q(a).success().json(), "full")["repository"], "x/a");
    assert_eq!(q("abcdef2").success().json(), json!([]));
    let bad = env
        .run(&["query", "--source", "javascript:alert(1)"])
        .expect_code(2);
    assert!(bad.stderr.contains("--source"), "{}", bad.stderr);
}
