//! The bearer token cache, arranged by the scope planner: one slot for
//! the whole run while the registry honours the wildcard, else a slot per
//! repository, shared by every repository one token request covered.

use super::scopes::{Mode, Need, ScopePlanner};
use super::Token;
use crate::registry::RegistryError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// The wildcard token (also while probing for it).
    Run,
    Catalog,
    Repo(String),
}

/// A token and the scopes it was asked for: renewing it asks for the same
/// ones, so every repository that shares the slot stays covered.
type Slot = Arc<tokio::sync::Mutex<Option<(Token, Vec<String>)>>>;

#[derive(Default)]
pub struct Tokens {
    planner: Mutex<Option<ScopePlanner>>,
    slots: Mutex<HashMap<Key, Slot>>,
    /// Hints given before the planner exists (before the first challenge).
    early_hints: Mutex<Vec<String>>,
    refresh_seen: std::sync::atomic::AtomicBool,
}

impl Tokens {
    /// The first Bearer challenge: the planner's flavour is known now.
    pub fn start(&self, acr: bool) {
        let mut p = self.planner.lock().unwrap();
        if p.is_none() {
            let mut planner = ScopePlanner::new(acr);
            let early = std::mem::take(&mut *self.early_hints.lock().unwrap());
            planner.hint(early.iter().map(String::as_str));
            *p = Some(planner);
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut ScopePlanner) -> R) -> Option<R> {
        self.planner.lock().unwrap().as_mut().map(f)
    }

    pub fn hint(&self, repos: &[String]) {
        if self
            .with(|p| p.hint(repos.iter().map(String::as_str)))
            .is_none()
        {
            let mut early = self.early_hints.lock().unwrap();
            let room = 100_000usize.saturating_sub(early.len());
            early.extend(repos.iter().take(room).cloned());
        }
    }

    pub fn learn_challenge(&self, scope: &str) {
        self.with(|p| p.learn_challenge(scope));
    }

    pub fn learn_refresh_token(&self, token: &str) {
        self.with(|p| p.learn_refresh_token(token));
        self.refresh_seen
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn knows_refresh_token(&self) -> bool {
        self.refresh_seen.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A request with the wildcard token met `insufficient_scope`.
    pub fn refused(&self, scope: &str) {
        if matches!(Need::from_scope(scope), Need::Repository(_)) {
            self.with(|p| {
                if p.mode() == Mode::Wildcard {
                    p.wildcard_refused()
                }
            });
        }
    }

    fn key(&self, need: &Need) -> Key {
        let mode = self.with(|p| p.mode()).unwrap_or(Mode::Probe);
        match (mode, need) {
            (Mode::Probe | Mode::Wildcard, _) => Key::Run,
            (Mode::Batch, Need::Repository(r)) => Key::Repo(r.clone()),
            (Mode::Batch, _) => Key::Catalog,
        }
    }

    fn slot(&self, key: &Key) -> Slot {
        self.slots
            .lock()
            .unwrap()
            .entry(key.clone())
            .or_default()
            .clone()
    }

    /// The token for a request in `scope`: the cached one while fresh,
    /// else one fetched by `fetch` for the scopes the planner names.
    /// `refused` is a 401's: Some(token the request carried); the cached
    /// token is then renewed only if it is that one (requests that met the
    /// same expiry renew it once, not once each).
    pub async fn get<F, Fut>(
        &self,
        scope: &str,
        refused: Option<Option<&str>>,
        fetch: F,
    ) -> Result<Token, RegistryError>
    where
        F: Fn(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Result<Token, RegistryError>>,
    {
        let need = Need::from_scope(scope);
        loop {
            let key = self.key(&need);
            let slot = self.slot(&key);
            let mut guard = slot.lock().await;
            // While we waited the mode may have changed, or a batch may have
            // filed this repository under another slot: look again.
            if self.key(&need) != key || !Arc::ptr_eq(&self.slot(&key), &slot) {
                continue;
            }
            if let Some((t, _)) = guard.as_ref() {
                let stale = match refused {
                    Some(sent) => sent.is_some_and(|s| s == t.value.expose()),
                    None => false,
                };
                if t.is_fresh() && !stale {
                    return Ok(t.clone());
                }
            }
            // Plan and file in one step, under the slots lock: a task that
            // looks up a repository after this finds it under this batch's
            // slot, and one that took its own slot before is sent back to
            // look again. (Repository tasks run on several threads.)
            let scopes = {
                let mut slots = self.slots.lock().unwrap();
                if !slots.get(&key).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                    continue;
                }
                match guard.as_ref() {
                    // A renewal asks for what the token was asked for.
                    Some((_, asked)) => {
                        let asked = asked.clone();
                        if key != Key::Run {
                            file_batch(&mut slots, &asked, &slot, false);
                        }
                        asked
                    }
                    None => {
                        let planned = self
                            .with(|p| p.plan(&need))
                            .unwrap_or_else(|| vec![scope.to_string()]);
                        if key != Key::Run {
                            file_batch(&mut slots, &planned, &slot, true);
                        }
                        planned
                    }
                }
            };
            let token = fetch(scopes.clone()).await?;
            let before = self.with(|p| p.mode());
            self.with(|p| p.learn_grant(token.value.expose()));
            let after = self.with(|p| p.mode());
            if before != after && after == Some(Mode::Batch) {
                // The probe named this request's repository: its token
                // still serves it and the catalog.
                let mut slots = self.slots.lock().unwrap();
                slots.insert(Key::Catalog, slot.clone());
                if let Need::Repository(r) = &need {
                    slots.insert(Key::Repo(r.clone()), slot.clone());
                }
            }
            *guard = Some((token.clone(), scopes));
            return Ok(token);
        }
    }
}

/// File every repository a batch covers under its slot. A new batch takes
/// them over (no token was asked for them yet, or this one covers them
/// too); a renewal only takes slots not in use (held by a request, or
/// holding a fresh token).
fn file_batch(slots: &mut HashMap<Key, Slot>, scopes: &[String], slot: &Slot, take_over: bool) {
    for r in ScopePlanner::covered(scopes) {
        let key = Key::Repo(r);
        let free = take_over
            || slots.get(&key).is_none_or(|s| {
                s.try_lock()
                    .is_ok_and(|g| g.as_ref().is_none_or(|(t, _)| !t.is_fresh()))
            });
        if free {
            slots.insert(key, slot.clone());
        }
    }
}
