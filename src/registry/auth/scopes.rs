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
//!   enough for a request header (see [`estimated_header`]).
//! - Other token servers (the docker token spec) take several `scope`
//!   parameters per request: the same batching, with the actions their
//!   challenges ask for.

use base64::Engine;
use std::collections::{HashSet, VecDeque};

// How big a batch may be. Every scope granted becomes an entry
// `{"type":"repository","name":"<name>","actions":["pull","metadata_read"]}`
// in the access token's `access` claim, and the token travels,
// base64url-encoded, in the Authorization header of every request made
// with it. ACR's front end is openresty (nginx, `Server: openresty` in
// ../shared/acr-recordings), whose default `large_client_header_buffers 4
// 8k` answers 400 "Request Header Or Cookie Too Large" to a request with
// one header line over 8 KiB. So a batch is bounded by the header its
// token will make, estimated from the names' lengths.

/// nginx's default limit on one request header line (name, ": ", value).
pub const HEADER_LINE_LIMIT: usize = 8192;
/// Left free below the limit for what the estimate cannot know (the line's
/// CRLF, a token server that adds claims per entry).
const HEADER_MARGIN: usize = 512;
/// What a token carries beside its `access` claim, at least twice what ACR's
/// tokens measure (recording net-anonymous-catalog.json: JWT header 127
/// base64url characters, RS256 signature 342, other claims 304 bytes of
/// JSON): a header with a longer `kid`, a signature with a 4096-bit key,
/// and claims naming a user or tenant.
const JWT_HEADER_B64: usize = 256;
const SIGNATURE_B64: usize = 683;
const OTHER_CLAIMS: usize = 768;
/// Repositories per token request in batch mode, whatever their length:
/// bounds the token server's work per request. With ACR's two actions the
/// header estimate binds first (about 60 one-letter names); with `pull`
/// alone this binds for names of up to about 15 characters.
pub const MAX_BATCH: usize = 64;
/// Bound on the scope parameters of one token request, URL-encoded: a GET
/// token request (Basic or anonymous) carries them in its request line,
/// which nginx bounds by the same 8 KiB buffer (414). Binds before the
/// header estimate only for names with many `/` (encoded as `%2F`).
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

/// The Authorization header line a token granting `scopes` is estimated
/// to make: `Authorization: Bearer <header>.<claims>.<signature>`, each
/// part base64url-encoded, the claims being the others plus `access`.
pub fn estimated_header(scopes: &[String]) -> usize {
    let mut size = BatchSize::default();
    for s in scopes {
        size.add(s);
    }
    size.header()
}

/// What a batch adds up to so far: its `access` claim and scope text.
#[derive(Default)]
struct BatchSize {
    /// JSON bytes of the entries, with the commas between them.
    access: usize,
    /// URL-encoded `scope=` parameters, with their `&`.
    scope_chars: usize,
}

impl BatchSize {
    fn add(&mut self, scope: &str) {
        self.access += access_entry_bytes(scope) + 1;
        self.scope_chars += "&scope=".len() + url_encoded_len(scope);
    }

    fn header(&self) -> usize {
        let b64 = |n: usize| (4 * n).div_ceil(3);
        // `[` and `]` around the entries (the last comma pays for one).
        let claims = OTHER_CLAIMS + self.access + 1;
        "Authorization: Bearer ".len() + b64(claims) + JWT_HEADER_B64 + SIGNATURE_B64 + 2
    }

    fn fits(&self, scope: &str) -> bool {
        let mut next = BatchSize {
            access: self.access,
            scope_chars: self.scope_chars,
        };
        next.add(scope);
        next.header() <= HEADER_LINE_LIMIT - HEADER_MARGIN && next.scope_chars <= MAX_SCOPE_CHARS
    }
}

/// The entry a scope becomes in the `access` claim:
/// `{"type":"<kind>","name":"<name>","actions":["<a>",...]}`. A `/` counts
/// twice: some JSON encoders write it `\/`.
fn access_entry_bytes(scope: &str) -> usize {
    let Some(a) = parse_scope(scope) else {
        return scope.len() + 34;
    };
    let name = a.name.len() + a.name.bytes().filter(|&b| b == b'/').count();
    let actions: usize = a.actions.iter().map(|x| x.len() + 3).sum::<usize>();
    r#"{"type":"","name":"","actions":[]}"#.len() + a.kind.len() + name + actions.saturating_sub(1)
}

/// Length of `s` in application/x-www-form-urlencoded form.
fn url_encoded_len(s: &str) -> usize {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"*-._ ".contains(&b) {
                1
            } else {
                3
            }
        })
        .sum()
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
