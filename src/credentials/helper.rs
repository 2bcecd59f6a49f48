//! Docker credential helpers: `docker-credential-<name> get` with the
//! server on standard input, answering `{"Username": ..., "Secret": ...}`.
//! A Username of `<token>` means the Secret is an identity token (for ACR,
//! a refresh token).

use super::Lookup;
use crate::registry::auth::{Credential, Secret};
use anyhow::Context;
use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

#[derive(serde::Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// A helper that has not answered by then (waiting on a keychain prompt,
/// hung) is killed rather than hanging the run.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// Wait for the helper to exit, at most `limit`, then collect its output.
fn wait_bounded(mut child: Child, limit: Duration) -> anyhow::Result<Output> {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait()?.is_some() {
            return Ok(child.wait_with_output()?);
        }
        // SIGTERM ends this wait too (the signal handler runs already).
        if crate::registry::Shutdown::process().is_triggered() {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("interrupted; killed it");
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("no answer within {}s; killed it", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Run the helper. `Ok(None)` when it has no credentials for `server`.
pub fn get(name: &str, server: &str, env: &Lookup<'_>) -> anyhow::Result<Option<Credential>> {
    if name.is_empty() || name.contains(['/', '\\']) {
        anyhow::bail!("invalid docker credential helper name {name:?}");
    }
    let program = format!("docker-credential-{name}");
    let mut cmd = Command::new(&program);
    cmd.arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = env("PATH") {
        cmd.env("PATH", path);
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("running {program} (is it installed and on PATH?)"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is reported below.
        let _ = stdin.write_all(server.as_bytes());
        // Dropping stdin closes it: the helper sees the end of its input.
    }
    let out = wait_bounded(child, HELPER_TIMEOUT).with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        // Helpers answer "credentials not found in native keychain" on a miss.
        let stdout = String::from_utf8_lossy(&out.stdout);
        if stdout.contains("credentials not found") {
            return Ok(None);
        }
        // stderr/stdout are not shown: a broken helper could print anything.
        anyhow::bail!("{program} get failed ({})", out.status);
    }
    let answer: HelperAnswer = serde_json::from_slice(&out.stdout).map_err(|e| {
        anyhow::anyhow!(
            "{program} get answered something that is not its JSON (line {} column {})",
            e.line(),
            e.column()
        )
    })?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if answer.username == "<token>" {
        Credential::RefreshToken(Secret::new(answer.secret))
    } else {
        Credential::Basic {
            username: answer.username,
            password: Secret::new(answer.secret),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &std::path::Path, name: &str, body: &str) {
        let p = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn runs_helpers_from_path() {
        let dir = tempfile::tempdir().unwrap();
        script(
            dir.path(),
            "pw",
            r#"read s; [ "$1" = get ] && [ "$s" = "r.io" ] && echo '{"ServerURL":"r.io","Username":"u","Secret":"p"}'"#,
        );
        script(
            dir.path(),
            "tok",
            r#"echo '{"Username":"<token>","Secret":"rt"}'"#,
        );
        script(
            dir.path(),
            "miss",
            r#"echo "credentials not found in native keychain"; exit 1"#,
        );
        script(dir.path(), "broken", r#"echo "s3cret"; exit 3"#);
        let path = dir.path().display().to_string();
        let env = move |k: &str| (k == "PATH").then(|| path.clone());
        match get("pw", "r.io", &env).unwrap().unwrap() {
            Credential::Basic { username, password } => {
                assert_eq!((username.as_str(), password.expose()), ("u", "p"))
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(get("tok", "r.io", &env).unwrap(), Some(Credential::RefreshToken(t)) if t.expose() == "rt")
        );
        assert!(get("miss", "r.io", &env).unwrap().is_none());
        let e = get("broken", "r.io", &env).unwrap_err();
        assert!(!format!("{e:#}").contains("s3cret"));
        assert!(get("absent", "r.io", &env).is_err());
        assert!(get("../x", "r.io", &env).is_err());
    }

    #[test]
    fn a_hung_helper_is_killed() {
        let child = Command::new("sleep")
            .arg("5")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let err = wait_bounded(child, Duration::from_millis(100)).unwrap_err();
        assert!(err.to_string().contains("killed"), "{err}");
    }
}
