//! The scope planner: what each kind of registry is asked for.

use super::*;
use crate::registry::auth::batch_size::{
    estimated_header, url_encoded_len, HEADER_LINE_LIMIT, MAX_BATCH, MAX_SCOPE_CHARS,
};

fn jwt(claims: serde_json::Value) -> String {
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.sig",
        e.encode(br#"{"alg":"RS256"}"#),
        e.encode(claims.to_string())
    )
}

fn repo(r: &str) -> Need {
    Need::Repository(r.into())
}

#[test]
fn acr_asks_one_wildcard_token_and_keeps_it_when_granted() {
    let mut p = ScopePlanner::new(true);
    assert_eq!(
        p.plan(&Need::Catalog),
        vec!["registry:catalog:*", "repository:*:pull,metadata_read"]
    );
    // ACR's claim spelling (net-anonymous-catalog recording).
    p.learn_grant(&jwt(serde_json::json!({"access": [
        {"Type": "registry", "Name": "catalog", "Actions": ["*"]},
        {"Type": "repository", "Name": "*", "Actions": ["pull", "metadata_read"]}
    ]})));
    assert_eq!(p.mode(), Mode::Wildcard);
    p.hint(["a", "b"]);
    assert_eq!(
        p.plan(&repo("a")),
        vec!["registry:catalog:*", "repository:*:pull,metadata_read"]
    );
}

#[test]
fn abac_is_detected_from_the_refresh_token_or_the_grant() {
    let mut p = ScopePlanner::new(true);
    p.learn_refresh_token(&jwt(serde_json::json!({"aad_identity": "{}", "exp": 1})));
    assert_eq!(p.mode(), Mode::Batch);

    let mut p = ScopePlanner::new(true);
    p.learn_refresh_token(&jwt(serde_json::json!({"exp": 1})));
    assert_eq!(p.mode(), Mode::Probe);
    // The first request names its repository beside the wildcard.
    assert_eq!(
        p.plan(&repo("team/api")),
        vec![
            "registry:catalog:*",
            "repository:*:pull,metadata_read",
            "repository:team/api:pull,metadata_read"
        ]
    );
    p.learn_grant(&jwt(serde_json::json!({"access": [
        {"type": "registry", "name": "catalog", "actions": ["*"]},
        {"type": "repository", "name": "team/api", "actions": ["pull", "metadata_read"]}
    ]})));
    assert_eq!(p.mode(), Mode::Batch);

    // An opaque token is trusted until a request with it is refused.
    let mut p = ScopePlanner::new(true);
    p.learn_grant("opaque");
    assert_eq!(p.mode(), Mode::Wildcard);
    p.wildcard_refused();
    assert_eq!(p.mode(), Mode::Batch);
}

fn abac() -> ScopePlanner {
    let mut p = ScopePlanner::new(true);
    p.learn_refresh_token(&jwt(serde_json::json!({"aad_identity": "{}"})));
    assert_eq!(p.mode(), Mode::Batch);
    p
}

/// Plans token requests until every hinted repository is covered.
fn drain(p: &mut ScopePlanner, first: Need) -> Vec<Vec<String>> {
    let mut batches = vec![p.plan(&first)];
    while let Some(next) = p.upcoming.front().cloned() {
        batches.push(p.plan(&repo(&next)));
    }
    batches
}

#[test]
fn batches_take_upcoming_repositories_once_and_stay_bounded() {
    let mut p = abac();
    let names: Vec<String> = (0..100).map(|i| format!("svc{i:03}")).collect();
    p.hint(names.iter().map(String::as_str));
    p.hint(["svc000", "BAD NAME", "x&scope=registry:catalog:*"]);
    let first = p.plan(&repo("svc000"));
    assert_eq!(first[0], "repository:svc000:pull,metadata_read");
    assert_eq!(first[1], "repository:svc001:pull,metadata_read");
    let n = first.len();
    assert!(n > 32 && n < MAX_BATCH, "{n}");
    assert_eq!(ScopePlanner::covered(&first).len(), n);
    // The next batch starts where the last one stopped; svc000 is not repeated.
    let second = p.plan(&repo(&format!("svc{n:03}")));
    assert_eq!(
        second[0],
        format!("repository:svc{n:03}:pull,metadata_read")
    );
    assert_eq!(
        second[1],
        format!("repository:svc{:03}:pull,metadata_read", n + 1)
    );
    assert!(second.iter().all(|s| !s.contains("svc000")));
    // A repository visited before its turn is not named again later.
    let mut p = abac();
    p.hint(["a", "b", "c"]);
    assert_eq!(ScopePlanner::covered(&p.plan(&repo("c"))), ["c", "a", "b"]);
}

#[test]
fn the_catalog_request_carries_the_first_repositories() {
    // A warm ABAC run over the benchmark's 100 repositories (hinted from
    // the store before the catalog): the catalog's token request names the
    // first 52, the next request the other 48. Two token requests.
    let mut p = abac();
    let names: Vec<String> = (0..100).map(|i| format!("bench/svc{i:04}")).collect();
    p.hint(names.iter().map(String::as_str));
    let batches = drain(&mut p, Need::Catalog);
    assert_eq!(batches[0][0], CATALOG_SCOPE);
    assert_eq!(ScopePlanner::covered(&batches[0]), names[..52].to_vec());
    assert_eq!(batches.len(), 2, "{batches:?}");
    assert_eq!(ScopePlanner::covered(&batches[1]), names[52..].to_vec());
    // Without hints the catalog's request names the catalog alone.
    assert_eq!(abac().plan(&Need::Any), vec![CATALOG_SCOPE]);
}

#[test]
fn long_names_make_smaller_batches_and_no_header_passes_the_limit() {
    let sizes = |len: usize| {
        let mut p = abac();
        let names: Vec<String> = (0..200)
            .map(|i| {
                let mut n = format!("team{i:03}/");
                while n.len() < len {
                    n.push_str("component-");
                }
                n.truncate(len);
                n.trim_end_matches(['-', '/']).to_string()
            })
            .collect();
        p.hint(names.iter().map(String::as_str));
        let batches = drain(&mut p, Need::Catalog);
        let covered: Vec<String> = batches
            .iter()
            .flat_map(|b| ScopePlanner::covered(b))
            .collect();
        assert_eq!(covered, names, "each name once, in order");
        for b in &batches {
            let h = estimated_header(b);
            assert!(h <= HEADER_LINE_LIMIT, "{h} bytes for {} scopes", b.len());
            let text: usize = b.iter().map(|s| 7 + url_encoded_len(s)).sum();
            assert!(text <= MAX_SCOPE_CHARS, "{text}");
        }
        batches[1].len()
    };
    let short = sizes(12);
    let long = sizes(250);
    assert!((50..=MAX_BATCH).contains(&short), "{short}");
    assert!((2..=16).contains(&long), "{long}");
    assert!(sizes(120) < short && sizes(120) > long);
    // Short names asked `pull` alone (a distribution token server): the
    // count cap binds first.
    let mut p = ScopePlanner::new(false);
    let tiny: Vec<String> = (0..100).map(|i| format!("{i}")).collect();
    p.hint(tiny.iter().map(String::as_str));
    assert_eq!(p.plan(&repo("x")).len(), MAX_BATCH);
    // Names made of `/`-separated letters: their URL-encoded scope text
    // binds before the header estimate.
    let mut p = ScopePlanner::new(false);
    let slashy: Vec<String> = (0..40)
        .map(|i| format!("{i:02}/{}", "a/".repeat(110) + "b"))
        .collect();
    p.hint(slashy.iter().map(String::as_str));
    let b = p.plan(&Need::Catalog);
    let text: usize = b.iter().map(|s| 7 + url_encoded_len(s)).sum();
    assert!(
        text <= MAX_SCOPE_CHARS && estimated_header(&b) < HEADER_LINE_LIMIT - 2000,
        "{text}"
    );
}

#[test]
fn the_estimate_covers_a_token_shaped_like_acrs() {
    // ACR's claims (recording net-anonymous-catalog.json) with a subject,
    // tenant and an RS256 signature of a 2048-bit key (342 characters).
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let names: Vec<String> = (0..60).map(|i| format!("bench/svc{i:04}")).collect();
    let mut p = abac();
    p.hint(names.iter().map(String::as_str));
    for scopes in drain(&mut p, Need::Catalog) {
        let access: Vec<serde_json::Value> = scopes
            .iter()
            .filter_map(|s| parse_scope(s))
            .map(|a| serde_json::json!({"Type": a.kind, "Name": a.name, "Actions": a.actions}))
            .collect();
        let claims = serde_json::json!({
            "jti": "36eefc8b-4a2e-4865-ba09-281e8d3ce5be",
            "sub": "00000000-0000-0000-0000-000000000000",
            "nbf": 1646694981u64, "exp": 1646696181u64, "iat": 1646694981u64,
            "iss": "Azure Container Registry",
            "aud": "a-registry-with-a-long-name-of-fifty-chars.azurecr.io",
            "version": "1.0", "rid": "9172f2da56fd4247bf3973c8d48df3c0",
            "tenant": "00000000-0000-0000-0000-000000000000",
            "access": access, "roles": [], "grant_type": "refresh_token"
        });
        let header = br#"{"alg":"RS256","typ":"JWT","kid":"I7B6:6T4A:TZV3:YION:FODJ:NZTC:5UPY:3BV3:FFXO:Q54K:3BBK:GTX3"}"#;
        let line = format!(
            "Authorization: Bearer {}.{}.{}",
            e.encode(header),
            e.encode(claims.to_string()),
            "s".repeat(342)
        );
        let est = estimated_header(&scopes);
        assert!(line.len() <= est, "{} > {est}", line.len());
        assert!(line.len() > est / 2, "the estimate is not wildly high");
    }
}

#[test]
fn distribution_batches_with_the_actions_challenges_ask() {
    let mut p = ScopePlanner::new(false);
    assert_eq!(p.mode(), Mode::Batch);
    p.hint(["a", "b"]);
    p.learn_challenge("repository:a:pull,push repository:a:metadata_read");
    assert_eq!(
        p.plan(&repo("a")),
        vec![
            "repository:a:pull,metadata_read",
            "repository:b:pull,metadata_read"
        ]
    );
    assert_eq!(p.plan(&Need::Catalog), vec!["registry:catalog:*"]);
    assert_eq!(Need::from_scope("repository:a/b:pull"), repo("a/b"));
    assert_eq!(Need::from_scope("registry:catalog:*"), Need::Catalog);
    assert_eq!(Need::from_scope(""), Need::Any);
}

#[test]
fn access_claims_are_read_in_both_spellings_and_garbage_is_none() {
    let t = jwt(serde_json::json!({"access": [
        {"type": "repository", "name": "x", "actions": ["pull"]},
        {"Type": "repository", "Name": "y", "Actions": ["*"]},
        {"type": 3}
    ]}));
    let a = granted_access(&t).unwrap();
    assert_eq!(a.len(), 2);
    assert!(a[1].allows("repository", "y", "metadata_read"));
    assert!(!a[0].allows("repository", "y", "pull"));
    assert_eq!(granted_access("a.b.c"), None);
    assert_eq!(granted_access(&jwt(serde_json::json!({"sub": "x"}))), None);
}
