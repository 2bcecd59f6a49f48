//! The image report of `export`, `query --format csv` and
//! `GET /api/v1/images?format=csv`: CSV (wide or long), a JSON array or
//! JSON lines, written one row at a time.

use crate::answers::images::{self, Column};
use crate::output::csv::SafeWriter;
use crate::store::ImageRow;
use std::io::Write;

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
            images::BASE_COLUMNS
                .iter()
                .copied()
                .chain(columns.iter().map(Column::header)),
        )?;
        Ok(Report::Wide { w, columns })
    }

    pub fn long(out: &'a mut dyn Write, raw: bool) -> anyhow::Result<Self> {
        let mut w = SafeWriter::new(out, raw);
        w.record(images::BASE_COLUMNS.iter().copied().chain(["key", "value"]))?;
        Ok(Report::Long { w })
    }

    pub fn row(&mut self, r: &ImageRow) -> anyhow::Result<()> {
        match self {
            Report::Wide { w, columns } => {
                let p = images::provenance(r);
                let extra = columns.iter().map(|c| c.value(r, p));
                w.record(
                    images::base_cells(r)
                        .iter()
                        .map(|s| s.to_string())
                        .chain(extra),
                )?;
            }
            Report::Long { w } => {
                let base = images::base_cells(r);
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
