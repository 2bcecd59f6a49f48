//! `runs`: counts, durations and failures of past runs.

use super::answers_fixture::Env;

#[test]
fn runs_show_counts_durations_and_failures() {
    let env = Env::provenance();
    let out = env.run(&["runs"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("RUN"), "{}", out.stdout);
    for head in ["STARTED", "DURATION", "STATUS", "NEW", "FAILED", "REQUESTS"] {
        assert!(lines[0].contains(head), "{}", out.stdout);
    }
    assert!(
        lines[1].starts_with("2 ") && lines[1].contains(" ok "),
        "{}",
        out.stdout
    );
    assert!(
        lines[2].starts_with("1 ") && lines[2].contains(" partial "),
        "{}",
        out.stdout
    );
    assert!(lines[2].contains("s "), "a duration: {}", out.stdout);
    assert!(
        out.stdout
            .contains("run 1 failures:\n  team/broken:v1: HTTP 404 for manifest v1"),
        "{}",
        out.stdout
    );
    let json: Vec<serde_json::Value> =
        serde_json::from_str(&env.run(&["runs", "--format", "json"]).stdout).unwrap();
    assert_eq!(json[1]["failures"], 1);
    assert_eq!(json[1]["manifests_new"], 9);
    assert_eq!(json[1]["errors"][0]["repository"], "team/broken");
}
