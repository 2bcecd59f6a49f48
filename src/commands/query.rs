//! `acr-index query`: images by label, repository, tag or digest, as a
//! table that fits the terminal, the JSON contract of SPEC.md, or CSV.

use crate::answers::images::{self, DEFAULT_COLUMNS};
use crate::cli::{Format, QueryArgs};
use crate::output::report;
use crate::output::short_digest;
use crate::output::table::Col;
use crate::store::{ImageRow, Store};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run(db: &Path, args: QueryArgs) -> anyhow::Result<ExitCode> {
    crate::config::row_filter(&args.filter)?;
    let store = Store::open_ro(db)?;
    let mut filter = crate::config::row_filter_for(&store, &args.filter)?;
    crate::answers::reference::resolve_filter(&store, &mut filter)?;
    let rows = images::rows(&store, &filter)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => crate::output::json(&mut out, &rows)?,
        Format::Jsonl => crate::output::json_lines(&mut out, &rows)?,
        // The same columns as `export --format csv` without --columns.
        Format::Csv => report::write_wide(
            &mut crate::output::escape::stdout_for_people(&mut out),
            &rows,
            &DEFAULT_COLUMNS,
            args.raw,
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

fn write_table(out: &mut dyn Write, rows: &[ImageRow], width: Option<usize>) -> anyhow::Result<()> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let p = images::provenance(r);
            let dash = |v: Option<&str>| v.unwrap_or("-").to_string();
            vec![
                format!("{}/{}:{}", r.registry, r.repository, r.tag),
                dash(r.platform.as_deref()),
                short_digest(&r.digest),
                dash(r.created.as_deref()),
                p.commit
                    .as_deref()
                    .map_or_else(|| "-".into(), crate::output::short_commit),
                dash(p.branch.as_deref()),
                dash(p.build()),
            ]
        })
        .collect();
    // On a narrow terminal columns with nothing in them go first, then
    // BUILD, CREATED and PLATFORM, so that at 80 columns the image, digest,
    // commit and branch remain; the image keeps its repository and tag
    // (cut from the left).
    let cols = [
        Col::new("IMAGE", 24, 0).keep_end(),
        Col::new("PLATFORM", 11, 5),
        Col::new("DIGEST", 19, 0),
        Col::new("CREATED", 11, 6),
        Col::new("COMMIT", 12, 0),
        Col::new("BRANCH", 10, 4),
        Col::new("BUILD", 10, 7),
    ];
    crate::output::table::write_fit(out, &cols, &cells, width)?;
    Ok(())
}
