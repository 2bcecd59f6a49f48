//! The test suite's in-process registry as a standalone server, for the
//! benchmark: N generated images, optional added latency, optional ACR API.
//!
//!   cargo run --release --example fake_registry -- --images 10000 --repos 500 --latency-ms 20 [--acr] [--referrers]
//!
//! Prints its URL on stdout, serves until killed.

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
        // ACR serves the OCI 1.1 referrers API; without --referrers, 404.
        referrers: args
            .iter()
            .any(|a| a == "--referrers")
            .then(fake_referrers::ReferrersApi::default),
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
    fake.set_faults(Faults {
        latency: Duration::from_millis(num("--latency-ms", 0)),
        ..Faults::default()
    });
    println!("{}", fake.url);
    std::io::stdout().flush().unwrap();
    std::future::pending::<()>().await;
}
