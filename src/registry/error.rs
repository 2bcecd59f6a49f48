use std::time::Duration;

/// What can go wrong talking to a registry. URLs are already redacted.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("HTTP 401 Unauthorized for {url}{hint}")]
    Unauthorized { url: String, hint: String },
    #[error("HTTP 403 Forbidden for {url}")]
    Forbidden { url: String },
    #[error("HTTP 404 Not Found for {url}")]
    NotFound { url: String },
    #[error(
        "HTTP 429 Too Many Requests for {url} (gave up after retries; retry after {retry_after:?})"
    )]
    RateLimited {
        url: String,
        retry_after: Option<Duration>,
    },
    #[error("HTTP {status} for {url}")]
    Status { url: String, status: u16 },
    #[error("request to {url} failed: {detail}")]
    Network { url: String, detail: String },
    /// An error that cannot heal by trying again: no retries.
    #[error("cannot reach {url}: {reason}: {detail}")]
    Unreachable {
        url: String,
        reason: Unreachable,
        detail: String,
    },
    #[error("response from {url} is larger than the {limit}-byte limit")]
    TooLarge { url: String, limit: usize },
    #[error("content from {url} does not match its digest: expected {expected}, got {actual}")]
    DigestMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("invalid response from {url}: {detail}")]
    InvalidResponse { url: String, detail: String },
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("interrupted")]
    Interrupted,
}

/// Why a registry cannot be reached at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    UnknownHost,
    Certificate,
    Protocol,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unreachable::UnknownHost => "unknown host",
            Unreachable::Certificate => "certificate refused",
            Unreachable::Protocol => "protocol mismatch",
        })
    }
}
