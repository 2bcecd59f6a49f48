//! `acr-index runs`: past index runs as a table, JSON or CSV.

use crate::answers::runs::{self, requests_total};
use crate::cli::{Format, RunsArgs};
use crate::store::Store;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run(db: &Path, args: RunsArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open_ro(db)?;
    let runs = runs::runs(&store, args.limit)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => crate::output::json(&mut out, &runs)?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record([
                "id",
                "registry",
                "started_at",
                "finished_at",
                "status",
                "repositories",
                "tags",
                "manifests_new",
                "manifests_known",
                "failures",
                "requests",
            ])?;
            for r in &runs {
                w.write_record([
                    r.id.to_string(),
                    r.registry.clone(),
                    r.started_at.clone(),
                    r.finished_at.clone().unwrap_or_default(),
                    r.status.clone(),
                    r.repositories.to_string(),
                    r.tags.to_string(),
                    r.manifests_new.to_string(),
                    r.manifests_known.to_string(),
                    r.failures.to_string(),
                    r.requests.to_string(),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            let rows: Vec<Vec<String>> = runs
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.started_at.clone(),
                        duration(&r.started_at, r.finished_at.as_deref()),
                        r.registry.clone(),
                        r.status.clone(),
                        r.repositories.to_string(),
                        r.tags.to_string(),
                        r.manifests_new.to_string(),
                        r.manifests_known.to_string(),
                        r.failures.to_string(),
                        requests_total(&r.requests).to_string(),
                    ]
                })
                .collect();
            crate::output::table::write(
                &mut out,
                &[
                    "RUN", "STARTED", "DURATION", "REGISTRY", "STATUS", "REPOS", "TAGS", "NEW",
                    "KNOWN", "FAILED", "REQUESTS",
                ],
                &rows,
            )?;
            for r in runs.iter().filter(|r| r.message.is_some()) {
                let message = r.message.as_deref().unwrap_or_default();
                writeln!(out, "\nrun {} {}: {message}", r.id, r.status)?;
            }
            for r in runs.iter().filter(|r| !r.errors.is_empty()) {
                writeln!(out, "\nrun {} failures:", r.id)?;
                for e in &r.errors {
                    let what = [e.repository.as_deref(), e.reference.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(":");
                    writeln!(out, "  {what}: {}", e.message)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn duration(start: &str, end: Option<&str>) -> String {
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (parse(start), end.and_then(parse)) {
        (Some(a), Some(b)) => format!("{:.1}s", (b - a).num_milliseconds() as f64 / 1000.0),
        _ => "-".into(),
    }
}
