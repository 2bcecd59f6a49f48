//! Referrers in the answers: what an image's referrers are looked up by,
//! and what makes it signed or SBOM'd (a signature on an SBOM does not).

use crate::store::{has_sbom, is_signed, ImageDetail, ImageRow, ReferrerEntry};

/// The image and the indexes that hold it: signatures are usually made on
/// the index, and a platform child carries its index's referrers.
pub fn subjects(d: &ImageDetail) -> Vec<&str> {
    std::iter::once(d.digest.as_str())
        .chain(d.indexes.iter().map(|i| i.digest.as_str()))
        .collect()
}

/// A query row's image and the index its tag points at.
pub fn row_subjects(row: &ImageRow) -> Vec<&str> {
    std::iter::once(row.digest.as_str())
        .chain(row.index_digest.as_deref())
        .collect()
}

pub fn row_signed(row: &ImageRow) -> bool {
    is_signed(&row.referrers, &row_subjects(row))
}

pub fn row_sbom(row: &ImageRow) -> bool {
    has_sbom(&row.referrers, &row_subjects(row))
}

/// Signed, for an entry list looked up by `subjects`.
pub fn signed(refs: &[ReferrerEntry], subjects: &[&str]) -> bool {
    is_signed(refs, subjects)
}
