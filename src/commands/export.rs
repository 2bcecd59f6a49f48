//! `acr-index export`: a report of every indexed image, as CSV (wide or
//! long), a JSON array or JSON lines; to stdout or atomically to a file.

use crate::answers::images::{self, Column, DEFAULT_COLUMNS};
use crate::cli::{ExportArgs, ExportFormat};
use crate::output::report::Report;
use crate::store::{RowFilter, Store};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

fn write_report(
    out: &mut dyn Write,
    store: &Store,
    filter: &RowFilter,
    args: &ExportArgs,
) -> anyhow::Result<usize> {
    let mut report = match args.format {
        ExportFormat::Csv if args.long => Report::long(out, args.raw)?,
        ExportFormat::Csv => {
            let columns: Vec<Column> = if args.columns.is_empty() {
                DEFAULT_COLUMNS.to_vec()
            } else {
                args.columns
                    .iter()
                    .map(|c| Column::named(c.trim()))
                    .collect()
            };
            Report::wide(out, columns, args.raw)?
        }
        ExportFormat::Json => Report::Json { out, rows: 0 },
        ExportFormat::Jsonl => Report::Jsonl { out },
    };
    let mut count = 0;
    images::for_each(store, filter, |row| {
        count += 1;
        report.row(&row)
    })?;
    report.finish()?;
    Ok(count)
}

pub fn run(db: &Path, args: ExportArgs) -> anyhow::Result<ExitCode> {
    crate::config::row_filter(&args.filter)?;
    if args.format != ExportFormat::Csv && (args.long || !args.columns.is_empty()) {
        return Err(crate::config::UsageError(
            "--long and --columns apply to --format csv only".into(),
        )
        .into());
    }
    if args.columns.iter().any(|c| c.trim().is_empty()) {
        return Err(crate::config::UsageError("--columns: empty column name".into()).into());
    }
    let store = Store::open_ro(db)?;
    let mut filter = crate::config::row_filter_for(&store, &args.filter)?;
    crate::answers::reference::resolve_filter(&store, &mut filter)?;
    // `--output -` is stdout, as for most tools.
    let output = args.output.as_deref().filter(|p| p.as_os_str() != "-");
    match output {
        Some(path) => {
            let mut rows = 0;
            // A FIFO or a device (/dev/stdout, a named pipe) is written
            // through; a regular file is replaced atomically.
            crate::output::atomic::write_to(path, |out| {
                rows = write_report(out, &store, &filter, &args)?;
                Ok(())
            })?;
            tracing::info!(rows, path = %path.display(), "report written");
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            write_report(&mut out, &store, &filter, &args)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
