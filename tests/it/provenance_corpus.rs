//! The real-world corpus (../shared/realworld-corpus) pushed into the real
//! registry and indexed: Docker Official Images-style descriptor
//! annotations and `#<sha>:<dir>` sources, buildah's Azure DevOps, OCI and
//! label images, regclient's BuildKit-style attestation children.

use crate::support::cli::Env;
use crate::support::layout::{corpus, push_layout};
use crate::support::registry::RealRegistry;
use crate::support::seed::Seeder;
use serde_json::Value;

const DOI_SHA: &str = "a15b34a032f48089ee7b02d307d8f89a96b3bb76";

async fn seed(s: &Seeder) -> Vec<String> {
    let mut refused = Vec::new();
    let mut dirs: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(corpus().join("buildah"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                format!("buildah/{}", p.file_name().unwrap().to_str().unwrap()),
                p,
            )
        })
        .collect();
    dirs.push((
        "regclient/testrepo".into(),
        corpus().join("layouts/regclient-testrepo"),
    ));
    dirs.sort();
    for (repo, dir) in dirs {
        let pushed = push_layout(s, &dir, &repo).await;
        assert!(
            !pushed.tags.is_empty(),
            "{repo}: nothing pushed ({:?})",
            pushed.refused
        );
        refused.extend(pushed.refused);
    }
    refused
}

fn rows<'a>(v: &'a Value, repo: &str) -> Vec<&'a Value> {
    v.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["repository"] == repo)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn corpus_provenance_platforms_and_links() {
    let reg = RealRegistry::start();
    let s = Seeder::new(&reg.base_url());
    let refused = seed(&s).await;
    let env = Env::new();
    let run = env.run(&["index", "--registry", &reg.base_url()]);
    assert!(
        matches!(run.status, Some(0) | Some(3)),
        "{}\nrefused by the registry: {refused:?}",
        run.stderr
    );
    let all = env.run(&["query", "--format", "json"]).success().json();

    // Docker Official Images style: revision and source on the descriptors.
    let doi = rows(&all, "buildah/acme-doi-style");
    assert_eq!(doi.len(), 2, "{doi:#?}");
    for r in &doi {
        let p = &r["provenance"];
        assert_eq!(p["commit"], DOI_SHA);
        assert_eq!(p["origin"], "descriptor-annotation");
        assert_eq!(p["source"], "https://github.com/acme/doi-style");
        assert_eq!(
            p["commit_url"],
            format!("https://github.com/acme/doi-style/commit/{DOI_SHA}")
        );
    }
    // The DOI `#<sha>:<dir>` source form gives a valid source and link.
    let src = rows(&all, "buildah/acme-doi-source");
    let p = &src[0]["provenance"];
    assert_eq!(p["source"], "https://github.com/docker-library/mysql");
    assert_eq!(
        p["commit_url"],
        format!("https://github.com/docker-library/mysql/commit/{DOI_SHA}")
    );
    let by_commit = env
        .run(&["query", "--format", "json", "--commit", &DOI_SHA[..9]])
        .success()
        .json();
    assert_eq!(by_commit.as_array().unwrap().len(), 3, "{by_commit:#}");

    // Azure DevOps labels (docker and OCI), with their base image.
    for r in rows(&all, "buildah/ado-api") {
        let p = &r["provenance"];
        assert_eq!(p["family"], "azure-devops", "{r:#}");
        assert_eq!(p["origin"], "label");
        assert_eq!(p["base_name"], "mcr.microsoft.com/dotnet/aspnet:8.0");
        assert_eq!(p["build_id"], "88231");
    }
    // Empty annotations and labels are no provenance.
    let odd = rows(&all, "buildah/misc-odd-labels");
    assert_eq!(odd[0]["provenance"]["commit"], Value::Null);
    assert_eq!(odd[0]["provenance"]["base_name"], Value::Null);

    // regclient's BuildKit-style indexes: attestation and platform-less
    // children are no rows; every row has a platform; show agrees on it.
    let rc = rows(&all, "regclient/testrepo");
    assert!(!rc.is_empty());
    for r in &rc {
        if r["index_digest"].is_null() {
            continue;
        }
        let platform = r["platform"].as_str().unwrap_or_else(|| panic!("{r:#}"));
        assert!(!platform.starts_with("unknown"), "{r:#}");
        let shown = env
            .run(&["show", "--format", "json", r["digest"].as_str().unwrap()])
            .success()
            .json();
        assert_eq!(shown["images"][0]["platform"], platform, "{r:#}");
        assert_eq!(shown["images"][0]["provenance"], r["provenance"]);
    }
    // Every row's provenance is what show gives for that manifest.
    for r in all.as_array().unwrap().iter().step_by(3) {
        let shown = env
            .run(&["show", "--format", "json", r["digest"].as_str().unwrap()])
            .success()
            .json();
        assert_eq!(shown["images"][0]["provenance"], r["provenance"], "{r:#}");
    }
}
