//! Where credentials come from, tried in SPEC.md's order; the first source
//! that applies wins. Secrets are read from env vars and files only.

use crate::cli::CredentialArgs;
use crate::registry::auth::{Credential, Secret};
use anyhow::Context;
use std::io::Read;

/// The credential for a registry and a description of its source for logs.
pub fn resolve(
    args: &CredentialArgs,
    _registry_host: &str,
) -> anyhow::Result<(Credential, String)> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let username = args.username.clone().or_else(|| env("ACR_INDEX_USERNAME"));
    let password = if args.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from standard input")?;
        Some(s.trim_end_matches(['\n', '\r']).to_string())
    } else if let Some(path) = &args.password_file {
        let s = std::fs::read_to_string(path)
            .with_context(|| format!("reading --password-file {}", path.display()))?;
        Some(s.trim_end_matches(['\n', '\r']).to_string())
    } else {
        env("ACR_INDEX_PASSWORD")
    };
    match (username, password) {
        (Some(username), Some(password)) => {
            return Ok((
                Credential::Basic {
                    username,
                    password: Secret::new(password),
                },
                "ACR_INDEX_USERNAME/password".into(),
            ))
        }
        (Some(_), None) => anyhow::bail!(crate::config::UsageError(
            "a username was given without a password: set ACR_INDEX_PASSWORD, or use --password-stdin or --password-file".into()
        )),
        (None, Some(_)) => anyhow::bail!(crate::config::UsageError(
            "a password was given without a username: set ACR_INDEX_USERNAME or --username".into()
        )),
        (None, None) => {}
    }
    if let Some(t) = env("ACR_INDEX_REFRESH_TOKEN") {
        return Ok((
            Credential::RefreshToken(Secret::new(t)),
            "ACR_INDEX_REFRESH_TOKEN".into(),
        ));
    }
    Ok((Credential::Anonymous, "anonymous".into()))
}
