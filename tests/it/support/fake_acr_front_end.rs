//! What ACR's front end refuses before the registry sees a request.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

/// ACR's front end is openresty (`Server: openresty` in the recordings),
/// with nginx's default `large_client_header_buffers 4 8k`: a request line
/// or one header line (name, ": ", value) longer than a buffer is refused
/// before the registry sees it, with nginx's own HTML page.
const FRONT_END_BUFFER: usize = 8192;

pub fn front_end_limits(m: &Method, uri: &Uri, h: &HeaderMap) -> Option<Response> {
    let line = m.as_str().len() + 1 + uri.to_string().len() + " HTTP/1.1".len();
    let (status, what) = if line > FRONT_END_BUFFER {
        (StatusCode::URI_TOO_LONG, "Request-URI Too Large")
    } else if h
        .iter()
        .any(|(k, v)| k.as_str().len() + 2 + v.len() > FRONT_END_BUFFER)
    {
        (
            StatusCode::BAD_REQUEST,
            "Request Header Or Cookie Too Large",
        )
    } else {
        return None;
    };
    let title = if status == StatusCode::BAD_REQUEST {
        format!("400 {what}")
    } else {
        format!("414 {what}")
    };
    let h1 = if status == StatusCode::BAD_REQUEST {
        "400 Bad Request".to_string()
    } else {
        title.clone()
    };
    let body = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{h1}</h1></center>\r\n<center>{what}</center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n"
    );
    Some(
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/html")
            .header(header::SERVER, "openresty")
            .body(Body::from(body))
            .unwrap(),
    )
}
