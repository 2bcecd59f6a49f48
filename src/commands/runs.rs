//! `acr-index runs`: past runs, one line each, fitting the terminal;
//! `runs show ID`: one run in full with its failures grouped by cause.

use super::index_summary::groups;
use crate::answers::runs::{self as answers, requests_total};
use crate::cli::{Format, RunsAction, RunsArgs, ShowFormat};
use crate::output::escape::SafeText;
use crate::output::table::Col;
use crate::store::{RunRow, Store};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run(db: &Path, args: RunsArgs) -> anyhow::Result<ExitCode> {
    if let Some(RunsAction::Show { id, format }) = args.action {
        return show(db, id, format);
    }
    let store = Store::open_ro(db)?;
    let runs = answers::runs(&store, args.limit)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => crate::output::json(&mut out, &runs)?,
        Format::Jsonl => crate::output::json_lines(&mut out, &runs)?,
        Format::Csv => write_csv(
            &mut crate::output::escape::stdout_for_people(&mut out),
            &runs,
        )?,
        Format::Table => {
            let mut out = SafeText::new(&mut out);
            write_table(&mut out, &runs, crate::output::term::width())?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write_csv(out: &mut dyn Write, runs: &[RunRow]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
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
    for r in runs {
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
    Ok(())
}

/// One line per run; failures are counted here and listed by `runs show`.
pub fn write_table(
    out: &mut dyn Write,
    runs: &[RunRow],
    width: Option<usize>,
) -> anyhow::Result<()> {
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
    let cols = [
        Col::new("RUN", 3, 0),
        Col::new("STARTED", 20, 3),
        Col::new("DURATION", 8, 2),
        Col::new("REGISTRY", 12, 0).keep_end(),
        Col::new("STATUS", 7, 0),
        Col::new("REPOS", 5, 4),
        Col::new("TAGS", 4, 5),
        Col::new("NEW", 3, 0),
        Col::new("KNOWN", 5, 0),
        Col::new("FAILED", 6, 0),
        Col::new("REQUESTS", 8, 1),
    ];
    crate::output::table::write_fit(out, &cols, &rows, width)?;
    let failed: Vec<String> = runs
        .iter()
        .filter(|r| r.failures > 0 || r.message.is_some())
        .map(|r| r.id.to_string())
        .collect();
    for r in runs.iter().filter(|r| r.message.is_some()) {
        let message = r.message.as_deref().unwrap_or_default();
        writeln!(out, "\nrun {} {}: {message}", r.id, r.status)?;
    }
    if !failed.is_empty() {
        writeln!(
            out,
            "\nfailures: acr-index runs show {}",
            failed.first().map(String::as_str).unwrap_or_default()
        )?;
    }
    Ok(())
}

fn show(db: &Path, id: i64, format: ShowFormat) -> anyhow::Result<ExitCode> {
    let store = Store::open_ro(db)?;
    let Some(run) = store.run(id)? else {
        anyhow::bail!("no run {id} in {} (see `acr-index runs`)", db.display());
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        ShowFormat::Json => {
            let mut v = serde_json::to_value(&run)?;
            v["failures_by_cause"] = serde_json::to_value(groups(&run))?;
            crate::output::json(&mut out, &v)?;
        }
        ShowFormat::Table => {
            let mut out = SafeText::new(&mut out);
            write_run(&mut out, &run)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write_run(out: &mut dyn Write, r: &RunRow) -> anyhow::Result<()> {
    writeln!(out, "run {} of {}: {}", r.id, r.registry, r.status)?;
    let end = r.finished_at.as_deref().unwrap_or("-");
    writeln!(out, "  started      {}", r.started_at)?;
    writeln!(out, "  finished     {end}")?;
    writeln!(
        out,
        "  duration     {}",
        duration(&r.started_at, r.finished_at.as_deref())
    )?;
    writeln!(out, "  full         {}", r.full)?;
    writeln!(out, "  repositories {}", r.repositories)?;
    writeln!(out, "  tags         {}", r.tags)?;
    writeln!(
        out,
        "  manifests    {} new, {} known",
        r.manifests_new, r.manifests_known
    )?;
    writeln!(
        out,
        "  requests     {} {}",
        requests_total(&r.requests),
        r.requests
    )?;
    if let Some(m) = &r.message {
        writeln!(out, "  message      {m}")?;
    }
    writeln!(out, "  failures     {}", r.failures)?;
    let g = groups(r);
    if !g.is_empty() {
        writeln!(out, "\nfailures by cause")?;
        for g in &g {
            writeln!(out, "{}", crate::output::failures::line(g))?;
        }
        writeln!(out, "\nfailures")?;
        for e in &r.errors {
            let what = [e.repository.as_deref(), e.reference.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(":");
            writeln!(out, "  {what}: {}", e.message)?;
        }
    }
    Ok(())
}

fn duration(start: &str, end: Option<&str>) -> String {
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (parse(start), end.and_then(parse)) {
        (Some(a), Some(b)) => format!("{:.1}s", (b - a).num_milliseconds() as f64 / 1000.0),
        _ => "-".into(),
    }
}
