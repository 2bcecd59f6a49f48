//! Source 6b: the `auth.json` that podman, skopeo and buildah write
//! (`podman login`). Same `auths` shape as a docker config, read from
//! `REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`,
//! else `~/.config/containers/auth.json`, as containers-auth.json(5) says.
//! Keys may carry a repository path (`host/team`): the host part decides.

use super::docker::{DockerConfig, Found};
use super::{helper, Lookup};
use crate::registry::auth::Credential;
use anyhow::Context;
use std::path::PathBuf;

/// The files to try, in order; only `REGISTRY_AUTH_FILE` must exist.
fn candidates(env: &Lookup<'_>) -> Vec<(PathBuf, bool)> {
    if let Some(p) = env("REGISTRY_AUTH_FILE") {
        return vec![(PathBuf::from(p), true)];
    }
    let mut v = Vec::new();
    if let Some(d) = env("XDG_RUNTIME_DIR") {
        v.push((PathBuf::from(d).join("containers").join("auth.json"), false));
    }
    if let Some(h) = env("HOME") {
        v.push((PathBuf::from(h).join(".config/containers/auth.json"), false));
    }
    v
}

pub fn resolve(host: &str, env: &Lookup<'_>) -> anyhow::Result<Option<(Credential, String)>> {
    for (path, explicit) in candidates(env) {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("reading podman auth file {}", path.display()))
            }
        };
        let shown = path.display();
        let config = DockerConfig::parse(&bytes)
            .with_context(|| format!("reading podman auth file {shown}"))?;
        match config
            .lookup(host)
            .with_context(|| format!("podman auth file {shown}, entry for {host}"))?
        {
            None => continue,
            Some(Found::Entry(c)) => {
                return Ok(Some((
                    c,
                    format!("podman auth file {shown} (auth for {host})"),
                )))
            }
            Some(Found::Helper(name)) => {
                if let Some(c) = helper::get(&name, host, env)? {
                    return Ok(Some((
                        c,
                        format!("credential helper docker-credential-{name} for {host} (podman auth file {shown})"),
                    )));
                }
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use std::collections::HashMap;

    fn env_of(vars: HashMap<String, String>) -> impl Fn(&str) -> Option<String> {
        move |k: &str| vars.get(k).cloned()
    }

    #[test]
    fn registry_auth_file_then_xdg_runtime_dir() {
        let dir = tempfile::tempdir().unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode("pod:man-SECRET");
        let file = dir.path().join("auth.json");
        std::fs::write(
            &file,
            format!(r#"{{"auths":{{"myacr.azurecr.io/team":{{"auth":"{auth}"}}}}}}"#),
        )
        .unwrap();
        let vars = HashMap::from([("REGISTRY_AUTH_FILE".to_string(), file.display().to_string())]);
        let (c, what) = resolve("myacr.azurecr.io", &env_of(vars)).unwrap().unwrap();
        assert!(matches!(c, Credential::Basic { .. }));
        assert!(what.starts_with("podman auth file"), "{what}");
        assert!(!what.contains("SECRET"));

        let run = dir.path().join("run");
        std::fs::create_dir_all(run.join("containers")).unwrap();
        std::fs::copy(&file, run.join("containers/auth.json")).unwrap();
        let vars = HashMap::from([("XDG_RUNTIME_DIR".to_string(), run.display().to_string())]);
        assert!(resolve("myacr.azurecr.io", &env_of(vars.clone()))
            .unwrap()
            .is_some());
        assert!(resolve("other.io", &env_of(vars)).unwrap().is_none());

        let vars = HashMap::from([(
            "REGISTRY_AUTH_FILE".to_string(),
            "/nonexistent/auth.json".to_string(),
        )]);
        assert!(
            resolve("myacr.azurecr.io", &env_of(vars)).is_err(),
            "a named file must exist"
        );
    }
}
