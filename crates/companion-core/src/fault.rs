//! Why the device would not store something, said plainly.
//!
//! SQLite reports a full disk as `SQLITE_FULL` and a read-only file as `SQLITE_READONLY`, which
//! [`Error`]'s conversion keeps; but a write refused for another reason (a folder that became
//! read-only, a file-size limit, a quota) arrives as a bare I/O error. [`explain`] looks at the
//! folder at the moment of the failure and names the cause, so a person hears "there is no
//! room left on this device" rather than "something went wrong". It writes one small probe
//! file, removed at once, and never touches the diary's own files.

use crate::error::{Error, Fault};
use crate::paths::DB_FILE;
use std::io::Write;
use std::path::Path;

/// Room a write needs at the least: SQLite writes pages of 4 KiB, and the WAL a few at a time.
const HEADROOM: u64 = 64 * 1024;

/// The same error, or a [`Fault`] when the folder shows what stopped a write.
pub fn explain(err: Error, dir: &Path) -> Error {
    match err {
        Error::Db(ref e) if may_be_the_device(e) => probe(dir).map(Error::Storage).unwrap_or(err),
        Error::Io(ref e) if e.raw_os_error().is_some() => probe(dir).map(Error::Storage).unwrap_or(err),
        // SQLite says "full" for a short write, which is also how a file-size limit shows.
        Error::Storage(Fault::NoSpace) if over_size_limit(dir) => Error::Storage(Fault::TooLarge),
        other => other,
    }
}

/// SQLite failures that come from the device rather than the data: I/O, opening, locking.
fn may_be_the_device(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::SystemIoFailure | rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::DiskFull)
    )
}

/// SQLite failures that may come from a damaged file: reads and writes that failed at the
/// device, short reads of a file cut short.
pub fn may_be_damage(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::SystemIoFailure)
}

/// What the folder says: a size limit the diary's files are at, a write that fails, or no room.
fn probe(dir: &Path) -> Option<Fault> {
    if over_size_limit(dir) {
        return Some(Fault::TooLarge);
    }
    let path = dir.join(format!(".companion-write-check-{}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&path)?;
        f.write_all(&[0u8; 4096])?;
        f.sync_all()
    })();
    let _ = std::fs::remove_file(&path);
    if let Err(e) = written {
        return e.raw_os_error().and_then(Fault::from_errno);
    }
    match free_bytes(dir) {
        Some(free) if free < HEADROOM => Some(Fault::NoSpace),
        _ => None,
    }
}

/// Whether the process's file-size limit (`ulimit -f`) leaves the diary no room to grow.
fn over_size_limit(dir: &Path) -> bool {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit) } != 0 || limit.rlim_cur == libc::RLIM_INFINITY {
        return false;
    }
    let largest = [DB_FILE.to_owned(), format!("{DB_FILE}-wal")]
        .iter()
        .filter_map(|name| std::fs::metadata(dir.join(name)).ok())
        .map(|m| m.len())
        .max()
        .unwrap_or(0);
    largest + HEADROOM > limit.rlim_cur
}

/// Bytes an unprivileged writer may still use on the folder's file system.
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs reads a NUL-terminated path and writes one struct we own.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operating_system_errors_are_named() {
        assert_eq!(Fault::from_errno(libc::ENOSPC), Some(Fault::NoSpace));
        assert_eq!(Fault::from_errno(libc::EDQUOT), Some(Fault::NoSpace));
        assert_eq!(Fault::from_errno(libc::EROFS), Some(Fault::CannotWrite));
        assert_eq!(Fault::from_errno(libc::EFBIG), Some(Fault::TooLarge));
        assert_eq!(Fault::from_errno(libc::EIO), None);
        let e: Error = std::io::Error::from_raw_os_error(libc::ENOSPC).into();
        assert!(matches!(e, Error::Storage(Fault::NoSpace)));
    }

    #[test]
    fn sqlite_verdicts_are_kept() {
        let failure = |code: i32| rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        assert!(matches!(Error::from(failure(rusqlite::ffi::SQLITE_FULL)), Error::Storage(Fault::NoSpace)));
        assert!(matches!(Error::from(failure(rusqlite::ffi::SQLITE_READONLY)), Error::Storage(Fault::CannotWrite)));
        assert!(matches!(Error::from(failure(rusqlite::ffi::SQLITE_CORRUPT)), Error::Corrupt));
        assert!(matches!(Error::from(failure(rusqlite::ffi::SQLITE_CONSTRAINT)), Error::Db(_)));
    }

    #[test]
    fn a_writable_folder_with_room_explains_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let io = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR), None);
        assert!(matches!(explain(Error::Db(io), dir.path()), Error::Db(_)));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "the probe is removed");
    }
}
