//! Rendering for the terminal and for scripts. Only commands write to stdout.

pub mod atomic;
pub mod csv;
pub mod table;
pub mod term;

use std::io::Write;

/// Print a value as pretty JSON followed by a newline.
pub fn json<T: serde::Serialize>(out: &mut dyn Write, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}
