//! Media types this tool understands.

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// The Accept header for manifest requests. Without the list types the
/// distribution registry hides indexes, and without the v2 types it
/// converts images to schema 1.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.5, \
application/vnd.docker.distribution.manifest.v1+json;q=0.5";

/// Older builders label the image config of a v2s2 manifest this way.
pub const OCTET_STREAM: &str = "application/octet-stream";
/// BuildKit's attestation layers (in-toto statements).
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// Config media types whose blob is an image config worth parsing.
pub fn is_image_config(media_type: &str) -> bool {
    media_type == DOCKER_CONFIG || media_type == OCI_CONFIG
}

/// Strip parameters (`; charset=utf-8`) and whitespace from a Content-Type.
pub fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}
