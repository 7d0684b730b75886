//! Writing and reading the diary's records. Every user action is one transaction; records are
//! versioned, never rewritten or deleted.

use super::advice::{Advice, Saved};

/// The most records saved together (several symptoms in one form).
pub const MAX_BATCH: usize = 20;
use super::{parse_ts, ts, Store};
use crate::domain::{self, Author, Entry, EntryData, EntryKind, NewEntry, QuestionState, RecordStatus, Role, Scope, MAX_ANSWER};
use crate::error::{Error, Invalid, Problem, Result};
use crate::instruments::ItemAnswer;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

/// Which records the timeline shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
pub struct TimelineFilter {
    pub kind: Option<EntryKind>,
}

const ENTRY_SELECT: &str = "
    SELECT e.id, v.version, v.status, v.occurred_at, e.recorded_at, v.recorded_at, v.data, e.device_id,
           pa.id, pa.name, pa.role, pa.relationship,
           pu.id, pu.name, pu.role, pu.relationship
    FROM entries e
    JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version
    JOIN people pa ON pa.id = e.author_id
    JOIN people pu ON pu.id = v.author_id";

fn uuid_at(row: &Row, i: usize) -> rusqlite::Result<Uuid> {
    let s: String = row.get(i)?;
    Uuid::parse_str(&s).map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

pub(super) fn author_at(row: &Row, i: usize) -> rusqlite::Result<Author> {
    let role: String = row.get(i + 2)?;
    Ok(Author {
        id: uuid_at(row, i)?,
        name: row.get(i + 1)?,
        role: if role == "carer" { Role::Carer } else { Role::Patient },
        relationship: row.get(i + 3)?,
    })
}

/// A record's content sealed under a key of [`crate::keyfile`]: which key, and the sealed JSON.
/// A check-in keeps its instrument id readable, so reminders can find the last one.
#[derive(Serialize, Deserialize)]
pub(super) struct Envelope {
    pub key: String,
    pub sealed: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
}

impl Envelope {
    pub fn read(text: &str) -> Option<Envelope> {
        serde_json::from_str(text).ok()
    }
}

fn record_context(store: Uuid, id: Uuid, version: u32, key: &str) -> String {
    format!("companion-record-v1|{store}|{id}|{version}|{key}")
}

fn conversion(i: usize, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
}

pub(super) fn person(conn: &Connection, id: Uuid) -> Result<Option<Author>> {
    Ok(conn.query_row("SELECT id, name, role, relationship FROM people WHERE id = ?1", [id.to_string()], |r| author_at(r, 0)).optional()?)
}

pub(super) fn patient(conn: &Connection) -> Result<Author> {
    conn.query_row("SELECT id, name, role, relationship FROM people WHERE role = 'patient' ORDER BY created_at LIMIT 1", [], |r| {
        author_at(r, 0)
    })
    .optional()?
    .ok_or(Error::Damaged("the diary has no patient"))
}

fn data_json(data: &EntryData) -> Result<String> {
    serde_json::to_string(data).map_err(|_| Error::Internal("record serialisation"))
}

impl Store {
    /// One row of [`ENTRY_SELECT`]; `None` when it is sealed under a key this session does not
    /// hold (a category the patient has not shared with this carer, or a carer's own check-in).
    fn entry_from_row(&self, row: &Row) -> rusqlite::Result<Option<Entry>> {
        let status: String = row.get(2)?;
        let id = uuid_at(row, 0)?;
        let version: u32 = row.get(1)?;
        let text: String = row.get(6)?;
        let mut private = false;
        let data = match Envelope::read(&text) {
            Some(env) => {
                private = is_private(Some(&env.key));
                let Some(key) = self.ring.get(&env.key) else { return Ok(None) };
                let context = record_context(self.keys.store_id, id, version, &env.key);
                let plain = crate::crypto::open_sealed(key, &env.sealed, &context)
                    .map_err(|_| conversion(6, "unreadable sealed record"))?
                    .ok_or_else(|| conversion(6, "a sealed record does not open with its key"))?;
                serde_json::from_slice(&plain).map_err(|e| conversion(6, e))?
            }
            None => serde_json::from_str(&text).map_err(|e| conversion(6, e))?,
        };
        let mut data = data;
        if let EntryData::Assessment { questionnaire, answers, .. } = &mut data {
            crate::instruments::legacy::read_answers(questionnaire, answers);
        }
        Ok(Some(Entry {
            id,
            version,
            status: RecordStatus::parse(&status).ok_or_else(|| conversion(2, "unknown status"))?,
            occurred_at: parse_ts(&row.get::<_, String>(3)?)?,
            recorded_at: parse_ts(&row.get::<_, String>(4)?)?,
            updated_at: parse_ts(&row.get::<_, String>(5)?)?,
            data,
            device: uuid_at(row, 7)?,
            private,
            author: author_at(row, 8)?,
            updated_by: author_at(row, 12)?,
        }))
    }

    /// The key a version of record `id` is sealed under: the key of the version before it, or
    /// for a new record, by kind and author. `None` for a format-1 diary (no carers yet).
    pub(super) fn record_key(&self, conn: &Connection, id: Uuid, data: &EntryData, author: Uuid, role: Role) -> Result<Option<String>> {
        if self.keys.is_legacy() {
            return Ok(None);
        }
        let before: Option<String> = conn
            .query_row(
                "SELECT v.data FROM entries e JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version
                 WHERE e.id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(env) = before.as_deref().and_then(Envelope::read) {
            return Ok(Some(env.key));
        }
        Ok(Some(default_key(&self.keys, data, author, role, self.me.id)))
    }

    /// The stored text of a version: sealed under `key`, which this session must hold.
    pub(super) fn stored_data(&self, id: Uuid, version: u32, key: Option<&str>, data: &EntryData) -> Result<String> {
        let json = Zeroizing::new(data_json(data)?);
        let Some(name) = key else { return Ok(json.to_string()) };
        let key = self.ring.get(name).ok_or(Error::NotPermitted)?;
        let sealed = crate::crypto::seal(key, json.as_bytes(), &record_context(self.keys.store_id, id, version, name))?;
        let instrument = match data {
            EntryData::Assessment { instrument, .. } => Some(instrument.clone()),
            _ => None,
        };
        serde_json::to_string(&Envelope { key: name.to_owned(), sealed, instrument }).map_err(|_| Error::Internal("record serialisation"))
    }

    /// Writes one version of a record, sealed as [`Store::record_key`] says. Returns the key's
    /// name: a carer's private check-in (`priv:`) is never queued for the clinic.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn insert_version(
        &self,
        tx: &Transaction,
        id: Uuid,
        version: u32,
        status: RecordStatus,
        occurred_at: DateTime<Utc>,
        recorded_at: DateTime<Utc>,
        updated_by: Uuid,
        device: Uuid,
        data: &EntryData,
        author: (Uuid, Role),
    ) -> Result<Option<String>> {
        let key = self.record_key(tx, id, data, author.0, author.1)?;
        let text = self.stored_data(id, version, key.as_deref(), data)?;
        tx.execute(
            "INSERT INTO entry_versions (entry_id, version, status, occurred_at, recorded_at, author_id, device_id, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id.to_string(),
                version,
                status.as_str(),
                ts(occurred_at),
                ts(recorded_at),
                updated_by.to_string(),
                device.to_string(),
                text
            ],
        )?;
        Ok(key)
    }
}

/// Whether a key name is a carer's private one: nothing sealed under it leaves the device.
pub(super) fn is_private(key: Option<&str>) -> bool {
    key.is_some_and(|k| k.starts_with("priv:"))
}

/// The key a new record is sealed under. Questions are one category whoever wrote them; a
/// carer's observations go under that carer's own key (the patient holds it too) when this
/// device has one; a carer's check-in about themselves is private to them.
pub(super) fn default_key(keys: &crate::keyfile::KeyFile, data: &EntryData, author: Uuid, role: Role, me: Uuid) -> String {
    use crate::keyfile::names;
    let carer_own = |name: String| (role == Role::Carer && keys.has_key(&name)).then_some(name);
    let category = |scope| names::category(scope).expect("a category").to_owned();
    match data {
        EntryData::Question { .. } => category(Scope::Questions),
        // An ESAS-r a carer filled in for the patient is one of their observations.
        EntryData::Assessment { .. } => carer_own(names::observations(author)).unwrap_or_else(|| category(Scope::Checkins)),
        EntryData::Checkin { .. } => (author == me)
            .then(|| carer_own(names::private(author)))
            .flatten()
            .or_else(|| carer_own(names::observations(author)))
            .unwrap_or_else(|| category(Scope::Checkins)),
        EntryData::Symptom { .. } | EntryData::Temperature { .. } => {
            carer_own(names::observations(author)).unwrap_or_else(|| category(Scope::Symptoms))
        }
    }
}

impl Store {
    /// Saves a new record, written by whoever unlocked the store, on this device.
    pub fn add(&mut self, input: &NewEntry) -> Result<Entry> {
        self.save(input).map(|s| s.entry)
    }

    /// Saves a new record and any safety advice it raises, in one transaction.
    pub fn save(&mut self, input: &NewEntry) -> Result<Saved> {
        let now = self.now();
        let (data, at) = input.validate(now)?;
        self.insert_new(data, at, now)
    }

    /// Saves several new records at once (several symptoms logged together), in one
    /// transaction: every one is checked first, and if any is refused nothing is written. The
    /// advice of each is raised in order, so a later one counts the problems of those before it.
    pub fn save_all(&mut self, inputs: &[NewEntry]) -> Result<Vec<Saved>> {
        if inputs.is_empty() {
            return Err(Invalid::new("entries", Problem::Required).into());
        }
        if inputs.len() > MAX_BATCH {
            return Err(Invalid::new("entries", Problem::OutOfRange { min: 1.0, max: MAX_BATCH as f64 }).into());
        }
        let now = self.now();
        let checked = inputs.iter().map(|i| i.validate(now)).collect::<std::result::Result<Vec<_>, Invalid>>()?;
        for (data, _) in &checked {
            self.may_write(data)?;
        }
        let tx = self.conn.unchecked_transaction()?;
        let mut saved = Vec::with_capacity(checked.len());
        for (data, at) in &checked {
            saved.push(self.insert_in(&tx, data, *at, now)?);
        }
        tx.commit()?;
        let mut out = Vec::with_capacity(saved.len());
        for (id, advice) in saved {
            out.push(Saved { entry: self.entry(id)?, advice });
        }
        for (data, _) in &checked {
            self.follow_up(data);
        }
        tracing::info!(entries = out.len(), advice = out.iter().map(|s| s.advice.len()).sum::<usize>(), "entries saved");
        Ok(out)
    }

    /// Saves a completed check-in with a validated instrument: the answers are checked against
    /// the Questionnaire, scored by the published rules, and stored with the score and advice.
    pub fn add_assessment(&mut self, instrument: &str, answers: &[ItemAnswer], occurred_at: Option<&str>) -> Result<Saved> {
        self.add_assessment_with(instrument, None, answers, occurred_at)
    }

    /// [`Store::add_assessment`] on a given form of the instrument (`url|version`): the shipped
    /// one, or a translation the clinic sent. The response is pinned to the form answered.
    pub fn add_assessment_with(
        &mut self,
        instrument: &str,
        questionnaire: Option<&str>,
        answers: &[ItemAnswer],
        occurred_at: Option<&str>,
    ) -> Result<Saved> {
        let now = self.now();
        let instrument = &self.instrument(instrument, questionnaire)?;
        let answers = instrument.with_completed_by(answers.to_vec(), self.me.role)?;
        let answers = instrument.check(&answers)?;
        let at = domain::occurred_at(occurred_at, now)?;
        let data = EntryData::Assessment {
            instrument: instrument.id.to_owned(),
            scoring: instrument.scoring,
            questionnaire: instrument.questionnaire.canonical(),
            score: instrument.score(&answers),
            answers,
        };
        self.insert_new(data, at, now)
    }

    /// Whether whoever unlocked may write this: a carer logs observations (symptoms,
    /// temperatures, and an ESAS-r filled in as the patient's family caregiver, which the form
    /// allows) and questions only as allowed, and their check-in is about themselves. PHQ and
    /// GAD forms are the patient's own report and never filled in by someone else.
    fn may_write(&self, data: &EntryData) -> Result<()> {
        if self.me.role == Role::Patient {
            return Ok(());
        }
        match data {
            EntryData::Symptom { .. } | EntryData::Temperature { .. } => self.require(Scope::Observations),
            EntryData::Question { .. } => self.require(Scope::Questions),
            EntryData::Checkin { .. } => Ok(()),
            // On the patient's device; the clinic does not yet take check-in forms from a
            // carer's own device.
            EntryData::Assessment { scoring: crate::instruments::Scoring::EsasR, .. } if !self.is_carer_device() => {
                self.require(Scope::Observations)
            }
            EntryData::Assessment { .. } => Err(Error::NotPermitted),
        }
    }

    fn insert_new(&mut self, data: EntryData, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Saved> {
        self.may_write(&data)?;
        // Unchecked only in name: nothing else uses the connection while this transaction runs,
        // and it lets the advice rules read settings through `&self` inside it.
        let tx = self.conn.unchecked_transaction()?;
        let (id, advice) = self.insert_in(&tx, &data, at, now)?;
        tx.commit()?;
        self.follow_up(&data);
        tracing::info!(kind = data.kind().as_str(), advice = advice.len(), "entry saved");
        Ok(Saved { entry: self.entry(id)?, advice })
    }

    /// A new record, its first version and the advice it raises, inside the caller's transaction.
    fn insert_in(&self, tx: &Transaction, data: &EntryData, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(Uuid, Vec<Advice>)> {
        let id = Uuid::new_v4();
        tx.execute(
            "INSERT INTO entries (id, kind, author_id, device_id, recorded_at, current_version)
             VALUES (?1, ?2, ?3, ?4, ?5, 1)",
            params![id.to_string(), data.kind().as_str(), self.me.id.to_string(), self.device_id.to_string(), ts(now)],
        )?;
        let key =
            self.insert_version(tx, id, 1, RecordStatus::Final, at, now, self.me.id, self.device_id, data, (self.me.id, self.me.role))?;
        if data.kind() == EntryKind::Question {
            tx.execute(
                "INSERT INTO question_order (entry_id, position)
                 VALUES (?1, (SELECT coalesce(max(position), 0) + 1 FROM question_order))",
                [id.to_string()],
            )?;
        }
        // The record goes to the clinic before the advice about it, which names it.
        if !is_private(key.as_deref()) {
            super::sync::queue(tx, "entry", id, now)?;
        }
        let advice = self.raise_advice(tx, id, 1, data, now)?;
        Ok((id, advice))
    }

    /// One record, as it stands now.
    pub fn entry(&self, id: Uuid) -> Result<Entry> {
        self.conn
            .query_row(&format!("{ENTRY_SELECT} WHERE e.id = ?1"), [id.to_string()], |r| self.entry_from_row(r))
            .optional()?
            .flatten()
            .ok_or(Error::NotFound)
    }

    /// Every version of one record, oldest first.
    pub fn history(&self, id: Uuid) -> Result<Vec<Entry>> {
        let sql = ENTRY_SELECT.replace("AND v.version = e.current_version", "");
        let mut stmt = self.conn.prepare(&format!("{sql} WHERE e.id = ?1 ORDER BY v.version"))?;
        let rows = stmt.query_map([id.to_string()], |r| self.entry_from_row(r))?;
        let out: Vec<Entry> = rows.filter_map(|r| r.transpose()).collect::<rusqlite::Result<_>>()?;
        if out.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(out)
    }

    /// Everything, newest first (by when it happened, then when it was recorded), withdrawn
    /// records included and marked.
    pub fn timeline(&self, filter: TimelineFilter) -> Result<Vec<Entry>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ENTRY_SELECT} WHERE (?1 IS NULL OR e.kind = ?1)
             ORDER BY v.occurred_at DESC, e.recorded_at DESC, e.id"
        ))?;
        let rows = stmt.query_map([filter.kind.map(|k| k.as_str())], |r| self.entry_from_row(r))?;
        Ok(rows.filter_map(|r| r.transpose()).collect::<rusqlite::Result<_>>()?)
    }

    /// The questions for the visit, in the order the person put them.
    pub fn questions(&self) -> Result<Vec<Entry>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ENTRY_SELECT} JOIN question_order q ON q.entry_id = e.id
             WHERE e.kind = 'question' ORDER BY q.position, e.recorded_at"
        ))?;
        let rows = stmt.query_map([], |r| self.entry_from_row(r))?;
        Ok(rows.filter_map(|r| r.transpose()).collect::<rusqlite::Result<_>>()?)
    }

    /// Corrects a record: the new content becomes a new version marked `amended`. Correcting to
    /// the same content changes nothing. A question's text is corrected with [`Store::edit_question`].
    pub fn correct(&mut self, id: Uuid, input: &NewEntry) -> Result<Saved> {
        let current = self.entry(id)?;
        if input.kind() != current.kind() {
            return Err(Invalid::new("kind", Problem::NotAllowed).into());
        }
        if let NewEntry::Question(q) = input {
            return Ok(Saved { entry: self.edit_question(id, &q.text)?, advice: Vec::new() });
        }
        let (data, at) = input.validate(self.now())?;
        let before = self.advice_for(id)?.len();
        let entry = self.new_version(current, RecordStatus::Amended, at, data)?;
        // Advice the correction raised (none if nothing changed).
        let advice = self.advice_for(id)?.into_iter().skip(before).collect();
        Ok(Saved { entry, advice })
    }

    /// Withdraws a record: a new version with status `entered-in-error`. Nothing is erased.
    pub fn withdraw(&mut self, id: Uuid) -> Result<Entry> {
        let current = self.entry(id)?;
        if current.status == RecordStatus::EnteredInError {
            return Ok(current);
        }
        let (at, data) = (current.occurred_at, current.data.clone());
        self.new_version(current, RecordStatus::EnteredInError, at, data)
    }

    /// Changes a question's wording, keeping where it stands.
    pub fn edit_question(&mut self, id: Uuid, text: &str) -> Result<Entry> {
        let text = domain::question_text(text)?;
        let current = self.question(id)?;
        let EntryData::Question { state, answer, .. } = current.data.clone() else { unreachable!() };
        let at = current.occurred_at;
        self.new_version(current, RecordStatus::Amended, at, EntryData::Question { text, state, answer })
    }

    /// Marks a question open, asked, answered (with what the answer was) or archived.
    /// An answer given here replaces the one recorded; leaving it out keeps it.
    pub fn set_question_state(&mut self, id: Uuid, state: QuestionState, answer: Option<&str>) -> Result<Entry> {
        let answer_in = domain::optional_text("answer", answer, MAX_ANSWER)?;
        let current = self.question(id)?;
        let EntryData::Question { text, answer: old_answer, .. } = current.data.clone() else { unreachable!() };
        let answer = answer_in.or(old_answer);
        let at = current.occurred_at;
        // Where a question stands is not a correction of it: only a changed text is "amended".
        let status = current.status;
        self.new_version(current, status, at, EntryData::Question { text, state, answer })
    }

    /// Puts the questions in the order given. Questions not named keep their relative order,
    /// after the named ones.
    pub fn reorder_questions(&mut self, order: &[Uuid]) -> Result<Vec<Entry>> {
        let all: Vec<Uuid> = self.questions()?.into_iter().map(|q| q.id).collect();
        if order.iter().any(|id| !all.contains(id)) {
            return Err(Error::NotFound);
        }
        let mut seen = std::collections::HashSet::new();
        if !order.iter().all(|id| seen.insert(*id)) {
            return Err(Invalid::new("order", Problem::NotAllowed).into());
        }
        let rest = all.iter().filter(|id| !order.contains(id));
        let tx = self.conn.transaction()?;
        for (pos, id) in order.iter().chain(rest).enumerate() {
            tx.execute("UPDATE question_order SET position = ?2 WHERE entry_id = ?1", params![id.to_string(), pos as i64 + 1])?;
        }
        tx.commit()?;
        self.questions()
    }

    /// The date of the next visit, if one is set.
    pub fn next_visit(&self) -> Result<Option<NaiveDate>> {
        let v: Option<String> = self.conn.query_row("SELECT value FROM settings WHERE key = 'next_visit'", [], |r| r.get(0)).optional()?;
        Ok(v.and_then(|v| NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok()))
    }

    /// Sets or clears the date of the next visit (`YYYY-MM-DD`). A date already past is refused.
    pub fn set_next_visit(&mut self, date: Option<&str>) -> Result<Option<NaiveDate>> {
        let date = match date.map(str::trim).filter(|d| !d.is_empty()) {
            None => None,
            Some(raw) => {
                let d = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| Invalid::new("next_visit", Problem::BadFormat))?;
                // A day's slack, because "today" differs across time zones.
                if d < self.now().date_naive().pred_opt().unwrap_or(d) {
                    return Err(Invalid::new("next_visit", Problem::TooOld).into());
                }
                Some(d)
            }
        };
        let tx = self.conn.transaction()?;
        match date {
            Some(d) => tx.execute(
                "INSERT INTO settings (key, value) VALUES ('next_visit', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [d.format("%Y-%m-%d").to_string()],
            )?,
            None => tx.execute("DELETE FROM settings WHERE key = 'next_visit'", [])?,
        };
        tx.commit()?;
        Ok(date)
    }

    fn question(&self, id: Uuid) -> Result<Entry> {
        let q = self.entry(id)?;
        if q.kind() != EntryKind::Question {
            return Err(Error::NotFound);
        }
        Ok(q)
    }

    /// Appends a version to `current` and moves the record's pointer, in one transaction.
    fn new_version(&mut self, current: Entry, status: RecordStatus, at: DateTime<Utc>, data: EntryData) -> Result<Entry> {
        if current.status == RecordStatus::EnteredInError {
            return Err(Error::Withdrawn);
        }
        // A carer changes only what they wrote (the clinic server holds them to the same).
        if self.me.role == Role::Carer && current.author.id != self.me.id {
            return Err(Error::NotPermitted);
        }
        self.may_write(&data)?;
        if current.data == data && current.occurred_at == at && status != RecordStatus::EnteredInError {
            return Ok(current);
        }
        let now = self.now();
        let version = current.version + 1;
        let tx = self.conn.unchecked_transaction()?;
        let key = self.insert_version(
            &tx,
            current.id,
            version,
            status,
            at,
            now,
            self.me.id,
            self.device_id,
            &data,
            (current.author.id, current.author.role),
        )?;
        tx.execute("UPDATE entries SET current_version = ?2 WHERE id = ?1", params![current.id.to_string(), version])?;
        // Stamp what changed, for merging with the record's copies on other devices.
        let mut fields = crate::replica::changed_fields(&current.data, &data);
        if data.kind() != EntryKind::Question && at != current.occurred_at && fields.is_empty() {
            fields.push("record");
        }
        self.stamp(&tx, current.id, &fields)?;
        if !is_private(key.as_deref()) {
            super::sync::queue(&tx, "entry", current.id, now)?;
        }
        let advice = if status == RecordStatus::Amended && data.kind() != EntryKind::Question {
            self.raise_advice(&tx, current.id, version, &data, now)?
        } else {
            Vec::new()
        };
        tx.commit()?;
        self.follow_up(&data);
        tracing::info!(kind = data.kind().as_str(), status = status.as_str(), version, advice = advice.len(), "entry versioned");
        self.entry(current.id)
    }
}
