//! Output: the same --format names everywhere, JSON lines where rows
//! stream, `export --output -` is stdout, a FIFO or device is written
//! through and never replaced, a replaced file keeps its mode; a fatal
//! error is a JSON event under --log-format json; running --pods says what
//! is wrong with its input.

use super::answers_fixture::Env;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};

const PODS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pods.json");

#[test]
fn every_data_command_takes_the_same_format_names() {
    let env = Env::provenance();
    for cmd in [vec!["query"], vec!["runs"], vec!["running", "--pods", PODS]] {
        let json = env
            .run(&[cmd.clone(), vec!["--format", "json"]].concat())
            .json();
        let n = json.as_array().unwrap().len();
        assert!(n > 0, "{cmd:?}");
        let jsonl = env
            .run(&[cmd.clone(), vec!["--format", "jsonl"]].concat())
            .stdout;
        let lines: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines,
            *json.as_array().unwrap(),
            "{cmd:?}: jsonl = json, a line each"
        );
        let csv = env
            .run(&[cmd.clone(), vec!["--format", "csv"]].concat())
            .stdout;
        assert_eq!(csv.lines().count(), n + 1, "{cmd:?}: header + a row each");
        let table = env
            .run(&[cmd.clone(), vec!["--format", "table"]].concat())
            .stdout;
        assert!(
            table
                .lines()
                .next()
                .unwrap()
                .chars()
                .all(|c| !c.is_lowercase()),
            "{cmd:?}: {table}"
        );
    }
    // show: table (alias text) and json.
    let text = env
        .run(&["show", "team/api:1.2", "--format", "text"])
        .stdout;
    assert_eq!(
        text,
        env.run(&["show", "team/api:1.2", "--format", "table"])
            .stdout
    );
    let bad = env.run_code(&["show", "team/api:1.2", "--format", "csv"], 2);
    assert!(
        bad.stderr.contains("possible values: table, json"),
        "{}",
        bad.stderr
    );
}

#[test]
fn export_output_dash_is_stdout() {
    let env = Env::provenance();
    let stdout = env.run(&["export"]).stdout;
    assert!(stdout.starts_with("registry,repository,tag,"));
    assert_eq!(env.run(&["export", "--output", "-"]).stdout, stdout);
    assert!(!env.dir.path().join("-").exists(), "no file named -");
    // /dev/stdout here is the pipe the test reads: written through, not replaced.
    assert_eq!(
        env.run(&["export", "--output", "/dev/stdout"]).stdout,
        stdout
    );
    // A character device is written through too (as root, a rename would
    // have replaced /dev/null with a regular file).
    assert_eq!(env.run(&["export", "--output", "/dev/null"]).stdout, "");
    let null = std::fs::metadata("/dev/null").unwrap().file_type();
    assert!(null.is_char_device(), "/dev/null is still a device");
}

#[test]
fn export_writes_through_a_fifo_and_never_replaces_it() {
    let env = Env::provenance();
    let fifo = env.dir.path().join("report.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        // Opening a FIFO for reading waits for the writer: the export.
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = env.run(&[
        "export",
        "--format",
        "jsonl",
        "--output",
        fifo.to_str().unwrap(),
    ]);
    assert_eq!(out.stdout, "");
    let got = reader.join().unwrap();
    assert_eq!(got, env.run(&["export", "--format", "jsonl"]).stdout);
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO is still a FIFO");
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_replaced_report_keeps_its_mode() {
    let env = Env::provenance();
    let report = env.dir.path().join("report.csv");
    std::fs::write(&report, "old").unwrap();
    std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.run(&["export", "--output", report.to_str().unwrap()]);
    let meta = std::fs::metadata(&report).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(std::fs::read_to_string(&report)
        .unwrap()
        .starts_with("registry,"));
}

#[test]
fn a_fatal_error_is_a_json_event_under_json_logs() {
    let env = Env::empty();
    let out = env.run_code(&["--log-format", "json", "show", "team/api"], 1);
    let last = out.stderr.lines().last().unwrap();
    let event: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(event["level"], "ERROR", "{last}");
    assert_eq!(event["fatal"], true);
    assert_eq!(event["exit_code"], 1);
    assert!(
        event["message"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{last}"
    );
    let usage = env.run_code(&["--log-format", "json", "query", "--since", "soon"], 2);
    let event: serde_json::Value = serde_json::from_str(usage.stderr.trim()).unwrap();
    assert_eq!(event["exit_code"], 2);
}

#[test]
fn running_pods_input_is_checked() {
    let env = Env::provenance();
    let deployments = r#"{"apiVersion":"v1","kind":"List","items":[
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api"}}]}"#;
    let yaml = "apiVersion: v1\nitems:\n- kind: Pod\nkind: List\n";
    for (input, says) in [
        (
            "",
            "standard input is empty; expected the output of `kubectl get pods -A -o json`",
        ),
        ("  \n", "standard input is empty"),
        (
            yaml,
            "standard input is YAML; acr-index reads JSON: use `kubectl get pods -A -o json`",
        ),
        (
            deployments,
            "standard input holds Deployment objects, not Pods",
        ),
        ("{\"kind\": ", "standard input is not JSON"),
    ] {
        let mut cmd = env.cmd(&["running", "--pods", "-"]);
        let path = env.dir.path().join("stdin");
        std::fs::write(&path, input).unwrap();
        cmd.stdin(std::fs::File::open(&path).unwrap());
        let out = env.run_with(cmd, 2);
        assert!(out.stderr.contains(says), "{input:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
    }
}
