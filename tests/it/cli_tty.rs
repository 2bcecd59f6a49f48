//! Safe on a terminal, tested on a real pseudo-terminal (util-linux
//! `script`): text from a registry never reaches the terminal as raw
//! control characters, `show` escapes only those (O'Reilly stays), and
//! colour follows --color and NO_COLOR.

use super::answers_fixture::{build_db, image, map, tags, Env, OCI};
use acr_index::store::Record;

/// `acr-index ARGS` on a pseudo-terminal; what the terminal received
/// (stdout and stderr together, as a terminal shows them).
fn on_tty(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = vec![
        quote(crate::support::cli::BIN),
        "--db".into(),
        quote(env.db.to_str().unwrap()),
    ];
    line.extend(args.iter().map(|a| quote(a)));
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &line.join(" "), "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm-256color")
        .env("HOME", env.dir.path())
        .env("COLUMNS", "200")
        .current_dir(env.dir.path())
        .stdin(std::process::Stdio::null());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("script(1) from util-linux is installed");
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

fn hostile() -> Env {
    let env = Env::empty();
    let evil = image(
        "evil",
        OCI,
        "2024-01-01T00:00:00Z",
        &[
            ("org.opencontainers.image.authors", "O'Reilly \"Media\""),
            (
                "org.opencontainers.image.revision",
                "abc\x1b[2J\x1b]0;owned\x07",
            ),
            ("evil\x1b[31mkey", "bell\x07 and\rreturn"),
            ("com.example.branch", "main\u{202E}txt"),
        ],
    );
    let mut evil = evil;
    evil.annotations = map(&[("org.opencontainers.image.title", "t\x1b[5mblink")]);
    build_db(
        &env.db,
        &[vec![
            Record::Manifest(Box::new(evil)),
            tags("team/ev\x1b[1mil", &[("v1\x1b[0m", "evil")]),
        ]],
    );
    env
}

fn assert_inert(what: &str, s: &str) {
    for (i, c) in s.char_indices() {
        let control = (c.is_control() && c != '\n') || ('\u{202A}'..='\u{202E}').contains(&c);
        assert!(!control, "{what}: raw {c:?} at {i}:\n{s:?}");
    }
}

#[test]
fn registry_text_reaches_the_terminal_escaped() {
    let env = hostile();
    let table = on_tty(&env, &["query"], &[]);
    assert_inert("query", &table);
    assert!(table.contains("ev\\u{1b}[1mil"), "{table}");
    let show = on_tty(&env, &["show", "team/ev\x1b[1mil:v1\x1b[0m"], &[]);
    // That reference is not valid: the error echoes it, escaped.
    assert_inert("show error", &show);
    let digest = acr_index::oci::Digest::sha256_of(b"evil").to_string();
    let show = on_tty(&env, &["show", &digest], &[]);
    assert_inert("show", &show);
    assert!(
        show.contains("O'Reilly \"Media\""),
        "only controls are escaped:\n{show}"
    );
    assert!(
        show.contains("abc\\u{1b}[2J\\u{1b}]0;owned\\u{7}"),
        "{show}"
    );
    assert!(show.contains("evil\\u{1b}[31mkey"), "{show}");
    assert!(show.contains("bell\\u{7} and\\rreturn"), "{show}");
    assert!(show.contains("main\\u{202e}txt"), "{show}");
    for args in [
        vec![
            "running",
            "--pods",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pods.json"),
        ],
        vec!["runs"],
        vec!["query", "--format", "csv"],
    ] {
        let out = on_tty(&env, &args, &[]);
        assert_inert(&format!("{args:?}"), &out);
    }
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let env = Env::empty();
    // A run that fails at once: a log line or two, and the fatal error.
    let args = [
        "index",
        "--registry",
        "http://127.0.0.1:9",
        "--retries",
        "0",
    ];
    let with = |extra: &[&str], vars: &[(&str, &str)]| {
        let mut a: Vec<&str> = extra.to_vec();
        a.extend_from_slice(&args);
        on_tty(&env, &a, vars)
    };
    // Colour is SGR (`ESC [ ... m`); progress bars also move the cursor,
    // which is not colour.
    let sgr = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    let auto = with(&[], &[]);
    assert!(sgr.is_match(&auto), "a terminal gets colour:\n{auto:?}");
    let no_color = with(&[], &[("NO_COLOR", "1")]);
    assert!(!sgr.is_match(&no_color), "{no_color:?}");
    assert!(no_color.contains("INFO"), "{no_color:?}");
    let never = with(&["--color", "never"], &[]);
    assert!(!sgr.is_match(&never), "{never:?}");
    let always = with(&["--color", "always"], &[("NO_COLOR", "1")]);
    assert!(
        sgr.is_match(&always),
        "--color always wins over NO_COLOR:\n{always:?}"
    );
    // The summary line stays on screen after the bars are cleared.
    assert!(never.contains("127.0.0.1:9: failed in "), "{never:?}");
    // Off a terminal, auto means none, and no bars.
    let piped = env.run_code(&args, 1);
    assert!(!piped.stderr.contains('\x1b'), "{:?}", piped.stderr);
}
