//! Raw arguments -> validated settings. Bad input becomes a `UsageError`
//! (exit status 2) with a message that says what to write instead.

use crate::store::{CommitMatch, LabelFilter, RowFilter, Store, ValueMatch};
use url::Url;

/// A mistake in how the command was called (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// The registry's base URL and the host[:port] stored in the database.
/// `https://` is the default; `http://` only when the user wrote it.
pub fn registry_url(input: &str) -> anyhow::Result<(Url, String)> {
    let input = input.trim().trim_end_matches('/');
    if input.is_empty() {
        return Err(usage("--registry is empty"));
    }
    let with_scheme = if input.contains("://") {
        input.to_string()
    } else {
        format!("https://{input}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|e| usage(format!("--registry {input:?} is not a host or URL: {e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(usage(format!(
            "--registry {input:?}: only https:// and http:// are supported"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(usage(
            "--registry must not carry credentials; use ACR_INDEX_USERNAME / ACR_INDEX_PASSWORD",
        ));
    }
    // `https://reg.example.com/v2/` is the API root people paste: accept it.
    let path = url.path().trim_end_matches('/');
    if !(path.is_empty() || path == "/v2") || url.query().is_some() {
        return Err(usage(format!(
            "--registry {input:?}: give the registry's host or origin, without a path"
        )));
    }
    let host = url
        .host_str()
        .ok_or_else(|| usage(format!("--registry {input:?} has no host")))?;
    let host = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let mut base = url.clone();
    base.set_path("/");
    Ok((base, host))
}

/// `KEY=VALUE`, `KEY=PREFIX*` or `KEY`; split at the first `=`.
pub fn label_filter(s: &str) -> anyhow::Result<LabelFilter> {
    let (key, value) = match s.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (s, None),
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(usage(format!(
            "--label {s:?}: expected KEY=VALUE, KEY=PREFIX* or KEY"
        )));
    }
    let value = value.map(|v| match v.strip_suffix('*') {
        Some(prefix) => ValueMatch::Prefix(prefix.to_string()),
        None => ValueMatch::Exact(v.to_string()),
    });
    Ok(LabelFilter {
        key: key.to_string(),
        value,
    })
}

/// Which end of a range a time bound is: a date as `--since` means its
/// first instant, as `--until` its last, so `--until 2024-05-01` takes in
/// the whole of that day (UTC).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Bound {
    Since,
    Until,
}

/// RFC 3339 (any offset), a UTC date, or an age before `now` (`30m`, `12h`,
/// `7d`, `2w`, `90s`), as an RFC 3339 instant in UTC with milliseconds.
pub fn time_bound_at(
    flag: &str,
    s: &str,
    bound: Bound,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<String> {
    use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
    let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(fmt(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let start = d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        return Ok(fmt(match bound {
            Bound::Since => start,
            Bound::Until => start + Duration::days(1) - Duration::milliseconds(1),
        }));
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let per = match unit {
        "s" => Some(1),
        "m" => Some(60),
        "h" => Some(3600),
        "d" => Some(86_400),
        "w" => Some(7 * 86_400),
        _ => None,
    };
    if let (Ok(n), Some(per)) = (n.parse::<i64>(), per) {
        if let Some(t) = n
            .checked_mul(per)
            .and_then(Duration::try_seconds)
            .and_then(|age| now.checked_sub_signed(age))
        {
            return Ok(fmt(t));
        }
    }
    Err(usage(format!(
        "{flag} {s:?}: expected RFC 3339 (2024-05-01T12:00:00Z), a UTC date (2024-05-01) or an age (30m, 12h, 7d, 2w)"
    )))
}

/// `--commit SHA`: `PREFIX*` matches any prefix; a value of 7 to 39 hex
/// digits that is not a stored commit must be the prefix of exactly one.
pub fn commit_match(store: &Store, s: &str) -> anyhow::Result<CommitMatch> {
    let s = s.trim();
    if let Some(prefix) = s.strip_suffix('*') {
        return Ok(CommitMatch::Prefix(prefix.to_string()));
    }
    let hex = s.chars().all(|c| c.is_ascii_hexdigit());
    if !hex || s.len() < 7 || s.len() >= 40 {
        return Ok(CommitMatch::Exact(s.to_string()));
    }
    let found = store.commits_with_prefix(s, 3)?;
    match found.as_slice() {
        [] => Ok(CommitMatch::Exact(s.to_string())),
        [one] => Ok(CommitMatch::Exact(one.clone())),
        _ if found.iter().any(|c| c == s) => Ok(CommitMatch::Exact(s.to_string())),
        many => Err(usage(format!(
            "--commit {s}: more than one commit starts with it ({}, ...); give more digits or end it with *",
            many[..2].join(", ")
        ))),
    }
}

/// The row filter, with `--commit` resolved against the store.
pub fn row_filter_for(store: &Store, f: &crate::cli::FilterArgs) -> anyhow::Result<RowFilter> {
    let mut filter = row_filter(f)?;
    if let Some(c) = &f.commit {
        if c.trim().is_empty() {
            return Err(usage("--commit is empty"));
        }
        filter.commit = Some(commit_match(store, c)?);
    }
    Ok(filter)
}

/// [`time_bound_at`] relative to the current time.
pub fn time_bound(flag: &str, s: &str, bound: Bound) -> anyhow::Result<String> {
    time_bound_at(flag, s, bound, chrono::Utc::now())
}

/// `--repo`/`--tag` globs, checked here so a bad one is a usage error; the
/// store compiles them with the same dialect as `index --repo`.
fn globs(flag: &str, pats: &[String]) -> anyhow::Result<Vec<String>> {
    for p in pats {
        crate::store::glob::compile(std::slice::from_ref(p))
            .map_err(|e| usage(format!("{flag} {p:?}: {e}")))?;
    }
    Ok(pats.to_vec())
}

pub fn row_filter(f: &crate::cli::FilterArgs) -> anyhow::Result<RowFilter> {
    Ok(RowFilter {
        commit: f.commit.as_deref().map(|c| match c.strip_suffix('*') {
            Some(p) => CommitMatch::Prefix(p.to_string()),
            None => CommitMatch::Exact(c.to_string()),
        }),
        branch: f.branch.clone(),
        has_base: false,
        source: match &f.source {
            // Compared with the stored, normalised source.
            Some(s) => Some(crate::provenance::links::source(s).ok_or_else(|| {
                usage(format!(
                    "--source {s:?}: expected an http(s) or git@ repository URL"
                ))
            })?),
            None => None,
        },
        annotations: f
            .annotations
            .iter()
            .map(|a| {
                label_filter(a).map_err(|_| {
                    usage(format!(
                        "--annotation {a:?}: expected KEY=VALUE, KEY=PREFIX* or KEY"
                    ))
                })
            })
            .collect::<anyhow::Result<_>>()?,
        labels: f
            .labels
            .iter()
            .map(|l| label_filter(l))
            .collect::<anyhow::Result<_>>()?,
        repos: globs("--repo", &f.repos)?,
        tags: globs("--tag", &f.tags)?,
        registry: f
            .registry
            .as_deref()
            .map(|r| registry_url(r).map(|(_, host)| host))
            .transpose()?,
        digest: f
            .digest
            .as_deref()
            .map(|d| match crate::answers::reference::parse(d) {
                Ok(Some(_)) => Ok(d.trim().to_string()),
                Ok(None) => Err(usage(format!(
                    "--digest {d:?}: expected sha256: and 64 hex digits, the 64 hex digits, or a prefix of at least 12"
                ))),
                Err(e) => Err(usage(format!("--digest: {e}"))),
            })
            .transpose()?,
        since: f
            .since
            .as_deref()
            .map(|s| time_bound("--since", s, Bound::Since))
            .transpose()?,
        until: f
            .until
            .as_deref()
            .map(|s| time_bound("--until", s, Bound::Until))
            .transpose()?,
        signed: match (f.signed, f.unsigned) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        artifact_types: referrer_types(&f.artifact_types)?,
    })
}

/// A duration as `30s`, `15m`, `1h` or `1d` (whole numbers, at least 1s).
pub fn duration(flag: &str, s: &str) -> anyhow::Result<std::time::Duration> {
    let bad = || {
        usage(format!(
            "{flag} {s:?}: expected a duration such as 30s, 15m, 1h or 1d"
        ))
    };
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let n: u64 = s[..split].parse().map_err(|_| bad())?;
    let unit = match &s[split..] {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(bad()),
    };
    match n.checked_mul(unit) {
        Some(secs) if secs > 0 => Ok(std::time::Duration::from_secs(secs)),
        _ => Err(bad()),
    }
}

/// `--artifact-type`: a media type, a kind or a format; never empty.
fn referrer_types(types: &[String]) -> anyhow::Result<Vec<String>> {
    types
        .iter()
        .map(|t| {
            let t = t.trim();
            if t.is_empty() || t.len() > 255 {
                Err(usage(
                    "--artifact-type: expected a media type (application/spdx+json), a kind (signature, sbom, attestation) or a format (notation, cosign, spdx, cyclonedx)",
                ))
            } else {
                Ok(t.to_string())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_forms() {
        let (u, h) = registry_url("myacr.azurecr.io").unwrap();
        assert_eq!(u.as_str(), "https://myacr.azurecr.io/");
        assert_eq!(h, "myacr.azurecr.io");
        let (u, h) = registry_url("http://127.0.0.1:5000/").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:5000/");
        assert_eq!(h, "127.0.0.1:5000");
        let (_, h) = registry_url("https://reg.example.com:443").unwrap();
        assert_eq!(h, "reg.example.com");
        let (u, _) = registry_url("https://reg.example.com/v2/").unwrap();
        assert_eq!(u.as_str(), "https://reg.example.com/");
        for bad in ["", "ftp://x", "https://u:p@x", "x.io/some/path"] {
            assert!(registry_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels_split_at_first_equals() {
        let f = label_filter("sourceversion=abc=def").unwrap();
        assert_eq!(f.key, "sourceversion");
        assert_eq!(f.value, Some(ValueMatch::Exact("abc=def".into())));
        let f = label_filter("revision=13c0*").unwrap();
        assert_eq!(f.value, Some(ValueMatch::Prefix("13c0".into())));
        assert_eq!(label_filter("branch").unwrap().value, None);
        assert_eq!(
            label_filter("k=").unwrap().value,
            Some(ValueMatch::Exact(String::new()))
        );
        assert!(label_filter("=x").is_err());
    }

    #[test]
    fn time_bounds() {
        use chrono::TimeZone;
        let now = chrono::Utc.with_ymd_and_hms(2024, 5, 10, 12, 0, 0).unwrap();
        let at = |s: &str, b| time_bound_at("--since", s, b, now);
        assert_eq!(
            at("2024-05-01", Bound::Since).unwrap(),
            "2024-05-01T00:00:00.000Z"
        );
        assert_eq!(
            at("2024-05-01", Bound::Until).unwrap(),
            "2024-05-01T23:59:59.999Z"
        );
        assert_eq!(
            at("2024-05-01T02:00:00+02:00", Bound::Until).unwrap(),
            "2024-05-01T00:00:00.000Z"
        );
        assert_eq!(at("7d", Bound::Since).unwrap(), "2024-05-03T12:00:00.000Z");
        assert_eq!(at("12h", Bound::Since).unwrap(), "2024-05-10T00:00:00.000Z");
        assert_eq!(at("2w", Bound::Since).unwrap(), "2024-04-26T12:00:00.000Z");
        for bad in ["last week", "7", "d", "7y", "99999999999999999w"] {
            assert!(at(bad, Bound::Since).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration("--x", "90s").unwrap().as_secs(), 90);
        assert_eq!(duration("--x", "15m").unwrap().as_secs(), 900);
        assert_eq!(duration("--x", "1d").unwrap().as_secs(), 86400);
        for bad in [
            "",
            "0s",
            "1",
            "m",
            "1w",
            "-1s",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert!(duration("--x", bad).is_err(), "{bad}");
        }
    }
}
