//! The fake ACR's Entra ID and IMDS listener (see fake_acr.rs).

use super::fake_acr::State;
use super::fake_acr_routes::{form, get};
use axum::body::Bytes;
use axum::extract::State as S;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::json;
use std::sync::Arc;

pub fn login(state: Arc<State>) -> Router {
    Router::new().fallback(login_any).with_state(state)
}

async fn login_any(
    S(s): S<Arc<State>>,
    method: Method,
    uri: Uri,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if method == Method::GET && path == "/metadata/identity/oauth2/token" {
        return imds(&s, uri.query().unwrap_or(""), &h);
    }
    let Some(tenant) = path
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix("/oauth2/v2.0/token"))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let f = form(&body);
    let assertion = get(&f, "client_assertion").unwrap_or("").to_string();
    s.seen
        .lock()
        .unwrap()
        .entra_assertions
        .push(assertion.clone());
    let mut cfg = s.config.lock().unwrap();
    let Some(wi) = cfg.workload.as_mut() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let ok = method == Method::POST
        && tenant == wi.tenant
        && get(&f, "client_id") == Some(&wi.client_id)
        && get(&f, "scope") == Some("https://containerregistry.azure.net/.default")
        && get(&f, "grant_type") == Some("client_credentials")
        && get(&f, "client_assertion_type")
            == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        && wi.assertions.contains(&assertion);
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_client", "error_description": "AADSTS700211"})),
        )
            .into_response();
    }
    if let Some((file, next)) = wi.rotate.take() {
        std::fs::write(file, next).unwrap();
    }
    let grants = wi.grants.clone();
    let n = s.seen.lock().unwrap().entra_assertions.len();
    let token = format!("aad-workload-token-{n}-SECRET");
    cfg.aad_tokens.insert(token.clone(), grants);
    axum::Json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token}))
        .into_response()
}

fn imds(s: &State, query: &str, h: &HeaderMap) -> Response {
    let q = form(query.as_bytes());
    if h.get("metadata").and_then(|v| v.to_str().ok()) != Some("true") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_request"})),
        )
            .into_response();
    }
    s.seen.lock().unwrap().imds_queries.push(query.to_string());
    let mut cfg = s.config.lock().unwrap();
    let Some((client_id, grants)) = cfg.imds.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let ok = get(&q, "api-version") == Some("2018-02-01")
        && get(&q, "resource") == Some("https://containerregistry.azure.net")
        && get(&q, "client_id") == client_id.as_deref();
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_request"})),
        )
            .into_response();
    }
    let token = "aad-imds-token-SECRET".to_string();
    cfg.aad_tokens.insert(token.clone(), grants);
    // IMDS sends its numbers as strings.
    axum::Json(
        json!({"access_token": token, "expires_in": "86399", "token_type": "Bearer",
        "resource": "https://containerregistry.azure.net"}),
    )
    .into_response()
}
