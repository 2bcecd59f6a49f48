//! `/`: search by commit, branch, label or repository; each result links
//! to its image page, its commit and its build.

use super::{error_page, html_response, image_href, layout, link, short};
use crate::answers::images;
use crate::serve::db::Failure;
use crate::serve::params;
use crate::serve::AppState;
use crate::store::ImageRow;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

/// Rows a page shows at most; the API has no such cap.
const PAGE_ROWS: usize = 200;

/// The form's fields: (parameter, label, placeholder).
const FIELDS: [(&str, &str, &str); 5] = [
    ("commit", "Commit", "13c0f2b or a full SHA"),
    ("branch", "Branch", "main"),
    ("label", "Label", "KEY=VALUE or KEY"),
    ("repo", "Repository", "team/* (glob)"),
    ("tag", "Tag", "v1.* (glob)"),
];

pub async fn page(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let pairs = match params::pairs(q.as_deref()) {
        Ok(p) => p,
        Err(e) => return error_page(&Failure::BadRequest(e.0)),
    };
    let query = match params::images_query(&pairs) {
        Ok(q) => q,
        Err(e) => return error_page(&Failure::from_error(&e)),
    };
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let form = html! {
        form method="get" action="/" {
            @for (name, text, hint) in FIELDS {
                label { (text) input type="search" name=(name) value=(value(name)) placeholder=(hint); }
            }
            button type="submit" { "Search" }
        }
    };
    if query.is_empty() {
        let body = html! {
            h1 { "Which commit and build is this image?" }
            (form)
            p.muted { "Search by a commit (a prefix is enough), a branch, a label or a repository." }
        };
        return html_response(StatusCode::OK, layout("Search", body));
    }
    match st
        .db
        .read(move |store| images::search(store, &query.search))
        .await
    {
        Ok(rows) => {
            let body = html! { h1 { "Search" } (form) (results(&rows)) };
            html_response(StatusCode::OK, layout("Search", body))
        }
        Err(f) => error_page(&f),
    }
}

fn results(rows: &[ImageRow]) -> Markup {
    html! {
        @if rows.is_empty() {
            p #results { "No image matches." }
        } @else {
            p #results {
                (rows.len()) " image(s) by tag"
                @if rows.len() > PAGE_ROWS { ", the first " (PAGE_ROWS) " shown; narrow the search or use the API" }
            }
            table {
                thead { tr {
                    th { "Image" } th { "Platform" } th { "Digest" } th { "Created" }
                    th { "Commit" } th { "Branch" } th { "Build" }
                } }
                tbody {
                    @for r in rows.iter().take(PAGE_ROWS) { (row(r)) }
                }
            }
        }
    }
}

fn row(r: &ImageRow) -> Markup {
    let p = images::provenance(r);
    let name = format!("{}/{}:{}", r.registry, r.repository, r.tag);
    html! {
        tr {
            td { a.image href=(image_href(&name)) { (name) } }
            td { (r.platform.as_deref().unwrap_or("-")) }
            td.digest { a href=(image_href(&r.digest)) title=(r.digest) { (short(&r.digest)) } }
            td { (r.created.as_deref().unwrap_or("-")) }
            td.commit {
                @match p.commit.as_deref() {
                    Some(c) => (link(p.commit_url.as_deref(), c)),
                    None => "-",
                }
            }
            td { (p.branch.as_deref().unwrap_or("-")) }
            td.build {
                @match p.build() {
                    Some(b) => (link(p.build_url.as_deref(), b)),
                    None => "-",
                }
            }
        }
    }
}
