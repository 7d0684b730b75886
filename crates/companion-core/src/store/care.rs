//! The care the diary is set up for: check-in schedules, the cancer ward's phone number, and
//! the treatments the patient is on (which safety rules may depend on).

use super::{parse_ts, ts, Store};
use crate::domain::{Entry, EntryData, EntryKind};
use crate::error::{Error, Invalid, Problem, Result};
use crate::instruments;
use crate::treatment::Treatment;
use chrono::{DateTime, Duration, Utc};
use rusqlite::params;
use serde::Serialize;

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
const TREATMENTS: &str = "treatments";

impl Store {
    /// The treatments the patient is on, as they set them (none until they do). One this build
    /// does not know (set by a newer one) is passed over; the others still count.
    pub fn treatments(&self) -> Result<Vec<Treatment>> {
        let names: Vec<String> = super::setting(&self.conn, TREATMENTS)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        Ok(Treatment::normalise(names.iter().filter_map(|n| Treatment::parse(n)).collect()))
    }

    /// Sets the treatments the patient is on (an empty list: none). The diary's owner sets them:
    /// the patient, or on a carer's own device the carer, whose device gives advice on what they
    /// log. A carer on the patient's device may not.
    pub fn set_treatments(&mut self, treatments: &[Treatment]) -> Result<Vec<Treatment>> {
        if !self.is_owner() {
            return Err(Error::NotPermitted);
        }
        let list = Treatment::normalise(treatments.to_vec());
        let text = serde_json::to_string(&list).map_err(|_| Error::Internal("treatments"))?;
        let tx = self.conn.transaction()?;
        super::set_setting(&tx, TREATMENTS, &text)?;
        tx.commit()?;
        tracing::info!(count = list.len(), "treatments set");
        self.treatments()
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
