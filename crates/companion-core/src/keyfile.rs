//! The key-slot file beside the database, as in LUKS: several secrets can unlock one store.
//!
//! Format 2 (since carers): a slot opens a person's *root key*, and the file holds a small graph
//! of keys sealed under other keys:
//!
//! - `patient`: the patient's root key P, opened by their passphrase slot and recovery slot.
//! - `self:<carer>`: a carer's root key S, opened by their passphrase slot only.
//! - `carer:<carer>`: the key the patient and that carer share (sealed under P and under S), so
//!   the patient can hand the carer a new data key without knowing the carer's passphrase.
//! - `data:<id>`: the data key SQLCipher opens the database with, sealed under P and under each
//!   carer's shared key. Removing a carer rotates it (`PRAGMA rekey`); during a rotation the file
//!   holds the old and the new one, newest last, so a crash at any step keeps the diary open.
//! - `cat:symptoms`, `cat:questions`, `cat:checkins`: category keys that seal those records
//!   inside the database, sealed under P and under the shared key of each carer allowed to see
//!   the category. A carer's passphrase never reaches a category they were not given.
//! - `obs:<carer>`: seals what that carer logs (patient and carer); `priv:<carer>`: seals the
//!   carer's own check-in, sealed under S only, so not even the patient can read it.
//!
//! Format 1 (before carers) wrapped the data key itself in every slot; such a file still opens
//! and is upgraded when the first carer is added. The file holds no health data and no names,
//! and counts failed unlock attempts so the delay after repeated failures survives a restart.
//! It is always replaced atomically (write, fsync, rename, fsync the folder).

use crate::crypto::{self, Kdf, SecretKey, Wrapped};
use crate::domain::Scope;
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use uuid::Uuid;

pub const FORMAT: u32 = 2;

/// Attempts allowed before a delay is imposed.
pub const FREE_ATTEMPTS: u32 = 3;
/// First delay, doubled with every further failure, up to [`MAX_DELAY_SECS`].
pub const BASE_DELAY_SECS: u64 = 5;
pub const MAX_DELAY_SECS: u64 = 15 * 60;

/// The names of the keys in the graph.
pub mod names {
    use crate::domain::Scope;
    use uuid::Uuid;
    pub const PATIENT: &str = "patient";
    /// In a format-1 file, the data key every slot wrapped.
    pub const LEGACY_DATA: &str = "data:legacy";
    pub fn own(carer: Uuid) -> String {
        format!("self:{carer}")
    }
    pub fn shared(carer: Uuid) -> String {
        format!("carer:{carer}")
    }
    pub fn observations(carer: Uuid) -> String {
        format!("obs:{carer}")
    }
    pub fn private(carer: Uuid) -> String {
        format!("priv:{carer}")
    }
    pub fn data(id: Uuid) -> String {
        format!("data:{id}")
    }
    /// The category key of records a scope lets a carer see; `observations` is a right to write,
    /// not a category.
    pub fn category(scope: Scope) -> Option<&'static str> {
        match scope {
            Scope::Symptoms => Some("cat:symptoms"),
            Scope::Questions => Some("cat:questions"),
            Scope::Checkins => Some("cat:checkins"),
            Scope::Observations => None,
        }
    }
    pub const CATEGORIES: [Scope; 3] = [Scope::Symptoms, Scope::Questions, Scope::Checkins];
}

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
    /// The key this slot opens (`patient` or `self:<carer>`); empty in format 1, where every
    /// slot opened the data key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub holder: String,
    #[serde(flatten)]
    pub wrapped: Wrapped,
    /// SHA-256 of the rest of the slot, written with the file: a slot that no longer matches
    /// it is damaged, which a wrong passphrase never is. Absent in files from before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
}

impl Slot {
    /// The checksum of everything in the slot but the checksum.
    fn checksum(&self) -> String {
        let bare = Slot { check: None, ..self.clone() };
        crypto::sha256_hex(&serde_json::to_vec(&bare).unwrap_or_default())
    }

    /// Whether the slot was changed after it was written (a flipped byte, a cut line).
    pub fn is_damaged(&self) -> bool {
        self.check.as_ref().is_some_and(|c| *c != self.checksum())
    }

    fn context(&self, store_id: Uuid) -> String {
        let kind = match self.kind {
            SlotKind::Passphrase => "passphrase",
            SlotKind::Recovery => "recovery",
        };
        let base = format!("{store_id}|{}|{kind}|{}", self.id, self.person);
        if self.holder.is_empty() {
            base
        } else {
            format!("{base}|{}", self.holder)
        }
    }

    /// Makes a slot that wraps `key` (the key named `holder`) under `secret`.
    pub fn new(
        store_id: Uuid,
        kind: SlotKind,
        person: Uuid,
        holder: &str,
        key: &SecretKey,
        secret: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Slot> {
        let mut slot = Slot {
            id: Uuid::new_v4(),
            kind,
            person,
            created_at: now,
            holder: holder.to_owned(),
            wrapped: Wrapped { kdf: Kdf::default_argon2id()?, nonce: String::new(), sealed: String::new() },
            check: None,
        };
        slot.wrapped = crypto::wrap(key, secret, slot.wrapped.kdf.clone(), &slot.context(store_id))?;
        Ok(slot)
    }

    /// The key this slot wraps, if `secret` opens it.
    pub fn open(&self, store_id: Uuid, secret: &[u8]) -> Result<Option<SecretKey>> {
        crypto::unwrap(&self.wrapped, secret, &self.context(store_id))
    }

    /// The name of the key this slot opens.
    pub fn opens(&self) -> &str {
        if self.holder.is_empty() {
            names::LEGACY_DATA
        } else {
            &self.holder
        }
    }
}

/// One copy of a key, sealed under another key of the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wrap {
    pub under: String,
    pub sealed: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyEntry {
    pub name: String,
    pub wraps: Vec<Wrap>,
}

/// What the patient allowed a carer on this device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub person: Uuid,
    pub allow: Vec<Scope>,
    pub added_at: DateTime<Utc>,
    /// When the carer's access ends by itself: their passphrase is refused from then on, and the
    /// patient's next unlock removes them as if by hand (slot out, data key rotated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

impl Grant {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.until.is_some_and(|u| u <= now)
    }
}

/// The keys a session holds, by name. Wiped when dropped.
#[derive(Default)]
pub struct Keyring(BTreeMap<String, SecretKey>);

impl Keyring {
    pub fn get(&self, name: &str) -> Option<&SecretKey> {
        self.0.get(name)
    }
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
    pub fn insert(&mut self, name: String, key: SecretKey) {
        self.0.insert(name, key);
    }
    pub fn remove(&mut self, name: &str) {
        self.0.remove(name);
    }
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(|k| k.as_str())
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyFile {
    pub format: u32,
    pub store_id: Uuid,
    pub slots: Vec<Slot>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carers: Vec<Grant>,
    #[serde(default)]
    pub failed_attempts: u32,
    #[serde(default)]
    pub last_failure: Option<DateTime<Utc>>,
}

impl KeyFile {
    pub fn new(store_id: Uuid) -> Self {
        KeyFile {
            format: FORMAT,
            store_id,
            slots: Vec::new(),
            keys: Vec::new(),
            carers: Vec::new(),
            failed_attempts: 0,
            last_failure: None,
        }
    }

    /// An empty file in format 1, as builds before carers wrote it (for tests of the upgrade).
    #[doc(hidden)]
    pub fn legacy(store_id: Uuid) -> Self {
        KeyFile { format: 1, ..KeyFile::new(store_id) }
    }

    pub fn is_legacy(&self) -> bool {
        self.format < 2
    }

    pub fn path(dir: &Path) -> PathBuf {
        dir.join(crate::paths::KEY_FILE)
    }

    /// Reads the file. A missing file and an unreadable one are different errors; neither is
    /// ever "fixed" by writing a new file.
    pub fn load(dir: &Path) -> Result<KeyFile> {
        Self::load_file(&Self::path(dir))
    }

    /// Reads a key file from any path (a copy, in tests and support).
    pub fn load_file(path: &Path) -> Result<KeyFile> {
        let bytes = fs::read(path)?;
        let file: KeyFile = serde_json::from_slice(&bytes).map_err(|_| Error::Damaged("the key-slot file is unreadable"))?;
        if file.format > FORMAT {
            return Err(Error::TooNew);
        }
        Ok(file)
    }

    /// Replaces the file atomically: a crash leaves either the old file or the new one.
    pub fn save(&self, dir: &Path) -> Result<()> {
        // A slot gets its checksum when it is first written; one that no longer matches keeps
        // the old one, so its damage is never hidden by a later save.
        let mut file = self.clone();
        for slot in file.slots.iter_mut().filter(|s| s.check.is_none()) {
            slot.check = Some(slot.checksum());
        }
        let json = serde_json::to_vec_pretty(&file).map_err(|_| Error::Internal("key file serialisation"))?;
        write_atomically(&Self::path(dir), &json)
    }

    /// Seconds to wait before another attempt is allowed.
    pub fn wait_secs(&self, now: DateTime<Utc>) -> u64 {
        let delay = delay_after(self.failed_attempts);
        match self.last_failure {
            Some(last) if delay > 0 => {
                // Rounded up, so "0 seconds" is only ever said once the wait is really over.
                let left_ms = (last + chrono::Duration::seconds(delay as i64) - now).num_milliseconds();
                if left_ms <= 0 {
                    0
                } else {
                    (left_ms as u64).div_ceil(1000)
                }
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
    /// A file from before slot checksums gains them here.
    pub fn record_success(&mut self, dir: &Path) -> Result<()> {
        if self.failed_attempts > 0 || self.last_failure.is_some() || self.slots.iter().any(|s| s.check.is_none()) {
            self.failed_attempts = 0;
            self.last_failure = None;
            self.save(dir)?;
        }
        Ok(())
    }

    /// Finds the slot of `kind` that `secret` opens, and every key reachable from it. Tries
    /// every such slot, because a person does not say which slot is theirs. When every one of
    /// them is damaged, no secret could open any, and the secret may well be right:
    /// [`Error::KeysDamaged`], which the caller does not count as a failed attempt. When some
    /// are whole, a secret that opens none of them is counted as usual (so a damaged slot never
    /// lifts the delay for the others); [`KeyFile::has_damaged`] then tells the caller to say so.
    pub fn unlock(&self, kind: SlotKind, secret: &[u8]) -> Result<Option<(usize, Keyring)>> {
        let (mut whole, mut damaged) = (0, false);
        for (i, slot) in self.slots.iter().enumerate().filter(|(_, s)| s.kind == kind) {
            if slot.is_damaged() {
                damaged = true;
                continue;
            }
            match slot.open(self.store_id, secret) {
                Ok(Some(key)) => {
                    let mut ring = Keyring::default();
                    ring.insert(slot.opens().to_owned(), key);
                    self.resolve(&mut ring)?;
                    return Ok(Some((i, ring)));
                }
                Ok(None) => whole += 1,
                // An unreadable salt or nonce in a file from before checksums.
                Err(Error::Damaged(_)) => damaged = true,
                Err(e) => return Err(e),
            }
        }
        if whole == 0 && damaged {
            return Err(Error::KeysDamaged);
        }
        Ok(None)
    }

    /// Whether a slot of `kind` fails its checksum.
    pub fn has_damaged(&self, kind: SlotKind) -> bool {
        self.slots.iter().any(|s| s.kind == kind && s.is_damaged())
    }

    fn wrap_context(&self, name: &str, under: &str) -> String {
        format!("companion-key-v2|{}|{name}|{under}", self.store_id)
    }

    /// Opens every key sealed under a key the ring already holds, until nothing new opens.
    pub fn resolve(&self, ring: &mut Keyring) -> Result<()> {
        loop {
            let mut found = false;
            for entry in &self.keys {
                if ring.has(&entry.name) {
                    continue;
                }
                for wrap in &entry.wraps {
                    let Some(under) = ring.get(&wrap.under) else { continue };
                    if let Some(key) = crypto::open_key(under, &wrap.sealed, &self.wrap_context(&entry.name, &wrap.under))? {
                        ring.insert(entry.name.clone(), key);
                        found = true;
                        break;
                    }
                }
            }
            if !found {
                return Ok(());
            }
        }
    }

    /// The data keys the ring reaches, newest first: the database opens with one of them.
    pub fn data_keys<'a>(&self, ring: &'a Keyring) -> Vec<(String, &'a SecretKey)> {
        let mut out: Vec<(String, &SecretKey)> = self
            .keys
            .iter()
            .rev()
            .filter(|e| e.name.starts_with("data:"))
            .filter_map(|e| ring.get(&e.name).map(|k| (e.name.clone(), k)))
            .collect();
        if let Some(k) = ring.get(names::LEGACY_DATA) {
            out.push((names::LEGACY_DATA.to_owned(), k));
        }
        out
    }

    pub fn has_key(&self, name: &str) -> bool {
        self.keys.iter().any(|e| e.name == name)
    }

    /// Seals `key` (named `name`) under each of `unders`, which the ring must hold; adds the
    /// entry, or the missing copies to an entry that exists.
    pub fn put(&mut self, name: &str, key: &SecretKey, unders: &[&str], ring: &Keyring) -> Result<()> {
        let mut wraps = Vec::new();
        for under in unders {
            let holder = ring.get(under).ok_or(Error::Internal("sealing under a key the session does not hold"))?;
            wraps.push(Wrap { under: (*under).to_owned(), sealed: crypto::seal_key(holder, key, &self.wrap_context(name, under))? });
        }
        match self.keys.iter_mut().find(|e| e.name == name) {
            Some(entry) => {
                for w in wraps {
                    if !entry.wraps.iter().any(|x| x.under == w.under) {
                        entry.wraps.push(w);
                    }
                }
            }
            None => self.keys.push(KeyEntry { name: name.to_owned(), wraps }),
        }
        Ok(())
    }

    /// Removes every copy sealed under `under`, and keys left with no copy at all.
    pub fn forget_holder(&mut self, under: &str) {
        for entry in &mut self.keys {
            entry.wraps.retain(|w| w.under != under);
        }
        self.keys.retain(|e| !e.wraps.is_empty());
    }

    pub fn remove_key(&mut self, name: &str) {
        self.keys.retain(|e| e.name != name);
    }

    /// Which keys hold a copy of `name`.
    pub fn holders(&self, name: &str) -> Vec<&str> {
        self.keys.iter().filter(|e| e.name == name).flat_map(|e| e.wraps.iter().map(|w| w.under.as_str())).collect()
    }

    pub fn grant(&self, person: Uuid) -> Option<&Grant> {
        self.carers.iter().find(|g| g.person == person)
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
    Ok(crate::files::write_atomically(path, bytes)?)
}

/// Makes a rename durable on platforms where that takes an fsync of the folder.
pub fn sync_dir(dir: &Path) -> Result<()> {
    Ok(crate::files::sync_dir(dir)?)
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
