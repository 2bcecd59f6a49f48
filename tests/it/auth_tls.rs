//! HTTPS with a private CA: --ca-file makes it work; without it the same
//! server is refused (TLS is always verified).

use crate::auth_acr::{all_rows, assert_acr_contract, seed};
use crate::auth_env::{summary, Env};
use crate::support::fake_acr::{Config, FakeAcr, Grants};
use std::collections::HashMap;

#[tokio::test(flavor = "multi_thread")]
async fn private_ca_with_ca_file_and_refused_without() {
    let acr = FakeAcr::start_tls(Config {
        users: HashMap::from([("u".to_string(), ("pw-SECRET".to_string(), Grants::all()))]),
        access_lifetime: 3600,
        ..Config::default()
    })
    .await;
    seed(&acr);
    assert!(acr.base.starts_with("https://"));
    let mut env = Env::new();
    env.set("ACR_INDEX_USERNAME", "u")
        .set("ACR_INDEX_PASSWORD", "pw-SECRET");

    let r = env.index(&acr.base, &["--retries", "0"]).await.fails();
    assert_eq!(r.code(), Some(1));
    let err = r.stderr().to_lowercase();
    assert!(
        err.contains("certificate") && (err.contains("unknown") || err.contains("issuer")),
        "not a clear TLS error: {err}"
    );
    assert!(
        acr.seen().requests.is_empty(),
        "a request got through without trust"
    );

    let ca = env.write("ca.pem", acr.ca_pem.as_deref().unwrap());
    let ca = ca.display().to_string();
    env.index(&acr.base, &["--ca-file", &ca]).await.ok();
    assert_eq!(summary(&env.rows().await), all_rows());
    // The storage hop is https too, trusted through the same CA.
    assert_acr_contract(&acr);
}
