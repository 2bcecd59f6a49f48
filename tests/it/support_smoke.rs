//! Smoke tests of the test support itself against a real registry.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::registry::{RealRegistry, TokenAuthConfig};
use crate::support::seed::*;

/// GET with every manifest type in Accept: digest, type and body match.
async fn assert_round_trip(
    s: &Seeder,
    repo: &str,
    reference: &str,
    digest: &str,
    media_type: &str,
) {
    let got = s.get_manifest(repo, reference).await;
    assert_eq!(got.status, StatusCode::OK, "GET {repo}:{reference}");
    assert_eq!(got.digest.as_deref(), Some(digest), "{repo}:{reference}");
    assert_eq!(digest_of(&got.body), digest, "{repo}:{reference} body");
    assert_eq!(
        got.content_type.as_deref(),
        Some(media_type),
        "{repo}:{reference}"
    );
    let body: Value = serde_json::from_slice(&got.body).expect("manifest JSON");
    assert_eq!(
        body["mediaType"], media_type,
        "{repo}:{reference} mediaType"
    );
}

#[tokio::test]
async fn single_images_round_trip() {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());

    let docker = ImageSpec::docker().label("org.opencontainers.image.version", "1.0");
    let p = s.push_image("app/docker", "v1", &docker).await;
    assert_round_trip(&s, "app/docker", "v1", &p.manifest_digest, DOCKER_MANIFEST).await;
    assert_round_trip(
        &s,
        "app/docker",
        &p.manifest_digest,
        &p.manifest_digest,
        DOCKER_MANIFEST,
    )
    .await;

    let oci = ImageSpec::oci()
        .labels(json!({"team": "a", "empty": ""}))
        .annotation(
            "org.opencontainers.image.source",
            "https://example.test/src",
        )
        .platform(Platform::linux_arm64())
        .created("2023-05-06T07:08:09Z");
    let p = s.push_image("app/oci", "v1", &oci).await;
    assert_round_trip(&s, "app/oci", "v1", &p.manifest_digest, OCI_MANIFEST).await;
    let got = s.get_manifest("app/oci", "v1").await;
    let body: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(
        body["annotations"]["org.opencontainers.image.source"],
        "https://example.test/src"
    );

    // Labels: null, Labels absent, Labels {} and no `created` all push.
    for (tag, spec) in [
        ("null", ImageSpec::docker().labels(Value::Null)),
        ("absent", ImageSpec::oci().no_created()),
        ("empty", ImageSpec::oci().labels(json!({}))),
    ] {
        let p = s.push_image("app/labels", tag, &spec).await;
        assert_round_trip(
            &s,
            "app/labels",
            tag,
            &p.manifest_digest,
            spec.kind.manifest_type(),
        )
        .await;
    }
    let (null_config, _) = image_config(Some(Value::Null), "linux", "amd64", None, None);
    let null_config: Value = serde_json::from_slice(&null_config).unwrap();
    assert!(null_config["config"]["Labels"].is_null());
    assert!(null_config.get("created").is_none());
}

#[tokio::test]
async fn indexes_round_trip() {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());

    let oci = IndexSpec::oci()
        .image(ImageSpec::oci().label("arch", "amd64"))
        .image(
            ImageSpec::oci()
                .label("arch", "arm64")
                .platform(Platform::linux_arm64()),
        )
        .annotation("org.opencontainers.image.revision", "abc123")
        .with_attestations();
    let p = s.push_index("multi/oci", "v1", &oci).await;
    assert_round_trip(&s, "multi/oci", "v1", &p.digest, OCI_INDEX).await;
    assert_eq!(p.children.len(), 4);
    for c in &p.children {
        assert_round_trip(&s, "multi/oci", &c.digest, &c.digest, &c.media_type).await;
    }
    let att = &p.children[2];
    assert_eq!(att.attests.as_deref(), Some(p.children[0].digest.as_str()));
    let body: Value = serde_json::from_slice(&p.manifest).unwrap();
    assert_eq!(
        body["manifests"][2]["platform"],
        json!({"architecture": "unknown", "os": "unknown"})
    );
    assert_eq!(
        body["manifests"][2]["annotations"]["vnd.docker.reference.type"],
        "attestation-manifest"
    );

    let list = IndexSpec::docker()
        .image(ImageSpec::docker().label("x", "1"))
        .image(ImageSpec::docker().platform(Platform::new("linux", "arm").variant("v7")));
    let p = s.push_index("multi/docker", "latest", &list).await;
    assert_round_trip(&s, "multi/docker", "latest", &p.digest, DOCKER_LIST).await;
    for c in &p.children {
        assert_round_trip(&s, "multi/docker", &c.digest, &c.digest, DOCKER_MANIFEST).await;
    }

    let nested = IndexSpec::oci()
        .image(
            ImageSpec::oci()
                .platform(Platform::new("windows", "amd64").os_version("10.0.20348.2340")),
        )
        .index(IndexSpec::oci().image(ImageSpec::oci().label("inner", "yes")));
    let p = s.push_index("multi/nested", "v1", &nested).await;
    assert_round_trip(&s, "multi/nested", "v1", &p.digest, OCI_INDEX).await;
    let inner = p.children[1].index.as_ref().expect("nested index");
    assert_round_trip(&s, "multi/nested", &inner.digest, &inner.digest, OCI_INDEX).await;
    let leaf = &inner.children[0].digest;
    assert_round_trip(&s, "multi/nested", leaf, leaf, OCI_MANIFEST).await;
}

#[tokio::test]
async fn artifacts_and_tags_round_trip() {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());

    let helm = s
        .push_artifact(
            "charts/demo",
            "0.1.0",
            &ArtifactSpec::helm_chart("demo", "0.1.0"),
        )
        .await;
    assert_round_trip(
        &s,
        "charts/demo",
        "0.1.0",
        &helm.manifest_digest,
        OCI_MANIFEST,
    )
    .await;
    let body: Value = serde_json::from_slice(&helm.manifest).unwrap();
    assert_eq!(body["config"]["mediaType"], HELM_CONFIG);

    let sbom = ArtifactSpec::empty_config("application/vnd.example.sbom.v1").annotation("k", "v");
    let p = s.push_artifact("art/empty", "sbom", &sbom).await;
    assert_round_trip(&s, "art/empty", "sbom", &p.manifest_digest, OCI_MANIFEST).await;
    let body: Value = serde_json::from_slice(&p.manifest).unwrap();
    assert_eq!(body["artifactType"], "application/vnd.example.sbom.v1");
    assert_eq!(body["config"]["digest"], digest_of(b"{}"));

    // A second tag on the same manifest, then moving it, then deleting.
    let d = s
        .tag_existing("charts/demo", "stable", &helm.manifest, OCI_MANIFEST)
        .await;
    assert_eq!(d, helm.manifest_digest);
    let img = s
        .push_image("charts/demo", "stable", &ImageSpec::oci())
        .await;
    assert_round_trip(
        &s,
        "charts/demo",
        "stable",
        &img.manifest_digest,
        OCI_MANIFEST,
    )
    .await;
    s.delete_manifest("charts/demo", &helm.manifest_digest)
        .await;
    let gone = s.get_manifest("charts/demo", "0.1.0").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(
        reg.request_count("DELETE", "/v2/charts/demo/manifests/") == 1,
        "{}",
        reg.log()
    );
}

#[tokio::test]
async fn htpasswd_auth() {
    let reg = RealRegistry::start_with_htpasswd("alice", "s3cret");
    let s = Seeder::with_basic(&reg.base_url(), "alice", "s3cret");
    let p = s
        .push_image("private/app", "v1", &ImageSpec::docker())
        .await;
    assert_round_trip(&s, "private/app", "v1", &p.manifest_digest, DOCKER_MANIFEST).await;

    let anon = Seeder::new(&reg.base_url());
    let resp = anon.request(Method::GET, "/v2/").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Basic "), "{challenge}");
}

#[tokio::test]
async fn token_auth_challenges_with_bearer() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["token-issuer".into()]).unwrap();
    let bundle = dir.path().join("root.pem");
    std::fs::write(&bundle, cert.cert.pem()).unwrap();
    let reg = RealRegistry::start_with_token_auth(TokenAuthConfig {
        realm: "http://127.0.0.1:9/token".into(),
        service: "test-registry".into(),
        issuer: "test-issuer".into(),
        rootcertbundle_path: bundle,
    });
    let resp = Seeder::new(&reg.base_url())
        .request(Method::GET, "/v2/")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge,
        r#"Bearer realm="http://127.0.0.1:9/token",service="test-registry""#
    );
}

#[tokio::test]
async fn catalog_paginates_with_link() {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());
    for repo in ["a/one", "b/two", "c/three"] {
        s.push_image(repo, "v1", &ImageSpec::oci()).await;
    }
    let resp = s
        .request(Method::GET, "/v2/_catalog?n=2")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let link = resp
        .headers()
        .get("link")
        .expect("Link header")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(link.contains("rel=\"next\""), "{link}");
    let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(body["repositories"], json!(["a/one", "b/two"]));
}
