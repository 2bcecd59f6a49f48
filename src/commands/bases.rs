//! `acr-index bases [--stale]`: per image, the base it was built on, the
//! digest that base name points at now, and whether the image is stale.

use crate::cli::{BasesArgs, Format};
use crate::output::table::Col;
use crate::store::{BaseRow, Store};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run(db: &Path, args: BasesArgs) -> anyhow::Result<ExitCode> {
    crate::config::row_filter(&args.filter)?;
    let store = Store::open_ro(db)?;
    let filter = crate::config::row_filter_for(&store, &args.filter)?;
    let rows = crate::answers::bases::rows(&store, &filter, args.stale)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => crate::output::json(&mut out, &rows)?,
        Format::Jsonl => crate::output::json_lines(&mut out, &rows)?,
        Format::Csv => write_csv(&mut out, &rows)?,
        Format::Table => write_table(&mut out, &rows, crate::output::term::width())?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn stale(r: &BaseRow) -> &'static str {
    match r.stale {
        Some(true) => "stale",
        Some(false) => "current",
        None => "unknown",
    }
}

fn write_csv(out: &mut dyn Write, rows: &[BaseRow]) -> anyhow::Result<()> {
    let mut w = crate::output::csv::SafeWriter::new(out, false);
    w.record([
        "registry",
        "repository",
        "tag",
        "digest",
        "base_name",
        "base_digest",
        "current_digest",
        "current_from",
        "checked_at",
        "stale",
    ])?;
    for r in rows {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        w.record([
            r.registry.clone(),
            r.repository.clone(),
            r.tag.clone(),
            r.digest.clone(),
            o(&r.base_name),
            o(&r.base_digest),
            o(&r.current_digest),
            r.current_from.unwrap_or("").to_string(),
            o(&r.checked_at),
            match r.stale {
                Some(s) => s.to_string(),
                None => String::new(),
            },
        ])?;
    }
    w.finish()?;
    Ok(())
}

fn write_table(out: &mut dyn Write, rows: &[BaseRow], width: Option<usize>) -> anyhow::Result<()> {
    let short = |v: &Option<String>| {
        v.as_deref()
            .map(crate::output::short_digest)
            .unwrap_or_else(|| "-".into())
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                format!("{}/{}:{}", r.registry, r.repository, r.tag),
                r.base_name.clone().unwrap_or_else(|| "-".into()),
                short(&r.base_digest),
                short(&r.current_digest),
                stale(r).to_string(),
            ]
        })
        .collect();
    let cols = [
        Col::new("IMAGE", 24, 0).keep_end(),
        Col::new("BASE", 20, 0).keep_end(),
        Col::new("BUILT ON", 19, 0),
        Col::new("NOW", 19, 0),
        Col::new("STATE", 7, 0),
    ];
    crate::output::table::write_fit(out, &cols, &cells, width)?;
    Ok(())
}
