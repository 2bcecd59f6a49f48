//! Talking to an OCI-distribution registry. Endpoint code (`client`,
//! `acr`) only describes requests; `transport` is the one place that sends
//! HTTP, attaches credentials, retries, throttles and follows redirects.

mod acr;
pub mod auth;
mod client;
mod counters;
pub(crate) mod error;
pub mod http;
mod page;
mod referrers;
mod shutdown;
mod transport;

pub use acr::{is_acr_host, AcrCatalog, AcrTagPage};
pub use client::{Client, FetchedManifest, RepoPage, TagPage, MAX_CONFIG_BYTES};
pub use error::{RegistryError, Unreachable};
pub use referrers::{
    apply_filter, cosign_tag, fallback_subject, fallback_tag, CosignTag, ReferrersPage,
    MAX_REFERRER_BYTES,
};
pub use transport::{Counters, RequestKind, Settings, Shutdown};

/// Redact a URL for logs and errors: storage redirects carry SAS signatures
/// in the query, so only scheme, host and path are shown.
pub fn display_url(url: &url::Url) -> String {
    let mut s = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        s.push_str(&format!(":{port}"));
    }
    s.push_str(url.path());
    s
}
