//! Where credentials come from, tried in SPEC.md's order; the first source
//! that applies wins. Secrets are read from env vars and files only, and
//! the description returned for logs never contains one.
//!
//! 1. `ACR_INDEX_USERNAME` + `ACR_INDEX_PASSWORD` (or `--username` with
//!    `--password-stdin` / `--password-file`)            -> [`basic`]
//! 2. `ACR_INDEX_REFRESH_TOKEN`                          -> here
//! 3. `ACR_INDEX_AAD_TOKEN` or `--aad-token-file`        -> [`entra`] + [`exchange`]
//! 4. Azure workload identity (`AZURE_FEDERATED_TOKEN_FILE`, ...)
//! 5. managed identity (IMDS), only with `--managed-identity`
//! 6. docker config (`--docker-config`, `$DOCKER_CONFIG`, `~/.docker`) -> [`docker`],
//!    then podman's auth.json (`REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR`) -> [`podman`],
//!    then the Azure CLI's login, only with `--azure-cli`   -> [`azcli`]
//! 7. anonymous

mod azcli;
mod basic;
pub mod docker;
mod entra;
mod exchange;
mod helper;
mod podman;

pub use entra::AadSource;
pub use exchange::AadExchange;

use crate::cli::CredentialArgs;
use crate::registry::auth::{Credential, Secret};
use std::sync::Arc;

/// Reads an environment variable; empty counts as unset.
pub type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// The credential for a registry and a description of its source for logs.
pub fn resolve(args: &CredentialArgs, registry_host: &str) -> anyhow::Result<(Credential, String)> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    resolve_with(args, registry_host, &env)
}

/// [`resolve`] with the environment supplied by the caller.
pub fn resolve_with(
    args: &CredentialArgs,
    registry_host: &str,
    env: &Lookup<'_>,
) -> anyhow::Result<(Credential, String)> {
    if let Some(found) = basic::resolve(args, env)? {
        return Ok(found);
    }
    if let Some(t) = env("ACR_INDEX_REFRESH_TOKEN") {
        return Ok((
            Credential::RefreshToken(Secret::new(t)),
            "ACR refresh token from ACR_INDEX_REFRESH_TOKEN".into(),
        ));
    }
    let tenant = env("AZURE_TENANT_ID");
    let aad = if let Some(source) = entra::static_token(args, env)? {
        Some(source)
    } else if let Some(source) = entra::workload_identity(env)? {
        Some(source)
    } else if args.managed_identity {
        Some(entra::managed_identity(env)?)
    } else {
        None
    };
    if let Some(source) = aad {
        // Workload identity names its own tenant; IMDS knows it already.
        let tenant = match &source {
            AadSource::Static { .. } => tenant,
            _ => None,
        };
        let exchange = AadExchange::new(source, tenant);
        let what = exchange.describe_source();
        return Ok((Credential::Exchange(Arc::new(exchange)), what));
    }
    if let Some(found) = docker::resolve(args, registry_host, env)? {
        return Ok(found);
    }
    if let Some(found) = podman::resolve(registry_host, env)? {
        return Ok(found);
    }
    if args.azure_cli {
        let (source, tenant) = azcli::token()?;
        let exchange = AadExchange::new(source, tenant);
        let what = exchange.describe_source();
        return Ok((Credential::Exchange(Arc::new(exchange)), what));
    }
    Ok((Credential::Anonymous, "anonymous".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(vars: &[(&str, &str)], args: CredentialArgs) -> anyhow::Result<(Credential, String)> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |k: &str| map.get(k).cloned().filter(|v| !v.is_empty());
        resolve_with(&args, "myacr.azurecr.io", &env)
    }

    fn none_home() -> Vec<(&'static str, &'static str)> {
        vec![("HOME", "/nonexistent-acr-index-home")]
    }

    #[test]
    fn order_is_the_spec_order() {
        let mut vars = none_home();
        vars.extend([
            ("ACR_INDEX_USERNAME", "u"),
            ("ACR_INDEX_PASSWORD", "p"),
            ("ACR_INDEX_REFRESH_TOKEN", "r"),
            ("ACR_INDEX_AAD_TOKEN", "a"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_TENANT_ID", "t"),
        ]);
        let (c, _) = run(&vars, CredentialArgs::default()).unwrap();
        assert!(matches!(c, Credential::Basic { .. }));
        vars.retain(|(k, _)| !k.starts_with("ACR_INDEX_USERNAME"));
        vars.retain(|(k, _)| *k != "ACR_INDEX_PASSWORD");
        let (c, _) = run(&vars, CredentialArgs::default()).unwrap();
        assert!(matches!(c, Credential::RefreshToken(_)));
        vars.retain(|(k, _)| *k != "ACR_INDEX_REFRESH_TOKEN");
        let (c, what) = run(&vars, CredentialArgs::default()).unwrap();
        assert!(matches!(c, Credential::Exchange(_)));
        assert!(what.contains("ACR_INDEX_AAD_TOKEN"), "{what}");
        vars.retain(|(k, _)| *k != "ACR_INDEX_AAD_TOKEN");
        let (_, what) = run(&vars, CredentialArgs::default()).unwrap();
        assert!(what.contains("workload identity"), "{what}");
        let (c, what) = run(&none_home(), CredentialArgs::default()).unwrap();
        assert!(matches!(c, Credential::Anonymous), "{what}");
        let mi = CredentialArgs {
            managed_identity: true,
            ..CredentialArgs::default()
        };
        let (_, what) = run(&none_home(), mi).unwrap();
        assert!(what.contains("managed identity"), "{what}");
    }

    #[test]
    fn descriptions_and_debug_hold_no_secret() {
        let mut vars = none_home();
        vars.extend([
            ("ACR_INDEX_USERNAME", "u"),
            ("ACR_INDEX_PASSWORD", "s3cret-pw"),
        ]);
        let (c, what) = run(&vars, CredentialArgs::default()).unwrap();
        assert!(!format!("{c:?} {what}").contains("s3cret-pw"));
        let (c, what) = run(
            &[("ACR_INDEX_AAD_TOKEN", "s3cret-aad")],
            CredentialArgs::default(),
        )
        .unwrap();
        assert!(!format!("{c:?} {what}").contains("s3cret-aad"));
    }

    #[test]
    fn half_given_credentials_are_usage_errors() {
        let e = run(&[("ACR_INDEX_USERNAME", "u")], CredentialArgs::default()).unwrap_err();
        assert!(e.to_string().contains("without a password"));
        let e = run(
            &[("AZURE_FEDERATED_TOKEN_FILE", "/f")],
            CredentialArgs::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("AZURE_CLIENT_ID"), "{e}");
    }
}
