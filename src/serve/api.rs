//! `/api/v1`: the command line's JSON over HTTP. Every handler calls the
//! same answer function as its command and serialises it the same way.

use super::db::Failure;
use super::params;
use super::AppState;
use crate::answers::{image, images, running, runs};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

/// The largest pods listing `POST /api/v1/running` takes.
pub const MAX_PODS_BODY: usize = 16 * 1024 * 1024;

/// How many runs `GET /api/v1/runs` gives by default, and at most.
const RUNS_DEFAULT: i64 = 20;
const RUNS_MAX: i64 = 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/images", get(list_images))
        .route("/api/v1/images/*reference", get(show_image))
        .route(
            "/api/v1/running",
            post(post_running).layer(axum::extract::DefaultBodyLimit::max(MAX_PODS_BODY)),
        )
        .route("/api/v1/runs", get(list_runs))
        .route("/api/v1/bases", get(bases))
        .fallback(|| async { error(&Failure::NotFound("no such endpoint".into())) })
}

/// `{"error": "..."}` with the failure's status.
pub fn error(f: &Failure) -> Response {
    let status = StatusCode::from_u16(f.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({ "error": f.message() });
    (status, json_bytes(&body)).into_response()
}

/// Pretty JSON and a newline, as the commands print it.
fn json_bytes<T: serde::Serialize>(v: &T) -> ([(header::HeaderName, &'static str); 1], Vec<u8>) {
    let mut out = Vec::new();
    // Serialising our own structs into memory cannot fail.
    let _ = crate::output::json(&mut out, v);
    ([(header::CONTENT_TYPE, "application/json")], out)
}

fn json<T: serde::Serialize>(r: Result<T, Failure>) -> Response {
    match r {
        Ok(v) => json_bytes(&v).into_response(),
        Err(f) => error(&f),
    }
}

async fn list_images(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let query = match params::pairs(q.as_deref())
        .map_err(anyhow::Error::from)
        .and_then(|p| params::images_query(&p))
    {
        Ok(q) => q,
        Err(e) => return error(&Failure::from_error(&e)),
    };
    if query.csv {
        let raw = query.raw;
        let csv = st
            .db
            .read(move |store| {
                let rows = images::search(store, &query.search)?;
                let mut out = Vec::new();
                crate::output::report::write_wide(&mut out, &rows, &images::DEFAULT_COLUMNS, raw)?;
                Ok(out)
            })
            .await;
        return match csv {
            Ok(body) => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response(),
            Err(f) => error(&f),
        };
    }
    json(
        st.db
            .read(move |store| images::search(store, &query.search))
            .await,
    )
}

async fn show_image(State(st): State<AppState>, Path(reference): Path<String>) -> Response {
    json(find_image(&st, reference).await)
}

/// `show`'s answer for a reference, 404 when nothing matches.
pub async fn find_image(st: &AppState, reference: String) -> Result<image::ShowOutput, Failure> {
    let shown = reference.clone();
    st.db
        .read(move |store| image::show(store, &reference))
        .await?
        .ok_or_else(|| Failure::NotFound(format!("no image matches {shown}")))
}

async fn post_running(State(st): State<AppState>, body: Bytes) -> Response {
    let doc: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(d) => d,
        Err(e) => return error(&Failure::BadRequest(format!("the body is not JSON: {e}"))),
    };
    let list = match running::containers(&doc) {
        Ok(l) => l,
        Err(e) => return error(&Failure::BadRequest(e.to_string())),
    };
    json(st.db.read(move |store| running::rows(store, &list)).await)
}

async fn list_runs(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let limit = match runs_limit(q.as_deref()) {
        Ok(l) => l,
        Err(m) => return error(&Failure::BadRequest(m)),
    };
    json(st.db.read(move |store| Ok(runs::runs(store, limit)?)).await)
}

/// `?limit=N` as `runs --limit N`.
pub fn runs_limit(q: Option<&str>) -> Result<i64, String> {
    let mut limit = RUNS_DEFAULT;
    for (k, v) in params::pairs(q).map_err(|e| e.0)? {
        match k.as_str() {
            "limit" => {
                limit = v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=RUNS_MAX).contains(n))
                    .ok_or_else(|| format!("limit {v:?}: expected 1 to {RUNS_MAX}"))?
            }
            _ => return Err(format!("unknown parameter {k:?}")),
        }
    }
    Ok(limit)
}

/// `bases [--stale]`: `?stale=true` as `--stale`.
async fn bases(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let mut stale = false;
    let pairs = match params::pairs(q.as_deref()) {
        Ok(p) => p,
        Err(e) => return error(&Failure::BadRequest(e.0)),
    };
    for (k, v) in pairs {
        match (k.as_str(), v.as_str()) {
            ("stale", "true" | "1" | "") => stale = true,
            ("stale", "false" | "0") => stale = false,
            _ => return error(&Failure::BadRequest(format!("unknown parameter {k}={v:?}"))),
        }
    }
    let filter = crate::store::RowFilter::default();
    json(
        st.db
            .read(move |store| Ok(crate::answers::bases::rows(store, &filter, stale)?))
            .await,
    )
}
