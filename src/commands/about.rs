//! `completions`, `man` and `version`: what a user installs or asks once.

use crate::cli::Cli;
use clap::CommandFactory;
use std::io::Write;
use std::process::ExitCode;

/// The commit recorded by build.rs ("unknown" without git).
pub const COMMIT: &str = env!("ACR_INDEX_COMMIT");

/// `0.1.0 (commit 1a2b3c4d5e6f, SQLite 3.46.0)`: what `--version` prints
/// after the name.
pub fn long_version() -> String {
    format!(
        "{} (commit {COMMIT}, SQLite {})",
        env!("CARGO_PKG_VERSION"),
        rusqlite::version()
    )
}

/// The clap command with the long version filled in, for parsing, help,
/// completions and the man page alike.
pub fn command() -> clap::Command {
    let v: &'static str = Box::leak(long_version().into_boxed_str());
    Cli::command().version(v).long_version(v)
}

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut command(), "acr-index", &mut out);
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn man() -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(command()).render(&mut out)?;
    // One page for every subcommand, after the main one, so `man` shows
    // the options of each.
    for sub in command().get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name: &'static str =
            Box::leak(format!("acr-index-{}", sub.get_name()).into_boxed_str());
        clap_mangen::Man::new(sub.clone().name(name)).render(&mut out)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn version() -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "acr-index {}", env!("CARGO_PKG_VERSION"))?;
    writeln!(out, "commit    {COMMIT}")?;
    writeln!(out, "sqlite    {} (bundled)", rusqlite::version())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
