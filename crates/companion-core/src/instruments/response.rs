//! What a response says besides its score: who completed an ESAS-r (the form asks), and PHQ-9's
//! item 9, which is never to be hidden behind the total.

use super::{AnswerValue, ItemAnswer, Score, Scoring};
use crate::role::Role;
use serde::{Deserialize, Serialize};

/// The ESAS-r form's "Completed by (check one)" item, answered for every response from who is
/// signed in.
pub const COMPLETED_BY: &str = "esas-completed-by";

/// Who filled in an ESAS-r, as the form asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompletedBy {
    Patient,
    FamilyCaregiver,
    HealthCareProfessionalCaregiver,
    CaregiverAssisted,
}

impl CompletedBy {
    pub const ALL: [CompletedBy; 4] =
        [CompletedBy::Patient, CompletedBy::FamilyCaregiver, CompletedBy::HealthCareProfessionalCaregiver, CompletedBy::CaregiverAssisted];

    pub fn code(self) -> &'static str {
        match self {
            CompletedBy::Patient => "patient",
            CompletedBy::FamilyCaregiver => "family-caregiver",
            CompletedBy::HealthCareProfessionalCaregiver => "health-care-professional-caregiver",
            CompletedBy::CaregiverAssisted => "caregiver-assisted",
        }
    }

    /// What a person signed in with this role may say: the patient filled it in (alone, or with
    /// a carer's help); a carer on the patient's behalf is a family caregiver. Companion is not
    /// used by health professionals.
    pub fn allowed_for(role: Role) -> &'static [CompletedBy] {
        match role {
            Role::Patient => &[CompletedBy::Patient, CompletedBy::CaregiverAssisted],
            Role::Carer => &[CompletedBy::FamilyCaregiver],
        }
    }

    /// Who completed a response, from its answers.
    pub fn of(answers: &[ItemAnswer]) -> Option<CompletedBy> {
        answers.iter().find(|a| a.link_id == COMPLETED_BY).and_then(|a| match &a.value {
            AnswerValue::Coding { code, .. } => CompletedBy::ALL.into_iter().find(|c| c.code() == code),
            _ => None,
        })
    }
}

/// PHQ-9's item 9 ("thoughts that you would be better off dead or of hurting yourself in some
/// way") as answered in one response: never to be hidden behind the total.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Item9 {
    /// 0 to 3; None when it was left unanswered (so the risk was not asked about).
    pub value: Option<u32>,
    /// The answer as the form answered put it ("Several days").
    pub answer: Option<String>,
}

impl Item9 {
    /// Item 9 of a PHQ-9 response; None for any other instrument.
    pub fn of(scoring: Scoring, score: &Score, answers: &[ItemAnswer]) -> Option<Item9> {
        if scoring != Scoring::Phq9 {
            return None;
        }
        // The answer's own words; a response saved without them gets the shipped form's.
        let answer = answers.iter().find(|a| a.link_id == "phq9-9").and_then(|a| match &a.value {
            AnswerValue::Coding { display: Some(d), .. } => Some(d.clone()),
            AnswerValue::Coding { code, .. } => super::get("phq9")
                .ok()?
                .questionnaire
                .find("phq9-9")?
                .options
                .iter()
                .find(|o| &o.code == code)
                .and_then(|o| o.display.clone()),
            _ => None,
        });
        Some(Item9 { value: score.item("phq9-9"), answer })
    }

    /// Whether the response must be marked: item 9 at 1 or more, or not answered.
    pub fn needs_marking(&self) -> bool {
        self.value != Some(0)
    }
}
