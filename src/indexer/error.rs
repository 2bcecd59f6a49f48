//! What can fail for one item (a repository, a tag, a digest), typed all
//! the way to the sink, which turns it into text once, scrubbed of secrets.

use crate::oci::Digest;
use crate::registry::RegistryError;
use std::sync::Arc;

/// Indexes nest (an index of indexes is legal); deeper than this is a
/// hostile or broken chain, refused instead of recursing until the stack
/// overflows.
pub const MAX_INDEX_DEPTH: usize = 8;
/// Children of one index: real multi-platform indexes list tens; a cap
/// keeps one pushed image from holding thousands of fetches in memory.
pub const MAX_INDEX_CHILDREN: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    #[error(transparent)]
    Registry(Arc<RegistryError>),
    #[error("invalid repository name {0:?} (not the OCI distribution name grammar); skipped")]
    InvalidName(String),
    #[error("invalid tag {0:?} (not the OCI distribution tag grammar); skipped")]
    InvalidTag(String),
    #[error("repository {0} does not exist")]
    NoSuchRepository(String),
    #[error("manifest {digest}: {detail}")]
    Manifest { digest: Digest, detail: String },
    #[error("config {digest}: not a valid image config: {detail}")]
    Config { digest: Digest, detail: String },
    #[error("index {digest}: nested more than {MAX_INDEX_DEPTH} indexes deep")]
    TooDeep { digest: Digest },
    #[error("index {digest}: lists {count} manifests, more than the {MAX_INDEX_CHILDREN} allowed")]
    TooWide { digest: Digest, count: usize },
    #[error("index {digest}: {}", join(.failed))]
    Children {
        digest: Digest,
        failed: Vec<Arc<ItemError>>,
    },
    #[error("the database writer stopped")]
    WriterStopped,
}

fn join(failed: &[Arc<ItemError>]) -> String {
    // A wide index can fail every child the same way: say so once.
    let mut texts: Vec<String> = failed.iter().map(|e| e.to_string()).collect();
    let total = texts.len();
    texts.dedup();
    texts.truncate(3);
    let mut s = texts.join("; ");
    if total > texts.len() {
        s.push_str(&format!(" ({total} children failed)"));
    }
    s
}

impl From<RegistryError> for ItemError {
    fn from(e: RegistryError) -> ItemError {
        ItemError::Registry(Arc::new(e))
    }
}

impl ItemError {
    pub fn is_interrupted(&self) -> bool {
        matches!(self, ItemError::Registry(e) if matches!(**e, RegistryError::Interrupted))
    }
}

/// Per-digest results shared by every tag that points at the digest.
pub type Shared<T> = Result<T, Arc<ItemError>>;
