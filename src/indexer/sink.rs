//! The single writer: owns the SQLite connection on its own thread and
//! commits records in batches, so the pipeline never waits on the disk.
//! Being the one consumer, it also folds the run's figures from the
//! records it commits. When a write fails (a full disk), it stops the
//! whole crawl at once: nothing more could be kept.

use crate::registry::Shutdown;
use crate::store::{Record, Store, StoreError};
use tokio::sync::mpsc;

const BATCH: usize = 256;

/// What the committed records add up to.
#[derive(Debug, Default, Clone, Copy)]
pub struct Folded {
    /// Tags in the listings written.
    pub tags: i64,
    pub manifests: i64,
    pub failures: i64,
}

impl Folded {
    fn add(&mut self, r: &Record) {
        match r {
            Record::Failure(_) => self.failures += 1,
            Record::Manifest(_) => self.manifests += 1,
            Record::Tags(t) => self.tags += t.tags.len() as i64,
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }
}

pub struct Finished {
    pub store: Store,
    pub folded: Folded,
    /// The write that failed, when one did; the crawl was stopped.
    pub error: Option<StoreError>,
}

pub struct Sink {
    handle: std::thread::JoinHandle<Finished>,
}

impl Sink {
    pub fn spawn(
        mut store: Store,
        registry: String,
        run_id: i64,
        stop: Shutdown,
    ) -> (Sink, mpsc::Sender<Record>) {
        let (tx, mut rx) = mpsc::channel::<Record>(1024);
        let handle = std::thread::spawn(move || {
            let mut folded = Folded::default();
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(first) = rx.blocking_recv() {
                batch.push(first);
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(r) => batch.push(r),
                        Err(_) => break,
                    }
                }
                if let Err(e) = store.write_batch(&registry, run_id, &batch) {
                    tracing::error!(error = %e, "writing the database failed; stopping the run");
                    stop.stop();
                    return Finished {
                        store,
                        folded,
                        error: Some(e),
                    };
                }
                batch.iter().for_each(|r| folded.add(r));
                batch.clear();
            }
            Finished {
                store,
                folded,
                error: None,
            }
        });
        (Sink { handle }, tx)
    }

    /// Wait until every record sent has been committed.
    pub fn finish(self) -> Finished {
        self.handle.join().expect("database writer thread panicked")
    }
}
