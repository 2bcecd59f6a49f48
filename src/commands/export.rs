//! `acr-index export`: a report of every indexed image, as CSV (wide or
//! long), a JSON array or JSON lines; to stdout or atomically to a file.

use crate::cli::{ExportArgs, ExportFormat};
use crate::links;
use crate::output::csv::SafeWriter;
use crate::store::{ImageRow, RowFilter, Store};
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
    /// A signature refers to the image or its index (true/false).
    Signed,
    /// An SBOM refers to the image or its index (true/false).
    Sbom,
}

/// The wide CSV's columns when `--columns` is not given.
pub const DEFAULT_COLUMNS: [Column; 6] = [
    Column::Commit,
    Column::Branch,
    Column::Build,
    Column::Source,
    Column::Signed,
    Column::Sbom,
];

impl Column {
    pub fn header(&self) -> &str {
        match self {
            Column::Key(k) => k,
            Column::Commit => "commit",
            Column::Branch => "branch",
            Column::Build => "build",
            Column::Source => "source",
            Column::Signed => "signed",
            Column::Sbom => "sbom",
        }
    }

    fn value(&self, row: &ImageRow, p: &links::Provenance) -> String {
        let v = match self {
            Column::Key(k) => find_key(&row.labels, k).or_else(|| find_key(&row.annotations, k)),
            Column::Commit => p.commit.as_deref(),
            Column::Branch => p.branch.as_deref(),
            Column::Build => p.build(),
            Column::Source => p.source.as_deref(),
            Column::Signed | Column::Sbom => {
                let mut subjects = vec![row.digest.as_str()];
                subjects.extend(row.index_digest.as_deref());
                let yes = match self {
                    Column::Signed => crate::store::is_signed(&row.referrers, &subjects),
                    _ => crate::store::has_sbom(&row.referrers, &subjects),
                };
                return yes.to_string();
            }
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

/// A report written one row at a time, so memory stays flat however many
/// images the database holds.
pub enum Report<'a> {
    /// One row per image and tag: the base columns, then one per column.
    Wide {
        w: SafeWriter<&'a mut dyn Write>,
        columns: Vec<Column>,
    },
    /// One row per label: the base columns, then `key,value`. An image
    /// without labels still gets one row, with both empty.
    Long { w: SafeWriter<&'a mut dyn Write> },
    /// One JSON array, formatted as `query --format json` prints it.
    Json { out: &'a mut dyn Write, rows: usize },
    /// One JSON object per line.
    Jsonl { out: &'a mut dyn Write },
}

impl<'a> Report<'a> {
    pub fn wide(out: &'a mut dyn Write, columns: Vec<Column>, raw: bool) -> anyhow::Result<Self> {
        let mut w = SafeWriter::new(out, raw);
        w.record(
            BASE_COLUMNS
                .iter()
                .copied()
                .chain(columns.iter().map(Column::header)),
        )?;
        Ok(Report::Wide { w, columns })
    }

    pub fn long(out: &'a mut dyn Write, raw: bool) -> anyhow::Result<Self> {
        let mut w = SafeWriter::new(out, raw);
        w.record(BASE_COLUMNS.iter().copied().chain(["key", "value"]))?;
        Ok(Report::Long { w })
    }

    pub fn row(&mut self, r: &ImageRow) -> anyhow::Result<()> {
        match self {
            Report::Wide { w, columns } => {
                let p = provenance(r);
                let extra = columns.iter().map(|c| c.value(r, &p));
                w.record(base_cells(r).iter().map(|s| s.to_string()).chain(extra))?;
            }
            Report::Long { w } => {
                let base = base_cells(r);
                if r.labels.is_empty() {
                    w.record(base.iter().copied().chain(["", ""]))?;
                }
                for (k, v) in &r.labels {
                    w.record(base.iter().copied().chain([k.as_str(), v.as_str()]))?;
                }
            }
            Report::Json { out, rows } => {
                out.write_all(if *rows == 0 { b"[\n" } else { b",\n" })?;
                *rows += 1;
                // Indented as an element of a pretty-printed array; strings
                // hold no raw newlines, so indenting by line is exact.
                let text = serde_json::to_string_pretty(r)?;
                for (i, line) in text.lines().enumerate() {
                    if i > 0 {
                        out.write_all(b"\n")?;
                    }
                    write!(out, "  {line}")?;
                }
            }
            Report::Jsonl { out } => crate::output::json_line(*out, r)?,
        }
        Ok(())
    }

    /// Close the report and flush it; write errors surface here.
    pub fn finish(self) -> anyhow::Result<()> {
        match self {
            Report::Wide { w, .. } | Report::Long { w } => {
                w.finish()?.flush()?;
            }
            Report::Json { out, rows } => {
                out.write_all(if rows == 0 { b"[]\n" } else { b"\n]\n" })?;
                out.flush()?;
            }
            Report::Jsonl { out } => out.flush()?,
        }
        Ok(())
    }
}

/// One row per image and tag: the base columns, then one per `columns`.
pub fn write_wide(
    out: &mut dyn Write,
    rows: &[ImageRow],
    columns: &[Column],
    raw: bool,
) -> anyhow::Result<()> {
    let mut report = Report::wide(out, columns.to_vec(), raw)?;
    for r in rows {
        report.row(r)?;
    }
    report.finish()
}

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
                    .map(|c| match c.trim() {
                        // The referrer columns of the default set, by name.
                        "signed" => Column::Signed,
                        "sbom" => Column::Sbom,
                        c => Column::Key(c.to_string()),
                    })
                    .collect()
            };
            Report::wide(out, columns, args.raw)?
        }
        ExportFormat::Json => Report::Json { out, rows: 0 },
        ExportFormat::Jsonl => Report::Jsonl { out },
    };
    let mut count = 0;
    store.for_each_image_row(filter, |row| {
        count += 1;
        report.row(&row)
    })?;
    report.finish()?;
    Ok(count)
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
    match &args.output {
        Some(path) => {
            let mut rows = 0;
            crate::output::atomic::write_file(path, |out| {
                rows = write_report(out, &store, &filter, &args)?;
                Ok(())
            })?;
            tracing::info!(rows, path = %path.display(), "report written");
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            write_report(&mut out, &store, &filter, &args)?;
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
