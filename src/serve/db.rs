//! Read-only access to the database for request handlers: a few pooled
//! read-only connections, used on blocking threads. Readers never take the
//! writer's lock; in WAL mode each read sees the last committed run and a
//! running index does not block it.

use crate::store::{Store, StoreError};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Connections kept open between requests; more readers than this wait.
const READERS: usize = 8;

pub struct Db {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
    readers: Semaphore,
}

/// Why a request could not be answered; rendered as JSON or as a page.
#[derive(Debug)]
pub enum Failure {
    /// 400: the request itself is wrong (the message says how).
    BadRequest(String),
    /// 404.
    NotFound(String),
    /// 503: the database cannot be read now (details only in the log,
    /// since they name filesystem paths).
    Unavailable,
    /// 500: anything else (details only in the log).
    Internal,
}

impl Failure {
    /// Classify an answer's error: bad input, an unreadable database, or a bug.
    pub fn from_error(e: &anyhow::Error) -> Failure {
        if let Some(u) = e.downcast_ref::<crate::config::UsageError>() {
            return Failure::BadRequest(u.0.clone());
        }
        if let Some(p) = e.downcast_ref::<crate::answers::running::NotPods>() {
            return Failure::BadRequest(p.to_string());
        }
        if e.chain().any(|c| c.downcast_ref::<StoreError>().is_some()) {
            tracing::warn!(error = %format!("{e:#}"), "database cannot be read");
            return Failure::Unavailable;
        }
        tracing::error!(error = %format!("{e:#}"), "request failed");
        Failure::Internal
    }

    pub fn status(&self) -> u16 {
        match self {
            Failure::BadRequest(_) => 400,
            Failure::NotFound(_) => 404,
            Failure::Unavailable => 503,
            Failure::Internal => 500,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Failure::BadRequest(m) | Failure::NotFound(m) => m.clone(),
            Failure::Unavailable => "the database cannot be read".into(),
            Failure::Internal => "internal error".into(),
        }
    }
}

impl Db {
    pub fn new(path: PathBuf) -> Arc<Db> {
        Arc::new(Db {
            path,
            idle: Mutex::new(Vec::new()),
            readers: Semaphore::new(READERS),
        })
    }

    /// Run `f` with a read-only connection on a blocking thread. A
    /// connection whose use failed in the store is dropped, so the next
    /// request opens the database afresh (it may have been replaced).
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, Failure>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> anyhow::Result<T> + Send + 'static,
    {
        let _permit = self
            .readers
            .acquire()
            .await
            .map_err(|_| Failure::Internal)?;
        let db = self.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let pooled = db.idle.lock().ok().and_then(|mut v| v.pop());
            let store = match pooled {
                Some(s) => s,
                None => Store::open_ro(&db.path)?,
            };
            let result = f(&store);
            let store_failed = matches!(&result, Err(e)
                if e.chain().any(|c| c.downcast_ref::<StoreError>().is_some()));
            if !store_failed {
                if let Ok(mut idle) = db.idle.lock() {
                    idle.push(store);
                }
            }
            result
        })
        .await;
        match joined {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Failure::from_error(&e)),
            Err(_) => Err(Failure::Internal),
        }
    }
}
