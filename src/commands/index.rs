use super::exit;
use crate::cli::{Global, IndexArgs, LogFormat};
use crate::config::UsageError;
use crate::indexer::{self, Options, Progress, RepoFilter, Status};
use crate::registry::{Client, Settings, Shutdown};
use crate::store::Store;
use anyhow::Context;
use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Ranges of the numeric flags (also in --help).
const MAX_RPS: (f64, f64) = (0.001, 100_000.0);
const MAX_TIMEOUT: u64 = 3600;
const MAX_RETRIES: u32 = 20;
const MAX_LOCK_TIMEOUT: u64 = 86_400;

/// Numeric flags out of range are usage errors (exit 2), never a panic
/// deep in a Duration.
fn validate(args: &IndexArgs) -> Result<(), UsageError> {
    if let Some(r) = args.max_rps {
        if !(r.is_finite() && (MAX_RPS.0..=MAX_RPS.1).contains(&r)) {
            return Err(UsageError(format!(
                "--max-rps {r}: give a number of requests per second from {} to {}",
                MAX_RPS.0, MAX_RPS.1
            )));
        }
    }
    if !(1..=MAX_TIMEOUT).contains(&args.timeout) {
        return Err(UsageError(format!(
            "--timeout {}: give seconds from 1 to {MAX_TIMEOUT}",
            args.timeout
        )));
    }
    if args.retries > MAX_RETRIES {
        return Err(UsageError(format!(
            "--retries {}: give 0 to {MAX_RETRIES}",
            args.retries
        )));
    }
    if args.lock_timeout > MAX_LOCK_TIMEOUT {
        return Err(UsageError(format!(
            "--lock-timeout {}: give seconds from 0 to {MAX_LOCK_TIMEOUT}",
            args.lock_timeout
        )));
    }
    Ok(())
}

pub fn run(global: &Global, args: IndexArgs) -> anyhow::Result<ExitCode> {
    validate(&args)?;
    let (base, host) = crate::config::registry_url(&args.registry)?;
    let filter = RepoFilter::new(&args.repos, &args.excludes)
        .map_err(|e| crate::config::UsageError(format!("--repo/--exclude: {e}")))?;
    let explicit_repos = match &args.repos_from {
        Some(path) => read_repo_list(path)?,
        None => Vec::new(),
    };
    let ca_pem = match &args.credentials.ca_file {
        Some(p) => {
            Some(std::fs::read(p).with_context(|| format!("reading --ca-file {}", p.display()))?)
        }
        None => None,
    };
    let settings = Settings {
        concurrency: args.concurrency as usize,
        max_rps: args.max_rps,
        max_retries: args.retries,
        timeout: Duration::from_secs(args.timeout),
        ca_pem,
        ..Settings::default()
    };
    let base_settings = settings.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // Signals are watched from here on: the lock wait and credential
    // helpers end on SIGTERM too.
    let shutdown = Shutdown::process();
    // The handlers are installed here, before the lock wait starts, not
    // when the spawned task first runs: a signal sent as soon as the wait
    // is logged must not meet the default action.
    let watcher = {
        let _in_runtime = runtime.enter();
        watch_signals(shutdown.clone())
    };
    runtime.spawn(watcher);

    let Some(_lock) = lock_writer(
        &global.db,
        Duration::from_secs(args.lock_timeout),
        &shutdown,
    )?
    else {
        // Not holding the lock, this run cannot record anything.
        return Ok(ExitCode::from(exit::INTERRUPTED));
    };
    let mut store = Store::open_rw(&global.db)?;
    let (credential, source) = match crate::credentials::resolve(&args.credentials, &host) {
        Ok(found) => found,
        Err(e) if shutdown.by_signal() => {
            tracing::debug!(error = %e, "interrupted while resolving credentials");
            // The run is recorded, so `runs` shows why nothing was indexed.
            let run_id = store.begin_run(&host, args.full)?;
            let summary = crate::store::RunSummary {
                status: Status::Interrupted,
                ..Default::default()
            };
            store.finish_run(run_id, &summary)?;
            return Ok(ExitCode::from(exit::INTERRUPTED));
        }
        Err(e) => return Err(e),
    };

    let outcome = runtime.block_on(async {
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
            attestations: !args.no_attestations,
        };
        // On a worker thread, not this one: `block_on` polls its future on the
        // calling thread, which the runtime's workers cannot help with, and
        // the pipeline then answers its wakeups late (2-4 points of
        // in-flight utilisation at --concurrency 64, bench/economy.sh).
        let run = tokio::spawn(indexer::run(
            store,
            client,
            opts,
            shutdown.clone(),
            progress,
        ));
        let outcome = run.await.context("the indexing task failed")??;
        if args.resolve_bases && outcome.status() != Status::Interrupted {
            let mut store = Store::open_rw(&global.db)?;
            let asked = super::resolve_bases::resolve(
                &mut store,
                std::slice::from_ref(&host),
                &args.credentials,
                &base_settings,
                shutdown,
                outcome.run_id,
            )
            .await?;
            tracing::info!(bases = asked, "base images checked");
        }
        anyhow::Ok(outcome)
    })?;
    // Requests still in flight after an interrupt are dropped, not awaited.
    runtime.shutdown_timeout(Duration::from_secs(1));

    // The summary (stderr, and stdout with --format json) is read back from the run record.
    super::index_summary::report(global, args.format, outcome.run_id, outcome.elapsed)?;
    if let Some(path) = &args.metrics_file {
        crate::metrics::write(path, &host, &outcome)
            .with_context(|| format!("writing --metrics-file {}", path.display()))?;
    }
    Ok(ExitCode::from(match outcome.status() {
        Status::Ok => exit::OK,
        Status::Partial => exit::PARTIAL,
        Status::Interrupted => exit::INTERRUPTED,
        Status::Failed => {
            crate::logging::fatal(outcome.fatal().unwrap_or("the run failed"), exit::FAILED);
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
/// `<db>.lock`, waited for up to `timeout`. Readers never take it. None
/// when a signal ended the wait.
fn lock_writer(db: &Path, timeout: Duration, shutdown: &Shutdown) -> anyhow::Result<Option<File>> {
    let mut path = PathBuf::from(db);
    path.as_mut_os_string().push(".lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    let deadline = Instant::now().checked_add(timeout);
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => {
                if deadline.is_none_or(|d| Instant::now() >= d) {
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
                if shutdown.is_triggered() {
                    return Ok(None);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }
}

/// The first SIGTERM / SIGINT stops every wait and lets the run record
/// itself as interrupted; a second one exits at once. Registers the
/// handlers at once (call inside the runtime); the future watches them.
fn watch_signals(shutdown: Shutdown) -> futures::future::BoxFuture<'static, ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return Box::pin(async {});
        };
        Box::pin(async move {
            for signals in 1.. {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                if signals == 1 {
                    tracing::warn!("interrupted: stopping requests, committing what is complete");
                    shutdown.trigger();
                    continue;
                }
                eprintln!("acr-index: interrupted again; exiting now");
                break;
            }
            std::process::exit(exit::INTERRUPTED as i32);
        })
    }
    #[cfg(not(unix))]
    {
        Box::pin(async move {
            let _ = tokio::signal::ctrl_c().await;
            shutdown.trigger();
            let _ = tokio::signal::ctrl_c().await;
            std::process::exit(exit::INTERRUPTED as i32);
        })
    }
}
