//! Registry tokens and their lifetimes.

use super::Secret;
use base64::Engine;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// When a token endpoint gives no lifetime, the distribution spec says 60 s.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);
/// Longer lifetimes are not believed: a day at most, then a fresh token.
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

#[derive(Clone)]
pub struct Token {
    pub value: Secret,
    /// Renew from this instant on (a margin before expiry).
    pub renew_at: Instant,
}

impl Token {
    /// A token with its lifetime from `expires_in`, else the JWT's `exp`
    /// judged against `server_now` (the token response's `Date`, so a
    /// skewed local clock does not make every token look expired), else the
    /// spec's default. Absurd values are clamped, never a panic.
    pub fn new(value: String, expires_in: Option<f64>, server_now: Option<SystemTime>) -> Token {
        let lifetime = expires_in
            .and_then(seconds)
            .or_else(|| jwt_remaining(&value, server_now.unwrap_or_else(SystemTime::now)))
            .unwrap_or(DEFAULT_LIFETIME);
        let margin = (lifetime / 4).min(Duration::from_secs(30));
        let now = Instant::now();
        Token {
            value: Secret::transient(value),
            renew_at: now.checked_add(lifetime - margin).unwrap_or(now),
        }
    }

    pub fn is_fresh(&self) -> bool {
        Instant::now() < self.renew_at
    }
}

/// A server-given number of seconds as a Duration, clamped to
/// [0, MAX_LIFETIME]; None when not a number at all.
fn seconds(s: f64) -> Option<Duration> {
    if s.is_nan() {
        return None;
    }
    Some(Duration::from_secs_f64(
        s.clamp(0.0, MAX_LIFETIME.as_secs_f64()),
    ))
}

/// Time left until a JWT's `exp` claim (zero if past), None if not a JWT.
pub fn jwt_remaining(token: &str, now: SystemTime) -> Option<Duration> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    seconds(exp - now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: u64) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(br#"{"alg":"RS256"}"#),
            e.encode(format!(r#"{{"exp":{exp},"sub":"x"}}"#))
        )
    }

    #[test]
    fn jwt_exp_is_read() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        assert_eq!(
            jwt_remaining(&jwt(1600), now),
            Some(Duration::from_secs(600))
        );
        assert_eq!(jwt_remaining(&jwt(10), now), Some(Duration::ZERO));
        assert_eq!(jwt_remaining("opaque-token", now), None);
        // Absurd claims are clamped, not a panic.
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let absurd = format!("{}.{}.s", e.encode("{}"), e.encode(r#"{"exp":1e300}"#));
        assert_eq!(jwt_remaining(&absurd, now), Some(MAX_LIFETIME));
        let negative = format!("{}.{}.s", e.encode("{}"), e.encode(r#"{"exp":-1e300}"#));
        assert_eq!(jwt_remaining(&negative, now), Some(Duration::ZERO));
    }

    #[tokio::test]
    async fn freshness_uses_expires_in_then_jwt() {
        assert!(Token::new("t".into(), Some(3600.0), None).is_fresh());
        assert!(!Token::new("t".into(), Some(0.0), None).is_fresh());
        // u64::MAX, 1e300, NaN and negatives: no panic.
        assert!(Token::new("t".into(), Some(u64::MAX as f64), None).is_fresh());
        assert!(Token::new("t".into(), Some(1e300), None).is_fresh());
        assert!(!Token::new("t".into(), Some(-5.0), None).is_fresh());
        assert!(Token::new("t".into(), Some(f64::NAN), None).is_fresh());
        let past = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            - 5;
        assert!(!Token::new(jwt(past), None, None).is_fresh());
        assert!(Token::new(jwt(past + 3600), None, None).is_fresh());
        // A local clock two hours fast: judged by the server's Date, the
        // token still has its hour.
        let server = SystemTime::now() - Duration::from_secs(7200);
        let server_secs = server
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let t = Token::new(jwt(server_secs + 3600), None, Some(server));
        assert!(t.renew_at > Instant::now() + Duration::from_secs(3000));
    }
}
