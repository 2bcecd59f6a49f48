//! Rendering for the terminal and for scripts. Only commands write to stdout.

pub mod atomic;
pub mod csv;
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
pub fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}", &hex[..12]),
        _ => d.to_string(),
    }
}
