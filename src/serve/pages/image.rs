//! `/images/{ref}`: everything `show` prints, with the commit, build,
//! source and base links clickable, the tag history, the index or its
//! children, and the referrers when the answer carries them.

use super::{error_page, html_response, image_href, layout, link, short};
use crate::answers::image::{ShowImage, ShowOutput};
use crate::serve::{api, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use std::collections::BTreeMap;

pub async fn page(State(st): State<AppState>, Path(reference): Path<String>) -> Response {
    match api::find_image(&st, reference).await {
        Ok(out) => {
            let title = out.reference.clone();
            html_response(StatusCode::OK, layout(&title, body(&out)))
        }
        Err(f) => error_page(&f),
    }
}

fn body(o: &ShowOutput) -> Markup {
    let how = serde_json::to_value(o.resolved_by).ok();
    html! {
        h1 { (o.reference) }
        p.muted {
            (o.images.len()) " manifest(s), resolved by "
            (how.as_ref().and_then(|v| v.as_str()).unwrap_or("-"))
        }
        @if o.tag_history.len() > 1 {
            h2 { "Tag history" }
            table #tag-history {
                thead { tr { th { "Tag" } th { "Digest" } th { "From" } th { "Until" } } }
                tbody {
                    @for t in &o.tag_history {
                        tr {
                            td { (t.registry) "/" (t.repository) ":" (t.tag) }
                            td.digest { a href=(image_href(&t.digest)) { (t.digest) } }
                            td { (t.first_seen) }
                            td { (t.removed_at.as_deref().unwrap_or("now")) }
                        }
                    }
                }
            }
        }
        @for img in &o.images { (image(img)) }
    }
}

fn field(name: &str, value: Option<&str>) -> Markup {
    html! { @if let Some(v) = value { dt { (name) } dd { (v) } } }
}

fn image(img: &ShowImage) -> Markup {
    let d = &img.detail;
    let p = &img.detail.provenance;
    html! {
        section.image {
            h2.digest { (d.digest) " (" (d.kind) ")" }
            dl {
                (field("media type", Some(&d.media_type)))
                @if d.status != "ok" { (field("status", Some(&d.status))) }
                (field("artifact", d.artifact_type.as_deref()))
                (field("platform", d.platform.as_deref()))
                (field("os version", d.os_version.as_deref()))
                (field("created", d.created.as_deref()))
                (field("config", d.config_digest.as_deref()))
                (field("size", Some(&d.size.to_string())))
                (field("indexed at", Some(&d.indexed_at)))
                @if let Some(c) = &p.commit {
                    dt { "commit" } dd #commit { (link(p.commit_url.as_deref(), c)) }
                } @else if let Some(u) = &p.commit_url {
                    dt { "commit" } dd #commit { (link(Some(u), u)) }
                }
                (field("branch", p.branch.as_deref()))
                @if let Some(b) = p.build().or(p.build_url.as_deref()) {
                    dt { "build" } dd #build { (link(p.build_url.as_deref(), b)) }
                }
                @if let Some(s) = &p.source {
                    dt { "source" } dd #source { (link(Some(s), s)) }
                }
                @if let Some(b) = &img.base_image {
                    dt { "base image" }
                    dd #base {
                        (b.name.as_deref().unwrap_or(""))
                        @if let Some(bd) = &b.digest {
                            " @ "
                            @if b.indexed { a href=(image_href(bd)) { (bd) } } @else { (bd) }
                        }
                        @if b.indexed {
                            " (indexed" @if !b.tags.is_empty() { ": " (b.tags.join(", ")) } ")"
                        }
                    }
                }
            }
            @if !d.tags.is_empty() {
                h3 { "Tags" }
                table.tags {
                    thead { tr { th { "Tag" } th { "State" } th { "First seen" } th { "Last seen" } th { "Via index" } } }
                    tbody {
                        @for t in &d.tags {
                            @let name = format!("{}/{}:{}", t.registry, t.repository, t.tag);
                            tr {
                                td { a href=(image_href(&name)) { (name) } }
                                td { @match &t.removed_at { None => "current", Some(at) => { "until " (at) } } }
                                td { (t.first_seen) } td { (t.last_seen) }
                                td.digest { @if t.via_index { a href=(image_href(&t.digest)) { (short(&t.digest)) } } }
                            }
                        }
                    }
                }
            }
            @if !d.indexes.is_empty() {
                h3 { "In index" }
                ul {
                    @for i in &d.indexes {
                        li {
                            a.digest href=(image_href(&i.digest)) { (i.digest) }
                            " as "
                            @if i.attestation { "attestation" } @else { (i.platform.as_deref().unwrap_or("-")) }
                        }
                    }
                }
            }
            @if !d.children.is_empty() {
                h3 { "Children" }
                ul.children {
                    @for c in &d.children {
                        li {
                            @if c.indexed { a.digest href=(image_href(&c.digest)) { (c.digest) } }
                            @else { span.digest { (c.digest) } " (not indexed)" }
                            " "
                            @if c.attestation { "attestation" } @else { (c.platform.as_deref().unwrap_or("-")) }
                        }
                    }
                }
            }
            (referrers(img))
            (map_table("Labels", "labels", &d.labels))
            (map_table("Annotations", "annotations", &d.annotations))
        }
    }
}

/// Referrers as `show --format json` carries them (`referrers: [{digest,
/// artifact_type, annotations}]`), read from the JSON so this page follows
/// the answer as it grows.
fn referrers(img: &ShowImage) -> Markup {
    let v = serde_json::to_value(img).unwrap_or_default();
    let list = v
        .get("referrers")
        .and_then(|r| r.as_array())
        .cloned()
        .unwrap_or_default();
    let s = |r: &serde_json::Value, k: &str| {
        r.get(k).and_then(|x| x.as_str()).unwrap_or("-").to_string()
    };
    html! {
        @if !list.is_empty() {
            h3 { "Referrers" }
            table.referrers {
                thead { tr { th { "Digest" } th { "Artifact type" } } }
                tbody {
                    @for r in &list {
                        tr { td.digest { (s(r, "digest")) } td { (s(r, "artifact_type")) } }
                    }
                }
            }
        }
    }
}

fn map_table(title: &str, class: &str, map: &BTreeMap<String, String>) -> Markup {
    html! {
        @if !map.is_empty() {
            h3 { (title) }
            table class=(class) {
                tbody {
                    @for (k, v) in map { tr { td { code { (k) } } td { (v) } } }
                }
            }
        }
    }
}
