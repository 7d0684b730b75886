//! The store's side of several devices (see [`crate::replica`]): field stamps on local changes,
//! the server's version of each record, and taking in a record another device holds.

use super::entries::{patient, person};
use super::{set_setting, setting, ts, Store};
use crate::domain::{Author, Entry, EntryKind, Role};
use crate::error::{Error, Result};
use crate::replica::{self, Clocks, Merged, Replica};
use rusqlite::{params, OptionalExtension, Transaction};
use uuid::Uuid;

const HLC: &str = "hlc";

/// What taking in another copy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Absorbed {
    /// A record new to this device.
    pub created: bool,
    /// The local record changed.
    pub changed: bool,
    /// The merged record differs from the copy taken in, so it goes to the server again.
    pub resend: bool,
}

impl Store {
    /// The stamps of a record's fields.
    pub fn field_clocks(&self, id: Uuid) -> Result<Clocks> {
        let mut stmt = self.conn.prepare_cached("SELECT field, hlc FROM field_clocks WHERE entry_id = ?1")?;
        let rows = stmt.query_map([id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Clocks>>()?)
    }

    /// Stamps `fields` of a record with a fresh clock value, inside the caller's transaction.
    pub(super) fn stamp(&self, tx: &Transaction, id: Uuid, fields: &[&str]) -> Result<()> {
        if fields.is_empty() {
            return Ok(());
        }
        let last = setting(tx, HLC)?;
        let now = replica::tick(last.as_deref(), self.now().timestamp_millis(), self.device_id);
        set_setting(tx, HLC, &now)?;
        for f in fields {
            set_clock(tx, id, f, &now)?;
        }
        Ok(())
    }

    /// The server's version of a record, as last seen.
    pub fn server_version(&self, id: Uuid) -> Result<Option<i64>> {
        Ok(self.conn.query_row("SELECT version FROM server_versions WHERE id = ?1", [id.to_string()], |r| r.get(0)).optional()?)
    }

    /// Remembers the server's version of records (never going back), in one transaction.
    pub fn note_server_versions(&mut self, versions: &[(Uuid, i64)]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for (id, v) in versions {
            note_version(&tx, *id, *v)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets the server's version of a record (the server does not hold it).
    pub fn forget_server_version(&mut self, id: Uuid) -> Result<()> {
        self.conn.execute("DELETE FROM server_versions WHERE id = ?1", [id.to_string()])?;
        Ok(())
    }

    /// A record as it travels to the other devices.
    pub fn replica(&self, entry: &Entry) -> Result<Replica> {
        Ok(Replica {
            id: entry.id,
            status: entry.status,
            occurred_at: entry.occurred_at,
            recorded_at: entry.recorded_at,
            device: entry.device,
            author: entry.author.clone(),
            updated_by: entry.updated_by.clone(),
            data: entry.data.clone(),
            clocks: self.field_clocks(entry.id)?,
            updated_at: Some(entry.updated_at),
        })
    }

    /// Takes in another device's copy of a record (and the server's version of it), in one
    /// transaction: a new record is added, a known one merged.
    pub fn absorb(&mut self, copy: &Replica, server_version: Option<i64>) -> Result<Absorbed> {
        let tx = self.conn.unchecked_transaction()?;
        let out = self.absorb_in(&tx, copy, server_version)?;
        tx.commit()?;
        Ok(out)
    }

    pub(super) fn absorb_in(&self, tx: &Transaction, copy: &Replica, server_version: Option<i64>) -> Result<Absorbed> {
        let now = self.now();
        // The clock moves past every stamp seen, so a later local edit is ordered after it.
        let last = setting(tx, HLC)?;
        if let Some(newest) = copy.clocks.values().max() {
            if last.as_deref().is_none_or(|l| newest.as_str() > l) {
                set_setting(tx, HLC, newest)?;
            }
        }
        // The change feed replays every version; one older than the server's version this
        // device already knows is history, and is never a reason to send anything.
        let known: Option<i64> =
            tx.query_row("SELECT version FROM server_versions WHERE id = ?1", [copy.id.to_string()], |r| r.get(0)).optional()?;
        let stale = matches!((server_version, known), (Some(v), Some(k)) if v < k);
        if let Some(v) = server_version {
            note_version(tx, copy.id, v)?;
        }
        let current = match self.entry(copy.id) {
            Ok(e) => Some(e),
            Err(Error::NotFound) => None,
            Err(e) => return Err(e),
        };
        if current.is_none() {
            let hidden: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM entries WHERE id = ?1)", [copy.id.to_string()], |r| r.get(0))?;
            if hidden {
                // Here, but sealed under a key this session does not hold: not ours to merge.
                return Ok(Absorbed { created: false, changed: false, resend: false });
            }
        }
        // The people it names, once it is known to be taken in.
        let author = self.local_person(tx, &copy.author)?;
        let updated_by = self.local_person(tx, &copy.updated_by)?;
        let Some(current) = current else {
            tx.execute(
                "INSERT INTO entries (id, kind, author_id, device_id, recorded_at, current_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1)",
                params![copy.id.to_string(), copy.data.kind().as_str(), author.to_string(), copy.device.to_string(), ts(copy.recorded_at)],
            )?;
            self.insert_version(
                tx,
                copy.id,
                1,
                copy.status,
                copy.occurred_at,
                // The time of the edit on the device that made it, not of this pull.
                copy.edited_at(now),
                updated_by,
                copy.device,
                &copy.data,
                (author, copy.author.role),
            )?;
            if copy.data.kind() == EntryKind::Question {
                tx.execute(
                    "INSERT INTO question_order (entry_id, position)
                     VALUES (?1, (SELECT coalesce(max(position), 0) + 1 FROM question_order))",
                    [copy.id.to_string()],
                )?;
            }
            for (field, stamp) in &copy.clocks {
                set_clock(tx, copy.id, field, stamp)?;
            }
            return Ok(Absorbed { created: true, changed: true, resend: false });
        };
        if current.kind() != copy.data.kind() {
            return Err(Error::Internal("a record changed kind"));
        }
        let local = Merged {
            status: current.status,
            occurred_at: current.occurred_at,
            data: current.data.clone(),
            clocks: self.field_clocks(current.id)?,
        };
        let remote = Merged { status: copy.status, occurred_at: copy.occurred_at, data: copy.data.clone(), clocks: copy.clocks.clone() };
        let merged = replica::merge(&local, &remote);
        for (field, stamp) in &merged.clocks {
            set_clock(tx, copy.id, field, stamp)?;
        }
        let same = |m: &Merged| m.status == merged.status && m.occurred_at == merged.occurred_at && m.data == merged.data;
        let changed = !same(&local);
        if changed {
            let version = current.version + 1;
            // The time of the edit taken in; a merge of edits from both devices is as recent as
            // the later of them, and no version is ever earlier than the one before it.
            let edited = copy.edited_at(now).max(current.updated_at);
            self.insert_version(
                tx,
                current.id,
                version,
                merged.status,
                merged.occurred_at,
                edited,
                updated_by,
                copy.device,
                &merged.data,
                (current.author.id, current.author.role),
            )?;
            tx.execute("UPDATE entries SET current_version = ?2 WHERE id = ?1", params![current.id.to_string(), version])?;
        }
        let resend = !stale && !same(&remote);
        if resend {
            super::sync::queue(tx, "entry", current.id, now)?;
        } else if !stale {
            // The server holds exactly this record: nothing of it waits to be sent.
            tx.execute("DELETE FROM outbox WHERE item = 'entry' AND ref_id = ?1 AND state = 'pending'", [copy.id.to_string()])?;
        }
        Ok(Absorbed { created: false, changed, resend })
    }

    /// This diary's id for a person another device named: the person the record says, never
    /// whoever is signed in here. The patient's other device was set up under an identity of
    /// its own (and perhaps another spelling of the name), so its records keep that author, as
    /// a carer's keep theirs; a person new here is added, after this diary's own patient, who
    /// stays the diary's patient.
    fn local_person(&self, tx: &Transaction, who: &Author) -> Result<Uuid> {
        let name = crate::domain::person_name(&who.name).map_err(|_| Error::Internal("a pulled record's author has no usable name"))?;
        if person(tx, who.id)?.is_none() {
            let role = if who.role == Role::Patient { "patient" } else { "carer" };
            let relationship = who.relationship.as_ref().filter(|_| who.role == Role::Carer);
            let first = patient(tx)?;
            // Later than this diary's patient, so `patient()` still finds the owner first.
            let created = ts(self.now().max(first_created(tx, first.id)? + chrono::Duration::microseconds(1)));
            tx.execute(
                "INSERT INTO people (id, role, name, relationship, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![who.id.to_string(), role, name, relationship, created],
            )?;
        }
        Ok(who.id)
    }
}

fn first_created(conn: &rusqlite::Connection, id: Uuid) -> Result<chrono::DateTime<chrono::Utc>> {
    let at: String = conn.query_row("SELECT created_at FROM people WHERE id = ?1", [id.to_string()], |r| r.get(0))?;
    Ok(super::parse_ts(&at)?)
}

fn set_clock(conn: &rusqlite::Connection, id: Uuid, field: &str, stamp: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO field_clocks (entry_id, field, hlc) VALUES (?1, ?2, ?3)
         ON CONFLICT (entry_id, field) DO UPDATE SET hlc = excluded.hlc WHERE excluded.hlc > field_clocks.hlc",
        params![id.to_string(), field, stamp],
    )?;
    Ok(())
}

fn note_version(conn: &rusqlite::Connection, id: Uuid, version: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO server_versions (id, version) VALUES (?1, ?2)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version WHERE excluded.version > server_versions.version",
        params![id.to_string(), version],
    )?;
    Ok(())
}
