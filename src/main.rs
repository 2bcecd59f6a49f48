use acr_index::commands::{self, exit};
use acr_index::config::UsageError;
use clap::FromArgMatches;
use std::process::ExitCode;

fn main() -> ExitCode {
    let matches = commands::about::command().get_matches();
    let cli = match acr_index::cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    acr_index::logging::init(&cli.global);
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`acr-index query | head`) is not an error.
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let code = if err.downcast_ref::<UsageError>().is_some() {
                exit::USAGE
            } else {
                exit::FAILED
            };
            acr_index::logging::fatal(&format!("{err:#}"), code);
            ExitCode::from(code)
        }
    }
}
