//! Source 1: a username and password (basic auth, an ACR admin user or a
//! repository-scoped token) from env vars, standard input or a file.

use super::Lookup;
use crate::cli::CredentialArgs;
use crate::config::UsageError;
use crate::registry::auth::{Credential, Secret};
use anyhow::Context;
use std::io::Read;

pub fn resolve(
    args: &CredentialArgs,
    env: &Lookup<'_>,
) -> anyhow::Result<Option<(Credential, String)>> {
    let username = args.username.clone().or_else(|| env("ACR_INDEX_USERNAME"));
    let (password, from) = if args.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from standard input")?;
        (Some(trim_line(s)), "--password-stdin")
    } else if let Some(path) = &args.password_file {
        let s = std::fs::read_to_string(path)
            .with_context(|| format!("reading --password-file {}", path.display()))?;
        (Some(trim_line(s)), "--password-file")
    } else {
        (env("ACR_INDEX_PASSWORD"), "ACR_INDEX_PASSWORD")
    };
    match (username, password) {
        (Some(username), Some(password)) => {
            if password.is_empty() {
                anyhow::bail!(UsageError(format!("the password from {from} is empty")));
            }
            let what = format!("username {username:?} with the password from {from}");
            Ok(Some((
                Credential::Basic {
                    username,
                    password: Secret::new(password),
                },
                what,
            )))
        }
        (Some(_), None) => anyhow::bail!(UsageError(
            "a username was given without a password: set ACR_INDEX_PASSWORD, or use --password-stdin or --password-file".into()
        )),
        (None, Some(_)) => anyhow::bail!(UsageError(
            "a password was given without a username: set ACR_INDEX_USERNAME or --username".into()
        )),
        (None, None) => Ok(None),
    }
}

fn trim_line(s: String) -> String {
    s.trim_end_matches(['\n', '\r']).to_string()
}
