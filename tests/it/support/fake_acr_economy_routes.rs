//! Handlers of the economy ACR fake (see fake_acr_economy.rs).

use super::fake_acr_economy::{State, AAD_TOKEN};
use super::fake_acr_front_end::front_end_limits;
use axum::body::{Body, Bytes};
use axum::extract::State as S;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const KEY: &[u8] = b"fake-acr-economy-key-TEST-ONLY";
const SAS: &str = "economy-sas-SECRET";
const REFRESH_LIFETIME: u64 = 3 * 3600;

/// ACR's spelling of the access claim.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Access {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Actions")]
    actions: Vec<String>,
}

/// ACR's access token claims, in its order (recording net-anonymous-catalog.json).
#[derive(Serialize, Deserialize)]
struct AccessClaims {
    jti: String,
    sub: String,
    nbf: u64,
    exp: u64,
    iat: u64,
    iss: String,
    aud: String,
    version: String,
    rid: String,
    access: Vec<Access>,
    roles: Vec<String>,
    grant_type: String,
}

#[derive(Serialize, Deserialize)]
struct RefreshClaims {
    aud: String,
    exp: u64,
    iss: String,
    grant_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aad_identity: Option<String>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign<T: Serialize>(c: &T) -> String {
    // ACR's key id is twelve groups of four (the recordings' `kid`).
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("I7B6:6T4A:TZV3:YION:FODJ:NZTC:5UPY:3BV3:FFXO:Q54K:3BBK:GTX3".into());
    encode(&header, c, &EncodingKey::from_secret(KEY)).unwrap()
}

fn verify<T: for<'de> Deserialize<'de>>(token: &str, aud: &str) -> Option<T> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&[aud]);
    v.leeway = 0;
    decode::<T>(token, &DecodingKey::from_secret(KEY), &v)
        .ok()
        .map(|d| d.claims)
}

pub fn mint_refresh(s: &State) -> String {
    sign(&RefreshClaims {
        aud: s.host.clone(),
        exp: now() + REFRESH_LIFETIME,
        iss: "Azure Container Registry".into(),
        grant_type: "refresh_token".into(),
        // ABAC registries put the caller's identity in the refresh token.
        aad_identity: s
            .config
            .abac
            .then(|| r#"{"oid":"00000000-0000-0000-0000-000000000000"}"#.into()),
    })
}

pub fn registry(state: Arc<State>) -> Router {
    Router::new().fallback(registry_any).with_state(state)
}

pub fn storage(state: Arc<State>) -> Router {
    Router::new().fallback(storage_any).with_state(state)
}

fn kind_of(path: &str) -> &'static str {
    match path {
        "/oauth2/token" => "token",
        "/oauth2/exchange" => "exchange",
        "/acr/v1/_catalog" | "/v2/_catalog" => "catalog",
        p if p.ends_with("/_tags") || p.ends_with("/tags/list") => "tags",
        p if p.starts_with("/acr/v1/") => "repository",
        p if p.contains("/manifests/") => "manifest",
        p if p.contains("/referrers/") => "referrers",
        p if p.contains("/blobs/") => "blob",
        _ => "other",
    }
}

fn json_reply(status: StatusCode, v: serde_json::Value) -> Response {
    (status, axum::Json(v)).into_response()
}

fn error(status: StatusCode, code: &str) -> Response {
    json_reply(
        status,
        json!({"errors": [{"code": code, "message": code, "detail": null}]}),
    )
}

async fn registry_any(
    S(s): S<Arc<State>>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    if path == "/_fake/stats" {
        return axum::Json(s.stats()).into_response();
    }
    if path == "/_fake/reset" {
        s.reset();
        return StatusCode::NO_CONTENT.into_response();
    }
    let arrived = s.enter(kind_of(&path));
    if !s.config.latency.is_zero() {
        tokio::time::sleep(s.config.latency).await;
    }
    if let Some(r) = front_end_limits(&m, &uri, &h) {
        s.stats.lock().unwrap().too_large += 1;
        s.leave(arrived, r.status().as_u16());
        return r;
    }
    let mut resp = match s.admit() {
        Err(after) => {
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS");
            r.headers_mut().insert(header::RETRY_AFTER, after.into());
            r.headers_mut().insert(
                "x-ms-ratelimit-remaining-calls-per-second",
                HeaderValue::from_static("0"),
            );
            r
        }
        Ok(remaining) => {
            let mut r = answer(&s, &m, &path, uri.query().unwrap_or(""), &h, &body);
            if let Some(rem) = remaining {
                r.headers_mut().insert(
                    "x-ms-ratelimit-remaining-calls-per-second",
                    format!("{rem:.6}").parse().unwrap(),
                );
            }
            r
        }
    };
    resp.headers_mut().insert(
        "docker-distribution-api-version",
        HeaderValue::from_static("registry/2.0"),
    );
    s.leave(arrived, resp.status().as_u16());
    resp
}

fn form(b: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(b).into_owned().collect()
}

fn get<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn answer(s: &State, m: &Method, path: &str, query: &str, h: &HeaderMap, body: &[u8]) -> Response {
    match (m.as_str(), path) {
        ("POST", "/oauth2/exchange") => {
            let f = form(body);
            if get(&f, "grant_type") != Some("access_token")
                || get(&f, "service") != Some(&s.host)
                || get(&f, "access_token") != Some(AAD_TOKEN)
            {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            json_reply(StatusCode::OK, json!({ "refresh_token": mint_refresh(s) }))
        }
        ("POST", "/oauth2/token") => token(s, &form(body)),
        _ if path.starts_with("/v2/") || path.starts_with("/acr/v1/") => {
            let q = form(query.as_bytes());
            super::fake_acr_economy_api::serve(s, m, path, &q, h)
        }
        _ => error(StatusCode::NOT_FOUND, "NOT_FOUND"),
    }
}

/// Token requests seen so far (a unique-enough `jti`).
fn st_count(s: &State) -> u64 {
    s.stats.lock().unwrap().count("token")
}

fn token(s: &State, f: &[(String, String)]) -> Response {
    let ok = get(f, "grant_type") == Some("refresh_token") && get(f, "service") == Some(&s.host);
    let refresh = ok
        .then(|| verify::<RefreshClaims>(get(f, "refresh_token").unwrap_or(""), &s.host))
        .flatten();
    if refresh.is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let scopes: Vec<String> = f
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
        .collect();
    let mut access: Vec<Access> = Vec::new();
    for sc in &scopes {
        let Some((rest, actions)) = sc.rsplit_once(':') else {
            continue;
        };
        let Some((kind, name)) = rest.split_once(':') else {
            continue;
        };
        // ABAC: wildcard repository scopes are dropped without a word.
        if kind == "repository" && name.contains('*') && s.config.abac {
            continue;
        }
        let actions: Vec<String> = actions
            .split(',')
            .filter(|a| ["pull", "metadata_read", "*"].contains(a))
            .map(str::to_string)
            .collect();
        if (kind == "repository" || (kind == "registry" && name == "catalog"))
            && !actions.is_empty()
        {
            access.push(Access {
                kind: kind.into(),
                name: name.into(),
                actions,
            });
        }
    }
    {
        let mut st = s.stats.lock().unwrap();
        if st.token_scopes.len() < 1000 {
            st.token_scopes.push(scopes);
        }
    }
    let lifetime = s
        .config
        .access_lifetime
        .unwrap_or(Duration::from_secs(1200));
    let claims = AccessClaims {
        jti: format!("{:08x}-0000-4000-8000-{:012x}", now() as u32, st_count(s)),
        sub: "00000000-0000-0000-0000-000000000000".into(),
        nbf: now(),
        exp: now() + lifetime.as_secs(),
        iat: now(),
        iss: "Azure Container Registry".into(),
        aud: s.host.clone(),
        version: "1.0".into(),
        rid: "9172f2da56fd4247bf3973c8d48df3c0".into(),
        access,
        roles: Vec::new(),
        grant_type: "refresh_token".into(),
    };
    json_reply(StatusCode::OK, json!({ "access_token": sign(&claims) }))
}

/// Does the request's token allow `action` on `kind:name`? Err is the 401.
#[allow(clippy::result_large_err)]
pub fn allowed(
    s: &State,
    h: &HeaderMap,
    kind: &str,
    name: &str,
    action: &str,
) -> Result<(), Response> {
    let token = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let claims = token.and_then(|t| verify::<AccessClaims>(t, &s.host));
    let ok = claims.as_ref().is_some_and(|c| {
        c.access.iter().any(|a| {
            a.kind == kind
                && (a.name == name || (a.name == "*" && !s.config.abac))
                && a.actions.iter().any(|x| x == action || x == "*")
        })
    });
    if ok {
        return Ok(());
    }
    let mut v = format!(
        r#"Bearer realm="{}/oauth2/token",service="{}",scope="{kind}:{name}:{action}""#,
        s.base, s.host
    );
    if token.is_some() {
        v.push_str(if claims.is_some() {
            r#",error="insufficient_scope""#
        } else {
            r#",error="invalid_token""#
        });
    }
    let mut r = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, v.parse().unwrap());
    Err(r)
}

pub fn blob_location(s: &State, digest: &str) -> String {
    format!(
        "{}/docker/registry/v2/blobs/{digest}/data?se=2099-01-01&sig={SAS}",
        s.storage_base
    )
}

async fn storage_any(S(s): S<Arc<State>>, uri: Uri, h: HeaderMap) -> Response {
    let arrived = s.enter("storage");
    if !s.config.latency.is_zero() {
        tokio::time::sleep(s.config.latency).await;
    }
    let q: HashMap<String, String> = form(uri.query().unwrap_or("").as_bytes())
        .into_iter()
        .collect();
    let digest = uri
        .path()
        .strip_prefix("/docker/registry/v2/blobs/")
        .and_then(|p| p.strip_suffix("/data"))
        .unwrap_or("");
    let blob = s.content.lock().unwrap().blobs.get(digest).cloned();
    let resp = if h.contains_key(header::AUTHORIZATION) {
        (
            StatusCode::BAD_REQUEST,
            "<Error><Code>InvalidAuthenticationInfo</Code></Error>",
        )
            .into_response()
    } else if q.get("sig").map(String::as_str) != Some(SAS) {
        StatusCode::FORBIDDEN.into_response()
    } else {
        match blob {
            Some(b) => Response::builder()
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .body(Body::from(b))
                .unwrap(),
            None => StatusCode::NOT_FOUND.into_response(),
        }
    };
    s.leave(arrived, resp.status().as_u16());
    resp
}
