//! Referrers against the in-process fake: the OCI 1.1 API (paging, the
//! filter header) on an ACR-like registry, and a registry without it.

use crate::support::cli::{Env, Run};
use crate::support::fake_referrers::*;
use crate::support::fake_registry::{FakeRegistry, Options};
use serde_json::{json, Value};

fn run(env: &Env, args: &[&str]) -> Run {
    tokio::task::block_in_place(|| env.run(args))
}

fn index(env: &Env, fake: &FakeRegistry, extra: &[&str]) -> Run {
    let mut args = vec![
        "index",
        "--registry",
        fake.url.as_str(),
        "--concurrency",
        "4",
    ];
    args.extend_from_slice(extra);
    run(env, &args)
}

fn last_requests(env: &Env) -> Value {
    run(env, &["runs", "--format", "json", "--limit", "1"])
        .success()
        .json()[0]["requests"]
        .clone()
}

fn referrers_requests(env: &Env) -> u64 {
    last_requests(env)["referrers"].as_u64().unwrap_or(0)
}

/// `query --format json` with `extra` filters: the tags it gives.
fn tags(env: &Env, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["query", "--format", "json"];
    args.extend_from_slice(extra);
    let mut t: Vec<String> = run(env, &args)
        .success()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag"].as_str().unwrap().to_string())
        .filter(|t| !t.starts_with("sha256-"))
        .collect();
    t.sort();
    t
}

fn row<'a>(rows: &'a Value, tag: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["tag"] == tag)
        .unwrap_or_else(|| panic!("no row {tag}: {rows}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acr_referrers_api_signatures_sboms_attestations_and_economy() {
    let fake = FakeRegistry::start(Options {
        acr_api: true,
        // Two per page: every subject with more is paged by Link.
        referrers: Some(ReferrersApi {
            page_size: 2,
            filters: true,
        }),
        ..Options::default()
    })
    .await;
    // No commit label: the SLSA attestation referrer is its provenance.
    let (signed, _) = fake.put_image("app", "v1", json!({}));
    let (bare, _) = fake.put_image(
        "app",
        "v2",
        json!({"org.opencontainers.image.revision": "bbb"}),
    );
    let notation = push_referrer(
        &fake,
        "app",
        &signed,
        NOTATION,
        "application/jose+json",
        b"{\"sig\":1}",
        &[
            ("org.opencontainers.image.created", "2024-03-01T10:00:00Z"),
            ("io.cncf.notary.x509chain.thumbprint#S256", "[\"ab\"]"),
        ],
    );
    let spdx = push_referrer(
        &fake,
        "app",
        &signed,
        SPDX,
        SPDX,
        b"{\"spdxVersion\":\"SPDX-2.3\"}",
        &[],
    );
    let cdx = push_referrer(
        &fake,
        "app",
        &signed,
        CYCLONEDX,
        CYCLONEDX,
        b"{\"bomFormat\":\"CycloneDX\"}",
        &[],
    );
    let statement = slsa_statement(
        &signed,
        "https://github.com/acme/app",
        "0123456789abcdef0123456789abcdef01234567",
    );
    let slsa = push_referrer(
        &fake,
        "app",
        &signed,
        "application/vnd.in-toto+json",
        DSSE,
        &dsse(&statement),
        &[],
    );
    // A signature on the SBOM: a referrer of a referrer.
    let sbom_sig = push_referrer(
        &fake,
        "app",
        &spdx,
        NOTATION,
        "application/jose+json",
        b"{\"sig\":2}",
        &[],
    );

    let env = Env::new();
    index(&env, &fake, &["--api", "acr"]).success();
    let cold = last_requests(&env);
    assert!(cold["referrers"].as_u64().unwrap() >= 3, "{cold}");
    assert_eq!(
        cold["referrers"].as_u64().unwrap() as usize,
        fake.count("GET", "/referrers/"),
        "{cold}"
    );

    let rows = run(&env, &["query", "--format", "json"]).success().json();
    let refs = row(&rows, "v1")["referrers"].as_array().unwrap().clone();
    let find = |d: &str| {
        refs.iter()
            .find(|r| r["digest"] == d)
            .unwrap_or_else(|| panic!("{d} missing: {refs:?}"))
    };
    assert_eq!(refs.len(), 5, "{refs:?}");
    assert_eq!(find(&notation)["artifact_type"], NOTATION);
    assert_eq!(
        find(&notation)["annotations"]["org.opencontainers.image.created"],
        "2024-03-01T10:00:00Z"
    );
    assert_eq!(find(&notation)["kind"], "signature");
    assert_eq!(find(&spdx)["format"], "spdx");
    assert_eq!(find(&cdx)["format"], "cyclonedx");
    assert_eq!(find(&slsa)["kind"], "attestation");
    assert_eq!(find(&slsa)["format"], "https://slsa.dev/provenance/v1");
    // The statement is kept for provenance (origin `referrer`).
    let store = acr_index::store::Store::open_ro(&env.db()).unwrap();
    let statements = store.referrer_statements(&signed).unwrap();
    assert_eq!(statements.len(), 1);
    let st: Value = serde_json::from_str(&statements[0]).unwrap();
    assert_eq!(st["predicateType"], "https://slsa.dev/provenance/v1");
    assert!(store.referrer_statements(&bare).unwrap().is_empty());
    drop(store);
    let p = &row(&rows, "v1")["provenance"];
    assert_eq!(
        p["commit"], "0123456789abcdef0123456789abcdef01234567",
        "{p}"
    );
    assert_eq!(p["origin"], "referrer", "{p}");
    assert_eq!(p["source"], "https://github.com/acme/app", "{p}");
    assert_eq!(row(&rows, "v2")["provenance"]["origin"], "label");
    assert_eq!(
        find(&sbom_sig)["subject"],
        spdx.as_str(),
        "kept as a signature on the SBOM"
    );
    assert_eq!(find(&notation)["subject"], signed.as_str());
    assert_eq!(row(&rows, "v2")["referrers"], json!([]));

    assert_eq!(tags(&env, &["--signed"]), ["v1"]);
    assert_eq!(tags(&env, &["--unsigned"]), ["v2"]);
    assert_eq!(tags(&env, &["--artifact-type", SPDX]), ["v1"]);
    assert_eq!(
        tags(
            &env,
            &[
                "--artifact-type",
                "cyclonedx",
                "--artifact-type",
                "notation"
            ]
        ),
        ["v1"]
    );
    assert_eq!(
        tags(&env, &["--artifact-type", "application/vnd.example"]),
        Vec::<String>::new()
    );

    let show = run(&env, &["show", "app:v1"]).success().stdout;
    for want in [
        "signatures",
        "notation",
        "sboms",
        "spdx",
        "cyclonedx",
        "attestations",
        "https://slsa.dev/provenance/v1",
    ] {
        assert!(show.contains(want), "{want} missing from:\n{show}");
    }
    let show = run(&env, &["show", "app:v1", "--format", "json"])
        .success()
        .json();
    assert_eq!(show["images"][0]["referrers"].as_array().unwrap().len(), 5);

    // The second run lists the repository once more (its lastUpdateTime is
    // stored from now on); then, warm and unchanged, ACR's repository skip
    // leaves referrers alone too.
    index(&env, &fake, &["--api", "acr"]).success();
    let before = fake.count("GET", "/referrers/");
    index(&env, &fake, &["--api", "acr"]).success();
    assert_eq!(referrers_requests(&env), 0, "{}", last_requests(&env));
    assert_eq!(fake.count("GET", "/referrers/"), before);

    // Signed after the first run: ACR bumps lastUpdateTime, the next run finds it.
    push_referrer(
        &fake,
        "app",
        &bare,
        NOTATION,
        "application/jose+json",
        b"{\"sig\":3}",
        &[],
    );
    index(&env, &fake, &["--api", "acr"]).success();
    assert!(referrers_requests(&env) >= 1);
    assert_eq!(tags(&env, &["--unsigned"]), Vec::<String>::new());
    assert_eq!(tags(&env, &["--signed"]), ["v1", "v2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_api_one_probe_per_run_then_the_tag_schema() {
    let fake = FakeRegistry::start(Options::default()).await;
    let (notary, _) = fake.put_image("app", "notary", json!({}));
    let (cosigned, _) = fake.put_image("app", "cosigned", json!({}));
    let (none, _) = fake.put_image("app", "none", json!({}));
    fake.put_image("other", "v1", json!({}));
    // `notation sign` on a registry without the API: the signature untagged,
    // and the index of referrers tagged sha256-<hex>.
    let sig = push_referrer(
        &fake,
        "app",
        &notary,
        NOTATION,
        "application/jose+json",
        b"{\"n\":1}",
        &[],
    );
    let (mt, size) = fake.manifest_info(&sig);
    push_fallback_index(
        &fake,
        "app",
        &notary,
        &[json!({"mediaType": mt, "digest": sig, "size": size, "artifactType": NOTATION})],
    );
    push_cosign_signature(&fake, "app", &cosigned);

    let env = Env::new();
    index(&env, &fake, &[]).success();
    // One failed probe for the whole run, in whichever repository got
    // there first; the other waited for its answer.
    assert_eq!(
        fake.count("GET", "/v2/app/referrers/") + fake.count("GET", "/v2/other/referrers/"),
        1,
        "one failed probe per run"
    );
    // The probe and the one sha256-<hex> tag that exists.
    assert_eq!(referrers_requests(&env), 2, "{}", last_requests(&env));
    assert_eq!(tags(&env, &["--signed"]), ["cosigned", "notary"]);
    assert_eq!(tags(&env, &["--unsigned", "--repo", "app"]), ["none"]);
    let rows = run(&env, &["query", "--format", "json", "--tag", "cosigned"])
        .success()
        .json();
    let r = &rows[0]["referrers"][0];
    assert_eq!(r["format"], "cosign");
    assert_eq!(r["source"], "cosign-tag");
    let rows = run(&env, &["query", "--format", "json", "--tag", "notary"])
        .success()
        .json();
    assert_eq!(rows[0]["referrers"][0]["source"], "tag-schema");
    assert_eq!(rows[0]["referrers"][0]["digest"], sig.as_str());

    // Warm: nothing new, nothing due; not even a probe, and the cosign
    // signature costs nothing beyond its tag's HEAD.
    index(&env, &fake, &[]).success();
    let warm = last_requests(&env);
    assert_eq!(referrers_requests(&env), 0, "{warm}");
    assert_eq!(warm.get("manifest_get"), None, "{warm}");
    assert_eq!(warm.get("blob_get"), None, "{warm}");

    // A signature added by tag schema after the first run: the new tag is the signal.
    let sig2 = push_referrer(
        &fake,
        "app",
        &none,
        NOTATION,
        "application/jose+json",
        b"{\"n\":2}",
        &[],
    );
    let (mt, size) = fake.manifest_info(&sig2);
    push_fallback_index(
        &fake,
        "app",
        &none,
        &[json!({"mediaType": mt, "digest": sig2, "size": size, "artifactType": NOTATION})],
    );
    index(&env, &fake, &[]).success();
    assert_eq!(
        referrers_requests(&env),
        2,
        "one probe, one tag: {}",
        last_requests(&env)
    );
    assert_eq!(
        tags(&env, &["--unsigned", "--repo", "app"]),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_referrer_pages_fail_that_image_only() {
    let fake = FakeRegistry::start(Options {
        referrers: Some(ReferrersApi {
            page_size: 1,
            filters: false,
        }),
        ..Options::default()
    })
    .await;
    let (flooded, _) = fake.put_image("app", "flooded", json!({}));
    let (fine, _) = fake.put_image("app", "fine", json!({}));
    for i in 0..21 {
        push_referrer(
            &fake,
            "app",
            &flooded,
            "application/example",
            "application/example",
            format!("{i}").as_bytes(),
            &[],
        );
    }
    push_referrer(
        &fake,
        "app",
        &fine,
        NOTATION,
        "application/jose+json",
        b"{}",
        &[],
    );
    let env = Env::new();
    index(&env, &fake, &[]).expect_code(3);
    let runs = run(&env, &["runs", "--format", "json", "--limit", "1"])
        .success()
        .json();
    let errors = runs[0]["errors"].to_string();
    assert!(
        errors.contains("more than 20 pages") && errors.contains(&flooded),
        "{errors}"
    );
    assert_eq!(tags(&env, &["--signed"]), ["fine"]);
}

#[test]
fn conflicting_or_empty_referrer_filters_are_usage_errors() {
    let env = Env::new();
    let r = env.run(&["query", "--signed", "--unsigned"]).expect_code(2);
    assert!(r.stderr.contains("--unsigned"), "{}", r.stderr);
    let r = env.run(&["query", "--artifact-type", " "]).expect_code(2);
    assert!(r.stderr.contains("--artifact-type"), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
}

/// The artifactType filter through the library client: taken as applied
/// only when the registry says so, filtered by the client otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifact_type_filter_is_trusted_only_with_the_header() {
    use acr_index::registry::{auth::Credential, Client, Settings, Shutdown};
    for filters in [true, false] {
        let fake = FakeRegistry::start(Options {
            referrers: Some(ReferrersApi {
                page_size: 100,
                filters,
            }),
            ..Options::default()
        })
        .await;
        let (img, _) = fake.put_image("app", "v1", json!({}));
        let sig = push_referrer(
            &fake,
            "app",
            &img,
            NOTATION,
            "application/jose+json",
            b"{}",
            &[],
        );
        push_referrer(&fake, "app", &img, SPDX, SPDX, b"{}", &[]);
        let base = url::Url::parse(&fake.url).unwrap();
        let client = Client::new(
            base,
            Credential::Anonymous,
            Settings::default(),
            Shutdown::default(),
        )
        .unwrap();
        let subject: acr_index::oci::Digest = img.parse().unwrap();
        let url = client.referrers_url("app", &subject, Some(NOTATION));
        assert!(url.as_str().contains("artifactType="), "{url}");
        let page = client
            .referrers_page("app", url)
            .await
            .unwrap()
            .expect("the API exists");
        let got: Vec<String> = page
            .descriptors
            .iter()
            .map(|d| d.digest.to_string())
            .collect();
        assert_eq!(
            got,
            std::slice::from_ref(&sig),
            "filters applied by the registry: {filters}"
        );
        let all = client
            .referrers_page("app", client.referrers_url("app", &subject, None))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(all.descriptors.len(), 2);
    }
}
