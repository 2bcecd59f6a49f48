//! Source 6: docker `config.json` or a Kubernetes `.dockerconfigjson`
//! (same `auths` shape): `auths` keyed by host or URL, `auth` (base64
//! `user:pass`) or `username`/`password`, `identitytoken` (an ACR refresh
//! token, winning over `auth` in the same entry as docker does), and
//! `credHelpers` / `credsStore` run as `docker-credential-<name> get`.

use super::{helper, Lookup};
use crate::cli::CredentialArgs;
use crate::registry::auth::{Credential, Secret};
use anyhow::Context;
use base64::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(serde::Deserialize, Default)]
pub struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

/// What the config holds for one registry.
pub enum Found {
    Entry(Credential),
    Helper(String),
}

impl DockerConfig {
    pub fn parse(bytes: &[u8]) -> anyhow::Result<DockerConfig> {
        // Only the position: serde_json's messages can quote a value.
        serde_json::from_slice(bytes).map_err(|e| {
            anyhow::anyhow!(
                "not a docker config (JSON {:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            )
        })
    }

    /// The credential for `host` (host[:port]); helpers are named, not run.
    pub fn lookup(&self, host: &str) -> anyhow::Result<Option<Found>> {
        if let Some(h) = self.cred_helpers.iter().find(|(k, _)| key_host(k) == host) {
            return Ok(Some(Found::Helper(h.1.clone())));
        }
        let entry = self
            .auths
            .iter()
            .filter(|(k, _)| key_host(k) == host)
            .map(|(_, e)| e)
            .find_map(|e| e.credential().transpose());
        match entry {
            Some(c) => Ok(Some(Found::Entry(c?))),
            None => Ok(self.creds_store.clone().map(Found::Helper)),
        }
    }
}

impl AuthEntry {
    fn credential(&self) -> anyhow::Result<Option<Credential>> {
        let present =
            |s: &Option<String>| s.as_deref().filter(|v| !v.is_empty()).map(str::to_string);
        if let Some(t) = present(&self.identitytoken) {
            return Ok(Some(Credential::RefreshToken(Secret::new(t))));
        }
        if let Some(a) = present(&self.auth) {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(a.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .context("an `auth` value is not base64 of user:password")?;
            let (u, p) = raw
                .split_once(':')
                .context("an `auth` value does not decode to user:password")?;
            return Ok(Some(basic(u, p)));
        }
        match (present(&self.username), present(&self.password)) {
            (Some(u), Some(p)) => Ok(Some(basic(&u, &p))),
            _ => Ok(None),
        }
    }
}

fn basic(username: &str, password: &str) -> Credential {
    Credential::Basic {
        username: username.to_string(),
        password: Secret::new(password),
    }
}

/// The host part of an `auths` / `credHelpers` key, as docker normalises
/// it: `https://host/v1/`, `http://host`, `host/path` -> `host`.
fn key_host(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

/// Which file to read: `--docker-config`, else `$DOCKER_CONFIG/config.json`,
/// else `~/.docker/config.json`. Only an explicit path must exist.
fn config_path(args: &CredentialArgs, env: &Lookup<'_>) -> Option<(PathBuf, bool)> {
    if let Some(p) = &args.docker_config {
        return Some((p.clone(), true));
    }
    if let Some(d) = env("DOCKER_CONFIG") {
        return Some((Path::new(&d).join("config.json"), false));
    }
    env("HOME").map(|h| (Path::new(&h).join(".docker").join("config.json"), false))
}

pub fn resolve(
    args: &CredentialArgs,
    host: &str,
    env: &Lookup<'_>,
) -> anyhow::Result<Option<(Credential, String)>> {
    let Some((path, explicit)) = config_path(args, env) else {
        return Ok(None);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("reading docker config {}", path.display()))
        }
    };
    let shown = path.display();
    let config =
        DockerConfig::parse(&bytes).with_context(|| format!("reading docker config {shown}"))?;
    match config
        .lookup(host)
        .with_context(|| format!("docker config {shown}, entry for {host}"))?
    {
        None => Ok(None),
        Some(Found::Entry(c)) => {
            let kind = match c {
                Credential::RefreshToken(_) => "identitytoken",
                _ => "auth",
            };
            Ok(Some((
                c,
                format!("docker config {shown} ({kind} for {host})"),
            )))
        }
        Some(Found::Helper(name)) => {
            let c = helper::get(&name, host, env)?;
            Ok(c.map(|c| {
                (
                    c,
                    format!("docker credential helper docker-credential-{name} for {host}"),
                )
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn basic_of(c: Credential) -> (String, String) {
        match c {
            Credential::Basic { username, password } => (username, password.expose().to_string()),
            other => panic!("expected basic, got {other:?}"),
        }
    }

    fn entry(cfg: &str, host: &str) -> Option<Credential> {
        match DockerConfig::parse(cfg.as_bytes())
            .unwrap()
            .lookup(host)
            .unwrap()
        {
            Some(Found::Entry(c)) => Some(c),
            Some(Found::Helper(h)) => panic!("unexpected helper {h}"),
            None => None,
        }
    }

    #[test]
    fn auth_by_host_and_url_keys() {
        let cfg = format!(
            r#"{{"auths":{{"https://myacr.azurecr.io/v1/":{{"auth":"{}"}},"other.io":{{"username":"o","password":"pw"}}}}}}"#,
            b64("user:pa:ss")
        );
        assert_eq!(
            basic_of(entry(&cfg, "myacr.azurecr.io").unwrap()),
            ("user".into(), "pa:ss".into())
        );
        assert_eq!(
            basic_of(entry(&cfg, "other.io").unwrap()),
            ("o".into(), "pw".into())
        );
        assert!(entry(&cfg, "third.io").is_none());
        // Port is part of the host.
        let cfg = r#"{"auths":{"127.0.0.1:5000":{"username":"a","password":"b"}}}"#;
        assert!(entry(cfg, "127.0.0.1:5000").is_some());
        assert!(entry(cfg, "127.0.0.1").is_none());
    }

    #[test]
    fn identitytoken_wins_over_auth() {
        let cfg = format!(
            r#"{{"auths":{{"myacr.azurecr.io":{{"auth":"{}","identitytoken":"refresh-xyz"}}}}}}"#,
            b64("00000000-0000-0000-0000-000000000000:")
        );
        match entry(&cfg, "myacr.azurecr.io").unwrap() {
            Credential::RefreshToken(t) => assert_eq!(t.expose(), "refresh-xyz"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn kubernetes_dockerconfigjson_has_the_same_shape() {
        // What `kubectl create secret docker-registry` writes.
        let cfg = format!(
            r#"{{"auths":{{"myacr.azurecr.io":{{"username":"puller","password":"pw","email":"x@y","auth":"{}"}}}}}}"#,
            b64("puller:pw")
        );
        assert_eq!(
            basic_of(entry(&cfg, "myacr.azurecr.io").unwrap()),
            ("puller".into(), "pw".into())
        );
    }

    #[test]
    fn helpers_per_host_then_store() {
        let cfg = r#"{"auths":{"a.io":{}},"credHelpers":{"myacr.azurecr.io":"acr-env"},"credsStore":"desktop"}"#;
        let c = DockerConfig::parse(cfg.as_bytes()).unwrap();
        assert!(
            matches!(c.lookup("myacr.azurecr.io").unwrap(), Some(Found::Helper(h)) if h == "acr-env")
        );
        assert!(matches!(c.lookup("a.io").unwrap(), Some(Found::Helper(h)) if h == "desktop"));
        let cfg = r#"{"auths":{"a.io":{"auth":"dTpw"}},"credsStore":"desktop"}"#;
        let c = DockerConfig::parse(cfg.as_bytes()).unwrap();
        assert!(matches!(c.lookup("a.io").unwrap(), Some(Found::Entry(_))));
    }

    #[test]
    fn bad_auth_errors_name_no_secret() {
        let cfg = r#"{"auths":{"a.io":{"auth":"not base64 s3cret"}}}"#;
        let e = DockerConfig::parse(cfg.as_bytes())
            .unwrap()
            .lookup("a.io")
            .err()
            .unwrap();
        assert!(!format!("{e:#}").contains("s3cret"));
        let e = DockerConfig::parse(br#"{"auths": "s3cret"}"#)
            .err()
            .unwrap();
        assert!(!format!("{e:#}").contains("s3cret"), "{e:#}");
    }
}
