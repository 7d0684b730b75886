//! What the diary does with what was saved: safety advice (raised and recorded in the same
//! transaction as the record), check-in schedules, and the cancer ward's phone number.

use super::{parse_ts, ts, Store};
use crate::domain::{Entry, EntryData, EntryKind};
use crate::error::{Invalid, Problem, Result};
use crate::instruments;
use crate::rules::{Level, Ruleset};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use rusqlite::{params, Transaction};
use serde::Serialize;
use uuid::Uuid;

/// A record as saved, with the advice it raised (most urgent first).
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    pub entry: Entry,
    pub advice: Vec<Advice>,
}

/// One piece of safety advice shown to the person. It records what rule of which ruleset
/// version fired and when; it never says the clinic was told.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Advice {
    pub id: Uuid,
    pub entry_id: Uuid,
    pub rule: String,
    pub ruleset: String,
    pub ruleset_version: String,
    pub level: Level,
    pub raised_at: DateTime<Utc>,
    /// Who to call, in order, as the UI's buttons.
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    /// `emergency`, `out_of_hours`, `helpline` or `ward`.
    pub role: &'static str,
    /// None when the ward's number has not been set yet.
    pub number: Option<String>,
}

/// How often a check-in is due, and where it stands now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    pub instrument: String,
    pub every_days: u32,
    pub last_done: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    /// `upcoming`, `due`, or `overdue` (more than two days past due).
    pub state: &'static str,
}

const OVERDUE_AFTER_DAYS: i64 = 2;
const WARD_PHONE: &str = "ward_phone";

impl Store {
    pub fn ruleset(&self) -> &Ruleset {
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
        let mut raised = self.rules.evaluate(data);
        let since = now - Duration::hours(self.rules.aggregation.window_hours);
        let recent: i64 = tx.query_row(
            "SELECT count(*) FROM advice a
             JOIN entries e ON e.id = a.entry_id
             JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version
             WHERE a.level = 'contact_24h' AND a.raised_at >= ?1 AND a.entry_id <> ?2
               AND v.status <> 'entered-in-error'",
            params![ts(since), entry_id.to_string()],
            |r| r.get(0),
        )?;
        if let Some(more) = self.rules.aggregate(recent as usize, &raised) {
            raised.push(more);
        }
        raised.sort_by_key(|a| std::cmp::Reverse(a.level));
        let mut out = Vec::with_capacity(raised.len());
        for r in raised {
            let advice = Advice {
                id: Uuid::new_v4(),
                entry_id,
                rule: r.rule,
                ruleset: self.rules.id.clone(),
                ruleset_version: self.rules.version.clone(),
                level: r.level,
                // As stored: microseconds.
                raised_at: now.trunc_subsecs(6),
                contacts: self.contacts_for(r.level),
            };
            tx.execute(
                "INSERT INTO advice (id, entry_id, entry_version, rule, ruleset, ruleset_version, level, raised_at, device_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    advice.id.to_string(),
                    entry_id.to_string(),
                    version,
                    advice.rule,
                    advice.ruleset,
                    advice.ruleset_version,
                    advice.level.as_str(),
                    ts(now),
                    self.device_id.to_string()
                ],
            )?;
            super::sync::queue(tx, "advice", advice.id, now)?;
            tracing::info!(rule = %advice.rule, level = advice.level.as_str(), "advice raised");
            out.push(advice);
        }
        Ok(out)
    }

    fn advice_row(&self, r: &rusqlite::Row) -> rusqlite::Result<Advice> {
        let level: String = r.get(5)?;
        let level = Level::parse(&level).unwrap_or(Level::CallNow);
        Ok(Advice {
            id: Uuid::parse_str(&r.get::<_, String>(0)?).unwrap_or_default(),
            entry_id: Uuid::parse_str(&r.get::<_, String>(1)?).unwrap_or_default(),
            rule: r.get(2)?,
            ruleset: r.get(3)?,
            ruleset_version: r.get(4)?,
            level,
            raised_at: parse_ts(&r.get::<_, String>(6)?)?,
            contacts: self.contacts_for(level),
        })
    }

    /// Every piece of advice a record raised, oldest first.
    pub fn advice_for(&self, entry_id: Uuid) -> Result<Vec<Advice>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, entry_id, rule, ruleset, ruleset_version, level, raised_at FROM advice
             WHERE entry_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([entry_id.to_string()], |r| self.advice_row(r))?;
        let all = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(self.visible_advice(all))
    }

    /// Advice about a record this session cannot read (a check-in not shared with this carer)
    /// is not shown either: it would tell what the record says.
    fn visible_advice(&self, all: Vec<Advice>) -> Vec<Advice> {
        all.into_iter().filter(|a| self.entry(a.entry_id).is_ok()).collect()
    }

    /// All advice shown since a time, newest first (for the home screen and, later, sync).
    pub fn advice_since(&self, since: DateTime<Utc>) -> Result<Vec<Advice>> {
        Ok(self.visible_advice(self.all_advice_since(since)?))
    }

    /// [`Store::advice_since`] before the check that this session can read each record; the
    /// caller must do it.
    pub(super) fn all_advice_since(&self, since: DateTime<Utc>) -> Result<Vec<Advice>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, entry_id, rule, ruleset, ruleset_version, level, raised_at FROM advice
             WHERE raised_at >= ?1 ORDER BY raised_at DESC, rowid DESC",
        )?;
        let rows = stmt.query_map([ts(since)], |r| self.advice_row(r))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn contacts_for(&self, level: Level) -> Vec<Contact> {
        let c = &self.rules.contacts;
        let ward = || Contact { role: "ward", number: self.ward_phone().ok().flatten() };
        let fixed = |role, n: &String| Contact { role, number: Some(n.clone()) };
        match level {
            Level::Emergency => vec![fixed("emergency", &c.emergency)],
            Level::Crisis => {
                vec![fixed("emergency", &c.emergency), fixed("out_of_hours", &c.out_of_hours), fixed("helpline", &c.helpline)]
            }
            Level::CallNow => vec![ward(), fixed("out_of_hours", &c.out_of_hours)],
            Level::Contact24h | Level::ContactTeam => vec![ward()],
            Level::Recheck => Vec::new(),
        }
    }

    /// The cancer ward's phone number, as the patient set it (the clinic will set it later).
    pub fn ward_phone(&self) -> Result<Option<String>> {
        super::setting(&self.conn, WARD_PHONE)
    }

    /// Sets or clears the ward's number: digits, spaces, `+`, `-` and brackets, 3 to 20 long.
    pub fn set_ward_phone(&mut self, number: Option<&str>) -> Result<Option<String>> {
        let number = number.map(str::trim).filter(|n| !n.is_empty());
        match number {
            Some(n) => {
                let digits = n.chars().filter(char::is_ascii_digit).count();
                let allowed = n.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
                if !allowed || digits < 3 || n.chars().count() > 20 {
                    return Err(Invalid::new("ward_phone", Problem::BadFormat).into());
                }
                super::set_setting(&self.conn, WARD_PHONE, n)?;
            }
            None => {
                self.conn.execute("DELETE FROM settings WHERE key = ?1", [WARD_PHONE])?;
            }
        }
        self.ward_phone()
    }

    /// Every check-in schedule and whether it is due.
    pub fn schedules(&self) -> Result<Vec<Schedule>> {
        let now = self.now();
        let mut stmt = self.conn.prepare(
            "SELECT s.instrument, s.every_days, s.since,
                    (SELECT max(v.occurred_at) FROM entries e
                     JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version
                     WHERE e.kind = 'assessment' AND v.status <> 'entered-in-error'
                       AND json_extract(v.data, '$.instrument') = s.instrument)
             FROM schedules s ORDER BY s.instrument",
        )?;
        let rows = stmt.query_map([], |r| {
            let every: u32 = r.get(1)?;
            let since = parse_ts(&r.get::<_, String>(2)?)?;
            let last = r.get::<_, Option<String>>(3)?.map(|s| parse_ts(&s)).transpose()?;
            let due_at = last.map_or(since, |l| l + Duration::days(every as i64));
            let state = if now < due_at {
                "upcoming"
            } else if now < due_at + Duration::days(OVERDUE_AFTER_DAYS) {
                "due"
            } else {
                "overdue"
            };
            Ok(Schedule { instrument: r.get(0)?, every_days: every, last_done: last, due_at, state })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Sets how often a check-in is due (1–365 days), or stops it (`None`). A new schedule is due
    /// at once unless the check-in was done recently.
    pub fn set_schedule(&mut self, instrument: &str, every_days: Option<i64>) -> Result<Vec<Schedule>> {
        let instrument = instruments::get(instrument)?.id;
        match every_days {
            Some(days) if (1..=365).contains(&days) => {
                self.conn.execute(
                    "INSERT INTO schedules (instrument, every_days, since) VALUES (?1, ?2, ?3)
                     ON CONFLICT (instrument) DO UPDATE SET every_days = excluded.every_days",
                    params![instrument, days, ts(self.now())],
                )?;
            }
            Some(_) => return Err(Invalid::new("every_days", Problem::OutOfRange { min: 1.0, max: 365.0 }).into()),
            None => {
                self.conn.execute("DELETE FROM schedules WHERE instrument = ?1", [instrument])?;
            }
        }
        self.schedules()
    }

    /// Completed check-ins of one instrument, oldest first, for trends.
    pub fn assessments(&self, instrument: &str) -> Result<Vec<Entry>> {
        let id = instruments::get(instrument)?.id;
        Ok(self
            .timeline(super::TimelineFilter { kind: Some(EntryKind::Assessment) })?
            .into_iter()
            .rev()
            .filter(|e| matches!(&e.data, EntryData::Assessment { instrument, .. } if instrument == id))
            .collect())
    }
}
