//! What to do after an attempt: one pure function of its outcome, so the
//! whole retry policy reads (and is tested) as a table.

use std::time::{Duration, SystemTime};

/// The longest a server-given `Retry-After` is honoured. A registry that
/// asks for longer (or sends 1000000000) is waited on this long, so one
/// answer cannot park an unattended run for ever.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How an attempt ended, reduced to what the policy needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// A response arrived. `from_origin`: it came from the origin the
    /// request's credentials belong to (a 401 from a storage host is final).
    Status {
        status: u16,
        retry_after: Option<Duration>,
        from_origin: bool,
    },
    /// No usable response; `healable` says whether trying again can help
    /// (a timeout or a cut connection can, an unknown host cannot).
    Error { healable: bool },
}

/// The state the decision depends on besides the outcome.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// Retries done so far for this request.
    pub attempt: u32,
    pub max_retries: u32,
    /// The auth layer may still answer a 401 (once with credentials, once
    /// to learn the scheme).
    pub can_renew: bool,
    /// The exponential backoff with jitter for this attempt.
    pub backoff: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Hand the response to the caller, whatever its status.
    Return,
    /// Learn the challenge / renew the token, then send again (not a retry).
    RenewAuth,
    /// Wait this long, then retry this request.
    Retry(Duration),
    /// The registry is throttling: every request waits this long; then retry.
    BackOffAll(Duration),
    /// Give up: 429/5xx/network error after the last retry, or an error
    /// that cannot heal.
    Fail,
}

/// Statuses worth another try: throttling and transient server trouble.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

pub fn decide(o: Observed, c: Ctx) -> Step {
    let last = c.attempt >= c.max_retries;
    match o {
        Observed::Status {
            status: 401,
            from_origin: true,
            ..
        } if c.can_renew => Step::RenewAuth,
        Observed::Status {
            status,
            retry_after,
            ..
        } if is_retryable_status(status) => {
            if last {
                return Step::Fail;
            }
            let wait = retry_after.map_or(c.backoff, clamp_retry_after);
            if status == 429 {
                Step::BackOffAll(wait)
            } else {
                Step::Retry(wait)
            }
        }
        Observed::Status { .. } => Step::Return,
        Observed::Error { healable: true } if !last => Step::Retry(c.backoff),
        Observed::Error { .. } => Step::Fail,
    }
}

pub fn clamp_retry_after(d: Duration) -> Duration {
    d.min(MAX_RETRY_AFTER)
}

/// Exponential backoff with jitter: base * 2^attempt, capped, +-25%.
pub fn backoff(attempt: u32, base: Duration, cap: Duration, jitter_seed: u64) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(16));
    let d = exp.min(cap);
    // A cheap deterministic-per-call jitter in [0.75, 1.25).
    let frac = (jitter_seed % 1000) as f64 / 1000.0;
    d.mul_f64(0.75 + frac * 0.5)
}

/// Parse `Retry-After` (delta seconds or an HTTP date), clamped; None when
/// unreadable. Never panics on absurd values.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(clamp_retry_after(Duration::from_secs(secs)));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = u64::try_from(when.timestamp()).unwrap_or(0);
    let when = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))?;
    Some(clamp_retry_after(
        when.duration_since(now).unwrap_or(Duration::ZERO),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Duration = Duration::from_millis(250);

    fn ctx(attempt: u32, can_renew: bool) -> Ctx {
        Ctx {
            attempt,
            max_retries: 3,
            can_renew,
            backoff: B,
        }
    }

    fn st(status: u16, retry_after: Option<u64>, from_origin: bool) -> Observed {
        Observed::Status {
            status,
            retry_after: retry_after.map(Duration::from_secs),
            from_origin,
        }
    }

    #[test]
    fn the_policy_table() {
        use Step::*;
        let secs = Duration::from_secs;
        let table: Vec<(Observed, Ctx, Step)> = vec![
            (st(200, None, true), ctx(0, true), Return),
            (st(404, None, true), ctx(0, true), Return),
            (st(400, None, true), ctx(0, true), Return),
            (st(403, None, true), ctx(0, true), Return),
            (st(501, None, true), ctx(0, true), Return),
            // 401 from the registry: renew once, then it is final.
            (st(401, None, true), ctx(0, true), RenewAuth),
            (st(401, None, true), ctx(0, false), Return),
            // 401 from another origin (a storage host): never credentials.
            (st(401, None, false), ctx(0, true), Return),
            // Transient statuses: backoff, or Retry-After when given.
            (st(503, None, true), ctx(0, true), Retry(B)),
            (st(503, Some(7), true), ctx(1, true), Retry(secs(7))),
            (st(500, None, true), ctx(2, true), Retry(B)),
            (st(408, None, true), ctx(0, true), Retry(B)),
            (st(503, None, true), ctx(3, true), Fail),
            // 429 backs everyone off.
            (st(429, None, true), ctx(0, true), BackOffAll(B)),
            (st(429, Some(2), false), ctx(0, true), BackOffAll(secs(2))),
            (st(429, Some(5), true), ctx(3, true), Fail),
            // Absurd Retry-After is clamped.
            (
                st(503, Some(1_000_000_000), true),
                ctx(0, true),
                Retry(MAX_RETRY_AFTER),
            ),
            (
                st(429, Some(u64::MAX), true),
                ctx(0, true),
                BackOffAll(MAX_RETRY_AFTER),
            ),
            // Errors: healable ones retried until the budget is spent.
            (Observed::Error { healable: true }, ctx(0, true), Retry(B)),
            (Observed::Error { healable: true }, ctx(3, true), Fail),
            (Observed::Error { healable: false }, ctx(0, true), Fail),
        ];
        for (i, (o, c, want)) in table.into_iter().enumerate() {
            assert_eq!(decide(o, c), want, "row {i}: {o:?} {c:?}");
        }
    }

    #[test]
    fn backoff_grows_and_caps() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(5);
        assert_eq!(backoff(0, base, cap, 500), Duration::from_millis(100));
        assert_eq!(backoff(3, base, cap, 500), Duration::from_millis(800));
        let c = backoff(20, base, cap, 999);
        assert!(c <= cap.mul_f64(1.25) && c >= cap.mul_f64(0.75));
        // Saturates instead of overflowing.
        let huge = backoff(u32::MAX, Duration::MAX, Duration::MAX, 0);
        assert!(huge > Duration::from_secs(1));
    }

    #[test]
    fn retry_after_forms_and_clamps() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let date = chrono::DateTime::from_timestamp(1_700_000_030, 0)
            .unwrap()
            .to_rfc2822();
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("1000000000", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("18446744073709551615", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }
}
