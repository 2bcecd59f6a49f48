//! ACR's token endpoint assumed (`Auth::assume_acr`): no 401 when it is
//! there, the challenge flow when it is not. A loopback server plays a
//! registry that wants bearer tokens, with its realm at ACR's place or
//! elsewhere.

use super::*;
use crate::registry::counters::RequestKind;
use crate::registry::http::{HttpRequest, Settings};
use crate::registry::Shutdown;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::Mutex as StdMutex;

#[derive(Default)]
struct Seen {
    /// (path, status) of every request.
    requests: Vec<(String, u16)>,
}

/// A registry whose token endpoint is `token_path`; any other path under
/// `/oauth2/` is 404, and `/v2/...` wants a bearer token.
async fn registry(token_path: &'static str) -> (Url, Arc<StdMutex<Seen>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let seen = Arc::new(StdMutex::new(Seen::default()));
    let (b, s) = (base.clone(), seen.clone());
    let app = axum::Router::new().fallback(move |uri: Uri, h: HeaderMap| {
        let (base, seen) = (b.clone(), s.clone());
        async move {
            let path = uri.path().to_string();
            let resp: Response = if path == token_path {
                (StatusCode::OK, r#"{"access_token":"granted"}"#).into_response()
            } else if path.starts_with("/v2/") {
                let authorized = h
                    .get(header::AUTHORIZATION)
                    .is_some_and(|v| v == "Bearer granted");
                if authorized {
                    (StatusCode::OK, "{}").into_response()
                } else {
                    let challenge = format!(
                        r#"Bearer realm="{}",service="{}",scope="repository:x:pull""#,
                        base.join(token_path).unwrap(),
                        base.authority()
                    );
                    (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, challenge)],
                        "",
                    )
                        .into_response()
                }
            } else {
                StatusCode::NOT_FOUND.into_response()
            };
            seen.lock()
                .unwrap()
                .requests
                .push((path, resp.status().as_u16()));
            resp
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

async fn fetch_manifest(base: &Url) -> StatusCode {
    let http = Arc::new(Http::new(Settings::default(), Shutdown::default()).unwrap());
    let auth = Auth::new(
        http.clone(),
        base.clone(),
        Credential::RefreshToken(Secret::new("refresh-token-for-tests")),
    );
    auth.assume_acr();
    let req = HttpRequest::get(
        base.join("/v2/x/manifests/latest").unwrap(),
        RequestKind::ManifestGet,
        1024,
    );
    let resp = http
        .send(&req, &auth.scoped("repository:x:pull"))
        .await
        .unwrap();
    resp.status
}

fn paths(seen: &StdMutex<Seen>) -> Vec<(String, u16)> {
    seen.lock().unwrap().requests.clone()
}

#[tokio::test]
async fn acr_token_endpoint_is_asked_at_once_without_a_401() {
    let (base, seen) = registry("/oauth2/token").await;
    assert_eq!(fetch_manifest(&base).await, StatusCode::OK);
    assert_eq!(
        paths(&seen),
        [
            ("/oauth2/token".to_string(), 200),
            ("/v2/x/manifests/latest".to_string(), 200)
        ]
    );
}

#[tokio::test]
async fn a_realm_elsewhere_is_learnt_from_the_challenge() {
    let (base, seen) = registry("/auth/token").await;
    assert_eq!(fetch_manifest(&base).await, StatusCode::OK);
    assert_eq!(
        paths(&seen),
        [
            // The assumed endpoint is not there: ask the registry.
            ("/oauth2/token".to_string(), 404),
            ("/v2/x/manifests/latest".to_string(), 401),
            ("/auth/token".to_string(), 200),
            ("/v2/x/manifests/latest".to_string(), 200)
        ]
    );
}
