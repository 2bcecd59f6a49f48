//! The digests people copy: `sha256:` and 64 hex digits, the 64 hex
//! digits alone (`docker images --no-trunc` without the prefix), or the
//! first 12 or more hex digits (what the tables print, like docker's image
//! IDs). A prefix resolves when exactly one manifest or config digest in
//! the database starts with it; several are an error that lists them.

use crate::config::UsageError;
use crate::store::Store;

/// Fewer hex digits than the tables print would match too much by chance.
pub const MIN_PREFIX: usize = 12;
const HEX_LEN: usize = 64;

/// How many candidates an ambiguity error lists.
const LIST: i64 = 10;

/// A digest as the user wrote it, normalised to `sha256:` + lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestArg {
    Full(String),
    Prefix(String),
}

impl DigestArg {
    /// The digest or prefix as written, normalised.
    pub fn into_string(self) -> String {
        match self {
            DigestArg::Full(d) | DigestArg::Prefix(d) => d,
        }
    }
}

/// `Some` when `s` is meant as a digest; `None` when it is something else
/// (a repository name, a tag reference). `sha256:` followed by anything
/// but 12 to 64 hex digits is malformed: a usage error.
pub fn parse(s: &str) -> Result<Option<DigestArg>, UsageError> {
    let s = s.trim();
    let (hex, explicit) = match s.split_once(':') {
        Some((alg, hex)) if alg.eq_ignore_ascii_case("sha256") => (hex, true),
        _ => (s, false),
    };
    let is_hex = !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    let fits = (MIN_PREFIX..=HEX_LEN).contains(&hex.len());
    if !(is_hex && fits) {
        return if explicit {
            Err(UsageError(format!(
                "{s:?} is not a digest: expected sha256: and 64 hex digits, or a prefix of at least {MIN_PREFIX}"
            )))
        } else {
            Ok(None)
        };
    }
    let full = format!("sha256:{}", hex.to_ascii_lowercase());
    Ok(Some(if hex.len() == HEX_LEN {
        DigestArg::Full(full)
    } else {
        DigestArg::Prefix(full)
    }))
}

/// The one digest a prefix names. `Ok(None)` when nothing starts with it;
/// an error listing the candidates when several do.
pub fn unique(store: &Store, arg: &DigestArg) -> anyhow::Result<Option<String>> {
    let prefix = match arg {
        DigestArg::Full(d) => return Ok(Some(d.clone())),
        DigestArg::Prefix(p) => p,
    };
    let found = store.digests_with_prefix(prefix, LIST + 1)?;
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.into_iter().next()),
        n => {
            let more = if n as i64 > LIST { "\n  ..." } else { "" };
            let list: Vec<&str> = found
                .iter()
                .take(LIST as usize)
                .map(String::as_str)
                .collect();
            anyhow::bail!(
                "{prefix} is ambiguous: it starts {} digests; give more digits:\n  {}{more}",
                if n as i64 > LIST {
                    format!("more than {LIST}")
                } else {
                    n.to_string()
                },
                list.join("\n  ")
            )
        }
    }
}

/// A `show` reference with a digest prefix replaced by the digest it
/// names; anything else is returned as given.
pub fn expand(store: &Store, reference: &str) -> anyhow::Result<String> {
    match parse(reference)? {
        Some(arg) => Ok(unique(store, &arg)?.unwrap_or(arg.into_string())),
        None => Ok(reference.to_string()),
    }
}

/// `query --digest`: must be a digest (full, bare or a unique prefix).
pub fn filter_digest(store: &Store, s: &str) -> anyhow::Result<String> {
    let Some(arg) = parse(s)? else {
        return Err(UsageError(format!(
            "--digest {s:?}: expected sha256: and 64 hex digits, the 64 hex digits, or a prefix of at least {MIN_PREFIX}"
        ))
        .into());
    };
    Ok(unique(store, &arg)?.unwrap_or(arg.into_string()))
}

/// A row filter's `--digest` made exact: a unique prefix becomes the digest
/// it names (config digests count), an ambiguous one is an error.
pub fn resolve_filter(store: &Store, filter: &mut crate::store::RowFilter) -> anyhow::Result<()> {
    if let Some(d) = filter.digest.take() {
        filter.digest = Some(filter_digest(store, &d)?);
    }
    Ok(())
}

/// The reference without a tag or digest, to which `latest` was added.
pub fn implied_latest(reference: &str) -> bool {
    let r = reference.trim();
    if r.contains('@') || matches!(parse(r), Ok(Some(_)) | Err(_)) {
        return false;
    }
    let last = r.rsplit('/').next().unwrap_or(r);
    !last.contains(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "8cacc315145038a8cbed7afbc515afb7d82ecb12cbd2fe1fa6e4ee9a1bfc5ca5";

    #[test]
    fn forms() {
        let full = format!("sha256:{D}");
        assert_eq!(parse(&full).unwrap(), Some(DigestArg::Full(full.clone())));
        assert_eq!(parse(D).unwrap(), Some(DigestArg::Full(full.clone())));
        assert_eq!(
            parse("sha256:8CACC3151450").unwrap(),
            Some(DigestArg::Prefix("sha256:8cacc3151450".into()))
        );
        assert_eq!(
            parse("8cacc3151450").unwrap(),
            Some(DigestArg::Prefix("sha256:8cacc3151450".into()))
        );
        assert_eq!(parse("team/api").unwrap(), None);
        assert_eq!(parse("8cacc31").unwrap(), None, "too short: a name");
        for bad in [
            "sha256:8cacc31",
            "sha256:xyz",
            "sha256:",
            &format!("sha256:{D}0"),
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn latest_is_implied_only_without_tag_or_digest() {
        assert!(implied_latest("team/api"));
        assert!(implied_latest("localhost:5000/team/api"));
        assert!(!implied_latest("team/api:1.2"));
        assert!(!implied_latest(&format!("team/api@sha256:{D}")));
        assert!(!implied_latest("8cacc3151450"));
    }
}
