//! Safety advice as the diary keeps it: raised by the rules and recorded in the same transaction
//! as the record that raised it (with the problems it is about, so ambers are counted per
//! problem), acknowledged ("I understand") by whoever saw it, listed with the record it is about
//! (withdrawn or not), and the reminder a "measure again" sets.

use super::{parse_ts, ts, Store};
use crate::domain::{Author, Entry, EntryData, EntryKind, RecordStatus};
use crate::error::{Error, Result};
use crate::rules::{Context, Level};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use rusqlite::{params, Row, Transaction};
use serde::Serialize;
use std::collections::BTreeSet;
use uuid::Uuid;

/// A record as saved, with the advice it raised (most urgent first).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Saved {
    pub entry: Entry,
    pub advice: Vec<Advice>,
}

/// One piece of safety advice shown to the person. It records what rule of which ruleset
/// version fired and when, and whether someone pressed "I understand"; what the clinic did
/// with it only from the clinic's own receipt (`receipt`), never before.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Advice {
    pub id: Uuid,
    /// The record it is about.
    pub entry_id: Uuid,
    pub record_kind: EntryKind,
    /// Whether that record has since been withdrawn ("entered in error"). The advice was shown
    /// all the same and stays listed.
    pub withdrawn: bool,
    pub rule: String,
    pub ruleset: String,
    pub ruleset_version: String,
    pub level: Level,
    pub raised_at: DateTime<Utc>,
    /// What it is about (a symptom, ESAS-r items at 7 or more); empty for advice raised before
    /// the diary kept them.
    pub problems: Vec<String>,
    /// Who to call, in order, as the UI's buttons; numbers from the ruleset (the ward's from
    /// the settings).
    pub contacts: Vec<Contact>,
    /// For advice about a temperature: the ruleset's fever threshold and low threshold, which
    /// the card names.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub fever_from: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub low_below: Option<f64>,
    /// Whether the clinic's ward is staffed now (the card says "open until 15:30" or "closed
    /// now: call 116 117"); none when the clinic gave no ward, or for advice that calls no one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ward_staffed: Option<crate::care_team::Staffed>,
    /// For "measure again": when the reminder falls due.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub follow_up_at: Option<DateTime<Utc>>,
    /// When "I understand" was first pressed, and by whom.
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<Author>,
    /// Every "I understand", oldest first: the patient's and each carer's of their own.
    pub acknowledgements: Vec<Acknowledgement>,
    /// What came back from the clinic: sent, received, taken, closed, the nurse's message.
    #[serde(flatten)]
    pub receipt: super::receipts::Receipt,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Acknowledgement {
    pub at: DateTime<Utc>,
    pub by: Author,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Contact {
    /// `emergency`, `out_of_hours`, `helpline`, `ward` or `contact_nurse`.
    #[ts(type = "'emergency' | 'out_of_hours' | 'helpline' | 'ward' | 'contact_nurse'")]
    pub role: String,
    /// None when the ward's number has not been set yet.
    pub number: Option<String>,
    /// The clinic's name for the line (`Cancer ward 3`), when the clinic gave it.
    pub name: Option<String>,
    /// `clinic` (the care team the clinic sent), `patient` (a number the patient typed, never
    /// shown as the clinic's) or `ruleset` (the national numbers).
    #[ts(type = "'clinic' | 'patient' | 'ruleset'")]
    pub source: &'static str,
}

/// A reminder to measure the temperature again, set by "measure again in one hour" advice; it
/// is done when any temperature is recorded after it was raised.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Recheck {
    pub advice_id: Uuid,
    pub entry_id: Uuid,
    pub due_at: DateTime<Utc>,
    /// `upcoming` or `due`.
    #[ts(type = "'upcoming' | 'due'")]
    pub state: &'static str,
}

/// Rules about a temperature: their card names the fever threshold.
const TEMPERATURE_RULES: &[&str] =
    &["fever", "temperature-unwell", "low-temperature-unwell", "temperature-recheck", "low-temperature-recheck"];
/// A "measure again" older than this is no longer offered as due.
const RECHECK_STALE_HOURS: i64 = 12;

const ADVICE_SELECT: &str = "
    SELECT a.id, a.entry_id, a.rule, a.ruleset, a.ruleset_version, a.level, a.raised_at, a.problems,
           e.kind, v.status, s.sent_at
    FROM advice a
    LEFT JOIN advice_sent s ON s.advice_id = a.id
    JOIN entries e ON e.id = a.entry_id
    JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version";

fn uuid(r: &Row, i: usize) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(&r.get::<_, String>(i)?)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

impl Store {
    pub fn ruleset(&self) -> &crate::rules::Ruleset {
        &self.rules
    }

    /// Evaluates the rules on a record being saved and records what they raise, inside the
    /// caller's transaction, so a record and its advice are saved together or not at all.
    pub(super) fn raise_advice(
        &self,
        tx: &Transaction,
        entry_id: Uuid,
        version: u32,
        data: &EntryData,
        now: DateTime<Utc>,
    ) -> Result<Vec<Advice>> {
        let treatments = self.treatments()?;
        let mut raised = self.rules.evaluate(data, &Context { treatments: &treatments });
        let recent = self.recent_amber_problems(tx, entry_id, now, &treatments)?;
        if let Some(more) = self.rules.aggregate(&recent, &raised) {
            raised.push(more);
        }
        raised.sort_by_key(|a| std::cmp::Reverse(a.level));
        let mut out = Vec::with_capacity(raised.len());
        for r in raised {
            // As stored: microseconds.
            let raised_at = now.trunc_subsecs(6);
            let advice = self.advice(
                Uuid::new_v4(),
                entry_id,
                data.kind(),
                false,
                r.rule,
                (self.rules.id.clone(), self.rules.version.clone()),
                r.level,
                raised_at,
                r.problems,
                Vec::new(),
            );
            let problems = serde_json::to_string(&advice.problems).map_err(|_| Error::Internal("advice problems"))?;
            tx.execute(
                "INSERT INTO advice (id, entry_id, entry_version, rule, ruleset, ruleset_version, level, raised_at, device_id, problems)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    advice.id.to_string(),
                    entry_id.to_string(),
                    version,
                    advice.rule,
                    advice.ruleset,
                    advice.ruleset_version,
                    advice.level.as_str(),
                    ts(now),
                    self.device_id.to_string(),
                    problems
                ],
            )?;
            // Not logged: which rule fired says what the record says ("entry saved" counts them).
            super::sync::queue(tx, "advice", advice.id, now)?;
            out.push(advice);
        }
        Ok(out)
    }

    /// The problems that already had `contact_24h` advice in the aggregation window, from
    /// records still standing. Advice raised on an earlier version of a record counts only if
    /// the record as it is now still raises it (a correction from 8 to 3 ends an amber; a note
    /// edited on another device does not); a record this session cannot read counts as it was,
    /// on the safe side. Advice from before the diary kept problems counts once per record.
    fn recent_amber_problems(
        &self,
        tx: &Transaction,
        entry_id: Uuid,
        now: DateTime<Utc>,
        treatments: &[crate::treatment::Treatment],
    ) -> Result<BTreeSet<String>> {
        let since = now - Duration::hours(self.rules.aggregation.window_hours);
        let mut stmt = tx.prepare(
            "SELECT a.entry_id, a.problems, a.entry_version = e.current_version FROM advice a
             JOIN entries e ON e.id = a.entry_id
             JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version
             WHERE a.level = 'contact_24h' AND a.raised_at >= ?1 AND a.entry_id <> ?2 AND v.status <> 'entered-in-error'",
        )?;
        let rows = stmt.query_map(params![ts(since), entry_id.to_string()], |r| {
            Ok((uuid(r, 0)?, r.get::<_, Option<String>>(1)?, r.get::<_, bool>(2)?))
        })?;
        let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        let ctx = Context { treatments };
        let mut out = BTreeSet::new();
        for (entry, problems, current) in rows {
            if !current {
                if let Ok(now) = self.entry(entry) {
                    let still = self.rules.evaluate(&now.data, &ctx);
                    out.extend(still.into_iter().filter(|r| r.level == Level::Contact24h).flat_map(|r| r.problems));
                    continue;
                }
            }
            match problems.and_then(|p| serde_json::from_str::<Vec<String>>(&p).ok()).filter(|p| !p.is_empty()) {
                Some(list) => out.extend(list),
                None => {
                    out.insert(format!("record:{entry}"));
                }
            }
        }
        Ok(out)
    }

    /// Builds the advice as shown: the numbers to call and the facts its card names.
    #[allow(clippy::too_many_arguments)]
    fn advice(
        &self,
        id: Uuid,
        entry_id: Uuid,
        record_kind: EntryKind,
        withdrawn: bool,
        rule: String,
        (ruleset, ruleset_version): (String, String),
        level: Level,
        raised_at: DateTime<Utc>,
        problems: Vec<String>,
        acknowledgements: Vec<Acknowledgement>,
    ) -> Advice {
        let temperature = TEMPERATURE_RULES.contains(&rule.as_str());
        let fever_from = temperature.then_some(self.rules.temperature.call_at_or_above);
        let low_below = temperature.then_some(self.rules.temperature.low_below);
        let follow_up_at = (level == Level::Recheck).then(|| raised_at + Duration::minutes(self.rules.temperature.recheck_after_minutes));
        let first = acknowledgements.first();
        let (acknowledged_at, acknowledged_by) = (first.map(|a| a.at), first.map(|a| a.by.clone()));
        Advice {
            id,
            entry_id,
            record_kind,
            withdrawn,
            ward_staffed: self.ward_staffed(level),
            contacts: self.contacts_for(level),
            rule,
            ruleset,
            ruleset_version,
            level,
            raised_at,
            problems,
            fever_from,
            low_below,
            follow_up_at,
            acknowledged_at,
            acknowledged_by,
            acknowledgements,
            receipt: Default::default(),
        }
    }

    fn advice_row(&self, r: &Row) -> rusqlite::Result<Advice> {
        let level: String = r.get(5)?;
        let level = Level::parse(&level).unwrap_or(Level::CallNow);
        let problems: Vec<String> = r.get::<_, Option<String>>(7)?.and_then(|p| serde_json::from_str(&p).ok()).unwrap_or_default();
        let kind = EntryKind::parse(&r.get::<_, String>(8)?).unwrap_or(EntryKind::Symptom);
        let withdrawn = RecordStatus::parse(&r.get::<_, String>(9)?) == Some(RecordStatus::EnteredInError);
        let id = uuid(r, 0)?;
        let acknowledged = self.acknowledgements(id)?;
        let sent_at = r.get::<_, Option<String>>(10)?.map(|t| parse_ts(&t)).transpose()?;
        let receipt = super::receipts::receipt(&self.conn, id, sent_at)?;
        Ok(Advice {
            receipt,
            ..self.advice(
                id,
                uuid(r, 1)?,
                kind,
                withdrawn,
                r.get(2)?,
                (r.get(3)?, r.get(4)?),
                level,
                parse_ts(&r.get::<_, String>(6)?)?,
                problems,
                acknowledged,
            )
        })
    }

    fn acknowledgements(&self, advice: Uuid) -> rusqlite::Result<Vec<Acknowledgement>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT k.acknowledged_at, p.id, p.name, p.role, p.relationship FROM advice_acks k
             JOIN people p ON p.id = k.person_id WHERE k.advice_id = ?1 ORDER BY k.acknowledged_at, k.rowid",
        )?;
        let rows = stmt.query_map([advice.to_string()], |r| {
            Ok(Acknowledgement { at: parse_ts(&r.get::<_, String>(0)?)?, by: super::entries::author_at(r, 1)? })
        })?;
        rows.collect()
    }

    fn query_advice(&self, filter: &str, args: impl rusqlite::Params) -> Result<Vec<Advice>> {
        let mut stmt = self.conn.prepare(&format!("{ADVICE_SELECT} {filter}"))?;
        let rows = stmt.query_map(args, |r| self.advice_row(r))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Every piece of advice a record raised, oldest first.
    pub fn advice_for(&self, entry_id: Uuid) -> Result<Vec<Advice>> {
        let all = self.query_advice("WHERE a.entry_id = ?1 ORDER BY a.rowid", [entry_id.to_string()])?;
        Ok(self.visible_advice(all))
    }

    /// One piece of advice, if this session may see it.
    pub fn advice_by_id(&self, id: Uuid) -> Result<Advice> {
        let found = self.query_advice("WHERE a.id = ?1", [id.to_string()])?;
        self.visible_advice(found).pop().ok_or(Error::NotFound)
    }

    /// Advice about a record this session cannot read (a check-in not shared with this carer)
    /// is not shown either: it would tell what the record says.
    fn visible_advice(&self, all: Vec<Advice>) -> Vec<Advice> {
        let mut readable = std::collections::HashMap::new();
        all.into_iter().filter(|a| *readable.entry(a.entry_id).or_insert_with(|| self.entry(a.entry_id).is_ok())).collect()
    }

    /// All advice shown since a time, newest first, withdrawn records' advice included and
    /// marked: the list `advice list` prints and the home screen reopens cards from.
    pub fn advice_since(&self, since: DateTime<Utc>) -> Result<Vec<Advice>> {
        Ok(self.visible_advice(self.all_advice_since(since)?))
    }

    /// The advice shown in the last `days` days (1 to 365), newest first.
    pub fn advice_shown(&self, days: i64) -> Result<Vec<Advice>> {
        let max = super::MAX_SUMMARY_DAYS;
        if !(1..=max).contains(&days) {
            return Err(Error::invalid("days", crate::error::Problem::OutOfRange { min: 1.0, max: max as f64 }));
        }
        self.advice_since(self.now() - Duration::days(days))
    }

    /// [`Store::advice_since`] before the check that this session can read each record; the
    /// caller must do it.
    pub(super) fn all_advice_since(&self, since: DateTime<Utc>) -> Result<Vec<Advice>> {
        self.query_advice("WHERE a.raised_at >= ?1 ORDER BY a.raised_at DESC, a.rowid DESC", [ts(since)])
    }

    /// Records that whoever is signed in pressed "I understand" on these cards, now, on this
    /// device, in one transaction. Each person's first acknowledgement stands; pressing again
    /// changes nothing. Each acknowledged card goes to the clinic again with its `Flag`.
    pub fn acknowledge_advice(&mut self, ids: &[Uuid]) -> Result<Vec<Advice>> {
        for id in ids {
            self.advice_by_id(*id)?;
        }
        let now = self.now();
        let tx = self.conn.transaction()?;
        for id in ids {
            let added = tx.execute(
                "INSERT OR IGNORE INTO advice_acks (advice_id, person_id, acknowledged_at, device_id) VALUES (?1, ?3, ?2, ?4)",
                params![id.to_string(), ts(now), self.me.id.to_string(), self.device_id.to_string()],
            )?;
            if added > 0 {
                super::sync::queue(&tx, "advice", *id, now)?;
            }
        }
        tx.commit()?;
        tracing::info!(count = ids.len(), "advice acknowledged");
        ids.iter().map(|id| self.advice_by_id(*id)).collect()
    }

    /// "Measure again" reminders not yet done: raised on a temperature that still stands (and,
    /// if it was corrected since, still gives "measure again"), in the last hours, with no
    /// temperature taken since it was raised. Only those about records this session can read.
    pub fn rechecks(&self) -> Result<Vec<Recheck>> {
        Ok(self.all_rechecks()?.into_iter().filter(|r| self.entry(r.entry_id).is_ok()).collect())
    }

    /// [`Store::rechecks`] whoever may read them: the reminders that ring outside the diary.
    fn all_rechecks(&self) -> Result<Vec<Recheck>> {
        let now = self.now();
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.id, a.entry_id, a.raised_at, a.entry_version = e.current_version FROM advice a
             JOIN entries e ON e.id = a.entry_id
             JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version
             WHERE a.level = 'recheck' AND a.raised_at >= ?1 AND v.status <> 'entered-in-error'
             ORDER BY a.raised_at",
        )?;
        let rows = stmt.query_map([ts(now - Duration::hours(RECHECK_STALE_HOURS))], |r| {
            Ok((uuid(r, 0)?, uuid(r, 1)?, parse_ts(&r.get::<_, String>(2)?)?, r.get::<_, bool>(3)?))
        })?;
        let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // The two temperatures taken last (one may be the reading the advice is about): a
        // reminder is done when another was taken after it was raised.
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.id, tv.occurred_at FROM entry_versions tv
             JOIN entries t ON t.id = tv.entry_id AND tv.version = t.current_version
             WHERE t.kind = 'temperature' AND tv.status <> 'entered-in-error'
             ORDER BY tv.occurred_at DESC LIMIT 2",
        )?;
        let latest =
            stmt.query_map([], |r| Ok((uuid(r, 0)?, parse_ts(&r.get::<_, String>(1)?)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
        let treatments = self.treatments()?;
        let mut out = Vec::new();
        for (advice_id, entry_id, raised_at, current) in rows {
            if latest.iter().any(|(id, at)| *id != entry_id && *at > raised_at) {
                continue;
            }
            if !current {
                // Corrected since: does the reading as it is now still ask to measure again?
                if let Ok(e) = self.entry(entry_id) {
                    let still = self.rules.evaluate(&e.data, &Context { treatments: &treatments });
                    if !still.iter().any(|r| r.level == Level::Recheck) {
                        continue;
                    }
                }
            }
            let due_at = raised_at + Duration::minutes(self.rules.temperature.recheck_after_minutes);
            out.push(Recheck { advice_id, entry_id, due_at, state: if now >= due_at { "due" } else { "upcoming" } });
        }
        Ok(out)
    }

    /// After a temperature is saved, corrected or withdrawn: the reminders outside the diary
    /// are set again from the ones still to come. Failing to write the file loses no data (the
    /// home screen still shows what is due), so it is logged, not returned.
    pub(super) fn follow_up(&self, data: &EntryData) {
        if !matches!(data, EntryData::Temperature { .. }) {
            return;
        }
        let now = self.now();
        let result = self.all_rechecks().and_then(|list| {
            let mut due: Vec<DateTime<Utc>> = list.into_iter().map(|r| r.due_at).filter(|t| *t > now).collect();
            due.sort();
            // Written only when it changes: most temperatures set no reminder and end none.
            if crate::alarms::Alarms::load(&self.dir).due == due {
                return Ok(());
            }
            crate::alarms::Alarms { due }.save(&self.dir)
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "the reminder file could not be written");
        }
    }

    /// The ward's staffed state, for advice whose card calls the ward.
    fn ward_staffed(&self, level: Level) -> Option<crate::care_team::Staffed> {
        // Not for "tell the team": its card may call the contact nurse, whose hours differ.
        if !matches!(level, Level::CallNow | Level::Contact24h) {
            return None;
        }
        let team = self.care_contacts().ok()?;
        team.iter().find(|c| c.role == "ward").map(|w| w.staffed(self.now()))
    }

    /// Who to call for advice of a level, now: the clinic's ward while it is staffed, else the
    /// out-of-hours line; the number the patient typed only while the clinic gave no ward.
    pub(super) fn contacts_for(&self, level: Level) -> Vec<Contact> {
        let c = &self.rules.contacts;
        let fixed = |role: &str, n: &String| Contact { role: role.to_owned(), number: Some(n.clone()), name: None, source: "ruleset" };
        let team = self.care_contacts().unwrap_or_default();
        let now = self.now();
        let clinic = |role: &str| {
            team.iter().find(|t| t.role == role).map(|t| {
                (
                    Contact { role: role.to_owned(), number: Some(t.phone.clone()), name: Some(t.name.clone()), source: "clinic" },
                    t.staffed(now),
                )
            })
        };
        // The out-of-hours line: the clinic's while staffed, else the national number.
        let ooh =
            || clinic("out_of_hours").filter(|(_, s)| s.open).map(|(c, _)| c).unwrap_or_else(|| fixed("out_of_hours", &c.out_of_hours));
        let ward = clinic("ward");
        let own = || Contact { role: "ward".to_owned(), number: self.ward_phone().ok().flatten(), name: None, source: "patient" };
        match level {
            Level::Emergency => vec![fixed("emergency", &c.emergency)],
            Level::Crisis => {
                vec![fixed("emergency", &c.emergency), fixed("out_of_hours", &c.out_of_hours), fixed("helpline", &c.helpline)]
            }
            Level::CallNow => match ward {
                Some((w, s)) if s.open => vec![w, ooh()],
                // The ward is closed: the out-of-hours doctor now, 113 if it cannot wait.
                Some(_) => vec![ooh(), fixed("emergency", &c.emergency)],
                // Without the ward's number, the card still offers numbers that answer at once.
                None => match own() {
                    w if w.number.is_some() => vec![w, ooh()],
                    w => vec![w, ooh(), fixed("emergency", &c.emergency)],
                },
            },
            Level::Contact24h => match ward {
                Some((w, s)) if s.open => vec![w],
                // Closed: the ward when it opens, the out-of-hours doctor if it cannot wait.
                Some((w, _)) => vec![w, ooh()],
                None => match own() {
                    w if w.number.is_some() => vec![w],
                    w => vec![w, ooh()],
                },
            },
            Level::ContactTeam => match clinic("contact_nurse").or(ward) {
                Some((w, _)) => vec![w],
                None => vec![own()],
            },
            Level::Recheck => Vec::new(),
        }
    }
}
