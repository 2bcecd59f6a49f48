//! Registry tokens and their lifetimes.

use super::Secret;
use base64::Engine;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// When a token endpoint gives no lifetime, the distribution spec says 60 s.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Token {
    pub value: Secret,
    /// Renew from this instant on (a margin before expiry).
    pub renew_at: Instant,
}

impl Token {
    /// A token with its lifetime from `expires_in`, else the JWT's `exp`,
    /// else the spec's default.
    pub fn new(value: String, expires_in: Option<u64>) -> Token {
        let lifetime = expires_in
            .map(Duration::from_secs)
            .or_else(|| jwt_remaining(&value, SystemTime::now()))
            .unwrap_or(DEFAULT_LIFETIME);
        let margin = (lifetime / 4).min(Duration::from_secs(30));
        Token {
            value: Secret::new(value),
            renew_at: Instant::now() + lifetime - margin,
        }
    }

    pub fn is_fresh(&self) -> bool {
        Instant::now() < self.renew_at
    }
}

/// Time left until a JWT's `exp` claim (zero if past), None if not a JWT.
pub fn jwt_remaining(token: &str, now: SystemTime) -> Option<Duration> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    let exp = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(exp.max(0.0));
    Some(exp.duration_since(now).unwrap_or(Duration::ZERO))
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
    }

    #[tokio::test]
    async fn freshness_uses_expires_in_then_jwt() {
        assert!(Token::new("t".into(), Some(3600)).is_fresh());
        assert!(!Token::new("t".into(), Some(0)).is_fresh());
        let past = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            - 5;
        assert!(!Token::new(jwt(past), None).is_fresh());
        assert!(Token::new(jwt(past + 3600), None).is_fresh());
    }
}
