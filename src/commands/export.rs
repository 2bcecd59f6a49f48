//! `acr-index export`: a report of every indexed image, as CSV (wide or
//! long), a JSON array or JSON lines; to stdout or atomically to a file.

use crate::cli::{ExportArgs, ExportFormat};
use crate::links;
use crate::output::csv::SafeWriter;
use crate::store::{ImageRow, Store};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// The columns every CSV row starts with.
pub const BASE_COLUMNS: [&str; 7] = [
    "registry",
    "repository",
    "tag",
    "digest",
    "index_digest",
    "platform",
    "created",
];

/// A label column of the wide CSV.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// A label (or annotation) key as the user wrote it: the exact key or
    /// its last dot-separated segments, as `--label` matches.
    Key(String),
    /// `org.opencontainers.image.revision` or `*.sourceversion`.
    Commit,
    /// `*.sourcebranchname`, or `*.sourcebranch` without `refs/heads/`.
    Branch,
    /// `*.buildnumber`, else `*.builduri`.
    Build,
    /// `org.opencontainers.image.source` or `*.repository.uri`.
    Source,
}

/// The wide CSV's columns when `--columns` is not given.
pub const DEFAULT_COLUMNS: [Column; 4] = [
    Column::Commit,
    Column::Branch,
    Column::Build,
    Column::Source,
];

impl Column {
    pub fn header(&self) -> &str {
        match self {
            Column::Key(k) => k,
            Column::Commit => "commit",
            Column::Branch => "branch",
            Column::Build => "build",
            Column::Source => "source",
        }
    }

    fn value(&self, row: &ImageRow, p: &links::Provenance) -> String {
        let v = match self {
            Column::Key(k) => find_key(&row.labels, k).or_else(|| find_key(&row.annotations, k)),
            Column::Commit => p.commit.as_deref(),
            Column::Branch => p.branch.as_deref(),
            Column::Build => p.build(),
            Column::Source => p.source.as_deref(),
        };
        v.unwrap_or("").to_string()
    }
}

/// The value of `key` matched exactly, else as the last dot-separated
/// segments of a key (the first such key in key order).
pub fn find_key<'a>(map: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    if let Some(v) = map.get(key) {
        return Some(v);
    }
    let suffix = format!(".{key}");
    map.iter()
        .find(|(k, _)| k.ends_with(&suffix))
        .map(|(_, v)| v.as_str())
}

pub fn provenance(row: &ImageRow) -> links::Provenance {
    links::derive(&links::merged(
        &row.labels,
        &row.annotations,
        &BTreeMap::new(),
    ))
}

fn base_cells(r: &ImageRow) -> [&str; 7] {
    [
        &r.registry,
        &r.repository,
        &r.tag,
        &r.digest,
        r.index_digest.as_deref().unwrap_or(""),
        r.platform.as_deref().unwrap_or(""),
        r.created.as_deref().unwrap_or(""),
    ]
}

/// One row per image and tag: the base columns, then one per `columns`.
pub fn write_wide(
    out: &mut dyn Write,
    rows: &[ImageRow],
    columns: &[Column],
    raw: bool,
) -> anyhow::Result<()> {
    let mut w = SafeWriter::new(out, raw);
    w.record(
        BASE_COLUMNS
            .iter()
            .copied()
            .chain(columns.iter().map(Column::header)),
    )?;
    for r in rows {
        let p = provenance(r);
        let extra = columns.iter().map(|c| c.value(r, &p));
        w.record(base_cells(r).iter().map(|s| s.to_string()).chain(extra))?;
    }
    w.finish()?;
    Ok(())
}

/// One row per label: the base columns, then `key,value`. An image without
/// labels still gets one row, with both empty, so every image is listed.
pub fn write_long(out: &mut dyn Write, rows: &[ImageRow], raw: bool) -> anyhow::Result<()> {
    let mut w = SafeWriter::new(out, raw);
    w.record(BASE_COLUMNS.iter().copied().chain(["key", "value"]))?;
    for r in rows {
        let base = base_cells(r);
        if r.labels.is_empty() {
            w.record(base.iter().copied().chain(["", ""]))?;
        }
        for (k, v) in &r.labels {
            w.record(base.iter().copied().chain([k.as_str(), v.as_str()]))?;
        }
    }
    w.finish()?;
    Ok(())
}

fn write_report(out: &mut dyn Write, rows: &[ImageRow], args: &ExportArgs) -> anyhow::Result<()> {
    match args.format {
        ExportFormat::Csv if args.long => write_long(out, rows, args.raw)?,
        ExportFormat::Csv => {
            let columns: Vec<Column> = if args.columns.is_empty() {
                DEFAULT_COLUMNS.to_vec()
            } else {
                args.columns
                    .iter()
                    .map(|c| Column::Key(c.trim().to_string()))
                    .collect()
            };
            write_wide(out, rows, &columns, args.raw)?
        }
        ExportFormat::Json => crate::output::json(out, &rows)?,
        ExportFormat::Jsonl => {
            for r in rows {
                crate::output::json_line(out, r)?;
            }
        }
    }
    Ok(())
}

pub fn run(db: &Path, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let filter = crate::config::row_filter(&args.filter)?;
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
    let rows = store.image_rows(&filter)?;
    match &args.output {
        Some(path) => {
            crate::output::atomic::write_file(path, |out| write_report(out, &rows, &args))?;
            tracing::info!(rows = rows.len(), path = %path.display(), "report written");
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            write_report(&mut out, &rows, &args)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_exactly_or_by_suffix() {
        let m: BTreeMap<String, String> = [
            ("com.visualstudio.myorg.image.build.sourceversion", "abc"),
            ("version", "1"),
            ("org.opencontainers.image.version", "2"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(find_key(&m, "sourceversion"), Some("abc"));
        assert_eq!(find_key(&m, "build.sourceversion"), Some("abc"));
        assert_eq!(find_key(&m, "version"), Some("1"));
        assert_eq!(find_key(&m, "ourceversion"), None);
    }
}
