//! Docker config sources through the binary: `~/.docker/config.json` with
//! an identitytoken, `$DOCKER_CONFIG`, a Kubernetes `.dockerconfigjson`
//! given with --docker-config, and a credential helper on PATH.

use crate::auth_acr::{aad_config, all_rows, assert_acr_contract, fake_with_images};
use crate::auth_env::{summary, Env};
use crate::support::fake_acr::{Config, Grants};
use base64::Engine;
use std::collections::HashMap;
use std::path::Path;

const AAD: &str = "aad-access-token-SECRET-1";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn basic_config() -> Config {
    Config {
        users: HashMap::from([(
            "puller".to_string(),
            ("pull-pw-SECRET".to_string(), Grants::all()),
        )]),
        access_lifetime: 3600,
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn home_docker_config_identitytoken_is_a_refresh_token() {
    let acr = fake_with_images(aad_config(3600)).await;
    let refresh = acr.mint_refresh_token(AAD, 3600);
    let env = Env::new();
    // What `az acr login` writes: the all-zero user and an identitytoken,
    // which wins over `auth` in the same entry.
    let cfg = format!(
        r#"{{"auths":{{"{}":{{"auth":"{}","identitytoken":"{refresh}"}}}}}}"#,
        acr.host(),
        b64("00000000-0000-0000-0000-000000000000:wrong")
    );
    env.write("home/.docker/config.json", &cfg);
    let r = env.index(&acr.base, &[]).await.ok();
    assert!(r.stderr().contains("identitytoken"), "{}", r.stderr());
    assert_eq!(summary(&env.rows().await), all_rows());
    assert!(acr
        .seen()
        .tokens
        .iter()
        .all(|(k, _, _)| k == "refresh_token"));
    assert_acr_contract(&acr);
}

#[tokio::test(flavor = "multi_thread")]
async fn docker_config_env_dir_with_auth() {
    let acr = fake_with_images(basic_config()).await;
    let mut env = Env::new();
    let cfg = format!(
        r#"{{"auths":{{"https://{}/v1/":{{"auth":"{}"}}}}}}"#,
        acr.host(),
        b64("puller:pull-pw-SECRET")
    );
    env.write("dockercfg/config.json", &cfg);
    env.set("DOCKER_CONFIG", env.path("dockercfg").display().to_string());
    env.index(&acr.base, &[]).await.ok();
    assert_eq!(summary(&env.rows().await), all_rows());
    assert!(acr.seen().tokens.iter().all(|(k, _, _)| k == "basic"));
}

#[tokio::test(flavor = "multi_thread")]
async fn kubernetes_pull_secret_with_docker_config_flag() {
    let acr = fake_with_images(basic_config()).await;
    let env = Env::new();
    // As mounted from a `kubernetes.io/dockerconfigjson` secret.
    let cfg = format!(
        r#"{{"auths":{{"{}":{{"username":"puller","password":"pull-pw-SECRET","auth":"{}"}}}}}}"#,
        acr.host(),
        b64("puller:pull-pw-SECRET")
    );
    let path = env.write("secret/.dockerconfigjson", &cfg);
    let path = path.display().to_string();
    env.index(&acr.base, &["--docker-config", &path]).await.ok();
    assert_eq!(summary(&env.rows().await), all_rows());
    // An explicit path that does not exist is an error, not anonymous.
    let r = env
        .index(
            &acr.base,
            &["--docker-config", "/nonexistent/.dockerconfigjson"],
        )
        .await
        .fails();
    assert!(r.stderr().contains("docker config"), "{}", r.stderr());
}

#[tokio::test(flavor = "multi_thread")]
async fn credential_helper_from_cred_helpers_and_creds_store() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docker-credential-acrtest");
    // Username/Secret through credHelpers.
    let acr = fake_with_images(basic_config()).await;
    let mut env = Env::new();
    env.script_on_path("docker-credential-acrtest", &fixture);
    env.write(
        "home/.docker/config.json",
        &format!(r#"{{"credHelpers":{{"{}":"acrtest"}}}}"#, acr.host()),
    );
    env.set("ACRTEST_SERVER", acr.host())
        .set("ACRTEST_USERNAME", "puller")
        .set("ACRTEST_SECRET", "pull-pw-SECRET");
    let r = env.index(&acr.base, &[]).await.ok();
    assert!(
        r.stderr().contains("docker-credential-acrtest"),
        "{}",
        r.stderr()
    );
    assert_eq!(summary(&env.rows().await), all_rows());

    // `<token>` through credsStore: the Secret is an identity (refresh) token.
    let acr = fake_with_images(aad_config(3600)).await;
    let refresh = acr.mint_refresh_token(AAD, 3600);
    let mut env = Env::new();
    env.script_on_path("docker-credential-acrtest", &fixture);
    env.write(
        "home/.docker/config.json",
        r#"{"auths":{},"credsStore":"acrtest"}"#,
    );
    env.set("ACRTEST_SERVER", acr.host())
        .set("ACRTEST_USERNAME", "<token>")
        .set("ACRTEST_SECRET", &refresh);
    env.index(&acr.base, &[]).await.ok();
    assert_eq!(summary(&env.rows().await), all_rows());
    assert!(acr
        .seen()
        .tokens
        .iter()
        .all(|(k, _, _)| k == "refresh_token"));
}
