//! Push labelled sample images into a registry through its push API.
//! Used by the quick start and the benchmark; shares the test suite's seeder.
//!
//!   cargo run --example seed -- http://127.0.0.1:5000 --sample
//!   cargo run --example seed -- http://127.0.0.1:5000 --repos 300 --tags 3

#[allow(dead_code, unused_imports)]
#[path = "../tests/it/support/fixtures.rs"]
mod fixtures;
#[allow(dead_code, unused_imports)]
#[path = "../tests/it/support/seed.rs"]
mod seed;
#[allow(dead_code, unused_imports)]
#[path = "../tests/it/support/specs.rs"]
mod specs;

use futures::stream::{self, StreamExt};
use seed::*;

const USAGE: &str =
    "usage: seed REGISTRY_URL [--sample] [--repos N --tags M] [--attested K] [--concurrency C]";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse::<usize>().expect(USAGE))
    };
    let seeder = Seeder::new(url);
    if args.iter().any(|a| a == "--sample") {
        sample(&seeder).await;
    }
    let repos = flag("--repos").unwrap_or(0);
    let tags = flag("--tags").unwrap_or(1);
    let concurrency = flag("--concurrency").unwrap_or(8);
    stream::iter((0..repos).flat_map(|r| (0..tags).map(move |t| (r, t))))
        .for_each_concurrent(concurrency, |(r, t)| {
            let seeder = &seeder;
            async move {
                let sha = format!("{:040x}", (r * 1000 + t) as u128 * 0x9e3779b97f4a7c15);
                let spec = ImageSpec::docker()
                    .label("com.visualstudio.myorg.image.build.sourceversion", &sha)
                    .label(
                        "com.visualstudio.myorg.image.build.sourcebranchname",
                        if t == 0 { "main" } else { "feature/x" },
                    )
                    .label(
                        "com.visualstudio.myorg.image.build.buildnumber",
                        &format!("2024.{r}.{t}"),
                    )
                    .label(
                        "com.visualstudio.myorg.image.build.builduri",
                        &format!("vstfs:///Build/Build/{}", r * 100 + t),
                    )
                    .label(
                        "com.visualstudio.myorg.image.build.repository.uri",
                        &format!("https://dev.azure.com/myorg/proj/_git/svc{r}"),
                    )
                    .label("org.opencontainers.image.revision", &sha);
                seeder
                    .push_image(&format!("bench/svc{r:04}"), &format!("v{t}"), &spec)
                    .await;
            }
        })
        .await;
    if repos > 0 {
        eprintln!("pushed {} images in {repos} repositories", repos * tags);
    }
    // K two-platform indexes with BuildKit provenance attestations, and no
    // git labels: what the attestation benchmark (docs/provenance.md) reads.
    let attested = flag("--attested").unwrap_or(0);
    stream::iter(0..attested)
        .for_each_concurrent(concurrency, |i| {
            let seeder = &seeder;
            async move {
                let img = |p: Platform| {
                    ImageSpec::oci()
                        .label("app.instance", &i.to_string())
                        .platform(p)
                };
                let index = IndexSpec::oci()
                    .image(img(Platform::linux_amd64()))
                    .image(img(Platform::linux_arm64().variant("v8")))
                    .with_attestations();
                seeder
                    .push_index(&format!("attested/app{i:04}"), "v1", &index)
                    .await;
            }
        })
        .await;
    if attested > 0 {
        eprintln!("pushed {attested} attested indexes");
    }
}

/// A small registry that looks like a real team's.
async fn sample(s: &Seeder) {
    let devops = |sha: &str, branch: &str, build: u32| {
        ImageSpec::docker()
            .label("com.visualstudio.myorg.image.build.sourceversion", sha)
            .label(
                "com.visualstudio.myorg.image.build.sourcebranchname",
                branch,
            )
            .label(
                "com.visualstudio.myorg.image.build.buildnumber",
                &format!("20231121.{build}"),
            )
            .label(
                "com.visualstudio.myorg.image.build.builduri",
                &format!("vstfs:///Build/Build/{build}"),
            )
            .label(
                "com.visualstudio.myorg.image.build.repository.uri",
                "https://myorg.visualstudio.com/myproj/_git/myrepo",
            )
            .label(
                "com.visualstudio.myorg.image.system.teamfoundationcollectionuri",
                "https://myorg.visualstudio.com/",
            )
            .label("com.visualstudio.myorg.image.system.teamproject", "myproj")
            .label("image.base.ref.name", "mcr.microsoft.com/dotnet/aspnet:8.0")
    };
    s.push_image(
        "team/api",
        "1.4.2",
        &devops("13c0f2b5a2ab438dd9dab2a669fef68b61f18bed", "main", 127294),
    )
    .await;
    s.push_image(
        "team/api",
        "pr-512",
        &devops(
            "9f1e77c0d3b24f6e8a55c1d2e3f4a5b6c7d8e9f0",
            "add-containerization",
            127301,
        ),
    )
    .await;
    s.push_image(
        "team/worker",
        "1.0.0",
        &devops("13c0f2b5a2ab438dd9dab2a669fef68b61f18bed", "main", 127295),
    )
    .await;
    let gh = |arch: Platform| {
        ImageSpec::oci()
            .label(
                "org.opencontainers.image.source",
                "https://github.com/example/frontend",
            )
            .label(
                "org.opencontainers.image.revision",
                "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
            )
            .platform(arch)
    };
    let index = IndexSpec::oci()
        .image(gh(Platform::linux_amd64()))
        .image(gh(Platform::linux_arm64().variant("v8")))
        .with_attestations();
    s.push_index("web/frontend", "2024.05", &index).await;
    s.push_artifact(
        "charts/frontend",
        "0.3.0",
        &ArtifactSpec::helm_chart("frontend", "0.3.0"),
    )
    .await;
    eprintln!(
        "pushed sample images: team/api, team/worker, web/frontend (2 platforms), charts/frontend"
    );
}
