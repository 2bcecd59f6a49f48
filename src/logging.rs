//! Logs go to stderr: readable lines by default, JSON for the cluster.

use crate::cli::{Global, LogFormat};
use std::io::Write;
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

/// The progress bars on screen, if any: log lines are written around them
/// (bars hidden, line printed, bars redrawn) instead of through them.
static BARS: OnceLock<indicatif::MultiProgress> = OnceLock::new();

pub fn show_progress(bars: indicatif::MultiProgress) {
    let _ = BARS.set(bars);
}

/// One log event, buffered and written to stderr in one piece when dropped.
struct Line(Vec<u8>);

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        // Server text in an error can echo a credential: none is printed.
        let text = String::from_utf8_lossy(&self.0);
        let text = crate::registry::auth::scrub(&text);
        let write = || {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        };
        match BARS.get() {
            Some(bars) => bars.suspend(write),
            None => write(),
        }
    }
}

pub fn init(g: &Global) {
    let default = match (g.quiet, g.verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "acr_index=debug,info",
        (false, _) => "acr_index=trace,debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Line(Vec::new()))
        .with_target(false);
    let _ = match g.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}
