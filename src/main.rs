use acr_index::commands::{self, exit};
use acr_index::config::UsageError;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = acr_index::cli::Cli::parse();
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
            let text = format!("{err:#}");
            eprintln!("acr-index: {}", acr_index::registry::auth::scrub(&text));
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(exit::USAGE)
            } else {
                ExitCode::from(exit::FAILED)
            }
        }
    }
}
