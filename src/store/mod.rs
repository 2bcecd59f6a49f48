//! The SQLite store. Synchronous rusqlite only: no tokio, no HTTP. The
//! write half is used by the indexer's single writer; the read half by the
//! query, show and export commands, which open the database read-only.

mod lookup;
mod migrate;
mod model;
mod read;
mod write;

pub use lookup::{ChildEntry, ImageDetail, ParentEntry, ResolvedBy, TagEntry};
pub use model::{
    ChildRecord, Failure, LabelFilter, ManifestRecord, Record, RowFilter, RunSummary, TagListing,
    ValueMatch,
};
pub use read::{ImageRow, RunRow};

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
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Connection,
}

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
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        migrate::check_version(&conn)?;
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

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
