//! The registry API of the economy ACR fake: `/v2/` and ACR's `/acr/v1/`
//! listings, each behind the token check of fake_acr_economy_routes.rs.

use super::fake_acr_economy::State;
use super::fake_acr_economy_routes::{allowed, blob_location};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// ACR's listing page size when `n` is absent, and the most it gives.
const PAGE: usize = 100;

fn error(status: StatusCode, code: &str) -> Response {
    (
        status,
        axum::Json(json!({"errors": [{"code": code, "message": code, "detail": null}]})),
    )
        .into_response()
}

fn get<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

/// One page after `last`, with ACR's relative Link (which drops
/// api-version and appends `&orderby=`).
fn page(
    path: &str,
    q: &[(String, String)],
    names: Vec<(String, Value)>,
    field: &str,
    extra: Value,
) -> Response {
    let n = get(q, "n")
        .and_then(|n| n.parse().ok())
        .unwrap_or(PAGE)
        .clamp(1, PAGE);
    let start = get(q, "last").map_or(0, |l| names.partition_point(|(k, _)| k.as_str() <= l));
    let end = (start + n).min(names.len());
    let mut body = extra;
    body[field] = names[start..end].iter().map(|(_, v)| v.clone()).collect();
    let mut r = axum::Json(body).into_response();
    if end < names.len() {
        let last: String =
            url::form_urlencoded::byte_serialize(names[end - 1].0.as_bytes()).collect();
        let link = format!("<{path}?last={last}&n={n}&orderby=>; rel=\"next\"");
        r.headers_mut().insert(header::LINK, link.parse().unwrap());
    }
    r
}

pub fn serve(s: &State, m: &Method, path: &str, q: &[(String, String)], h: &HeaderMap) -> Response {
    if path == "/v2/" {
        return match allowed(s, h, "registry", "catalog", "*") {
            Ok(()) => axum::Json(json!({})).into_response(),
            Err(r) => r,
        };
    }
    if path == "/acr/v1/_catalog" || path == "/v2/_catalog" {
        if let Err(r) = allowed(s, h, "registry", "catalog", "*") {
            return r;
        }
        let names: Vec<(String, Value)> = s
            .content
            .lock()
            .unwrap()
            .repos
            .keys()
            .map(|k| (k.clone(), json!(k)))
            .collect();
        return page(path, q, names, "repositories", json!({}));
    }
    if let Some(rest) = path.strip_prefix("/acr/v1/") {
        let (repo, tags) = match rest.strip_suffix("/_tags") {
            Some(r) => (r, true),
            None => (rest, false),
        };
        if let Err(r) = allowed(s, h, "repository", repo, "metadata_read") {
            return r;
        }
        let c = s.content.lock().unwrap();
        let Some(r) = c.repos.get(repo) else {
            return error(StatusCode::NOT_FOUND, "NAME_UNKNOWN");
        };
        let host = s.host.clone();
        if !tags {
            return axum::Json(json!({
                "registry": host, "imageName": repo, "createdTime": "2024-01-01T00:00:00.0000000Z",
                "lastUpdateTime": r.updated, "manifestCount": r.tags.len(), "tagCount": r.tags.len(),
                "changeableAttributes": {"deleteEnabled": true, "writeEnabled": true, "readEnabled": true, "listEnabled": true}
            }))
            .into_response();
        }
        let items = r
            .tags
            .iter()
            .map(|(t, d)| {
                (t.clone(), json!({"name": t, "digest": d, "createdTime": "2024-01-01T00:00:00.0000000Z",
                    "lastUpdateTime": "2024-01-01T00:00:00.0000000Z", "signed": false,
                    "changeableAttributes": {"deleteEnabled": true, "writeEnabled": true, "readEnabled": true, "listEnabled": true}}))
            })
            .collect();
        return page(
            path,
            q,
            items,
            "tags",
            json!({"registry": host, "imageName": repo}),
        );
    }
    let rest = &path[4..];
    if let Some(repo) = rest.strip_suffix("/tags/list") {
        if let Err(r) = allowed(s, h, "repository", repo, "pull") {
            return r;
        }
        let c = s.content.lock().unwrap();
        let Some(r) = c.repos.get(repo) else {
            return error(StatusCode::NOT_FOUND, "NAME_UNKNOWN");
        };
        let names = r.tags.keys().map(|t| (t.clone(), json!(t))).collect();
        return page(path, q, names, "tags", json!({"name": repo}));
    }
    if let Some((repo, digest)) = rest.rsplit_once("/referrers/") {
        return referrers(s, h, repo, digest);
    }
    if let Some((repo, reference)) = rest.rsplit_once("/manifests/") {
        if let Err(r) = allowed(s, h, "repository", repo, "pull") {
            return r;
        }
        let c = s.content.lock().unwrap();
        let digest = c
            .repos
            .get(repo)
            .and_then(|r| r.tags.get(reference).cloned())
            .unwrap_or(reference.to_string());
        let Some((mt, bytes)) = c.manifests.get(&digest).cloned() else {
            return error(StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN");
        };
        let len = bytes.len();
        let mut r = if m == Method::HEAD {
            ().into_response()
        } else {
            bytes.into_response()
        };
        let hs = r.headers_mut();
        hs.insert(header::CONTENT_TYPE, mt.parse().unwrap());
        hs.insert(header::CONTENT_LENGTH, len.into());
        hs.insert("docker-content-digest", digest.parse().unwrap());
        return r;
    }
    if let Some((repo, digest)) = rest.rsplit_once("/blobs/") {
        if let Err(r) = allowed(s, h, "repository", repo, "pull") {
            return r;
        }
        if !s.content.lock().unwrap().blobs.contains_key(digest) {
            return error(StatusCode::NOT_FOUND, "BLOB_UNKNOWN");
        }
        return (
            StatusCode::TEMPORARY_REDIRECT,
            [
                (header::LOCATION, blob_location(s, digest)),
                (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                (
                    header::HeaderName::from_static("docker-content-digest"),
                    digest.to_string(),
                ),
            ],
        )
            .into_response();
    }
    error(StatusCode::NOT_FOUND, "NOT_FOUND")
}

/// The OCI 1.1 referrers API, as ACR offers it: pull scope like manifests,
/// 400 for a digest that is not one, else an image index of what refers to
/// the digest: nothing, for the images this fake holds.
fn referrers(s: &State, h: &HeaderMap, repo: &str, digest: &str) -> Response {
    if let Err(r) = allowed(s, h, "repository", repo, "pull") {
        return r;
    }
    let hex = digest.strip_prefix("sha256:").unwrap_or("");
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return error(StatusCode::BAD_REQUEST, "DIGEST_INVALID");
    }
    if !s.content.lock().unwrap().repos.contains_key(repo) {
        return error(StatusCode::NOT_FOUND, "NAME_UNKNOWN");
    }
    let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    (
        [(
            header::CONTENT_TYPE,
            "application/vnd.oci.image.index.v1+json",
        )],
        index,
    )
        .into_response()
}
