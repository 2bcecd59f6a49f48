//! `index --resolve-bases`: one HEAD per distinct base image reference per
//! run, in the base's own registry, through the registry client (its
//! limits, retries and auth). Credentials come only from the docker config
//! (never the indexed registry's), else the request is anonymous.

use crate::cli::CredentialArgs;
use crate::oci::{ImageRef, RefTarget};
use crate::registry::auth::Credential;
use crate::registry::{Client, Settings, Shutdown};
use crate::store::{BaseCheck, Store};
use std::collections::BTreeMap;

/// Docker Hub's registry for references without a registry part.
const DOCKER_HUB: &str = "registry-1.docker.io";

/// Where a base reference lives: (host, repository, tag). None for digest
/// references (they cannot move) and names that are not references.
fn locate(name: &str) -> Option<(String, String, String)> {
    let r = ImageRef::parse(name).ok()?;
    let RefTarget::Tag(tag) = r.target else {
        return None;
    };
    let repo = r.repository?;
    match r.registry.as_deref() {
        None | Some("docker.io") | Some("index.docker.io") => {
            let repo = if repo.contains('/') {
                repo
            } else {
                format!("library/{repo}")
            };
            Some((DOCKER_HUB.to_string(), repo, tag))
        }
        Some(host) => Some((host.to_string(), repo, tag)),
    }
}

/// https, except for loopback hosts, which docker also reaches over plain http.
fn base_url(host: &str) -> Option<url::Url> {
    let bare = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let scheme = match bare {
        "localhost" | "127.0.0.1" | "[::1]" => "http",
        _ => "https",
    };
    url::Url::parse(&format!("{scheme}://{host}/")).ok()
}

/// HEAD each base reference not in a registry this database indexes;
/// record every answer (digest or error) with its time.
pub async fn resolve(
    store: &mut Store,
    indexed_hosts: &[String],
    credentials: &CredentialArgs,
    settings: &Settings,
    shutdown: Shutdown,
    run_id: i64,
) -> anyhow::Result<usize> {
    let mut by_host: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    for name in store.base_references()? {
        if let Some((host, repo, tag)) = locate(&name) {
            if !indexed_hosts.contains(&host) {
                by_host.entry(host).or_default().push((name, repo, tag));
            }
        }
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut checks = Vec::new();
    for (host, refs) in by_host {
        let Some(url) = base_url(&host) else { continue };
        let credential = match crate::credentials::docker::resolve(credentials, &host, &env) {
            Ok(Some((c, _))) => c,
            Ok(None) => Credential::Anonymous,
            Err(e) => {
                tracing::warn!(host, "docker config: {e:#}; asking anonymously");
                Credential::Anonymous
            }
        };
        let client = Client::new(url, credential, settings.clone(), shutdown.clone())?;
        for (name, repo, tag) in refs {
            let answer = client.head_manifest(&repo, &tag).await;
            tracing::debug!(base = %name, ok = answer.is_ok(), "base image checked");
            checks.push(match answer {
                Ok(d) => BaseCheck {
                    reference: name,
                    digest: Some(d.to_string()),
                    error: None,
                },
                Err(e) => BaseCheck {
                    reference: name,
                    digest: None,
                    error: Some(e.to_string()),
                },
            });
        }
    }
    store.record_base_checks(Some(run_id), &checks)?;
    Ok(checks.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_references_locate_their_registry() {
        assert_eq!(
            locate("mcr.microsoft.com/dotnet/aspnet:7.0-nanoserver-ltsc2022"),
            Some((
                "mcr.microsoft.com".into(),
                "dotnet/aspnet".into(),
                "7.0-nanoserver-ltsc2022".into()
            ))
        );
        assert_eq!(
            locate("alpine:3.19"),
            Some((DOCKER_HUB.into(), "library/alpine".into(), "3.19".into()))
        );
        let d = format!("alpine@sha256:{}", "a".repeat(64));
        assert_eq!(locate(&d), None);
        assert_eq!(base_url("127.0.0.1:5000").unwrap().scheme(), "http");
        assert_eq!(base_url("mcr.microsoft.com").unwrap().scheme(), "https");
    }
}
