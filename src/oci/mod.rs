//! OCI and Docker data formats: digests, media types, manifests, image
//! configs and image references. A leaf module: it imports nothing else of
//! the crate and does no I/O.

mod config;
mod digest;
mod manifest;
pub mod media;
mod reference;

pub use config::{ImageConfig, Platform};
pub use digest::{Digest, DigestError};
pub use manifest::{manifest_digest, verify_manifest, Descriptor, Manifest, ManifestError};
pub use reference::{is_valid_repository, is_valid_tag, ImageRef, RefTarget};
