//! Azure workload identity and managed identity (IMDS), against the fake
//! ACR's Entra ID / IMDS listener on 127.0.0.1.

use crate::auth_acr::{all_rows, assert_acr_contract, seed};
use crate::auth_env::{summary, Env};
use crate::support::fake_acr::{Config, FakeAcr, Grants, Workload};

#[tokio::test(flavor = "multi_thread")]
async fn workload_identity_rereads_the_rotated_token_file() {
    let env = Env::new();
    let token_file = env.write("azure-identity-token", "federated-assertion-1-SECRET");
    let acr = FakeAcr::start(Config {
        // Refresh tokens come back already expired, so every new scope
        // needs a new Entra ID token, and so a new read of the file.
        refresh_lifetime: -1,
        access_lifetime: 3600,
        workload: Some(Workload {
            client_id: "client-abc".into(),
            tenant: "tenant-xyz".into(),
            assertions: vec![
                "federated-assertion-1-SECRET".into(),
                "federated-assertion-2-SECRET".into(),
            ],
            grants: Grants::all(),
            // The kubelet rotates the projected token during the run.
            rotate: Some((token_file.clone(), "federated-assertion-2-SECRET".into())),
        }),
        ..Config::default()
    })
    .await;
    seed(&acr);
    let mut env = env;
    env.set(
        "AZURE_FEDERATED_TOKEN_FILE",
        token_file.display().to_string(),
    )
    .set("AZURE_CLIENT_ID", "client-abc")
    .set("AZURE_TENANT_ID", "tenant-xyz")
    .set("AZURE_AUTHORITY_HOST", &acr.login_base);
    let r = env.index(&acr.base, &["--concurrency", "1"]).await.ok();
    assert!(r.stderr().contains("workload identity"), "{}", r.stderr());
    assert_eq!(summary(&env.rows().await), all_rows());
    let seen = acr.seen();
    assert!(
        seen.entra_assertions.len() >= 2,
        "{:?}",
        seen.entra_assertions
    );
    assert_eq!(seen.entra_assertions[0], "federated-assertion-1-SECRET");
    assert!(
        seen.entra_assertions[1..]
            .iter()
            .all(|a| a == "federated-assertion-2-SECRET"),
        "the rotated file was not re-read: {:?}",
        seen.entra_assertions
    );
    // The workload identity's tenant is in the Entra URL, not the exchange.
    assert!(seen.exchanges.len() >= 2);
    assert_acr_contract(&acr);
}

#[tokio::test(flavor = "multi_thread")]
async fn workload_identity_refuses_plain_http_authority_off_loopback() {
    let mut env = Env::new();
    let f = env.write("tok", "x");
    env.set("AZURE_FEDERATED_TOKEN_FILE", f.display().to_string())
        .set("AZURE_CLIENT_ID", "c")
        .set("AZURE_TENANT_ID", "t")
        .set("AZURE_AUTHORITY_HOST", "http://login.example.com/");
    let r = env.index("http://127.0.0.1:9", &[]).await.fails();
    assert_eq!(r.code(), Some(2), "{}", r.stderr());
    assert!(
        r.stderr().contains("AZURE_AUTHORITY_HOST"),
        "{}",
        r.stderr()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_identity_through_imds_only_when_asked() {
    let acr = FakeAcr::start(Config {
        refresh_lifetime: 3600,
        access_lifetime: 3600,
        imds: Some((Some("mi-client-1".into()), Grants::all())),
        ..Config::default()
    })
    .await;
    seed(&acr);
    let mut env = Env::new();
    env.set(
        "ACR_INDEX_IMDS_ENDPOINT",
        format!("{}/metadata/identity/oauth2/token", acr.login_base),
    )
    .set("AZURE_CLIENT_ID", "mi-client-1");

    // Without --managed-identity, IMDS is never asked (anonymous is refused).
    let r = env.index(&acr.base, &[]).await.fails();
    assert!(acr.seen().imds_queries.is_empty(), "{}", r.stderr());

    env.index(&acr.base, &["--managed-identity"]).await.ok();
    assert_eq!(summary(&env.rows().await), all_rows());
    let seen = acr.seen();
    assert_eq!(seen.imds_queries.len(), 1, "{:?}", seen.imds_queries);
    assert!(seen.imds_queries[0].contains("client_id=mi-client-1"));
    assert_eq!(seen.exchanges.len(), 1);
    assert_acr_contract(&acr);
}
