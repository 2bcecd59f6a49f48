//! How a run ended, as one value, and the one line that says what to do
//! when it could not reach the registry at all.

use crate::registry::{RegistryError, Unreachable};
use crate::store::RunSummary;
use std::time::Duration;
use url::Url;

/// How a run ended: the store's own record of it.
pub use crate::store::RunStatus as Status;

/// A run's result: what the store recorded (each fact once) and how long
/// the run took.
pub struct Outcome {
    pub run_id: i64,
    pub summary: RunSummary,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn status(&self) -> Status {
        self.summary.status
    }
    /// Why the run failed, when it did.
    pub fn fatal(&self) -> Option<&str> {
        self.summary.message.as_deref()
    }
}

/// The error that stops a whole run, in one line that says what to do.
pub fn fatal_message(e: &RegistryError, registry: &Url) -> String {
    match e {
        RegistryError::Unreachable { reason, .. } => unreachable_hint(*reason, registry, e),
        RegistryError::Unauthorized { .. } | RegistryError::Forbidden { .. } => format!(
            "the registry refused to list its catalog ({e}): credentials scoped to repositories cannot list it, so name the repositories with --repo NAME or --repos-from FILE (or check the credentials)"
        ),
        e => format!("listing the catalog: {e}"),
    }
}

fn unreachable_hint(reason: Unreachable, registry: &Url, e: &RegistryError) -> String {
    let host = registry.host_str().unwrap_or_default();
    let hostport = match registry.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    match reason {
        Unreachable::UnknownHost if !host.contains('.') && host != "localhost" => format!(
            "cannot resolve the registry host {host:?}; for Azure Container Registry use the full name: --registry {host}.azurecr.io"
        ),
        Unreachable::UnknownHost => format!(
            "cannot resolve the registry host {host:?}; check the name given to --registry"
        ),
        Unreachable::Certificate => format!(
            "the TLS certificate of {hostport} is not trusted ({e}); if it is signed by a private CA, pass that CA with --ca-file PEM"
        ),
        Unreachable::Protocol if registry.scheme() == "https" => format!(
            "{hostport} does not answer TLS; if it is a plain-HTTP registry, use --registry http://{hostport}"
        ),
        Unreachable::Protocol => format!(
            "{hostport} does not answer plain HTTP; try --registry https://{hostport}"
        ),
    }
}

/// True when an error means the registry itself cannot be reached (not a
/// storage host or token realm elsewhere): the run stops at once.
pub fn registry_unreachable(e: &RegistryError, registry: &Url) -> bool {
    let RegistryError::Unreachable { url, .. } = e else {
        return false;
    };
    let origin = crate::registry::display_url(registry);
    url.starts_with(origin.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable(reason: Unreachable, registry: &str) -> String {
        let url = Url::parse(registry).unwrap();
        let e = RegistryError::Unreachable {
            url: crate::registry::display_url(&url),
            reason,
            detail: "x".into(),
        };
        assert!(registry_unreachable(&e, &url));
        fatal_message(&e, &url)
    }

    #[test]
    fn each_unreachable_registry_says_what_to_do() {
        let m = unreachable(Unreachable::UnknownHost, "https://myacr/");
        assert!(m.contains("--registry myacr.azurecr.io"), "{m}");
        let m = unreachable(Unreachable::UnknownHost, "https://reg.example.com/");
        assert!(!m.contains("azurecr"), "{m}");
        let m = unreachable(Unreachable::Certificate, "https://127.0.0.1:5000/");
        assert!(m.contains("--ca-file"), "{m}");
        let m = unreachable(Unreachable::Protocol, "https://127.0.0.1:5000/");
        assert!(m.contains("--registry http://127.0.0.1:5000"), "{m}");
        let m = unreachable(Unreachable::Protocol, "http://127.0.0.1:5000/");
        assert!(m.contains("https://127.0.0.1:5000"), "{m}");
        assert!(!m.contains('\n'));
    }
}
