//! The summary for the visit: what was reported over a period, by whom, ready to show the
//! clinic. The patient's own reports and each carer's stay apart; nothing is averaged across
//! people, and nothing private to a carer is in it.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{Advice, Disagreement, Store, TimelineFilter};
use crate::domain::{Author, Entry, EntryData, QuestionState, RecordStatus, Role, SymptomCode};
use crate::error::{Error, Problem, Result};
use crate::instruments::Item9;

/// The longest period a summary covers, in days.
pub const MAX_SUMMARY_DAYS: i64 = 365;

/// What was reported between `since` and `until`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct VisitSummary {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// The patient first, then each carer who reported anything, by name. Never merged.
    pub people: Vec<Reported>,
    /// The advice Companion showed in the period, newest first, each with the record it is
    /// about and whether "I understand" was pressed. Advice about a record since withdrawn was
    /// shown all the same: it is listed, marked withdrawn. Not advice about a record this
    /// session cannot read.
    pub advice: Vec<Advice>,
    /// Questions still to ask, in the person's order (whenever they were written).
    pub questions: Vec<Entry>,
    /// Where a carer rated a symptom differently from the patient, in the period.
    pub seen_differently: Vec<Disagreement>,
}

/// What one person reported.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Reported {
    pub person: Author,
    /// Most reports first.
    pub symptoms: Vec<SymptomSummary>,
    /// Temperatures in °C; the peak is the highest.
    pub temperature: Option<Series<f64>>,
    /// A patient's wellbeing (0–10, higher is better; the peak is the lowest); for a carer,
    /// their own (a check-in they chose to share).
    pub wellbeing: Option<Series<u8>>,
    /// Each instrument's latest result, by instrument id.
    pub checkins: Vec<CheckinSummary>,
    /// Every PHQ-9 in the period whose item 9 was answered 1 or more, or left unanswered, oldest
    /// first, withdrawn ones too (marked): never only the total and band.
    pub item9: Vec<Item9Mark>,
}

/// A PHQ-9 whose item 9 must be seen: when, and what was answered. One withdrawn since
/// ("entered in error") is still listed, marked: a disclosure taken back is still one.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Item9Mark {
    pub entry_id: uuid::Uuid,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub item9: Item9,
    pub withdrawn: bool,
}

/// One kind of reading over the period: how many, the one that matters most, and the latest.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Series<T> {
    pub reports: u32,
    /// The reading that matters most (the highest severity or temperature, the lowest
    /// wellbeing), and when it was first seen.
    pub peak: T,
    pub peak_at: DateTime<Utc>,
    pub latest: T,
    pub latest_at: DateTime<Utc>,
}

/// Which way a reading gets worse.
#[derive(Clone, Copy)]
enum Worse {
    Higher,
    Lower,
}

impl<T: Copy + PartialOrd> Series<T> {
    fn new(value: T, at: DateTime<Utc>) -> Self {
        Series { reports: 1, peak: value, peak_at: at, latest: value, latest_at: at }
    }

    /// Takes in a later reading.
    fn add(&mut self, value: T, at: DateTime<Utc>, worse: Worse) {
        self.reports += 1;
        let beyond = match worse {
            Worse::Higher => value > self.peak,
            Worse::Lower => value < self.peak,
        };
        if beyond {
            (self.peak, self.peak_at) = (value, at);
        }
        (self.latest, self.latest_at) = (value, at);
    }

    /// Adds to `series`, or starts it.
    fn record(series: &mut Option<Self>, value: T, at: DateTime<Utc>, worse: Worse) {
        match series {
            Some(s) => s.add(value, at, worse),
            None => *series = Some(Series::new(value, at)),
        }
    }
}

/// A symptom's severities (0–10); the peak is the highest.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SymptomSummary {
    pub symptom: SymptomCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub other_name: Option<String>,
    #[serde(flatten)]
    pub series: Series<u8>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CheckinSummary {
    pub instrument: String,
    pub completed: u32,
    /// The latest result as scored when it was saved (the published rules).
    pub latest: crate::instruments::Score,
    pub latest_at: DateTime<Utc>,
}

impl Store {
    /// The summary of the last `days` days, as the person who unlocked may see it: records they
    /// may not read are not in it, withdrawn records and a carer's private check-ins never are.
    pub fn visit_summary(&self, days: i64) -> Result<VisitSummary> {
        if !(1..=MAX_SUMMARY_DAYS).contains(&days) {
            return Err(Error::invalid("days", Problem::OutOfRange { min: 1.0, max: MAX_SUMMARY_DAYS as f64 }));
        }
        let until = self.now();
        let since = until - Duration::days(days);
        // Everything this session can read, newest first.
        let readable = self.timeline(TimelineFilter::default())?;
        let shown: std::collections::HashSet<uuid::Uuid> = readable.iter().filter(|e| !e.private).map(|e| e.id).collect();
        // Advice about a record this session cannot read would tell what it says, and a carer's
        // private check-in is theirs; advice about a record since withdrawn was shown all the
        // same, and is listed marked withdrawn.
        let advice = self.all_advice_since(since)?.into_iter().filter(|a| shown.contains(&a.entry_id)).collect();
        let seen_differently =
            super::disagreements::disagreements_among(&readable).into_iter().filter(|d| d.carer.occurred_at >= since).collect();
        let people = people_of(&readable, &self.patient()?, since);

        Ok(VisitSummary {
            since,
            until,
            people,
            advice,
            questions: self
                .questions()?
                .into_iter()
                .filter(|q| q.status != RecordStatus::EnteredInError)
                .filter(|q| matches!(q.data, EntryData::Question { state: QuestionState::Open, .. }))
                .collect(),
            seen_differently,
        })
    }
}

/// What each person reported among `readable` (newest first, as the timeline gives it) since
/// `since`: the patient first (as `patient`, whichever of their devices entered a record), then
/// each carer by name; never merged. Questions, private check-ins and withdrawn records are left
/// out, except a PHQ-9 whose item 9 must be seen. The clinic's server builds the same from the
/// records it holds.
pub fn people_of(readable: &[Entry], patient: &Author, since: DateTime<Utc>) -> Vec<Reported> {
    // Oldest first, so "latest" is simply the last one seen.
    let entries: Vec<&Entry> = readable.iter().rev().filter(|e| !e.private && e.occurred_at >= since).collect();

    let mut people: Vec<Reported> = Vec::new();
    for e in entries {
        let withdrawn = e.status == RecordStatus::EnteredInError;
        let item9 = match &e.data {
            EntryData::Assessment { score, scoring, answers, .. } => Item9::of(*scoring, score, answers).filter(Item9::needs_marking),
            _ => None,
        };
        if matches!(e.data, EntryData::Question { .. }) || (withdrawn && item9.is_none()) {
            continue;
        }
        // The patient is one person, whichever of their devices (each set up under its
        // own identity) a record was entered on: one series, under this diary's patient.
        let same = |p: &Reported| p.person.id == e.author.id || (p.person.role == Role::Patient && e.author.role == Role::Patient);
        let at = match people.iter().position(same) {
            Some(i) => i,
            None => {
                people.push(Reported {
                    person: if e.author.role == Role::Patient { patient.clone() } else { e.author.clone() },
                    symptoms: Vec::new(),
                    temperature: None,
                    wellbeing: None,
                    checkins: Vec::new(),
                    item9: Vec::new(),
                });
                people.len() - 1
            }
        };
        if let Some(item9) = item9 {
            people[at].item9.push(Item9Mark { entry_id: e.id, at: e.occurred_at, item9, withdrawn });
        }
        if !withdrawn {
            people[at].take(e);
        }
    }
    for p in &mut people {
        p.symptoms.sort_by(|a, b| b.series.reports.cmp(&a.series.reports).then(b.series.peak.cmp(&a.series.peak)));
    }
    people.sort_by(|a, b| {
        (a.person.role != Role::Patient, a.person.name.to_lowercase()).cmp(&(b.person.role != Role::Patient, b.person.name.to_lowercase()))
    });

    people
}

impl Reported {
    /// Takes in one record; records come oldest first.
    fn take(&mut self, e: &Entry) {
        let at = e.occurred_at;
        match &e.data {
            EntryData::Symptom { symptom, other_name, severity, .. } => {
                let other = other_name.as_ref().map(|n| n.trim().to_lowercase());
                let same = |s: &SymptomSummary| s.symptom == *symptom && s.other_name.as_ref().map(|n| n.trim().to_lowercase()) == other;
                match self.symptoms.iter_mut().find(|s| same(s)) {
                    Some(s) => s.series.add(*severity, at, Worse::Higher),
                    None => self.symptoms.push(SymptomSummary {
                        symptom: *symptom,
                        other_name: other_name.clone(),
                        series: Series::new(*severity, at),
                    }),
                }
            }
            EntryData::Temperature { celsius, .. } => Series::record(&mut self.temperature, *celsius, at, Worse::Higher),
            EntryData::Checkin { wellbeing, .. } => Series::record(&mut self.wellbeing, *wellbeing, at, Worse::Lower),
            EntryData::Assessment { instrument, score, .. } => match self.checkins.iter_mut().find(|c| c.instrument == *instrument) {
                Some(c) => {
                    c.completed += 1;
                    (c.latest, c.latest_at) = (score.clone(), at);
                }
                None => self.checkins.push(CheckinSummary {
                    instrument: instrument.clone(),
                    completed: 1,
                    latest: score.clone(),
                    latest_at: at,
                }),
            },
            EntryData::Question { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_keeps_the_first_peak_in_the_direction_that_is_worse_and_the_latest() {
        let at = |h: i64| DateTime::<Utc>::UNIX_EPOCH + Duration::hours(h);
        let mut wellbeing = None;
        let mut fever = None;
        for (h, w, t) in [(0, 6u8, 37.0), (1, 2, 38.9), (2, 2, 38.9), (3, 7, 36.8)] {
            Series::record(&mut wellbeing, w, at(h), Worse::Lower);
            Series::record(&mut fever, t, at(h), Worse::Higher);
        }
        let (w, t) = (wellbeing.unwrap(), fever.unwrap());
        assert_eq!((w.reports, w.peak, w.peak_at, w.latest, w.latest_at), (4, 2, at(1), 7, at(3)));
        assert_eq!((t.reports, t.peak, t.peak_at, t.latest), (4, 38.9, at(1), 36.8));
    }
}
