//! Talking to a token endpoint: send, retry transient failures, read the token.

use super::Token;
use crate::registry::{display_url, RegistryError};
use url::Url;

/// Send a token request, retrying a few times on network errors, 429 and
/// 5xx: a token endpoint's hiccup should not fail every image behind it.
pub async fn send_token_request(
    request: reqwest::RequestBuilder,
    realm: &Url,
) -> Result<Token, RegistryError> {
    const ATTEMPTS: u32 = 3;
    let mut attempt = 0;
    loop {
        let Some(this) = request.try_clone() else {
            return parse_token_response(request, realm).await;
        };
        match parse_token_response(this, realm).await {
            Err(RegistryError::Network { .. } | RegistryError::Status { .. })
                if attempt + 1 < ATTEMPTS =>
            {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(200 << attempt)).await;
            }
            other => return other,
        }
    }
}

/// Send a token request and read `token` / `access_token` and `expires_in`.
pub async fn parse_token_response(
    request: reqwest::RequestBuilder,
    realm: &Url,
) -> Result<Token, RegistryError> {
    #[derive(serde::Deserialize)]
    struct TokenJson {
        token: Option<String>,
        access_token: Option<String>,
        /// What ACR's `/oauth2/exchange` answers.
        refresh_token: Option<String>,
        expires_in: Option<u64>,
    }
    let shown = display_url(realm);
    let resp = request.send().await.map_err(|e| RegistryError::Network {
        url: shown.clone(),
        detail: e.without_url().to_string(),
    })?;
    let status = resp.status();
    if crate::registry::retry::is_retryable_status(status) {
        return Err(RegistryError::Status {
            url: shown,
            status: status.as_u16(),
        });
    }
    if !status.is_success() {
        return Err(RegistryError::Auth(format!(
            "token endpoint {shown} answered HTTP {}",
            status.as_u16()
        )));
    }
    let bytes = resp.bytes().await.map_err(|e| RegistryError::Network {
        url: shown.clone(),
        detail: e.without_url().to_string(),
    })?;
    let body: TokenJson =
        serde_json::from_slice(&bytes).map_err(|e| RegistryError::InvalidResponse {
            url: shown.clone(),
            detail: e.to_string(),
        })?;
    let value = body
        .access_token
        .or(body.token)
        .or(body.refresh_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| RegistryError::Auth(format!("token endpoint {shown} returned no token")))?;
    Ok(Token::new(value, body.expires_in))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn token_requests_survive_a_503() {
        use super::send_token_request;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use url::Url;
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let app = axum::Router::new().route(
            "/token",
            axum::routing::get(move || {
                let n = c.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new())
                    } else {
                        (
                            axum::http::StatusCode::OK,
                            r#"{"token":"t0k","expires_in":300}"#.to_string(),
                        )
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let realm =
            Url::parse(&format!("http://{}/token", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let token = send_token_request(reqwest::Client::new().get(realm.clone()), &realm)
            .await
            .unwrap();
        assert_eq!(token.value.expose(), "t0k");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
