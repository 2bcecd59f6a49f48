//! The single writer: owns the SQLite connection on its own thread and
//! commits records in batches, so the pipeline never waits on the disk.

use crate::store::{Record, Store, StoreError};
use tokio::sync::mpsc;

const BATCH: usize = 256;

pub struct Sink {
    handle: std::thread::JoinHandle<Result<(Store, i64), StoreError>>,
}

impl Sink {
    pub fn spawn(mut store: Store, registry: String, run_id: i64) -> (Sink, mpsc::Sender<Record>) {
        let (tx, mut rx) = mpsc::channel::<Record>(1024);
        let handle = std::thread::spawn(move || {
            let mut failures = 0i64;
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(first) = rx.blocking_recv() {
                batch.push(first);
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(r) => batch.push(r),
                        Err(_) => break,
                    }
                }
                failures += batch
                    .iter()
                    .filter(|r| matches!(r, Record::Failure(_)))
                    .count() as i64;
                store.write_batch(&registry, run_id, &batch)?;
                batch.clear();
            }
            Ok((store, failures))
        });
        (Sink { handle }, tx)
    }

    /// Wait until every record sent has been committed.
    pub fn finish(self) -> Result<(Store, i64), StoreError> {
        self.handle.join().expect("database writer thread panicked")
    }
}
