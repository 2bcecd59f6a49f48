//! The adaptive controller as a function of observations and time.

use super::*;

fn ms(t0: Instant, n: u64) -> Instant {
    t0 + Duration::from_millis(n)
}

fn ok(sent_at: Instant, remaining: Option<f64>) -> Observation {
    Observation {
        sent_at: Some(sent_at),
        status: 200,
        retry_after: None,
        remaining_per_second: remaining,
    }
}

fn too_many(sent_at: Instant, after: Option<u64>) -> Observation {
    Observation {
        sent_at: Some(sent_at),
        status: 429,
        retry_after: after.map(Duration::from_secs),
        remaining_per_second: None,
    }
}

#[test]
fn unknown_limit_means_unpaced_and_ceiling_paces() {
    let t0 = Instant::now();
    let mut c = RateController::new(None, t0);
    for _ in 0..100 {
        assert_eq!(c.try_admit(t0), None);
    }
    let mut c = RateController::new(Some(10.0), t0);
    assert_eq!(c.try_admit(t0), None);
    assert_eq!(c.try_admit(t0), Some(ms(t0, 100)));
    assert_eq!(c.try_admit(ms(t0, 100)), None);
    assert_eq!(c.try_admit(ms(t0, 150)), Some(ms(t0, 200)));
}

#[test]
fn a_late_wake_up_keeps_the_pace_but_idle_time_is_not_banked() {
    let t0 = Instant::now();
    let mut c = RateController::new(Some(10.0), t0);
    assert_eq!(c.try_admit(t0), None);
    // Woken 5 ms late: the next slot is still 200 ms, not 205.
    assert_eq!(c.try_admit(ms(t0, 105)), None);
    assert_eq!(c.try_admit(ms(t0, 105)), Some(ms(t0, 200)));
    // After 10 s idle: two at once at most, then the pace again.
    let t = ms(t0, 10_000);
    assert_eq!(c.try_admit(t), None);
    assert_eq!(c.try_admit(t), None);
    assert_eq!(c.try_admit(t), Some(ms(t0, 10_100)));
}

#[test]
fn a_429_holds_everyone_for_retry_after_and_cuts_the_rate_once() {
    let t0 = Instant::now();
    let mut c = RateController::new(None, t0);
    // 50 answers in the last second, then a 429 with Retry-After: 2.
    for i in 0..50 {
        c.observe(ms(t0, 500 + i * 10), &ok(ms(t0, 490 + i * 10), None));
    }
    let now = ms(t0, 1000);
    c.observe(now, &too_many(ms(t0, 990), Some(2)));
    assert_eq!(c.not_before(), Some(ms(t0, 3000)));
    assert_eq!(c.try_admit(ms(t0, 2999)), Some(ms(t0, 3000)));
    let cut = c.rate().unwrap();
    assert!((cut - 40.0).abs() < 0.5, "{cut}");
    // More 429s for requests sent before the cut: same episode.
    c.observe(ms(t0, 1001), &too_many(ms(t0, 995), Some(2)));
    c.observe(ms(t0, 1002), &too_many(ms(t0, 999), None));
    assert_eq!(c.rate(), Some(cut));
    assert_eq!(c.throttled(), 3);
    // A 429 for a request sent after the cut is a new episode.
    c.observe(ms(t0, 3100), &too_many(ms(t0, 3050), Some(1)));
    assert!(c.rate().unwrap() < cut);
    assert_eq!(c.not_before(), Some(ms(t0, 4100)));
}

#[test]
fn without_send_times_429s_during_the_pause_are_one_episode() {
    let t0 = Instant::now();
    let mut c = RateController::new(None, t0);
    for i in 0..50 {
        c.observe(ms(t0, 500 + i * 10), &ok(ms(t0, 490 + i * 10), None));
    }
    let echo = |after| Observation {
        sent_at: None,
        status: 429,
        retry_after: Some(Duration::from_secs(after)),
        remaining_per_second: None,
    };
    c.observe(ms(t0, 1000), &echo(1));
    let cut = c.rate().unwrap();
    c.observe(ms(t0, 1100), &echo(1));
    c.observe(ms(t0, 1900), &echo(1));
    assert_eq!(c.rate(), Some(cut));
    // After the pause and the echo window: a new episode.
    c.observe(ms(t0, 3500), &echo(1));
    assert!(c.rate().unwrap() < cut);
}

#[test]
fn success_raises_the_rate_fast_then_slowly_near_the_throttled_rate() {
    let t0 = Instant::now();
    let mut c = RateController::new(None, t0);
    for i in 0..100 {
        c.observe(ms(t0, i * 10), &ok(ms(t0, i * 10), None));
    }
    c.observe(ms(t0, 1000), &too_many(ms(t0, 995), Some(0)));
    let after_cut = c.rate().unwrap();
    assert!((after_cut - 80.0).abs() < 1.0, "{after_cut}");
    // Answers at the paced rate for one second: fast growth (0.5 x limit/s).
    let mut t = 1000;
    let step = (1000.0 / after_cut) as u64;
    while t < 1200 {
        t += step;
        c.observe(ms(t0, t), &ok(ms(t0, t - 1), None));
    }
    let r1 = c.rate().unwrap();
    assert!(r1 > after_cut + 5.0, "{r1}");
    // Near the throttled rate: slow growth (2% of it per second).
    while t < 5000 {
        t += 10;
        c.observe(ms(t0, t), &ok(ms(t0, t - 1), None));
    }
    let r2 = c.rate().unwrap();
    assert!((90.0..108.0).contains(&r2), "{r2}");
}

#[test]
fn an_idle_or_concurrency_bound_run_does_not_bank_rate() {
    let t0 = Instant::now();
    let mut c = RateController::new(None, t0);
    c.observe(ms(t0, 10), &ok(t0, None));
    c.observe(ms(t0, 20), &too_many(t0, Some(0)));
    let r = c.rate().unwrap();
    // One answer a second for a minute: the rate stays near where it was.
    for s in 1..60 {
        c.observe(ms(t0, s * 1000), &ok(ms(t0, s * 1000 - 5), None));
    }
    assert!(c.rate().unwrap() <= 7.0, "{r} -> {:?}", c.rate());
}

#[test]
fn the_remaining_header_sets_the_pace_under_the_limit() {
    let t0 = Instant::now();
    let mut c = RateController::new(None, t0);
    // A registry limited to 50/s: after k answers it says 50 - k remain.
    for k in 1..=16u64 {
        c.observe(ms(t0, k), &ok(t0, Some(50.0 - k as f64)));
    }
    let r = c.rate().unwrap();
    assert!((r - 50.0 * HEADROOM).abs() < 0.5, "{r}");
    // Paced at ~47.6/s, the registry says ~2.4 remain: the rate holds.
    for k in 0..200u64 {
        let t = 20 + k * 21;
        c.observe(ms(t0, t), &ok(ms(t0, t - 5), Some(2.4)));
    }
    let r = c.rate().unwrap();
    assert!(r > 45.0 && r < 50.0, "{r}");
    // Hostile or garbled values are refused.
    assert_eq!(parse_remaining("166.366667"), Some(166.366667));
    assert_eq!(parse_remaining("NaN"), None);
    assert_eq!(parse_remaining("-3"), None);
    assert_eq!(parse_remaining("1e300"), Some(1e6));
}

#[test]
fn answers_without_the_header_do_not_raise_a_rate_the_header_set() {
    let t0 = Instant::now();
    let mut c = RateController::new(None, t0);
    c.observe(ms(t0, 10), &ok(t0, Some(49.0)));
    let r = c.rate().unwrap();
    // Storage answers (no header) for a second: the rate stays.
    for i in 1..=50 {
        c.observe(ms(t0, 10 + i * 20), &ok(ms(t0, i * 20), None));
    }
    assert_eq!(c.rate(), Some(r));
}

#[test]
fn the_ceiling_caps_every_estimate() {
    let t0 = Instant::now();
    let mut c = RateController::new(Some(20.0), t0);
    c.observe(ms(t0, 1), &ok(t0, Some(1000.0)));
    assert_eq!(c.rate(), Some(20.0));
    for i in 0..1000 {
        c.observe(ms(t0, 2 + i), &ok(t0, None));
    }
    assert_eq!(c.rate(), Some(20.0));
    // A 429 still cuts under the ceiling, and Retry-After is bounded.
    c.observe(ms(t0, 2000), &too_many(ms(t0, 1999), Some(100_000)));
    assert!(c.rate().unwrap() < 20.0);
    assert_eq!(c.not_before(), Some(ms(t0, 2000) + MAX_PAUSE));
}
