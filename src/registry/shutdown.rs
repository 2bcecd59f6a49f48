//! Stopping in-flight work: on SIGTERM / SIGINT, or when the run cannot
//! go on (the database writer failed). Every wait in the program races
//! against [`Shutdown::wait`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::Notify;

#[derive(Default, Clone)]
pub struct Shutdown {
    flag: Arc<AtomicBool>,
    /// True when a signal asked for the stop (the run is `interrupted`);
    /// false for an internal stop (the run has `failed`).
    signalled: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Shutdown {
    /// The process's own instance, which the signal handler triggers; code
    /// that runs before the async runtime (credential helpers, the lock
    /// wait) polls it.
    pub fn process() -> Shutdown {
        static PROCESS: OnceLock<Shutdown> = OnceLock::new();
        PROCESS.get_or_init(Shutdown::default).clone()
    }

    /// A signal: stop and record the run as interrupted.
    pub fn trigger(&self) {
        self.signalled.store(true, Ordering::SeqCst);
        self.stop();
    }

    /// Stop everything without a signal (a fatal error elsewhere).
    pub fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_triggered(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    pub fn by_signal(&self) -> bool {
        self.signalled.load(Ordering::SeqCst)
    }

    pub async fn wait(&self) {
        let notified = self.notify.notified();
        if self.is_triggered() {
            return;
        }
        notified.await;
    }
}
