//! `serve --index-every`: index runs in this process, one after another,
//! each through `commands::index::run` itself so the run takes the same
//! one-writer lock, honours the same options and records itself the same
//! way as a CronJob's. SIGTERM stops the server and the run in progress
//! (the run's own signal handler commits what is complete).

use crate::cli::{Global, IndexArgs};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Set once on SIGTERM or SIGINT; everything that waits selects on it.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    pub fn on_signals() -> Stop {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("stopping: signal received");
            let _ = tx.send(true);
            // A second signal does not wait for the run in progress.
            wait_for_signal().await;
            tracing::warn!("second signal: exiting now");
            std::process::exit(i32::from(crate::commands::exit::INTERRUPTED));
        });
        Stop(rx)
    }

    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }

    fn stopped(&self) -> bool {
        *self.0.borrow()
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Run `index` now, then `every` after each run ends, until stopped.
pub fn start(global: Global, args: IndexArgs, every: Duration, stop: Stop) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let (g, a) = (global.clone(), args.clone());
            // `index::run` builds its own runtime, so it gets its own thread.
            std::thread::spawn(move || {
                let _ = tx.send(crate::commands::index::run(&g, a));
            });
            match rx.await {
                Ok(Ok(code)) => tracing::info!(exit = ?code, "scheduled index run ended"),
                Ok(Err(e)) => {
                    tracing::warn!(error = %format!("{e:#}"), "scheduled index run failed")
                }
                Err(_) => tracing::error!("scheduled index run panicked"),
            }
            if stop.stopped() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.clone().wait() => return,
            }
        }
    })
}
