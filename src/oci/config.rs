use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// The platform of an image: from an index descriptor or an image config.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Platform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default, rename = "os.version")]
    pub os_version: Option<String>,
}

impl fmt::Display for Platform {
    /// `os/arch[/variant]`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match self.variant.as_deref() {
            Some(v) if !v.is_empty() => write!(f, "/{v}"),
            _ => Ok(()),
        }
    }
}

/// What this tool keeps of an image config blob.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageConfig {
    pub labels: BTreeMap<String, String>,
    /// RFC 3339 in UTC, normalised; None when absent or unparseable.
    pub created: Option<String>,
    pub platform: Platform,
}

#[derive(Deserialize)]
struct ConfigJson {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default, rename = "os.version")]
    os_version: Option<String>,
    #[serde(default)]
    config: Option<InnerConfig>,
}

#[derive(Deserialize)]
struct InnerConfig {
    // `Labels` may be absent, null or an object; values may be null too.
    #[serde(default, rename = "Labels")]
    labels: Option<BTreeMap<String, Option<String>>>,
}

impl ImageConfig {
    pub fn parse(body: &[u8]) -> Result<ImageConfig, serde_json::Error> {
        let c: ConfigJson = serde_json::from_slice(body)?;
        let labels = c
            .config
            .and_then(|i| i.labels)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect();
        Ok(ImageConfig {
            labels,
            created: c.created.as_deref().and_then(normalise_time),
            platform: Platform {
                os: c.os.unwrap_or_default(),
                architecture: c.architecture.unwrap_or_default(),
                variant: c.variant.filter(|v| !v.is_empty()),
                os_version: c.os_version.filter(|v| !v.is_empty()),
            },
        })
    }
}

/// Parse an RFC 3339 timestamp and print it in UTC with a `Z`.
fn normalise_time(s: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    Some(
        t.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_absent_null_empty_and_null_values() {
        for body in [
            r#"{"config":{}}"#,
            r#"{"config":{"Labels":null}}"#,
            r#"{"config":{"Labels":{}}}"#,
            r#"{}"#,
        ] {
            assert!(ImageConfig::parse(body.as_bytes())
                .unwrap()
                .labels
                .is_empty());
        }
        let c = ImageConfig::parse(br#"{"config":{"Labels":{"a":null,"b":"x"}}}"#).unwrap();
        assert_eq!(c.labels["a"], "");
        assert_eq!(c.labels["b"], "x");
    }

    #[test]
    fn created_is_normalised_to_utc() {
        let c = ImageConfig::parse(
            br#"{"created":"2023-11-21T10:00:00.123456789+01:00","os":"linux","architecture":"arm","variant":"v7"}"#,
        )
        .unwrap();
        assert_eq!(c.created.as_deref(), Some("2023-11-21T09:00:00.123456789Z"));
        assert_eq!(c.platform.to_string(), "linux/arm/v7");
        let bad = ImageConfig::parse(br#"{"created":"yesterday"}"#).unwrap();
        assert_eq!(bad.created, None);
    }
}
