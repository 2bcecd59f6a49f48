//! Filters: repeated --repo means any, in the glob dialect `index --repo`
//! uses; --since/--until compare instants, a date as --until takes its
//! whole day, ages (7d) count back from now.

use super::answers_fixture::{build_db, image, tags, Env, OCI};
use acr_index::store::Record;

fn images(env: &Env, args: &[&str]) -> Vec<String> {
    let mut full = vec!["query", "--format", "json"];
    full.extend_from_slice(args);
    let rows = env.run(&full).json();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["repository"].as_str().unwrap(),
                r["tag"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn repeated_repo_means_any_and_braces_work() {
    let env = Env::provenance();
    let api_and_tool = [
        "oss/tool:1.0",
        "team/api:1.2",
        "team/api:latest",
        "team/api:sbom",
    ];
    assert_eq!(
        images(&env, &["--repo", "team/api", "--repo", "oss/tool"]),
        api_and_tool
    );
    assert_eq!(
        images(&env, &["--repo", "team/a*", "--repo", "oss/*"]),
        api_and_tool
    );
    let team = images(&env, &["--repo", "team/{api,web}"]);
    assert_eq!(team, images(&env, &["--repo", "team/*"]));
    assert_eq!(team.len(), 7, "{team:?}");
    // `*` crosses `/`.
    assert_eq!(images(&env, &["--repo", "*tool"]), ["oss/tool:1.0"]);
    assert_eq!(images(&env, &["--tag", "1.*", "--tag", "v2"]).len(), 4);
    let bad = env.run_code(&["query", "--repo", "team/{api"], 2);
    assert!(bad.stderr.contains("--repo"), "{}", bad.stderr);
}

#[test]
fn since_and_until_compare_instants() {
    let env = Env::empty();
    // Created inside the named second, and with an offset.
    let a = image("frac", OCI, "2024-06-01T10:00:00.5Z", &[]);
    let b = image("offset", OCI, "2024-06-01T12:00:00+02:00", &[]);
    let c = image("late", OCI, "2024-06-01T23:59:59.9Z", &[]);
    let d = image("next", OCI, "2024-06-02T00:00:00Z", &[]);
    build_db(
        &env.db,
        &[vec![
            Record::Manifest(Box::new(a)),
            Record::Manifest(Box::new(b)),
            Record::Manifest(Box::new(c)),
            Record::Manifest(Box::new(d)),
            tags(
                "r",
                &[
                    ("frac", "frac"),
                    ("offset", "offset"),
                    ("late", "late"),
                    ("next", "next"),
                ],
            ),
        ]],
    );
    // Text comparison put "…:00.5Z" before "…:00Z" and lost it.
    assert_eq!(
        images(&env, &["--since", "2024-06-01T10:00:00.001Z"]),
        ["r:frac", "r:late", "r:next"]
    );
    // 12:00+02:00 is 10:00Z, the bound itself; 10:00:00.5Z is after it.
    assert_eq!(
        images(&env, &["--until", "2024-06-01T10:00:00Z"]),
        ["r:offset"]
    );
    assert_eq!(
        images(&env, &["--since", "2024-06-01T12:00:00+02:00"]).len(),
        4
    );
    // --until DATE includes the whole day.
    assert_eq!(
        images(&env, &["--until", "2024-06-01"]),
        ["r:frac", "r:late", "r:offset"]
    );
    assert_eq!(images(&env, &["--since", "2024-06-02"]), ["r:next"]);
    // Ages count back from now: all of these are older than a week.
    assert_eq!(images(&env, &["--since", "7d"]), Vec::<String>::new());
    assert_eq!(images(&env, &["--until", "7d"]).len(), 4);
    let bad = env.run_code(&["query", "--since", "7 days"], 2);
    assert!(
        bad.stderr.contains("an age (30m, 12h, 7d, 2w)"),
        "{}",
        bad.stderr
    );
}
