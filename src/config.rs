//! Raw arguments -> validated settings. Bad input becomes a `UsageError`
//! (exit status 2) with a message that says what to write instead.

use crate::store::{LabelFilter, RowFilter, ValueMatch};
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

/// RFC 3339, or a date (`2024-05-01`, taken as midnight UTC), as stored.
pub fn time_bound(flag: &str, s: &str) -> anyhow::Result<String> {
    use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t
            .with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        return Ok(t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    }
    Err(usage(format!(
        "{flag} {s:?}: expected RFC 3339 (2024-05-01T12:00:00Z) or a date (2024-05-01)"
    )))
}

pub fn row_filter(f: &crate::cli::FilterArgs) -> anyhow::Result<RowFilter> {
    Ok(RowFilter {
        labels: f
            .labels
            .iter()
            .map(|l| label_filter(l))
            .collect::<anyhow::Result<_>>()?,
        repos: f.repos.clone(),
        tags: f.tags.clone(),
        registry: f
            .registry
            .as_deref()
            .map(|r| registry_url(r).map(|(_, host)| host))
            .transpose()?,
        digest: f.digest.clone(),
        since: f
            .since
            .as_deref()
            .map(|s| time_bound("--since", s))
            .transpose()?,
        until: f
            .until
            .as_deref()
            .map(|s| time_bound("--until", s))
            .transpose()?,
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
        assert_eq!(
            time_bound("--since", "2024-05-01").unwrap(),
            "2024-05-01T00:00:00Z"
        );
        assert_eq!(
            time_bound("--since", "2024-05-01T02:00:00+02:00").unwrap(),
            "2024-05-01T00:00:00Z"
        );
        assert!(time_bound("--since", "last week").is_err());
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
