//! How wide the terminal is, for tables that fit it.

use std::io::IsTerminal;

/// The width tables should fit: `$COLUMNS` when set (also off a terminal,
/// as `ls` does), else the terminal's width when stdout is one, else no
/// limit (a pipe gets whole values).
pub fn width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return Some(n);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size()
        .map(|(w, _)| w.0 as usize)
        .filter(|n| *n > 0)
        .or(Some(120))
}
