//! Load on the registry: a cap on requests in flight, a rate controller,
//! and one shared "not before" instant set when the registry answers 429.
//! Every request the program sends (token, exchange, Entra ID and IMDS
//! included) waits here.

use futures::future::BoxFuture;
use reqwest::header::HeaderMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// Decides when the next request may start. The default is a fixed
/// ceiling (`--max-rps`); an adaptive controller can learn the registry's
/// limit from what it observes.
pub trait RateControl: Send + Sync {
    /// Wait for a rate slot. Cancel-safe: dropping the future gives up the wait.
    fn acquire(&self) -> BoxFuture<'_, ()>;
    /// What an attempt ended with: a status and headers, or None for an
    /// attempt without a response.
    fn observe(&self, status: Option<u16>, headers: Option<&HeaderMap>, now: Instant);
}

/// `--max-rps`: evenly spaced slots; no ceiling when None.
pub struct FixedRate {
    interval: Option<Duration>,
    next_slot: Mutex<Instant>,
}

impl FixedRate {
    /// `max_rps` is validated by the caller (finite, > 0).
    pub fn new(max_rps: Option<f64>) -> FixedRate {
        FixedRate {
            interval: max_rps
                .filter(|r| r.is_finite() && *r > 0.0)
                .and_then(|r| Duration::try_from_secs_f64(1.0 / r).ok()),
            next_slot: Mutex::new(Instant::now()),
        }
    }
}

impl RateControl for FixedRate {
    fn acquire(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let Some(interval) = self.interval else {
                return;
            };
            let slot = {
                let mut next = self.next_slot.lock().unwrap();
                let slot = (*next).max(Instant::now());
                *next = slot.checked_add(interval).unwrap_or(slot);
                slot
            };
            tokio::time::sleep_until(slot).await;
        })
    }

    fn observe(&self, _: Option<u16>, _: Option<&HeaderMap>, _: Instant) {}
}

pub struct Limiter {
    in_flight: Semaphore,
    rate: Arc<dyn RateControl>,
    not_before: Mutex<Option<Instant>>,
}

impl Limiter {
    pub fn new(concurrency: usize, rate: Arc<dyn RateControl>) -> Limiter {
        Limiter {
            in_flight: Semaphore::new(concurrency.max(1)),
            rate,
            not_before: Mutex::new(None),
        }
    }

    pub fn rate(&self) -> &dyn RateControl {
        self.rate.as_ref()
    }

    /// Wait for the shared backoff, a rate slot and a concurrency permit.
    /// The caller races this against shutdown.
    pub async fn acquire(&self) -> SemaphorePermit<'_> {
        loop {
            let wait_until = *self.not_before.lock().unwrap();
            match wait_until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        self.rate.acquire().await;
        self.in_flight
            .acquire()
            .await
            .expect("semaphore never closed")
    }

    /// Everyone waits until `delay` from now (429 / Retry-After).
    pub fn back_off_all(&self, delay: Duration) {
        let now = Instant::now();
        let until = now.checked_add(delay).unwrap_or(now);
        let mut nb = self.not_before.lock().unwrap();
        if nb.is_none_or(|t| t < until) {
            *nb = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn fixed_rate_spaces_requests_and_tolerates_tiny_rates() {
        let r = FixedRate::new(Some(2.0));
        let t0 = Instant::now();
        r.acquire().await;
        r.acquire().await;
        r.acquire().await;
        assert_eq!(Instant::now() - t0, Duration::from_secs(1));
        // Absurd rates do not panic (the CLI refuses them before this).
        let _ = FixedRate::new(Some(1e-300));
        let _ = FixedRate::new(Some(f64::NAN));
        let _ = FixedRate::new(Some(f64::INFINITY));
    }

    #[tokio::test(start_paused = true)]
    async fn back_off_all_holds_every_acquire() {
        let l = Limiter::new(2, Arc::new(FixedRate::new(None)));
        l.back_off_all(Duration::from_secs(5));
        l.back_off_all(Duration::MAX);
        let t0 = Instant::now();
        let _ = tokio::time::timeout(Duration::from_secs(10), l.acquire()).await;
        assert!(Instant::now() - t0 >= Duration::from_secs(5));
    }
}
