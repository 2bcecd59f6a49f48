//! Requests sent, by kind: the figures behind request economy.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What a request is for, to count them and to report economy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequestKind {
    Catalog,
    Tags,
    Repository,
    ManifestHead,
    ManifestGet,
    BlobGet,
    /// The redirected hop of a blob GET, to storage on another host.
    Storage,
    Token,
    /// Entra ID and IMDS token requests (to Azure, not to the registry).
    Identity,
    /// Referrers API pages and referrers tag-schema indexes.
    Referrers,
}

impl RequestKind {
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Catalog => "catalog",
            RequestKind::Tags => "tags",
            RequestKind::Repository => "repository",
            RequestKind::ManifestHead => "manifest_head",
            RequestKind::ManifestGet => "manifest_get",
            RequestKind::BlobGet => "blob_get",
            RequestKind::Storage => "storage",
            RequestKind::Token => "token",
            RequestKind::Identity => "identity",
            RequestKind::Referrers => "referrers",
        }
    }
}

/// Requests sent, by kind (retries included), plus retries and 429s.
#[derive(Default)]
pub struct Counters {
    by_kind: Mutex<BTreeMap<&'static str, u64>>,
    pub(super) retries: AtomicU64,
    pub(super) throttled: AtomicU64,
    /// Attempts that got any HTTP answer: zero means the registry was never reached.
    responses: AtomicU64,
}

impl Counters {
    pub fn count(&self, kind: RequestKind) {
        *self.by_kind.lock().unwrap().entry(kind.name()).or_default() += 1;
    }
    pub fn responded(&self) {
        self.responses.fetch_add(1, Ordering::Relaxed);
    }
    pub fn responses(&self) -> u64 {
        self.responses.load(Ordering::Relaxed)
    }
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        let mut m: BTreeMap<String, u64> = self
            .by_kind
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        m.insert("retries".into(), self.retries.load(Ordering::Relaxed));
        m.insert("throttled".into(), self.throttled.load(Ordering::Relaxed));
        m
    }
}
