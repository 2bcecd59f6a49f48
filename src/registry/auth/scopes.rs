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
//!   go in one token request: the repository needed now (or the catalog)
//!   plus the next ones the run will visit, as many as keep the token small
//!   enough for a request header (see `batch_size`).
//! - Other token servers (the docker token spec) take several `scope`
//!   parameters per request: the same batching, with the actions their
//!   challenges ask for.

use super::batch_size::{BatchSize, MAX_BATCH};
use base64::Engine;
use std::collections::{HashSet, VecDeque};

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
            Mode::Batch => {
                let mut size = BatchSize::default();
                let first = match need {
                    Need::Catalog | Need::Any => CATALOG_SCOPE.to_string(),
                    Need::Repository(r) => {
                        // Visited before its turn: not named twice.
                        if !self.planned.insert(r.clone()) {
                            self.upcoming.retain(|u| u != r);
                        }
                        self.repo_scope(r)
                    }
                };
                // The first scope always goes, whatever its size: a name
                // is at most 256 characters, far below the budget.
                size.add(&first);
                scopes.push(first);
                // The next repositories ride along, the catalog's request
                // included: they need no token request of their own.
                while scopes.len() < MAX_BATCH {
                    let Some(next) = self.upcoming.front() else {
                        break;
                    };
                    let s = self.repo_scope(next);
                    if !size.fits(&s) {
                        break;
                    }
                    self.upcoming.pop_front();
                    size.add(&s);
                    scopes.push(s);
                }
            }
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
#[path = "scopes_tests.rs"]
mod tests;
