//! The key-slot file beside the database, as in LUKS: several secrets can unlock one store.
//!
//! It holds the store's id, one wrapped copy of the data key per slot (the patient's passphrase,
//! the recovery code, later carers'), and the count of failed unlock attempts, so the delay
//! after repeated failures survives a restart. It holds no health data and no names.
//! It is always replaced atomically (write, fsync, rename, fsync the folder).

use crate::crypto::{self, Kdf, SecretKey, Wrapped};
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use uuid::Uuid;

pub const FORMAT: u32 = 1;

/// Attempts allowed before a delay is imposed.
pub const FREE_ATTEMPTS: u32 = 3;
/// First delay, doubled with every further failure, up to [`MAX_DELAY_SECS`].
pub const BASE_DELAY_SECS: u64 = 5;
pub const MAX_DELAY_SECS: u64 = 15 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlotKind {
    Passphrase,
    Recovery,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    pub id: Uuid,
    pub kind: SlotKind,
    /// The person this slot unlocks as (their id in the encrypted store).
    pub person: Uuid,
    pub created_at: DateTime<Utc>,
    #[serde(flatten)]
    pub wrapped: Wrapped,
}

impl Slot {
    fn context(&self, store_id: Uuid) -> String {
        let kind = match self.kind {
            SlotKind::Passphrase => "passphrase",
            SlotKind::Recovery => "recovery",
        };
        format!("{store_id}|{}|{kind}|{}", self.id, self.person)
    }

    /// Makes a slot that wraps `data_key` under `secret`.
    pub fn new(
        store_id: Uuid,
        kind: SlotKind,
        person: Uuid,
        data_key: &SecretKey,
        secret: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Slot> {
        let mut slot = Slot {
            id: Uuid::new_v4(),
            kind,
            person,
            created_at: now,
            wrapped: Wrapped { kdf: Kdf::default_argon2id()?, nonce: String::new(), sealed: String::new() },
        };
        slot.wrapped = crypto::wrap(data_key, secret, slot.wrapped.kdf.clone(), &slot.context(store_id))?;
        Ok(slot)
    }

    /// The data key, if `secret` opens this slot.
    pub fn open(&self, store_id: Uuid, secret: &[u8]) -> Result<Option<SecretKey>> {
        crypto::unwrap(&self.wrapped, secret, &self.context(store_id))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyFile {
    pub format: u32,
    pub store_id: Uuid,
    pub slots: Vec<Slot>,
    #[serde(default)]
    pub failed_attempts: u32,
    #[serde(default)]
    pub last_failure: Option<DateTime<Utc>>,
}

impl KeyFile {
    pub fn new(store_id: Uuid) -> Self {
        KeyFile { format: FORMAT, store_id, slots: Vec::new(), failed_attempts: 0, last_failure: None }
    }

    pub fn path(dir: &Path) -> PathBuf {
        dir.join(crate::paths::KEY_FILE)
    }

    /// Reads the file. A missing file and an unreadable one are different errors; neither is
    /// ever "fixed" by writing a new file.
    pub fn load(dir: &Path) -> Result<KeyFile> {
        let bytes = fs::read(Self::path(dir))?;
        let file: KeyFile =
            serde_json::from_slice(&bytes).map_err(|_| Error::Damaged("the key-slot file is unreadable"))?;
        if file.format > FORMAT {
            return Err(Error::TooNew);
        }
        Ok(file)
    }

    /// Replaces the file atomically: a crash leaves either the old file or the new one.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(|_| Error::Internal("key file serialisation"))?;
        write_atomically(&Self::path(dir), &json)
    }

    /// Seconds to wait before another attempt is allowed.
    pub fn wait_secs(&self, now: DateTime<Utc>) -> u64 {
        let delay = delay_after(self.failed_attempts);
        match self.last_failure {
            Some(last) if delay > 0 => {
                // Rounded up, so "0 seconds" is only ever said once the wait is really over.
                let left_ms = (last + chrono::Duration::seconds(delay as i64) - now).num_milliseconds();
                if left_ms <= 0 { 0 } else { (left_ms as u64).div_ceil(1000) }
            }
            _ => 0,
        }
    }

    /// Counts a failed attempt, saves, and returns the wait before the next one.
    pub fn record_failure(&mut self, dir: &Path, now: DateTime<Utc>) -> Result<u64> {
        self.failed_attempts = self.failed_attempts.saturating_add(1);
        self.last_failure = Some(now);
        self.save(dir)?;
        Ok(self.wait_secs(now))
    }

    /// Clears the failure count after a successful unlock (saves only if there was one).
    pub fn record_success(&mut self, dir: &Path) -> Result<()> {
        if self.failed_attempts > 0 || self.last_failure.is_some() {
            self.failed_attempts = 0;
            self.last_failure = None;
            self.save(dir)?;
        }
        Ok(())
    }

    /// Finds the slot of `kind` that `secret` opens. Tries every such slot, because a person
    /// does not say which slot is theirs.
    pub fn open_any(&self, kind: SlotKind, secret: &[u8]) -> Result<Option<(usize, SecretKey)>> {
        for (i, slot) in self.slots.iter().enumerate().filter(|(_, s)| s.kind == kind) {
            if let Some(key) = slot.open(self.store_id, secret)? {
                return Ok(Some((i, key)));
            }
        }
        Ok(None)
    }
}

/// The delay imposed after `failures` consecutive wrong attempts.
pub fn delay_after(failures: u32) -> u64 {
    if failures < FREE_ATTEMPTS {
        return 0;
    }
    let doublings = (failures - FREE_ATTEMPTS).min(16);
    (BASE_DELAY_SECS << doublings).min(MAX_DELAY_SECS)
}

/// Writes `bytes` to `path` so that a crash leaves the old content or the new, never a mix.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().ok_or(Error::Internal("file without a folder"))?;
    let tmp = path.with_extension("tmp");
    {
        let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// Makes a rename durable on platforms where that takes an fsync of the folder.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_delay_grows_and_is_capped() {
        assert_eq!(delay_after(0), 0);
        assert_eq!(delay_after(2), 0);
        assert_eq!(delay_after(3), 5);
        assert_eq!(delay_after(4), 10);
        assert_eq!(delay_after(5), 20);
        assert_eq!(delay_after(12), MAX_DELAY_SECS);
        assert_eq!(delay_after(u32::MAX), MAX_DELAY_SECS);
    }

    #[test]
    fn failures_survive_a_reload_and_count_down() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut kf = KeyFile::new(Uuid::new_v4());
        kf.save(dir.path()).unwrap();
        for _ in 0..3 {
            kf.record_failure(dir.path(), t0).unwrap();
        }
        let reloaded = KeyFile::load(dir.path()).unwrap();
        assert_eq!(reloaded.failed_attempts, 3);
        assert_eq!(reloaded.wait_secs(t0), 5);
        assert_eq!(reloaded.wait_secs(t0 + chrono::Duration::seconds(2)), 3);
        assert_eq!(reloaded.wait_secs(t0 + chrono::Duration::milliseconds(4500)), 1);
        assert_eq!(reloaded.wait_secs(t0 + chrono::Duration::seconds(5)), 0);
        let mut kf = reloaded;
        kf.record_success(dir.path()).unwrap();
        assert_eq!(KeyFile::load(dir.path()).unwrap().failed_attempts, 0);
    }

    #[test]
    fn a_damaged_file_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(KeyFile::path(dir.path()), b"{ not json").unwrap();
        assert!(matches!(KeyFile::load(dir.path()), Err(Error::Damaged(_))));
        assert_eq!(fs::read(KeyFile::path(dir.path())).unwrap(), b"{ not json");
    }
}
