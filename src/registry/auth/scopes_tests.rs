//! The scope planner: what each kind of registry is asked for.

use super::*;

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

#[test]
fn batches_take_upcoming_repositories_once_and_stay_bounded() {
    let mut p = ScopePlanner::new(true);
    p.wildcard_refused();
    let names: Vec<String> = (0..100).map(|i| format!("svc{i:03}")).collect();
    p.hint(names.iter().map(String::as_str));
    p.hint(["svc000", "BAD NAME", "x&scope=registry:catalog:*"]);
    let first = p.plan(&repo("svc000"));
    assert_eq!(first.len(), MAX_BATCH);
    assert_eq!(first[0], "repository:svc000:pull,metadata_read");
    assert_eq!(first[1], "repository:svc001:pull,metadata_read");
    assert_eq!(ScopePlanner::covered(&first).len(), MAX_BATCH);
    // The next batch starts where the last one stopped; svc000 is not repeated.
    let second = p.plan(&repo("svc032"));
    assert_eq!(second[0], "repository:svc032:pull,metadata_read");
    assert_eq!(second[1], "repository:svc033:pull,metadata_read");
    assert!(second.iter().all(|s| !s.contains("svc000")));
    // Long names: the text bound stops the batch first.
    let mut p = ScopePlanner::new(false);
    let long: Vec<String> = (0..40)
        .map(|i| format!("{i:02}{}", "x".repeat(250)))
        .collect();
    p.hint(long.iter().map(String::as_str));
    let batch = p.plan(&repo("first"));
    assert!(batch.iter().map(|s| s.len() + 1).sum::<usize>() <= MAX_SCOPE_CHARS + 1);
    assert!(batch.len() > 1 && batch.len() < MAX_BATCH);
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
