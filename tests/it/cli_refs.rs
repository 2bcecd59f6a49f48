//! References people copy: the 12-hex prefixes tables print, bare hex,
//! config digests in `query --digest`, ambiguity, malformed digests, and
//! `show repo` meaning `latest`.

use super::answers_fixture::{build_db, dg, image, tags, Env, DOCKER};
use acr_index::store::Record;

fn hex(name: &str) -> String {
    dg(name).as_str().trim_start_matches("sha256:").to_string()
}

#[test]
fn a_printed_prefix_resolves_in_show_query_and_running() {
    let env = Env::provenance();
    let api = hex("api-1.2");
    let full = env
        .run(&["show", &format!("sha256:{api}"), "--format", "json"])
        .json();
    for form in [
        format!("sha256:{}", &api[..12]),
        api[..12].to_string(),
        api[..20].to_string(),
        api.clone(),
        format!("SHA256:{}", api[..12].to_uppercase()),
    ] {
        let out = env.run(&["show", &form, "--format", "json"]).json();
        assert_eq!(out["images"], full["images"], "{form}");
    }
    // query --digest: prefixes, and the config digest as show takes it.
    let want = env.run(&[
        "query",
        "--digest",
        &format!("sha256:{api}"),
        "--format",
        "json",
    ]);
    let config = hex("api-1.2-config");
    for form in [
        api[..12].to_string(),
        format!("sha256:{}", &config[..14]),
        config.clone(),
    ] {
        let got = env.run(&["query", "--digest", &form, "--format", "json"]);
        assert_eq!(got.stdout, want.stdout, "{form}");
    }
    assert_eq!(want.json().as_array().unwrap().len(), 2, "1.2 and latest");
    // running: an imageID given as bare hex.
    let pods = env.core.write(
        "pods.json",
        &format!(
            r#"{{"kind":"List","items":[{{"kind":"Pod","metadata":{{"namespace":"n","name":"p"}},
               "status":{{"containerStatuses":[{{"name":"c","image":"x","imageID":"{config}"}}]}}}}]}}"#
        ),
    );
    let out = env.run(&[
        "running",
        "--pods",
        pods.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.json()[0]["known"], true, "{}", out.stdout);
    // ... and as the 12-digit prefix a table prints.
    let short = std::fs::read_to_string(&pods)
        .unwrap()
        .replace(&config, &format!("sha256:{}", &config[..12]));
    std::fs::write(&pods, short).unwrap();
    let out = env.run(&[
        "running",
        "--pods",
        pods.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.json()[0]["known"], true, "{}", out.stdout);
    assert_eq!(out.json()[0]["repository"], "team/api", "{}", out.stdout);
}

#[test]
fn an_ambiguous_prefix_lists_the_candidates() {
    let env = Env::empty();
    let mut a = image("a", DOCKER, "2024-01-01T00:00:00Z", &[]);
    let mut b = image("b", DOCKER, "2024-01-01T00:00:00Z", &[]);
    a.digest = format!("sha256:abcdefabcdef{}", "1".repeat(52))
        .parse()
        .unwrap();
    b.digest = format!("sha256:abcdefabcdef{}", "2".repeat(52))
        .parse()
        .unwrap();
    build_db(
        &env.db,
        &[vec![
            Record::Manifest(Box::new(a)),
            Record::Manifest(Box::new(b)),
            tags("r", &[]),
        ]],
    );
    for args in [
        vec!["show", "abcdefabcdef"],
        vec!["query", "--digest", "sha256:abcdefabcdef"],
    ] {
        let out = env.run_code(&args, 1);
        assert!(out.stderr.contains("is ambiguous"), "{}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("abcdefabcdef{}", "1".repeat(52))),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains(&format!("abcdefabcdef{}", "2".repeat(52))),
            "{}",
            out.stderr
        );
    }
    // One more digit makes it unique.
    env.run(&["show", "abcdefabcdef1"]);
}

#[test]
fn malformed_digests_are_usage_errors() {
    let env = Env::provenance();
    for args in [
        vec!["query", "--digest", "sha256:abc"],
        vec!["query", "--digest", "not-a-digest"],
        vec!["query", "--digest", "sha256:zzzzzzzzzzzzzz"],
        vec!["show", "sha256:1234"],
        vec!["export", "--digest", "sha256:abc"],
    ] {
        let out = env.run_code(&args, 2);
        assert!(out.stderr.contains("digest"), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"));
    }
    // A well-formed prefix that matches nothing: nothing found, not bad usage.
    let out = env.run_code(&["show", "sha256:000000000000"], 1);
    assert!(out.stderr.contains("no image matches"), "{}", out.stderr);
    assert_eq!(
        env.run(&["query", "--digest", "000000000000"])
            .stdout
            .lines()
            .count(),
        1
    );
}

#[test]
fn show_repo_means_latest_and_says_so() {
    let env = Env::provenance();
    let bare = env.run(&["show", "team/api", "--format", "json"]);
    let tagged = env.run(&["show", "team/api:latest", "--format", "json"]);
    assert_eq!(bare.json()["images"], tagged.json()["images"]);
    assert_eq!(
        bare.stderr.trim(),
        "acr-index: no tag given: showing team/api:latest"
    );
    assert_eq!(tagged.stderr, "");
}
