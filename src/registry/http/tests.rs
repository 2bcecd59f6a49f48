//! The layer against a loopback server: token requests retried like any
//! other and counted; every wait ends on shutdown.

use super::*;
use std::sync::atomic::AtomicUsize;

async fn serve(app: axum::Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/token", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn fast() -> Settings {
    Settings {
        backoff_base: Duration::from_millis(1),
        ..Settings::default()
    }
}

#[tokio::test]
async fn token_requests_survive_a_503_and_are_counted() {
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
    let url = serve(app).await;
    let http = Http::new(fast(), Shutdown::default()).unwrap();
    let req = crate::registry::auth::token_request(url, None);
    let token = crate::registry::auth::fetch_token(&http, &req, &Fixed(None))
        .await
        .unwrap();
    assert_eq!(token.value.expose(), "t0k");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(http.counters().snapshot()["token"], 2);
    assert_eq!(http.counters().retries(), 1);
}

#[tokio::test]
async fn a_huge_token_body_is_refused_not_read() {
    let app = axum::Router::new().route(
        "/token",
        axum::routing::get(|| async {
            let body = format!(r#"{{"token":"{}"}}"#, "x".repeat(2 * MAX_TOKEN));
            (axum::http::StatusCode::OK, body)
        }),
    );
    let url = serve(app).await;
    let http = Http::new(fast(), Shutdown::default()).unwrap();
    let req = crate::registry::auth::token_request(url, None);
    let err = crate::registry::auth::fetch_token(&http, &req, &Fixed(None))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, RegistryError::TooLarge { .. }), "{err}");
}

const MAX_TOKEN: usize = crate::registry::auth::MAX_TOKEN_BYTES;

#[tokio::test]
async fn shutdown_ends_a_hanging_request_and_a_rate_wait() {
    let app = axum::Router::new().route(
        "/token",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            ""
        }),
    );
    let url = serve(app).await;
    for max_rps in [None, Some(0.001)] {
        let shutdown = Shutdown::default();
        let http = Http::new(Settings { max_rps, ..fast() }, shutdown.clone()).unwrap();
        let req = HttpRequest::get(url.clone(), RequestKind::Token, 1024);
        // Use up the first rate slot so the second request waits.
        if max_rps.is_some() {
            http.limiter.rate().acquire().await;
        }
        let s = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            s.trigger();
        });
        let r = tokio::time::timeout(Duration::from_secs(30), http.send(&req, &Fixed(None)))
            .await
            .expect("shutdown ends the wait");
        assert!(matches!(r, Err(RegistryError::Interrupted)));
    }
}

#[tokio::test]
async fn an_unknown_host_is_not_retried() {
    let http = Http::new(fast(), Shutdown::default()).unwrap();
    let url = Url::parse("http://no-such-host.invalid/v2/").unwrap();
    let req = HttpRequest::get(url, RequestKind::Catalog, 1024);
    let err = http.send(&req, &Fixed(None)).await.err().unwrap();
    assert!(
        matches!(
            err,
            RegistryError::Unreachable {
                reason: crate::registry::Unreachable::UnknownHost,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(http.counters().retries(), 0);
}

#[tokio::test]
async fn a_host_that_never_answered_is_not_retried() {
    // A port nobody listens on: refused at once, and not retried.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let http = Http::new(fast(), Shutdown::default()).unwrap();
    let url = Url::parse(&format!("http://127.0.0.1:{port}/v2/")).unwrap();
    let req = HttpRequest::get(url, RequestKind::Catalog, 1024);
    let err = http.send(&req, &Fixed(None)).await.err().unwrap();
    assert!(matches!(err, RegistryError::Network { .. }), "{err}");
    assert_eq!(http.counters().retries(), 0);
}
