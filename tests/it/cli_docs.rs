//! The output examples in docs/ are what the commands print on the test
//! fixture. Every ```console block in docs/commands.md holds `$ acr-index
//! ...` lines, each followed by its output; this test runs them against
//! the provenance fixture (with tests/fixtures/pods.json as pods.json)
//! and compares, times of writing and durations aside. To refresh the
//! examples after a deliberate change:
//! `ACR_INDEX_UPDATE_DOCS=1 cargo test --test it cli_docs`.

use super::answers_fixture::Env;
use crate::support::cli::redact_volatile;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md");
const PODS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pods.json");

/// One `$ ...` line and the output written under it.
struct Example {
    command: String,
    expected: String,
    /// Line numbers (0-based) of the output in the file.
    lines: std::ops::Range<usize>,
}

fn examples(doc: &str) -> Vec<Example> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut out: Vec<Example> = Vec::new();
    let mut in_console = false;
    for (i, l) in lines.iter().enumerate() {
        if !in_console {
            in_console = *l == "```console";
            continue;
        }
        if *l == "```" {
            in_console = false;
        } else if let Some(cmd) = l.strip_prefix("$ ") {
            out.push(Example {
                command: cmd.to_string(),
                expected: String::new(),
                lines: i + 1..i + 1,
            });
            continue;
        } else if let Some(last) = out.last_mut() {
            last.expected.push_str(l);
            last.expected.push('\n');
            last.lines.end = i + 1;
        }
    }
    out
}

/// Shell words with '...' quoting, the only quoting the docs use.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The output of one example, and its exit status (for `echo $?`).
fn run_example(env: &Env, command: &str, last: Option<i32>) -> (String, Option<i32>) {
    if command == "echo $?" {
        let code = last.map_or("?".to_string(), |c| c.to_string());
        return (format!("{code}\n"), last);
    }
    let words = words(command);
    let at = words
        .iter()
        .position(|w| w == "acr-index")
        .expect("an acr-index command");
    let args: Vec<&str> = words[at + 1..].iter().map(String::as_str).collect();
    // The database by the name the docs use (the default), relative to
    // the working directory, so no temporary path shows in the examples.
    let mut full = vec!["--db", "acr-index.db"];
    full.extend_from_slice(&args);
    let mut cmd = env.core.command(&full);
    cmd.env("COLUMNS", "1000");
    for var in &words[..at] {
        let (k, v) = var.split_once('=').expect("VAR=value before acr-index");
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (text, out.status.code())
}

fn normal(s: &str) -> String {
    redact_volatile(s)
}

#[test]
fn console_examples_in_docs_match_the_fixture() {
    let env = Env::provenance();
    std::fs::copy(PODS, env.dir.path().join("pods.json")).unwrap();
    std::fs::copy(&env.db, env.dir.path().join("acr-index.db")).unwrap();
    let doc = std::fs::read_to_string(DOC).unwrap();
    let found = examples(&doc);
    assert!(
        found.len() >= 10,
        "only {} console examples in {DOC}",
        found.len()
    );
    let update = std::env::var_os("ACR_INDEX_UPDATE_DOCS").is_some();
    let mut lines: Vec<String> = doc.lines().map(str::to_string).collect();
    let mut failures = Vec::new();
    let mut last = None;
    let actuals: Vec<String> = found
        .iter()
        .map(|ex| {
            let (text, code) = run_example(&env, &ex.command, last);
            last = code;
            text
        })
        .collect();
    // From the end, so replacing one example's lines keeps the others' numbers.
    for (ex, actual) in found.iter().zip(actuals).rev() {
        if normal(&actual) == normal(&ex.expected) {
            continue;
        }
        if update {
            let new: Vec<String> = actual.lines().map(str::to_string).collect();
            lines.splice(ex.lines.clone(), new);
        } else {
            failures.push(format!(
                "$ {}\n--- docs ---\n{}--- actual ---\n{}",
                ex.command, ex.expected, actual
            ));
        }
    }
    if update {
        std::fs::write(DOC, lines.join("\n") + "\n").unwrap();
    }
    assert!(
        failures.is_empty(),
        "{} example(s) in docs/commands.md drifted (refresh with ACR_INDEX_UPDATE_DOCS=1):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn example_parsing() {
    let doc = "x\n```console\n$ acr-index a 'b c'\nout1\nout2\n$ COLUMNS=9 acr-index d\n```\n```\n$ acr-index not-checked\n```\n";
    let ex = examples(doc);
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0].expected, "out1\nout2\n");
    assert_eq!(ex[0].lines, 3..5);
    assert_eq!(ex[1].expected, "");
    assert_eq!(words("acr-index a 'b c' ''"), ["acr-index", "a", "b c", ""]);
}
