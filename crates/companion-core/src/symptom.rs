//! The symptoms a person can pick from, and the yes/no details of each that safety rules look
//! at (the "call now" lists on chemotherapy and immunotherapy patient cards).

use crate::error::{Invalid, Problem};
use serde::{Deserialize, Serialize};

/// The symptoms a person can pick from. `Other` carries its own name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum SymptomCode {
    Pain,
    Tiredness,
    Nausea,
    Vomiting,
    Diarrhoea,
    Constipation,
    PoorAppetite,
    SoreMouth,
    ShortnessOfBreath,
    Cough,
    /// Shivering, chills or rigors: a sign of infection at any temperature.
    Shivering,
    SleepProblems,
    NumbnessTingling,
    SkinChanges,
    ChestPain,
    /// Collapse or fainting, often what a carer sees.
    Collapse,
    Bleeding,
    Other,
}

impl SymptomCode {
    pub const ALL: [SymptomCode; 18] = [
        SymptomCode::Pain,
        SymptomCode::Tiredness,
        SymptomCode::Nausea,
        SymptomCode::Vomiting,
        SymptomCode::Diarrhoea,
        SymptomCode::Constipation,
        SymptomCode::PoorAppetite,
        SymptomCode::SoreMouth,
        SymptomCode::ShortnessOfBreath,
        SymptomCode::Cough,
        SymptomCode::Shivering,
        SymptomCode::SleepProblems,
        SymptomCode::NumbnessTingling,
        SymptomCode::SkinChanges,
        SymptomCode::ChestPain,
        SymptomCode::Collapse,
        SymptomCode::Bleeding,
        SymptomCode::Other,
    ];

    /// The stable code, used in storage, the CLI, the UI's message keys and FHIR.
    pub fn code(self) -> &'static str {
        self.into()
    }

    /// English display name (FHIR `display`, CLI output). The UI uses its own catalogue.
    pub fn display(self) -> &'static str {
        match self {
            SymptomCode::Pain => "Pain",
            SymptomCode::Tiredness => "Tiredness",
            SymptomCode::Nausea => "Nausea",
            SymptomCode::Vomiting => "Vomiting",
            SymptomCode::Diarrhoea => "Diarrhoea",
            SymptomCode::Constipation => "Constipation",
            SymptomCode::PoorAppetite => "Poor appetite",
            SymptomCode::SoreMouth => "Sore mouth",
            SymptomCode::ShortnessOfBreath => "Shortness of breath",
            SymptomCode::Cough => "Cough",
            SymptomCode::Shivering => "Shivering or chills",
            SymptomCode::SleepProblems => "Sleep problems",
            SymptomCode::NumbnessTingling => "Numbness or tingling",
            SymptomCode::SkinChanges => "Skin changes",
            SymptomCode::ChestPain => "Chest pain",
            SymptomCode::Collapse => "Collapse or fainting",
            SymptomCode::Bleeding => "Bleeding, new bruises or tiny red spots",
            SymptomCode::Other => "Other",
        }
    }

    /// The yes/no details a person can add to this symptom, which safety rules may look at
    /// (the "call now" list on chemotherapy patient cards).
    pub fn flags(self) -> &'static [&'static str] {
        match self {
            SymptomCode::Vomiting => &["cannot-keep-fluids", "not-controlled"],
            SymptomCode::Diarrhoea => &["blood", "over-24-hours"],
            SymptomCode::ShortnessOfBreath => &["at-rest", "severe"],
            SymptomCode::Cough => &["blood"],
            SymptomCode::SoreMouth => &["cannot-eat-or-drink"],
            SymptomCode::Pain => &["not-controlled"],
            SymptomCode::Bleeding => &["heavy"],
            _ => &[],
        }
    }

    /// Reads a code leniently: case, spaces and underscores do not matter
    /// ("Poor appetite", "poor_appetite" and "poor-appetite" are the same).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let norm = code_form(raw);
        if norm.is_empty() {
            return Err(Invalid::new("symptom", Problem::Required));
        }
        let norm = match norm.as_str() {
            "diarrhea" => "diarrhoea",
            "fatigue" => "tiredness",
            "numbness-or-tingling" => "numbness-tingling",
            "chills" | "rigors" | "rigours" | "shivering-or-chills" => "shivering",
            "fainting" | "collapse-or-fainting" => "collapse",
            other => other,
        };
        norm.parse().map_err(|_| Invalid::new("symptom", Problem::Unknown))
    }
}

/// A stable code as a person may type it: trimmed, lower case, spaces and underscores as
/// hyphens ("Poor appetite", "poor_appetite" → "poor-appetite").
pub fn code_form(raw: &str) -> String {
    raw.trim().chars().map(|c| if c == '_' || c == ' ' { '-' } else { c.to_ascii_lowercase() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symptom_code_round_trips() {
        for s in SymptomCode::ALL {
            assert_eq!(SymptomCode::parse(s.code()).unwrap(), s);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.code()));
        }
        assert_eq!(SymptomCode::parse("Poor appetite").unwrap(), SymptomCode::PoorAppetite);
        assert_eq!(SymptomCode::parse("shortness_of_breath").unwrap(), SymptomCode::ShortnessOfBreath);
        assert_eq!(SymptomCode::parse("rigors").unwrap(), SymptomCode::Shivering);
        assert_eq!(SymptomCode::parse("Fainting").unwrap(), SymptomCode::Collapse);
    }

    #[test]
    fn breathlessness_and_cough_carry_the_details_their_rules_need() {
        assert!(SymptomCode::ShortnessOfBreath.flags().contains(&"severe"));
        assert!(SymptomCode::Cough.flags().contains(&"blood"));
        assert!(SymptomCode::Shivering.flags().is_empty());
    }
}
