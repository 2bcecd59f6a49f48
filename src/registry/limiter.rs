//! Load on the registry: a cap on requests in flight, an optional ceiling
//! on requests per second, and one shared "not before" instant set when
//! the registry answers 429.

use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

pub struct Limiter {
    in_flight: Semaphore,
    interval: Option<Duration>,
    next_slot: Mutex<Instant>,
    not_before: Mutex<Option<Instant>>,
}

impl Limiter {
    pub fn new(concurrency: usize, max_rps: Option<f64>) -> Limiter {
        Limiter {
            in_flight: Semaphore::new(concurrency.max(1)),
            interval: max_rps
                .filter(|r| *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            next_slot: Mutex::new(Instant::now()),
            not_before: Mutex::new(None),
        }
    }

    /// Wait for the shared backoff, a rate slot and a concurrency permit.
    pub async fn acquire(&self) -> SemaphorePermit<'_> {
        loop {
            let wait_until = *self.not_before.lock().unwrap();
            match wait_until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        if let Some(interval) = self.interval {
            let slot = {
                let mut next = self.next_slot.lock().unwrap();
                let slot = (*next).max(Instant::now());
                *next = slot + interval;
                slot
            };
            tokio::time::sleep_until(slot).await;
        }
        self.in_flight
            .acquire()
            .await
            .expect("semaphore never closed")
    }

    /// Everyone waits until `delay` from now (429 / Retry-After).
    pub fn back_off_all(&self, delay: Duration) {
        let until = Instant::now() + delay;
        let mut nb = self.not_before.lock().unwrap();
        if nb.is_none_or(|t| t < until) {
            *nb = Some(until);
        }
    }
}
