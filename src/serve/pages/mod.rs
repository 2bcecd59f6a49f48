//! Pages for people: server-rendered HTML that needs no JavaScript. maud
//! escapes every value it interpolates; links are made clickable only for
//! http and https URLs, so a registry cannot plant `javascript:` links.

mod image;
mod search;

use super::api;
use super::db::Failure;
use super::AppState;
use crate::store::RunRow;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, DOCTYPE};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(search::page))
        .route("/images/*reference", get(image::page))
        .route("/runs", get(runs))
        .route("/static/style.css", get(style))
}

const STYLE: &str = include_str!("style.css");

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

/// The frame every page shares.
fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · acr-index" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                nav {
                    a href="/" { "Search" }
                    a href="/runs" { "Runs" }
                }
                main { (body) }
            }
        }
    }
}

fn html_response(status: StatusCode, page: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page.into_string(),
    )
        .into_response()
}

fn error_page(f: &Failure) -> Response {
    let status = StatusCode::from_u16(f.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let page = layout(
        "Error",
        html! { h1 { (status.as_u16()) } p.error { (f.message()) } },
    );
    html_response(status, page)
}

/// `text` as a link when `url` is http or https, else as plain text.
fn link(url: Option<&str>, text: &str) -> Markup {
    match url.filter(|u| is_web_url(u)) {
        Some(u) => html! { a href=(u) rel="noopener noreferrer nofollow" { (text) } },
        None => html! { (text) },
    }
}

fn is_web_url(u: &str) -> bool {
    url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"))
}

/// The image page of a reference (`registry/repo:tag`, `repo@digest`, a digest).
fn image_href(reference: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(reference.as_bytes()).collect();
    format!("/images/{encoded}")
}

fn short(d: &str) -> String {
    crate::output::short_digest(d)
}

async fn runs(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let limit = match api::runs_limit(q.as_deref()) {
        Ok(l) => l,
        Err(m) => return error_page(&Failure::BadRequest(m)),
    };
    match st
        .db
        .read(move |store| Ok(crate::answers::runs::runs(store, limit)?))
        .await
    {
        Ok(runs) => html_response(StatusCode::OK, layout("Runs", runs_body(&runs))),
        Err(f) => error_page(&f),
    }
}

fn runs_body(runs: &[RunRow]) -> Markup {
    html! {
        h1 { "Index runs" }
        @if runs.is_empty() { p { "No index run has been recorded yet." } }
        @else {
            table {
                thead { tr {
                    th { "Run" } th { "Registry" } th { "Started" } th { "Finished" }
                    th { "Status" } th { "Repos" } th { "Tags" } th { "New" }
                    th { "Known" } th { "Failed" } th { "Requests" }
                } }
                tbody {
                    @for r in runs {
                        tr.(r.status) {
                            td { (r.id) } td { (r.registry) } td { (r.started_at) }
                            td { (r.finished_at.as_deref().unwrap_or("-")) }
                            td { (r.status) } td { (r.repositories) } td { (r.tags) }
                            td { (r.manifests_new) } td { (r.manifests_known) }
                            td { (r.failures) }
                            td { (crate::answers::runs::requests_total(&r.requests)) }
                        }
                    }
                }
            }
            @for r in runs.iter().filter(|r| r.message.is_some() || !r.errors.is_empty()) {
                h2 { "Run " (r.id) " " (r.status) }
                @if let Some(m) = &r.message { p { (m) } }
                @if !r.errors.is_empty() {
                    ul {
                        @for e in &r.errors {
                            li {
                                code { (e.repository.as_deref().unwrap_or("")) }
                                @if let Some(reference) = &e.reference { code { ":" (reference) } }
                                " " (e.message)
                            }
                        }
                    }
                }
            }
        }
    }
}
