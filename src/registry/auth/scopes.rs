//! Which scopes a token request asks for: as few token requests per run as
//! the registry allows. A pure planner; `Auth` does the asking.
//!
//! - ACR honours `repository:*:pull,metadata_read` (what Azure's acr-cli
//!   asks for): one token, with `registry:catalog:*`, serves the whole run
//!   and is renewed shortly before it expires.
//! - ACR registries with ABAC repository permissions silently ignore the
//!   wildcard: their refresh tokens carry an `aad_identity` claim and the
//!   access token comes back without the wildcard's entry in its `access`
//!   claim (or a request with it is refused). Then many repository scopes
//!   go in one token request: the repository needed now plus the next ones
//!   the catalog named, bounded so the form stays small.
//! - Other token servers (the docker token spec) take several `scope`
//!   parameters per request: the same batching, with the actions their
//!   challenges ask for.

use base64::Engine;
use std::collections::{HashSet, VecDeque};

/// Repositories per token request in batch mode. Each scope becomes an
/// entry in the token's `access` claim, which travels in every request's
/// Authorization header: 32 keeps the header well under common 8 KiB limits.
pub const MAX_BATCH: usize = 32;
/// Bound on the scope text of one token request.
pub const MAX_SCOPE_CHARS: usize = 4096;
/// Bound on the repositories remembered as coming up.
const MAX_UPCOMING: usize = 100_000;
/// Tokens longer than this are not decoded (they are bounded upstream too).
const MAX_TOKEN_CHARS: usize = 64 * 1024;

pub const CATALOG_SCOPE: &str = "registry:catalog:*";

/// What a request needs a token for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Need {
    Catalog,
    /// The registry root (`/v2/`): any token will do.
    Any,
    Repository(String),
}

impl Need {
    /// From the scope string endpoint code gives a request.
    pub fn from_scope(scope: &str) -> Need {
        match parse_scope(scope) {
            Some(a) if a.kind == "repository" && a.name != "*" => Need::Repository(a.name),
            Some(a) if a.kind == "registry" => Need::Catalog,
            _ => Need::Any,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Not known yet whether the registry honours the wildcard.
    Probe,
    /// One token covers every repository.
    Wildcard,
    /// Repository scopes are named, many per token request.
    Batch,
}

/// One entry of a token's `access` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

impl Access {
    fn allows(&self, kind: &str, name: &str, action: &str) -> bool {
        self.kind == kind
            && (self.name == name || self.name == "*")
            && self.actions.iter().any(|a| a == action || a == "*")
    }
}

#[derive(Debug)]
pub struct ScopePlanner {
    mode: Mode,
    /// Actions asked for per repository.
    actions: Vec<String>,
    upcoming: VecDeque<String>,
    /// Repositories ever queued or planned: each is batched once.
    planned: HashSet<String>,
}

impl ScopePlanner {
    /// `acr`: the registry is ACR (its host, or its `/oauth2/token` realm).
    pub fn new(acr: bool) -> ScopePlanner {
        ScopePlanner {
            mode: if acr { Mode::Probe } else { Mode::Batch },
            actions: if acr {
                vec!["pull".into(), "metadata_read".into()]
            } else {
                vec!["pull".into()]
            },
            upcoming: VecDeque::new(),
            planned: HashSet::new(),
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Repositories the run will visit soon (catalog order): in batch mode
    /// they ride along in token requests made for earlier ones.
    pub fn hint<'a>(&mut self, repos: impl IntoIterator<Item = &'a str>) {
        for r in repos {
            if self.upcoming.len() >= MAX_UPCOMING {
                break;
            }
            if valid_name(r) && self.planned.insert(r.to_string()) {
                self.upcoming.push_back(r.to_string());
            }
        }
    }

    /// A challenge asked for `scope`: its read actions are asked for every
    /// repository from now on (a token server grants what it can). Write
    /// actions are never asked for: this program only reads.
    pub fn learn_challenge(&mut self, scope: &str) {
        for s in scope.split(' ') {
            if let Some(a) = parse_scope(s).filter(|a| a.kind == "repository") {
                for action in a.actions {
                    let read = action == "pull" || action == "metadata_read";
                    if read && !self.actions.contains(&action) {
                        self.actions.push(action);
                    }
                }
            }
        }
    }

    /// The refresh token the run uses: one from an ABAC registry says so.
    pub fn learn_refresh_token(&mut self, refresh_token: &str) {
        if self.mode == Mode::Probe && has_claim(refresh_token, "aad_identity") {
            tracing::debug!(
                "ABAC registry (aad_identity claim): naming repositories in token requests"
            );
            self.mode = Mode::Batch;
        }
    }

    /// What the access token granted: with the wildcard, one token serves
    /// the run; without it (ABAC ignores it), scopes are named. A token we
    /// cannot read is taken at its word until a request with it is refused.
    pub fn learn_grant(&mut self, access_token: &str) {
        if self.mode != Mode::Probe {
            return;
        }
        match granted_access(access_token) {
            Some(access)
                if self
                    .actions
                    .iter()
                    .all(|a| access.iter().any(|x| x.allows("repository", "*", a))) =>
            {
                self.mode = Mode::Wildcard
            }
            Some(_) => {
                tracing::debug!("the registry ignored the wildcard scope: naming repositories in token requests");
                self.mode = Mode::Batch;
            }
            None => self.mode = Mode::Wildcard,
        }
    }

    /// A request carrying the wildcard token was refused: name scopes.
    pub fn wildcard_refused(&mut self) {
        if self.mode != Mode::Batch {
            tracing::debug!("a wildcard token was refused: naming repositories in token requests");
            self.mode = Mode::Batch;
        }
    }

    /// The scopes of the token request that serves `need`.
    pub fn plan(&mut self, need: &Need) -> Vec<String> {
        let mut scopes = Vec::new();
        match self.mode {
            Mode::Probe | Mode::Wildcard => {
                scopes.push(CATALOG_SCOPE.to_string());
                scopes.push(self.repo_scope("*"));
                // Named too: should the wildcard be ignored, the first
                // token still serves the request that asked for it.
                if let Need::Repository(r) = need {
                    if self.mode == Mode::Probe {
                        scopes.push(self.repo_scope(r));
                        self.planned.insert(r.clone());
                        self.upcoming.retain(|u| u != r);
                    }
                }
            }
            Mode::Batch => match need {
                Need::Catalog | Need::Any => scopes.push(CATALOG_SCOPE.to_string()),
                Need::Repository(r) => {
                    self.planned.insert(r.clone());
                    scopes.push(self.repo_scope(r));
                    let mut chars = scopes[0].len();
                    while scopes.len() < MAX_BATCH {
                        let Some(next) = self.upcoming.front() else {
                            break;
                        };
                        let s = self.repo_scope(next);
                        if chars + 1 + s.len() > MAX_SCOPE_CHARS {
                            break;
                        }
                        let next = self.upcoming.pop_front().unwrap();
                        if next != *r {
                            chars += 1 + s.len();
                            scopes.push(s);
                        }
                    }
                }
            },
        }
        scopes
    }

    /// Repositories a batch token request covers (to file the token under).
    pub fn covered(scopes: &[String]) -> Vec<String> {
        scopes
            .iter()
            .filter_map(|s| parse_scope(s))
            .filter(|a| a.kind == "repository" && a.name != "*")
            .map(|a| a.name)
            .collect()
    }

    fn repo_scope(&self, name: &str) -> String {
        format!("repository:{name}:{}", self.actions.join(","))
    }
}

/// Repository names as the distribution spec allows them (bounded), so a
/// hostile catalog cannot smuggle separators into a token request.
fn valid_name(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 256
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/".contains(&b))
}

/// `type:name:action[,action]`; names may hold `:` only before the last one.
pub fn parse_scope(scope: &str) -> Option<Access> {
    let (rest, actions) = scope.rsplit_once(':')?;
    let (kind, name) = rest.split_once(':')?;
    Some(Access {
        kind: kind.to_string(),
        name: name.to_string(),
        actions: actions.split(',').map(str::to_string).collect(),
    })
}

fn claims(token: &str) -> Option<serde_json::Value> {
    if token.len() > MAX_TOKEN_CHARS {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn has_claim(token: &str, name: &str) -> bool {
    claims(token).is_some_and(|c| c.get(name).is_some_and(|v| !v.is_null()))
}

/// The `access` claim of a JWT access token: the docker token spec spells
/// it `type`/`name`/`actions`, ACR `Type`/`Name`/`Actions`. None when the
/// token is not a readable JWT or has no such claim.
pub fn granted_access(token: &str) -> Option<Vec<Access>> {
    let c = claims(token)?;
    let list = c.get("access")?.as_array()?;
    let field = |e: &serde_json::Value, lower: &str, upper: &str| {
        e.get(lower).or_else(|| e.get(upper)).cloned()
    };
    Some(
        list.iter()
            .take(10_000)
            .filter_map(|e| {
                Some(Access {
                    kind: field(e, "type", "Type")?.as_str()?.to_string(),
                    name: field(e, "name", "Name")?.as_str()?.to_string(),
                    actions: field(e, "actions", "Actions")?
                        .as_array()?
                        .iter()
                        .filter_map(|a| a.as_str().map(str::to_string))
                        .collect(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
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
}
