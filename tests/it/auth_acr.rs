//! ACR token flows against the in-process fake ACR: the Entra ID exchange,
//! the refresh-token grant, basic auth on /oauth2/token (admin user and
//! repository-scoped tokens), per-repository scopes, metadata_read
//! challenges and the blob redirect to storage without Authorization.

use crate::auth_env::{summary, triples, Env};
use crate::support::fake_acr::{Config, FakeAcr, Grants};
use std::collections::HashMap;

const AAD: &str = "aad-access-token-SECRET-1";

pub async fn fake_with_images(config: Config) -> FakeAcr {
    let acr = FakeAcr::start(config).await;
    seed(&acr);
    acr
}

pub fn seed(acr: &FakeAcr) {
    acr.image("team/a", "v1", "aaaa111");
    acr.image("team/a", "v2", "aaaa222");
    acr.image("team/b", "latest", "bbbb111");
}

pub fn all_rows() -> Vec<(String, String, String)> {
    triples(&[
        ("team/a", "v1", "aaaa111"),
        ("team/a", "v2", "aaaa222"),
        ("team/b", "latest", "bbbb111"),
    ])
}

pub fn aad_config(refresh_lifetime: i64) -> Config {
    Config {
        aad_tokens: HashMap::from([(AAD.to_string(), Grants::all())]),
        refresh_lifetime,
        access_lifetime: 3600,
        ..Config::default()
    }
}

/// What every ACR run must show: storage never saw Authorization, the
/// blobs came through the redirect, and tag listings asked for
/// metadata_read up front (ACR's realm tells it is ACR), so no listing
/// that carried a token was refused. This fake grants no wildcard (as ABAC
/// registries do not): a run that asked for one must still have named the
/// repositories.
pub fn assert_acr_contract(acr: &FakeAcr) {
    let seen = acr.seen();
    assert_eq!(seen.storage_refusals, 0, "Authorization sent to storage");
    assert!(seen.storage_served >= 3, "{seen:?}");
    assert!(
        !seen.requests.iter().any(|(m, p, s, a)| m == "GET"
            && p.ends_with("/tags/list")
            && *s == 401
            && a == "Bearer"),
        "a tag listing was refused its token: {seen:?}"
    );
    assert!(
        seen.tokens.iter().any(|(_, scopes, _)| scopes
            .iter()
            .any(|s| s.ends_with(":metadata_read") || s.contains(",metadata_read"))),
        "no token asked for metadata_read: {:?}",
        seen.tokens
    );
    assert!(
        seen.tokens
            .iter()
            .flat_map(|(_, s, _)| s)
            .any(|s| s.starts_with("repository:team/")),
        "no repository named in a token request: {:?}",
        seen.tokens
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn aad_token_from_env_is_exchanged_with_tenant() {
    let acr = fake_with_images(aad_config(3600)).await;
    let mut env = Env::new();
    env.set("ACR_INDEX_AAD_TOKEN", AAD)
        .set("AZURE_TENANT_ID", "tenant-123");
    env.index(&acr.base, &["--concurrency", "2"]).await.ok();
    assert_eq!(summary(&env.rows().await), all_rows());
    let seen = acr.seen();
    assert_eq!(seen.exchanges.len(), 1, "one refresh token for every scope");
    assert_eq!(seen.exchanges[0].1.as_deref(), Some("tenant-123"));
    assert!(seen.tokens.iter().all(|(k, _, _)| k == "refresh_token"));
    // Reuse: one access token per scope (catalog + 2 repositories), and
    // one more per repository at most when the challenge widens it.
    assert!(seen.tokens.len() <= 5, "{:?}", seen.tokens);
    let registry_requests = seen
        .requests
        .iter()
        .filter(|r| r.1.starts_with("/v2/"))
        .count();
    assert!(registry_requests > seen.tokens.len() * 2, "{seen:?}");
    assert_acr_contract(&acr);
}

#[tokio::test(flavor = "multi_thread")]
async fn aad_token_file_and_expired_refresh_token_is_exchanged_again() {
    // Refresh tokens already past their exp: the client must exchange again
    // for each new scope instead of reusing an expired refresh token.
    let acr = fake_with_images(aad_config(-1)).await;
    let env = Env::new();
    let file = env.write("aad-token", &format!("{AAD}\n"));
    let file = file.display().to_string();
    env.index(&acr.base, &["--aad-token-file", &file])
        .await
        .ok();
    assert_eq!(summary(&env.rows().await), all_rows());
    let seen = acr.seen();
    assert!(seen.exchanges.len() >= 2, "{:?}", seen.exchanges);
    assert_eq!(
        seen.exchanges[0].1, None,
        "no tenant when AZURE_TENANT_ID is unset"
    );
    assert_acr_contract(&acr);
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_token_from_env() {
    let acr = fake_with_images(aad_config(3600)).await;
    let refresh = acr.mint_refresh_token(AAD, 3600);
    let mut env = Env::new();
    env.set("ACR_INDEX_REFRESH_TOKEN", &refresh);
    env.index(&acr.base, &[]).await.ok();
    assert_eq!(summary(&env.rows().await), all_rows());
    let seen = acr.seen();
    assert!(seen.exchanges.is_empty());
    assert!(!seen.tokens.is_empty());
    assert!(seen.tokens.iter().all(|(k, _, _)| k == "refresh_token"));
    assert_acr_contract(&acr);
}

fn user_config(user: &str, pw: &str, grants: Grants) -> Config {
    Config {
        users: HashMap::from([(user.to_string(), (pw.to_string(), grants))]),
        access_lifetime: 3600,
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_user_basic_auth_on_token_endpoint() {
    let acr = fake_with_images(user_config("myacr", "admin-pw-SECRET", Grants::all())).await;
    let mut env = Env::new();
    env.set("ACR_INDEX_USERNAME", "myacr")
        .set("ACR_INDEX_PASSWORD", "admin-pw-SECRET");
    env.index(&acr.base, &[]).await.ok();
    assert_eq!(summary(&env.rows().await), all_rows());
    let seen = acr.seen();
    assert!(seen.tokens.iter().all(|(k, _, _)| k == "basic"));
    assert!(
        seen.requests
            .iter()
            .filter(|r| r.1.starts_with("/v2/"))
            .all(|r| r.3 != "Basic"),
        "basic credentials go to the token endpoint, not to /v2"
    );
    assert_acr_contract(&acr);
}

#[tokio::test(flavor = "multi_thread")]
async fn password_from_stdin_and_from_file() {
    let acr = fake_with_images(user_config("puller", "pw-SECRET", Grants::all())).await;
    let mut env = Env::new();
    env.stdin("pw-SECRET\n");
    env.index(&acr.base, &["--username", "puller", "--password-stdin"])
        .await
        .ok();
    assert_eq!(summary(&env.rows().await), all_rows());

    let env = Env::new();
    let file = env.write("pw", "pw-SECRET\n").display().to_string();
    let r = env
        .index(
            &acr.base,
            &["--username", "puller", "--password-file", &file],
        )
        .await
        .ok();
    assert!(!r.stderr().contains("pw-SECRET"));
    assert_eq!(summary(&env.rows().await), all_rows());
}

#[tokio::test(flavor = "multi_thread")]
async fn repository_scoped_token_cannot_list_the_catalog_or_other_repositories() {
    let acr = fake_with_images(user_config(
        "a-reader",
        "tok-SECRET",
        Grants::repos(&["team/a"]),
    ))
    .await;
    let mut env = Env::new();
    env.set("ACR_INDEX_USERNAME", "a-reader")
        .set("ACR_INDEX_PASSWORD", "tok-SECRET");

    // Without a repository list: one clear sentence, exit status 1.
    let r = env.index(&acr.base, &[]).await.fails();
    assert_eq!(r.code(), Some(1));
    let err = r.stderr();
    assert!(
        err.contains("credentials scoped to repositories cannot list it")
            && err.contains("--repo NAME or --repos-from FILE"),
        "{err}"
    );

    // Named: team/a is indexed; team/b is refused (scopes are per repository),
    // which is a partial run (exit 3), not a crash.
    let list = env
        .write("repos.txt", "team/a\nteam/b\n")
        .display()
        .to_string();
    let r = env.index(&acr.base, &["--repos-from", &list]).await;
    assert_eq!(r.code(), Some(3), "{}", r.stderr());
    assert_eq!(
        summary(&env.rows().await),
        triples(&[("team/a", "v1", "aaaa111"), ("team/a", "v2", "aaaa222")])
    );
    let seen = acr.seen();
    // team/b was asked for (beside team/a: scopes are batched) and not
    // granted: nothing of it was served.
    assert!(
        seen.tokens
            .iter()
            .any(|(_, s, _)| s.iter().any(|s| s.starts_with("repository:team/b:"))),
        "no token asked for team/b: {:?}",
        seen.tokens
    );
    assert!(seen
        .requests
        .iter()
        .all(|(_, p, s, _)| !(p.starts_with("/v2/team/b/") && *s == 200)));

    // --repo NAME works the same way.
    let env2 = {
        let mut e = Env::new();
        e.set("ACR_INDEX_USERNAME", "a-reader")
            .set("ACR_INDEX_PASSWORD", "tok-SECRET");
        e
    };
    env2.index(&acr.base, &["--repo", "team/a"]).await.ok();
    assert_eq!(env2.rows().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_only_scope_map_cannot_list_tags() {
    // content/read without metadata/read: the tag listing is refused even
    // after asking for metadata_read; reported per repository.
    let acr = fake_with_images(user_config(
        "p",
        "pw-SECRET",
        Grants::pull_only(&["team/a"]),
    ))
    .await;
    let mut env = Env::new();
    env.set("ACR_INDEX_USERNAME", "p")
        .set("ACR_INDEX_PASSWORD", "pw-SECRET");
    let r = env.index(&acr.base, &["--repo", "team/a"]).await;
    assert_eq!(r.code(), Some(3), "{}", r.stderr());
    assert!(r.stderr().contains("401"), "{}", r.stderr());
}
