//! Rendering for the terminal and for scripts. Only commands write to stdout.

pub mod atomic;
pub mod csv;
pub mod escape;
pub mod failures;
pub mod referrers;
pub mod report;
pub mod table;
pub mod term;

use std::io::Write;

/// Print a value as pretty JSON followed by a newline.
pub fn json<T: serde::Serialize>(out: &mut dyn Write, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(json_error)?;
    writeln!(out)?;
    Ok(())
}

/// Print a value as one line of compact JSON (JSON lines).
pub fn json_line<T: serde::Serialize>(out: &mut dyn Write, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(json_error)?;
    writeln!(out)?;
    Ok(())
}

/// Print every item as one line of compact JSON.
pub fn json_lines<T: serde::Serialize>(out: &mut dyn Write, items: &[T]) -> anyhow::Result<()> {
    for item in items {
        json_line(out, item)?;
    }
    Ok(())
}

/// An I/O failure inside serde_json as the io::Error it is, so a closed
/// pipe is recognised as one.
fn json_error(e: serde_json::Error) -> anyhow::Error {
    if e.is_io() {
        std::io::Error::from(e).into()
    } else {
        e.into()
    }
}

/// `sha256:` and the first 12 hex digits, as docker shows image IDs.
/// A commit SHA as tables print it: its first 12 hex digits (still unique
/// in any real repository, and what `query --commit` takes); anything that
/// is not a hex SHA is left whole for the table to fit.
pub fn short_commit(c: &str) -> String {
    if c.len() > 12 && c.chars().all(|ch| ch.is_ascii_hexdigit()) {
        c[..12].to_string()
    } else {
        c.to_string()
    }
}

pub fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}", &hex[..12]),
        _ => d.to_string(),
    }
}
