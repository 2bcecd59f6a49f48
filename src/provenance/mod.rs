//! Provenance: the commit, branch and build an image came from, derived by
//! one pure function from every place an image carries it (SPEC.md,
//! "Provenance"). The store calls [`derive`] when it writes a manifest and
//! keeps the answer; every command reads what it kept, none re-derives.

pub mod labels;
pub mod links;
pub mod slsa;

pub use slsa::Statement;

use std::collections::BTreeMap;

/// Where the commit came from, in SPEC order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    Label,
    ManifestAnnotation,
    DescriptorAnnotation,
    IndexAnnotation,
    Attestation,
    Referrer,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Label => "label",
            Origin::ManifestAnnotation => "manifest-annotation",
            Origin::DescriptorAnnotation => "descriptor-annotation",
            Origin::IndexAnnotation => "index-annotation",
            Origin::Attestation => "attestation",
            Origin::Referrer => "referrer",
        }
    }

    pub fn parse(s: &str) -> Option<Origin> {
        [
            Origin::Label,
            Origin::ManifestAnnotation,
            Origin::DescriptorAnnotation,
            Origin::IndexAnnotation,
            Origin::Attestation,
            Origin::Referrer,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// The provenance object of SPEC.md: every key present, null when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Provenance {
    pub commit: Option<String>,
    pub commit_url: Option<String>,
    pub branch: Option<String>,
    pub build_number: Option<String>,
    pub build_id: Option<String>,
    /// `builduri` as the label gives it (`vstfs:///Build/Build/<id>`).
    pub build_uri: Option<String>,
    pub build_url: Option<String>,
    /// The repository URL, without `.git` and without a `#ref:dir` fragment.
    pub source: Option<String>,
    pub base_name: Option<String>,
    pub base_digest: Option<String>,
    /// The forge the commit link points at (`azure-devops`, `github`,
    /// `gitlab`), else the key family the commit came from (`oci`,
    /// `label-schema`, `openshift`, `buildkit`).
    pub family: Option<String>,
    pub origin: Option<Origin>,
}

impl Provenance {
    /// The build as one short value: its number, else its URI, else its URL.
    pub fn build(&self) -> Option<&str> {
        self.build_number
            .as_deref()
            .or(self.build_uri.as_deref())
            .or(self.build_url.as_deref())
    }

    pub fn is_empty(&self) -> bool {
        self == &Provenance::default()
    }
}

/// What one source (one key family of one map, or one statement) says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Partial {
    pub family: Option<&'static str>,
    pub commit: Option<String>,
    /// As written (a clone URL, a `#ref:dir` form); normalised at the end.
    pub source: Option<String>,
    pub branch: Option<String>,
    pub build_number: Option<String>,
    pub build_id: Option<String>,
    pub build_uri: Option<String>,
    pub build_url: Option<String>,
    pub base_name: Option<String>,
    pub base_digest: Option<String>,
}

impl Partial {
    fn is_empty(&self) -> bool {
        Partial {
            family: None,
            ..self.clone()
        } == Partial::default()
    }

    fn has_build(&self) -> bool {
        self.build_number.is_some() || self.build_uri.is_some() || self.build_url.is_some()
    }
}

/// Every place an image carries provenance, in SPEC order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sources<'a> {
    /// 1. the image config's labels
    pub labels: Option<&'a BTreeMap<String, String>>,
    /// 2. the manifest's annotations
    pub manifest_annotations: Option<&'a BTreeMap<String, String>>,
    /// 3. the annotations of the descriptor naming the manifest in its index
    pub descriptor_annotations: Option<&'a BTreeMap<String, String>>,
    /// 4. the index's own annotations
    pub index_annotations: Option<&'a BTreeMap<String, String>>,
    /// 5. SLSA provenance statements: BuildKit attestations, then referrers.
    pub statements: &'a [Statement],
}

/// Every partial, with its origin, in order of preference.
fn partials(s: &Sources) -> Vec<(Origin, Partial)> {
    let mut out = Vec::new();
    for (origin, map) in [
        (Origin::Label, s.labels),
        (Origin::ManifestAnnotation, s.manifest_annotations),
        (Origin::DescriptorAnnotation, s.descriptor_annotations),
        (Origin::IndexAnnotation, s.index_annotations),
    ] {
        if let Some(map) = map {
            out.extend(labels::families(map).into_iter().map(|p| (origin, p)));
        }
    }
    let mut statements: Vec<&Statement> = s.statements.iter().collect();
    statements.sort_by_key(|st| st.origin);
    out.extend(
        statements
            .into_iter()
            .map(|st| (st.origin, slsa::partial(st))),
    );
    out
}

/// The one derivation: the first source that gives a commit wins the
/// commit (and its own source and family); the others fill the gaps. The
/// build fields come together from the first source that names a build.
pub fn derive(s: &Sources) -> Provenance {
    let parts = partials(s);
    let winner = parts.iter().find(|(_, p)| p.commit.is_some());
    let first = |f: fn(&Partial) -> Option<&String>| -> Option<String> {
        parts.iter().find_map(|(_, p)| f(p)).cloned()
    };
    let mut out = Provenance {
        branch: winner
            .and_then(|(_, p)| p.branch.clone())
            .or_else(|| first(|p| p.branch.as_ref())),
        ..Provenance::default()
    };
    if let Some((_, b)) = parts.iter().find(|(_, p)| p.has_build()) {
        out.build_number = b.build_number.clone();
        out.build_id = b.build_id.clone();
        out.build_uri = b.build_uri.clone();
        out.build_url = b.build_url.clone();
    }
    if let Some((_, b)) = parts
        .iter()
        .find(|(_, p)| p.base_name.is_some() || p.base_digest.is_some())
    {
        out.base_name = b.base_name.clone();
        out.base_digest = b.base_digest.clone();
    }
    let raw_source = winner
        .and_then(|(_, p)| p.source.clone())
        .or_else(|| first(|p| p.source.as_ref()));
    out.source = raw_source.as_deref().and_then(links::source);
    if let Some((origin, p)) = winner {
        out.commit = p.commit.clone();
        out.origin = Some(*origin);
        let link = raw_source
            .as_deref()
            .zip(out.commit.as_deref())
            .and_then(|(src, sha)| links::commit_link(src, sha));
        match link {
            Some((family, url)) => {
                out.family = Some(family.to_string());
                out.commit_url = Some(url);
            }
            None => out.family = p.family.map(str::to_string),
        }
    }
    out
}

#[cfg(test)]
mod tests;
