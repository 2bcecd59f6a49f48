//! Secrets never reach stderr at the highest verbosity (-vv and
//! RUST_LOG=trace), the database, or --help. Every secret these tests use
//! contains the marker `SECRET`; tokens the fake issues are JWTs, so no
//! `eyJ` (a base64 JWT header) may appear either.

use crate::auth_acr::seed;
use crate::auth_env::{Env, Run};
use crate::support::fake_acr::{Config, FakeAcr, Grants, Workload, SAS_SIG};
use base64::Engine;
use std::collections::HashMap;

const MARKER: &str = "SECRET";

fn assert_clean(what: &str, text: &str, extra: &[&str]) {
    for needle in [MARKER, "eyJ", SAS_SIG].iter().chain(extra) {
        assert!(
            !text.contains(needle),
            "{what} contains the secret {needle:?}:\n{text}"
        );
    }
}

fn loud(env: &mut Env) -> &mut Env {
    env.set("RUST_LOG", "trace")
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_logs_errors_database_or_help() {
    let mut env = Env::new();
    let token_file = env.write("federated-token", "federated-assertion-1-SECRET");
    let acr = FakeAcr::start(Config {
        users: HashMap::from([(
            "admin".to_string(),
            ("admin-pw-SECRET".to_string(), Grants::all()),
        )]),
        aad_tokens: HashMap::from([("aad-token-SECRET".to_string(), Grants::all())]),
        refresh_lifetime: -1,
        access_lifetime: 3600,
        workload: Some(Workload {
            client_id: "client-1".into(),
            tenant: "tenant-1".into(),
            assertions: vec![
                "federated-assertion-1-SECRET".into(),
                "federated-assertion-2-SECRET".into(),
            ],
            grants: Grants::all(),
            rotate: Some((token_file.clone(), "federated-assertion-2-SECRET".into())),
        }),
        imds: Some((None, Grants::all())),
    })
    .await;
    seed(&acr);
    let basic_b64 = base64::engine::general_purpose::STANDARD.encode("admin:admin-pw-SECRET");
    let extra = [basic_b64.as_str()];
    let base = acr.base.clone();
    let mut runs: Vec<Run> = Vec::new();
    let db = env.db();
    let index = ["-vv", "index", "--registry", &base, "--db", &db, "--full"];

    // 1. basic (admin user) - success, then a wrong password.
    loud(&mut env)
        .set("ACR_INDEX_USERNAME", "admin")
        .set("ACR_INDEX_PASSWORD", "admin-pw-SECRET");
    runs.push(env.run(&index).await.ok());
    let mut bad = Env::new();
    loud(&mut bad)
        .set("ACR_INDEX_USERNAME", "admin")
        .set("ACR_INDEX_PASSWORD", "wrong-pw-SECRET");
    runs.push(bad.run(&index).await.fails());

    // 2. refresh token, then the exchange (good and refused).
    let refresh = acr.mint_refresh_token("aad-token-SECRET", 3600);
    let mut e = Env::new();
    loud(&mut e).set("ACR_INDEX_REFRESH_TOKEN", &refresh);
    runs.push(e.run(&index).await.ok());
    let mut e = Env::new();
    loud(&mut e).set("ACR_INDEX_AAD_TOKEN", "aad-token-SECRET");
    runs.push(e.run(&index).await.ok());
    let mut e = Env::new();
    loud(&mut e).set("ACR_INDEX_AAD_TOKEN", "unknown-aad-token-SECRET");
    runs.push(e.run(&index).await.fails());

    // 3. workload identity (file rotated during the run), then a refused assertion.
    let mut e = Env::new();
    loud(&mut e)
        .set(
            "AZURE_FEDERATED_TOKEN_FILE",
            token_file.display().to_string(),
        )
        .set("AZURE_CLIENT_ID", "client-1")
        .set("AZURE_TENANT_ID", "tenant-1")
        .set("AZURE_AUTHORITY_HOST", &acr.login_base);
    runs.push(e.run(&index).await.ok());
    let bad_file = e.write("bad-token", "unknown-assertion-SECRET");
    e.set("AZURE_FEDERATED_TOKEN_FILE", bad_file.display().to_string());
    runs.push(e.run(&index).await.fails());

    // 4. managed identity.
    let mut e = Env::new();
    loud(&mut e).set(
        "ACR_INDEX_IMDS_ENDPOINT",
        format!("{}/metadata/identity/oauth2/token", acr.login_base),
    );
    let mi = [
        "-vv",
        "index",
        "--registry",
        &base,
        "--db",
        &db,
        "--managed-identity",
    ];
    runs.push(e.run(&mi).await.ok());

    // 5. docker config with an identitytoken, and one whose auth is not base64.
    let e = {
        let mut e = Env::new();
        loud(&mut e);
        e
    };
    e.write(
        "home/.docker/config.json",
        &format!(
            r#"{{"auths":{{"{}":{{"identitytoken":"{refresh}"}}}}}}"#,
            acr.host()
        ),
    );
    runs.push(e.run(&index).await.ok());
    e.write(
        "home/.docker/config.json",
        &format!(
            r#"{{"auths":{{"{}":{{"auth":"not-base64-SECRET"}}}}}}"#,
            acr.host()
        ),
    );
    runs.push(e.run(&index).await.fails());

    let seen = acr.seen();
    assert!(seen.entra_assertions.len() >= 2 && !seen.imds_queries.is_empty());
    assert!(seen.storage_served > 0 && seen.storage_refusals == 0);
    for r in &runs {
        assert!(
            r.stderr().contains("TRACE") || r.stderr().contains("DEBUG") || r.code() != Some(0)
        );
        assert_clean(&format!("stderr of {:?}", r.args), &r.stderr(), &extra);
        assert_clean(&format!("stdout of {:?}", r.args), &r.stdout(), &extra);
    }
    // The trace level really is on: transport-level lines are present.
    assert!(runs[0].stderr().contains("TRACE"), "{}", runs[0].stderr());

    let db_bytes = std::fs::read(env.path("index.db")).unwrap();
    assert_clean("the database", &String::from_utf8_lossy(&db_bytes), &extra);
    assert!(!db_bytes
        .windows(MARKER.len())
        .any(|w| w == MARKER.as_bytes()));

    for args in [&["--help"][..], &["index", "--help"][..]] {
        let r = env.run(args).await.ok();
        assert_clean(&format!("{args:?}"), &r.stdout(), &extra);
    }
}
