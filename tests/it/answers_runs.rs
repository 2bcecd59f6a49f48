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
    // The list points at the failures instead of listing them.
    assert!(
        out.stdout.ends_with("\nfailures: acr-index runs show 1\n"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("HTTP 404"), "{}", out.stdout);
    let one = env.run(&["runs", "show", "1"]).stdout;
    assert!(
        one.contains("failures by cause\n    1 × HTTP 404 for manifest <tag> (team/broken:v1)"),
        "{one}"
    );
    assert!(
        one.contains("failures\n  team/broken:v1: HTTP 404 for manifest v1"),
        "{one}"
    );
    let one = env.run(&["runs", "show", "1", "--format", "json"]).stdout;
    let one: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one["failures_by_cause"][0]["count"], 1, "{one}");
    let missing = env.run_code(&["runs", "show", "99"], 1);
    assert!(missing.stderr.contains("no run 99"), "{}", missing.stderr);
    let json: Vec<serde_json::Value> =
        serde_json::from_str(&env.run(&["runs", "--format", "json"]).stdout).unwrap();
    assert_eq!(json[1]["failures"], 1);
    assert_eq!(json[1]["manifests_new"], 9);
    assert_eq!(json[1]["errors"][0]["repository"], "team/broken");
}
