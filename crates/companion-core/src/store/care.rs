//! The care the diary is set up for: check-in schedules, the cancer ward's phone number, and
//! the treatments the patient is on (which safety rules may depend on). While the clinic's
//! going-home plan is in force, its treatment and its check-ins are the diary's.

use super::{parse_ts, ts, Store};
use crate::domain::{Entry, EntryData, EntryKind};
use crate::error::{Error, Invalid, Problem, Result};
use crate::instruments;
use crate::treatment::Treatment;
use chrono::{DateTime, Duration, Utc};
use rusqlite::params;
use serde::Serialize;

/// How often a check-in is due, and where it stands now.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Schedule {
    pub instrument: String,
    pub every_days: u32,
    pub last_done: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    /// `upcoming`, `due`, or `overdue` (more than two days past due).
    #[ts(type = "'upcoming' | 'due' | 'overdue'")]
    pub state: &'static str,
    /// `clinic` (the going-home plan's, which replaces the patient's own for that check-in) or
    /// `patient`.
    #[ts(type = "'clinic' | 'patient'")]
    pub source: &'static str,
}

const OVERDUE_AFTER_DAYS: i64 = 2;

fn state_at(now: DateTime<Utc>, due_at: DateTime<Utc>) -> &'static str {
    if now < due_at {
        "upcoming"
    } else if now < due_at + Duration::days(OVERDUE_AFTER_DAYS) {
        "due"
    } else {
        "overdue"
    }
}
const WARD_PHONE: &str = "ward_phone";
const TREATMENTS: &str = "treatments";

impl Store {
    /// The treatments the patient is on, as they set them (none until they do). One this build
    /// does not know (set by a newer one) is passed over; the others still count.
    pub fn treatments(&self) -> Result<Vec<Treatment>> {
        // The plan's, and any the patient set before it: a plan that leaves one out never turns
        // its rules off.
        let mut all = self.own_treatments()?;
        if let Some(p) = self.plan()? {
            all.extend(p.plan.treatment);
        }
        Ok(Treatment::normalise(all))
    }

    /// Whether the treatments come from the clinic's going-home plan (then the patient does not
    /// set them; they may tell the clinic if the plan is wrong).
    pub fn treatments_from_clinic(&self) -> Result<bool> {
        Ok(self.plan()?.is_some_and(|p| !p.plan.treatment.is_empty()))
    }

    /// The treatments as the patient set them, whatever a plan says.
    pub fn own_treatments(&self) -> Result<Vec<Treatment>> {
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
        if self.treatments_from_clinic()? {
            // The clinic's plan sets them; a change here would override it silently.
            return Err(Invalid::new("treatment", Problem::NotAllowed).into());
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
                // The same rule as for the clinic's numbers.
                if !crate::care_team::phone_ok(n) {
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
            Ok(Schedule {
                instrument: r.get(0)?,
                every_days: every,
                last_done: last,
                due_at,
                state: state_at(now, due_at),
                source: "patient",
            })
        })?;
        let own = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        let Some(plan) = self.plan()? else { return Ok(own) };
        // The plan's check-ins replace the patient's own for the same instrument while they run.
        let active: Vec<&crate::plan::PlanSchedule> =
            plan.plan.schedules.iter().filter(|p| p.for_days.is_none_or(|d| now < plan.since + Duration::days(d as i64))).collect();
        let mut out: Vec<Schedule> = own.into_iter().filter(|s| !active.iter().any(|p| p.instrument == s.instrument)).collect();
        for p in active {
            let last = self.last_done(&p.instrument)?.filter(|l| *l >= plan.since);
            let due_at = last.map_or(plan.since, |l| l + Duration::days(p.every_days as i64));
            out.push(Schedule {
                instrument: p.instrument.clone(),
                every_days: p.every_days,
                last_done: last,
                due_at,
                state: state_at(now, due_at),
                source: "clinic",
            });
        }
        out.sort_by(|a, b| a.instrument.cmp(&b.instrument));
        Ok(out)
    }

    /// Sets how often a check-in is due (1–365 days), or stops it (`None`). A new schedule is due
    /// at once unless the check-in was done recently.
    pub fn set_schedule(&mut self, instrument: &str, every_days: Option<i64>) -> Result<Vec<Schedule>> {
        let instrument = instruments::get(instrument)?.id;
        if self.schedules()?.iter().any(|s| s.instrument == instrument && s.source == "clinic") {
            // The clinic's plan asks for this one; the patient's own would be replaced anyway.
            return Err(Invalid::new("instrument", Problem::NotAllowed).into());
        }
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
