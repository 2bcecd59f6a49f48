//! Reading one answer: bodies under a cap, digests checked, and reqwest's
//! errors sorted into those that can heal and those that cannot.

use crate::oci::{Digest, DigestError};
use crate::registry::error::Unreachable;
use crate::registry::{display_url, RegistryError};
use bytes::Bytes;
use reqwest::header::HeaderMap;
use url::Url;

/// What a successful body must hash to. A mismatch is retried like a cut
/// body (a proxy or a flaky link can garble a transfer), then reported.
#[derive(Clone, Copy)]
pub enum Verify<'a> {
    Nothing,
    Digest(&'a Digest),
    /// A manifest: like `Digest`, but a signed schema 1 manifest is
    /// checked by its payload without the signatures, as docker does.
    Manifest(&'a Digest),
    /// The response's own Docker-Content-Digest, when it sends one.
    Announced,
}

/// The Docker-Content-Digest header, when present and valid.
pub fn header_digest(headers: &HeaderMap) -> Option<Digest> {
    headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// A failed attempt and whether trying again can help.
pub struct Failed {
    pub error: RegistryError,
    pub healable: bool,
}

impl Failed {
    pub fn fatal(error: RegistryError) -> Failed {
        Failed {
            error,
            healable: false,
        }
    }
}

pub fn verify(how: Verify<'_>, headers: &HeaderMap, body: &[u8], url: &Url) -> Result<(), Failed> {
    let (expected, manifest) = match how {
        Verify::Nothing => (None, false),
        Verify::Digest(d) => (Some(d.clone()), false),
        Verify::Manifest(d) => (Some(d.clone()), true),
        Verify::Announced => (header_digest(headers), true),
    };
    let Some(expected) = expected else {
        return Ok(());
    };
    let result = if manifest {
        crate::oci::verify_manifest(&expected, body)
    } else {
        expected.verify(body)
    };
    match result {
        Err(DigestError::Mismatch { expected, actual }) => Err(Failed {
            healable: true,
            error: RegistryError::DigestMismatch {
                url: display_url(url),
                expected,
                actual,
            },
        }),
        _ => Ok(()),
    }
}

/// Sort a transport error: unknown hosts, refused certificates and
/// protocol mismatches cannot heal; timeouts and cut connections can.
pub fn network(url: &Url, e: reqwest::Error) -> Failed {
    let e = e.without_url();
    let detail = error_chain(&e);
    let lower = detail.to_ascii_lowercase();
    let reason = if lower.contains("dns error") || lower.contains("failed to lookup address") {
        Some(Unreachable::UnknownHost)
    } else if lower.contains("certificate") || lower.contains("unknownissuer") {
        Some(Unreachable::Certificate)
    } else if lower.contains("invalidcontenttype")
        || lower.contains("corrupt message")
        || lower.contains("wrong version number")
        || lower.contains("invalid http version")
        || lower.contains("unexpected http")
    {
        Some(Unreachable::Protocol)
    } else {
        None
    };
    let url_shown = display_url(url);
    match reason {
        Some(reason) => Failed::fatal(RegistryError::Unreachable {
            url: url_shown,
            reason,
            detail,
        }),
        None => Failed {
            healable: e.is_timeout()
                || e.is_connect()
                || e.is_request()
                || e.is_body()
                || e.is_decode(),
            error: RegistryError::Network {
                url: url_shown,
                detail,
            },
        },
    }
}

/// The error and its sources (the URL is left out: it may carry a SAS query).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

/// Read a body, refusing more than `limit` bytes; a short body (fewer bytes
/// than Content-Length) is a healable network error.
pub async fn read_capped(
    mut resp: reqwest::Response,
    url: &Url,
    limit: usize,
) -> Result<Bytes, Failed> {
    let too_large = || {
        Failed::fatal(RegistryError::TooLarge {
            url: display_url(url),
            limit,
        })
    };
    let declared = resp.content_length();
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    // Never trust a declared length for the allocation beyond the cap.
    let mut buf = Vec::with_capacity(declared.unwrap_or(0).min(limit as u64) as usize);
    while let Some(chunk) = resp.chunk().await.map_err(|e| network(url, e))? {
        if buf.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    if declared.is_some_and(|n| n != buf.len() as u64) {
        return Err(Failed {
            healable: true,
            error: RegistryError::Network {
                url: display_url(url),
                detail: "response body shorter than its Content-Length".into(),
            },
        });
    }
    Ok(Bytes::from(buf))
}
