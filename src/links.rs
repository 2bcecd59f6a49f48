//! Provenance derived from labels and annotations: the commit, branch and
//! build an image came from, links to them, and its base image. Pure: no
//! I/O, no store; callers pass the merged label and annotation maps.

use std::collections::BTreeMap;

/// What the labels say about where an image came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Provenance {
    /// `azure-devops`, `github`, `gitlab` or `oci` (a source and revision
    /// on an unknown host): where the commit link points.
    pub family: Option<&'static str>,
    /// The commit SHA.
    pub commit: Option<String>,
    pub commit_url: Option<String>,
    pub branch: Option<String>,
    pub build_number: Option<String>,
    pub build_id: Option<String>,
    /// `builduri` as the label gives it (`vstfs:///Build/Build/<id>`).
    pub build_uri: Option<String>,
    pub build_url: Option<String>,
    /// The source repository URL.
    pub source: Option<String>,
    pub base_name: Option<String>,
    pub base_digest: Option<String>,
}

impl Provenance {
    /// The build as one short value: its number, else its URI.
    pub fn build(&self) -> Option<&str> {
        self.build_number.as_deref().or(self.build_uri.as_deref())
    }
}

/// The Azure DevOps label prefixes present (`com.visualstudio.<org>.image.`
/// and `com.azure.dev.image.`), in key order.
fn azure_prefixes(map: &BTreeMap<String, String>) -> Vec<&str> {
    map.keys()
        .filter_map(|k| {
            let prefix = k
                .strip_suffix("build.sourceversion")
                .or_else(|| k.strip_suffix("build.builduri"))?;
            let azure = prefix == "com.azure.dev.image."
                || (prefix.starts_with("com.visualstudio.") && prefix.ends_with(".image."));
            azure.then_some(prefix)
        })
        .fold(Vec::new(), |mut v, p| {
            if !v.contains(&p) {
                v.push(p);
            }
            v
        })
}

fn nonempty(map: &BTreeMap<String, String>, key: &str) -> Option<String> {
    map.get(key)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// `vstfs:///Build/Build/127294` -> `127294`.
pub fn build_id(builduri: &str) -> Option<String> {
    let id = builduri.trim().rsplit('/').next()?;
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then(|| id.to_string())
}

/// `refs/heads/feature/x` -> `feature/x`.
pub fn branch_name(s: &str) -> String {
    s.strip_prefix("refs/heads/").unwrap_or(s).to_string()
}

fn encode_segment(s: &str) -> String {
    s.replace('%', "%25")
        .replace(' ', "%20")
        .replace('#', "%23")
}

/// A clone URL as a browsable https URL: no trailing `.git` or `/`, and
/// `git@host:org/repo` rewritten.
pub fn web_url(source: &str) -> String {
    let s = source.trim().trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    if let Some(rest) = s.strip_prefix("git@") {
        if let Some((host, path)) = rest.split_once(':') {
            return format!("https://{host}/{path}");
        }
    }
    if let Some(rest) = s.strip_prefix("git+") {
        return rest.to_string();
    }
    s.to_string()
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host = rest.split('/').next().unwrap_or("");
    host.rsplit('@').next().unwrap_or(host)
}

/// The commit link on the forge that hosts `source`.
pub fn commit_link(source: &str, sha: &str) -> Option<(&'static str, String)> {
    let base = web_url(source);
    let host = host_of(&base).to_ascii_lowercase();
    if !base.starts_with("https://") && !base.starts_with("http://") {
        return None;
    }
    if host == "github.com" || host.ends_with(".github.com") || host.contains("github") {
        Some(("github", format!("{base}/commit/{sha}")))
    } else if host.contains("gitlab") {
        Some(("gitlab", format!("{base}/-/commit/{sha}")))
    } else if base.contains("/_git/") {
        Some(("azure-devops", format!("{base}/commit/{sha}")))
    } else {
        None
    }
}

/// Everything derivable from one image's labels and annotations (merged by
/// the caller; labels should win over annotations).
pub fn derive(map: &BTreeMap<String, String>) -> Provenance {
    let mut p = Provenance::default();
    for prefix in azure_prefixes(map) {
        let get = |suffix: &str| nonempty(map, &format!("{prefix}{suffix}"));
        let sha = get("build.sourceversion");
        let repo = get("build.repository.uri");
        if p.commit.is_none() {
            if let (Some(sha), Some(repo)) = (&sha, &repo) {
                p.commit_url = Some(format!("{}/commit/{sha}", repo.trim_end_matches('/')));
                p.family = Some("azure-devops");
            }
            p.commit = sha;
            p.source = p.source.take().or(repo);
        }
        if p.branch.is_none() {
            p.branch = get("build.sourcebranchname")
                .or_else(|| get("build.sourcebranch").map(|b| branch_name(&b)));
        }
        if p.build_uri.is_none() {
            p.build_number = get("build.buildnumber");
            p.build_uri = get("build.builduri");
            p.build_id = p.build_uri.as_deref().and_then(build_id);
            let collection = get("system.teamfoundationcollectionuri");
            let project = get("system.teamproject");
            if let (Some(c), Some(proj), Some(id)) = (collection, project, &p.build_id) {
                let c = c.trim_end_matches('/');
                p.build_url = Some(format!(
                    "{c}/{}/_build/results?buildId={id}",
                    encode_segment(&proj)
                ));
            }
        }
    }
    let source = nonempty(map, "org.opencontainers.image.source");
    let revision = nonempty(map, "org.opencontainers.image.revision");
    if p.commit.is_none() {
        p.commit = revision.clone();
    }
    if p.commit_url.is_none() {
        if let (Some(src), Some(rev)) = (&source, &p.commit) {
            if let Some((family, url)) = commit_link(src, rev) {
                p.family = Some(family);
                p.commit_url = Some(url);
            } else {
                p.family = Some("oci");
            }
        }
    }
    if p.source.is_none() {
        p.source = source.map(|s| web_url(&s));
    }
    p.base_name = nonempty(map, "image.base.ref.name")
        .or_else(|| nonempty(map, "org.opencontainers.image.base.name"));
    p.base_digest = nonempty(map, "image.base.digest")
        .or_else(|| nonempty(map, "org.opencontainers.image.base.digest"));
    p
}

/// Labels over annotations over `fallback` (an index's annotations).
pub fn merged(
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    fallback: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut m = fallback.clone();
    m.extend(annotations.iter().map(|(k, v)| (k.clone(), v.clone())));
    m.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn azure_visualstudio_family() {
        let p = derive(&map(&[
            (
                "com.visualstudio.myorg.image.build.buildnumber",
                "20231121.1",
            ),
            (
                "com.visualstudio.myorg.image.build.builduri",
                "vstfs:///Build/Build/127294",
            ),
            (
                "com.visualstudio.myorg.image.build.repository.uri",
                "https://myorg.visualstudio.com/myproj/_git/myrepo",
            ),
            (
                "com.visualstudio.myorg.image.build.sourcebranchname",
                "add-containerization",
            ),
            (
                "com.visualstudio.myorg.image.build.sourceversion",
                "13c0f2b5a2ab438dd9dab2a669fef68b61f18bed",
            ),
            (
                "com.visualstudio.myorg.image.system.teamfoundationcollectionuri",
                "https://myorg.visualstudio.com/",
            ),
            ("com.visualstudio.myorg.image.system.teamproject", "myproj"),
            ("image.base.digest", "sha256:9ca0"),
            ("image.base.ref.name", "mcr.microsoft.com/dotnet/aspnet:7.0"),
        ]));
        assert_eq!(p.family, Some("azure-devops"));
        assert_eq!(
            p.commit_url.as_deref(),
            Some("https://myorg.visualstudio.com/myproj/_git/myrepo/commit/13c0f2b5a2ab438dd9dab2a669fef68b61f18bed")
        );
        assert_eq!(
            p.build_url.as_deref(),
            Some("https://myorg.visualstudio.com/myproj/_build/results?buildId=127294")
        );
        assert_eq!(p.branch.as_deref(), Some("add-containerization"));
        assert_eq!(p.build(), Some("20231121.1"));
        assert_eq!(
            p.base_name.as_deref(),
            Some("mcr.microsoft.com/dotnet/aspnet:7.0")
        );
        assert_eq!(p.base_digest.as_deref(), Some("sha256:9ca0"));
    }

    #[test]
    fn azure_dev_family_with_full_branch_ref() {
        let p = derive(&map(&[
            (
                "com.azure.dev.image.build.builduri",
                "vstfs:///Build/Build/42",
            ),
            (
                "com.azure.dev.image.build.repository.uri",
                "https://dev.azure.com/org/My Project/_git/web/",
            ),
            (
                "com.azure.dev.image.build.sourcebranch",
                "refs/heads/feature/x",
            ),
            ("com.azure.dev.image.build.sourceversion", "abc123"),
            (
                "com.azure.dev.image.system.teamfoundationcollectionuri",
                "https://dev.azure.com/org/",
            ),
            ("com.azure.dev.image.system.teamproject", "My Project"),
        ]));
        assert_eq!(
            p.commit_url.as_deref(),
            Some("https://dev.azure.com/org/My Project/_git/web/commit/abc123")
        );
        assert_eq!(
            p.build_url.as_deref(),
            Some("https://dev.azure.com/org/My%20Project/_build/results?buildId=42")
        );
        assert_eq!(p.branch.as_deref(), Some("feature/x"));
        assert_eq!(p.build(), Some("vstfs:///Build/Build/42"));
        assert_eq!(p.build_id.as_deref(), Some("42"));
    }

    #[test]
    fn github_gitlab_and_unknown_forges() {
        let oci = |src: &str| {
            derive(&map(&[
                ("org.opencontainers.image.source", src),
                ("org.opencontainers.image.revision", "deadbeef"),
            ]))
        };
        let p = oci("https://github.com/acme/tool.git");
        assert_eq!(p.family, Some("github"));
        assert_eq!(
            p.commit_url.as_deref(),
            Some("https://github.com/acme/tool/commit/deadbeef")
        );
        assert_eq!(p.source.as_deref(), Some("https://github.com/acme/tool"));
        let p = oci("git@gitlab.example.com:group/sub/proj.git");
        assert_eq!(p.family, Some("gitlab"));
        assert_eq!(
            p.commit_url.as_deref(),
            Some("https://gitlab.example.com/group/sub/proj/-/commit/deadbeef")
        );
        let p = oci("https://git.example.org/x");
        assert_eq!((p.family, p.commit_url), (Some("oci"), None));
        assert_eq!(p.commit.as_deref(), Some("deadbeef"));
    }

    #[test]
    fn build_ids_and_branches() {
        assert_eq!(build_id("vstfs:///Build/Build/7").as_deref(), Some("7"));
        assert_eq!(build_id("vstfs:///Build/Build/"), None);
        assert_eq!(build_id("nonsense x"), None);
        assert_eq!(branch_name("refs/heads/main"), "main");
        assert_eq!(branch_name("refs/pull/1/merge"), "refs/pull/1/merge");
    }

    #[test]
    fn labels_win_over_annotations_over_index() {
        let m = merged(
            &map(&[("a", "label")]),
            &map(&[("a", "ann"), ("b", "ann")]),
            &map(&[("b", "idx"), ("c", "idx")]),
        );
        assert_eq!(m, map(&[("a", "label"), ("b", "ann"), ("c", "idx")]));
    }

    #[test]
    fn nothing_known() {
        assert_eq!(derive(&BTreeMap::new()), Provenance::default());
    }
}
