//! The test suite's in-process registries as a standalone server, for the
//! benchmark: N generated images, optional added latency, and with `--acr`
//! the ACR fake (listing API, token endpoints, optional ABAC behaviour and
//! read throttle).
//!
//!   cargo run --release --example fake_registry -- --images 10000 --repos 500 --latency-ms 20
//!   cargo run --release --example fake_registry -- --acr [--abac] [--throttle-rps 50] --images 1000 --repos 100
//!   cargo run --release --example fake_registry -- --acr --referrers --images 100 --repos 100
//!   cargo run --release --example fake_registry -- --images 0 --wide 8 --width 1000
//!       (8 repositories bench/wideN, each one index of 1000 images)
//!
//! `--acr --referrers` serves the plain fake with ACR's listing API and the
//! OCI 1.1 referrers API (no token flow); `--acr` alone the economy fake.
//!
//! Prints its URL on stdout (with `--acr`, a refresh token on the second
//! line; `GET <url>/_fake/stats` gives its counters, `POST <url>/_fake/reset`
//! clears them) and serves until killed.

#[allow(dead_code, unused_imports)]
#[path = "../tests/it/support/fake_acr_economy.rs"]
mod fake_acr_economy;
#[allow(dead_code, unused_imports)]
#[path = "../tests/it/support/fake_acr_economy_api.rs"]
mod fake_acr_economy_api;
#[allow(dead_code, unused_imports)]
#[path = "../tests/it/support/fake_acr_economy_routes.rs"]
mod fake_acr_economy_routes;
#[path = "../tests/it/support/fake_acr_front_end.rs"]
mod fake_acr_front_end;
#[allow(dead_code, unused_imports)]
#[path = "../tests/it/support/fake_referrers.rs"]
mod fake_referrers;
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
    let flag = |name: &str| args.iter().any(|a| a == name);
    let num = |name: &str, default: f64| -> f64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse().expect("a number"))
            .unwrap_or(default)
    };
    let images = num("--images", 1000.0) as usize;
    let repos = (num("--repos", 100.0) as usize).max(1);
    let latency = Duration::from_millis(num("--latency-ms", 0.0) as u64);
    if flag("--acr") && !flag("--referrers") {
        let fake = fake_acr_economy::FakeAcrEconomy::start(fake_acr_economy::Config {
            abac: flag("--abac"),
            throttle_rps: Some(num("--throttle-rps", 0.0)).filter(|r| *r > 0.0),
            latency,
            access_lifetime: None,
        })
        .await;
        fake.populate(images, repos);
        println!("{}\n{}", fake.base, fake.refresh_token());
        std::io::stdout().flush().unwrap();
        std::future::pending::<()>().await;
    }
    let fake = FakeRegistry::start(Options {
        acr_api: flag("--acr"),
        // ACR serves the OCI 1.1 referrers API; without --referrers, 404.
        referrers: flag("--referrers").then(fake_referrers::ReferrersApi::default),
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
    let width = num("--width", 1000.0) as usize;
    for w in 0..num("--wide", 0.0) as usize {
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
        latency,
        ..Faults::default()
    });
    println!("{}", fake.url);
    std::io::stdout().flush().unwrap();
    std::future::pending::<()>().await;
}
