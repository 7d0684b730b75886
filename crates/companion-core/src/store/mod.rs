//! The encrypted store: opening, creating and unlocking the diary, and its key slots.
//!
//! Files in the data folder: `companion.db` (SQLCipher, whole-file encryption under the random
//! data key) and `keyslots.json` (the data key wrapped once per passphrase or recovery code; see
//! [`crate::keyfile`]). A store that will not open is reported and left exactly as it is: no path
//! here ever deletes or recreates a database that exists.

pub mod access;
mod advice;
pub mod backup;
mod care;
mod carers;
mod clinic_care;
mod disagreements;
mod entries;
mod file;
pub mod receipts;
mod replica;
pub mod schema;
mod summary;
mod sync;

use crate::clock::SharedClock;
use crate::crypto::{self, SecretKey};
use crate::domain::{self, Author, Role};
use crate::error::{Error, Invalid, Problem, Result};
use crate::keyfile::{self, names, KeyFile, Keyring, Slot, SlotKind};
use crate::paths::DB_FILE;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension};
use std::fs;
use std::path::{Path, PathBuf};
use uuid::Uuid;
use zeroize::Zeroizing;

pub use advice::{Advice, Contact, Recheck, Saved};
pub use backup::BackupInfo;
pub use care::Schedule;
pub use carers::{check_carer_days, Carer, CarerAdded, Invited, MAX_RELATIONSHIP};
pub use clinic_care::{CareTeamNow, ContactNow, PlanInForce, RulesetRefused, RulesetStatus};
pub use disagreements::{disagreements_among, Disagreement, DISAGREEMENT};
pub use entries::TimelineFilter;
#[cfg(feature = "bench-plain")]
use file::durable;
pub use file::open_encrypted;
use file::{damage, file_problems, integrity_problems};
pub use replica::Absorbed;
pub use summary::{people_of, CheckinSummary, Item9Mark, Reported, Series, SymptomSummary, VisitSummary, MAX_SUMMARY_DAYS};
pub use sync::{Appointment, Assignment, ClinicAnswer, Quarantined, Queued, SyncLink};

/// The recovery code shown once at set-up. Wiped from memory when dropped.
pub type RecoveryCode = Zeroizing<String>;

/// An unlocked diary. Dropping it (see [`Store::lock`]) closes the database and wipes the key.
pub struct Store {
    conn: Connection,
    dir: PathBuf,
    clock: SharedClock,
    /// Every key this session reaches (see [`crate::keyfile`]): the data key, the root key of
    /// whoever unlocked, and the category keys they were given.
    ring: Keyring,
    /// The name of the data key the database is open with.
    data_name: String,
    keys: KeyFile,
    slot_id: Uuid,
    device_id: Uuid,
    me: Author,
    rules: crate::rules::Ruleset,
    /// The clinic's contacts as last read from the pulled `CareTeam` (every advice card lists
    /// them), cleared whenever what the clinic sent changes.
    care: std::sync::Mutex<Option<Vec<crate::care_team::CareContact>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// Whether a folder holds a diary, without unlocking it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Missing,
    Present,
}

/// Looks at the folder: is there a diary, and is it whole? Finishes a set-up that was
/// interrupted after the key file was written (the only step that can be half-done).
pub fn presence(dir: &Path) -> Result<Presence> {
    let db = dir.join(DB_FILE);
    let keys = KeyFile::path(dir);
    let pending = pending_db_path(dir);
    match (keys.exists(), db.exists()) {
        (true, true) => Ok(Presence::Present),
        (true, false) if pending.exists() => {
            fs::rename(&pending, &db)?;
            keyfile::sync_dir(dir)?;
            Ok(Presence::Present)
        }
        (true, false) => Err(Error::Damaged("the database file is missing")),
        (false, true) => Err(Error::Damaged("the key-slot file is missing")),
        (false, false) => Ok(Presence::Missing),
    }
}

fn pending_db_path(dir: &Path) -> PathBuf {
    dir.join(format!("{DB_FILE}.init"))
}

/// Formats a time the way the store keeps it: UTC, fixed width, so text order is time order.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// One value of the `settings` table (device state that is not a clinical record).
pub(super) fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

/// Sets one value of the `settings` table, inside whatever transaction `conn` is in.
pub(super) fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))?;
    Ok(())
}

pub(crate) fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

/// A diary on plain, unencrypted SQLite with the same schema, settings and code paths, so the
/// benchmark can state the cost of encryption as a ratio. Only built with the `bench-plain`
/// feature, which nothing but `cargo bench` turns on.
#[cfg(feature = "bench-plain")]
#[doc(hidden)]
pub fn plain_for_benchmark(dir: &Path, clock: SharedClock) -> Result<Store> {
    let mut conn = Connection::open(dir.join("plain.db"))?;
    durable(&conn)?;
    schema::migrate(&mut conn)?;
    let (store_id, device_id, patient_id) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let now = clock.now();
    conn.execute(
        "INSERT INTO people (id, role, name, relationship, created_at) VALUES (?1, 'patient', 'Bench', NULL, ?2)",
        (patient_id.to_string(), ts(now)),
    )?;
    let me = entries::person(&conn, patient_id)?.ok_or(Error::Internal("bench person"))?;
    Ok(Store {
        conn,
        dir: dir.to_owned(),
        clock,
        ring: Keyring::default(),
        data_name: names::LEGACY_DATA.to_owned(),
        keys: KeyFile::legacy(store_id),
        slot_id: Uuid::new_v4(),
        device_id,
        me,
        rules: crate::rules::Ruleset::default_rules(),
        care: Default::default(),
    })
}

impl Store {
    /// Sets up a new diary in `dir` for the patient `name`, protected by `passphrase`.
    /// Returns the unlocked store and the recovery code, to be shown once.
    pub fn create(dir: &Path, name: &str, passphrase: &str, clock: SharedClock) -> Result<(Store, RecoveryCode)> {
        let name = domain::person_name(name)?;
        let owner = Author { id: Uuid::new_v4(), name, role: Role::Patient, relationship: None };
        Store::create_as(dir, &owner, None, passphrase, clock)
    }

    /// Sets up a carer's own diary, joined to `patient`'s through an invitation: the carer owns
    /// it (their passphrase, their recovery code) and may do what `allow` says.
    pub fn create_for_carer(
        dir: &Path,
        carer: &Author,
        patient_name: &str,
        allow: &[domain::Scope],
        passphrase: &str,
        clock: SharedClock,
    ) -> Result<(Store, RecoveryCode)> {
        let patient = Author { id: Uuid::new_v4(), name: domain::person_name(patient_name)?, role: Role::Patient, relationship: None };
        let allow = domain::Scope::normalise("allow", allow.to_vec())?;
        Store::create_as(dir, carer, Some((&patient, allow)), passphrase, clock)
    }

    /// A new diary owned by `owner`: the patient, or a carer with the patient they care for.
    fn create_as(
        dir: &Path,
        owner: &Author,
        cares_for: Option<(&Author, Vec<domain::Scope>)>,
        passphrase: &str,
        clock: SharedClock,
    ) -> Result<(Store, RecoveryCode)> {
        crypto::check_passphrase("passphrase", passphrase)?;
        if presence(dir)? == Presence::Present {
            return Err(Error::AlreadyInitialised);
        }
        create_private_dir(dir)?;
        let now = clock.now();
        let (store_id, device_id) = (Uuid::new_v4(), Uuid::new_v4());
        let data_key = SecretKey::random()?;
        let data_name = names::data(Uuid::new_v4());
        let mut people = vec![owner];
        if let Some((patient, _)) = &cares_for {
            people.push(patient);
        }

        // Build the database under a temporary name; it becomes the diary only once the key file
        // that opens it is safely on disk.
        let pending = pending_db_path(dir);
        for leftover in with_sidecars(&pending) {
            if leftover.exists() {
                fs::remove_file(leftover)?;
            }
        }
        {
            let mut conn = open_encrypted(&pending, &data_key, true)?;
            schema::migrate(&mut conn)?;
            let tx = conn.transaction()?;
            for (k, v) in [("store_id", store_id.to_string()), ("device_id", device_id.to_string()), ("created_at", ts(now))] {
                tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", (k, v))?;
            }
            for p in &people {
                tx.execute(
                    "INSERT INTO people (id, role, name, relationship, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    (p.id.to_string(), p.role.as_str(), &p.name, &p.relationship, ts(now)),
                )?;
            }
            tx.commit()?;
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
            conn.close().map_err(|(_, e)| e)?;
        }

        let recovery = crypto::new_recovery_code()?;
        let normalised = crypto::normalise_recovery_code(&recovery).ok_or(Error::Internal("recovery code"))?;
        // The owner's root key: `patient`, or on a carer's own device the carer's own key.
        let root_name = match owner.role {
            Role::Patient => names::PATIENT.to_owned(),
            Role::Carer => names::own(owner.id),
        };
        let mut ring = Keyring::default();
        let root = SecretKey::random()?;
        ring.insert(root_name.clone(), root.clone());
        let mut keys = KeyFile::new(store_id);
        keys.slots.push(Slot::new(store_id, SlotKind::Passphrase, owner.id, &root_name, &root, passphrase.as_bytes(), now)?);
        keys.slots.push(Slot::new(store_id, SlotKind::Recovery, owner.id, &root_name, &root, normalised.as_bytes(), now)?);
        keys.put(&data_name, &data_key, &[root_name.as_str()], &ring)?;
        for scope in names::CATEGORIES {
            let name = names::category(scope).expect("a category");
            keys.put(name, &SecretKey::random()?, &[root_name.as_str()], &ring)?;
        }
        if let Some((_, allow)) = cares_for {
            keys.put(&names::observations(owner.id), &SecretKey::random()?, &[root_name.as_str()], &ring)?;
            keys.put(&names::private(owner.id), &SecretKey::random()?, &[root_name.as_str()], &ring)?;
            keys.carers.push(keyfile::Grant { person: owner.id, allow, added_at: now, until: None });
        }
        keys.save(dir)?;
        fs::rename(&pending, dir.join(DB_FILE))?;
        keyfile::sync_dir(dir)?;
        tracing::info!("diary created");

        let slot = 0;
        keys.resolve(&mut ring)?;
        let store = Store::with_keys(dir, keys, slot, ring, clock)?;
        Ok((store, recovery))
    }

    /// Unlocks the diary with a passphrase. Wrong passphrases are counted (in the key file, so
    /// the count survives a restart) and, after a few, met with a growing delay.
    pub fn open(dir: &Path, passphrase: &str, clock: SharedClock) -> Result<Store> {
        let (mut keys, now) = Self::keys_for_attempt(dir, &clock)?;
        match keys.unlock(SlotKind::Passphrase, passphrase.as_bytes())? {
            Some((slot, ring)) => {
                // A carer whose time is up: the passphrase was right, but it opens nothing now.
                let person = keys.slots[slot].person;
                if keys.carers.iter().any(|g| g.person == person && g.expired(now)) {
                    tracing::info!("unlock refused: the carer's access has ended");
                    return Err(Error::AccessEnded);
                }
                keys.record_success(dir)?;
                Store::with_keys(dir, keys, slot, ring, clock)
            }
            None => {
                let retry_after_secs = keys.record_failure(dir, now)?;
                tracing::info!(retry_after_secs, "unlock refused");
                if keys.has_damaged(SlotKind::Passphrase) {
                    // Counted (other slots are whole), but the person hears the file is damaged.
                    return Err(Error::KeysDamaged);
                }
                Err(Error::WrongPassphrase { retry_after_secs })
            }
        }
    }

    /// Unlocks with the recovery code and sets a new passphrase for the person it belongs to.
    pub fn recover(dir: &Path, code: &str, new_passphrase: &str, clock: SharedClock) -> Result<Store> {
        crypto::check_passphrase("new_passphrase", new_passphrase)?;
        let code = crypto::normalise_recovery_code(code).ok_or(Error::invalid("recovery_code", Problem::BadFormat))?;
        let (mut keys, now) = Self::keys_for_attempt(dir, &clock)?;
        let Some((recovery_slot, ring)) = keys.unlock(SlotKind::Recovery, code.as_bytes())? else {
            let retry_after_secs = keys.record_failure(dir, now)?;
            return Err(Error::WrongPassphrase { retry_after_secs });
        };
        let person = keys.slots[recovery_slot].person;
        let holder = keys.slots[recovery_slot].holder.clone();
        let root = ring.get(keys.slots[recovery_slot].opens()).ok_or(Error::Internal("recovery root"))?;
        let fresh = Slot::new(keys.store_id, SlotKind::Passphrase, person, &holder, root, new_passphrase.as_bytes(), now)?;
        keys.slots.retain(|s| !(s.kind == SlotKind::Passphrase && s.person == person));
        keys.slots.push(fresh);
        keys.failed_attempts = 0;
        keys.last_failure = None;
        keys.save(dir)?;
        tracing::info!("passphrase reset with the recovery code");
        let slot = keys.slots.len() - 1;
        Store::with_keys(dir, keys, slot, ring, clock)
    }

    /// Seconds before another unlock attempt is allowed (0 if none is needed).
    pub fn wait_secs(dir: &Path, clock: &SharedClock) -> Result<u64> {
        if presence(dir)? == Presence::Missing {
            return Ok(0);
        }
        Ok(KeyFile::load(dir)?.wait_secs(clock.now()))
    }

    fn keys_for_attempt(dir: &Path, clock: &SharedClock) -> Result<(KeyFile, DateTime<Utc>)> {
        if presence(dir)? == Presence::Missing {
            return Err(Error::NotInitialised);
        }
        let keys = KeyFile::load(dir)?;
        let now = clock.now();
        let wait = keys.wait_secs(now);
        if wait > 0 {
            return Err(Error::Throttled { retry_after_secs: wait });
        }
        Ok((keys, now))
    }

    /// Opens the database with the newest data key the ring reaches. During a rotation the file
    /// holds two; once one has opened the database, the other is dropped from the file.
    fn with_keys(dir: &Path, keys: KeyFile, slot: usize, ring: Keyring, clock: SharedClock) -> Result<Store> {
        let candidates = keys.data_keys(&ring);
        if candidates.is_empty() {
            // The slot opened (its seal is checked), yet no data key opens from it: the sealed
            // keys in the file are damaged.
            return Err(Error::KeysDamaged);
        }
        let mut opened = None;
        for (name, key) in candidates {
            match open_encrypted(&dir.join(DB_FILE), key, false) {
                Ok(conn) => {
                    opened = Some((name, conn));
                    break;
                }
                Err(Error::Damaged(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        // A data key that the key file vouches for does not open the file: the file is damaged.
        let (data_name, mut conn) = opened.ok_or(Error::Corrupt)?;
        // The diary is identified before anything is written to it (migrations write).
        let meta = |conn: &Connection, key: &str| -> Result<Uuid> {
            let v: Option<String> = conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(|e| damage(conn, e.into()))?;
            v.and_then(|v| Uuid::parse_str(&v).ok()).ok_or(Error::Corrupt)
        };
        if meta(&conn, "store_id")? != keys.store_id {
            return Err(Error::Damaged("the key-slot file belongs to another diary"));
        }
        let device_id = meta(&conn, "device_id")?;
        schema::migrate(&mut conn).map_err(|e| damage(&conn, e))?;
        let person = keys.slots[slot].person;
        let me = entries::person(&conn, person)
            .map_err(|e| damage(&conn, e))?
            .ok_or(Error::Damaged("the person of this key slot is missing"))?;
        let slot_id = keys.slots[slot].id;
        let rules = clinic_care::rules_in_force(&conn);
        let care = Default::default();
        let mut store = Store { conn, dir: dir.to_owned(), clock, ring, data_name, keys, slot_id, device_id, me, rules, care };
        let settled = store.finish_rotation().and_then(|()| store.seal_plain_records()).and_then(|()| store.end_expired_carers());
        settled.map_err(|e| store.explain(e))?;
        Ok(store)
    }

    /// Names the cause of a failure: the device (no room, no right to write, a size limit), or
    /// damage found by the integrity checks when SQLite's error leaves it open. For every error
    /// that reaches a person from an unlocked diary.
    pub fn explain(&self, err: Error) -> Error {
        match crate::fault::explain(err, &self.dir) {
            // Only an I/O failure the folder does not explain may be damage: checking reads
            // every page, so a constraint or a logic error is never a reason to.
            Error::Db(e) if crate::fault::may_be_damage(&e) => damage(&self.conn, Error::Db(e)),
            other => other,
        }
    }

    /// Changes the passphrase of whoever unlocked the store. Only their key slot is rewrapped; the
    /// database is not rewritten.
    pub fn change_passphrase(&mut self, current: &str, new: &str) -> Result<()> {
        crypto::check_passphrase("new_passphrase", new)?;
        if current == new {
            return Err(Invalid::new("new_passphrase", Problem::NotAllowed).into());
        }
        let mut keys = KeyFile::load(&self.dir)?;
        let now = self.clock.now();
        let wait = keys.wait_secs(now);
        if wait > 0 {
            return Err(Error::Throttled { retry_after_secs: wait });
        }
        let index = keys.slots.iter().position(|s| s.id == self.slot_id).ok_or(Error::Damaged("this session's key slot is gone"))?;
        if keys.slots[index].open(keys.store_id, current.as_bytes())?.is_none() {
            let retry_after_secs = keys.record_failure(&self.dir, now)?;
            return Err(Error::WrongPassphrase { retry_after_secs });
        }
        let holder = keys.slots[index].holder.clone();
        let root = self.ring.get(keys.slots[index].opens()).ok_or(Error::Internal("root key"))?;
        let fresh = Slot::new(keys.store_id, SlotKind::Passphrase, self.me.id, &holder, root, new.as_bytes(), now)?;
        self.slot_id = fresh.id;
        keys.slots[index] = fresh;
        keys.failed_attempts = 0;
        keys.last_failure = None;
        keys.save(&self.dir)?;
        self.keys = keys;
        tracing::info!("passphrase changed");
        Ok(())
    }

    /// Replaces the recovery code (after the old one was used, or lost). Shown once.
    pub fn new_recovery_code(&mut self) -> Result<RecoveryCode> {
        // The recovery code belongs to the diary's owner (the patient; on a carer's own device,
        // the carer); a carer on the patient's device has none.
        let mut keys = KeyFile::load(&self.dir)?;
        let mine = keys.slots.iter().find(|s| s.id == self.slot_id).ok_or(Error::Damaged("this session's key slot is gone"))?;
        let (holder, opens) = (mine.holder.clone(), mine.opens().to_owned());
        let owner = keys.slots.iter().any(|s| s.kind == SlotKind::Recovery && s.person == self.me.id)
            || (self.me.role == Role::Patient && keys.is_legacy());
        if !owner {
            return Err(Error::invalid("recovery_code", Problem::NotAllowed));
        }
        let code = crypto::new_recovery_code()?;
        let normalised = crypto::normalise_recovery_code(&code).ok_or(Error::Internal("recovery code"))?;
        let root = self.ring.get(&opens).ok_or(Error::Internal("root key"))?;
        let slot = Slot::new(keys.store_id, SlotKind::Recovery, self.me.id, &holder, root, normalised.as_bytes(), self.clock.now())?;
        keys.slots.retain(|s| !(s.kind == SlotKind::Recovery && s.person == self.me.id));
        keys.slots.push(slot);
        keys.save(&self.dir)?;
        self.keys = keys;
        Ok(code)
    }

    /// Locks: closes the database and wipes the data key from memory.
    pub fn lock(self) {
        let Store { conn, ring, .. } = self;
        if let Err((_, e)) = conn.close() {
            tracing::warn!(error = %e, "closing the database failed");
        }
        drop(ring);
    }

    /// Who unlocked the store: the author of everything written through it.
    pub fn me(&self) -> &Author {
        &self.me
    }

    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn store_id(&self) -> Uuid {
        self.keys.store_id
    }

    /// The patient whose diary this is.
    pub fn patient(&self) -> Result<Author> {
        entries::patient(&self.conn)
    }

    /// SQLite's and SQLCipher's own integrity checks; empty when all is well.
    pub fn integrity_problems(&self) -> Result<Vec<String>> {
        integrity_problems(&self.conn)
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// A database file and the `-wal` and `-shm` files SQLite keeps beside it.
fn with_sidecars(db: &Path) -> [PathBuf; 3] {
    let beside = |suffix: &str| {
        let mut s = db.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    [db.to_owned(), beside("-wal"), beside("-shm")]
}

/// The data folder is the user's alone.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        // A folder the user chose is theirs; we do not change its permissions.
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
