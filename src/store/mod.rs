//! The SQLite store. Synchronous rusqlite only: no tokio, no HTTP. The
//! write half is used by the indexer's single writer; the read half by the
//! query, show and export commands, which open the database read-only.

mod bases;
mod derive;
pub mod glob;
mod lookup;
mod migrate;
mod model;
mod read;
mod referrers_kind;
mod referrers_read;
mod referrers_write;
mod stats;
mod write;

pub use bases::{BaseCheck, BaseRow};
pub use lookup::{ChildEntry, ImageDetail, ParentEntry, ResolvedBy, TagEntry};
pub use model::{
    AttestationRecord, ChildRecord, CommitMatch, Failure, LabelFilter, ManifestRecord, Record,
    ReferrerLinks, ReferrerRecord, ReferrerSource, RowFilter, RunStatus, RunSummary, TagListing,
    ValueMatch,
};
pub use read::{ImageRow, RunRow};
pub use referrers_kind::{classify as classify_referrer, may_hold_statement};
pub use referrers_read::{has_sbom, is_signed, ReferrerEntry, ReferrerState, MAX_REFERRER_DEPTH};
pub use stats::RegistryStats;

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("database {path} does not exist (run `acr-index index` first, or pass --db)")]
    Missing { path: String },
    #[error("database schema version {found} is newer than this acr-index understands ({known}); upgrade acr-index")]
    TooNew { found: i64, known: i64 },
    #[error("database schema version {found} is older than this acr-index ({known}); run `acr-index index` once to upgrade it (read-only commands never change it)")]
    TooOld { found: i64, known: i64 },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// A filter the store cannot apply (a malformed glob).
    #[error("filter: {0}")]
    Filter(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Connection,
}

/// The writer's page cache, as SQLite's `cache_size` takes it (negative: KiB).
const WRITER_CACHE_KIB: i64 = -16 * 1024;
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 128;

impl Store {
    /// Open (creating if needed) for writing and bring the schema up to date.
    pub fn open_rw(path: &Path) -> Result<Store> {
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        // The writer's index lookups (known digests, labels, provenance)
        // touch pages all over a large database; with SQLite's default
        // 2 MiB cache each miss is a read system call. Bounded: memory
        // stays flat once the cache is full.
        conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)
            .map_err(open_err)?;
        // The write path prepares some 40 distinct statements; rusqlite's
        // default cache of 16 would parse most of them again on every batch
        // (a third of the ingest time of examples/gen_db).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrate::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// Open an existing database read-only; readers never block the writer
    /// (WAL) and cannot change anything.
    pub fn open_ro(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.display().to_string(),
            });
        }
        match Self::open_with(path, false) {
            Ok(store) => Ok(store),
            // A WAL database on a read-only mount (a volume mounted read-only
            // for a query pod) cannot create its -shm file; with no writer
            // able to change it there, reading it as immutable is safe.
            Err(e) if !dir_writable(path) => Self::open_with(path, true).map_err(|_| e),
            Err(e) => Err(e),
        }
    }

    fn open_with(path: &Path, immutable: bool) -> Result<Store> {
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = if immutable {
            let mut uri = url::Url::from_file_path(
                std::path::absolute(path)
                    .map_err(|_| open_err(rusqlite::Error::InvalidPath(path.to_path_buf())))?,
            )
            .map_err(|_| open_err(rusqlite::Error::InvalidPath(path.to_path_buf())))?;
            uri.set_query(Some("immutable=1"));
            Connection::open_with_flags(uri.as_str(), flags | OpenFlags::SQLITE_OPEN_URI)
        } else {
            Connection::open_with_flags(path, flags)
        }
        .map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrate::check_current(&conn)?;
        Ok(Store { conn })
    }

    /// An in-memory database with the schema, for tests.
    pub fn open_in_memory() -> Result<Store> {
        let mut conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// The raw connection, for the benchmark generator and tests.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Whether the database's directory accepts new files (its -shm and -wal).
fn dir_writable(db: &Path) -> bool {
    let dir = match db.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let probe = dir.join(format!(".acr-index-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn immutable_open_reads_a_wal_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        Store::open_rw(&db).unwrap();
        // Without its -shm/-wal files, as on a read-only volume after a clean close.
        let _ = std::fs::remove_file(dir.path().join("x.db-shm"));
        let _ = std::fs::remove_file(dir.path().join("x.db-wal"));
        let store = Store::open_with(&db, true).unwrap();
        assert!(store.runs(1).unwrap().is_empty());
        assert!(
            !dir.path().join("x.db-shm").exists(),
            "immutable reads create nothing"
        );
    }
}
