//! Embedded, append-only migrations tracked with `PRAGMA user_version`.

use super::{Result, StoreError};
use rusqlite::{Connection, TransactionBehavior};

/// Every file in migrations/, in order. Append only; never edit a released one.
pub(crate) const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial.sql",
        include_str!("../../migrations/0001_initial.sql"),
    ),
    (
        "0002_lookup_indexes.sql",
        include_str!("../../migrations/0002_lookup_indexes.sql"),
    ),
    (
        "0003_provenance.sql",
        include_str!("../../migrations/0003_provenance.sql"),
    ),
    (
        "0004_referrers.sql",
        include_str!("../../migrations/0004_referrers.sql"),
    ),
];

/// The version that added the stored provenance: a database older than it
/// gets its provenance derived, after every pending migration has run, from
/// what it already holds.
const PROVENANCE_VERSION: usize = 3;

fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

pub(crate) fn check_version(conn: &Connection) -> Result<()> {
    let found = version(conn)?;
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    Ok(())
}

/// For read-only opens: a database an older acr-index wrote lacks tables
/// the readers join (the stored provenance); say how to upgrade it.
pub(crate) fn check_current(conn: &Connection) -> Result<()> {
    check_version(conn)?;
    let found = version(conn)?;
    let known = MIGRATIONS.len() as i64;
    if found < known {
        return Err(StoreError::TooOld { found, known });
    }
    Ok(())
}

/// Apply pending migrations in one exclusive transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    check_version(conn)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let current = version(&tx)? as usize;
    for (_, sql) in &MIGRATIONS[current..] {
        tx.execute_batch(sql)?;
    }
    if current < PROVENANCE_VERSION && MIGRATIONS.len() >= PROVENANCE_VERSION {
        super::derive::refresh_all(&tx)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_twice() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn every_migration_file_is_registered() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let registered: Vec<&str> = MIGRATIONS.iter().map(|(n, _)| *n).collect();
        assert_eq!(files, registered);
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(migrate(&mut conn), Err(StoreError::TooNew { .. })));
    }
}
