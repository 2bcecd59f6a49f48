//! `runs`: past index runs, newest first.

use crate::store::{RunRow, Store, StoreError};

/// The JSON array `runs --format json` prints and `GET /api/v1/runs` returns.
pub fn runs(store: &Store, limit: i64) -> Result<Vec<RunRow>, StoreError> {
    store.runs(limit.max(1))
}

/// A run's requests summed over their kinds, without the `retries` and
/// `throttled` tallies.
pub fn requests_total(v: &serde_json::Value) -> u64 {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| *k != "retries" && *k != "throttled")
                .filter_map(|(_, v)| v.as_u64())
                .sum()
        })
        .unwrap_or(0)
}
