//! The test suite's in-process registry as a standalone server, for the
//! benchmark: N generated images, optional added latency, optional ACR API.
//!
//!   cargo run --release --example fake_registry -- --images 10000 --repos 500 --latency-ms 20 [--acr]
//!       [--wide 8 --width 1000]   (8 repositories bench/wideN, each one index of 1000 images)
//!
//! Prints its URL on stdout, serves until killed.

#[allow(dead_code, unused_imports)]
#[path = "../tests/it/support/fake_registry.rs"]
mod fake_registry;
#[allow(dead_code, unused_imports)]
#[path = "../tests/it/support/fixtures.rs"]
mod fixtures;

use fake_registry::{FakeRegistry, Faults, Options};
use std::io::Write;
use std::time::Duration;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse().expect("a number"))
            .unwrap_or(default)
    };
    let images = num("--images", 1000);
    let repos = num("--repos", 100).max(1);
    let fake = FakeRegistry::start(Options {
        acr_api: args.iter().any(|a| a == "--acr"),
        ..Options::default()
    })
    .await;
    for i in 0..images {
        let sha = format!("{:040x}", i as u128 * 0x9e37_79b9_7f4a_7c15);
        fake.put_image(
            &format!("bench/svc{:04}", i % repos),
            &format!("v{}", i / repos),
            serde_json::json!({
                "com.visualstudio.myorg.image.build.sourceversion": sha,
                "com.visualstudio.myorg.image.build.sourcebranchname": "main",
                "com.visualstudio.myorg.image.build.buildnumber": format!("2024.{i}"),
                "com.visualstudio.myorg.image.build.builduri": format!("vstfs:///Build/Build/{i}"),
                "com.visualstudio.myorg.image.build.repository.uri": "https://dev.azure.com/myorg/proj/_git/svc",
                "org.opencontainers.image.revision": sha,
            }),
        );
    }
    // Wide indexes (docs/failures.md measures memory against them): each
    // child an untagged image with a few KiB of labels.
    let width = num("--width", 1000);
    for w in 0..num("--wide", 0) {
        let repo = format!("bench/wide{w}");
        let children: Vec<fixtures::Descriptor> = (0..width)
            .map(|c| {
                let labels = serde_json::json!({"n": format!("{w}-{c}"), "pad": "x".repeat(4096)});
                let (config, _) =
                    fixtures::image_config(Some(labels), "linux", "amd64", None, None);
                fake.put_blob(&config);
                let cd = fixtures::Descriptor::of(fixtures::DOCKER_CONFIG, &config);
                let (m, _) = fixtures::image_manifest(
                    fixtures::Kind::Docker,
                    &cd,
                    &[],
                    &Default::default(),
                    None,
                );
                fake.put_manifest(&repo, None, fixtures::DOCKER_MANIFEST, &m);
                fixtures::Descriptor::of(fixtures::DOCKER_MANIFEST, &m)
            })
            .collect();
        let (index, _) =
            fixtures::index_manifest(fixtures::Kind::Oci, &children, &Default::default());
        fake.put_manifest(&repo, Some("v1"), fixtures::OCI_INDEX, &index);
    }
    fake.set_faults(Faults {
        latency: Duration::from_millis(num("--latency-ms", 0)),
        ..Faults::default()
    });
    println!("{}", fake.url);
    std::io::stdout().flush().unwrap();
    std::future::pending::<()>().await;
}
