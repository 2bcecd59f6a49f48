//! `acr-index running --pods FILE|-`: which commit, branch and build each
//! container in `kubectl get pods -A -o json` runs.

use crate::answers::running::{self, RunningRow};
use crate::cli::{Format, RunningArgs};
use crate::output::table::Col;
use crate::store::Store;
use anyhow::Context;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

pub fn run(db: &Path, args: RunningArgs) -> anyhow::Result<ExitCode> {
    let text = if args.pods.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading pods from stdin")?;
        s
    } else {
        std::fs::read_to_string(&args.pods)
            .with_context(|| format!("reading {}", args.pods.display()))?
    };
    let doc = parse_pods(&text, &args.pods)?;
    let list = running::containers(&doc).with_context(|| args.pods.display().to_string())?;
    let store = Store::open_ro(db)?;
    let rows = running::rows(&store, &list)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => crate::output::json(&mut out, &rows)?,
        Format::Jsonl => crate::output::json_lines(&mut out, &rows)?,
        Format::Csv => write_csv(
            &mut crate::output::escape::stdout_for_people(&mut out),
            &rows,
        )?,
        Format::Table => write_table(
            &mut crate::output::escape::SafeText::new(&mut out),
            &rows,
            crate::output::term::width(),
        )?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

const HOW: &str = "kubectl get pods -A -o json";

/// The pod list, or a usage error that says what the input is instead:
/// empty, YAML (kubectl's default for -o yaml), not JSON, or a List of
/// something other than Pods (Deployments, ReplicaSets).
pub fn parse_pods(text: &str, from: &Path) -> anyhow::Result<Value> {
    use crate::config::UsageError;
    let name = if from.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        from.display().to_string()
    };
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(UsageError(format!(
            "--pods: {name} is empty; expected the output of `{HOW}`"
        ))
        .into());
    }
    let doc: Value = match serde_json::from_str(trimmed) {
        Ok(v) => v,
        Err(e) => {
            let yaml = !trimmed.starts_with(['{', '['])
                && trimmed
                    .lines()
                    .any(|l| l.starts_with("apiVersion:") || l.starts_with("kind:") || l == "---");
            let msg = if yaml {
                format!("--pods: {name} is YAML; acr-index reads JSON: use `{HOW}`")
            } else {
                format!("--pods: {name} is not JSON ({e}); expected the output of `{HOW}`")
            };
            return Err(UsageError(msg).into());
        }
    };
    let kind_of = |v: &Value| v.get("kind").and_then(Value::as_str).map(str::to_string);
    let others: Vec<String> = match doc.get("items").and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .filter_map(kind_of)
            .filter(|k| k != "Pod")
            .collect(),
        None => kind_of(&doc)
            .filter(|k| k != "Pod" && k != "List")
            .into_iter()
            .collect(),
    };
    if let Some(kind) = others.first() {
        let kind = crate::output::escape::control(kind);
        return Err(UsageError(format!(
            "--pods: {name} holds {kind} objects, not Pods; containers are read from Pods: use `{HOW}`"
        ))
        .into());
    }
    Ok(doc)
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

fn write_csv(out: &mut dyn Write, rows: &[RunningRow]) -> anyhow::Result<()> {
    let mut w = crate::output::csv::SafeWriter::new(out, false);
    w.record([
        "namespace",
        "pod",
        "container",
        "image",
        "digest",
        "known",
        "registry",
        "repository",
        "tag",
        "commit",
        "branch",
        "build",
        "commit_url",
        "build_url",
        "signed",
    ])?;
    for r in rows {
        w.record([
            r.namespace.as_str(),
            &r.pod,
            &r.container,
            &r.image,
            opt(&r.digest),
            if r.known { "true" } else { "false" },
            opt(&r.registry),
            opt(&r.repository),
            opt(&r.tag),
            opt(&r.commit),
            opt(&r.branch),
            opt(&r.build),
            opt(&r.commit_url),
            opt(&r.build_url),
            signed_cell(r.signed),
        ])?;
    }
    w.finish()?;
    Ok(())
}

fn signed_cell(s: Option<bool>) -> &'static str {
    match s {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
}

fn write_table(
    out: &mut dyn Write,
    rows: &[RunningRow],
    width: Option<usize>,
) -> anyhow::Result<()> {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let digest = r.digest.as_deref().map(crate::output::short_digest);
            let repo = match (&r.known, &r.repository, &r.tag) {
                (false, ..) => "(not indexed)".to_string(),
                (true, Some(repo), Some(tag)) => format!("{repo}:{tag}"),
                _ => "-".into(),
            };
            vec![
                r.namespace.clone(),
                r.pod.clone(),
                r.container.clone(),
                r.image.clone(),
                digest.unwrap_or_else(|| "-".into()),
                repo,
                r.commit
                    .as_deref()
                    .map_or_else(|| "-".into(), crate::output::short_commit),
                dash(&r.branch),
                r.build_url
                    .clone()
                    .or_else(|| r.build.clone())
                    .unwrap_or_else(|| "-".into()),
                match r.signed {
                    Some(true) => "signed".into(),
                    Some(false) => "UNSIGNED".into(),
                    None => "-".into(),
                },
            ]
        })
        .collect();
    let cols = [
        Col::new("NAMESPACE", 10, 0),
        Col::new("POD", 16, 0).keep_end(),
        Col::new("CONTAINER", 10, 0),
        Col::new("IMAGE", 20, 3).keep_end(),
        Col::new("DIGEST", 19, 4),
        Col::new("INDEXED AS", 16, 0).keep_end(),
        Col::new("COMMIT", 12, 0),
        Col::new("BRANCH", 10, 5),
        Col::new("BUILD", 12, 6),
        Col::new("SIGNED", 8, 0),
    ];
    crate::output::table::write_fit(out, &cols, &cells, width)?;
    Ok(())
}
