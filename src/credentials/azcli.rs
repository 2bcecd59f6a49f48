//! Source 6c, only with `--azure-cli`: the Azure CLI's own login. Runs
//! `az account get-access-token --output json` (what a developer who did
//! `az login` already has) and exchanges the Entra ID token like
//! `ACR_INDEX_AAD_TOKEN`. The token lives about an hour; it is read once
//! per run. Its text is never logged; az's own error line is.

use super::entra::AadSource;
use crate::registry::auth::Secret;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// az starts Python; a first call can take seconds, a hung one is cut.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Bounds what is read from az (a token response is a few KiB).
const MAX_OUTPUT: u64 = 64 * 1024;

#[derive(serde::Deserialize)]
struct TokenOutput {
    #[serde(rename = "accessToken")]
    access_token: String,
    tenant: Option<String>,
}

/// The token source and the tenant az names, or an error saying what to do.
pub fn token() -> anyhow::Result<(AadSource, Option<String>)> {
    let mut child = Command::new("az")
        .args(["account", "get-access-token", "--output", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!(
                "--azure-cli: cannot run `az` ({e}); install the Azure CLI and run `az login`"
            )
        })?;
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!(
                "--azure-cli: `az account get-access-token` did not answer within {}s",
                TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    if let Some(o) = child.stdout.take() {
        o.take(MAX_OUTPUT).read_to_end(&mut out)?;
    }
    if let Some(e) = child.stderr.take() {
        e.take(MAX_OUTPUT).read_to_end(&mut err)?;
    }
    if !status.success() {
        let text = String::from_utf8_lossy(&err);
        let first = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        anyhow::bail!(
            "--azure-cli: `az account get-access-token` failed ({status}): {}; run `az login`",
            crate::output::escape::control(first.trim())
        );
    }
    // Only the position: serde_json's messages can quote a value.
    let parsed: TokenOutput = serde_json::from_slice(&out).map_err(|e| {
        anyhow::anyhow!(
            "--azure-cli: `az account get-access-token` printed no token (JSON error at line {} column {})",
            e.line(),
            e.column()
        )
    })?;
    let token = parsed.access_token.trim();
    if token.is_empty() {
        anyhow::bail!("--azure-cli: `az account get-access-token` printed an empty token");
    }
    Ok((
        AadSource::Static {
            token: Secret::new(token),
            from: "the Azure CLI (az account get-access-token)".into(),
        },
        parsed.tenant.filter(|t| !t.is_empty()),
    ))
}
