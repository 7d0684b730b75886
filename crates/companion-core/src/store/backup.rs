//! A backup the patient owns: one file holding the key-slot file and an SQLCipher copy of the
//! database under the same data key, so the same passphrase (or recovery code, after a
//! restore) opens it, and it is no easier to read than the diary itself.
//!
//! Format 1: the line `COMPANION-BACKUP 1`, one line of JSON (the store's id, when, the schema,
//! the database's length, and the key file, which holds no health data and no names), the
//! database's bytes, then the SHA-256 of everything before it. A file that fails any check is
//! refused whole; a restore goes only into a folder with no diary in it, builds the database
//! under a temporary name, checks that the passphrase opens it and that SQLite and SQLCipher
//! find it whole, and puts it in place only after the key file is on disk (as set-up does).
//! The restored diary is a new device of it: it gets a device id of its own.

use super::{create_private_dir, file_problems, open_encrypted, pending_db_path, presence, with_sidecars, Presence, Store};
use crate::clock::SharedClock;
use crate::error::{Error, Problem, Result};
use crate::keyfile::{self, KeyFile, SlotKind};
use crate::paths::DB_FILE;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::Path;
use uuid::Uuid;

const MAGIC: &[u8] = b"COMPANION-BACKUP 1\n";
/// The temporary export's name in the diary's folder.
const COPY_PREFIX: &str = ".backup-";
const DIGEST: usize = 32;
/// Larger than any diary a person could write by hand; a bigger file is not a backup.
const MAX_BYTES: u64 = 1 << 31;
/// The header line holds the key file: a few kilobytes, never a megabyte.
const MAX_HEADER: u64 = 1 << 20;
/// How a backup's file name ends.
pub const EXTENSION: &str = "companion-backup";

#[derive(Serialize, Deserialize)]
struct Header {
    store_id: Uuid,
    created_at: DateTime<Utc>,
    schema: u32,
    database_bytes: u64,
    keys: KeyFile,
}

/// What a backup holds, as the person is told.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct BackupInfo {
    pub file: String,
    pub created_at: DateTime<Utc>,
    pub bytes: u64,
    /// Records in the diary when it was made (every record, whoever wrote it).
    pub records: i64,
}

impl Store {
    /// Writes a backup of the whole diary to `to`, which must not exist yet. Only the diary's
    /// owner makes one.
    pub fn backup_to(&self, to: &Path) -> Result<BackupInfo> {
        if !self.is_owner() {
            return Err(Error::NotPermitted);
        }
        if to.exists() {
            return Err(Error::invalid("to", Problem::NotAllowed));
        }
        let key = self.ring.get(&self.data_name).ok_or(Error::Internal("data key"))?;
        // Copies left by a backup that was cut short (encrypted, but not ours to keep).
        for old in fs::read_dir(&self.dir)?.filter_map(|e| e.ok()).map(|e| e.path()) {
            if old.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(COPY_PREFIX)) {
                let _ = fs::remove_file(old);
            }
        }
        let schema = super::schema::version(&self.conn)?;
        let copy = self.dir.join(format!("{COPY_PREFIX}{}.db", Uuid::new_v4()));
        let exported = (|| -> Result<Vec<u8>> {
            // A new database with the same key and settings, filled by SQLCipher's own export.
            drop(open_encrypted(&copy, key, true)?);
            let raw = zeroize::Zeroizing::new(format!("x'{}'", key.to_hex().as_str()));
            self.conn.execute("ATTACH DATABASE ?1 AS backup KEY ?2", (copy.to_string_lossy(), raw.as_str()))?;
            let done = self
                .conn
                .query_row("SELECT sqlcipher_export('backup')", [], |_| Ok(()))
                .and_then(|()| self.conn.pragma_update(Some("backup"), "user_version", schema));
            self.conn.execute_batch("DETACH DATABASE backup")?;
            done?;
            Ok(fs::read(&copy)?)
        })();
        for leftover in with_sidecars(&copy) {
            let _ = fs::remove_file(leftover);
        }
        let database = exported?;
        let now = self.now();
        let header = Header {
            store_id: self.keys.store_id,
            created_at: now,
            schema,
            database_bytes: database.len() as u64,
            keys: KeyFile::load(&self.dir)?,
        };
        let mut out = MAGIC.to_vec();
        out.extend(serde_json::to_vec(&header).map_err(|_| Error::Internal("backup header"))?);
        out.push(b'\n');
        out.extend(&database);
        let digest = ring::digest::digest(&ring::digest::SHA256, &out);
        out.extend(digest.as_ref());
        write_new(to, &out)?;
        let records: i64 = self.conn.query_row("SELECT count(*) FROM entries", [], |r| r.get(0))?;
        tracing::info!(bytes = out.len(), "backup written");
        Ok(BackupInfo { file: to.to_string_lossy().into_owned(), created_at: now, bytes: out.len() as u64, records })
    }
}

/// Reads a backup's header only (to list backups): quick, and the whole file is checked at
/// restore. A regular file whose header cannot be read is damaged.
pub fn inspect(from: &Path) -> Result<BackupInfo> {
    use std::io::Read;
    let meta = fs::metadata(from).map_err(|_| Error::invalid("from", Problem::Unknown))?;
    if !meta.is_file() {
        return Err(Error::invalid("from", Problem::Unknown));
    }
    let file = fs::File::open(from).map_err(|_| Error::invalid("from", Problem::BadFormat))?;
    let mut start = Vec::new();
    file.take(MAGIC.len() as u64 + MAX_HEADER).read_to_end(&mut start).map_err(|_| Error::BackupDamaged)?;
    let (header, _) = split_header(&start)?;
    Ok(BackupInfo { file: from.to_string_lossy().into_owned(), created_at: header.created_at, bytes: meta.len(), records: -1 })
}

/// Restores the backup `from` into `dir`, which must hold no diary, and unlocks it with
/// `passphrase`. Nothing is left in `dir` unless the whole restore succeeds.
pub fn restore(from: &Path, dir: &Path, passphrase: &str, clock: SharedClock) -> Result<Store> {
    if presence(dir)? == Presence::Present {
        return Err(Error::AlreadyInitialised);
    }
    let bytes = read(from)?;
    let (mut header, database) = parse(&bytes)?;
    let keys = &mut header.keys;
    if keys.store_id != header.store_id {
        return Err(Error::BackupDamaged);
    }
    // A fresh start on this device: the old device's failed attempts do not follow the backup.
    keys.failed_attempts = 0;
    keys.last_failure = None;
    let Some((slot, ring)) = keys.unlock(SlotKind::Passphrase, passphrase.as_bytes())? else {
        return Err(Error::WrongPassphrase { retry_after_secs: 0 });
    };
    create_private_dir(dir)?;
    let pending = pending_db_path(dir);
    let mut wrote_keys = false;
    let placed = (|| -> Result<()> {
        keyfile::write_atomically(&pending, database)?;
        let conn =
            keys.data_keys(&ring).into_iter().find_map(|(_, key)| open_encrypted(&pending, key, false).ok()).ok_or(Error::BackupDamaged)?;
        let id: Option<String> = conn.query_row("SELECT value FROM meta WHERE key = 'store_id'", [], |r| r.get(0)).ok();
        if id != Some(header.store_id.to_string()) || !file_problems(&conn).is_ok_and(|p| p.is_empty()) {
            return Err(Error::BackupDamaged);
        }
        new_device(&conn)?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        conn.close().map_err(|(_, e)| e)?;
        // Looked at again just before: a diary set up here meanwhile is never overwritten.
        if KeyFile::path(dir).exists() || dir.join(DB_FILE).exists() {
            return Err(Error::AlreadyInitialised);
        }
        keys.save(dir)?;
        wrote_keys = true;
        fs::rename(&pending, dir.join(DB_FILE))?;
        keyfile::sync_dir(dir)
    })();
    if let Err(e) = placed {
        for leftover in with_sidecars(&pending) {
            let _ = fs::remove_file(leftover);
        }
        if wrote_keys && !dir.join(DB_FILE).exists() {
            let _ = fs::remove_file(KeyFile::path(dir));
        }
        return Err(e);
    }
    tracing::info!("backup restored");
    Store::with_keys(dir, header.keys, slot, ring, clock)
}

/// This device is a new device of the diary: records keep the device they were entered on,
/// but what this one writes from now on is stamped with its own id, so its edits and those of
/// the device the backup came from (if it is still in use) are never mistaken for each other.
fn new_device(conn: &rusqlite::Connection) -> Result<()> {
    conn.execute("UPDATE meta SET value = ?1 WHERE key = 'device_id'", [Uuid::new_v4().to_string()])?;
    Ok(())
}

/// Writes a new file, never replacing one: a backup that is cut short (a full stick, a crash)
/// stays as it is, and is refused whole at restore.
fn write_new(to: &Path, bytes: &[u8]) -> Result<()> {
    match crate::files::write_new(to, bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::invalid("to", Problem::NotAllowed)),
        other => Ok(other?),
    }
}

fn read(from: &Path) -> Result<Vec<u8>> {
    let meta = fs::metadata(from).map_err(|_| Error::invalid("from", Problem::Unknown))?;
    if !meta.is_file() {
        return Err(Error::invalid("from", Problem::Unknown));
    }
    if meta.len() > MAX_BYTES {
        return Err(Error::BackupDamaged);
    }
    fs::read(from).map_err(|_| Error::invalid("from", Problem::BadFormat))
}

/// The header and the database's bytes, if every check holds.
fn parse(bytes: &[u8]) -> Result<(Header, &[u8])> {
    if bytes.len() < MAGIC.len() + DIGEST {
        return Err(Error::BackupDamaged);
    }
    let (signed, digest) = bytes.split_at(bytes.len() - DIGEST);
    if ring::digest::digest(&ring::digest::SHA256, signed).as_ref() != digest {
        return Err(Error::BackupDamaged);
    }
    let (header, database) = split_header(signed)?;
    if header.keys.format > keyfile::FORMAT || header.schema > super::schema::LATEST {
        return Err(Error::TooNew);
    }
    if database.len() as u64 != header.database_bytes {
        return Err(Error::BackupDamaged);
    }
    Ok((header, database))
}

/// The magic line and the header line at the start of `bytes`, and what follows them.
fn split_header(bytes: &[u8]) -> Result<(Header, &[u8])> {
    let body = bytes.strip_prefix(MAGIC).ok_or(Error::BackupDamaged)?;
    let end = body.iter().take(MAX_HEADER as usize).position(|b| *b == b'\n').ok_or(Error::BackupDamaged)?;
    let header: Header = serde_json::from_slice(&body[..end]).map_err(|_| Error::BackupDamaged)?;
    Ok((header, &body[end + 1..]))
}

/// Moves a diary that will not open out of the way, so a backup can be restored in its place:
/// its files go, byte for byte, into a new folder `set-aside-<time>` inside `dir`, which is
/// returned. Nothing is deleted. Only a locked diary's files are moved (the caller holds no
/// store on `dir`).
pub fn set_aside(dir: &Path, now: DateTime<Utc>) -> Result<std::path::PathBuf> {
    let files: Vec<_> = [KeyFile::path(dir)]
        .into_iter()
        .chain(with_sidecars(&dir.join(DB_FILE)))
        .chain(with_sidecars(&pending_db_path(dir)))
        .filter(|f| f.exists())
        .collect();
    if files.is_empty() {
        return Err(Error::NotInitialised);
    }
    let stamp = now.format("%Y%m%d-%H%M%S").to_string();
    let mut target = dir.join(format!("set-aside-{stamp}"));
    let mut n = 1;
    // A folder of its own, never one that is there already.
    while let Err(e) = fs::create_dir(&target) {
        if e.kind() != std::io::ErrorKind::AlreadyExists || n > 100 {
            return Err(e.into());
        }
        n += 1;
        target = dir.join(format!("set-aside-{stamp}-{n}"));
    }
    for file in &files {
        let name = file.file_name().ok_or(Error::Internal("a diary file without a name"))?;
        fs::rename(file, target.join(name))?;
    }
    keyfile::sync_dir(&target)?;
    keyfile::sync_dir(dir)?;
    tracing::info!(files = files.len(), "a diary that would not open was set aside");
    Ok(target)
}
