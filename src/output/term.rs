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
    tty_columns().or(Some(120))
}

/// `stty size` on the controlling terminal (no extra dependency).
fn tty_columns() -> Option<usize> {
    let tty = std::fs::File::open("/dev/tty").ok()?;
    let out = std::process::Command::new("stty")
        .arg("size")
        .stdin(tty)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    text.split_whitespace()
        .nth(1)?
        .parse()
        .ok()
        .filter(|n| *n > 0)
}
