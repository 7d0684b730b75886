//! Where a carer sees a symptom differently from the patient: the two ratings side by side,
//! never merged. Beside the summary for the visit, which lists them, and used by the clinic's
//! summary too (`disagreements_among` over the records the server holds).

use super::Store;
use crate::domain::{EntryData, Role};
use crate::error::Result;
use serde::Serialize;

/// Points apart (on 0-10) from which a carer's and the patient's ratings are shown as seen
/// differently.
pub const DISAGREEMENT: i32 = 3;

/// The same symptom, rated by the patient and by a carer about the same time.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Disagreement {
    pub patient: crate::domain::Entry,
    pub carer: crate::domain::Entry,
    /// The carer's rating minus the patient's.
    pub difference: i32,
}

impl Store {
    /// Where a carer sees a symptom differently from the patient: the carer's latest rating of
    /// each symptom, beside the patient's own rating closest in time (within a day), when they
    /// are [`DISAGREEMENT`] points or more apart. Newest first. The two stay separate records.
    pub fn disagreements(&self) -> Result<Vec<Disagreement>> {
        let all = self.timeline(super::TimelineFilter { kind: Some(crate::domain::EntryKind::Symptom) })?;
        Ok(disagreements_among(&all))
    }
}

/// [`Store::disagreements`] among `all`, a timeline (newest first) of any kinds.
pub fn disagreements_among(all: &[crate::domain::Entry]) -> Vec<Disagreement> {
    let live: Vec<&crate::domain::Entry> = all
        .iter()
        .filter(|e| e.status != crate::domain::RecordStatus::EnteredInError && matches!(e.data, EntryData::Symptom { .. }))
        .collect();
    let severity = |e: &crate::domain::Entry| match &e.data {
        EntryData::Symptom { severity, .. } => *severity as i32,
        _ => 0,
    };
    let code = |e: &crate::domain::Entry| match &e.data {
        EntryData::Symptom { symptom, other_name, .. } => (symptom.code().to_owned(), other_name.clone()),
        _ => (String::new(), None),
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    // The timeline is newest first, so the first carer entry of a symptom is their latest.
    for carer in live.iter().filter(|e| e.author.role == Role::Carer) {
        if !seen.insert((carer.author.id, code(carer))) {
            continue;
        }
        let own = live
            .iter()
            .filter(|e| e.author.role == Role::Patient && code(e) == code(carer))
            .filter(|e| (e.occurred_at - carer.occurred_at).num_hours().abs() <= 24)
            .min_by_key(|e| (e.occurred_at - carer.occurred_at).num_seconds().abs());
        if let Some(own) = own {
            let difference = severity(carer) - severity(own);
            if difference.abs() >= DISAGREEMENT {
                out.push(Disagreement { patient: (*own).clone(), carer: (*carer).clone(), difference });
            }
        }
    }
    out
}
