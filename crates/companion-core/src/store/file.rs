//! The database file itself: opening it encrypted (and refusing what is not ours to open),
//! the settings every connection runs with, and the integrity checks that tell damage from
//! other failures.

use crate::crypto::SecretKey;
use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::fs;
use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

/// Opens (or with `create`, creates) an SQLCipher database with a raw key, and refuses to go on
/// unless SQLCipher is really linked and the key really opens the file.
pub fn open_encrypted(path: &Path, key: &SecretKey, create: bool) -> Result<Connection> {
    sqlcipher_started()?;
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    if !create && fs::metadata(path)?.len() == 0 {
        // An empty file would open as a new, empty database, and the first pragma would write
        // one; an empty diary file is a damaged one, and is left exactly as it is.
        return Err(Error::Corrupt);
    }
    if create && !path.exists() {
        // Made 0600 before SQLite opens it, whatever the umask; SQLite gives its -wal and -shm
        // files the database file's mode.
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        o.open(path)?;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    // SQLCipher logs failed HMAC checks to standard error by default; nothing of ours may
    // reach a terminal or a log we do not control.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    let cipher: Option<String> = conn.query_row("PRAGMA cipher_version", [], |r| r.get(0)).optional()?;
    if cipher.filter(|v| !v.is_empty()).is_none() {
        return Err(Error::NotEncrypted);
    }
    let hex = key.to_hex();
    let pragma = Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", hex.as_str()));
    conn.execute_batch(&pragma)?;
    drop(pragma);
    // The first read is where SQLCipher finds out whether the key fits.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::NotADatabase => {
            return Err(Error::Damaged("the key does not open the database file"));
        }
        Err(e) => return Err(e.into()),
    }
    durable(&conn)?;
    Ok(conn)
}

/// Makes sure SQLCipher has finished starting before a key is set.
///
/// SQLite marks itself initialised and lets go of its mutexes *before* it runs SQLCipher's part of
/// start-up (`sqlcipher_extra_init`). A second thread opening its first database in that window
/// passes `sqlite3_initialize` at once, and its `PRAGMA key` fails with "SQLCipher not
/// initialised" (seen in the clinic tests, which start many diaries at once; reproduced in 8 of
/// 300 runs of eight threads each opening one database). `sqlcipher_extra_init` takes SQLite's
/// main mutex and returns at once when start-up is complete, so calling it here waits out the
/// thread that is still starting it, or does the work itself.
fn sqlcipher_started() -> Result<()> {
    extern "C" {
        fn sqlcipher_extra_init(arg: *const std::ffi::c_char) -> std::ffi::c_int;
    }
    // SAFETY: both functions take no pointers but a null argument, are safe to call from any
    // thread and at any time, and are idempotent.
    let rc = unsafe {
        match rusqlite::ffi::sqlite3_initialize() {
            rusqlite::ffi::SQLITE_OK => sqlcipher_extra_init(std::ptr::null()),
            failed => failed,
        }
    };
    if rc == rusqlite::ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(Error::Internal("SQLCipher could not start"))
    }
}

/// The settings every diary connection runs with: WAL, and a commit is on disk when it returns.
pub(super) fn durable(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA secure_delete = ON;",
    )?;
    Ok(())
}

/// `err`, or [`Error::Corrupt`] when the file's integrity checks find damage.
pub(super) fn damage(conn: &Connection, err: Error) -> Error {
    if !matches!(err, Error::Db(_)) {
        return err;
    }
    match file_problems(conn) {
        Ok(problems) if !problems.is_empty() => Error::Corrupt,
        // A check that meets damage itself is damage; one that cannot run for another reason
        // (busy, out of memory) says nothing about the file.
        Err(Error::Corrupt) => Error::Corrupt,
        _ => err,
    }
}

/// SQLite's and SQLCipher's checks of the file itself (pages, their MACs, the b-trees); empty
/// when the file is whole.
pub(super) fn file_problems(conn: &Connection) -> Result<Vec<String>> {
    checks(conn, &["PRAGMA integrity_check", "PRAGMA cipher_integrity_check"])
}

/// The file's checks and the foreign keys; empty when all is well.
pub(super) fn integrity_problems(conn: &Connection) -> Result<Vec<String>> {
    let mut problems = file_problems(conn)?;
    problems.extend(checks(conn, &["PRAGMA foreign_key_check"])?);
    Ok(problems)
}

fn checks(conn: &Connection, pragmas: &[&str]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for pragma in pragmas {
        let mut stmt = conn.prepare(pragma)?;
        let rows = stmt.query_map([], |r| r.get::<_, rusqlite::types::Value>(0))?;
        for row in rows {
            match row? {
                rusqlite::types::Value::Text(t) if t == "ok" => {}
                other => problems.push(format!("{pragma}: {other:?}")),
            }
        }
    }
    Ok(problems)
}
