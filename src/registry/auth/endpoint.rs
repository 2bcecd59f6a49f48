//! Talking to a token endpoint through the HTTP layer (so caps, retries,
//! the rate limit and shutdown hold for it too) and reading the token.

use super::Token;
use crate::registry::counters::RequestKind;
use crate::registry::http::{Authorize, Http, HttpRequest, Response};
use crate::registry::{display_url, RegistryError};
use reqwest::header::HeaderName;
use url::Url;

/// Token answers are a few kilobytes; anything past this is refused
/// rather than read whole.
pub const MAX_TOKEN_BYTES: usize = 256 * 1024;

/// A token request: a GET with query parameters, or a form POST.
pub fn token_request<'a>(url: Url, form: Option<&[(&str, &str)]>) -> HttpRequest<'a> {
    let mut req = match form {
        Some(form) => HttpRequest::post_form(url, RequestKind::Token, MAX_TOKEN_BYTES, form),
        None => HttpRequest::get(url, RequestKind::Token, MAX_TOKEN_BYTES),
    };
    req.accept = Some("application/json");
    req
}

/// Add a header to a request (IMDS wants `Metadata: true`).
pub fn with_header<'a>(
    mut req: HttpRequest<'a>,
    name: &'static str,
    value: &'static str,
) -> HttpRequest<'a> {
    req.headers.push((
        HeaderName::from_static(name),
        reqwest::header::HeaderValue::from_static(value),
    ));
    req
}

/// Send a token request and read `token` / `access_token` /
/// `refresh_token` and `expires_in`. The endpoint's error text is not
/// repeated: it can echo what was sent.
pub async fn fetch_token(
    http: &Http,
    req: &HttpRequest<'_>,
    auth: &dyn Authorize,
) -> Result<Token, RegistryError> {
    let resp = http.send(req, auth).await?;
    parse_token_response(&resp)
}

pub fn parse_token_response(resp: &Response) -> Result<Token, RegistryError> {
    let shown = display_url(&resp.url);
    if !resp.status.is_success() {
        return Err(RegistryError::Auth(format!(
            "token endpoint {shown} answered HTTP {}{}",
            resp.status.as_u16(),
            error_code(&resp.body)
        )));
    }
    let body: serde_json::Value =
        serde_json::from_slice(&resp.body).map_err(|e| RegistryError::InvalidResponse {
            url: shown.clone(),
            // Only where it broke: serde's message can quote the token.
            detail: format!(
                "the token answer is not JSON (line {} column {})",
                e.line(),
                e.column()
            ),
        })?;
    let text = |k: &str| {
        body.get(k)
            .and_then(|v| v.as_str())
            .filter(|t| !t.is_empty())
    };
    let value = text("access_token")
        .or_else(|| text("token"))
        .or_else(|| text("refresh_token"))
        .ok_or_else(|| RegistryError::Auth(format!("token endpoint {shown} returned no token")))?;
    let expires_in = body.get("expires_in").and_then(|v| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    });
    Ok(Token::new(value.to_string(), expires_in, resp.date()))
}

/// An OAuth `error` code (`invalid_grant`, `unauthorized`), when it is a
/// short plain word: codes help, descriptions may echo the request.
pub fn error_code(body: &[u8]) -> String {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let code = json
        .get("error")
        .and_then(|e| e.as_str())
        .or_else(|| json.pointer("/errors/0/code").and_then(|c| c.as_str()));
    match code {
        Some(c)
            if c.len() <= 64
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') =>
        {
            format!(" ({c})")
        }
        _ => String::new(),
    }
}
