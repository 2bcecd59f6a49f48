//! Consistency fixes found on real images: a config under
//! `application/octet-stream` is read as an image config; `running` names
//! the repository the container's imageID names when a digest lives in
//! several repositories.

use crate::support::cli::Env;
use crate::support::registry::RealRegistry;
use crate::support::seed::*;
use serde_json::json;
use std::collections::BTreeMap;

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

#[tokio::test(flavor = "multi_thread")]
async fn octet_stream_config_is_an_image_and_running_prefers_the_image_id_repository() {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());
    let l = layer("octet");
    let labels = json!({"org.opencontainers.image.revision": "0ctet0000000000000000000000000000000000a", "org.opencontainers.image.source": "https://github.com/acme/old"});
    let (config, _) = image_config_for(
        Some(labels),
        &Platform::linux_amd64(),
        Some(DEFAULT_CREATED),
        &l.diff_id,
    );
    let (_, layer_type) = image_types(Kind::Docker);
    let (body, digest) = image_manifest(
        Kind::Docker,
        &Descriptor::of("application/octet-stream", &config),
        &[Descriptor::of(layer_type, &l.gzip)],
        &BTreeMap::new(),
        None,
    );
    for repo in ["team/one", "team/two"] {
        s.push_blob(repo, &l.gzip).await;
        s.push_blob(repo, &config).await;
        s.push_manifest(repo, "1", DOCKER_MANIFEST, &body).await;
    }
    let env = Env::new();
    env.run(&["index", "--registry", &reg.base_url()]).success();
    let rows = env.run(&["query", "--format", "json"]).success().json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for r in rows {
        assert_eq!(r["platform"], "linux/amd64", "{r:#}");
        assert_eq!(r["provenance"]["origin"], "label");
    }
    let show = env
        .run(&["show", "--format", "json", &digest])
        .success()
        .json();
    assert_eq!(show["images"][0]["kind"], "image");

    let host = reg.host();
    let pod = |name: &str, image_repo: &str, id_repo: &str| {
        json!({"kind": "Pod", "metadata": {"namespace": "ns", "name": name},
               "spec": {"containers": [{"name": "c", "image": format!("{host}/{image_repo}:1")}]},
               "status": {"containerStatuses": [{"name": "c", "image": format!("{host}/{image_repo}:1"),
                          "imageID": format!("docker-pullable://{host}/{id_repo}@{digest}")}]}})
    };
    let pods = json!({"kind": "List", "items": [pod("a", "team/one", "team/two"), pod("b", "team/one", "team/one")]});
    let path = env.path().join("pods.json");
    std::fs::write(&path, pods.to_string()).unwrap();
    let running = env
        .run(&[
            "running",
            "--format",
            "json",
            "--pods",
            path.to_str().unwrap(),
        ])
        .success()
        .json();
    assert_eq!(running[0]["repository"], "team/two", "{running:#}");
    assert_eq!(running[1]["repository"], "team/one", "{running:#}");
    assert_eq!(running[0]["provenance"], rows[0]["provenance"]);
}
