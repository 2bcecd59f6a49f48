//! Token logic of the fake ACR: identities and what they may do, the JWTs
//! it issues (HS256, like ACR's own opaque-to-clients JWTs), scope parsing
//! and the grant (the intersection of what is asked and what is allowed,
//! per the docker token spec). Wildcard repository names are never granted,
//! as in ACR's ABAC mode.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

const KEY: &[u8] = b"fake-acr-signing-key-TEST-ONLY";
/// Clock leeway when validating refresh tokens, as JWT validators commonly
/// allow (jsonwebtoken's default is 60 s); access tokens get none.
pub const REFRESH_LEEWAY_SECS: u64 = 30;

/// What an identity may do.
#[derive(Clone, Debug)]
pub struct Grants {
    pub catalog: bool,
    /// None: every repository.
    pub repositories: Option<Vec<String>>,
    pub actions: Vec<String>,
}

impl Grants {
    /// An admin user or an Entra identity with AcrPull (+ catalog).
    pub fn all() -> Grants {
        Grants {
            catalog: true,
            repositories: None,
            actions: vec!["pull".into(), "metadata_read".into()],
        }
    }
    /// A repository-scoped token with content/read and metadata/read.
    pub fn repos(names: &[&str]) -> Grants {
        Grants {
            catalog: false,
            repositories: Some(names.iter().map(|s| s.to_string()).collect()),
            actions: vec!["pull".into(), "metadata_read".into()],
        }
    }
    /// A scope map with content/read only (cannot list tags).
    pub fn pull_only(names: &[&str]) -> Grants {
        Grants {
            actions: vec!["pull".into()],
            ..Grants::repos(names)
        }
    }

    /// The access granted for the scopes asked.
    pub fn grant(&self, scopes: &[String]) -> Vec<Access> {
        let mut out = Vec::new();
        for s in scopes {
            let Some(asked) = Access::parse(s) else {
                continue;
            };
            if asked.name.contains('*') && asked.kind == "repository" {
                continue;
            }
            let actions: Vec<String> = match asked.kind.as_str() {
                "registry" if asked.name == "catalog" && self.catalog => asked.actions.clone(),
                "repository"
                    if self
                        .repositories
                        .as_ref()
                        .is_none_or(|r| r.contains(&asked.name)) =>
                {
                    asked
                        .actions
                        .iter()
                        .filter(|a| self.actions.contains(a))
                        .cloned()
                        .collect()
                }
                _ => Vec::new(),
            };
            if !actions.is_empty() {
                out.push(Access {
                    kind: asked.kind,
                    name: asked.name,
                    actions,
                });
            }
        }
        out
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Access {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

impl Access {
    /// `type:name:action[,action]`
    pub fn parse(scope: &str) -> Option<Access> {
        let (rest, actions) = scope.rsplit_once(':')?;
        let (kind, name) = rest.split_once(':')?;
        Some(Access {
            kind: kind.into(),
            name: name.into(),
            actions: actions.split(',').map(str::to_string).collect(),
        })
    }
}

#[derive(Serialize, Deserialize)]
pub struct AccessClaims {
    pub aud: String,
    pub exp: u64,
    pub sub: String,
    pub grant_type: String,
    pub access: Vec<Access>,
}

#[derive(Serialize, Deserialize)]
pub struct RefreshClaims {
    pub aud: String,
    pub exp: u64,
    /// The identity, e.g. `aad:<n>`.
    pub sub: String,
    pub grant_type: String,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Seconds from now (may be negative: already expired).
pub fn exp_in(secs: i64) -> u64 {
    (now() as i64 + secs).max(0) as u64
}

pub fn sign<T: Serialize>(claims: &T) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(KEY),
    )
    .unwrap()
}

fn validation(aud: &str, leeway: u64) -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&[aud]);
    v.leeway = leeway;
    v
}

pub fn verify_access(token: &str, service: &str) -> Option<AccessClaims> {
    decode::<AccessClaims>(
        token,
        &DecodingKey::from_secret(KEY),
        &validation(service, 0),
    )
    .ok()
    .map(|d| d.claims)
}

pub fn verify_refresh(token: &str, service: &str) -> Option<RefreshClaims> {
    decode::<RefreshClaims>(
        token,
        &DecodingKey::from_secret(KEY),
        &validation(service, REFRESH_LEEWAY_SECS),
    )
    .ok()
    .map(|d| d.claims)
    .filter(|c| c.grant_type == "refresh_token")
}
