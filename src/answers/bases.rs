//! `bases`: per image, the base it was built on, what that name points at
//! now and whether the image is stale (`bases --format json`, `GET /api/v1/bases`).

use crate::store::{BaseRow, RowFilter, Store, StoreError};

/// The rows `bases` prints; with `stale`, only images built on a digest
/// their base name no longer points at.
pub fn rows(store: &Store, filter: &RowFilter, stale: bool) -> Result<Vec<BaseRow>, StoreError> {
    let mut rows = store.bases(filter)?;
    if stale {
        rows.retain(|r| r.stale == Some(true));
    }
    Ok(rows)
}
