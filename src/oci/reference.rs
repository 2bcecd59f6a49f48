use super::digest::Digest;
use std::fmt;

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefTarget {
    Tag(String),
    Digest(Digest),
}

/// A user-supplied image reference: `registry/repo:tag`, `repo:tag`,
/// `repo@sha256:...`, `sha256:...`, or a Kubernetes imageID such as
/// `docker-pullable://registry/repo@sha256:...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: Option<String>,
    pub repository: Option<String>,
    pub target: RefTarget,
}

impl ImageRef {
    pub fn parse(input: &str) -> Result<ImageRef, String> {
        let s = input.trim();
        let s = s.split_once("://").map(|(_, rest)| rest).unwrap_or(s);
        if s.is_empty() {
            return Err("empty image reference".into());
        }
        if let Ok(d) = s.parse::<Digest>() {
            return Ok(ImageRef {
                registry: None,
                repository: None,
                target: RefTarget::Digest(d),
            });
        }
        let (name, target) = if let Some((name, digest)) = s.split_once('@') {
            let d = digest
                .parse::<Digest>()
                .map_err(|e| format!("in {input:?}: {e}"))?;
            // `repo:tag@sha256:...`: the digest wins, as for docker pull.
            let name = strip_tag(name).0;
            (name, RefTarget::Digest(d))
        } else {
            let (name, tag) = strip_tag(s);
            (name, RefTarget::Tag(tag.unwrap_or("latest").to_string()))
        };
        let (registry, repository) = split_registry(name);
        if repository.is_empty()
            || repository
                .split('/')
                .any(|part| part.is_empty() || !part.chars().all(is_name_char))
        {
            return Err(format!("invalid image reference {input:?}"));
        }
        Ok(ImageRef {
            registry,
            repository: Some(repository.to_string()),
            target,
        })
    }
}

/// The distribution spec's repository name grammar:
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`,
/// at most 255 characters. Checked before a name from a registry goes into
/// a URL or a token scope (a space, a colon or `..` would change either).
pub fn is_valid_repository(name: &str) -> bool {
    name.len() <= 255 && !name.is_empty() && name.split('/').all(is_valid_component)
}

fn is_valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: ".", "_", "__" or one or more "-".
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// The distribution spec's tag grammar: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    let word = |x: &u8| x.is_ascii_alphanumeric() || *x == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(&b[0])
        && b[1..].iter().all(|x| word(x) || *x == b'.' || *x == b'-')
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
}

/// Split `name:tag` where the colon comes after the last slash.
fn strip_tag(s: &str) -> (&str, Option<&str>) {
    let last_slash = s.rfind('/').map(|i| i + 1).unwrap_or(0);
    match s[last_slash..].rfind(':') {
        Some(i) => (&s[..last_slash + i], Some(&s[last_slash + i + 1..])),
        None => (s, None),
    }
}

/// Docker's rule: the first component is a registry when it has a dot or a
/// port, or is `localhost`.
fn split_registry(name: &str) -> (Option<String>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first.to_string()), rest)
        }
        _ => (None, name),
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.registry {
            write!(f, "{r}/")?;
        }
        if let Some(r) = &self.repository {
            f.write_str(r)?;
        }
        match &self.target {
            RefTarget::Tag(t) => write!(f, ":{t}"),
            RefTarget::Digest(d) if self.repository.is_some() => write!(f, "@{d}"),
            RefTarget::Digest(d) => write!(f, "{d}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn forms() {
        let r = ImageRef::parse("myacr.azurecr.io/team/api:1.2").unwrap();
        assert_eq!(r.registry.as_deref(), Some("myacr.azurecr.io"));
        assert_eq!(r.repository.as_deref(), Some("team/api"));
        assert_eq!(r.target, RefTarget::Tag("1.2".into()));

        let r = ImageRef::parse("127.0.0.1:5000/app").unwrap();
        assert_eq!(r.registry.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(r.target, RefTarget::Tag("latest".into()));

        let r = ImageRef::parse("team/api:v1").unwrap();
        assert_eq!(r.registry, None);
        assert_eq!(r.repository.as_deref(), Some("team/api"));

        let r = ImageRef::parse(&format!("docker-pullable://reg.io/app@{D}")).unwrap();
        assert_eq!(r.registry.as_deref(), Some("reg.io"));
        assert!(matches!(r.target, RefTarget::Digest(_)));

        let r = ImageRef::parse(D).unwrap();
        assert_eq!(r.repository, None);
        assert_eq!(r.to_string(), D);

        let r = ImageRef::parse(&format!("app:v1@{D}")).unwrap();
        assert_eq!(r.repository.as_deref(), Some("app"));
        assert_eq!(r.to_string(), format!("app@{D}"));
    }

    #[test]
    fn distribution_grammar() {
        for ok in [
            "a",
            "team/api",
            "a.b_c__d---e/f0",
            "library/ubuntu",
            &"a".repeat(255),
        ] {
            assert!(is_valid_repository(ok), "{ok}");
        }
        for bad in [
            "",
            "evil registry:catalog:* repository:victim:push,pull,delete",
            "../x",
            "a/../b",
            "A",
            "a//b",
            "a/",
            "-a",
            "a___b",
            "a.-b",
            "a?b",
            "a%2fb",
            &"a".repeat(256),
        ] {
            assert!(!is_valid_repository(bad), "{bad}");
        }
        for ok in ["latest", "v1.2.3", "_x", "A-b.c_d", &"t".repeat(128)] {
            assert!(is_valid_tag(ok), "{ok}");
        }
        for bad in [
            "",
            "../../../../v2/_catalog",
            ".x",
            "-x",
            "a/b",
            "a:b",
            "a b",
            "a?n=1",
            &"t".repeat(129),
        ] {
            assert!(!is_valid_tag(bad), "{bad}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "UPPER/case:x", "app@sha256:abc", "a//b:c"] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }
}
