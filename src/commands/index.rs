use super::exit;
use crate::cli::{Global, IndexArgs, LogFormat};
use crate::indexer::{self, Options, Progress, RepoFilter, Status};
use crate::registry::{Client, Settings, Shutdown};
use crate::store::Store;
use anyhow::Context;
use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub fn run(global: &Global, args: IndexArgs) -> anyhow::Result<ExitCode> {
    let (base, host) = crate::config::registry_url(&args.registry)?;
    let filter = RepoFilter::new(&args.repos, &args.excludes)
        .map_err(|e| crate::config::UsageError(format!("--repo/--exclude: {e}")))?;
    let explicit_repos = match &args.repos_from {
        Some(path) => read_repo_list(path)?,
        None => Vec::new(),
    };
    let (credential, source) = crate::credentials::resolve(&args.credentials, &host)?;
    let ca_pem = match &args.credentials.ca_file {
        Some(p) => {
            Some(std::fs::read(p).with_context(|| format!("reading --ca-file {}", p.display()))?)
        }
        None => None,
    };
    let settings = Settings {
        concurrency: args.concurrency as usize,
        max_rps: args.max_rps.filter(|r| *r > 0.0),
        max_retries: args.retries,
        timeout: Duration::from_secs(args.timeout.max(1)),
        ca_pem,
        ..Settings::default()
    };

    let _lock = lock_writer(&global.db, Duration::from_secs(args.lock_timeout))?;
    let store = Store::open_rw(&global.db)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = runtime.block_on(async {
        let shutdown = Shutdown::default();
        spawn_signal_handler(shutdown.clone());
        let client = Client::new(base, credential, settings, shutdown.clone())?;
        tracing::info!(registry = %host, credentials = %source, "indexing");
        let terminal = std::io::stderr().is_terminal()
            && global.log_format == LogFormat::Text
            && !global.quiet;
        let progress = Progress::start(terminal, Duration::from_secs(30));
        let opts = Options {
            registry_host: host.clone(),
            filter,
            explicit_repos,
            full: args.full,
            concurrency: args.concurrency as usize,
            page_size: args.page_size as usize,
            api: match args.api {
                crate::cli::Api::Auto => indexer::Api::Auto,
                crate::cli::Api::Acr => indexer::Api::Acr,
                crate::cli::Api::V2 => indexer::Api::V2,
            },
        };
        indexer::run(store, client, opts, shutdown, progress).await
    })?;
    // Requests still in flight after an interrupt are dropped, not awaited.
    runtime.shutdown_timeout(Duration::from_secs(1));

    // The summary (stderr, and stdout with --format json) is read back from the run record.
    super::index_summary::report(global, args.format, outcome.run_id, outcome.elapsed)?;
    if let Some(path) = &args.metrics_file {
        crate::metrics::write(path, &host, &outcome)
            .with_context(|| format!("writing --metrics-file {}", path.display()))?;
    }
    Ok(ExitCode::from(match outcome.status {
        Status::Ok => exit::OK,
        Status::Partial => exit::PARTIAL,
        Status::Interrupted => exit::INTERRUPTED,
        Status::Failed => {
            crate::logging::fatal(
                outcome.fatal.as_deref().unwrap_or("the run failed"),
                exit::FAILED,
            );
            exit::FAILED
        }
    }))
}

fn read_repo_list(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --repos-from {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// Only one index run writes to a database at a time: an exclusive lock on
/// `<db>.lock`, waited for up to `timeout`. Readers never take it.
fn lock_writer(db: &Path, timeout: Duration) -> anyhow::Result<File> {
    let mut path = PathBuf::from(db);
    path.as_mut_os_string().push(".lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    let deadline = Instant::now() + timeout;
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                if Instant::now() >= deadline {
                    anyhow::bail!(
                        "another `acr-index index` run is writing to {} and did not finish within {}s (--lock-timeout); try again later",
                        db.display(),
                        timeout.as_secs()
                    );
                }
                if !told {
                    tracing::info!(db = %db.display(), "another index run holds the database; waiting");
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }
}

fn spawn_signal_handler(shutdown: Shutdown) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::warn!("interrupted: stopping requests, committing what is complete");
        shutdown.trigger();
    });
}
