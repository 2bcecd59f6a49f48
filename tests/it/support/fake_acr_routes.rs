//! Registry and storage handlers of the fake ACR (see fake_acr.rs).

use super::fake_acr::{State, SAS_SIG};
use super::fake_acr_tokens::*;
use axum::body::Bytes;
use axum::extract::State as S;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;
use serde_json::json;
use std::sync::Arc;

type St = S<Arc<State>>;

pub fn registry(state: Arc<State>) -> Router {
    Router::new().fallback(registry_any).with_state(state)
}

pub fn storage(state: Arc<State>) -> Router {
    Router::new().fallback(storage_any).with_state(state)
}

pub fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

pub fn get<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn all(f: &[(String, String)], k: &str) -> Vec<String> {
    f.iter()
        .filter(|(n, _)| n == k)
        .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect()
}

fn error(status: StatusCode, code: &str) -> Response {
    (
        status,
        axum::Json(json!({"errors": [{"code": code, "message": code}]})),
    )
        .into_response()
}

fn auth_scheme(h: &HeaderMap) -> String {
    h.get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(' ').next())
        .unwrap_or("")
        .to_string()
}

async fn registry_any(S(s): St, method: Method, uri: Uri, h: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let query: Vec<(String, String)> = form(uri.query().unwrap_or("").as_bytes());
    let resp = match (method.as_str(), path.as_str()) {
        ("POST", "/oauth2/exchange") => exchange(&s, &form(&body)),
        ("POST", "/oauth2/token") => refresh_grant(&s, &form(&body)),
        ("GET", "/oauth2/token") => basic_grant(&s, &h, &query),
        _ if path.starts_with("/v2/") => v2(&s, &method, &path, &query, &h),
        _ => error(StatusCode::NOT_FOUND, "NOT_FOUND"),
    };
    s.seen.lock().unwrap().requests.push((
        method.to_string(),
        path,
        resp.status().as_u16(),
        auth_scheme(&h),
    ));
    resp
}

fn issue(s: &State, kind: &str, sub: &str, grants: &Grants, scopes: Vec<String>) -> Response {
    let access = grants.grant(&scopes);
    s.seen
        .lock()
        .unwrap()
        .tokens
        .push((kind.into(), scopes, access.len()));
    let lifetime = s.config.lock().unwrap().access_lifetime;
    let claims = AccessClaims {
        aud: s.host.clone(),
        exp: exp_in(lifetime),
        sub: sub.into(),
        grant_type: kind.into(),
        access,
    };
    // ACR sends no expires_in: the JWT's exp is the lifetime.
    axum::Json(json!({ "access_token": sign(&claims) })).into_response()
}

fn exchange(s: &State, f: &[(String, String)]) -> Response {
    if get(f, "grant_type") != Some("access_token") || get(f, "service") != Some(&s.host) {
        return error(StatusCode::BAD_REQUEST, "UNSUPPORTED_GRANT");
    }
    let token = get(f, "access_token").unwrap_or("");
    let cfg = s.config.lock().unwrap();
    if !cfg.aad_tokens.contains_key(token) {
        return error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }
    s.seen
        .lock()
        .unwrap()
        .exchanges
        .push((s.host.clone(), get(f, "tenant").map(str::to_string)));
    let claims = RefreshClaims {
        aud: s.host.clone(),
        exp: exp_in(cfg.refresh_lifetime),
        sub: format!("aad:{token}"),
        grant_type: "refresh_token".into(),
    };
    axum::Json(json!({ "refresh_token": sign(&claims) })).into_response()
}

fn refresh_grant(s: &State, f: &[(String, String)]) -> Response {
    let service = get(f, "service").unwrap_or("");
    let claims = (get(f, "grant_type") == Some("refresh_token") && service == s.host)
        .then(|| verify_refresh(get(f, "refresh_token").unwrap_or(""), service))
        .flatten();
    let Some(claims) = claims else {
        return error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    };
    let grants = match claims.sub.strip_prefix("aad:") {
        Some(aad) => s.config.lock().unwrap().aad_tokens.get(aad).cloned(),
        None => None,
    };
    match grants {
        Some(g) => issue(s, "refresh_token", &claims.sub, &g, all(f, "scope")),
        None => error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
    }
}

fn basic_user(s: &State, h: &HeaderMap) -> Option<(String, Grants)> {
    let v = h.get(header::AUTHORIZATION)?.to_str().ok()?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v.strip_prefix("Basic ")?)
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (u, p) = raw.split_once(':')?;
    let cfg = s.config.lock().unwrap();
    let (pw, grants) = cfg.users.get(u)?;
    (pw == p).then(|| (u.to_string(), grants.clone()))
}

fn basic_grant(s: &State, h: &HeaderMap, q: &[(String, String)]) -> Response {
    match basic_user(s, h) {
        Some((u, g)) if get(q, "service") == Some(&s.host) => {
            issue(s, "basic", &format!("user:{u}"), &g, all(q, "scope"))
        }
        _ => error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
    }
}

fn challenge(s: &State, scope: Option<&str>, invalid: bool) -> Response {
    let mut v = format!(
        r#"Bearer realm="{}/oauth2/token",service="{}""#,
        s.base, s.host
    );
    if let Some(scope) = scope {
        v.push_str(&format!(r#",scope="{scope}""#));
    }
    if invalid {
        v.push_str(r#",error="invalid_token""#);
    }
    let mut r = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, v.parse().unwrap());
    r
}

/// Does the request carry a token (or basic user) allowing `need`?
#[allow(clippy::result_large_err)]
fn allowed(s: &State, h: &HeaderMap, need: Option<(&str, &str, &str)>) -> Result<(), Response> {
    let scope = need.map(|(k, n, a)| format!("{k}:{n}:{a}"));
    let auth = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let access = if let Some(t) = auth.strip_prefix("Bearer ") {
        match verify_access(t, &s.host) {
            Some(c) => c.access,
            None => return Err(challenge(s, scope.as_deref(), true)),
        }
    } else if let Some((_, g)) = basic_user(s, h) {
        g.grant(&scope.iter().cloned().collect::<Vec<_>>())
    } else {
        return Err(challenge(s, scope.as_deref(), false));
    };
    let Some((k, n, a)) = need else { return Ok(()) };
    if access
        .iter()
        .any(|x| x.kind == k && x.name == n && x.actions.iter().any(|y| y == a || y == "*"))
    {
        Ok(())
    } else {
        Err(challenge(s, scope.as_deref(), false))
    }
}

fn v2(s: &State, m: &Method, path: &str, q: &[(String, String)], h: &HeaderMap) -> Response {
    let rest = &path[4..];
    if rest.is_empty() {
        return allowed(s, h, None).map_or_else(|r| r, |()| axum::Json(json!({})).into_response());
    }
    if rest == "_catalog" {
        if let Err(r) = allowed(s, h, Some(("registry", "catalog", "*"))) {
            return r;
        }
        let names: Vec<String> = s.repos.lock().unwrap().keys().cloned().collect();
        return axum::Json(json!({ "repositories": names })).into_response();
    }
    let split = |marker: &str| {
        rest.rsplit_once(marker)
            .map(|(r, x)| (r.to_string(), x.to_string()))
    };
    if let Some(repo) = rest.strip_suffix("/tags/list") {
        if let Err(r) = allowed(s, h, Some(("repository", repo, "metadata_read"))) {
            return r;
        }
        let repos = s.repos.lock().unwrap();
        let Some(r) = repos.get(repo) else {
            return error(StatusCode::NOT_FOUND, "NAME_UNKNOWN");
        };
        let tags: Vec<&String> = r.tags.keys().collect();
        let _ = q;
        return axum::Json(json!({ "name": repo, "tags": tags })).into_response();
    }
    if let Some((repo, reference)) = split("/manifests/") {
        if let Err(r) = allowed(s, h, Some(("repository", &repo, "pull"))) {
            return r;
        }
        let repos = s.repos.lock().unwrap();
        let found = repos.get(&repo).and_then(|r| {
            let d = r.tags.get(&reference).cloned().unwrap_or(reference.clone());
            r.manifests.get(&d).map(|m| (d, m.clone()))
        });
        let Some((digest, (mt, bytes))) = found else {
            return error(StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN");
        };
        let mut resp = if m == Method::HEAD {
            let mut r = StatusCode::OK.into_response();
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, bytes.len().into());
            r
        } else {
            bytes.into_response()
        };
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, mt.parse().unwrap());
        resp.headers_mut()
            .insert("docker-content-digest", digest.parse().unwrap());
        return resp;
    }
    if let Some((repo, digest)) = split("/blobs/") {
        if let Err(r) = allowed(s, h, Some(("repository", &repo, "pull"))) {
            return r;
        }
        let exists = s
            .repos
            .lock()
            .unwrap()
            .get(&repo)
            .is_some_and(|r| r.blobs.contains_key(&digest));
        if !exists {
            return error(StatusCode::NOT_FOUND, "BLOB_UNKNOWN");
        }
        let location = format!(
            "{}/docker/registry/v2/blobs/{repo}/{digest}/data?se=2099-01-01&sig={SAS_SIG}",
            s.storage_base
        );
        return (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response();
    }
    error(StatusCode::NOT_FOUND, "NOT_FOUND")
}

async fn storage_any(S(s): St, uri: Uri, h: HeaderMap) -> Response {
    if h.contains_key(header::AUTHORIZATION) {
        s.seen.lock().unwrap().storage_refusals += 1;
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/xml")],
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>InvalidAuthenticationInfo</Code><Message>Authentication information is not given in the correct format.</Message></Error>",
        )
            .into_response();
    }
    let q = form(uri.query().unwrap_or("").as_bytes());
    let path = uri.path().trim_end_matches("/data");
    let Some((repo, digest)) = path
        .strip_prefix("/docker/registry/v2/blobs/")
        .and_then(|p| p.rsplit_once('/'))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if get(&q, "sig") != Some(SAS_SIG) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let blob = s
        .repos
        .lock()
        .unwrap()
        .get(repo)
        .and_then(|r| r.blobs.get(digest).cloned());
    match blob {
        Some(b) => {
            s.seen.lock().unwrap().storage_served += 1;
            b.into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
