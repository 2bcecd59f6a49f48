//! One module per subcommand. These are the only places that write to stdout.

pub mod about;
pub mod bases;
pub mod export;
pub mod index;
pub mod index_summary;
pub mod query;
mod resolve_bases;
pub mod running;
pub mod runs;
pub mod show;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

/// Exit statuses (see README: Exit codes).
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const PARTIAL: u8 = 3;
    pub const INTERRUPTED: u8 = 130;
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let db = cli.global.db.clone();
    match cli.command {
        Command::Index(args) => index::run(&cli.global, *args),
        Command::Query(args) => query::run(&db, args),
        Command::Runs(args) => runs::run(&db, args),
        Command::Show(args) => show::run(&db, args),
        Command::Export(args) => export::run(&db, args),
        Command::Running(args) => running::run(&db, args),
        Command::Bases(args) => bases::run(&db, args),
        Command::Serve(args) => crate::serve::run(&cli.global, *args),
        Command::Completions(args) => about::completions(args.shell),
        Command::Man => about::man(),
        Command::Version => about::version(),
    }
}
