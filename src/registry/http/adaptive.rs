//! The request rate, found rather than configured: a pure controller fed
//! with what the registry answered and when.
//!
//! - No limit is known at the start: requests go at the pace concurrency
//!   allows, so a registry with room is not slowed down.
//! - ACR sends `x-ms-ratelimit-remaining-calls-per-second` on its answers
//!   (what is left of its read budget, per second). Our own recent
//!   goodput plus that remainder is the registry's limit; the controller
//!   paces a little under it and so never meets a 429 in steady state.
//! - Without that header it is AIMD: a 429 cuts the rate to a share of the
//!   goodput that met it (once per episode, not once per answer), success
//!   raises it again, quickly far below the rate that was throttled and
//!   slowly near it.
//! - `Retry-After` on a 429 holds back every request, not only the one
//!   that met it; `--max-rps` stays a ceiling over all of it.
//!
//! Every method takes `now`: the controller reads no clock, so tests drive
//! it as a function of observations and time.

use super::policy::parse_retry_after;
use super::rate::RateControl;
use futures::future::BoxFuture;
use reqwest::header::HeaderMap;
use std::collections::VecDeque;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// The header ACR sends with what is left of its request budget.
pub const REMAINING_HEADER: &str = "x-ms-ratelimit-remaining-calls-per-second";

/// Share of the estimated limit used when the registry tells its remainder:
/// enough headroom that jitter in when requests land does not cross it.
const HEADROOM: f64 = 0.95;
/// Multiplicative decrease on a 429 without the header.
const DECREASE: f64 = 0.8;
/// Below this share of the throttled rate the rate grows fast.
const NEAR_LIMIT: f64 = 0.9;
/// Never slower than this (requests per second).
const MIN_RATE: f64 = 0.5;
/// Pause for everyone after a 429 without Retry-After.
const DEFAULT_PAUSE: Duration = Duration::from_millis(500);
/// A server-given pause longer than this is cut to it (hostile values),
/// the same bound the retry policy uses.
pub const MAX_PAUSE: Duration = super::policy::MAX_RETRY_AFTER;
/// Goodput is measured over this window.
const WINDOW: Duration = Duration::from_secs(1);
/// Bound on the goodput window's memory, whatever the rate.
const MAX_WINDOW_ENTRIES: usize = 100_000;
/// Weight of a new limit estimate (the header's value jitters by +-1).
const SMOOTHING: f64 = 0.2;
/// Without send times: 429s this soon after a decrease are its echo.
const EPISODE: Duration = Duration::from_millis(250);

/// What one answer said about the registry's load.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    /// When the request was sent, if known: answers to requests sent
    /// before the last decrease belong to the episode that caused it.
    /// Without it, a 429 during the pause (or within EPISODE of the
    /// decrease) is taken to be one of those.
    pub sent_at: Option<Instant>,
    pub status: u16,
    /// `Retry-After` of a 429 or 503, parsed.
    pub retry_after: Option<Duration>,
    /// The remaining-calls header, validated.
    pub remaining_per_second: Option<f64>,
}

/// Parse the remaining-calls header: a finite, non-negative number.
pub fn parse_remaining(value: &str) -> Option<f64> {
    let v: f64 = value.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v.min(1e6))
}

#[derive(Debug)]
pub struct RateController {
    ceiling: Option<f64>,
    /// None: no limit known; the pace is what concurrency allows.
    rate: Option<f64>,
    next_slot: Instant,
    not_before: Option<Instant>,
    /// Answers (other than 429) in the last WINDOW.
    goodput: VecDeque<Instant>,
    /// The goodput that met the last 429: where growth slows down.
    throttled_at: Option<f64>,
    /// Smoothed limit estimate from the remaining-calls header.
    header_limit: Option<f64>,
    last_decrease: Option<Instant>,
    last_growth: Instant,
    throttled: u64,
}

impl RateController {
    /// `ceiling` is `--max-rps`; with it the controller starts there.
    pub fn new(ceiling: Option<f64>, now: Instant) -> RateController {
        let ceiling = ceiling.filter(|c| c.is_finite() && *c > 0.0);
        RateController {
            ceiling,
            rate: ceiling,
            next_slot: now,
            not_before: None,
            goodput: VecDeque::new(),
            throttled_at: None,
            header_limit: None,
            last_decrease: None,
            last_growth: now,
            throttled: 0,
        }
    }

    /// The current pace in requests per second (None: unpaced).
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Until when every request is held back (Retry-After).
    pub fn not_before(&self) -> Option<Instant> {
        self.not_before
    }

    /// 429 answers observed.
    pub fn throttled(&self) -> u64 {
        self.throttled
    }

    /// Ask to send at `now`: None means go (the slot is taken), Some(t)
    /// means ask again at t.
    pub fn try_admit(&mut self, now: Instant) -> Option<Instant> {
        if let Some(nb) = self.not_before {
            if nb > now {
                return Some(nb);
            }
            self.not_before = None;
        }
        let rate = self.rate?;
        if self.next_slot > now {
            return Some(self.next_slot);
        }
        let interval = Duration::from_secs_f64(1.0 / rate);
        // A late wake-up keeps its slot (the pace does not sag by the timer's
        // lag), but idle time is not banked beyond one interval.
        let slot = self.next_slot.max(now.checked_sub(interval).unwrap_or(now));
        self.next_slot = slot + interval;
        None
    }

    pub fn observe(&mut self, now: Instant, o: &Observation) {
        while let Some(t) = self.goodput.front() {
            if now.duration_since(*t) > WINDOW || self.goodput.len() > MAX_WINDOW_ENTRIES {
                self.goodput.pop_front();
            } else {
                break;
            }
        }
        if o.status == 429 {
            self.on_throttled(now, o);
        } else {
            self.goodput.push_back(now);
            match o.remaining_per_second {
                Some(h) => self.follow_header(h),
                // Once the registry tells its remainder, answers without it
                // (the storage hop of a blob GET) say nothing about the limit.
                None if self.header_limit.is_some() => {}
                None => self.grow(now),
            }
        }
        if let (Some(r), Some(c)) = (self.rate, self.ceiling) {
            self.rate = Some(r.min(c));
        }
    }

    /// Our own goodput over the last window, per second.
    fn own_rate(&self) -> f64 {
        self.goodput.len() as f64 / WINDOW.as_secs_f64()
    }

    fn follow_header(&mut self, remaining: f64) {
        let estimate = self.own_rate() + remaining;
        let smoothed = match self.header_limit {
            Some(prev) => prev + SMOOTHING * (estimate - prev),
            None => estimate,
        };
        self.header_limit = Some(smoothed);
        self.rate = Some((smoothed * HEADROOM).max(MIN_RATE));
    }

    fn on_throttled(&mut self, now: Instant, o: &Observation) {
        self.throttled += 1;
        let pause = o.retry_after.unwrap_or(DEFAULT_PAUSE).min(MAX_PAUSE);
        let until = now + pause;
        let paused_until = self.not_before;
        if self.not_before.is_none_or(|t| t < until) {
            self.not_before = Some(until);
        }
        // Answers to requests already on their way when we slowed down are
        // the same episode: one decrease per episode.
        let same_episode = self.last_decrease.is_some_and(|d| match o.sent_at {
            Some(sent) => sent < d,
            // Still inside the pause: nothing new was sent since the cut.
            None => now < d + EPISODE || paused_until.is_some_and(|nb| now < nb),
        });
        if same_episode {
            return;
        }
        let got = self.own_rate().max(MIN_RATE);
        self.throttled_at = Some(got);
        let base = self.rate.map_or(got, |r| r.min(got.max(MIN_RATE)));
        let mut cut = (base * DECREASE).max(MIN_RATE);
        if let Some(limit) = self.header_limit {
            // The registry's own figure was too optimistic: trust it less.
            self.header_limit = Some(limit * DECREASE);
            cut = cut.min(limit * DECREASE * HEADROOM);
        }
        self.rate = Some(cut.max(MIN_RATE));
        self.last_decrease = Some(now);
        self.last_growth = now;
    }

    /// Additive increase per second of successful answers: fast while far
    /// below the rate that was throttled, slow near and above it.
    fn grow(&mut self, now: Instant) {
        let dt = now.duration_since(self.last_growth).as_secs_f64().min(1.0);
        self.last_growth = now;
        let Some(r) = self.rate else { return };
        if self.ceiling.is_some_and(|c| r >= c) {
            return;
        }
        let step = match self.throttled_at {
            Some(limit) if r >= NEAR_LIMIT * limit => (0.02 * limit).max(0.5),
            Some(limit) => (0.5 * limit).max(1.0),
            None => (0.5 * r).max(1.0),
        };
        // Only a rate that binds grows: when concurrency holds the pace
        // below it, raising it would bank a burst for later.
        let used = self.own_rate();
        if r > 2.0 * used + 2.0 {
            return;
        }
        self.rate = Some(r + step * dt);
    }
}

/// The controller behind the HTTP layer's [`RateControl`]: one per run,
/// shared by every request (token requests included).
pub struct AdaptiveRate {
    ctl: std::sync::Mutex<RateController>,
    /// Waiters queue here (FIFO), so one sleeps for the next slot at a time.
    gate: tokio::sync::Mutex<()>,
}

impl AdaptiveRate {
    pub fn new(ceiling: Option<f64>) -> AdaptiveRate {
        AdaptiveRate {
            ctl: std::sync::Mutex::new(RateController::new(ceiling, Instant::now())),
            gate: tokio::sync::Mutex::new(()),
        }
    }

    /// The pace now (None: unpaced), for logs and tests.
    pub fn rate(&self) -> Option<f64> {
        self.ctl.lock().unwrap().rate()
    }
}

impl RateControl for AdaptiveRate {
    fn acquire(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _turn = self.gate.lock().await;
            loop {
                let wait = self.ctl.lock().unwrap().try_admit(Instant::now());
                match wait {
                    None => return,
                    Some(t) => tokio::time::sleep_until(t).await,
                }
            }
        })
    }

    fn observe(&self, status: Option<u16>, headers: Option<&HeaderMap>, now: Instant) {
        let (Some(status), Some(headers)) = (status, headers) else {
            return;
        };
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let o = Observation {
            sent_at: None,
            status,
            retry_after: text("retry-after").and_then(|v| parse_retry_after(v, SystemTime::now())),
            remaining_per_second: text(REMAINING_HEADER).and_then(parse_remaining),
        };
        self.ctl.lock().unwrap().observe(now, &o);
    }
}

#[cfg(test)]
#[path = "adaptive_tests.rs"]
mod tests;
