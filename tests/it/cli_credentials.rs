//! Credentials people already have: podman/skopeo `auth.json` (against the
//! real registry with htpasswd) and the Azure CLI's login (a fake `az` on
//! PATH, against the fake ACR's exchange), in SPEC order after the docker
//! config.

use crate::auth_acr::{all_rows, fake_with_images};
use crate::auth_env::{summary, Env};
use crate::support::fake_acr::{Config, Grants};
use crate::support::registry::RealRegistry;
use crate::support::seed::{ImageSpec, Seeder};
use base64::Engine;
use std::collections::HashMap;

const USER: &str = "podder";
const PASSWORD: &str = "podman-pw-SECRET";
const AAD: &str = "az-cli-token-SECRET";

fn auth_json(host: &str, user: &str, password: &str) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    // podman keys may carry a repository path; the host part decides.
    format!(r#"{{"auths":{{"{host}/team":{{"auth":"{auth}"}}}}}}"#)
}

#[tokio::test(flavor = "multi_thread")]
async fn podman_auth_json_from_registry_auth_file_and_xdg_runtime_dir() {
    let reg = RealRegistry::start_with_htpasswd(USER, PASSWORD);
    let s = Seeder::with_basic(&reg.base_url(), USER, PASSWORD);
    let spec = ImageSpec::docker().label("org.opencontainers.image.revision", "p0d");
    s.push_image("team/api", "v1", &spec).await;
    let expected = vec![("team/api".to_string(), "v1".to_string(), "p0d".to_string())];

    let mut env = Env::new();
    let file = env.write("podman/auth.json", &auth_json(&reg.host(), USER, PASSWORD));
    env.set("REGISTRY_AUTH_FILE", file.display().to_string());
    let r = env.index(&reg.base_url(), &[]).await.ok();
    assert!(r.stderr().contains("podman auth file"), "{}", r.stderr());
    assert!(!r.stderr().contains(PASSWORD), "{}", r.stderr());
    assert_eq!(summary(&env.rows().await), expected);

    let mut env = Env::new();
    env.write(
        "run/containers/auth.json",
        &auth_json(&reg.host(), USER, PASSWORD),
    );
    let run = env.path("run").display().to_string();
    env.set("XDG_RUNTIME_DIR", run);
    let r = env.index(&reg.base_url(), &[]).await.ok();
    assert!(
        r.stderr().contains("containers/auth.json"),
        "{}",
        r.stderr()
    );

    // The docker config comes first: a wrong password there wins, and fails.
    let docker = auth_json(&reg.host(), USER, "wrong-SECRET").replace("/team", "");
    env.write("home/.docker/config.json", &docker);
    let r = env.index(&reg.base_url(), &[]).await.fails();
    assert!(r.stderr().contains("docker config"), "{}", r.stderr());

    // A named REGISTRY_AUTH_FILE must exist.
    let mut env = Env::new();
    env.set("REGISTRY_AUTH_FILE", "/nonexistent/auth.json");
    let r = env.index(&reg.base_url(), &[]).await.fails();
    assert!(
        r.stderr().contains("/nonexistent/auth.json"),
        "{}",
        r.stderr()
    );
}

fn az_config() -> Config {
    Config {
        aad_tokens: HashMap::from([(AAD.to_string(), Grants::all())]),
        refresh_lifetime: 3600,
        access_lifetime: 3600,
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn azure_cli_login_is_used_only_with_the_flag() {
    let acr = fake_with_images(az_config()).await;
    let env = Env::new();
    env.script(
        "az",
        &format!(
            r#"[ "$1 $2" = "account get-access-token" ] || exit 9
printf '{{"accessToken": "{AAD}", "expiresOn": "2099-01-01 00:00:00.000000", "subscription": "s", "tenant": "tenant-from-az", "tokenType": "Bearer"}}\n'"#
        ),
    );
    // Without --azure-cli the CLI is not asked: anonymous, and ACR refuses.
    let r = env.index(&acr.base, &[]).await;
    assert!(
        r.stderr().contains("credentials=anonymous"),
        "{}",
        r.stderr()
    );
    assert!(acr.seen().exchanges.is_empty());

    let r = env.index(&acr.base, &["--azure-cli"]).await.ok();
    assert!(r.stderr().contains("Azure CLI"), "{}", r.stderr());
    assert!(!r.stderr().contains(AAD), "{}", r.stderr());
    assert_eq!(summary(&env.rows().await), all_rows());
    let seen = acr.seen();
    assert_eq!(seen.exchanges[0].1.as_deref(), Some("tenant-from-az"));
}

#[tokio::test(flavor = "multi_thread")]
async fn azure_cli_failures_say_what_to_do() {
    let acr = fake_with_images(az_config()).await;
    let env = Env::new();
    // No az on PATH at all.
    let r = env.index(&acr.base, &["--azure-cli"]).await;
    assert_eq!(r.code(), Some(1), "{}", r.stderr());
    assert!(
        r.stderr().contains("install the Azure CLI"),
        "{}",
        r.stderr()
    );
    // az that is not logged in; its message (with a control character) is shown, escaped.
    env.script(
        "az",
        "printf 'ERROR: Please run \\033[31maz login\\033[0m to setup account.\\n' >&2; exit 1",
    );
    let r = env.index(&acr.base, &["--azure-cli"]).await;
    assert_eq!(r.code(), Some(1), "{}", r.stderr());
    assert!(r.stderr().contains("Please run"), "{}", r.stderr());
    assert!(!r.stderr().contains('\x1b'), "{:?}", r.stderr());
    // az that prints no token.
    env.script("az", "printf 'not json'");
    let r = env.index(&acr.base, &["--azure-cli"]).await;
    assert_eq!(r.code(), Some(1), "{}", r.stderr());
    assert!(r.stderr().contains("printed no token"), "{}", r.stderr());
}
