//! Links built from what an image says about its source: only http(s)
//! URLs, normalised and percent-encoded by one parser (the `url` crate) so
//! every link encodes a path segment the same way.

use url::Url;

/// A repository URL as a browsable http(s) URL: `git@host:org/repo` and
/// `ssh://git@host/org/repo` rewritten to https, `git+https://` unwrapped,
/// the `#ref:dir` fragment (Docker Official Images, BuildKit contexts),
/// query, credentials, trailing `/` and `.git` dropped. None for any other
/// scheme (`javascript:`, `file:`, plain words): no link is made from it.
pub fn source_url(raw: &str) -> Option<Url> {
    let s = raw.trim();
    let s = s.strip_prefix("git+").unwrap_or(s);
    let rewritten;
    let s = if let Some(rest) = s.strip_prefix("git@") {
        let (host, path) = rest.split_once(':')?;
        rewritten = format!("https://{host}/{}", path.trim_start_matches('/'));
        rewritten.as_str()
    } else if let Some(rest) = s
        .strip_prefix("ssh://git@")
        .or_else(|| s.strip_prefix("git://"))
    {
        rewritten = format!("https://{rest}");
        rewritten.as_str()
    } else {
        s
    };
    let mut url = Url::parse(s).ok()?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    url.set_fragment(None);
    url.set_query(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path).to_string();
    url.set_path(&path);
    Some(url)
}

/// `source_url` as text, without the trailing `/` a bare host gets.
pub fn source(raw: &str) -> Option<String> {
    source_url(raw).map(|u| u.as_str().trim_end_matches('/').to_string())
}

/// `base` with path segments appended, each percent-encoded.
pub fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
        path.extend(segments);
    }
    url
}

/// The forge that hosts a source URL, as a provenance family.
pub fn forge(url: &Url) -> Option<&'static str> {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    if host.contains("github") {
        Some("github")
    } else if host.contains("gitlab") {
        Some("gitlab")
    } else if url.path().contains("/_git/") {
        Some("azure-devops")
    } else {
        None
    }
}

/// The commit page on the forge that hosts `source`, and that forge.
pub fn commit_link(source: &str, sha: &str) -> Option<(&'static str, String)> {
    let base = source_url(source)?;
    let family = forge(&base)?;
    let url = match family {
        "gitlab" => join(&base, &["-", "commit", sha]),
        _ => join(&base, &["commit", sha]),
    };
    Some((family, url.to_string()))
}

/// The Azure DevOps build results page.
pub fn azure_build_link(collection: &str, project: &str, build_id: &str) -> Option<String> {
    let base = source_url(collection)?;
    let mut url = join(&base, &[project, "_build", "results"]);
    url.query_pairs_mut().append_pair("buildId", build_id);
    Some(url.to_string())
}

/// A URL worth showing as a link (a build URL from an attestation): http(s) only.
pub fn http_link(raw: &str) -> Option<String> {
    let url = Url::parse(raw.trim()).ok()?;
    matches!(url.scheme(), "https" | "http").then(|| url.to_string())
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

/// The branch a git context fragment names (`repo.git#refs/heads/main:dir`
/// or `#main`); None for tags, commits and pull refs.
pub fn fragment_branch(uri: &str) -> Option<String> {
    let (_, fragment) = uri.split_once('#')?;
    let r = fragment.split(':').next().unwrap_or("").trim();
    if r.is_empty() || r.starts_with("refs/tags/") || r.starts_with("refs/pull/") {
        return None;
    }
    if let Some(b) = r.strip_prefix("refs/heads/") {
        return Some(b.to_string());
    }
    // A bare 40-hex fragment is a commit, not a branch.
    let is_sha = r.len() >= 7 && r.chars().all(|c| c.is_ascii_hexdigit());
    (!is_sha && !r.starts_with("refs/")).then(|| r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_official_images_source_form() {
        let sha = "8c2a4ff7b14a3e6df0ef1b5a0e0d5dbe67c53b9a";
        let src = format!("https://github.com/docker-library/mysql.git#{sha}:8.4");
        assert_eq!(
            source(&src).as_deref(),
            Some("https://github.com/docker-library/mysql")
        );
        assert_eq!(
            commit_link(&src, sha).unwrap().1,
            format!("https://github.com/docker-library/mysql/commit/{sha}")
        );
    }

    #[test]
    fn only_http_sources_make_links() {
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)//github.com",
            "file:///etc/passwd",
            "data:text/html,x",
            "not a url",
            "",
        ] {
            assert_eq!(source(bad), None, "{bad}");
            assert_eq!(commit_link(bad, "abc"), None, "{bad}");
        }
        assert_eq!(http_link("javascript:alert(1)"), None);
        assert_eq!(
            http_link("https://github.com/o/r/actions/runs/1").as_deref(),
            Some("https://github.com/o/r/actions/runs/1")
        );
    }

    #[test]
    fn segments_are_encoded_the_same_way_everywhere() {
        let (_, commit) =
            commit_link("https://dev.azure.com/org/My Project/_git/web/", "abc").unwrap();
        assert_eq!(
            commit,
            "https://dev.azure.com/org/My%20Project/_git/web/commit/abc"
        );
        let build = azure_build_link("https://dev.azure.com/org/", "My Project", "42").unwrap();
        assert_eq!(
            build,
            "https://dev.azure.com/org/My%20Project/_build/results?buildId=42"
        );
        // A hostile commit value stays one segment.
        let (_, c) = commit_link("https://github.com/o/r", "../../x?y#z").unwrap();
        assert_eq!(c, "https://github.com/o/r/commit/..%2F..%2Fx%3Fy%23z");
    }

    #[test]
    fn ssh_and_git_forms() {
        assert_eq!(
            source("git@gitlab.example.com:group/sub/proj.git").as_deref(),
            Some("https://gitlab.example.com/group/sub/proj")
        );
        assert_eq!(
            source("ssh://git@github.com/o/r.git").as_deref(),
            Some("https://github.com/o/r")
        );
        assert_eq!(
            source("git+https://user:pw@github.com/o/r.git/").as_deref(),
            Some("https://github.com/o/r")
        );
    }

    #[test]
    fn branches_from_fragments() {
        assert_eq!(
            fragment_branch("https://g/r.git#refs/heads/main:d").as_deref(),
            Some("main")
        );
        assert_eq!(
            fragment_branch("https://g/r.git#dev").as_deref(),
            Some("dev")
        );
        assert_eq!(fragment_branch("https://g/r.git#refs/tags/v1"), None);
        assert_eq!(
            fragment_branch("https://g/r.git#8c2a4ff7b14a3e6df0ef1b5a0e0d5dbe67c53b9a:8.4"),
            None
        );
        assert_eq!(fragment_branch("https://g/r.git"), None);
        assert_eq!(build_id("vstfs:///Build/Build/7").as_deref(), Some("7"));
        assert_eq!(build_id("nonsense x"), None);
        assert_eq!(branch_name("refs/heads/main"), "main");
    }
}
