//! CSV helpers shared by query, export and running.

use std::borrow::Cow;

/// A value a spreadsheet would evaluate as a formula (leading `=`, `+`, `-`,
/// `@`, tab or carriage return) gets a leading `'` so it shows as text.
pub fn neutralise(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

/// A CSV record writer that neutralises every cell unless `raw`.
pub struct SafeWriter<W: std::io::Write> {
    inner: csv::Writer<W>,
    raw: bool,
}

impl<W: std::io::Write> SafeWriter<W> {
    pub fn new(out: W, raw: bool) -> Self {
        SafeWriter {
            inner: csv::Writer::from_writer(out),
            raw,
        }
    }

    pub fn record<I, S>(&mut self, cells: I) -> anyhow::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let raw = self.raw;
        self.inner
            .write_record(cells.into_iter().map(|c| {
                let c = c.as_ref();
                if raw {
                    c.to_string()
                } else {
                    neutralise(c).into_owned()
                }
            }))
            .map_err(csv_error)
    }

    /// Flush and hand back the writer, reporting any write error.
    pub fn finish(self) -> anyhow::Result<W> {
        self.inner.into_inner().map_err(|e| {
            let io = std::io::Error::new(e.error().kind(), e.error().to_string());
            anyhow::Error::from(io).context("writing CSV")
        })
    }
}

/// An I/O failure inside csv as the io::Error it is (a closed pipe stays one).
fn csv_error(e: csv::Error) -> anyhow::Error {
    if e.is_io_error() {
        std::io::Error::from(e).into()
    } else {
        e.into()
    }
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formulas_are_neutralised() {
        for v in ["=1+1", "+x", "-y", "@z", "\tt", "\rr"] {
            assert_eq!(neutralise(v), format!("'{v}"));
        }
        for v in ["", "a=b", "1", "'quoted", " =x"] {
            assert_eq!(neutralise(v), v);
        }
    }
}
