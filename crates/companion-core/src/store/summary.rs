//! The summary for the visit: what was reported over a period, by whom, ready to show the
//! clinic. The patient's own reports and each carer's stay apart; nothing is averaged across
//! people, and nothing private to a carer is in it.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{Advice, Disagreement, Store, TimelineFilter};
use crate::domain::{Author, Entry, EntryData, QuestionState, RecordStatus, Role, SymptomCode};
use crate::error::{Error, Problem, Result};
use crate::rules::Level;

/// The longest period a summary covers, in days.
pub const MAX_SUMMARY_DAYS: i64 = 365;

/// What was reported between `since` and `until`.
#[derive(Debug, Clone, Serialize)]
pub struct VisitSummary {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// The patient first, then each carer who reported anything, by name. Never merged.
    pub people: Vec<Reported>,
    /// The advice Companion showed in the period, most urgent first; not the advice about a
    /// record since entered in error, nor about one this session cannot read.
    pub advice: Vec<AdviceCount>,
    /// Questions still to ask, in the person's order (whenever they were written).
    pub questions: Vec<Entry>,
    /// Where a carer rated a symptom differently from the patient, in the period.
    pub seen_differently: Vec<Disagreement>,
}

/// What one person reported.
#[derive(Debug, Clone, Serialize)]
pub struct Reported {
    pub person: Author,
    /// Most reports first.
    pub symptoms: Vec<SymptomSummary>,
    pub temperature: Option<TemperatureSummary>,
    /// A patient's wellbeing; for a carer, their own (a check-in they chose to share).
    pub wellbeing: Option<RatingSummary>,
    /// Each instrument's latest result, by instrument id.
    pub checkins: Vec<CheckinSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SymptomSummary {
    pub symptom: SymptomCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_name: Option<String>,
    pub reports: u32,
    /// The highest severity reported (0–10), and when (the first time, if more than once).
    pub worst: u8,
    pub worst_at: DateTime<Utc>,
    pub latest: u8,
    pub latest_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TemperatureSummary {
    pub readings: u32,
    pub highest: f64,
    pub highest_at: DateTime<Utc>,
    pub latest: f64,
    pub latest_at: DateTime<Utc>,
}

/// Wellbeing (0–10, higher is better).
#[derive(Debug, Clone, Serialize)]
pub struct RatingSummary {
    pub reports: u32,
    pub lowest: u8,
    pub lowest_at: DateTime<Utc>,
    pub latest: u8,
    pub latest_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckinSummary {
    pub instrument: String,
    pub completed: u32,
    /// The latest result as scored when it was saved (the published rules).
    pub latest: crate::instruments::Score,
    pub latest_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdviceCount {
    pub level: Level,
    pub count: u32,
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
        let live: std::collections::HashSet<uuid::Uuid> =
            readable.iter().filter(|e| e.status != RecordStatus::EnteredInError && !e.private).map(|e| e.id).collect();
        // Advice about a record this session cannot read would tell what it says; advice about
        // a record entered in error, or about a carer's private check-in, is not for the visit.
        let advice = self.all_advice_since(since)?.into_iter().filter(|a| live.contains(&a.entry_id)).collect();
        let seen_differently = super::carers::disagreements_among(&readable).into_iter().filter(|d| d.carer.occurred_at >= since).collect();
        // Oldest first, so "latest" is simply the last one seen.
        let entries: Vec<&Entry> = readable
            .iter()
            .rev()
            .filter(|e| e.status != RecordStatus::EnteredInError && !e.private && e.occurred_at >= since)
            .collect();

        let mut people: Vec<Reported> = Vec::new();
        for e in entries {
            if matches!(e.data, EntryData::Question { .. }) {
                continue;
            }
            let at = match people.iter().position(|p| p.person.id == e.author.id) {
                Some(i) => i,
                None => {
                    people.push(Reported {
                        person: e.author.clone(),
                        symptoms: Vec::new(),
                        temperature: None,
                        wellbeing: None,
                        checkins: Vec::new(),
                    });
                    people.len() - 1
                }
            };
            people[at].take(e);
        }
        for p in &mut people {
            p.symptoms.sort_by(|a, b| b.reports.cmp(&a.reports).then(b.worst.cmp(&a.worst)));
        }
        people.sort_by(|a, b| {
            (a.person.role != Role::Patient, a.person.name.to_lowercase()).cmp(&(b.person.role != Role::Patient, b.person.name.to_lowercase()))
        });

        Ok(VisitSummary {
            since,
            until,
            people,
            advice: count_advice(advice),
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

impl Reported {
    /// Takes in one record; records come oldest first.
    fn take(&mut self, e: &Entry) {
        let at = e.occurred_at;
        match &e.data {
            EntryData::Symptom { symptom, other_name, severity, .. } => {
                let other = other_name.as_ref().map(|n| n.trim().to_lowercase());
                let same = |s: &SymptomSummary| s.symptom == *symptom && s.other_name.as_ref().map(|n| n.trim().to_lowercase()) == other;
                match self.symptoms.iter_mut().find(|s| same(s)) {
                    Some(s) => {
                        s.reports += 1;
                        if *severity > s.worst {
                            (s.worst, s.worst_at) = (*severity, at);
                        }
                        (s.latest, s.latest_at) = (*severity, at);
                    }
                    None => self.symptoms.push(SymptomSummary {
                        symptom: *symptom,
                        other_name: other_name.clone(),
                        reports: 1,
                        worst: *severity,
                        worst_at: at,
                        latest: *severity,
                        latest_at: at,
                    }),
                }
            }
            EntryData::Temperature { celsius, .. } => match &mut self.temperature {
                Some(t) => {
                    t.readings += 1;
                    if *celsius > t.highest {
                        (t.highest, t.highest_at) = (*celsius, at);
                    }
                    (t.latest, t.latest_at) = (*celsius, at);
                }
                None => {
                    self.temperature =
                        Some(TemperatureSummary { readings: 1, highest: *celsius, highest_at: at, latest: *celsius, latest_at: at })
                }
            },
            EntryData::Checkin { wellbeing, .. } => match &mut self.wellbeing {
                Some(w) => {
                    w.reports += 1;
                    if *wellbeing < w.lowest {
                        (w.lowest, w.lowest_at) = (*wellbeing, at);
                    }
                    (w.latest, w.latest_at) = (*wellbeing, at);
                }
                None => {
                    self.wellbeing = Some(RatingSummary { reports: 1, lowest: *wellbeing, lowest_at: at, latest: *wellbeing, latest_at: at })
                }
            },
            EntryData::Assessment { instrument, score, .. } => match self.checkins.iter_mut().find(|c| c.instrument == *instrument) {
                Some(c) => {
                    c.completed += 1;
                    (c.latest, c.latest_at) = (score.clone(), at);
                }
                None => self.checkins.push(CheckinSummary { instrument: instrument.clone(), completed: 1, latest: score.clone(), latest_at: at }),
            },
            EntryData::Question { .. } => {}
        }
    }
}

/// Advice counted by level, most urgent first. `all` comes newest first.
fn count_advice(all: Vec<Advice>) -> Vec<AdviceCount> {
    let mut out: Vec<AdviceCount> = Vec::new();
    for a in all {
        match out.iter_mut().find(|c| c.level == a.level) {
            Some(c) => c.count += 1,
            None => out.push(AdviceCount { level: a.level, count: 1, latest_at: a.raised_at }),
        }
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.level));
    out
}
