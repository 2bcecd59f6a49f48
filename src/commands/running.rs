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
    let doc: Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not JSON", args.pods.display()))?;
    let list = running::containers(&doc).with_context(|| args.pods.display().to_string())?;
    let store = Store::open_ro(db)?;
    let rows = running::rows(&store, &list)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => crate::output::json(&mut out, &rows)?,
        Format::Csv => write_csv(&mut out, &rows)?,
        Format::Table => write_table(&mut out, &rows, crate::output::term::width())?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
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
        ])?;
    }
    w.finish()?;
    Ok(())
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
                dash(&r.commit),
                dash(&r.branch),
                r.build_url
                    .clone()
                    .or_else(|| r.build.clone())
                    .unwrap_or_else(|| "-".into()),
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
    ];
    crate::output::table::write_fit(out, &cols, &cells, width)?;
    Ok(())
}
