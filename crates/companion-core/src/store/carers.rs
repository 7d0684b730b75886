//! Carers on the patient's own device: adding one (their own passphrase, what they may see),
//! listing and removing them, and sealing records under the keys of [`crate::keyfile`].
//!
//! Removing a carer takes their key slot out and rotates the data key with `PRAGMA rekey`, in
//! three steps a crash can interrupt anywhere: (1) the key file without the carer, holding the
//! old and the new data key; (2) the rekey; (3) the key file without the old data key. Opening
//! tries the newest data key first and finishes step 3 (see `Store::with_keys`).

use super::entries::{default_key, Envelope};
use super::{ts, RecoveryCode, Store};
use crate::crypto::{self, SecretKey};
use crate::domain::{self, Author, EntryData, Role, Scope};
use crate::error::{Error, Invalid, Problem, Result};
use crate::keyfile::{names, Grant, KeyFile, Slot, SlotKind};
use chrono::{DateTime, Utc};
use rusqlite::params;

const CARERS_AT_CLINIC: &str = "carers_at_clinic";
const CARERS_TO_REVOKE: &str = "carers_to_revoke";
use serde::Serialize;
use uuid::Uuid;
use zeroize::Zeroizing;

/// The longest relationship accepted ("daughter", "neighbour", ...), in characters.
pub use crate::limits::MAX_RELATIONSHIP;

/// A carer on this device, and what the patient allowed them.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Carer {
    #[serde(flatten)]
    pub person: Author,
    pub allow: Vec<Scope>,
    pub added_at: DateTime<Utc>,
    /// When their access ends by itself, if it does.
    pub until: Option<DateTime<Utc>>,
}

/// Days of access, if any, within what the clinic also accepts.
pub fn check_carer_days(days: Option<i64>) -> Result<()> {
    let range = crate::limits::CARER_DAYS;
    if days.is_some_and(|d| !range.contains(&d)) {
        return Err(Error::invalid("days", Problem::OutOfRange { min: *range.start() as f64, max: *range.end() as f64 }));
    }
    Ok(())
}

/// A carer the patient invited to their own device: the id the clinic knows them by.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Invited {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub relationship: Option<String>,
    pub allow: Vec<Scope>,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A carer was added. When this was the diary's first carer and the diary was made by an
/// older Companion, its recovery code was replaced: the new one is here, to be shown once.
pub struct CarerAdded {
    pub carer: Carer,
    pub new_recovery_code: Option<RecoveryCode>,
}

impl std::fmt::Debug for CarerAdded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CarerAdded").field("carer", &self.carer).finish_non_exhaustive()
    }
}

impl Store {
    /// Whether whoever unlocked owns this diary (the patient; on a carer's own device, the
    /// carer). Only the owner manages carers, syncs, and holds a recovery code.
    pub fn is_owner(&self) -> bool {
        self.keys.slots.iter().any(|s| s.kind == SlotKind::Recovery && s.person == self.me.id)
            || (self.keys.is_legacy() && self.me.role == Role::Patient)
    }

    /// What the person who unlocked may do: everything for the owner, what was granted for a
    /// carer on the patient's device.
    pub fn allowed(&self) -> Vec<Scope> {
        match self.keys.grant(self.me.id) {
            Some(grant) => grant.allow.clone(),
            None if self.is_owner() => Scope::ALL.to_vec(),
            None => Vec::new(),
        }
    }

    /// On a carer's own device, what the patient allowed changed (a new invitation) or ended.
    pub fn set_own_grant(&mut self, allow: &[Scope]) -> Result<()> {
        let mut keys = KeyFile::load(&self.dir)?;
        let me = self.me.id;
        let Some(grant) = keys.carers.iter_mut().find(|g| g.person == me) else { return Err(Error::NotPermitted) };
        grant.allow = Scope::normalise("allow", allow.to_vec())?;
        keys.save(&self.dir)?;
        self.keys = keys;
        Ok(())
    }

    /// Refuses what a carer on the patient's device was not allowed.
    pub(super) fn require(&self, scope: Scope) -> Result<()> {
        if self.allowed().contains(&scope) {
            Ok(())
        } else {
            Err(Error::NotPermitted)
        }
    }

    /// Whether this is a carer's own device (joined to a patient through an invitation).
    pub fn is_carer_device(&self) -> bool {
        self.me.role == Role::Carer && self.is_owner()
    }

    fn require_patient_owner(&self) -> Result<()> {
        if self.me.role == Role::Patient && self.is_owner() {
            Ok(())
        } else {
            Err(Error::NotPermitted)
        }
    }

    /// The carers who can unlock this diary, oldest first.
    pub fn carers(&self) -> Result<Vec<Carer>> {
        let mut out = Vec::new();
        for grant in &self.keys.carers {
            if let Some(person) = super::entries::person(&self.conn, grant.person)? {
                out.push(Carer { person, allow: grant.allow.clone(), added_at: grant.added_at, until: grant.until });
            }
        }
        Ok(out)
    }

    /// Finds a carer on this device by name (as typed: case and spaces at the ends ignored).
    pub fn carer_named(&self, name: &str) -> Result<Carer> {
        let want = name.trim().to_lowercase();
        self.carers()?.into_iter().find(|c| c.person.name.to_lowercase() == want).ok_or(Error::NotFound)
    }

    /// The patient adds a carer who unlocks with their own passphrase and works as themselves,
    /// for `days` or until removed. `my_passphrase` is the patient's, asked again: whoever finds
    /// the diary open must not be able to give themselves a key to it.
    pub fn add_carer(
        &mut self,
        name: &str,
        relationship: &str,
        carer_passphrase: &str,
        allow: &[Scope],
        my_passphrase: &str,
        days: Option<i64>,
    ) -> Result<CarerAdded> {
        self.require_patient_owner()?;
        check_carer_days(days)?;
        let name = domain::person_name(name)?;
        let relationship = relationship.trim();
        if relationship.is_empty() {
            return Err(Error::invalid("relationship", Problem::Required));
        }
        if relationship.chars().count() > MAX_RELATIONSHIP {
            return Err(Error::invalid("relationship", Problem::TooLong { max: MAX_RELATIONSHIP }));
        }
        crypto::check_passphrase("carer_passphrase", carer_passphrase)?;
        if carer_passphrase == my_passphrase {
            return Err(Error::invalid("carer_passphrase", Problem::NotAllowed));
        }
        let allow = Scope::normalise("allow", allow.to_vec())?;
        if self.carer_named(&name).is_ok() {
            return Err(Invalid::new("name", Problem::NotAllowed).into());
        }
        self.confirm_passphrase(my_passphrase)?;
        let mut keys = KeyFile::load(&self.dir)?;
        if keys
            .slots
            .iter()
            .any(|s| s.kind == SlotKind::Passphrase && s.open(keys.store_id, carer_passphrase.as_bytes()).ok().flatten().is_some())
        {
            return Err(Error::invalid("carer_passphrase", Problem::NotAllowed));
        }
        let new_recovery_code = if keys.is_legacy() { Some(self.upgrade_keys(&mut keys, my_passphrase)?) } else { None };

        let now = self.now();
        let id = Uuid::new_v4();
        self.conn.execute(
            "INSERT INTO people (id, role, name, relationship, created_at) VALUES (?1, 'carer', ?2, ?3, ?4)",
            params![id.to_string(), name, relationship, ts(now)],
        )?;
        let (own, shared) = (names::own(id), names::shared(id));
        let root = SecretKey::random()?;
        self.ring.insert(own.clone(), root.clone());
        self.ring.insert(shared.clone(), SecretKey::random()?);
        keys.put(&shared, &self.ring.get(&shared).expect("inserted").clone(), &[names::PATIENT, own.as_str()], &self.ring)?;
        keys.put(&names::observations(id), &SecretKey::random()?, &[names::PATIENT, shared.as_str()], &self.ring)?;
        keys.put(&names::private(id), &SecretKey::random()?, &[own.as_str()], &self.ring)?;
        let data = self.ring.get(&self.data_name).ok_or(Error::Internal("data key"))?.clone();
        keys.put(&self.data_name.clone(), &data, &[shared.as_str()], &self.ring)?;
        for scope in &allow {
            if let Some(category) = names::category(*scope) {
                let key = self.ring.get(category).ok_or(Error::Internal("category key"))?.clone();
                keys.put(category, &key, &[shared.as_str()], &self.ring)?;
            }
        }
        keys.slots.push(Slot::new(keys.store_id, SlotKind::Passphrase, id, &own, &root, carer_passphrase.as_bytes(), now)?);
        let until = days.map(|d| now + chrono::Duration::days(d));
        keys.carers.push(Grant { person: id, allow: allow.clone(), added_at: now, until });
        keys.save(&self.dir)?;
        // The patient keeps no way into the carer's own keys.
        self.ring.remove(&own);
        self.keys = keys;
        self.keys.resolve(&mut self.ring)?;
        tracing::info!(scopes = allow.len(), "carer added");
        let person = super::entries::person(&self.conn, id)?.ok_or(Error::Internal("carer row"))?;
        Ok(CarerAdded { carer: Carer { person, allow, added_at: now, until }, new_recovery_code })
    }

    /// The patient removes a carer: their passphrase stops opening the diary at once, and the
    /// data key is rotated so that a copy of their old key slot opens nothing. What they wrote
    /// stays, labelled with their name.
    pub fn remove_carer(&mut self, name: &str) -> Result<Author> {
        self.require_patient_owner()?;
        let carer = match self.carer_named(name) {
            Ok(c) => c,
            // Only on their own device: their access there ends at the next sync round.
            Err(Error::NotFound) => {
                let invited = self.invited_named(name)?.ok_or(Error::NotFound)?;
                self.revoke_at_clinic(&invited.id)?;
                tracing::info!("carer's own device to be revoked");
                let id = Uuid::parse_str(&invited.id).unwrap_or_default();
                return Ok(Author { id, name: invited.name, role: Role::Carer, relationship: invited.relationship });
            }
            Err(e) => return Err(e),
        };
        let id = carer.person.id;
        let mut keys = KeyFile::load(&self.dir)?;
        let old = self.data_name.clone();
        let new = names::data(Uuid::new_v4());
        let fresh = SecretKey::random()?;

        if self.invited_carers()?.iter().any(|c| c.id == id.to_string()) {
            self.revoke_at_clinic(&id.to_string())?;
        }
        // Step 1: the carer's slot and keys out; old and new data keys in.
        keys.slots.retain(|s| s.person != id);
        keys.carers.retain(|g| g.person != id);
        keys.remove_key(&names::shared(id));
        keys.forget_holder(&names::own(id));
        keys.forget_holder(&names::shared(id));
        let mut holders = vec![names::PATIENT.to_owned()];
        holders.extend(keys.carers.iter().map(|g| names::shared(g.person)));
        let holders: Vec<&str> = holders.iter().map(String::as_str).collect();
        self.ring.insert(new.clone(), fresh.clone());
        keys.put(&new, &fresh, &holders, &self.ring)?;
        keys.save(&self.dir)?;
        self.keys = keys.clone();
        self.ring.remove(&names::shared(id));
        self.ring.remove(&names::own(id));

        // Step 2: the database under the new key.
        self.rekey(&fresh)?;
        self.data_name = new;

        // Step 3: the old data key out.
        keys.remove_key(&old);
        keys.save(&self.dir)?;
        self.ring.remove(&old);
        self.keys = keys;
        tracing::info!("carer removed and data key rotated");
        Ok(carer.person)
    }

    /// At the patient's unlock, carers whose time ran out are removed as if by hand: their slot
    /// out and the data key rotated, so from then on even a copy of their slot opens nothing.
    pub(super) fn end_expired_carers(&mut self) -> Result<()> {
        if self.me.role != Role::Patient || !self.is_owner() {
            return Ok(());
        }
        let now = self.now();
        let expired: Vec<Uuid> = self.keys.carers.iter().filter(|g| g.expired(now)).map(|g| g.person).collect();
        for id in expired {
            if let Some(person) = super::entries::person(&self.conn, id)? {
                self.remove_carer(&person.name)?;
                tracing::info!("a carer's time ran out; removed");
            }
        }
        Ok(())
    }

    /// Finishes a carer removal a crash interrupted (the key file holds more than one data key):
    /// if the database is still under the old key, rekeys it to the newest this session holds;
    /// then drops the others from the file.
    pub(super) fn finish_rotation(&mut self) -> Result<()> {
        let all: Vec<String> = self.keys.keys.iter().filter(|e| e.name.starts_with("data:")).map(|e| e.name.clone()).collect();
        if all.len() <= 1 || self.keys.is_legacy() {
            return Ok(());
        }
        let newest = self.keys.data_keys(&self.ring).first().map(|(name, key)| (name.clone(), (*key).clone()));
        if let Some((name, key)) = newest {
            if name != self.data_name {
                self.rekey(&key)?;
                self.data_name = name;
            }
        }
        let mut keys = KeyFile::load(&self.dir)?;
        for name in all.iter().filter(|n| **n != self.data_name) {
            keys.remove_key(name);
            self.ring.remove(name);
        }
        keys.save(&self.dir)?;
        self.keys = keys;
        tracing::info!("finished an interrupted key rotation");
        Ok(())
    }

    /// Re-encrypts the whole database under `key`. SQLCipher rewrites every page in one
    /// transaction; the journal is switched out of WAL for it, as SQLCipher advises.
    fn rekey(&mut self, key: &SecretKey) -> Result<()> {
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        let _: String = self.conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
        let hex = key.to_hex();
        let pragma = Zeroizing::new(format!("PRAGMA rekey = \"x'{}'\";", hex.as_str()));
        let result = self.conn.execute_batch(&pragma);
        drop(pragma);
        let _: String = self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        result?;
        Ok(())
    }

    /// Checks the patient's passphrase against their slot; a wrong one counts as a failed
    /// attempt, like at unlock.
    fn confirm_passphrase(&mut self, passphrase: &str) -> Result<()> {
        let mut keys = KeyFile::load(&self.dir)?;
        let now = self.now();
        let wait = keys.wait_secs(now);
        if wait > 0 {
            return Err(Error::Throttled { retry_after_secs: wait });
        }
        let slot = keys.slots.iter().find(|s| s.id == self.slot_id).ok_or(Error::Damaged("this session's key slot is gone"))?;
        if slot.open(keys.store_id, passphrase.as_bytes())?.is_none() {
            let retry_after_secs = keys.record_failure(&self.dir, now)?;
            return Err(Error::WrongPassphrase { retry_after_secs });
        }
        keys.record_success(&self.dir)
    }

    /// Takes a format-1 key file (every slot wrapping the data key) to format 2: a patient
    /// key, category keys, the patient's passphrase slot re-made, and a new recovery code,
    /// because the old code's slot cannot be re-made without the code.
    fn upgrade_keys(&mut self, keys: &mut KeyFile, my_passphrase: &str) -> Result<RecoveryCode> {
        let now = self.now();
        let data = self.ring.get(names::LEGACY_DATA).ok_or(Error::Internal("legacy data key"))?.clone();
        let root = SecretKey::random()?;
        self.ring.insert(names::PATIENT.to_owned(), root.clone());
        let data_name = names::data(Uuid::new_v4());
        let mut upgraded = KeyFile::new(keys.store_id);
        upgraded.put(&data_name, &data, &[names::PATIENT], &self.ring)?;
        for scope in names::CATEGORIES {
            let name = names::category(scope).expect("a category");
            let key = SecretKey::random()?;
            upgraded.put(name, &key, &[names::PATIENT], &self.ring)?;
            self.ring.insert(name.to_owned(), key);
        }
        let code = crypto::new_recovery_code()?;
        let normalised = crypto::normalise_recovery_code(&code).ok_or(Error::Internal("recovery code"))?;
        let me = self.me.id;
        let pass = Slot::new(keys.store_id, SlotKind::Passphrase, me, names::PATIENT, &root, my_passphrase.as_bytes(), now)?;
        self.slot_id = pass.id;
        upgraded.slots.push(pass);
        upgraded.slots.push(Slot::new(keys.store_id, SlotKind::Recovery, me, names::PATIENT, &root, normalised.as_bytes(), now)?);
        upgraded.save(&self.dir)?;
        self.ring.insert(data_name.clone(), data);
        self.ring.remove(names::LEGACY_DATA);
        self.data_name = data_name;
        self.keys = upgraded.clone();
        *keys = upgraded;
        self.seal_plain_records()?;
        tracing::info!("key file upgraded to format 2");
        Ok(code)
    }

    /// Seals records still stored in the clear (written before the diary's first carer, by a
    /// build before carers, or by an upgrade a crash interrupted), in one transaction. Only a
    /// session holding every category key does this; for anyone else it is a no-op.
    pub(super) fn seal_plain_records(&mut self) -> Result<()> {
        if self.keys.is_legacy() || !names::CATEGORIES.iter().all(|s| self.ring.has(names::category(*s).expect("category"))) {
            return Ok(());
        }
        let plain: i64 =
            self.conn.query_row("SELECT count(*) FROM entry_versions WHERE json_type(data, '$.sealed') IS NULL", [], |r| r.get(0))?;
        if plain == 0 {
            return Ok(());
        }
        let rows: Vec<(String, u32, String, String, String)> = {
            let mut stmt = self.conn.prepare(
                "SELECT v.entry_id, v.version, v.data, p.id, p.role FROM entry_versions v
                 JOIN entries e ON e.id = v.entry_id JOIN people p ON p.id = e.author_id
                 WHERE json_type(v.data, '$.sealed') IS NULL",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let tx = self.conn.unchecked_transaction()?;
        tx.execute_batch("DROP TRIGGER entry_versions_no_update;")?;
        for (entry, version, text, author, role) in rows {
            let entry = Uuid::parse_str(&entry).map_err(|_| Error::Damaged("a record id is unreadable"))?;
            let author = Uuid::parse_str(&author).map_err(|_| Error::Damaged("a person id is unreadable"))?;
            let role = if role == "carer" { Role::Carer } else { Role::Patient };
            let data: EntryData = serde_json::from_str(&text).map_err(|_| Error::Damaged("a record is unreadable"))?;
            // A record written by a carer before format 2 was never private.
            let mut key = default_key(&self.keys, &data, author, role, Uuid::nil());
            if !self.ring.has(&key) {
                key = default_key(&self.keys, &data, author, Role::Patient, Uuid::nil());
            }
            let sealed = self.stored_data(entry, version, Some(&key), &data)?;
            tx.execute(
                "UPDATE entry_versions SET data = ?3 WHERE entry_id = ?1 AND version = ?2",
                params![entry.to_string(), version, sealed],
            )?;
        }
        tx.execute_batch(
            "CREATE TRIGGER entry_versions_no_update BEFORE UPDATE ON entry_versions
BEGIN SELECT RAISE(ABORT, 'a recorded version is never rewritten'); END;",
        )?;
        tx.commit()?;
        // The clear text is gone from the pages (secure_delete) and from the write-ahead log.
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        tracing::info!(records = plain, "records sealed");
        Ok(())
    }

    /// A carer shares their own (private) check-in with the patient and the clinic: a new
    /// version of it, sealed under the key the carer shares with the patient.
    pub fn share_checkin(&mut self, id: uuid::Uuid) -> Result<crate::domain::Entry> {
        let current = self.entry(id)?;
        let key: Option<String> = self
            .conn
            .query_row(
                "SELECT v.data FROM entries e JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version WHERE e.id = ?1",
                [id.to_string()],
                |r| r.get::<_, String>(0),
            )
            .map(|t| Envelope::read(&t).map(|e| e.key))?;
        if current.author.id != self.me.id || key.as_deref().is_none_or(|k| k != names::private(self.me.id)) {
            return Err(Error::invalid("entry", Problem::NotAllowed));
        }
        let shared = if self.keys.has_key(&names::observations(self.me.id)) {
            names::observations(self.me.id)
        } else {
            names::category(Scope::Checkins).expect("category").to_owned()
        };
        let now = self.now();
        let version = current.version + 1;
        let text = self.stored_data(id, version, Some(&shared), &current.data)?;
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO entry_versions (entry_id, version, status, occurred_at, recorded_at, author_id, device_id, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id.to_string(),
                version,
                current.status.as_str(),
                ts(current.occurred_at),
                ts(now),
                self.me.id.to_string(),
                self.device_id.to_string(),
                text
            ],
        )?;
        tx.execute("UPDATE entries SET current_version = ?2 WHERE id = ?1", params![id.to_string(), version])?;
        super::sync::queue(&tx, "entry", id, now)?;
        tx.commit()?;
        tracing::info!("carer check-in shared");
        self.entry(id)
    }

    fn setting_list<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Vec<T>> {
        Ok(super::setting(&self.conn, key)?.and_then(|v| serde_json::from_str(&v).ok()).unwrap_or_default())
    }

    fn set_setting_list<T: Serialize>(&self, key: &str, list: &[T]) -> Result<()> {
        let value = serde_json::to_string(list).map_err(|_| Error::Internal("settings"))?;
        super::set_setting(&self.conn, key, &value)
    }

    /// Carers the patient invited to their own device, until removed.
    pub fn invited_carers(&self) -> Result<Vec<Invited>> {
        self.setting_list(CARERS_AT_CLINIC)
    }

    /// An invitation was made: the clinic knows this carer. Inviting them again keeps their
    /// identity; removing them here ends their access there.
    pub fn note_carer_at_clinic(&mut self, invited: Invited) -> Result<()> {
        let mut list = self.invited_carers()?;
        list.retain(|x| x.id != invited.id);
        list.push(invited);
        self.set_setting_list(CARERS_AT_CLINIC, &list)
    }

    /// A carer invited to their own device, by name (as typed: case and spaces ignored).
    pub fn invited_named(&self, name: &str) -> Result<Option<Invited>> {
        let want = name.trim().to_lowercase();
        Ok(self.invited_carers()?.into_iter().find(|c| c.name.to_lowercase() == want))
    }

    /// Carers removed here whose access at the clinic is still to be ended.
    pub fn carers_to_revoke(&self) -> Result<Vec<String>> {
        self.setting_list(CARERS_TO_REVOKE)
    }

    /// The server confirmed a carer's access has ended.
    pub fn carer_revoked_at_clinic(&mut self, id: &str) -> Result<()> {
        let keep: Vec<String> = self.carers_to_revoke()?.into_iter().filter(|x| x != id).collect();
        self.set_setting_list(CARERS_TO_REVOKE, &keep)
    }

    /// Ends a carer's access at the clinic at the next sync round, and forgets the invitation.
    fn revoke_at_clinic(&mut self, id: &str) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        let mut list = self.carers_to_revoke()?;
        if !list.iter().any(|x| x == id) {
            list.push(id.to_owned());
            self.set_setting_list(CARERS_TO_REVOKE, &list)?;
        }
        let known: Vec<Invited> = self.invited_carers()?.into_iter().filter(|x| x.id != id).collect();
        self.set_setting_list(CARERS_AT_CLINIC, &known)?;
        tx.commit()?;
        Ok(())
    }

    /// Whether a record is a carer's private one (not shared, never sent).
    pub fn is_private_entry(&self, id: Uuid) -> Result<bool> {
        let text: String = self.conn.query_row(
            "SELECT v.data FROM entries e JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version WHERE e.id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )?;
        Ok(super::entries::is_private(Envelope::read(&text).map(|e| e.key).as_deref()))
    }
}
