//! `bases --stale`: a base tag that moved between two runs, learned from
//! the index (the base's registry indexed too) or by `index
//! --resolve-bases` from a second registry standing in for another host.

use crate::support::cli::Env;
use crate::support::registry::RealRegistry;
use crate::support::seed::*;
use serde_json::{json, Value};

/// Push an image built on `base` (name, digest) into `repo:tag`.
async fn app(s: &Seeder, repo: &str, tag: &str, base: (&str, &str)) -> PushedImage {
    let spec = ImageSpec::docker()
        .label(
            "org.opencontainers.image.revision",
            "1234567890abcdef1234567890abcdef12345678",
        )
        .label("image.base.ref.name", base.0)
        .label("image.base.digest", base.1);
    s.push_image(repo, tag, &spec).await
}

async fn base(s: &Seeder, repo: &str, tag: &str, version: &str) -> PushedImage {
    let spec = ImageSpec::docker().label("version", version);
    s.push_image(repo, tag, &spec).await
}

fn bases(env: &Env, stale: bool) -> Value {
    let mut args = vec!["bases", "--format", "json"];
    if stale {
        args.push("--stale");
    }
    env.run(&args).success().json()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_base_tag_that_moved_between_runs_makes_its_images_stale() {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());
    let b1 = base(&s, "base/dotnet", "7.0", "1").await;
    let name = format!("{}/base/dotnet:7.0", reg.host());
    app(&s, "team/api", "1", (&name, &b1.manifest_digest)).await;
    let env = Env::new();
    env.run(&["index", "--registry", &reg.base_url()]).success();
    let all = bases(&env, false);
    let api = &all.as_array().unwrap()[0];
    assert_eq!(api["repository"], "team/api");
    assert_eq!(api["stale"], false, "{all:#}");
    assert_eq!(api["current_from"], "index");
    assert_eq!(bases(&env, true), json!([]));

    let b2 = base(&s, "base/dotnet", "7.0", "2").await;
    env.run(&["index", "--registry", &reg.base_url()]).success();
    let stale = bases(&env, true);
    let api = &stale.as_array().unwrap()[0];
    assert_eq!(api["repository"], "team/api", "{stale:#}");
    assert_eq!(api["base_digest"], b1.manifest_digest.as_str());
    assert_eq!(api["current_digest"], b2.manifest_digest.as_str());
    let table = env.run(&["bases", "--stale"]).success().stdout;
    assert!(
        table.contains("stale") && table.contains("team/api:1"),
        "{table}"
    );
    // The worked example in docs/provenance.md.
    insta::assert_snapshot!(
        "bases_stale_table",
        table.replace(&reg.host(), "registry:5000")
    );
    let csv = env.run(&["bases", "--format", "csv"]).success().stdout;
    assert!(csv.lines().count() >= 2 && csv.contains(",true"), "{csv}");
}

#[tokio::test(flavor = "multi_thread")]
async fn resolve_bases_asks_the_other_registry_once_per_reference() {
    let reg = RealRegistry::start();
    let other = RealRegistry::start();
    let so = Seeder::new(&other.base_url());
    let b1 = base(&so, "lib/base", "1", "1").await;
    let name = format!("{}/lib/base:1", other.host());
    let s = Seeder::new(&reg.base_url());
    app(&s, "team/api", "1", (&name, &b1.manifest_digest)).await;
    app(&s, "team/web", "1", (&name, &b1.manifest_digest)).await;
    let env = Env::new();

    env.run(&["index", "--registry", &reg.base_url()]).success();
    assert!(bases(&env, false)
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["stale"].is_null()));
    assert_eq!(
        other.request_count("HEAD", "/manifests/"),
        0,
        "only with --resolve-bases"
    );

    env.run(&["index", "--registry", &reg.base_url(), "--resolve-bases"])
        .success();
    assert_eq!(
        other.request_count("HEAD", "/lib/base/manifests/1"),
        1,
        "one HEAD per reference"
    );
    let all = bases(&env, false);
    for r in all.as_array().unwrap() {
        assert_eq!(r["stale"], false, "{all:#}");
        assert_eq!(r["current_from"], "registry");
        assert!(r["checked_at"].is_string());
    }

    base(&so, "lib/base", "1", "2").await;
    env.run(&["index", "--registry", &reg.base_url(), "--resolve-bases"])
        .success();
    assert_eq!(other.request_count("HEAD", "/lib/base/manifests/1"), 2);
    let stale = bases(&env, true);
    assert_eq!(stale.as_array().unwrap().len(), 2, "{stale:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_bases_is_the_commands_json() {
    let env = crate::answers_fixture::Env::provenance();
    let server = crate::support::serve::Server::start(&env.db, &[]);
    for (path, args) in [
        ("/api/v1/bases", vec!["bases", "--format", "json"]),
        (
            "/api/v1/bases?stale=true",
            vec!["bases", "--stale", "--format", "json"],
        ),
    ] {
        let (status, _, body) = server.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body, env.run(&args).stdout, "{path}");
    }
    let (_, _, body) = server.get("/api/v1/bases").await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(!v.as_array().unwrap().is_empty(), "{body}");
    let (status, _, _) = server.get("/api/v1/bases?color=red").await;
    assert_eq!(status, 400);
}
