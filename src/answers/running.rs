//! `running`: which commit, branch and build each container in
//! `kubectl get pods -A -o json` runs.

use super::image::{provenance_of, resolve};
use crate::oci::{ImageRef, RefTarget};
use crate::store::{ImageDetail, Store};
use serde_json::Value;

/// The document is not a pod list.
#[derive(Debug, thiserror::Error)]
#[error("expected the output of `kubectl get pods -A -o json` (a List with items)")]
pub struct NotPods;

/// What `running --format json` prints and `POST /api/v1/running` returns:
/// one row per container (from `containers`), with its provenance.
pub fn rows(store: &Store, containers: &[Container]) -> anyhow::Result<Vec<RunningRow>> {
    containers.iter().map(|c| lookup(store, c)).collect()
}

/// One container as the pod list reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub namespace: String,
    pub pod: String,
    pub name: String,
    /// `init`, `ephemeral` or empty for an ordinary container.
    pub kind: &'static str,
    pub image: String,
    /// As the runtime reports it; empty when not pulled yet.
    pub image_id: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunningRow {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub image: String,
    /// The digest from imageID, else the manifest the image reference resolved to.
    pub digest: Option<String>,
    pub known: bool,
    pub registry: Option<String>,
    pub repository: Option<String>,
    pub tag: Option<String>,
    /// The manifest the provenance comes from (a platform child for an index).
    pub manifest: Option<String>,
    pub commit: Option<String>,
    pub commit_url: Option<String>,
    pub branch: Option<String>,
    pub build: Option<String>,
    pub build_url: Option<String>,
    /// The provenance object every JSON output carries (SPEC.md).
    pub provenance: crate::provenance::Provenance,
    /// A signature refers to the image (or its index); null when not indexed.
    pub signed: Option<bool>,
    pub referrers: Vec<crate::store::ReferrerEntry>,
}

fn s(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// The containers of a pod List (or of a single Pod), with init and
/// ephemeral containers; spec containers without a status yet are listed
/// with an empty imageID.
pub fn containers(doc: &Value) -> Result<Vec<Container>, NotPods> {
    let pods: Vec<&Value> = match doc.get("items").and_then(Value::as_array) {
        Some(items) => items.iter().collect(),
        None if doc.get("kind").and_then(Value::as_str) == Some("Pod") => vec![doc],
        None => return Err(NotPods),
    };
    let mut out = Vec::new();
    for pod in pods {
        let meta = pod.get("metadata").cloned().unwrap_or(Value::Null);
        let (namespace, name) = (s(&meta, "namespace"), s(&meta, "name"));
        let status = pod.get("status").cloned().unwrap_or(Value::Null);
        let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
        for (statuses, specs, kind) in [
            ("initContainerStatuses", "initContainers", "init"),
            ("containerStatuses", "containers", ""),
            (
                "ephemeralContainerStatuses",
                "ephemeralContainers",
                "ephemeral",
            ),
        ] {
            let reported: &[Value] = status
                .get(statuses)
                .and_then(Value::as_array)
                .map_or(&[], |v| v);
            for c in reported {
                out.push(Container {
                    namespace: namespace.clone(),
                    pod: name.clone(),
                    name: s(c, "name"),
                    kind,
                    image: s(c, "image"),
                    image_id: s(c, "imageID"),
                });
            }
            let declared: &[Value] = spec.get(specs).and_then(Value::as_array).map_or(&[], |v| v);
            for c in declared {
                let n = s(c, "name");
                if !reported.iter().any(|r| s(r, "name") == n) {
                    out.push(Container {
                        namespace: namespace.clone(),
                        pod: name.clone(),
                        name: n,
                        kind,
                        image: s(c, "image"),
                        image_id: String::new(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The manifest to read provenance from: the image itself, or for an
/// index its linux/amd64 child, else its first platform child.
fn primary(images: &[ImageDetail]) -> Option<&ImageDetail> {
    let platform = |d: &&ImageDetail| d.kind != "index" && !d.indexes.iter().all(|i| i.attestation);
    images
        .iter()
        .find(|d| d.kind != "index" && d.indexes.is_empty())
        .or_else(|| {
            images
                .iter()
                .filter(platform)
                .find(|d| d.platform.as_deref() == Some("linux/amd64"))
        })
        .or_else(|| images.iter().find(platform))
        .or_else(|| images.first())
}

fn lookup(store: &Store, c: &Container) -> anyhow::Result<RunningRow> {
    let mut row = RunningRow {
        namespace: c.namespace.clone(),
        pod: c.pod.clone(),
        container: match c.kind {
            "" => c.name.clone(),
            kind => format!("{} ({kind})", c.name),
        },
        image: c.image.clone(),
        digest: None,
        known: false,
        registry: None,
        repository: None,
        tag: None,
        manifest: None,
        commit: None,
        commit_url: None,
        branch: None,
        build: None,
        build_url: None,
        provenance: Default::default(),
        signed: None,
        referrers: Vec::new(),
    };
    // Some runtimes report the digest as bare hex, and people paste the
    // 12-digit prefix tables print: a unique prefix resolves; an ambiguous
    // or unknown one leaves the container unresolved by its imageID (the
    // image reference is still tried) rather than failing the whole list.
    let image_id = match super::reference::parse(&c.image_id) {
        Ok(Some(super::reference::DigestArg::Full(d))) => d,
        Ok(Some(arg)) => super::reference::unique(store, &arg)
            .ok()
            .flatten()
            .unwrap_or_else(|| c.image_id.clone()),
        _ => c.image_id.clone(),
    };
    let by_id = ImageRef::parse(&image_id).ok();
    let by_image = ImageRef::parse(&c.image).ok();
    if let Some(RefTarget::Digest(d)) = by_id.as_ref().map(|r| &r.target) {
        row.digest = Some(d.to_string());
    }
    let mut found = None;
    for r in [&by_id, &by_image].into_iter().flatten() {
        if let Some((_, images)) = resolve(store, r)? {
            found = Some(images);
            break;
        }
    }
    let Some(images) = found else { return Ok(row) };
    let Some(img) = primary(&images) else {
        return Ok(row);
    };
    row.known = true;
    if row.digest.is_none() {
        row.digest = images.first().map(|i| i.digest.clone());
    }
    let tag = pick_tag(img, by_id.as_ref(), by_image.as_ref());
    if let Some(t) = tag {
        row.registry = Some(t.registry.clone());
        row.repository = Some(t.repository.clone());
        row.tag = Some(t.tag.clone());
    }
    let subjects = super::referrers::subjects(img);
    let repo = row.registry.as_deref().zip(row.repository.as_deref());
    row.referrers = store.referrers_of(&subjects, repo)?;
    row.signed = Some(super::referrers::signed(&row.referrers, &subjects));
    let p = provenance_of(img);
    row.provenance = p.clone();
    row.manifest = Some(img.digest.clone());
    row.build = p.build().map(str::to_string);
    row.commit = p.commit;
    row.commit_url = p.commit_url;
    row.branch = p.branch;
    row.build_url = p.build_url;
    Ok(row)
}

/// The tag to report: the image's own repository and tag; else, when the
/// digest lives in several repositories, the one the runtime's imageID
/// names (what was pulled), then the image's; else any current tag.
fn pick_tag<'a>(
    img: &'a ImageDetail,
    by_id: Option<&ImageRef>,
    by_image: Option<&ImageRef>,
) -> Option<&'a crate::store::TagEntry> {
    let repo_of = |r: Option<&ImageRef>| r.and_then(|r| r.repository.clone());
    let tag_of = |r: Option<&ImageRef>| match r.map(|r| &r.target) {
        Some(RefTarget::Tag(t)) => Some(t.clone()),
        _ => None,
    };
    let (id_repo, image_repo, image_tag) = (repo_of(by_id), repo_of(by_image), tag_of(by_image));
    let current = || img.tags.iter().filter(|t| t.current);
    let is = |t: &crate::store::TagEntry, repo: &Option<String>, tag: &Option<String>| {
        repo.as_deref() == Some(t.repository.as_str())
            && tag.as_ref().is_none_or(|want| *want == t.tag)
    };
    let agree = id_repo.is_none() || id_repo == image_repo;
    current()
        .find(|t| agree && is(t, &image_repo, &image_tag))
        .or_else(|| current().find(|t| is(t, &id_repo, &image_tag)))
        .or_else(|| current().find(|t| is(t, &id_repo, &None)))
        .or_else(|| current().find(|t| is(t, &image_repo, &image_tag)))
        .or_else(|| current().find(|t| is(t, &image_repo, &None)))
        .or_else(|| current().next())
        .or_else(|| img.tags.first())
}
