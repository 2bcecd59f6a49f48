//! `export`: wide and long CSV, JSON and JSON lines, a round trip through
//! the csv crate, formula neutralising, and atomic output files.

use super::answers_fixture::{build_db, image, map, tags, Env, DOCKER, REG};
use acr_index::store::{Record, RowFilter, Store};

#[test]
fn export_snapshots() {
    let env = Env::provenance();
    insta::assert_snapshot!("export_csv_default", env.run(&["export"]).stdout);
    let cols = env.run(&[
        "export",
        "--columns",
        "sourceversion,build.buildnumber,org.opencontainers.image.version,nosuchkey",
    ]);
    insta::assert_snapshot!("export_csv_columns", cols.stdout);
    insta::assert_snapshot!(
        "export_csv_long",
        env.run(&["export", "--long", "--repo", "team/web"]).stdout
    );
    insta::assert_snapshot!(
        "export_jsonl",
        env.run(&["export", "--format", "jsonl", "--repo", "oss/*"])
            .stdout
    );
}

#[test]
fn json_is_the_query_array() {
    let env = Env::provenance();
    let export = env.run(&["export", "--format", "json"]).stdout;
    let query = env.run(&["query", "--format", "json"]).stdout;
    assert_eq!(export, query);
    let none = ["--format", "json", "--repo", "no/such"];
    let empty = env.run(&[&["export"][..], &none[..]].concat()).stdout;
    assert_eq!(empty, "[]\n");
    assert_eq!(empty, env.run(&[&["query"][..], &none[..]].concat()).stdout);
    let lines = env.run(&["export", "--format", "jsonl"]).stdout;
    let from_lines: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let from_array: Vec<serde_json::Value> = serde_json::from_str(&export).unwrap();
    assert_eq!(from_lines, from_array);
}

const TRICKY: &[(&str, &str)] = &[
    ("x.comma", "a,b,c"),
    ("x.quote", "say \"hi\""),
    ("x.newline", "line one\nline two\r\nthree"),
    ("x.unicode", "Grüße ✓ 日本"),
    ("x.empty", ""),
    ("x.formula.eq", "=HYPERLINK(\"http://evil\",\"x\")"),
    ("x.formula.plus", "+1"),
    ("x.formula.minus", "-2"),
    ("x.formula.at", "@SUM(A1)"),
    ("x.formula.tab", "\tcmd"),
    ("x.formula.cr", "\rcmd"),
];

fn tricky_env() -> Env {
    let env = Env::empty();
    let img = image("tricky", DOCKER, "2024-01-01T00:00:00Z", TRICKY);
    build_db(
        &env.db,
        &[vec![
            Record::Manifest(Box::new(img)),
            tags("odd/values", &[("v1", "tricky")]),
        ]],
    );
    env
}

fn neutralised(v: &str) -> String {
    match v.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{v}"),
        _ => v.to_string(),
    }
}

fn round_trip(raw: bool) {
    let env = tricky_env();
    let keys: Vec<&str> = TRICKY.iter().map(|(k, _)| *k).collect();
    let mut args = vec!["export", "--columns"];
    let joined = keys.join(",");
    args.push(&joined);
    if raw {
        args.push("--raw");
    }
    let out = env.run(&args).stdout;
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let mut expected_headers: Vec<String> = [
        "registry",
        "repository",
        "tag",
        "digest",
        "index_digest",
        "platform",
        "created",
    ]
    .map(String::from)
    .to_vec();
    expected_headers.extend(keys.iter().map(|k| k.to_string()));
    assert_eq!(headers, expected_headers);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let store = Store::open_ro(&env.db).unwrap();
    let rows = store.image_rows(&RowFilter::default()).unwrap();
    assert_eq!(records.len(), rows.len());
    for (rec, row) in records.iter().zip(&rows) {
        assert_eq!(&rec[0], row.registry);
        assert_eq!(&rec[1], row.repository);
        assert_eq!(&rec[2], row.tag);
        assert_eq!(&rec[3], row.digest);
        assert_eq!(&rec[4], row.index_digest.as_deref().unwrap_or(""));
        assert_eq!(&rec[5], row.platform.as_deref().unwrap_or(""));
        assert_eq!(&rec[6], row.created.as_deref().unwrap_or(""));
        for (i, key) in keys.iter().enumerate() {
            let stored = &row.labels[*key];
            let want = if raw {
                stored.clone()
            } else {
                neutralised(stored)
            };
            assert_eq!(rec[7 + i], want, "{key}");
        }
    }
}

#[test]
fn csv_round_trip_neutralised() {
    round_trip(false);
}

#[test]
fn csv_round_trip_raw() {
    round_trip(true);
}

#[test]
fn long_csv_round_trip() {
    let env = tricky_env();
    let out = env.run(&["export", "--long"]).stdout;
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let got: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!((&r[0], &r[1], &r[2]), (REG, "odd/values", "v1"));
            (r[7].to_string(), r[8].to_string())
        })
        .collect();
    let want: Vec<(String, String)> = map(TRICKY)
        .into_iter()
        .map(|(k, v)| (k, neutralised(&v)))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn output_file_is_written_whole_with_no_temp_left() {
    let env = Env::provenance();
    let report = env.dir.path().join("report.csv");
    let out = env.run(&["export", "--output", report.to_str().unwrap()]);
    assert_eq!(out.stdout, "");
    let stdout = env.run(&["export"]).stdout;
    assert_eq!(std::fs::read_to_string(&report).unwrap(), stdout);
    let mut names: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("index.db") && n != "bin" && n != "home")
        .collect();
    names.sort();
    assert_eq!(names, ["report.csv"]);
}

#[test]
fn output_into_missing_directory_fails_clearly_and_leaves_nothing() {
    let env = Env::provenance();
    let target = env.dir.path().join("missing/report.csv");
    let out = env.run_code(
        &["export", "--format", "json", "-o", target.to_str().unwrap()],
        1,
    );
    assert_eq!(
        env.redact(&out.stderr),
        "acr-index: writing [TMP]/missing/report.csv: creating a temporary file in [TMP]/missing: No such file or directory (os error 2)\n"
    );
    assert!(!env.dir.path().join("missing").exists());
}

#[test]
fn output_onto_a_directory_fails_and_removes_the_temp_file() {
    let env = Env::provenance();
    let target = env.dir.path().join("adir");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), "x").unwrap();
    let out = env.run_code(&["export", "-o", target.to_str().unwrap()], 1);
    assert!(out.stderr.contains("renaming"), "{}", out.stderr);
    let names: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn long_and_columns_need_csv() {
    let env = Env::provenance();
    let _ = env.run_code(&["export", "--format", "json", "--long"], 2);
}
