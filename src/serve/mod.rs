//! `acr-index serve`: the index over HTTP, read-only. A JSON API whose
//! objects are the command line's (the same answer functions), pages for
//! people, health and metrics; optionally index runs on a schedule in the
//! same process, through the `index` command itself (same lock, same
//! options, same run records).

mod api;
mod db;
mod guard;
mod ops;
mod pages;
mod params;
mod schedule;

use crate::cli::{Global, ServeArgs};
use crate::config::UsageError;
use anyhow::Context;
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    db: Arc<db::Db>,
    metrics: Arc<ops::Metrics>,
    /// The bearer token /api/ requires, when `--token-file` was given.
    token: Option<Arc<str>>,
}

/// Every route with its middleware: for the server and for in-process tests.
pub fn router(db_path: std::path::PathBuf, token: Option<String>) -> Router {
    let state = AppState {
        db: db::Db::new(db_path),
        metrics: ops::Metrics::new(),
        token: token.map(Arc::from),
    };
    let api = api::routes().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        guard::token,
    ));
    Router::new()
        .merge(pages::routes())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(api)
        // Other methods on known paths are refused by the router (405);
        // nothing here writes.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::count,
        ))
        .layer(axum::middleware::from_fn(guard::headers))
        // GET requests carry no body; only /api/v1/running raises this.
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
}

pub fn run(global: &Global, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let addr: SocketAddr = args.listen.parse().map_err(|_| {
        UsageError(format!(
            "--listen {:?}: expected ADDRESS:PORT such as 127.0.0.1:8080",
            args.listen
        ))
    })?;
    let token = match &args.token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --token-file {}", path.display()))?;
            let t = text.trim().to_string();
            if t.is_empty() {
                return Err(UsageError(format!("--token-file {}: empty", path.display())).into());
            }
            Some(t)
        }
        None => None,
    };
    let wants_index = !args.index.registry.trim().is_empty();
    let every = match &args.index_every {
        Some(d) if wants_index => {
            // Bad index options fail now, not at the first scheduled run.
            crate::config::registry_url(&args.index.registry)?;
            Some(crate::config::duration("--index-every", d)?)
        }
        Some(_) => {
            return Err(
                UsageError("--index-every needs --registry (and the index options)".into()).into(),
            )
        }
        None if wants_index => {
            return Err(
                UsageError("--registry and the index options need --index-every".into()).into(),
            )
        }
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let stop = schedule::Stop::on_signals();
        let indexer =
            every.map(|every| schedule::start(global.clone(), args.index, every, stop.clone()));
        tracing::info!(listen = %listener.local_addr()?, "serving");
        let app = router(global.db.clone(), token);
        let wait = stop.clone();
        axum::serve(listener, app.into_make_service())
            .with_graceful_shutdown(async move { wait.wait().await })
            .await
            .context("serving")?;
        if let Some(task) = indexer {
            // The run in progress ends on the same signal (index's own
            // handler); wait for it to record itself.
            let _ = task.await;
        }
        tracing::info!("stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
