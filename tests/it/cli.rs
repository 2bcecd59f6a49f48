//! The command-line contract: usage errors, messages, exit codes.

use crate::support::cli::Env;

#[test]
fn help_explains_every_subcommand() {
    let env = Env::new();
    let help = env.run(&["--help"]).success().stdout;
    // Each subcommand on its own line of the Commands section, with a
    // description (`help.contains("index")` would hold for any text).
    for cmd in ["index", "query", "show", "export", "runs", "running"] {
        let line = help
            .lines()
            .find(|l| l.split_whitespace().next() == Some(cmd))
            .unwrap_or_else(|| panic!("{cmd} missing from --help:\n{help}"));
        assert!(
            line.split_whitespace().count() > 2,
            "{cmd} has no description: {line}"
        );
    }
    let index = env.run(&["index", "--help"]).success().stdout;
    for flag in [
        "--registry",
        "--repo",
        "--exclude",
        "--concurrency",
        "--max-rps",
        "--full",
        "--ca-file",
        "--password-stdin",
    ] {
        let listed = index
            .lines()
            .any(|l| l.trim_start().starts_with(flag) || l.contains(&format!(", {flag}")));
        assert!(listed, "{flag} is not an option line:\n{index}");
    }
    assert!(
        !index.contains("--password "),
        "a password must never be an argument"
    );
}

#[test]
fn usage_errors_exit_2_with_a_message_and_no_panic() {
    let env = Env::new();
    for (args, says) in [
        (vec!["query", "--label", "=x"], "expected KEY=VALUE"),
        (vec!["query", "--since", "last week"], "--since"),
        (
            vec!["index", "--registry", "ftp://x"],
            "only https:// and http://",
        ),
        (
            vec!["index", "--registry", "reg.example.com/some/path"],
            "without a path",
        ),
        (
            vec!["index", "--registry", "https://u:p@reg.example.com"],
            "must not carry credentials",
        ),
        (
            vec![
                "index",
                "--registry",
                "reg.example.com",
                "--concurrency",
                "0",
            ],
            "concurrency",
        ),
        (vec!["frobnicate"], "unrecognized subcommand"),
    ] {
        let out = env.run(&args).expect_code(2);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
}

#[test]
fn global_flags_go_before_or_after_the_subcommand() {
    let env = Env::new();
    let db = env.path().join("missing.db");
    let db = db.to_str().unwrap();
    for args in [vec!["--db", db, "query"], vec!["query", "--db", db]] {
        let out = env.run(&args).expect_code(1);
        assert!(
            out.stderr.starts_with("acr-index: database "),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
        assert!(
            !std::path::Path::new(db).exists(),
            "a reader must not create the database"
        );
    }
}

#[test]
fn an_unreachable_registry_fails_the_run_with_one_clear_line() {
    let env = Env::new();
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let out = env
        .run(&[
            "index",
            "--registry",
            "http://127.0.0.1:9",
            "--retries",
            "0",
        ])
        .expect_code(1);
    let last = out.stderr.lines().last().unwrap_or("");
    assert!(
        last.starts_with(
            "acr-index: listing the catalog: request to http://127.0.0.1:9/v2/_catalog failed"
        ),
        "{}",
        out.stderr
    );
    let runs = env.run(&["runs", "--format", "json"]).success().json();
    assert_eq!(runs[0]["status"], "failed");
    let table = env.run(&["runs"]).success().stdout;
    assert!(
        table.contains("run 1 failed: listing the catalog"),
        "{table}"
    );
}
