//! Discoverable: --help with headings, examples, environment variables and
//! exit codes; `version` / --version with commit and SQLite; completions
//! for four shells; a man page.

use crate::support::cli::Env;

/// The subcommands the top-level help lists, read from its Commands section.
fn listed_commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn top_level_help_lists_commands_env_and_exit_codes() {
    let env = Env::new();
    let run = env.run(&["--help"]).success();
    let cmds = listed_commands(&run.stdout);
    assert_eq!(
        cmds,
        [
            "index",
            "query",
            "show",
            "export",
            "runs",
            "running",
            "bases",
            "serve",
            "completions",
            "man",
            "version",
            "help"
        ],
        "{}",
        run.stdout
    );
    env.settings()
        .bind(|| insta::assert_snapshot!("help_top", run.snapshot()));
}

#[test]
fn index_help_groups_options_and_names_every_credential_variable() {
    let env = Env::new();
    let run = env.run(&["index", "--help"]).success();
    let help = &run.stdout;
    for heading in [
        "Registry:",
        "Selection:",
        "Load on the registry:",
        "Output:",
        "Credentials (see ACR_INDEX_* below):",
        "Global options:",
        "Examples:",
    ] {
        assert!(
            help.lines().any(|l| l == heading),
            "{heading} missing:\n{help}"
        );
    }
    for var in [
        "ACR_INDEX_USERNAME",
        "ACR_INDEX_PASSWORD",
        "ACR_INDEX_REFRESH_TOKEN",
        "ACR_INDEX_AAD_TOKEN",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "DOCKER_CONFIG",
        "REGISTRY_AUTH_FILE",
        "XDG_RUNTIME_DIR",
    ] {
        assert!(help.contains(var), "{var} missing:\n{help}");
    }
    assert!(help.contains("--azure-cli"), "{help}");
    assert!(help.contains("Exit status: 0 done"), "{help}");
    env.settings()
        .bind(|| insta::assert_snapshot!("help_index", run.snapshot()));
}

#[test]
fn usage_lines_do_not_make_db_look_required() {
    let env = Env::new();
    for cmd in ["index", "query", "show", "export", "runs", "running"] {
        let help = env.run(&[cmd, "--help"]).success().stdout;
        let usage = help.lines().find(|l| l.starts_with("Usage:")).unwrap();
        assert!(!usage.contains("--db"), "{cmd}: {usage}");
    }
    let q = env.run(&["query", "--help"]).success().stdout;
    assert!(q.contains("Filters (times are UTC):"), "{q}");
    assert!(q.contains("`*` also matches `/`"), "{q}");
}

#[test]
fn version_names_the_commit_and_sqlite() {
    let env = Env::new();
    let v = env.run(&["version"]).success().stdout;
    let lines: Vec<&str> = v.lines().collect();
    assert_eq!(lines[0], format!("acr-index {}", env!("CARGO_PKG_VERSION")));
    let commit = lines[1].strip_prefix("commit    ").unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{v}"
    );
    assert!(lines[2].starts_with("sqlite    3."), "{v}");
    let short = env.run(&["--version"]).success().stdout;
    assert_eq!(
        short.trim(),
        format!(
            "acr-index {} (commit {commit}, SQLite {})",
            env!("CARGO_PKG_VERSION"),
            lines[2].split_whitespace().nth(1).unwrap()
        )
    );
}

#[test]
fn completions_for_four_shells_and_a_man_page() {
    let env = Env::new();
    for (shell, marker) in [
        ("bash", "complete -F _acr__index"),
        ("zsh", "#compdef acr-index"),
        ("fish", "complete -c acr-index"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = env.run(&["completions", shell]).success().stdout;
        assert!(out.contains(marker), "{shell}: {marker} missing");
        assert!(out.contains("registry"), "{shell}: no --registry");
        assert!(out.contains("azure-cli"), "{shell}: no --azure-cli");
    }
    let bad = env.run(&["completions", "tcsh"]).expect_code(2);
    assert!(bad.stderr.contains("possible values"), "{}", bad.stderr);
    let man = env.run(&["man"]).success().stdout;
    assert!(
        man.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &man[..80.min(man.len())]
    );
    assert!(man.contains(".TH acr-index 1"), "no title");
    assert!(man.contains(".TH acr-index-query 1"), "no page for query");
    assert!(
        man.contains("REGISTRY_AUTH_FILE"),
        "the environment section"
    );
}

#[test]
fn a_usage_error_is_one_line_and_exit_2() {
    let env = Env::new();
    let run = env.run(&["query", "--label", "=x"]).expect_code(2);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    env.settings()
        .bind(|| insta::assert_snapshot!("usage_error", run.snapshot()));
    // A missing database names the temporary path, which the filter hides.
    let run = env.run(&["runs"]).expect_code(1);
    env.settings()
        .bind(|| insta::assert_snapshot!("missing_db", run.snapshot()));
}
