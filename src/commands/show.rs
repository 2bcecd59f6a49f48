//! `acr-index show <ref>`: everything known about one image, its tags and
//! their history, its index or children, and the links its labels give.

use crate::answers::image::{self, ShowImage, ShowOutput};
use crate::answers::reference;
use crate::cli::{ShowArgs, ShowFormat};
use crate::oci::ImageRef;
use crate::output::escape::{control, SafeText};
use crate::provenance::Provenance;
use crate::store::{ResolvedBy, Store};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run(db: &Path, args: ShowArgs) -> anyhow::Result<ExitCode> {
    // A reference that does not parse is bad usage before the database is opened.
    if reference::parse(&args.reference)?.is_none() {
        ImageRef::parse(&args.reference).map_err(crate::config::UsageError)?;
    }
    let store = Store::open_ro(db)?;
    if reference::implied_latest(&args.reference) {
        crate::logging::note(&format!(
            "no tag given: showing {}:latest",
            args.reference.trim()
        ));
    }
    let Some(output) = image::show(&store, &args.reference)? else {
        anyhow::bail!("no image matches {} in {}", args.reference, db.display());
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        ShowFormat::Json => crate::output::json(&mut out, &output)?,
        ShowFormat::Table => write_text(&mut SafeText::new(&mut out), &output)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn field(out: &mut dyn Write, name: &str, value: Option<&str>) -> std::io::Result<()> {
    match value {
        Some(v) => writeln!(out, "  {name:<13}{}", control(v)),
        None => Ok(()),
    }
}

fn map_section(
    out: &mut dyn Write,
    title: &str,
    map: &BTreeMap<String, String>,
) -> std::io::Result<()> {
    if map.is_empty() {
        return Ok(());
    }
    writeln!(out, "{title}")?;
    let w = map
        .keys()
        .map(|k| control(k).chars().count())
        .max()
        .unwrap_or(0);
    for (k, v) in map {
        let k = control(k);
        writeln!(out, "  {k:<w$}  {}", control(v))?;
    }
    Ok(())
}

pub fn write_text(out: &mut dyn Write, o: &ShowOutput) -> std::io::Result<()> {
    let how = match o.resolved_by {
        ResolvedBy::Digest => "manifest digest",
        ResolvedBy::ConfigDigest => "config digest",
        ResolvedBy::Tag => "tag",
    };
    writeln!(
        out,
        "{} matches {} manifest(s) by {how}",
        o.reference,
        o.images.len()
    )?;
    if o.tag_history.len() > 1 {
        writeln!(out, "\ntag history")?;
        for t in &o.tag_history {
            let until = t.removed_at.as_deref().unwrap_or("now");
            writeln!(
                out,
                "  {}/{}:{}  {}  {} .. {until}",
                t.registry, t.repository, t.tag, t.digest, t.first_seen
            )?;
        }
    }
    for img in &o.images {
        write_image(out, img)?;
    }
    Ok(())
}

fn write_image(out: &mut dyn Write, img: &ShowImage) -> std::io::Result<()> {
    let d = &img.detail;
    let p = &img.detail.provenance;
    writeln!(out, "\n{} ({})", d.digest, d.kind)?;
    field(out, "media type", Some(&d.media_type))?;
    if d.status != "ok" {
        field(out, "status", Some(&d.status))?;
    }
    field(out, "artifact", d.artifact_type.as_deref())?;
    field(out, "platform", d.platform.as_deref())?;
    field(out, "os version", d.os_version.as_deref())?;
    field(out, "created", d.created.as_deref())?;
    field(out, "config", d.config_digest.as_deref())?;
    field(out, "size", Some(&d.size.to_string()))?;
    field(out, "indexed at", Some(&d.indexed_at))?;

    if p != &Provenance::default() {
        writeln!(out, "provenance")?;
        let with_link = |v: Option<&str>, link: Option<&str>| match (v, link) {
            (Some(v), Some(l)) => Some(format!("{v}  {l}")),
            (None, Some(l)) => Some(l.to_string()),
            (v, None) => v.map(str::to_string),
        };
        field(
            out,
            "commit",
            with_link(p.commit.as_deref(), p.commit_url.as_deref()).as_deref(),
        )?;
        field(out, "branch", p.branch.as_deref())?;
        field(
            out,
            "build",
            with_link(p.build(), p.build_url.as_deref()).as_deref(),
        )?;
        field(out, "source", p.source.as_deref())?;
        field(out, "from", p.origin.map(|o| o.as_str()))?;
    }
    if let Some(b) = &img.base_image {
        let mut s = [b.name.as_deref(), b.digest.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" @ ");
        if b.indexed {
            s.push_str("  (indexed");
            if !b.tags.is_empty() {
                s.push_str(&format!(": {}", b.tags.join(", ")));
            }
            s.push(')');
        }
        field(out, "base image", Some(&s))?;
    }
    if !d.tags.is_empty() {
        writeln!(out, "tags")?;
        let names: Vec<String> = d
            .tags
            .iter()
            .map(|t| format!("{}/{}:{}", t.registry, t.repository, t.tag))
            .collect();
        let w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        for (t, name) in d.tags.iter().zip(&names) {
            let state = match &t.removed_at {
                None => "current".to_string(),
                Some(at) => format!("until {at}"),
            };
            let via = if t.via_index {
                format!(" via index {}", t.digest)
            } else {
                String::new()
            };
            writeln!(
                out,
                "  {name:<w$}  {state}, first seen {}, last seen {}{via}",
                t.first_seen, t.last_seen
            )?;
        }
    }
    if !d.indexes.is_empty() {
        writeln!(out, "in index")?;
        for i in &d.indexes {
            let what = if i.attestation {
                "attestation".to_string()
            } else {
                i.platform.clone().unwrap_or_else(|| "-".into())
            };
            writeln!(out, "  {}  as {what}", i.digest)?;
        }
    }
    if !d.children.is_empty() {
        writeln!(out, "children")?;
        for c in &d.children {
            let what = if c.attestation {
                "attestation".to_string()
            } else {
                c.platform.clone().unwrap_or_else(|| "-".into())
            };
            let known = if c.indexed { "" } else { "  (not indexed)" };
            writeln!(out, "  {}  {what}{known}", c.digest)?;
        }
    }
    map_section(out, "labels", &d.labels)?;
    map_section(out, "annotations", &d.annotations)?;
    crate::output::referrers::write(out, &img.referrers, &d.digest)?;
    Ok(())
}
