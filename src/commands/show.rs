//! `acr-index show <ref>`: everything known about one image, its tags and
//! their history, its index or children, and the links its labels give.

use crate::cli::{ShowArgs, ShowFormat};
use crate::links::{self, Provenance};
use crate::oci::{ImageRef, RefTarget};
use crate::store::{ImageDetail, ResolvedBy, Store, TagEntry};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, serde::Serialize)]
pub struct ShowOutput {
    pub reference: String,
    pub resolved_by: ResolvedBy,
    /// For a tag reference: every digest the tag has pointed at, oldest first.
    pub tag_history: Vec<TagEntry>,
    pub images: Vec<ShowImage>,
}

#[derive(Debug, serde::Serialize)]
pub struct ShowImage {
    #[serde(flatten)]
    pub detail: ImageDetail,
    pub provenance: Provenance,
    pub base_image: Option<BaseImage>,
    /// What refers to it or to an index holding it, in any repository.
    pub referrers: Vec<crate::store::ReferrerEntry>,
}

#[derive(Debug, serde::Serialize)]
pub struct BaseImage {
    pub name: Option<String>,
    pub digest: Option<String>,
    /// The base image's digest is in this database.
    pub indexed: bool,
    /// Where the index has it now (`registry/repository:tag`).
    pub tags: Vec<String>,
}

/// Resolve a parsed reference: a digest as manifest, index or config
/// digest; a tag to what it points at now (or last, when removed).
pub fn resolve(
    store: &Store,
    r: &ImageRef,
) -> anyhow::Result<Option<(ResolvedBy, Vec<ImageDetail>)>> {
    match &r.target {
        RefTarget::Digest(d) => Ok(store.resolve_digest(d.as_str())?),
        RefTarget::Tag(tag) => {
            let repo = r.repository.as_deref().unwrap_or_default();
            let mut images: Vec<ImageDetail> = Vec::new();
            for digest in store.resolve_tag(r.registry.as_deref(), repo, tag)? {
                if let Some((_, found)) = store.resolve_digest(&digest)? {
                    for f in found {
                        if !images.iter().any(|i| i.digest == f.digest) {
                            images.push(f);
                        }
                    }
                }
            }
            Ok((!images.is_empty()).then_some((ResolvedBy::Tag, images)))
        }
    }
}

/// Provenance of one manifest: its labels, then its annotations, then the
/// annotations of the index that holds it.
pub fn provenance_of(d: &ImageDetail) -> Provenance {
    let from_index = d
        .indexes
        .first()
        .map(|p| p.annotations.clone())
        .unwrap_or_default();
    links::derive(&links::merged(&d.labels, &d.annotations, &from_index))
}

/// The image and the indexes that hold it: signatures are usually made on the index.
pub fn referrer_subjects(d: &ImageDetail) -> Vec<&str> {
    std::iter::once(d.digest.as_str())
        .chain(d.indexes.iter().map(|i| i.digest.as_str()))
        .collect()
}

fn base_image(store: &Store, p: &Provenance) -> anyhow::Result<Option<BaseImage>> {
    if p.base_name.is_none() && p.base_digest.is_none() {
        return Ok(None);
    }
    let (indexed, tags) = match &p.base_digest {
        Some(d) if store.has_manifest(d)? => {
            let tags = store
                .tags_of(d)?
                .into_iter()
                .filter(|t| t.current)
                .map(|t| format!("{}/{}:{}", t.registry, t.repository, t.tag))
                .collect();
            (true, tags)
        }
        _ => (false, Vec::new()),
    };
    Ok(Some(BaseImage {
        name: p.base_name.clone(),
        digest: p.base_digest.clone(),
        indexed,
        tags,
    }))
}

pub fn run(db: &Path, args: ShowArgs) -> anyhow::Result<ExitCode> {
    let reference = ImageRef::parse(&args.reference).map_err(crate::config::UsageError)?;
    let store = Store::open_ro(db)?;
    let Some((resolved_by, details)) = resolve(&store, &reference)? else {
        anyhow::bail!("no image matches {} in {}", args.reference, db.display());
    };
    let mut images = Vec::new();
    for detail in details {
        let provenance = provenance_of(&detail);
        let base_image = base_image(&store, &provenance)?;
        let referrers = store.referrers_of(&referrer_subjects(&detail), None)?;
        images.push(ShowImage {
            detail,
            provenance,
            base_image,
            referrers,
        });
    }
    let tag_history = match (&reference.target, &reference.repository) {
        (RefTarget::Tag(tag), Some(repo)) => {
            store.tag_history(reference.registry.as_deref(), repo, tag)?
        }
        _ => Vec::new(),
    };
    let output = ShowOutput {
        reference: args.reference.clone(),
        resolved_by,
        tag_history,
        images,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        ShowFormat::Json => crate::output::json(&mut out, &output)?,
        ShowFormat::Text => write_text(&mut out, &output)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn field(out: &mut dyn Write, name: &str, value: Option<&str>) -> std::io::Result<()> {
    match value {
        Some(v) => writeln!(out, "  {name:<13}{}", v.escape_debug()),
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
    let w = map.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    for (k, v) in map {
        writeln!(out, "  {k:<w$}  {}", v.escape_debug())?;
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
    let p = &img.provenance;
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
