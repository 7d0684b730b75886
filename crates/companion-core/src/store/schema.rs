//! Versioned schema migrations. `PRAGMA user_version` is the schema version; migration N takes a
//! database from version N-1 to N, in one transaction. Migrations are only ever appended.

use crate::error::{Error, Result};
use rusqlite::Connection;

/// Migration N is `MIGRATIONS[N - 1]`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_diary.sql"),
    include_str!("migrations/0002_checkins.sql"),
    include_str!("migrations/0003_sync.sql"),
    include_str!("migrations/0004_devices.sql"),
    include_str!("migrations/0005_advice.sql"),
    include_str!("migrations/0006_origin.sql"),
    include_str!("migrations/0007_receipts.sql"),
];

/// The version this build writes.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

pub fn version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the database up to [`LATEST`].
pub fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, LATEST)
}

/// Brings the database up to `target`, one transaction per step. Refuses a database written by a
/// newer build rather than guessing at it.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<()> {
    let current = version(conn)?;
    if current > LATEST {
        return Err(Error::TooNew);
    }
    for next in (current + 1)..=target.min(LATEST) {
        // A step may rebuild a table; SQLite's procedure for that is foreign keys off (which only
        // works outside a transaction), the change, a foreign-key check, commit, keys back on.
        let keys_on: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
        conn.pragma_update(None, "foreign_keys", false)?;
        let step = (|| -> Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(MIGRATIONS[(next - 1) as usize])?;
            let broken: i64 = tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
            if broken > 0 {
                return Err(Error::Damaged("a schema migration would break references"));
            }
            tx.pragma_update(None, "user_version", next)?;
            tx.commit()?;
            Ok(())
        })();
        conn.pragma_update(None, "foreign_keys", keys_on)?;
        step?;
        tracing::info!(version = next, "schema migrated");
    }
    Ok(())
}
