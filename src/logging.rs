//! Logs go to stderr: readable lines by default, JSON for the cluster.
//! Text lines are escaped as a whole (see `output::escape::line`), so a
//! repository name or an error text from a registry cannot drive the
//! terminal; colour follows `--color`, then NO_COLOR, then whether stderr
//! is a terminal.

use crate::cli::{ColorChoice, Global, LogFormat};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

/// The progress bars on screen, if any: log lines are written around them
/// (bars hidden, line printed, bars redrawn) instead of through them.
static BARS: OnceLock<indicatif::MultiProgress> = OnceLock::new();
static COLOR: AtomicBool = AtomicBool::new(false);
static JSON: AtomicBool = AtomicBool::new(false);

pub fn show_progress(bars: indicatif::MultiProgress) {
    let _ = BARS.set(bars);
}

/// Whether stderr gets colour (logs and progress bars).
pub fn color() -> bool {
    COLOR.load(Ordering::Relaxed)
}

/// `--color always|never` as given; `auto` is a terminal without NO_COLOR
/// (any non-empty value, as no-color.org says).
pub fn wants_color(choice: ColorChoice, no_color: Option<&str>, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && no_color.is_none_or(str::is_empty),
    }
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
        // JSON lines are escaped by serde already.
        let text = if JSON.load(Ordering::Relaxed) {
            text.into_owned()
        } else {
            crate::output::escape::line(&text, color())
        };
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
    let no_color = std::env::var("NO_COLOR").ok();
    COLOR.store(
        wants_color(
            g.color,
            no_color.as_deref(),
            std::io::stderr().is_terminal(),
        ),
        Ordering::Relaxed,
    );
    JSON.store(g.log_format == LogFormat::Json, Ordering::Relaxed);
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
        LogFormat::Text => builder.with_ansi(color()).try_init(),
    };
}

/// A remark for the person at the terminal (`acr-index: ...` on stderr),
/// or one INFO event under `--log-format json`.
pub fn note(message: &str) {
    if JSON.load(Ordering::Relaxed) {
        let event = serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "level": "INFO",
            "message": message,
        });
        let _ = writeln!(std::io::stderr().lock(), "{event}");
    } else {
        let line = crate::output::escape::line(&format!("acr-index: {message}\n"), false);
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// The error that ends the program: `acr-index: ...` on stderr, or under
/// `--log-format json` one JSON event (`level` ERROR, `fatal` true), so a
/// log collector sees why the run stopped.
pub fn fatal(message: &str, exit_code: u8) {
    // Server text in an error can echo a credential: none is printed.
    let message = &*crate::registry::auth::scrub(message);
    if JSON.load(Ordering::Relaxed) {
        let event = serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "level": "ERROR",
            "fatal": true,
            "message": message,
            "exit_code": exit_code,
        });
        let _ = writeln!(std::io::stderr().lock(), "{event}");
    } else {
        let line = crate::output::escape::line(&format!("acr-index: {message}\n"), false);
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_choice() {
        assert!(wants_color(ColorChoice::Auto, None, true));
        assert!(!wants_color(ColorChoice::Auto, Some("1"), true));
        assert!(wants_color(ColorChoice::Auto, Some(""), true));
        assert!(!wants_color(ColorChoice::Auto, None, false));
        assert!(wants_color(ColorChoice::Always, Some("1"), false));
        assert!(!wants_color(ColorChoice::Never, None, true));
    }
}
